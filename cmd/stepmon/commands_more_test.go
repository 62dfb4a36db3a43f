package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// TestStartRequestBody: the request start builds from its flags alone
// holds what the flags give and nothing for the flags left out (0 is the
// API's default, which a field left out takes); an http target gets the
// status path and the value lists a job service answers by default.
func TestStartRequestBody(t *testing.T) {
	const hook = "http://127.0.0.1:9/hook"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"job", []string{"--job-id", "j1"}, `{"jobId":"j1","target":{"type":"simulated"}}`},
		{"job with every field", []string{"--job-id", "j2", "--id", "job-2", "--complete-after", "3", "--interval", "5", "--timeout", "1m"},
			`{"instanceId":"job-2","jobId":"j2","target":{"type":"simulated","completeAfterChecks":3},"pollingIntervalSeconds":5,"timeoutSeconds":60}`},
		{"zeros for the defaults", []string{"--job-id", "j3", "--complete-after", "0", "--interval", "0", "--timeout", "0"},
			`{"jobId":"j3","target":{"type":"simulated"}}`},
		{"github", []string{"--repo", "octocat/hello-world", "--webhook", hook},
			`{"target":{"type":"github","repo":"octocat/hello-world"},"alert":{"webhookUrl":"` + hook + `"}}`},
		{"github with threshold", []string{"--repo", "octocat/hello-world", "--min-open-issues", "2", "--topic-arn", "arn:aws:sns:us-east-1:000000000000:t"},
			`{"target":{"type":"github","repo":"octocat/hello-world","minOpenIssues":2},"alert":{"topicArn":"arn:aws:sns:us-east-1:000000000000:t"}}`},
		{"http", []string{"--url", "http://127.0.0.1:1/job"},
			`{"target":{"type":"http","url":"http://127.0.0.1:1/job","statusPath":"$.status","doneValues":["Completed"],"failedValues":["Failed"]}}`},
		{"http with its values", []string{"--url", "http://127.0.0.1:1/job", "--status-path", "$.state", "--running-values", "Queued", "--phone", "+14255550100"},
			`{"target":{"type":"http","url":"http://127.0.0.1:1/job","statusPath":"$.state","doneValues":["Completed"],"failedValues":["Failed"],"runningValues":["Queued"]},"alert":{"phone":"+14255550100"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bodies := make(chan []byte, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies <- b
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusAccepted)
				io.WriteString(w, `{"id":"m1","statusQueryGetUri":"http://127.0.0.1:1/monitors/m1"}`)
			}))
			defer srv.Close()
			res := runCLI(t.Context(), srv.URL, append([]string{"start"}, tt.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
			}
			var got, want any
			body := <-bodies
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("request body %q: %v", body, err)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("request body %s, want %s", body, tt.want)
			}
		})
	}
}

// TestStartErrorWords: start names the API's fields after its flags only
// where the answer is in the API's shape, a message ending in its problems;
// another answer is shown as it is, once. In a problem, only camelCase
// field names become flags, not words such as "url".
func TestStartErrorWords(t *testing.T) {
	tests := []struct {
		name, answer, want string
	}{
		{"message ending in its problems",
			`{"message":"invalid request: target.url must be a url the job service answers","fields":[{"field":"target.url","problem":"must be a url the job service answers"}]}`,
			"stepmon: start: invalid request: --url must be a url the job service answers (HTTP 400)\n"},
		{"message without its problems",
			`{"message":"invalid request","fields":[{"field":"target.url","problem":"must be an absolute http or https URL"}]}`,
			"stepmon: start: invalid request; target.url must be an absolute http or https URL (HTTP 400)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, tt.answer)
			}))
			defer srv.Close()
			res := runCLI(t.Context(), srv.URL, "start", "--url", "http://127.0.0.1:1/job")
			if res.code != 1 || res.stderr != tt.want {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", res.code, res.stderr, tt.want)
			}
		})
	}
}

// TestWatchRetryWait: watch waits what the server asks for, at most 30 s;
// without a Retry-After it waits its polling interval, doubled after each
// failure in a row, at most 10 s.
func TestWatchRetryWait(t *testing.T) {
	w := newWatcher(nil, time.Second, nil, io.Discard)
	for _, tt := range []struct {
		failures int
		server   time.Duration
		want     time.Duration
	}{
		{1, 0, time.Second},
		{2, 0, 2 * time.Second},
		{4, 0, 8 * time.Second},
		{5, 0, 10 * time.Second},
		{50, 0, 10 * time.Second},
		{1, 3 * time.Second, 3 * time.Second},
		{6, 25 * time.Second, 25 * time.Second},
		{1, 45 * time.Second, 30 * time.Second},
	} {
		if got := w.retryWait(tt.failures, tt.server); got != tt.want {
			t.Errorf("retryWait(%d, %v) = %v, want %v", tt.failures, tt.server, got, tt.want)
		}
	}
}

// TestTerminateWithoutReason: terminate without --reason sends no reason
// at all, not an empty one.
func TestTerminateWithoutReason(t *testing.T) {
	requests := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests <- r.Method + " " + r.RequestURI
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"instanceId":"abc","runtimeStatus":"Terminated","output":{"final_status":"Terminated"}}`)
	}))
	defer srv.Close()
	res := runCLI(t.Context(), srv.URL, "terminate", "abc")
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	if got, want := <-requests, "POST /monitors/abc/terminate"; got != want {
		t.Errorf("request %q, want %q", got, want)
	}
}

