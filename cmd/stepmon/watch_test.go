package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/testtool"
)

// TestWatchRetries plays answers to a watcher: failures that pass are
// retried (after the wait the server asks for, capped), the others end
// the watch at once.
func TestWatchRetries(t *testing.T) {
	const running = `{"instanceId":"w","runtimeStatus":"Running","customStatus":{"check_count":1}}`
	const done = `{"instanceId":"w","runtimeStatus":"Completed","customStatus":{"check_count":2},"output":{"final_status":"Completed"}}`
	type answer struct {
		status     int
		retryAfter string
		body       string
		hangUp     bool // close the connection without an answer
	}
	tests := []struct {
		name      string
		answers   []answer
		maxWait   time.Duration
		wantErr   string // "" when the watch ends with the output
		wantNotes []string
		noNotes   []string // notes that must not be there
		wantTries int
		// The server counts a request before the Retry-After it asked
		// for as too early.
		enforceRetryAfter bool
	}{
		{
			name: "503 and 429 with Retry-After, capped",
			answers: []answer{{status: 200, body: running}, {status: 503, retryAfter: "5", body: `{"error":"unavailable","message":"try later"}`},
				{status: 429, retryAfter: "2"}, {status: 200, body: done}},
			maxWait:   50 * time.Millisecond,
			wantNotes: []string{"stepmon: watch w: service unavailable (HTTP 503), retrying in 50ms", "stepmon: watch w: rate limited (HTTP 429), retrying in 50ms"},
			wantTries: 4,
		},
		{
			name:              "Retry-After honoured",
			answers:           []answer{{status: 503, retryAfter: "1", body: `{"message":"service unavailable"}`}, {status: 200, body: done}},
			maxWait:           30 * time.Second,
			wantNotes:         []string{"service unavailable (HTTP 503), retrying in 1s"},
			wantTries:         2,
			enforceRetryAfter: true,
		},
		{
			// Once the API has answered, another server's 5xx (a proxy
			// in front of a restarting service) passes too.
			name: "other 5xx and a dropped connection",
			answers: []answer{{status: 200, body: running}, {status: 502, body: "bad gateway"}, {hangUp: true},
				{status: 504, body: `{"message":"endpoint request timed out"}`}, {status: 200, body: done}},
			maxWait:   50 * time.Millisecond,
			wantNotes: []string{`server error: HTTP 502 from GET `, `/monitors/w (text/plain "bad gateway", not the monitor API's JSON error), retrying in`, "no answer: ", "server error: endpoint request timed out (HTTP 504)"},
			wantTries: 5,
		},
		{
			// Before any answer of the API, another server's 5xx (an
			// empty 503 of a load balancer in front of nothing) means a
			// wrong endpoint, as no answer does; so does a web page.
			name:      "a 5xx that is not the API's before any answer ends the watch",
			answers:   []answer{{status: 503, body: ""}, {status: 200, body: done}},
			wantErr:   "watch w: HTTP 503 from GET ",
			wantTries: 1,
		},
		{
			name:      "a 502 web page before any answer ends the watch",
			answers:   []answer{{status: 502, body: "<html><body>Bad Gateway</body></html>"}, {status: 200, body: done}},
			wantErr:   "(text/html, not the monitor API's JSON error)",
			wantTries: 1,
		},
		{
			// An answer between failures starts the backoff again.
			name: "backoff starts again after an answer",
			answers: []answer{{status: 200, body: running}, {status: 429}, {status: 200, body: running}, {status: 429},
				{status: 200, body: done}},
			maxWait:   time.Second,
			wantNotes: []string{"rate limited (HTTP 429), retrying in 10ms"},
			noNotes:   []string{"retrying in 20ms"},
			wantTries: 5,
		},
		{
			// An error of the API is an answer: what follows is retried.
			name: "the API's 503, then an empty one, is retried",
			answers: []answer{{status: 503, body: `{"error":"unavailable","message":"the status store is unavailable; retry later"}`},
				{status: 503, body: ""}, {status: 200, body: done}},
			maxWait:   50 * time.Millisecond,
			wantNotes: []string{"service unavailable (HTTP 503), retrying in"},
			wantTries: 3,
		},
		{
			// 500 is the API's answer to a bug: asking again would hide it.
			name:      "500 ends the watch",
			answers:   []answer{{status: 200, body: running}, {status: 500, body: `{"error":"internal","message":"internal error"}`}, {status: 200, body: done}},
			wantErr:   "internal error (HTTP 500)",
			wantTries: 2,
		},
		{
			// Before any answer, no answer means a wrong endpoint, not a
			// restart to wait out.
			name:      "no answer before the first ends the watch",
			answers:   []answer{{hangUp: true}, {status: 200, body: done}},
			wantErr:   "/monitors/w: ",
			wantTries: 1,
		},
		{
			name:      "404 ends the watch",
			answers:   []answer{{status: 404, body: `{"error":"not_found","message":"monitor w not found"}`}, {status: 200, body: done}},
			wantErr:   "monitor w not found (HTTP 404)",
			wantTries: 1,
		},
		{
			name:      "400 ends the watch",
			answers:   []answer{{status: 200, body: running}, {status: 400, body: `{"message":"invalid instance id"}`}, {status: 200, body: done}},
			wantErr:   "invalid instance id (HTTP 400)",
			wantTries: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			tries, early := 0, 0
			var notBefore time.Time
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				a := tt.answers[min(tries, len(tt.answers)-1)]
				tries++
				if tt.enforceRetryAfter && time.Now().Before(notBefore) {
					early++
				}
				if secs, err := strconv.Atoi(a.retryAfter); err == nil {
					notBefore = time.Now().Add(time.Duration(secs) * time.Second)
				}
				mu.Unlock()
				if a.hangUp {
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return
				}
				// A connection each: a hang-up on a reused one would be
				// retried by net/http itself.
				w.Header().Set("Connection", "close")
				if a.retryAfter != "" {
					w.Header().Set("Retry-After", a.retryAfter)
				}
				w.WriteHeader(a.status)
				w.Write([]byte(a.body))
			}))
			defer srv.Close()
			client := &apiClient{http: &http.Client{Timeout: 5 * time.Second, CheckRedirect: noRedirects}}
			client.base, _ = parseBase(srv.URL)
			var notes, out bytes.Buffer
			w := newWatcher(client, 10*time.Millisecond, newProgress(&notes), &out)
			w.maxRetryWait = tt.maxWait
			_, err := w.watch(context.Background(), "w")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("watch: %v\nnotes:\n%s", err, notes.String())
				}
				if !strings.Contains(out.String(), `"final_status": "Completed"`) {
					t.Errorf("output %q lacks the final status", out.String())
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("watch: %v, want an error with %q", err, tt.wantErr)
			}
			for _, n := range tt.wantNotes {
				if !strings.Contains(notes.String(), n) {
					t.Errorf("notes lack %q:\n%s", n, notes.String())
				}
			}
			for _, n := range tt.noNotes {
				if strings.Contains(notes.String(), n) {
					t.Errorf("notes have %q:\n%s", n, notes.String())
				}
			}
			// Under the lock: a handler that hung up may still be
			// returning when the watch has ended.
			mu.Lock()
			got, gotEarly := tries, early
			mu.Unlock()
			if got != tt.wantTries {
				t.Errorf("%d requests, want %d", got, tt.wantTries)
			}
			if gotEarly != 0 {
				t.Errorf("%d requests came before the Retry-After the server asked for", gotEarly)
			}
		})
	}
}

