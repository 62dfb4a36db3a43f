package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin, where the system has no zone data

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/testtool"
)

// TestList lists more monitors than one page of the API holds (1,000),
// with status filters and limits, against the local runtime.
func TestList(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	const n = 1005
	startJobMonitors(t, rt.url(), "list", n, 3600, 100)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     int // records listed, with --json
		wantErr  string
	}{
		{name: "all", args: []string{"--json"}, want: n},
		{name: "status list", args: []string{"--status", "Running,Completed,Pending", "--json"}, want: n},
		{name: "status list with spaces", args: []string{"--status", " Running , Pending ", "--json"}, want: n},
		{name: "status none match", args: []string{"--status", "Completed,Failed", "--json"}, want: 0},
		// Repeated, the statuses add up (the last alone was kept, as for
		// a flag of one value: "--status Running --status Completed"
		// listed none of these).
		{name: "status repeated", args: []string{"--status", "Running", "--status", "Completed", "--status", "Pending,Failed", "--json"}, want: n},
		{name: "status repeated, none match", args: []string{"--status", "Completed", "--status", "Failed", "--json"}, want: 0},
		{name: "top beyond a page", args: []string{"--top", "2000", "--json"}, want: n},
		{name: "top across pages", args: []string{"--top", "1003", "--json"}, want: 1003},
		{name: "top within a page", args: []string{"--top", "7", "--json"}, want: 7},
		{name: "top and status", args: []string{"--top", "1001", "--status", "Running,Pending", "--json"}, want: 1001},
		{name: "negative top", args: []string{"--top", "-1"}, wantCode: 2, wantErr: "--top"},
		{name: "bad status", args: []string{"--status", "Running,Sleeping"}, wantCode: 2, wantErr: `--status must be a comma-separated list of Pending, Running, Completed, Failed, Terminated; got "Sleeping"`},
		{name: "a final status", args: []string{"--status", "alerted"}, wantCode: 2,
			wantErr: `--status must be a comma-separated list of Pending, Running, Completed, Failed, Terminated; got "alerted": Alerted is an output's final_status, not a runtime status: a monitor that sent its alert is Completed`},
		{name: "status in lower case", args: []string{"--status", "running,pending", "--json"}, want: n},
	}
	t.Run("table names the zone", func(t *testing.T) {
		res := runCLI(context.Background(), rt.url(), "list", "--top", "3")
		zone := zoneLabel(time.Now())
		header, _, _ := strings.Cut(res.stdout, "\n")
		if res.code != 0 || !strings.Contains(header, "CREATED ("+zone+")") || !strings.Contains(header, "UPDATED ("+zone+")") {
			t.Errorf("exit %d, header %q: want the time columns to name %s", res.code, header, zone)
		}
		if got := strings.Count(res.stdout, "\n"); got != 4 {
			t.Errorf("%d lines, want a header and 3 monitors:\n%s", got, res.stdout)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(context.Background(), rt.url(), append([]string{"list"}, tt.args...)...)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", res.code, tt.wantCode, res.stderr)
			}
			if tt.wantErr != "" {
				if !strings.Contains(res.stderr, tt.wantErr) {
					t.Errorf("stderr %q does not mention %q", res.stderr, tt.wantErr)
				}
				return
			}
			var recs []record
			if err := json.Unmarshal([]byte(res.stdout), &recs); err != nil {
				t.Fatalf("output is not a JSON array of records: %v", err)
			}
			if len(recs) != tt.want {
				t.Errorf("listed %d monitors, want %d", len(recs), tt.want)
			}
			seen := map[string]bool{}
			for _, r := range recs {
				if seen[r.InstanceID] {
					t.Fatalf("%s listed twice", r.InstanceID)
				}
				seen[r.InstanceID] = true
			}
		})
	}
}

