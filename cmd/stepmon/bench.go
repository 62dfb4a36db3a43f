package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepmon/stepmon/internal/local"
	"github.com/stepmon/stepmon/internal/monitor"
)

// runBench is the hidden "stepmon bench" command behind
// scripts/local-bench.sh and docs/benchmarks-local.md.
func runBench(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usageError("usage: stepmon bench load|fill [flags]")
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		// Asked for, the help is the output, as for asl.
		fmt.Fprint(c.stdout, `Usage: stepmon bench load|fill [flags]

Load benchmarks of the local runtime (docs/benchmarks-local.md): "bench
load" runs monitors polling a local target and reports throughput, timer
lateness, CPU and memory; "bench fill" starts monitors against a running
service and leaves them pending, for the recovery benchmark. See "stepmon
bench load -h" and "stepmon bench fill -h" for their flags.
`)
		return flag.ErrHelp
	}
	switch args[0] {
	case "load":
		return benchLoad(ctx, c, args[1:])
	case "fill":
		return benchFill(ctx, c, args[1:])
	}
	return usageError("unknown bench %q: want load or fill", args[0])
}

// benchLoad runs the service in this process with N monitors polling a
// local HTTP target and reports throughput, timer lateness, CPU and memory.
func benchLoad(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "bench load", "[flags]", `Runs N monitors polling a local HTTP job target every second for a while
and reports checks/s, timer lateness, CPU, peak RSS and memory per waiting
monitor (measured in this process: the service and the target together).`)
	n := fs.Int("monitors", 1000, "number of monitors")
	dur := new(time.Minute)
	fs.Var((*durationValue)(dur), "duration", "measurement window, after all monitors have started: a `duration` (1m) or whole seconds (60)")
	interval := fs.Int("interval", 1, "polling interval in seconds")
	data := fs.String("data", "", "data directory, new or empty (default: a temporary one, removed after)")
	conc := fs.Int("concurrency", 32, "concurrent start requests")
	waitMem := fs.Int("idle-monitors", 0, "also measure memory per waiting monitor with this many monitors on a 1 h interval (0: skip)")
	profDir := fs.String("profile", "", "write CPU, block and mutex profiles of the measurement window to this directory (go tool pprof -top FILE)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := benchFlagsValid("bench load", pos, *n, *interval, *conc); err != nil {
		return err
	}
	if *waitMem < 0 {
		return usageError("bench load: --idle-monitors must not be negative")
	}
	if *profDir != "" {
		// Before the monitors start, not after a minute of them.
		if err := checkWritableDir(*profDir); err != nil {
			return fmt.Errorf("bench load: --profile: %w", err)
		}
	}
	dir, removeDir, err := benchDataDir(*data)
	if err != nil {
		return err
	}
	defer removeDir()

	tgt := newBenchTarget(time.Duration(*interval) * time.Second)
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	tsrv := &http.Server{Handler: tgt}
	go tsrv.Serve(tl)
	defer tsrv.Close()
	targetURL := "http://" + tl.Addr().String()

	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tuneGC(c.getenv)
	rt, err := local.New(ctx, local.Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: logger})
	if err != nil {
		return err
	}
	svc := serveInBackground(ctx, rt)
	ctx = svc.ctx
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rt.Shutdown(sctx)
		<-svc.errc
	}()
	client, err := loopbackClient(ctx, rt.URL())
	if err != nil {
		return err
	}

	if *waitMem > 0 {
		if err := measureIdle(ctx, c.stdout, client, *waitMem, *conc, targetURL); err != nil {
			return svc.explain(err)
		}
	}

	began := time.Now()
	if err := startMonitors(ctx, client, *n, *conc, func(i int) map[string]any {
		return benchBody(fmt.Sprintf("load-%06d", i), targetURL, *interval)
	}); err != nil {
		return svc.explain(err)
	}
	startTook := time.Since(began)
	// Skip the first checks (dispatched at once on start) and the
	// settling.
	time.Sleep(time.Duration(*interval)*time.Second + 2*time.Second)
	tgt.reset()
	var prof *benchProfile
	if *profDir != "" {
		if prof, err = startBenchProfile(*profDir); err != nil {
			return err
		}
	}
	dbFile := filepath.Join(dir, local.DatabaseFile)
	cpu0, alloc0, disk0 := cpuTime(), readGCStats(), fileSize(dbFile)
	t0 := time.Now()
	// A long window shows, minute by minute, whether the runtime keeps up.
	minute := time.NewTicker(time.Minute)
	defer minute.Stop()
	end := time.After(*dur)
	mark := benchMark{at: t0, cpu: cpu0}