// TestWatchAcrossRestart watches a monitor while the local runtime is shut
// down and started again on the same address and data directory: the
// watch waits for it and ends when the monitor completes.
func TestWatchAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	rt := startRuntime(t, "127.0.0.1:0", dir)
	base := rt.url()
	addr := strings.TrimPrefix(base, "http://")
	ids := startJobMonitors(t, base, "restart", 1, 1, 5)

	type result struct {
		stdout string
		code   int
	}
	done := make(chan result, 1)
	stderr := &testtool.SyncBuffer{}
	go func() {
		stdout, code := runCLITo(context.Background(), base, stderr, "watch", ids[0], "--every", "1s")
		done <- result{stdout, code}
	}()
	// The watch has had its first answer (a progress line): from then
	// on no connection means a restart to wait out.
	waitFor(t, stderr, "] ")
	rt.stop()
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("%s still answers after the shutdown", addr)
	}
	// The watch has tried while the runtime was down.
	waitFor(t, stderr, "connection refused, retrying in")
	startRuntime(t, addr, dir)

	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("watch: exit %d; stderr:\n%s", r.code, stderr)
		}
		if !strings.Contains(r.stdout, `"final_status": "Completed"`) {
			t.Errorf("stdout %q lacks the final status", r.stdout)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("watch did not end")
	}
}

// waitFor polls s, a command's output, until it holds want, for up to 30 s.
func waitFor(t *testing.T, s *testtool.SyncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the command has not written %q after 30 s:\n%s", want, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInterrupt cancels commands as Ctrl-C does: they exit with status 130
// and print nothing about the cancellation.
func TestInterrupt(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	ids := startJobMonitors(t, rt.url(), "intr", 1, 3600, 100)
	tests := []struct {
		name  string
		args  []string
		after time.Duration // cancel after this; 0: before the command runs
	}{
		{name: "watch", args: []string{"watch", ids[0]}, after: 500 * time.Millisecond},
		{name: "start --watch", args: []string{"start", "--job-id", "intr-w", "--interval", "3600", "--watch"}, after: 500 * time.Millisecond},
		{name: "status", args: []string{"status", ids[0]}},
		{name: "list", args: []string{"list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if tt.after == 0 {
				cancel()
			} else {
				time.AfterFunc(tt.after, cancel)
			}
			defer cancel()
			res := runCLI(ctx, rt.url(), tt.args...)
			if res.code != 130 {
				t.Errorf("exit %d, want 130; stderr: %s", res.code, res.stderr)
			}
			if strings.Contains(res.stderr, "context canceled") || strings.Contains(res.stderr, "stepmon:") {
				t.Errorf("stderr reports the interrupt:\n%s", res.stderr)
			}
		})
	}
}