// TestListFollowsShortPages: a page may hold fewer monitors than asked
// for, even none, and still carry a continuation token (on AWS, a status
// filter that few monitors match); list keeps following the tokens.
func TestListFollowsShortPages(t *testing.T) {
	pages := map[string]string{
		"":   `{"monitors": [], "continuationToken": "p1"}`,
		"p1": `{"monitors": [{"instanceId": "a", "runtimeStatus": "Failed"}], "continuationToken": "p2"}`,
		"p2": `{"monitors": [], "continuationToken": "p3"}`,
		"p3": `{"monitors": [{"instanceId": "b", "runtimeStatus": "Failed"}], "continuationToken": null}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Query().Get("continuationToken")]
		if r.URL.Path != "/monitors" || !ok {
			http.Error(w, `{"error":"invalid","message":"unexpected request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	res := runCLI(context.Background(), srv.URL, "list", "--status", "Failed", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d; stderr: %s", res.code, res.stderr)
	}
	var recs []record
	if err := json.Unmarshal([]byte(res.stdout), &recs); err != nil {
		t.Fatalf("output is not a JSON array of records: %v", err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.InstanceID)
	}
	if want := []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
}

// listPaging runs list against a server that answers its nth request
// (from 1) with page(n), at most 10 of them, and returns the result and
// how many requests list made.
func listPaging(t *testing.T, page func(n int32) string) (cliResult, int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n > 10 {
			http.Error(w, `{"error":"invalid","message":"asked too often"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, page(n))
	}))
	defer srv.Close()
	res := runCLI(context.Background(), srv.URL, "list")
	return res, calls.Load()
}

// A server that answers the same token again would keep list asking for
// ever: list stops with an error instead.
func TestListRefusesATokenThatDoesNotMove(t *testing.T) {
	res, n := listPaging(t, func(int32) string { return `{"monitors": [], "continuationToken": "same"}` })
	if res.code != 1 || !strings.Contains(res.stderr, "did not move on") {
		t.Fatalf("exit %d, stderr %q; want 1 and that the token did not move on", res.code, res.stderr)
	}
	if n != 2 {
		t.Errorf("list asked %d times, want 2", n)
	}
}

// Nor does a server whose tokens go round in a circle (A, B, A, ...) keep
// list asking for ever, its memory growing with each page.
func TestListRefusesTokensInACircle(t *testing.T) {
	res, n := listPaging(t, func(n int32) string {
		return fmt.Sprintf(`{"monitors": [{"instanceId": "m%d"}], "continuationToken": %q}`, n, []string{"A", "B"}[n%2])
	})
	if res.code != 1 || !strings.Contains(res.stderr, "go round in a circle") {
		t.Fatalf("exit %d, stderr %q; want 1 and that the tokens go round in a circle", res.code, res.stderr)
	}
	if n != 3 {
		t.Errorf("list asked %d times, want 3 (A, B, then A again)", n)
	}
}

// The error about a token that did not move on names the endpoint with
// its password redacted.
func TestListTokenErrorRedacts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"monitors": [], "continuationToken": "same"}`)
	}))
	defer srv.Close()
	endpoint := strings.Replace(srv.URL, "http://", "http://bob:hunter2pass@", 1)
	res := runCLI(context.Background(), endpoint, "list")
	want := "(" + strings.Replace(srv.URL, "http://", "http://bob:xxxxx@", 1) + " answered the same one twice)"
	if res.code != 1 || !strings.Contains(res.stderr, want) || strings.Contains(res.stderr, "hunter2pass") {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q, without the password", res.code, res.stderr, want)
	}
}

