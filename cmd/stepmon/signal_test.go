package main

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalDuringRequest sends Ctrl-C (SIGINT) or SIGTERM to client
// commands while their request waits on an endpoint that never answers:
// they exit 130 or 143, as watch does, and say nothing about the signal.
func TestSignalDuringRequest(t *testing.T) {
	needSignals(t)
	bin := buildStepmon(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // held open, never answered
		}
	}()
	endpoint := "http://" + ln.Addr().String()
	tests := []struct {
		args []string
		sig  syscall.Signal
		want int
	}{
		{[]string{"list"}, syscall.SIGINT, 130},
		{[]string{"list"}, syscall.SIGTERM, 143},
		{[]string{"status", "m1"}, syscall.SIGINT, 130},
		{[]string{"start", "--job-id", "j1"}, syscall.SIGTERM, 143},
		{[]string{"terminate", "m1"}, syscall.SIGINT, 130},
		{[]string{"purge", "m1"}, syscall.SIGTERM, 143},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " ")+" "+tt.sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, append(tt.args, "--endpoint", endpoint)...)
			cmd.Env = append(withoutAWS(os.Environ()), "AWS_EC2_METADATA_DISABLED=true")
			cmd.SysProcAttr = childProcAttr()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			select {
			case c := <-accepted:
				defer c.Close()
				// The request is written and waits for its answer.
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					t.Fatalf("the command's request: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the command did not connect")
			}
			cmd.Process.Signal(tt.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			code := processExit(t, done, 10*time.Second, "still running 10 s after the signal")
			if code != tt.want {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.want, stderr.String())
			}
			if s := stderr.String(); strings.Contains(s, "signal received") || strings.Contains(s, "stepmon:") {
				t.Errorf("stderr reports the signal:\n%s", s)
			}
		})
	}
}

// processExit waits up to within for the process whose Wait sends to done
// and returns its exit status, failing with late if it is still running.
func processExit(t *testing.T, done <-chan error, within time.Duration, late string) int {
	t.Helper()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatal(late)
		return 0
	}
}

// TestSignalWhileReadingStdin sends Ctrl-C (SIGINT) or SIGTERM to
// commands that wait for their body, input or definition on standard
// input ("start -" typed at a terminal, a pipe whose writer never ends):
// they exit 130 or 143 at once, as during a request, sending nothing.
func TestSignalWhileReadingStdin(t *testing.T) {
	needSignals(t)
	bin := buildStepmon(t)
	for _, tt := range []struct {
		args []string
		sig  syscall.Signal
		want int
	}{
		{[]string{"start", "-", "--endpoint", "http://127.0.0.1:1"}, syscall.SIGINT, 130},
		{[]string{"raise", "m1", "setInterval", "--data-file", "-", "--endpoint", "http://127.0.0.1:1"}, syscall.SIGTERM, 143},
		{[]string{"asl", "run", "--definition", filepath.Join("..", "..", "statemachine.asl.json"), "--input", "-"}, syscall.SIGINT, 130},
		{[]string{"asl", "run", "--definition", "/dev/stdin"}, syscall.SIGTERM, 143},
		{[]string{"asl", "validate", "/dev/stdin"}, syscall.SIGINT, 130},
	} {
		t.Run(strings.Join(tt.args, " ")+" "+tt.sig.String(), func(t *testing.T) {
			stdin, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			defer w.Close() // open until the end: the input never ends
			cmd := exec.Command(bin, tt.args...)
			cmd.Env = append(withoutAWS(os.Environ()), "AWS_EC2_METADATA_DISABLED=true")
			cmd.SysProcAttr = childProcAttr()
			cmd.Stdin = stdin
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			waitReadingPipe(t, cmd.Process.Pid)
			cmd.Process.Signal(tt.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			code := processExit(t, done, 10*time.Second, "still reading standard input 10 s after the signal")
			if code != tt.want || stderr.String() != "" {
				t.Errorf("exit %d, stderr %q; want exit %d, nothing", code, stderr.String(), tt.want)
			}
		})
	}
}

// needSignals skips a test that sends a subprocess an interrupt, SIGTERM
// or SIGHUP: on Windows os.Process.Signal sends none but Kill, and the
// test would wait for an end that never comes.
func needSignals(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows sends another process no signal but Kill (os.Process.Signal)")
	}
}