// TestOutcome: watch's exit status says whether the monitor reached its
// goal.
func TestOutcome(t *testing.T) {
	tests := []struct {
		runtime, final string
		wantErr        string // "" for exit status 0
	}{
		{"Completed", "Completed", ""},
		{"Completed", "Alerted", ""},
		{"Completed", "Timeout", "monitor m ended Completed, final status Timeout"},
		{"Completed", "Failed", "monitor m ended Completed, final status Failed"},
		{"Terminated", "Terminated", "monitor m ended Terminated, final status Terminated"},
		{"Failed", "", "monitor m ended Failed, final status none"},
	}
	for _, tt := range tests {
		rec := record{RuntimeStatus: monitor.RuntimeStatus(tt.runtime)}
		if tt.final != "" {
			rec.Output = json.RawMessage(`{"final_status":"` + tt.final + `"}`)
		}
		err := outcome("m", rec)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s/%s: %v, want exit status 0", tt.runtime, tt.final, err)
			}
			continue
		}
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitNotReached || ee.Error() != tt.wantErr {
			t.Errorf("%s/%s: %v, want exit status %d with %q", tt.runtime, tt.final, err, exitNotReached, tt.wantErr)
		}
	}
}

// TestWatchExitStatus follows monitors on a local runtime: a terminated
// one ends watch with exit status 3, a completed one with 0, and a wrong
// endpoint fails at once.
func TestWatchExitStatus(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	defer rt.stop()
	// The first checks every minute and would complete on its 1,000th
	// check; the second completes on its first.
	ids := append(startJobMonitors(t, rt.url(), "exit-long", 1, 60, 1000), startJobMonitors(t, rt.url(), "exit-short", 1, 1, 1)...)
	if r := runCLI(t.Context(), rt.url(), "terminate", ids[0], "--reason", "test"); r.code != 0 {
		t.Fatalf("terminate: exit %d: %s", r.code, r.stderr)
	}
	r := runCLI(t.Context(), rt.url(), "watch", ids[0])
	if r.code != exitNotReached || !strings.Contains(r.stderr, "stepmon: watch: monitor "+ids[0]+" ended Terminated") {
		t.Errorf("watch of a terminated monitor: exit %d, stderr %q; want exit %d naming how it ended", r.code, r.stderr, exitNotReached)
	}
	if r := runCLI(t.Context(), rt.url(), "watch", ids[1]); r.code != 0 {
		t.Errorf("watch of a completing monitor: exit %d, stderr %q; want 0", r.code, r.stderr)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nowhere := "http://" + ln.Addr().String()
	ln.Close()
	r = runCLI(t.Context(), nowhere, "watch", ids[1])
	if r.code != 1 || !strings.Contains(r.stderr, "nothing listens there") {
		t.Errorf("watch against %s: exit %d, stderr %q; want exit 1 with the hint", nowhere, r.code, r.stderr)
	}
}

// TestWatchWithoutOutput: a monitor that finished without an output (null)
// prints nothing on standard output, and its exit status says it did not
// reach its goal.
func TestWatchWithoutOutput(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"instanceId":"w","runtimeStatus":"Failed","output":null}`)
	}))
	defer srv.Close()
	r := runCLI(t.Context(), srv.URL, "watch", "w")
	if r.code != exitNotReached || r.stdout != "" || !strings.HasSuffix(r.stderr, "stepmon: watch: monitor w ended Failed, final status none\n") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, no output, and how it ended", r.code, r.stdout, r.stderr, exitNotReached)
	}
}

// TestInterruptWatchWait: a signal while watch waits between two polls
// ends it with the signal's exit status and nothing about it on standard
// error, as one during a request does.
func TestInterruptWatchWait(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"instanceId":"w","runtimeStatus":"Running","customStatus":{"check_count":1}}`)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	time.AfterFunc(300*time.Millisecond, func() { cancel(signalReceived{syscall.SIGTERM}) })
	r := runCLI(ctx, srv.URL, "watch", "w", "--every", "10s")
	if r.code != 143 || strings.Contains(r.stderr, "stepmon:") {
		t.Errorf("exit %d, stderr %q; want exit 143 and nothing but the progress", r.code, r.stderr)
	}
}
