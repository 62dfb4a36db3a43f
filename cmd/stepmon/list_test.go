package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
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
		{name: "top beyond a page", args: []string{"--top", "2000", "--json"}, want: n},
		{name: "top across pages", args: []string{"--top", "1003", "--json"}, want: 1003},
		{name: "top within a page", args: []string{"--top", "7", "--json"}, want: 7},
		{name: "top and status", args: []string{"--top", "1001", "--status", "Running,Pending", "--json"}, want: 1001},
		{name: "negative top", args: []string{"--top", "-1"}, wantCode: 2, wantErr: "--top"},
		{name: "bad status", args: []string{"--status", "Running,Sleeping"}, wantCode: 2, wantErr: `--status must be a comma-separated list of Pending, Running, Completed, Failed, Terminated; got "Sleeping"`},
		{name: "status in lower case", args: []string{"--status", "running,pending", "--json"}, want: n},
	}
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

// A server that answers the same token again would keep list asking for
// ever: list stops with an error instead.
func TestListRefusesATokenThatDoesNotMove(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) > 10 {
			http.Error(w, `{"error":"invalid","message":"asked too often"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"monitors": [], "continuationToken": "same"}`)
	}))
	defer srv.Close()
	res := runCLI(context.Background(), srv.URL, "list")
	if res.code != 1 || !strings.Contains(res.stderr, "did not move on") {
		t.Fatalf("exit %d, stderr %q; want 1 and that the token did not move on", res.code, res.stderr)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("list asked %d times, want 2", n)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.jobStatus(); got != tt.want {
				t.Errorf("jobStatus() = %q, want %q", got, tt.want)
			}
		})
	}
}
