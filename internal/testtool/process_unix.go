//go:build unix

package testtool

import (
	"syscall"
	"time"
)

// StopGroup ends the process group led by pid, a server a test started
// with a process group of its own (Setpgid), helpers and all: SIGTERM,
// then SIGKILL should exited not be closed within grace. It returns once
// exited is closed: the leader has been waited for.
func StopGroup(pid int, exited <-chan struct{}, grace time.Duration) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}
