package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/testtool"
)

// trickle opens a connection to addr that sends the headers of a POST
// /monitors with a 300-byte body and "Expect: 100-continue", then, once
// the server has answered 100 Continue, one byte of the body every
// 200 ms, until the server closes the connection. It returns once the
// server has read the headers and its handler reads the body (the 100
// Continue): the request is in progress. Closing the connection it
// returns ends the request.
func trickle(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	head := "POST /monitors HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: 300\r\nExpect: 100-continue\r\n\r\n"
	if _, err := c.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("the server did not start reading the body: %q, %v", line, err)
	}
	c.SetReadDeadline(time.Time{})
	if _, err := c.Write([]byte("{")); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			time.Sleep(200 * time.Millisecond) // the trickle's pace
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	return c
}

// waitRefused waits until addr refuses connections: the shutdown has
// closed the listener.
func waitRefused(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("serve still accepts connections 15 s after the signal:\n%s", s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
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
	needSignals(t)
	t.Parallel()
	s := &server{t: t, bin: buildStepmon(t), data: t.TempDir(), addr: testtool.FreeAddr(t)}
	s.start()
	defer s.kill()
	trickle(t, s.addr)

	s.cmd.Process.Signal(syscall.SIGTERM)
	waitRefused(t, s) // the shutdown has begun and waits for the client
	s.cmd.Process.Signal(syscall.SIGINT)
	code, took := waitExit(t, s, 30*time.Second)
	log := s.logTail()
	t.Logf("serve exited %v after the second signal", took)
	if code != 0 {
		t.Fatalf("exit status %d, want 0:\n%s", code, log)
	}
	// Without the second signal the shutdown would wait for the client
	// until its bound, then say so.
	if strings.Contains(log, "HTTP clients still connected") {
		t.Errorf("the shutdown waited for the client until its bound; the second signal should have ended the wait:\n%s", log)
	}
	if !strings.Contains(log, "second signal") {
		t.Errorf("the log does not tell the second signal cut the connections:\n%s", log)
	}
	// The data directory was closed properly: a new serve opens it.
	s.start()
}

// TestServeShutdownCutsSlowClient checks that a client trickling its
// request body holds the shutdown only until its bound: serve then logs
// that it closes the connection, exits with status 0 (the 45 s wait is a
// guard against a hang, not a timing check) and leaves its data
// directory closed, so that a new serve opens it.
func TestServeShutdownCutsSlowClient(t *testing.T) {
	needSignals(t)
	t.Parallel()
	s := &server{t: t, bin: buildStepmon(t), data: t.TempDir(), addr: testtool.FreeAddr(t)}
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

// TestServeShutdownDrainAfterSlowRequest checks that the wait for HTTP
// clients covers only the HTTP part of the shutdown: a request that takes
// 6 s to answer, then a check in flight that outlasts the drain's 10 s,
// make the whole shutdown longer than the 15 s the clients get, yet no
// client is said to be still connected, and the drain gets its full
// time (it used to be cut by the clients' timer and its backstop).
func TestServeShutdownDrainAfterSlowRequest(t *testing.T) {
	needSignals(t)
	t.Parallel()
	s := &server{t: t, bin: buildStepmon(t), data: t.TempDir(), addr: testtool.FreeAddr(t)}
	s.start()
	defer s.kill()
	// tryPost may run outside the test's goroutine: it reports a failed
	// request as an error.
	tryPost := func(path, target, body string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, s.url()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if target != "" {
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			req.Header.Set("X-Amz-Target", "AWSStepFunctions."+target)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("POST %s %s: %w", path, target, err)
		}
		return resp, nil
	}
	post := func(path, target, body string) *http.Response {
		t.Helper()
		resp, err := tryPost(path, target, body)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// A check target that answers after 30 s: the check is in flight for
	// the whole shutdown.
	target, checking, _ := slowJobTarget(t, 30*time.Second)
	resp := post("/monitors", "", `{"instanceId":"slow-check","target":{"type":"http","url":"http://`+target+
		`/job","requestTimeoutSeconds":60,"doneValues":["Completed"],"runningValues":["Running"]},"pollingIntervalSeconds":60,"timeoutSeconds":3600}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %s", resp.Status)
	}
	select {
	case <-checking:
	case <-time.After(15 * time.Second):
		t.Fatalf("the check never reached its target:\n%s", s.logTail())
	}
	// A request that takes 6 s: an EXPRESS execution run synchronously.
	resp = post("/", "CreateStateMachine", `{"name":"six","type":"EXPRESS","roleArn":"arn:aws:iam::123456789012:role/r",`+
		`"definition":"{\"StartAt\":\"W\",\"States\":{\"W\":{\"Type\":\"Wait\",\"Seconds\":6,\"End\":true}}}"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CreateStateMachine: %s", resp.Status)
	}
	type result struct {
		code int
		err  error
	}
	answered := make(chan result, 1)
	go func() {
		resp, err := tryPost("/", "StartSyncExecution", `{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:six"}`)
		if err != nil {
			answered <- result{err: err}
			return
		}
		resp.Body.Close()
		answered <- result{code: resp.StatusCode}
	}()
	// The signal comes once the synchronous execution runs: the request
	// is in progress.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp := post("/", "ListExecutions", `{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:six","statusFilter":"RUNNING"}`)
		var list struct{ Executions []json.RawMessage }
		err := json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err == nil && len(list.Executions) > 0 {
			break
		}
		select {
		case r := <-answered:
			t.Fatalf("the synchronous execution answered before the signal: %d, %v", r.code, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the synchronous execution never ran (ListExecutions: %s, %v):\n%s", resp.Status, err, s.logTail())
		}
		time.Sleep(20 * time.Millisecond)
	}

	s.cmd.Process.Signal(syscall.SIGTERM)
	code, took := waitExit(t, s, 60*time.Second)
	log := s.logTail()
	t.Logf("serve exited %v after the signal", took)
	if code != 0 {
		t.Fatalf("exit status %d, want 0:\n%s", code, log)
	}
	if got := <-answered; got.err != nil || got.code != http.StatusOK {
		t.Errorf("the synchronous execution in progress at the signal answered %d, %v; want 200", got.code, got.err)
	}
	if strings.Contains(log, "HTTP clients still connected") {
		t.Errorf("the log says HTTP clients were still connected, though the last one was answered at about 6 s:\n%s", log)
	}
	m := regexp.MustCompile(`still running at shutdown are cancelled.* waited=([0-9.]+)s`).FindStringSubmatch(log)
	if len(m) < 2 {
		t.Errorf("the drain did not say it cancelled the check it waited for:\n%s", log)
	} else if waited, _ := strconv.ParseFloat(m[1], 64); waited < 9.5 {
		t.Errorf("the drain did not get its 10 s before it cancelled the check:\n%s", log)
	}
}

// TestServeShutdownWithoutReader checks that serve whose output reader
// has gone (Ctrl-C on "stepmon serve 2>&1 | tee serve.log" ends tee too)
// still stops gracefully: the shutdown's log lines fail to be written
// instead of SIGPIPE killing serve (exit 141), the check in flight
// finishes and is recorded, exit status 0, and a new serve on the same
// data does not check again before the polling interval.
func TestServeShutdownWithoutReader(t *testing.T) {
	needSignals(t)
	t.Parallel()
	// A check target that answers after 2 s, well within the drain's
	// 10 s: the check is in flight at the signal and finishes.
	target, checking, requests := slowJobTarget(t, 2*time.Second)

	s := &server{t: t, bin: buildStepmon(t), data: t.TempDir(), addr: testtool.FreeAddr(t)}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	s.cmd = exec.Command(s.bin, "serve", "--addr", s.addr, "--data", s.data)
	s.cmd.Stdout, s.cmd.Stderr = pw, pw // 2>&1 | tee
	s.cmd.SysProcAttr = childProcAttr()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close() // the child's copy stays open
	cmd := s.cmd
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var out strings.Builder
	copied := make(chan struct{})
	go func() { io.Copy(&out, pr); close(copied) }()
	waitHealthy(t, s.url())
	startMonitor(t, s.url(), `{"instanceId":"piped","target":{"type":"http","url":"http://`+
		target+`/job","requestTimeoutSeconds":30,"doneValues":["Completed"],"runningValues":["Running"]},"pollingIntervalSeconds":60,"timeoutSeconds":3600}`)
	select {
	case <-checking:
	case <-time.After(15 * time.Second):
		t.Fatal("the check never reached its target")
	}

	pr.Close() // the reader goes, as tee does at Ctrl-C
	<-copied
	s.cmd.Process.Signal(syscall.SIGINT)
	code, took := waitExit(t, s, 30*time.Second)
	t.Logf("serve exited %v after the signal", took)
	if code != 0 {
		t.Fatalf("exit status %d, want 0 (141 is SIGPIPE); output before the reader went:\n%s", code, out.String())
	}
	if n := requests.Load(); n != 1 {
		t.Fatalf("the target got %d requests before the restart, want 1", n)
	}
	// The check in flight was recorded: the next serve waits for the
	// polling interval rather than checking again at once.
	s.start()
	time.Sleep(3 * time.Second)
	if n := requests.Load(); n != 1 {
		t.Errorf("the check in flight at the signal ran again after the restart (%d requests):\n%s", n, s.logTail())
	}
}

// slowJobTarget serves, on 127.0.0.1 until the test ends, a job status
// that answers Running after hold (or when its request is cancelled). It
// returns its address, a channel that receives once a request arrives
// (a check in flight), and the count of requests.
func slowJobTarget(t *testing.T, hold time.Duration) (string, <-chan struct{}, *atomic.Int32) {
	t.Helper()
	requests := new(atomic.Int32)
	checking := make(chan struct{}, 1)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	slow := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		select {
		case checking <- struct{}{}:
		default:
		}
		select {
		case <-time.After(hold):
		case <-r.Context().Done():
		}
		fmt.Fprint(w, `{"status":"Running"}`)
	})}
	go slow.Serve(l)
	t.Cleanup(func() { slow.Close() })
	return l.Addr().String(), checking, requests
}

// startMonitor starts a monitor with the request body at the API at base
// and fails the test unless it is accepted (202).
func startMonitor(t *testing.T, base, body string) {
	t.Helper()
	resp, err := http.Post(base+"/monitors", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %s", resp.Status)
	}
}

// A shutdown that waits for a check in flight says so once the wait
// lasts, with how to stop waiting: the log stayed at "stepmon serve
// shutting down" for up to 10 s, as if serve hung.
func TestServeShutdownLogsDrainWait(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, `{"status":"Running"}`)
	}))
	defer target.Close()
	let := sync.OnceFunc(func() { close(release) })
	defer let()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, errc := serveUntilBanner(ctx, t, "--addr", "127.0.0.1:0", "--data", t.TempDir())
	m := regexp.MustCompile(`stepmon serving on (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no URL in the banner:\n%s", out.String())
	}
	body := `{"instanceId":"slow","target":{"type":"http","url":"` + target.URL + `","statusPath":"$.status","doneValues":["Done"]},"pollingIntervalSeconds":60,"timeoutSeconds":600}`
	resp, err := http.Post(m[1]+"/monitors", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %s", resp.Status)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatalf("the check never reached the target:\n%s", out.String())
	}
	const want = "waiting for the checks and alerts in flight to finish"
	cancelUntilLogged(t, cancel, errc, out, want)
	let() // the check ends, and with it the shutdown
	if err := <-errc; exitCode(err, io.Discard) != 0 {
		t.Errorf("serve after Ctrl-C: %v\n%s", err, out.String())
	}
}

// A shutdown that waits for an HTTP request in progress says so once the
// wait lasts, with its bound and how to stop waiting: the log stayed at
// "stepmon serve shutting down" for up to 15 s.
func TestServeShutdownLogsClientWait(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, errc := serveUntilBanner(ctx, t, "--addr", "127.0.0.1:0", "--data", t.TempDir())
	m := regexp.MustCompile(`stepmon serving on http://(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no address in the banner:\n%s", out.String())
	}
	c := trickle(t, m[1])
	const want = "waiting for the HTTP requests in progress to finish, up to 15s; a second signal stops waiting"
	cancelUntilLogged(t, cancel, errc, out, want)
	c.Close() // the client goes, and with it the wait
	if err := <-errc; exitCode(err, io.Discard) != 0 {
		t.Errorf("serve after Ctrl-C: %v\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "HTTP clients still connected") {
		t.Errorf("the shutdown waited for the client until its bound, though the client had gone:\n%s", out.String())
	}
}

// cancelUntilLogged stops a serve started by serveUntilBanner as Ctrl-C
// does, with cancel, and waits until its output shows want; serve ending
// first fails t.
func cancelUntilLogged(t *testing.T, cancel context.CancelFunc, errc <-chan error, out *watchedBuffer, want string) {
	t.Helper()
	out.mu.Lock()
	out.want, out.seen, out.once = want, make(chan struct{}), sync.Once{}
	seen := out.seen
	out.mu.Unlock()
	cancel()
	select {
	case <-seen:
	case err := <-errc:
		t.Fatalf("serve ended (%v) without writing %q:\n%s", err, want, out.String())
	}
}
