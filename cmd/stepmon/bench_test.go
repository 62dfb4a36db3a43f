package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Each minute's line describes only the checks since the previous one.
func TestBenchTargetSinceMark(t *testing.T) {
	tgt := newBenchTarget(time.Second)
	t0 := time.Unix(1000, 0)
	m := benchMark{at: t0}
	add := func(lates ...time.Duration) {
		tgt.mu.Lock()
		tgt.late = append(tgt.late, lates...)
		tgt.checks += len(lates)
		tgt.mu.Unlock()
	}
	ms := time.Millisecond
	add(5*ms, 1*ms, 3*ms, 2*ms)
	m, line := tgt.sinceMark(m, t0.Add(2*time.Second), 2*ms)
	if want := "2.0 checks/s, p50 2ms, p99 3ms, 0.500 ms of CPU per check"; line != want {
		t.Errorf("first minute: %q, want %q", line, want)
	}
	add(100*ms, 300*ms)
	m, line = tgt.sinceMark(m, t0.Add(4*time.Second), 5*ms)
	if want := "1.0 checks/s, p50 100ms, p99 100ms, 1.500 ms of CPU per check"; line != want {
		t.Errorf("second minute: %q, want %q", line, want)
	}
	if _, line = tgt.sinceMark(m, t0.Add(5*time.Second), 6*ms); line != "0.0 checks/s, p50 0s, p99 0s" {
		t.Errorf("a minute without checks: %q", line)
	}
}

// bench fill sends its start requests as start does: with the API key,
// signed with --sigv4, and within --http-timeout.
func TestBenchFillClientFlags(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	type seen struct{ key, auth string }
	var mu sync.Mutex
	var got []seen
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.Header.Get("x-api-key"), r.Header.Get("Authorization")})
		mu.Unlock()
		if r.Header.Get("x-api-key") == "slow" {
			<-release
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"id":"x","statusQueryGetUri":"http://example.test/monitors/x"}`))
	}))
	defer srv.Close()
	defer close(release)

	tests := []struct {
		name     string
		args     []string
		wantKey  string
		signed   bool
		wantCode int
		wantErr  string
	}{
		{name: "api key", args: []string{"--api-key", "k123"}, wantKey: "k123"},
		{name: "sigv4", args: []string{"--sigv4", "--region", "eu-west-1"}, signed: true},
		{name: "http timeout", args: []string{"--api-key", "slow", "--http-timeout", "100ms"}, wantKey: "slow",
			wantCode: 1, wantErr: "timed out after 100ms (--http-timeout; give a longer one for a slow endpoint)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			args := append([]string{"bench", "fill", "--monitors", "2", "--concurrency", "1", "--endpoint", srv.URL}, tt.args...)
			res := runCLI(t.Context(), "", args...)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", res.code, tt.wantCode, res.stderr)
			}
			if tt.wantErr != "" && !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("stderr %q does not say %q", res.stderr, tt.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) == 0 {
				t.Fatal("no request reached the server")
			}
			for i, r := range got {
				if r.key != tt.wantKey {
					t.Errorf("request %d: x-api-key %q, want %q", i, r.key, tt.wantKey)
				}
				if signed := strings.HasPrefix(r.auth, "AWS4-HMAC-SHA256 "); signed != tt.signed {
					t.Errorf("request %d: signed %v (Authorization %q), want %v", i, signed, r.auth, tt.signed)
				}
				if tt.signed && !strings.Contains(r.auth, "/eu-west-1/execute-api/") {
					t.Errorf("request %d: Authorization %q is not for eu-west-1 execute-api", i, r.auth)
				}
			}
		})
	}
}

// After the first failed start, bench fill stops: the other workers'
// requests in flight are cancelled and they start no more.
func TestBenchFillStopsAtFirstError(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if requests.Add(1) == 1 {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message":"Forbidden"}`))
			return
		}
		// The others are slow, so that they are still in flight when the
		// first fails.
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"id":"x","statusQueryGetUri":"http://example.test/monitors/x"}`))
	}))
	defer srv.Close()
	const n, conc = 200, 8
	res := runCLI(t.Context(), "", "bench", "fill", "--monitors", strconv.Itoa(n), "--concurrency", strconv.Itoa(conc), "--endpoint", srv.URL)
	if res.code != 1 || !strings.Contains(res.stderr, "Forbidden") {
		t.Fatalf("exit %d, stderr %q; want 1 and the API's message", res.code, res.stderr)
	}
	// It does not claim to have started the monitors it did not.
	if strings.Contains(res.stdout, "started") {
		t.Errorf("stdout %q after the first start failed, want nothing", res.stdout)
	}
	// Each worker has at most one request in flight when the first
	// answer arrives.
	if got := requests.Load(); got > conc {
		t.Errorf("the server saw %d requests, want at most %d", got, conc)
	}
}

// A profile that cannot be written says so once per file, without the
// prefix twice.
func TestBenchProfileStopError(t *testing.T) {
	dir := t.TempDir()
	p, err := startBenchProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	err = p.stop()
	if err == nil {
		t.Fatal("stop with the profile directory gone succeeded")
	}
	msg := err.Error()
	for _, name := range []string{"block", "mutex", "goroutine", "allocs"} {
		if want := "bench: profile " + name + ":"; !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "bench: profile: bench: profile") {
		t.Errorf("error %q repeats its prefix", msg)
	}
}