// TestListTableChecks: list's CHECKS column shows a monitor's check count,
// 0 included, and "-" for one without a custom status (before its first
// check).
func TestListTableChecks(t *testing.T) {
	records := []json.RawMessage{
		json.RawMessage(`{"instanceId":"new","name":"n1","runtimeStatus":"Pending"}`),
		json.RawMessage(`{"instanceId":"none-yet","name":"n2","runtimeStatus":"Running","customStatus":{"status":"Running","check_count":0}}`),
		json.RawMessage(`{"instanceId":"checked","name":"n3","runtimeStatus":"Running","customStatus":{"status":"Running","check_count":7}}`),
	}
	var out, warn bytes.Buffer
	if err := writeListTable(&out, &warn, records, time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(rows) != 4 || warn.Len() != 0 {
		t.Fatalf("table:\n%s\nwarnings: %q; want a heading and 3 rows, no warning", out.String(), warn.String())
	}
	for i, want := range []string{"-", "0", "7"} {
		if f := strings.Fields(rows[i+1]); len(f) < 4 || f[3] != want {
			t.Errorf("row %q: want CHECKS %q", rows[i+1], want)
		}
	}
}

// TestListTableControlCharacters: what another server says is escaped in
// list's table: a title, colours, a right-to-left override or a tab must
// not reach the terminal (nor shift the columns).
func TestListTableControlCharacters(t *testing.T) {
	records := []json.RawMessage{
		json.RawMessage(`{"instanceId":"m\u001b]0;PWNED\u0007","name":"n\tx","runtimeStatus":"Running\u001b[31m","customStatus":{"status":"Run\u202ening","check_count":1}}`),
	}
	var out, warn bytes.Buffer
	if err := writeListTable(&out, &warn, records, time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsFunc(out.String(), func(r rune) bool { return r != '\n' && isControl(r) }) {
		t.Errorf("table %q holds control characters", out.String())
	}
	for _, want := range []string{`m\x1b]0;PWNED\x07`, `n\x09x`, `Running\x1b[31m`, `Run\u202ening`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table %q: want %s", out.String(), want)
		}
	}
}

// TestOutcomeExitStatus: watch (and start --watch) exit with status 0 only
// for a run that completed with the job Completed or the alert sent; any
// other end, a run that failed with a final status of Completed included,
// is exit status 3, the number scripts test, with how it ended.
func TestOutcomeExitStatus(t *testing.T) {
	tests := []struct {
		runtime, final string
		code           int
		stderr         string
	}{
		{"Completed", "Completed", 0, ""},
		{"Completed", "Alerted", 0, ""},
		{"Completed", "Timeout", 3, "stepmon: monitor m ended Completed, final status Timeout\n"},
		{"Failed", "Completed", 3, "stepmon: monitor m ended Failed, final status Completed\n"},
		{"Terminated", "Alerted", 3, "stepmon: monitor m ended Terminated, final status Alerted\n"},
	}
	for _, tt := range tests {
		rec := record{RuntimeStatus: monitor.RuntimeStatus(tt.runtime), Output: json.RawMessage(`{"final_status":"` + tt.final + `"}`)}
		var stderr bytes.Buffer
		if code := exitCode(outcome("m", rec), &stderr); code != tt.code || stderr.String() != tt.stderr {
			t.Errorf("%s/%s: exit %d, stderr %q; want exit %d, stderr %q", tt.runtime, tt.final, code, stderr.String(), tt.code, tt.stderr)
		}
	}
}

// TestStartWatchExitStatus: start --watch exits as watch does: status 3
// for a monitor that ended without reaching its goal, after printing the
// start answer and the monitor's output.
func TestStartWatchExitStatus(t *testing.T) {
	srv := startAndStatusAPI(http.StatusOK, `{"instanceId":"m1","runtimeStatus":"Terminated","output":{"final_status":"Terminated"}}`, nil)
	defer srv.Close()
	res := runCLI(t.Context(), srv.URL, "start", "--job-id", "j1", "--id", "m1", "--watch")
	if want := "stepmon: start: monitor m1 ended Terminated, final status Terminated\n"; res.code != 3 || !strings.HasSuffix(res.stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit 3 and stderr ending %q", res.code, res.stderr, want)
	}
	if !strings.Contains(res.stdout, `"id": "m1"`) || !strings.Contains(res.stdout, `"final_status": "Terminated"`) {
		t.Errorf("stdout %q; want the start answer and the monitor's output", res.stdout)
	}
}

// start --watch polls at --every, as watch does: in the 2.5 s before it is
// interrupted, a monitor that keeps running is asked for once with
// --every 10s (three times at the default second). --every needs --watch
// and at least a second.
func TestStartWatchEvery(t *testing.T) {
	var polls atomic.Int32
	srv := startAndStatusAPI(http.StatusAccepted, `{"instanceId":"m1","runtimeStatus":"Running","customStatus":{"check_count":1}}`, &polls)
	defer srv.Close()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	time.AfterFunc(2500*time.Millisecond, func() { cancel(signalReceived{syscall.SIGINT}) })
	res := runCLI(ctx, srv.URL, "start", "--job-id", "j1", "--id", "m1", "--watch", "--every", "10s")
	if res.code != 130 || polls.Load() != 1 {
		t.Errorf("exit %d, %d status requests; want exit 130 after one (stderr %q)", res.code, polls.Load(), res.stderr)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--every", "10s"}, "stepmon: start: --every applies only with --watch\n"},
		{[]string{"--watch", "--every", "500ms"}, "stepmon: start: --every must be at least 1s"},
	} {
		res := runCLI(t.Context(), srv.URL, append([]string{"start", "--job-id", "j1"}, tt.args...)...)
		if res.code != exitUsage || !strings.HasPrefix(res.stderr, tt.want) {
			t.Errorf("start %q: exit %d, stderr %q; want exit %d and %q", tt.args, res.code, res.stderr, exitUsage, tt.want)
		}
	}
}

// startAndStatusAPI is an API that starts monitor m1 and answers each
// request for its status with code and body, counting them in polls when
// it is not nil.
func startAndStatusAPI(code int, body string, polls *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"id":"m1","statusQueryGetUri":"http://127.0.0.1:1/monitors/m1"}`)
			return
		}
		if polls != nil {
			polls.Add(1)
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}))
}
