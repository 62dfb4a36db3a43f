package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestInstanceIDArguments runs the commands that name a monitor with ids
// the API's rule accepts and refuses, against the local runtime: a
// malformed id is a usage error that never reaches the server.
func TestInstanceIDArguments(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	startJobMonitors(t, rt.url(), "ids", 2, 1, 1)
	waitFinished(t, rt.url(), "ids-00001")

	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{args: []string{"status", "ids-00000"}, wantOut: `"instanceId": "ids-00000"`},
		{args: []string{"status", "bad id!"}, wantCode: 2, wantErr: `"bad id!" is not an instance id`},
		{args: []string{"status", ".."}, wantCode: 2, wantErr: `".." is not an instance id`},
		{args: []string{"status", "."}, wantCode: 2, wantErr: `"." is not an instance id`},
		{args: []string{"status", "a/b"}, wantCode: 2, wantErr: "letters, digits, '-' or '_'"},
		{args: []string{"status", "%41"}, wantCode: 2, wantErr: "not an instance id"},
		{args: []string{"status", strings.Repeat("x", 65)}, wantCode: 2, wantErr: "1 to 64"},
		{args: []string{"status", strings.Repeat("x", 64)}, wantCode: exitNotFound, wantErr: "HTTP 404"},
		{args: []string{"status", "no-such_monitor"}, wantCode: exitNotFound, wantErr: "HTTP 404"},
		{args: []string{"watch", "../monitors"}, wantCode: 2, wantErr: "not an instance id"},
		{args: []string{"terminate", ".", "--reason", "x"}, wantCode: 2, wantErr: "not an instance id"},
		{args: []string{"purge", "."}, wantCode: 2, wantErr: `"." is not an instance id`},
		{args: []string{"purge", ".."}, wantCode: 2, wantErr: "not an instance id"},
		{args: []string{"purge", ""}, wantCode: 2, wantErr: "purge needs an instance id; got an empty one"},
		{args: []string{"raise", "..", "complete"}, wantCode: 2, wantErr: `".." is not an instance id`},
		{args: []string{"raise", "ids-00000", ".."}, wantCode: 2, wantErr: `event name ".." must be 1 to 64 letters`},
		{args: []string{"start", "--job-id", "j", "--id", "bad.id"}, wantCode: 2, wantErr: `--id "bad.id" is not an instance id`},
		{args: []string{"purge", "ids-00001"}, wantOut: `"instancesDeleted": 1`},
		{args: []string{"status", "ids-00001"}, wantCode: exitNotFound, wantErr: "HTTP 404"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := runCLI(context.Background(), rt.url(), tt.args...)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", res.code, tt.wantCode, res.stderr)
			}
			if !strings.Contains(res.stdout, tt.wantOut) {
				t.Errorf("stdout %q does not contain %q", res.stdout, tt.wantOut)
			}
			if !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", res.stderr, tt.wantErr)
			}
		})
	}
}