wait:
	for {
		select {
		case <-end:
			break wait
		case now := <-minute.C:
			var line string
			mark, line = tgt.sinceMark(mark, now, cpuTime())
			fmt.Fprintf(c.stdout, "  after %v: %s\n", now.Sub(t0).Round(time.Second), line)
		case <-ctx.Done():
			return svc.explain(ctx.Err())
		}
	}
	elapsed := time.Since(t0)
	cpu, alloc := cpuTime()-cpu0, readGCStats().since(alloc0)
	disk := fileSize(dbFile) - disk0
	if prof != nil {
		if err := prof.stop(); err != nil {
			return err
		}
	}
	checks, late := tgt.snapshot()
	slices.Sort(late)
	fmt.Fprintf(c.stdout, "monitors %d, interval %d s: started in %v (%.0f starts/s)\n", *n, *interval, startTook.Round(time.Millisecond), float64(*n)/startTook.Seconds())
	// A monitor waits one interval after each check, so it checks a
	// little less often than every interval: the schedule allows
	// N/interval checks per second at most.
	fmt.Fprintf(c.stdout, "  window %v: %d checks = %.1f checks/s (the schedule allows %.1f: N/interval)\n",
		elapsed.Round(time.Millisecond), checks, float64(checks)/elapsed.Seconds(), float64(*n)/float64(*interval))
	if len(late) > 0 {
		fmt.Fprintf(c.stdout, "  lateness (check arrival at the target - previous arrival - interval): p50 %v  p99 %v  max %v  (%d samples)\n",
			pct(late, 0.50), pct(late, 0.99), pct(late, 1), len(late))
	}
	perCheck, allocs := "", ""
	if checks > 0 {
		perCheck = fmt.Sprintf("; %.3f ms per check", cpu.Seconds()*1000/float64(checks))
		// The engine's database grows by the history (its WAL is copied
		// into it every second, so the figure lags by about a second).
		allocs = fmt.Sprintf("  Go allocations %.1f KiB and %.0f objects per check, %d GC cycles; %s grew %.1f MiB = %.0f bytes per check\n",
			float64(alloc.bytes)/1024/float64(checks), float64(alloc.objects)/float64(checks), alloc.cycles,
			local.DatabaseFile, float64(disk)/(1<<20), float64(disk)/float64(checks))
	}
	fmt.Fprintf(c.stdout, "  CPU %.2f cores (%v in %v%s), peak RSS %.1f MiB, Go heap in use %.1f MiB, goroutines %d\n",
		cpu.Seconds()/elapsed.Seconds(), cpu.Round(time.Millisecond), elapsed.Round(time.Millisecond), perCheck,
		float64(peakRSS())/(1<<20), float64(heapInUse())/(1<<20), runtime.NumGoroutine())
	fmt.Fprint(c.stdout, allocs)
	return nil
}

// benchDataDir returns the data directory of bench load: data, which
// must hold no earlier run, or a temporary one that remove removes.
func benchDataDir(data string) (dir string, remove func(), err error) {
	if data != "" {
		// An earlier run's monitors would be re-armed beside these,
		// polling a target that is gone, and their ids collide (409).
		if fi, err := os.Stat(filepath.Join(data, local.DatabaseFile)); err == nil && fi.Size() > 0 {
			return "", nil, usageError("bench load: --data %s holds an earlier run (%s): its monitors would run beside these; give a new or empty directory", data, local.DatabaseFile)
		}
		return data, func() {}, nil
	}
	d, err := os.MkdirTemp("", "stepmon-bench-")
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}

