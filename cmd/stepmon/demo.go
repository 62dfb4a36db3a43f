package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/stepmon/stepmon/internal/local"
	"github.com/stepmon/stepmon/internal/monitor"
)

func runDemo(ctx context.Context, c *cli, args []string) (err error) {
	fs := newFlagSet(c, "demo", "[flags]",
		`Starts the whole service in this process on a free 127.0.0.1 port with a
temporary data directory, starts a job monitor on the simulated job (it
completes on its 4th check), shows its progress, prints its output and
exits: 0 when the monitor completed. The service and its data directory go
away then; with --keep it prints the URLs to look at (status, dashboard, the
Step Functions API) and serves until Ctrl-C.`)
	interval, timeout := new(int), new(int)
	*interval, *timeout = 2, 60
	fs.Var((*secondsValue)(interval), "interval", "polling interval: whole `seconds` (2) or a duration of whole seconds (2s)")
	checks := fs.Int("checks", 4, "the simulated job completes on this check")
	fs.Var((*secondsValue)(timeout), "timeout", "monitor timeout: whole `seconds` (60) or a duration of whole seconds (1m)")
	keep := fs.Bool("keep", false, "keep serving after the monitor finishes (until Ctrl-C), to look at the dashboard")
	verbose := fs.Bool("v", false, "show the service's log")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("demo takes no arguments; got %q", pos)
	}
	body, _ := json.Marshal(map[string]any{
		"instanceId":             "demo-job",
		"jobId":                  "demo-job",
		"target":                 map[string]any{"type": "simulated", "completeAfterChecks": *checks},
		"pollingIntervalSeconds": *interval,
		"timeoutSeconds":         *timeout,
	})
	if err := demoFlagsValid(body); err != nil {
		return err
	}
	// A closed standard output ("stepmon demo | head") ends the demo as
	// Ctrl-C does: with SIGPIPE ignored, the write fails instead of the
	// signal killing the process, and the data directory is removed.
	signal.Ignore(syscall.SIGPIPE)
	defer signal.Reset(syscall.SIGPIPE)
	ctx, end := context.WithCancelCause(ctx)
	defer end(nil)
	stdout := &endOnError{w: c.stdout, end: end}
	defer func() {
		if stdout.failed() {
			// Quietly, with the shell's status for SIGPIPE.
			err = &exitError{code: 128 + int(syscall.SIGPIPE), err: errReported}
		}
	}()

	logOut := io.Discard
	if *verbose {
		logOut = c.stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// Directories of earlier demos that were killed (SIGKILL) before
	// they could remove theirs.
	removed, err := removeStaleDemoDirs(os.TempDir())
	if len(removed) > 0 {
		logger.Info("demo: removed the temporary directories of earlier demos that no longer run", "dirs", removed)
	}
	if err != nil {
		logger.Warn("demo: temporary directories of earlier demos", "err", err)
	}
	tmp, err := makeDemoDir(os.TempDir())
	if err != nil {
		return fmt.Errorf("demo: a temporary data directory: %w (set %s to a writable directory)", err, tempDirVariable())
	}
	defer tmp.Remove()
	dir := tmp.Data
	tuneGC(c.getenv)
	rt, err := local.New(ctx, local.Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: logger})
	if err != nil {
		return fmt.Errorf("demo: start the service: %w", err)
	}
	svc := serveInBackground(ctx, rt)
	ctx = svc.ctx
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rt.Shutdown(sctx)
		<-svc.errc
	}()
	base := rt.URL()
	fmt.Fprintf(stdout, "stepmon demo: service running at %s (data in %s)\n", base, dir)

	client := &apiClient{http: &http.Client{Timeout: 10 * time.Second, CheckRedirect: noRedirects}}
	client.base, _ = parseBase(base)
	fmt.Fprintf(stdout, "\nPOST %s/monitors\n%s\n", base, body)
	resp, err := client.do(ctx, http.MethodPost, "/monitors", nil, body, startedShape)
	if err != nil {
		return fmt.Errorf("demo: start the monitor: %w", svc.explain(err))
	}
	fmt.Fprintf(stdout, "-> %d %s\n", resp.Status, http.StatusText(resp.Status))
	if err := writeJSON(stdout, resp.Body); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	var started struct {
		ID                string `json:"id"`
		StatusQueryGetURI string `json:"statusQueryGetUri"`
	}
	if err := json.Unmarshal(resp.Body, &started); err != nil || started.ID == "" {
		return fmt.Errorf("demo: the start answer names no monitor: %s", resp.Body)
	}

	fmt.Fprintf(stdout, "\nWatching %s (a check every %d s; the simulated job completes on check %d):\n", started.ID, *interval, *checks)
	wctx, cancel := context.WithTimeout(ctx, time.Duration(*timeout+30)*time.Second)
	defer cancel()
	var out bytesWriter
	rec, err := watchMonitor(wctx, client, started.ID, 250*time.Millisecond, progressTo(c.stdout, stdout), &out)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("demo: the monitor did not finish in time (last status %s)", rec.RuntimeStatus)
		}
		return fmt.Errorf("demo: %w", svc.explain(err))
	}
	fmt.Fprintf(stdout, "\nOutput of %s:\n", started.ID)
	stdout.Write(out.b)
	performed, err := demoOutcome(rec, *timeout, *checks)
	if err != nil {
		return err
	}
	if *keep {
		statusURL := started.StatusQueryGetURI
		if statusURL == "" {
			statusURL = base + "/monitors/" + started.ID
		}
		if err := keepServing(ctx, stdout, svc, rt, statusURL); err != nil {
			return err
		}
	} else {
		// The service and its data directory go away now: no URLs to them.
		fmt.Fprintln(stdout, "\nThe service stops now; to look around, run \"stepmon demo --keep\" or \"stepmon serve\".")
	}
	fmt.Fprintf(stdout, "demo: monitor %s completed after %s\n", started.ID, checksText(performed))
	return nil
}

