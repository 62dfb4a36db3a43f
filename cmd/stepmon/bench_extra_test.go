package main

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBenchTargetLateness pins what the bench target records: every
// request is a check, a job's first check has no lateness, and a later
// one's lateness is the time since the job's previous check minus the
// interval (so, with an interval of an hour, a little over minus an
// hour). reset forgets the checks and the lateness but not when each job
// was last checked.
func TestBenchTargetLateness(t *testing.T) {
	const interval = time.Hour
	tgt := newBenchTarget(interval)
	get := func(path string) {
		t.Helper()
		rec := httptest.NewRecorder()
		tgt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || rec.Body.String() != `{"status":"Running"}` || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %d %q (%s), want 200 and a Running job as JSON", path, rec.Code, rec.Body, rec.Header().Get("Content-Type"))
		}
	}
	get("/job/a")
	get("/job/b")
	if checks, late := tgt.snapshot(); checks != 2 || len(late) != 0 {
		t.Fatalf("after two first checks: %d checks, lateness %v; want 2 checks and no lateness", checks, late)
	}
	get("/job/a")
	checks, late := tgt.snapshot()
	if checks != 3 || len(late) != 1 {
		t.Fatalf("after a second check of a: %d checks, lateness %v; want 3 checks and one lateness", checks, late)
	}
	if late[0] >= 0 || late[0] < -interval {
		t.Errorf("lateness of a check a moment after the previous one = %v, want between -%v and 0", late[0], interval)
	}
	tgt.reset()
	if checks, late := tgt.snapshot(); checks != 0 || len(late) != 0 {
		t.Fatalf("after reset: %d checks, lateness %v; want none", checks, late)
	}
	get("/job/b")
	if checks, late := tgt.snapshot(); checks != 1 || len(late) != 1 {
		t.Errorf("a check of b after reset: %d checks, lateness %v; want 1 check with its lateness", checks, late)
	}
}

// TestBenchPct pins the percentile of a sorted sample: the entry at p of the
// way from the first to the last, rounded to 100 µs, and 0 for no
// samples.
func TestBenchPct(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 0.5, 0},
		{[]time.Duration{7 * ms}, 0.99, 7 * ms},
		{[]time.Duration{1 * ms, 2 * ms, 3 * ms}, 0.5, 2 * ms},
		{[]time.Duration{1 * ms, 2 * ms, 3 * ms}, 1, 3 * ms},
		{[]time.Duration{1 * ms, 2 * ms, 3 * ms, 4 * ms, 5 * ms}, 0.99, 4 * ms},
		{[]time.Duration{1234567 * time.Nanosecond}, 0.5, 1200 * time.Microsecond},
		{[]time.Duration{1250 * time.Microsecond}, 0.5, 1300 * time.Microsecond},
	}
	for _, tt := range tests {
		if got := pct(tt.sorted, tt.p); got != tt.want {
			t.Errorf("pct(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
}

// benchSink keeps the allocations of TestBenchGCStats alive until they are
// counted.
var benchSink []*[64]byte

// TestBenchGCStats pins the allocation figures of bench load: since subtracts
// each count from its own, and readGCStats reads the bytes, the objects
// and the GC cycles into their own fields.
func TestBenchGCStats(t *testing.T) {
	if got, want := (gcStats{100, 20, 3}).since(gcStats{40, 5, 1}), (gcStats{60, 15, 2}); got != want {
		t.Errorf("since = %+v, want %+v", got, want)
	}
	const n = 10000
	s0 := readGCStats()
	benchSink = make([]*[64]byte, n)
	for i := range benchSink {
		benchSink[i] = new([64]byte)
	}
	runtime.GC()
	d := readGCStats().since(s0)
	benchSink = nil
	if d.objects < n || d.bytes < 64*n || d.cycles < 1 || d.cycles >= n {
		t.Errorf("after %d allocations of 64 bytes and a GC: %+v; want at least %d objects, %d bytes and a few GC cycles", n, d, n, 64*n)
	}
}

// procStatusKiB reads the field of /proc/self/status, in KiB.
func procStatusKiB(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// TestBenchPeakRSS pins that peakRSS reports the process's peak resident
// set in bytes: at least the resident set before the call and at most
// the peak virtual size after it.
func TestBenchPeakRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peakRSS reads /proc/self/status")
	}
	low := procStatusKiB(t, "VmRSS") << 10
	got := peakRSS()
	high := procStatusKiB(t, "VmPeak") << 10
	if got < low || got > high {
		t.Errorf("peakRSS() = %d bytes, want between the resident set %d and the peak virtual size %d", got, low, high)
	}
}

// TestBenchProfileFiles pins what --profile writes: its directory is
// created, the profiles of the window and allocs-start.pprof are written
// and not empty, and mutex profiling is on during the window and off
// after it.
func TestBenchProfileFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "profiles")
	p, err := startBenchProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := runtime.SetMutexProfileFraction(-1); got != 10 {
		t.Errorf("mutex profile fraction during the window = %d, want 10", got)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	if got := runtime.SetMutexProfileFraction(-1); got != 0 {
		t.Errorf("mutex profile fraction after the window = %d, want 0", got)
	}
	for _, name := range []string{"cpu", "block", "mutex", "goroutine", "allocs", "allocs-start"} {
		fi, err := os.Stat(filepath.Join(dir, name+".pprof"))
		if err != nil || fi.Size() == 0 {
			t.Errorf("%s.pprof: %v, want a profile", name, err)
		}
	}
}