// TestJobStatus: list's JOB STATUS column shows what the dashboard's does,
// the final status once a monitor has finished.
func TestJobStatus(t *testing.T) {
	tests := []struct {
		name string
		rec  record
		want string
	}{
		{"before the first check", record{RuntimeStatus: monitor.RuntimePending}, "-"},
		{"running", record{RuntimeStatus: monitor.RuntimeRunning, CustomStatus: &customStatus{Status: "Running"}}, "Running"},
		{"terminated while its job ran", record{RuntimeStatus: monitor.RuntimeTerminated, CustomStatus: &customStatus{Status: "Running"},
			Output: json.RawMessage(`{"final_status":"Terminated"}`)}, "Terminated"},
		{"alerted", record{RuntimeStatus: monitor.RuntimeCompleted, CustomStatus: &customStatus{Status: "Running"},
			Output: json.RawMessage(`{"final_status":"Alerted"}`)}, "Alerted"},
		{"failed before any check", record{RuntimeStatus: monitor.RuntimeFailed, Output: json.RawMessage(`{"final_status":"Failed"}`)}, "Failed"},
		{"finished without an output", record{RuntimeStatus: monitor.RuntimeFailed, CustomStatus: &customStatus{Status: "Running"}}, "Running"},
		{"checked, without a job status", record{RuntimeStatus: monitor.RuntimeRunning, CustomStatus: &customStatus{CheckCount: 1}}, "-"},
		{"running, with an output", record{RuntimeStatus: monitor.RuntimeRunning, CustomStatus: &customStatus{Status: "Running"},
			Output: json.RawMessage(`{"final_status":"Completed"}`)}, "Running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.jobStatus(); got != tt.want {
				t.Errorf("jobStatus() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestListRetries: list retries a page the API answers with a passing
// failure (429, 503, 502), waiting as the answer asks or backing off, a
// bounded number of times with a note on stderr each time, and lists
// every page in the end; other failures end it at once.
func TestListRetries(t *testing.T) {
	defer func(d time.Duration) { listBackoff = d }(listBackoff)
	listBackoff = 10 * time.Millisecond
	type failure struct {
		status     int
		retryAfter string
		body       string
	}
	rateLimited := failure{http.StatusTooManyRequests, "1", `{"error":"rate_limited","message":"Too Many Requests"}`}
	unavailable := failure{http.StatusServiceUnavailable, "", `{"error":"unavailable","message":"Service Unavailable"}`}
	badGateway := failure{http.StatusBadGateway, "", "<html><body>Bad Gateway</body></html>"}
	invalid := failure{http.StatusBadRequest, "", `{"error":"invalid","message":"bad token"}`}
	internal := failure{http.StatusInternalServerError, "", `{"error":"internal","message":"boom"}`}
	tests := []struct {
		name      string
		fails     []failure // the answers to page 2 before the page itself
		wantCode  int
		wantCalls int32
		wantNotes []string // on stderr, in order, one line each
		wantErr   string
	}{
		{name: "429 with Retry-After once", fails: []failure{rateLimited}, wantCalls: 3,
			wantNotes: []string{"stepmon: list: rate limited (HTTP 429), retrying in 1s (retry 1 of 5)"}},
		{name: "503 twice, backing off", fails: []failure{unavailable, unavailable}, wantCalls: 4,
			wantNotes: []string{"stepmon: list: service unavailable (HTTP 503), retrying in 10ms (retry 1 of 5)",
				"stepmon: list: service unavailable (HTTP 503), retrying in 20ms (retry 2 of 5)"}},
		{name: "502 page", fails: []failure{badGateway}, wantCalls: 3,
			wantNotes: []string{"stepmon: list: server error: HTTP 502 from GET "}},
		{name: "503 until the retries run out", fails: []failure{unavailable, unavailable, unavailable, unavailable, unavailable, unavailable},
			wantCode: 1, wantCalls: 7, wantErr: "stepmon: list: Service Unavailable (HTTP 503), still after 5 retries\n",
			wantNotes: []string{"(retry 1 of 5)", "(retry 2 of 5)", "(retry 3 of 5)", "(retry 4 of 5)", "(retry 5 of 5)"}},
		{name: "400 not retried", fails: []failure{invalid}, wantCode: 1, wantCalls: 2, wantErr: "stepmon: list: bad token (HTTP 400)\n"},
		{name: "500 not retried", fails: []failure{internal}, wantCode: 1, wantCalls: 2, wantErr: "stepmon: list: boom (HTTP 500)\n"},
		{name: "504 retried", fails: []failure{{http.StatusGatewayTimeout, "", `{"message":"Endpoint request timed out"}`}}, wantCalls: 3,
			wantNotes: []string{"stepmon: list: server error: Endpoint request timed out (HTTP 504), retrying in 10ms (retry 1 of 5)"}},
		{name: "501 not retried", fails: []failure{{http.StatusNotImplemented, "", `{"error":"x","message":"Not Implemented"}`}}, wantCode: 1, wantCalls: 2,
			wantErr: "stepmon: list: Not Implemented (HTTP 501)\n"},
		{name: "505 not retried", fails: []failure{{http.StatusHTTPVersionNotSupported, "", `{"error":"x","message":"HTTP Version Not Supported"}`}}, wantCode: 1, wantCalls: 2,
			wantErr: "stepmon: list: HTTP Version Not Supported (HTTP 505)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls, page2 atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Query().Get("continuationToken") {
				case "":
					io.WriteString(w, `{"monitors": [{"instanceId": "a", "runtimeStatus": "Running"}], "continuationToken": "t2"}`)
				case "t2":
					if n := int(page2.Add(1)); n <= len(tt.fails) {
						f := tt.fails[n-1]
						if f.retryAfter != "" {
							w.Header().Set("Retry-After", f.retryAfter)
						}
						if strings.HasPrefix(f.body, "<") {
							w.Header().Set("Content-Type", "text/html")
						}
						w.WriteHeader(f.status)
						io.WriteString(w, f.body)
						return
					}
					io.WriteString(w, `{"monitors": [{"instanceId": "b", "runtimeStatus": "Completed"}]}`)
				default:
					http.Error(w, `{"error":"invalid","message":"unexpected request"}`, http.StatusBadRequest)
				}
			}))
			defer srv.Close()
			res := runCLI(context.Background(), srv.URL, "list")
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", res.code, tt.wantCode, res.stderr)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("list asked %d times, want %d", n, tt.wantCalls)
			}
			notes, errLine := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n"), ""
			if res.stderr == "" {
				notes = nil
			}
			if tt.wantErr != "" && len(notes) > 0 {
				notes, errLine = notes[:len(notes)-1], notes[len(notes)-1]+"\n"
			}
			if errLine != tt.wantErr {
				t.Errorf("error %q, want %q", errLine, tt.wantErr)
			}
			if len(notes) != len(tt.wantNotes) {
				t.Fatalf("stderr has %d notes, want %d:\n%s", len(notes), len(tt.wantNotes), res.stderr)
			}
			for i, want := range tt.wantNotes {
				if !strings.Contains(notes[i], want) {
					t.Errorf("note %d %q does not say %q", i+1, notes[i], want)
				}
			}
			if tt.wantCode != 0 {
				return
			}
			var ids []string
			for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n")[1:] {
				ids = append(ids, strings.Fields(l)[0])
			}
			if want := []string{"a", "b"}; !slices.Equal(ids, want) {
				t.Errorf("listed %v, want %v:\n%s", ids, want, res.stdout)
			}
		})
	}
}