// measureIdle starts n monitors on a 1 h interval, conc at a time, and
// reports the Go heap each takes while it waits.
func measureIdle(ctx context.Context, stdout io.Writer, client *apiClient, n, conc int, targetURL string) error {
	before := heapInUse()
	began := time.Now()
	if err := startMonitors(ctx, client, n, conc, func(i int) map[string]any {
		return benchBody(fmt.Sprintf("idle-%06d", i), targetURL, 3600)
	}); err != nil {
		return err
	}
	took := time.Since(began)
	time.Sleep(2 * time.Second) // let the first checks finish
	grew := int64(heapInUse()) - int64(before)
	fmt.Fprintf(stdout, "idle monitors: %d started in %v (%.0f starts/s); Go heap in use %+.1f MiB = %.0f bytes per waiting monitor\n",
		n, took.Round(time.Millisecond), float64(n)/took.Seconds(), float64(grew)/(1<<20), float64(grew)/float64(n))
	return nil
}

// fileSize returns the size of the file at path, 0 if it cannot be read.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// gcStats are the process's cumulative heap allocations and GC cycles:
// what the collector's share of the CPU grows with.
type gcStats struct{ bytes, objects, cycles uint64 }

func readGCStats() gcStats {
	samples := []metrics.Sample{
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/gc/heap/allocs:objects"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	metrics.Read(samples)
	return gcStats{samples[0].Value.Uint64(), samples[1].Value.Uint64(), samples[2].Value.Uint64()}
}

// since is the difference from the earlier reading s0.
func (s gcStats) since(s0 gcStats) gcStats {
	return gcStats{s.bytes - s0.bytes, s.objects - s0.objects, s.cycles - s0.cycles}
}

func benchBody(id, targetURL string, interval int) map[string]any {
	return map[string]any{
		"instanceId": id,
		"target": map[string]any{"type": "http", "url": targetURL + "/job/" + id, "statusPath": "$.status",
			"doneValues": []string{"Completed"}, "failedValues": []string{"Failed"}},
		"pollingIntervalSeconds": interval,
		"timeoutSeconds":         86400,
	}
}

// benchFill starts N monitors against a running service (for the recovery
// benchmark).
func benchFill(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "bench fill", "[flags]", `Starts N simulated-job monitors with a long polling interval against a
running service, to leave them pending.`)
	var cf clientFlags
	cf.register(fs, c)
	n := fs.Int("monitors", 100000, "number of monitors")
	interval := fs.Int("interval", 3600, "polling interval in seconds")
	conc := fs.Int("concurrency", 32, "concurrent start requests")
	prefix := fs.String("prefix", "fill", "instance id prefix")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := benchFlagsValid("bench fill", pos, *n, *interval, *conc); err != nil {
		return err
	}
	client, err := cf.newClient(ctx)
	if err != nil {
		return err
	}
	began := time.Now()
	err = startMonitors(ctx, client, *n, *conc, func(i int) map[string]any {
		return map[string]any{
			"instanceId":             fmt.Sprintf("%s-%07d", *prefix, i),
			"target":                 map[string]any{"type": "simulated", "completeAfterChecks": 1000},
			"pollingIntervalSeconds": *interval,
			"timeoutSeconds":         7 * 86400,
		}
	})
	if err != nil {
		// Not all of them started: the error says which one failed.
		return err
	}
	took := time.Since(began)
	fmt.Fprintf(c.stdout, "started %d monitors in %v (%.0f starts/s)\n", *n, took.Round(time.Millisecond), float64(*n)/took.Seconds())
	return nil
}