// TestBenchFillRequests pins the start requests of bench fill: exactly
// --monitors of them, numbered from 0 after --prefix on seven digits,
// simulated jobs polled every --interval seconds for a week, and a line
// saying how many were started; the prefix and interval have defaults.
func TestBenchFillRequests(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("request body %q: %v", b, err)
		}
		mu.Lock()
		bodies = append(bodies, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"id":"x","statusQueryGetUri":"http://example.test/monitors/x"}`))
	}))
	defer srv.Close()
	tests := []struct {
		name         string
		args         []string
		wantIDs      []string
		wantInterval float64
	}{
		{"flags", []string{"--monitors", "3", "--prefix", "p", "--interval", "120", "--concurrency", "2"},
			[]string{"p-0000000", "p-0000001", "p-0000002"}, 120},
		{"defaults", []string{"--monitors", "2"}, []string{"fill-0000000", "fill-0000001"}, 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			bodies = nil
			mu.Unlock()
			res := runCLI(t.Context(), "", append([]string{"bench", "fill", "--endpoint", srv.URL}, tt.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d, stderr %q; want 0", res.code, res.stderr)
			}
			if want := "started " + strconv.Itoa(len(tt.wantIDs)) + " monitors in "; !strings.HasPrefix(res.stdout, want) {
				t.Errorf("stdout %q, want it to start with %q", res.stdout, want)
			}
			mu.Lock()
			defer mu.Unlock()
			var ids []string
			for _, b := range bodies {
				ids = append(ids, b["instanceId"].(string))
				target, _ := b["target"].(map[string]any)
				if b["pollingIntervalSeconds"] != tt.wantInterval || b["timeoutSeconds"] != 7*86400.0 ||
					target["type"] != "simulated" || target["completeAfterChecks"] != 1000.0 {
					t.Errorf("request %v, want a simulated job of 1000 checks every %v s for a week", b, tt.wantInterval)
				}
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("started %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

// TestBenchCommandLine pins the exit statuses of the bench command
// itself: its help is the output (0), and no subcommand or an unknown
// one is a usage error (2).
func TestBenchCommandLine(t *testing.T) {
	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{[]string{"bench", "help"}, 0, "Usage: stepmon bench load|fill", ""},
		{[]string{"bench"}, 2, "", "usage: stepmon bench load|fill"},
		{[]string{"bench", "unload"}, 2, "", `unknown bench "unload"`},
		// Values that would measure nothing (no monitors, no window, no
		// start request) or that the API refuses only after the service
		// started are usage errors, as are arguments.
		{[]string{"bench", "load", "--duration", "1s", "--monitors", "0"}, 2, "", "bench load: --monitors must be at least 1\n"},
		{[]string{"bench", "load", "--duration", "1s", "--monitors", "-1"}, 2, "", "bench load: --monitors must be at least 1\n"},
		{[]string{"bench", "load", "--monitors", "1", "--duration", "0"}, 2, "", "bench load: --duration \"0\": takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; it must be more than zero; run 'stepmon bench load -h' for its flags\n"},
		{[]string{"bench", "load", "--monitors", "1", "--duration", "-1s"}, 2, "", "bench load: --duration \"-1s\": takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -1s is negative; run 'stepmon bench load -h' for its flags\n"},
		{[]string{"bench", "load", "--monitors", "1", "--duration", "1m30"}, 2, "", "bench load: --duration \"1m30\": takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; run 'stepmon bench load -h' for its flags\n"},
		{[]string{"bench", "load", "--monitors", "1", "--duration", "1s", "--interval", "0"}, 2, "", "bench load: --interval must be between 1 and 86400 seconds\n"},
		{[]string{"bench", "load", "--monitors", "1", "--duration", "1s", "--concurrency", "0"}, 2, "", "bench load: --concurrency must be at least 1\n"},
		{[]string{"bench", "load", "--monitors", "1", "--duration", "1s", "--idle-monitors", "-1"}, 2, "", "bench load: --idle-monitors must not be negative\n"},
		{[]string{"bench", "load", "--monitors", "1", "--duration", "1s", "100"}, 2, "", `bench load takes no arguments; got ["100"]`},
		{[]string{"bench", "fill", "--monitors", "0"}, 2, "", "bench fill: --monitors must be at least 1\n"},
		{[]string{"bench", "fill", "--interval", "86401"}, 2, "", "bench fill: --interval must be between 1 and 86400 seconds\n"},
		{[]string{"bench", "fill", "--concurrency", "-1"}, 2, "", "bench fill: --concurrency must be at least 1\n"},
		{[]string{"bench", "fill", "100"}, 2, "", `bench fill takes no arguments; got ["100"]`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := runCLI(t.Context(), "http://127.0.0.1:1", tt.args...)
			if res.code != tt.wantCode || !strings.Contains(res.stdout, tt.wantStdout) || !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout naming %q, stderr naming %q",
					res.code, res.stdout, res.stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

// TestBenchLoad runs bench load briefly, with idle monitors and
// profiles, and pins its report: the idle monitors' line, the start and
// window lines with the schedule's N/interval and the checks per second
// of the window, lateness, CPU and allocations per check, and the
// profiles in the --profile directory.
func TestBenchLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("bench load measures for seconds")
	}
	gc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gc)
	t.Cleanup(func() { debug.SetGCPercent(gc) }) // bench load tunes the collector
	prof := filepath.Join(t.TempDir(), "prof")
	res := runCLI(t.Context(), "", "bench", "load", "--monitors", "4", "--interval", "2", "--duration", "3s",
		"--idle-monitors", "2", "--profile", prof, "--data", t.TempDir())
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	lines := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^idle monitors: 2 started in \S+ \(\d+ starts/s\); Go heap in use [-+]\d+\.\d MiB = -?\d+ bytes per waiting monitor$`),
		regexp.MustCompile(`(?m)^monitors 4, interval 2 s: started in \S+ \(\d+ starts/s\)$`),
		regexp.MustCompile(`(?m)^  lateness \(check arrival at the target - previous arrival - interval\): p50 \S+  p99 \S+  max \S+  \([1-9]\d* samples\)$`),
		regexp.MustCompile(`(?m)^  CPU \d+\.\d\d cores \(\S+ in \S+; \d+\.\d{3} ms per check\), peak RSS \d+\.\d MiB, Go heap in use \d+\.\d MiB, goroutines \d+$`),
		regexp.MustCompile(`(?m)^  Go allocations \d+\.\d KiB and \d+ objects per check, \d+ GC cycles; stepmon\.db grew -?\d+\.\d MiB = -?\d+ bytes per check$`),
	}
	for _, re := range lines {
		if !re.MatchString(res.stdout) {
			t.Errorf("stdout has no line matching %s:\n%s", re, res.stdout)
		}
	}
	// The maximum is rounded as the percentiles are, so that it is not
	// shown below a p99 rounded up (p99 11ms, max 10.984183ms).
	if m := regexp.MustCompile(`p99 (\S+)  max (\S+)  `).FindStringSubmatch(res.stdout); m != nil {
		p99, err1 := time.ParseDuration(m[1])
		highest, err2 := time.ParseDuration(m[2])
		if err1 != nil || err2 != nil || highest != highest.Round(100*time.Microsecond) || highest < p99 {
			t.Errorf("lateness p99 %s, max %s: want the max rounded to 100µs and at least the p99", m[1], m[2])
		}
	}
	window := regexp.MustCompile(`(?m)^  window (\S+): ([1-9]\d*) checks = (\d+\.\d) checks/s \(the schedule allows 2\.0: N/interval\)$`).FindStringSubmatch(res.stdout)
	if window == nil {
		t.Fatalf("stdout has no window line with the schedule's 4 monitors / 2 s:\n%s", res.stdout)
	}
	elapsed, err1 := time.ParseDuration(window[1])
	checks, err2 := strconv.Atoi(window[2])
	rate, err3 := strconv.ParseFloat(window[3], 64)
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("window line %q: %v %v %v", window[0], err1, err2, err3)
	}
	if want := float64(checks) / elapsed.Seconds(); math.Abs(rate-want) > 0.051 {
		t.Errorf("window line %q: %v checks/s, want %d checks / %v = %.3f", window[0], rate, checks, elapsed, want)
	}
	for _, name := range []string{"cpu", "block", "mutex", "goroutine", "allocs", "allocs-start"} {
		if _, err := os.Stat(filepath.Join(prof, name+".pprof")); err != nil {
			t.Errorf("--profile: %v", err)
		}
	}
}