// listRetryWait waits what the server asked for, at most 30 s, or backs
// off from listBackoff, doubling, also at most 30 s.
func TestListRetryWait(t *testing.T) {
	for _, tt := range []struct {
		retry  int
		server time.Duration
		want   time.Duration
	}{
		{1, 0, time.Second},
		{2, 0, 2 * time.Second},
		{5, 0, 16 * time.Second},
		{7, 0, 30 * time.Second},
		{1, 2 * time.Second, 2 * time.Second},
		{3, 2 * time.Second, 2 * time.Second},
		{1, 10 * time.Minute, 30 * time.Second},
	} {
		if got := listRetryWait(tt.retry, tt.server); got != tt.want {
			t.Errorf("listRetryWait(%d, %v) = %v, want %v", tt.retry, tt.server, got, tt.want)
		}
	}
}

// Ctrl-C while list waits to retry a page ends it at once, quietly, with
// status 130.
func TestListRetryInterrupted(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "20")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"unavailable","message":"Service Unavailable"}`)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &testtool.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		_, code := runCLITo(ctx, srv.URL, stderr, "list")
		done <- code
	}()
	const note = "stepmon: list: service unavailable (HTTP 503), retrying in 20s (retry 1 of 5)\n"
	waitFor(t, stderr, note) // list waits to retry
	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("list still waits to retry after Ctrl-C")
	}
	// Ended in the wait: no retry was made.
	if n := requests.Load(); code != 130 || n != 1 {
		t.Errorf("exit %d after %d requests, want 130 after the first; stderr: %s", code, n, stderr)
	}
	if got := stderr.String(); got != note {
		t.Errorf("stderr %q, want only the note %q", got, note)
	}
}

// TestListFirstPageNotTheAPI: as watch does, list fails at once when the
// endpoint's first answer is another server's error (a proxy's 502 page,
// an empty 503: a wrong --endpoint), rather than retrying it for half a
// minute; the API's own 503 on the first page is retried.
func TestListFirstPageNotTheAPI(t *testing.T) {
	defer func(d time.Duration) { listBackoff = d }(listBackoff)
	listBackoff = 10 * time.Millisecond
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantCode    int
		wantCalls   int32
		wantErr     string
	}{
		{"502 page", http.StatusBadGateway, "text/html", "<html><body>Bad Gateway</body></html>", 1, 1,
			"(text/html, not the monitor API's JSON error)"},
		{"empty 503", http.StatusServiceUnavailable, "", "", 1, 1, "(no content type, an empty body, not the monitor API's JSON error)"},
		{"the API's 503", http.StatusServiceUnavailable, "application/json", `{"error":"unavailable","message":"Service Unavailable"}`, 0, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					if tt.contentType != "" {
						w.Header().Set("Content-Type", tt.contentType)
					}
					w.WriteHeader(tt.status)
					io.WriteString(w, tt.body)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"monitors": [{"instanceId": "a", "runtimeStatus": "Running"}]}`)
			}))
			defer srv.Close()
			res := runCLI(context.Background(), srv.URL, "list")
			if res.code != tt.wantCode || !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", res.code, res.stderr, tt.wantCode, tt.wantErr)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("list asked %d times, want %d; stderr: %s", n, tt.wantCalls, res.stderr)
			}
		})
	}
}

