package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childProcAttr has the kernel kill a command the tests start should the
// test binary die first (a -timeout panic runs no deferred kill).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// waitReadingPipe waits until process pid reads its standard input, a
// pipe, failing after 10 s: a thread of it sleeps in a read of a pipe (its
// wchan names pipe_read), or it has opened the pipe again (/dev/stdin,
// read through Go's poller). Either way it is past installing its signal
// handlers.
func waitReadingPipe(t *testing.T, pid int) {
	t.Helper()
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		wchans, _ := filepath.Glob(filepath.Join(proc, "task", "*", "wchan"))
		for _, f := range wchans {
			if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), "pipe_read") {
				return
			}
		}
		stdin, err := os.Readlink(filepath.Join(proc, "fd", "0"))
		fds, _ := filepath.Glob(filepath.Join(proc, "fd", "*"))
		for _, fd := range fds {
			if n, _ := strconv.Atoi(filepath.Base(fd)); n > 2 && err == nil {
				if link, _ := os.Readlink(fd); link == stdin {
					return
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the command did not read standard input within 10 s")
}