// TestBenchFillWantsAccepted pins that bench fill takes only 202 Accepted
// for a started monitor: another success status stops it with exit
// status 1 and says what came back.
func TestBenchFillWantsAccepted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"x","statusQueryGetUri":"http://example.test/monitors/x"}`))
	}))
	defer srv.Close()
	res := runCLI(t.Context(), "", "bench", "fill", "--monitors", "1", "--endpoint", srv.URL)
	if res.code != 1 || !strings.Contains(res.stderr, "HTTP 200, want 202") {
		t.Errorf("exit %d, stderr %q; want 1 and HTTP 200, want 202", res.code, res.stderr)
	}
}

// TestBenchHelpDefaults pins the defaults that bench load -h and bench
// fill -h state.
func TestBenchHelpDefaults(t *testing.T) {
	tests := []struct {
		cmd  string
		want []string
	}{
		{"load", []string{"number of monitors (default 1000)", "measurement window, after all monitors have started: a duration (1m) or whole seconds (60) (default 1m)",
			"polling interval in seconds (default 1)", "concurrent start requests (default 32)"}},
		{"fill", []string{"number of monitors (default 100000)", "polling interval in seconds (default 3600)",
			"concurrent start requests (default 32)", `instance id prefix (default "fill")`}},
	}
	for _, tt := range tests {
		res := runCLI(t.Context(), "http://127.0.0.1:1", "bench", tt.cmd, "-h")
		for _, w := range tt.want {
			if res.code != 0 || !strings.Contains(res.stdout, w) {
				t.Errorf("bench %s -h: exit %d, want 0 and %q in:\n%s", tt.cmd, res.code, w, res.stdout)
			}
		}
	}
}

// bench load --data refuses a directory that holds an earlier run's
// database before it starts anything: those monitors would be re-armed
// beside the new ones, and the new ones' ids are taken (409).
func TestBenchLoadRefusesAnEarlierRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stepmon.db"), []byte("an earlier run"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t.Context(), "", "bench", "load", "--monitors", "2", "--duration", "1s", "--data", dir)
	want := "stepmon: bench load: --data " + dir + " holds an earlier run (stepmon.db): its monitors would run beside these; give a new or empty directory\n"
	if res.code != exitUsage || res.stderr != want || res.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", res.code, res.stdout, res.stderr, exitUsage, want)
	}
}

// bench load --profile into a directory that cannot be made fails before
// any monitor starts (the --data directory stays empty), not after they
// have run and settled.
func TestBenchLoadProfileDirChecked(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	res := runCLI(t.Context(), "", "bench", "load", "--monitors", "2", "--duration", "1s", "--data", data, "--profile", filepath.Join(file, "prof"))
	want := "stepmon: bench load: --profile: mkdir " + file + ": not a directory\n"
	if res.code != 1 || res.stderr != want || res.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, no report, and %q", res.code, res.stdout, res.stderr, want)
	}
	if entries, _ := os.ReadDir(data); len(entries) > 0 {
		t.Errorf("the service ran first: --data holds %d entries", len(entries))
	}
}