// TestListTableAcrossDST: the table's times agree with the zone its
// headings name, also for a monitor created before a change to or from
// daylight saving time (Europe/Berlin: UTC+1 in winter, UTC+2 in summer).
func TestListTableAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	records := []json.RawMessage{
		json.RawMessage(`{"instanceId":"summer","name":"JobMonitor","runtimeStatus":"Running","createdTime":"2026-07-01T12:00:00Z","lastUpdatedTime":"2026-07-01T12:30:00Z"}`),
		json.RawMessage(`{"instanceId":"winter","name":"JobMonitor","runtimeStatus":"Running","createdTime":"2026-01-15T12:00:00Z","lastUpdatedTime":"2026-01-15T12:30:00Z"}`),
	}
	tests := []struct {
		name string
		now  time.Time
		want []string // the lines of the table, fields joined by one space
	}{
		{"in winter", time.Date(2026, 12, 5, 13, 0, 0, 0, berlin), []string{
			"INSTANCE ID NAME STATUS CHECKS JOB STATUS CREATED (UTC+1) UPDATED (UTC+1)",
			"summer JobMonitor Running - - 2026-07-01 13:00:00 2026-07-01 13:30:00",
			"winter JobMonitor Running - - 2026-01-15 13:00:00 2026-01-15 13:30:00",
		}},
		{"in summer", time.Date(2026, 8, 1, 13, 0, 0, 0, berlin), []string{
			"INSTANCE ID NAME STATUS CHECKS JOB STATUS CREATED (UTC+2) UPDATED (UTC+2)",
			"summer JobMonitor Running - - 2026-07-01 14:00:00 2026-07-01 14:30:00",
			"winter JobMonitor Running - - 2026-01-15 14:00:00 2026-01-15 14:30:00",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeListTable(&b, io.Discard, records, tt.now); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
				got = append(got, strings.Join(strings.Fields(l), " "))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("table:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestListUndecodableRecord: a record the table cannot read keeps its row,
// with "?" columns, and a warning on stderr names it; the others are
// listed as usual.
func TestListUndecodableRecord(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"monitors": [{"instanceId": "a", "runtimeStatus": "Running"},
			{"instanceId": "bad", "runtimeStatus": "Running", "createdTime": "yesterday"},
			{"instanceId": 7, "runtimeStatus": "Running"},
			{"instanceId": "c", "runtimeStatus": "Completed"},
			{"instanceId": "", "runtimeStatus": "Running", "createdTime": "never"}]}`)
	}))
	defer srv.Close()
	res := runCLI(context.Background(), srv.URL, "list")
	if res.code != 0 {
		t.Fatalf("exit %d; stderr: %s", res.code, res.stderr)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n")[1:] {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	if len(rows) != 5 || !strings.HasPrefix(rows[0], "a Running ") || rows[1] != "bad ? ? ? ? ? ?" || rows[2] != "? ? ? ? ? ? ?" || !strings.HasPrefix(rows[3], "c Completed ") ||
		rows[4] != "? ? ? ? ? ? ?" {
		t.Errorf("rows:\n%s\nwant a, bad and ? with ? columns, c, and ? with ? columns", strings.Join(rows, "\n"))
	}
	for _, w := range []string{"stepmon: list: the record of monitor bad does not decode (", "stepmon: list: record 3 of the list does not decode (",
		"stepmon: list: record 5 of the list does not decode ("} {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("stderr %q does not say %q", res.stderr, w)
		}
	}
}

// TestListErrorsNameFlags: the API's problems with list's query name the
// flags the user typed (--status, --from, --to), not the API's parameters,
// against a server with other rules than those list checks before it
// sends (the local runtime's are all checked first: TestBadFlag); a
// problem with a parameter no flag sets keeps its name and the request.
func TestListErrorsNameFlags(t *testing.T) {
	const problems = `{"error":"invalid","message":"invalid query: createdTimeFrom must not be after createdTimeTo; runtimeStatus must be a comma-separated list of Pending, Running, Completed, Failed and Terminated, not \"Paused\"",` +
		`"fields":[{"field":"createdTimeFrom","problem":"must not be after createdTimeTo"},` +
		`{"field":"runtimeStatus","problem":"must be a comma-separated list of Pending, Running, Completed, Failed and Terminated, not \"Paused\""}]}`
	const token = `{"error":"invalid","message":"invalid query: continuationToken is not a token returned by this API for this query",` +
		`"fields":[{"field":"continuationToken","problem":"is not a token returned by this API for this query"}]}`
	serve := func(body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	const mixed = `{"error":"invalid","message":"invalid query: continuationToken is not a token returned by this API for this query; runtimeStatus must not be empty",` +
		`"fields":[{"field":"continuationToken","problem":"is not a token returned by this API for this query"},{"field":"runtimeStatus","problem":"must not be empty"}]}`
	other, badToken, both := serve(problems), serve(token), serve(mixed)
	tests := []struct {
		name     string
		endpoint string
		args     []string
		want     string // standard error
	}{
		{"another server's rules", other, []string{"--status", "Running"},
			"stepmon: list: invalid query: --from must not be after --to; --status must be a comma-separated list of Pending, Running, Completed, Failed and Terminated, not \"Paused\" (HTTP 400)\n"},
		{"a parameter of no flag", badToken, nil,
			"stepmon: list: invalid query: continuationToken is not a token returned by this API for this query (HTTP 400) for GET " + badToken + "/monitors?top=1000\n"},
		{"a parameter of no flag, then a flag's", both, []string{"--status", "Running"},
			"stepmon: list: invalid query: continuationToken is not a token returned by this API for this query; --status must not be empty (HTTP 400) for GET " + both + "/monitors?runtimeStatus=Running&top=1000\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t.Context(), tt.endpoint, append([]string{"list"}, tt.args...)...)
			if r.code != 1 || r.stderr != tt.want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1, stderr:\n%s", r.code, r.stderr, tt.want)
			}
		})
	}
}

// TestListPages: list asks each page for what --top still wants, takes
// the continuation token from the x-ms-continuation-token header when the
// body has none, lists no more than --top even when a page holds more
// than asked, and prints an empty list as [].
func TestListPages(t *testing.T) {
	var mu sync.Mutex
	var tops []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		tops = append(tops, q.Get("top"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if q.Get("runtimeStatus") == "Failed" {
			io.WriteString(w, `{"monitors": []}`)
			return
		}
		// Two monitors a page, whatever the page's size, and the token in
		// the header only.
		n, _ := strconv.Atoi(q.Get("continuationToken"))
		if n < 4 {
			w.Header().Set("x-ms-continuation-token", strconv.Itoa(n+2))
		}
		fmt.Fprintf(w, `{"monitors": [{"instanceId": "m%d", "runtimeStatus": "Running"}, {"instanceId": "m%d", "runtimeStatus": "Running"}]}`, n, n+1)
	}))
	defer srv.Close()
	tests := []struct {
		args     []string
		wantIDs  []string
		wantTops []string
	}{
		{[]string{"--json"}, []string{"m0", "m1", "m2", "m3", "m4", "m5"}, []string{"1000", "1000", "1000"}},
		{[]string{"--top", "3", "--json"}, []string{"m0", "m1", "m2"}, []string{"3", "1"}},
		{[]string{"--top", "1", "--json"}, []string{"m0"}, []string{"1"}},
		{[]string{"--status", "Failed", "--json"}, nil, []string{"1000"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			mu.Lock()
			tops = nil
			mu.Unlock()
			res := runCLI(t.Context(), srv.URL, append([]string{"list"}, tt.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d; stderr: %s", res.code, res.stderr)
			}
			if tt.wantIDs == nil && res.stdout != "[]\n" {
				t.Errorf("stdout %q, want []", res.stdout)
			}
			var recs []record
			if err := json.Unmarshal([]byte(res.stdout), &recs); err != nil {
				t.Fatalf("output is not a JSON array of records: %v", err)
			}
			var ids []string
			for _, r := range recs {
				ids = append(ids, r.InstanceID)
			}
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("listed %v, want %v", ids, tt.wantIDs)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(tops, tt.wantTops) {
				t.Errorf("asked for pages of %v, want %v", tops, tt.wantTops)
			}
		})
	}
}

// TestListRetryAfterTheAPIsError: the API's own 503 is an answer, so a
// proxy's empty 503 after it is retried too; list lists in the end.
func TestListRetryAfterTheAPIsError(t *testing.T) {
	defer func(d time.Duration) { listBackoff = d }(listBackoff)
	listBackoff = 10 * time.Millisecond
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"unavailable","message":"the status store is unavailable; retry later"}`)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"monitors": [{"instanceId": "a", "runtimeStatus": "Running"}]}`)
		}
	}))
	defer srv.Close()
	res := runCLI(t.Context(), srv.URL, "list", "--json")
	if res.code != 0 || !strings.Contains(res.stdout, `"instanceId": "a"`) || strings.Count(res.stderr, "retrying in") != 2 {
		t.Errorf("exit %d, stdout %q, stderr %q; want the list after two retries", res.code, res.stdout, res.stderr)
	}
}

// TestListInterruptedOnALaterPage: Ctrl-C while list waits for a page
// after the first ends it quietly, without a retry note.
func TestListInterruptedOnALaterPage(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("continuationToken") == "" {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"monitors": [{"instanceId": "a", "runtimeStatus": "Running"}], "continuationToken": "p2"}`)
			return
		}
		cancel()
		<-r.Context().Done()
	}))
	defer srv.Close()
	res := runCLI(ctx, srv.URL, "list")
	if res.code != 130 || res.stderr != "" || res.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 130 and nothing", res.code, res.stdout, res.stderr)
	}
}