// benchFlagsValid checks the flags that bench load and bench fill (cmd)
// share: arguments, a count of monitors or start requests that would
// start none, and a polling interval the API refuses (after the service
// started, for bench load).
func benchFlagsValid(cmd string, pos []string, n, interval, conc int) error {
	switch {
	case len(pos) > 0:
		return usageError("%s takes no arguments; got %q", cmd, pos)
	case n < 1:
		return usageError("%s: --monitors must be at least 1", cmd)
	case interval < monitor.MinIntervalSeconds || interval > monitor.MaxIntervalSeconds:
		return usageError("%s: --interval must be between %d and %d seconds", cmd, monitor.MinIntervalSeconds, monitor.MaxIntervalSeconds)
	case conc < 1:
		return usageError("%s: --concurrency must be at least 1", cmd)
	}
	return nil
}

// startMonitors POSTs n start requests through client with conc workers.
// The first failure stops them all: requests in flight are cancelled.
func startMonitors(ctx context.Context, client *apiClient, n, conc int, body func(i int) map[string]any) error {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conc
	client.http.Transport = tr
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	fail := func(err error) {
		once.Do(func() {
			firstErr = err
			cancel()
		})
	}
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				b, err := json.Marshal(body(i))
				if err != nil {
					fail(fmt.Errorf("start %d: %w", i, err))
					return
				}
				resp, err := client.do(ctx, http.MethodPost, "/monitors", nil, b, startedShape)
				if err != nil {
					fail(fmt.Errorf("start %d: %w", i, err))
					return
				}
				if resp.Status != http.StatusAccepted {
					fail(fmt.Errorf("start %d: HTTP %d, want %d: %s", i, resp.Status, http.StatusAccepted, resp.Body))
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// loopbackClient is a client of the service at base (a local one, such
// as bench load's): no API key, no signing.
func loopbackClient(ctx context.Context, base string) (*apiClient, error) {
	cf := clientFlags{endpoint: base, timeout: 60 * time.Second}
	return cf.newClient(ctx)
}

// benchTarget is a job status endpoint that is always Running and records
// how late each check arrives.
type benchTarget struct {
	interval time.Duration
	mu       sync.Mutex
	last     map[string]time.Time
	late     []time.Duration
	checks   int
}

func newBenchTarget(interval time.Duration) *benchTarget {
	return &benchTarget{interval: interval, last: map[string]time.Time{}}
}

func (t *benchTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	id := r.URL.Path
	t.mu.Lock()
	if prev, ok := t.last[id]; ok {
		// The Wait state waits one interval after each check: lateness
		// is how much longer than that the round took (the check's own
		// time, the commits, the timer and the dispatch).
		t.late = append(t.late, now.Sub(prev.Add(t.interval)))
	}
	t.last[id] = now
	t.checks++
	t.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"Running"}`))
}

func (t *benchTarget) reset() {
	t.mu.Lock()
	t.late = t.late[:0]
	t.checks = 0
	t.mu.Unlock()
}

// benchMark is where the previous minute's figures ended.
type benchMark struct {
	at            time.Time
	cpu           time.Duration // the process's CPU time
	checks, lates int
}

// sinceMark describes the checks since m (checks/s, lateness p50 and
// p99, CPU per check), now and cpu being the time and the process's CPU
// time, and returns the mark for the next call.
func (t *benchTarget) sinceMark(m benchMark, now time.Time, cpu time.Duration) (benchMark, string) {
	t.mu.Lock()
	next := benchMark{at: now, cpu: cpu, checks: t.checks, lates: len(t.late)}
	late := slices.Clone(t.late[m.lates:])
	t.mu.Unlock()
	slices.Sort(late)
	checks := next.checks - m.checks
	line := fmt.Sprintf("%.1f checks/s, p50 %v, p99 %v", float64(checks)/now.Sub(m.at).Seconds(), pct(late, 0.50), pct(late, 0.99))
	if checks > 0 {
		line += fmt.Sprintf(", %.3f ms of CPU per check", (cpu-m.cpu).Seconds()*1000/float64(checks))
	}
	return next, line
}

func (t *benchTarget) snapshot() (int, []time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checks, slices.Clone(t.late)
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i].Round(100 * time.Microsecond)
}

// peakRSS returns VmHWM of this process in bytes (Linux).
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