// demoOutcome returns the checks the demo's monitor performed, and an
// error that says why when the monitor did not complete its job: it
// timed out (the demo's --timeout and --checks named) or ended otherwise.
func demoOutcome(rec record, timeout, checks int) (performed int, err error) {
	var o struct {
		FinalStatus     string `json:"final_status"`
		ChecksPerformed int    `json:"checks_performed"`
	}
	json.Unmarshal(rec.Output, &o)
	switch {
	case o.FinalStatus == "Timeout":
		// The monitor's run completed, its job did not: it timed out
		// before the check on which the simulated job completes.
		// The --timeout, not the time its output counts: that ends at
		// the last check, which may round past the expiry.
		return 0, fmt.Errorf("demo: the monitor's --timeout of %d s ran out %s in, before the simulated job completed on check %d (final status Timeout): raise --timeout or lower --checks or --interval",
			timeout, checksText(o.ChecksPerformed), checks)
	case rec.RuntimeStatus != "Completed" || o.FinalStatus != "Completed":
		return 0, fmt.Errorf("demo: the monitor ended %s, with final status %q; the demo expects its job Completed", rec.RuntimeStatus, o.FinalStatus)
	}
	return o.ChecksPerformed, nil
}

// keepServing prints the URLs to look at (--keep) and serves until
// Ctrl-C, or until the service fails, which is then the error.
func keepServing(ctx context.Context, stdout io.Writer, svc *background, rt *local.Runtime, statusURL string) error {
	base := rt.URL()
	fmt.Fprintf(stdout, `
Look at it:
  status          curl %s
  all monitors    curl %s/monitors
  dashboard       %s/ui/
  Step Functions  %s list-executions --state-machine-arn %s
`, statusURL, base, base, awsCLI(base, rt.StateMachineArn()), rt.StateMachineArn())
	fmt.Fprintln(stdout, "\nServing until Ctrl-C (--keep).")
	select {
	case <-ctx.Done(): // Ctrl-C, or the service failed
	case err := <-svc.errc:
		svc.errc <- err // for the deferred Shutdown
	}
	if err := svc.failure(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// checksText is n checks in words: "1 check", "4 checks".
func checksText(n int) string {
	if n == 1 {
		return "1 check"
	}
	return fmt.Sprintf("%d checks", n)
}

// endOnError writes to w until a write fails (a closed pipe); it then
// calls end with the error, once, and fails every write after.
type endOnError struct {
	mu  sync.Mutex
	w   io.Writer
	end context.CancelCauseFunc
	err error
}

func (e *endOnError) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
		e.end(fmt.Errorf("standard output: %w", err))
	}
	return n, err
}

// failed reports whether a write has failed.
func (e *endOnError) failed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err != nil
}

// progressTo returns a progress that writes to w, shown as on terminal
// (whether it is one, and its width), w's destination.
func progressTo(terminal io.Writer, w io.Writer) *progress {
	p := newProgress(terminal)
	p.w = w
	return p
}

// bytesWriter collects what is written to it.
type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// demoFlags names the flag behind each field of the demo's start request.
var demoFlags = map[string]string{
	"target.completeAfterChecks": "--checks",
	"pollingIntervalSeconds":     "--interval",
	"timeoutSeconds":             "--timeout",
}

// demoFlagsValid checks the demo's start request as the API will, before
// the service starts: a value the API refuses is a usage error naming its
// flag.
func demoFlagsValid(body []byte) error {
	_, err := monitor.ParseStartRequest(body)
	var me *monitor.Error
	if err == nil || !errors.As(err, &me) || len(me.Fields) == 0 {
		return err
	}
	problems := make([]string, 0, len(me.Fields))
	for _, f := range me.Fields {
		name := demoFlags[f.Field]
		if name == "" {
			name = f.Field
		}
		problems = append(problems, name+" "+f.Problem)
	}
	return usageError("demo: %s", strings.Join(problems, "; "))
}

// tempDirVariable names the environment variable os.TempDir reads first:
// TMPDIR on Unix, TMP on Windows.
func tempDirVariable() string {
	if runtime.GOOS == "windows" {
		return "TMP"
	}
	return "TMPDIR"
}