// TestRequestPaths checks the paths the commands request under a base URL
// with a stage path: each segment escaped once, nothing resolved away.
func TestRequestPaths(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.RequestURI)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodDelete {
			// What the API answers a purge.
			w.Write([]byte(`{"instancesDeleted":1}`))
			return
		}
		if strings.Contains(r.URL.Path, "/raiseEvent/") {
			w.Write([]byte(`{"instanceId":"x","eventName":"e"}`))
			return
		}
		w.Write([]byte(`{"instanceId":"x","runtimeStatus":"Completed","output":{"final_status":"Completed"}}`))
	}))
	defer srv.Close()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"status", "abc_-1"}, "GET /v1/monitors/abc_-1"},
		{[]string{"watch", "abc"}, "GET /v1/monitors/abc"},
		{[]string{"terminate", "abc", "--reason", "no longer needed"}, "POST /v1/monitors/abc/terminate?reason=no+longer+needed"},
		{[]string{"purge", "abc"}, "DELETE /v1/monitors/abc"},
		{[]string{"raise", "abc", "set-Interval_2"}, "POST /v1/monitors/abc/raiseEvent/set-Interval_2"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			res := runCLI(context.Background(), srv.URL+"/v1/", tt.args...)
			if res.code != 0 {
				t.Fatalf("exit %d; stderr: %s", res.code, res.stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("requests %q, want [%q]", got, tt.want)
			}
		})
	}

	// The path builder escapes a segment once and refuses dot segments,
	// whatever the caller passes.
	client := &apiClient{http: srv.Client()}
	client.base, _ = parseBase(srv.URL + "/v1")
	mu.Lock()
	got = nil
	mu.Unlock()
	if _, err := client.do(context.Background(), http.MethodGet, "/monitors/a b%", nil, nil, recordShape); err != nil {
		t.Fatalf("GET a b%%: %v", err)
	}
	if want := "GET /v1/monitors/a%20b%25"; len(got) != 1 || got[0] != want {
		t.Errorf("requests %q, want [%q]", got, want)
	}
	// Characters a path may hold unescaped, but a segment may not.
	mu.Lock()
	got = nil
	mu.Unlock()
	if _, err := client.do(context.Background(), http.MethodGet, "/monitors/a;b,c?d", nil, nil, recordShape); err != nil {
		t.Fatalf("GET a;b,c?d: %v", err)
	}
	if want := "GET /v1/monitors/a%3Bb%2Cc%3Fd"; len(got) != 1 || got[0] != want {
		t.Errorf("requests %q, want [%q]", got, want)
	}
	for _, p := range []string{"/monitors/.", "/monitors/..", "/monitors//x", "/monitors/x/../y"} {
		if _, err := client.do(context.Background(), http.MethodDelete, p, nil, nil, purgedShape); err == nil {
			t.Errorf("DELETE %s: no error", p)
		}
	}
	if len(got) != 1 {
		t.Errorf("dot segments reached the server: %q", got[1:])
	}
}

// TestRedirectNotFollowed checks that an answer redirecting elsewhere (an
// endpoint that is not the API) is reported, not followed.
func TestRedirectNotFollowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ui/" {
			http.Redirect(w, r, "/ui/", http.StatusFound)
			return
		}
		w.Write([]byte("<html>dashboard</html>"))
	}))
	defer srv.Close()
	res := runCLI(context.Background(), srv.URL, "status", "abc")
	if res.code != 1 || !strings.Contains(res.stderr, "redirect") || !strings.Contains(res.stderr, "/ui/") {
		t.Errorf("exit %d, stderr %q; want 1 and a message about the redirect to /ui/", res.code, res.stderr)
	}
	// Every status from 300 on is one; a 300 has no Location to follow.
	choices := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMultipleChoices)
		w.Write([]byte(`{"instanceId":"abc","runtimeStatus":"Running"}`))
	}))
	defer choices.Close()
	res = runCLI(context.Background(), choices.URL, "status", "abc")
	// It names the request, as another server's other answers do.
	if want := `stepmon: status abc: unexpected redirect to "" from GET ` + choices.URL + `/monitors/abc: is STEPMON_ENDPOINT the monitor API? (HTTP 300)` + "\n"; res.code != 1 || res.stderr != want || res.stdout != "" {
		t.Errorf("300: exit %d, stdout %q, stderr %q; want exit 1, %q", res.code, res.stdout, res.stderr, want)
	}
}

// waitFinished waits until a monitor has a final status.
func waitFinished(t testing.TB, base, id string) {
	t.Helper()
	client := &apiClient{http: &http.Client{Timeout: 10 * time.Second}}
	client.base, _ = parseBase(base)
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec, _, err := client.getRecord(context.Background(), id)
		if err == nil && rec.RuntimeStatus.Final() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not finish: %+v, %v", id, rec, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
