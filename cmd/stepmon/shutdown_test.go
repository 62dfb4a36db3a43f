package main

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// trickle opens a connection to addr that sends the headers of a POST
// /monitors with a 300-byte body, then one byte of the body every 200 ms,
// until the server closes the connection. It returns once the server
// has read the headers and the first bytes.
func trickle(t *testing.T, addr string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	head := "POST /monitors HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n{"
	if _, err := c.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			time.Sleep(200 * time.Millisecond)
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	time.Sleep(500 * time.Millisecond)
}

// waitExit waits up to limit for s's process to end and returns its exit
// code and how long it took.
func waitExit(t *testing.T, s *server, limit time.Duration) (int, time.Duration) {
	t.Helper()
	begin := time.Now()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		s.cmd = nil
		s.log.Close()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), time.Since(begin)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, time.Since(begin)
	case <-time.After(limit):
		t.Fatalf("serve still running %v after the signal:\n%s", limit, s.logTail())
		return 0, 0
	}
}

// TestServeSecondSignalForcesShutdown checks that a second signal during
// the shutdown stops waiting for a client that trickles its request body:
// serve exits with status 0, having closed its data, well before the 15 s
// the shutdown waits for clients.
func TestServeSecondSignalForcesShutdown(t *testing.T) {
	t.Parallel()
	s := &server{t: t, bin: buildStepmon(t), data: t.TempDir(), addr: freeAddr(t)}
	s.start()
	defer s.kill()
	trickle(t, s.addr)

	begin := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(time.Second)
	s.cmd.Process.Signal(syscall.SIGINT)
	code, _ := waitExit(t, s, 30*time.Second)
	took := time.Since(begin)
	log := s.logTail()
	t.Logf("serve exited %v after the first signal", took)
	if code != 0 {
		t.Fatalf("exit status %d, want 0:\n%s", code, log)
	}
	// Without the second signal the shutdown would wait 15 s.
	if took >= 12*time.Second {
		t.Errorf("serve exited %v after the first signal; the second should have ended the wait:\n%s", took, log)
	}
	if !strings.Contains(log, "second signal") {
		t.Errorf("the log does not tell the second signal cut the connections:\n%s", log)
	}
	// The data directory was closed properly: a new serve opens it.
	s.start()
}

// TestServeShutdownCutsSlowClient checks that a client trickling its
// request body holds the shutdown no longer than its bound: serve then
// closes the connection, closes its data and exits with status 0.
func TestServeShutdownCutsSlowClient(t *testing.T) {
	t.Parallel()
	s := &server{t: t, bin: buildStepmon(t), data: t.TempDir(), addr: freeAddr(t)}
	s.start()
	defer s.kill()
	trickle(t, s.addr)

	s.cmd.Process.Signal(syscall.SIGTERM)
	code, took := waitExit(t, s, 45*time.Second)
	log := s.logTail()
	t.Logf("serve exited %v after the signal:\n%s", took, log)
	if code != 0 {
		t.Fatalf("exit status %d after %v, want 0:\n%s", code, took, log)
	}
	if !strings.Contains(log, "connections") {
		t.Errorf("the log does not tell connections were cut:\n%s", log)
	}
	s.start()
}

// The cancellation of a shutdown serve cut short is not an error; what
// else failed still is.
func TestWithoutCanceled(t *testing.T) {
	closeErr := errors.New("close status.db: boom")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{context.Canceled, ""},
		{errors.Join(context.Canceled, nil), ""},
		{errors.Join(context.Canceled, closeErr), closeErr.Error()},
		{errors.Join(nil, closeErr), closeErr.Error()},
		{closeErr, closeErr.Error()},
	} {
		got := withoutCanceled(tc.err)
		if (got == nil) != (tc.want == "") || got != nil && got.Error() != tc.want {
			t.Errorf("withoutCanceled(%v) = %v, want %q", tc.err, got, tc.want)
		}
	}
}
