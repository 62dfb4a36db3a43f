package browsertest

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/stepmon/stepmon/internal/dashboard"
	"github.com/stepmon/stepmon/internal/testtool"
)

// -screenshots DIR also writes the screenshots meant for the docs into
// DIR: go test ./internal/dashboard/browsertest -run FakeAPI -screenshots $PWD/docs
var screenshotDir = flag.String("screenshots", "", "also write the documentation screenshots into this directory")

// chromiumPath finds Debian's chromium, or Chromium or Chrome where macOS
// installs them, skipping the test when it is missing (failing under
// CI=true, where .ci/run installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if goruntime.GOOS == "darwin" {
		for _, p := range []string{
			"/Applications/Chromium.app/Contents/MacOS/Chromium",
			"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
		} {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		testtool.Missing(t, "neither chromium on PATH nor Chromium or Google Chrome in /Applications: install one (brew install --cask chromium) to run the dashboard's browser test")
	}
	testtool.Missing(t, "chromium not found on PATH: install it (apt-get install -y chromium) to run the dashboard's browser test")
	return ""
}

// shortTempDir is t.TempDir with a short path: a Unix socket's path
// (Chromium's singleton socket) holds at most 107 bytes, and t.TempDir's
// carry the test's name.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "c")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// The package's tests share one headless Chromium, started by the first
// test that needs it and stopped by TestMain: starting one takes one to
// three seconds, a test's own tab in a browser context of its own (no
// cookies, storage or cache shared with another test's) a fraction of
// that.
var shared struct {
	once sync.Once
	ctx  context.Context // the browser's first tab; tests open their own
	stop func()          // stops the browser and removes its directories
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	os.Exit(code)
}

// sharedBrowser returns the context of the shared browser, starting it on
// first use.
func sharedBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	shared.once.Do(func() {
		start := time.Now()
		shared.ctx, shared.stop, shared.err = launch(exe)
		if shared.err == nil {
			t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))
		}
	})
	if shared.err != nil {
		t.Fatalf("start chromium: %v", shared.err)
	}
	return shared.ctx
}

// launch starts a headless Chromium with a user data directory and a
// TMPDIR of its own (Chromium keeps its singleton socket in a directory
// under TMPDIR and leaves it when it is killed) and returns the context of
// its first tab and a function that stops it and removes both
// directories.
func launch(exe string) (context.Context, func(), error) {
	// A short path: a Unix socket's path (Chromium's singleton socket)
	// holds at most 107 bytes.
	dir, err := os.MkdirTemp("", "c")
	if err != nil {
		return nil, nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(filepath.Join(dir, "u")),
		chromedp.Env("TMPDIR=" + dir),
		chromedp.WindowSize(1360, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	stop := func() {
		cancel()
		cancelAlloc()
		os.RemoveAll(dir)
	}
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, err
	}
	return ctx, stop, nil
}

// browser opens a tab for the test, in a browser context of its own on the
// shared Chromium, and returns its context; the tab and its browser
// context close when the test ends. JavaScript exceptions, console errors
// and the browser's own errors (a Content-Security-Policy violation, for
// one) fail the test; a request that the server answers with an error
// status is the page's business, not a problem.
func browser(t *testing.T) context.Context {
	t.Helper()
	bctx := sharedBrowser(t, chromiumPath(t))

	var mu sync.Mutex
	var problems []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, "console.error: "+strings.Join(args, " "))
			}
		case *log.EventEntryAdded:
			e := ev.Entry
			if e.Level == log.EntryLevelError && e.Source != log.EntrySourceNetwork {
				problems = append(problems, fmt.Sprintf("browser %s error at %s: %s", e.Source, e.URL, e.Text))
			}
		}
	}
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(listen))
	t.Cleanup(cancel)
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	t.Logf("tab opened in %v", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("page: %s", p)
		}
	})
	return ctx
}

// step runs actions with a deadline, failing the test with what was being
// waited for.
func step(t *testing.T, ctx context.Context, what string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	if err := chromedp.Do(sctx, actions...); err != nil {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		text, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s: %v after %v\npage text:\n%s", what, err, time.Since(start).Round(time.Millisecond), text)
	}
	t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
}

// waitJS polls a JavaScript condition until it is true.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0))
}

// get runs one action that returns a value, failing the test on error.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, name string) []byte {
	t.Helper()
	png := get(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("screenshot: %s (%d bytes)", p, len(png))
	return png
}

// docScreenshot writes a screenshot as name into the -screenshots
// directory, if one was given, without the transient notifications.
func docScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if *screenshotDir == "" {
		return
	}
	get(t, ctx, "clear notifications", chromedp.Evaluate[chromedp.Void](`document.querySelector("#toasts").replaceChildren()`))
	png := screenshot(t, ctx, name)
	p := filepath.Join(*screenshotDir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
	t.Logf("wrote %s", p)
}

// serve serves h on a free loopback port for the test's duration.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + ln.Addr().String()
}

// row is a selector for a monitor's row in the list.
func row(id string) string { return fmt.Sprintf(`#rows tr[data-id=%q]`, id) }

// css is a CSS selector.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// TestDashboardFakeAPI drives the page against a scripted API: start a
// monitor from the form, follow it Running to Completed with its timeline,
// then terminate and purge another one.
func TestDashboardFakeAPI(t *testing.T) {
	ctx := browser(t)
	api := newFakeAPI()
	now := time.Now()
	api.add(&fakeMonitor{id: "nightly-export", jobID: "nightly-export", interval: 20 * time.Second, timeout: time.Hour,
		completeAfter: 1 << 30, created: now.Add(-5 * time.Minute)})
	api.add(&fakeMonitor{id: "report-42", jobID: "report-42", interval: time.Second, timeout: time.Minute,
		completeAfter: 4, created: now.Add(-2 * time.Minute)})
	mux := http.NewServeMux()
	api.routes(mux)
	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler()))
	base := serve(t, mux)
	began := time.Now()

	step(t, ctx, "page loads and lists the monitors", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("nightly-export")+`[data-status="Running"]`)),
		chromedp.WaitVisible(css(row("report-42")+`[data-status="Completed"]`)),
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
	)

	// Start a job monitor from the form; the page opens its detail.
	step(t, ctx, "start a monitor from the form", 10*time.Second,
		chromedp.Click(css(`#start > summary`)),
		chromedp.SetValue(css(`#start-form input[name="job_id"]`), "job-browser-1"),
		chromedp.SetValue(css(`#start-form input[name="polling_interval_seconds"]`), "1"),
		chromedp.Click(css(`#start-form button[type="submit"]`)),
		waitJS(`location.hash === "#/monitors/job-browser-1"`),
	)
	step(t, ctx, "detail shows the monitor running with its timeline", 10*time.Second,
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length >= 1`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Wait"] .tl-bar').length >= 1`),
		waitJS(`document.querySelector("#events").children.length >= 7`),
		waitJS(`!document.querySelector("#terminate").disabled && document.querySelector("#purge").disabled`),
	)
	step(t, ctx, "detail updates when the monitor completes", 15*time.Second,
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelector("#output").textContent.includes('"final_status": "Completed"')`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 4`),
		waitJS(`[...document.querySelectorAll("#events td")].some(td => td.textContent === "ExecutionSucceeded")`),
		waitJS(`document.querySelector("#terminate").disabled && !document.querySelector("#purge").disabled`),
	)
	api.mu.Lock()
	calls, reverse := api.historyCalls, api.reverseCalls
	api.mu.Unlock()
	if reverse == 0 || reverse < calls/2 {
		t.Errorf("GetExecutionHistory: %d calls, %d newest first; want most of them incremental (newest first)", calls, reverse)
	}
	step(t, ctx, "hover a timeline bar", 5*time.Second,
		chromedp.ScrollIntoView(css(`#timeline`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar')[3];
			const r = b.getBoundingClientRect();
			b.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, clientX: r.x + 1, clientY: r.y + 2})); })()`),
		chromedp.WaitVisible(css(`#tip`)),
	)
	tip := get(t, ctx, "read the tooltip", chromedp.Evaluate[string](`document.querySelector("#tip").innerText`))
	if !strings.Contains(tip, "Check #4") || !strings.Contains(tip, "Job status: Completed") {
		t.Errorf("tooltip of the 4th check: got %q, want Check #4 with job status Completed", tip)
	}
	screenshot(t, ctx, "completed.png")
	docScreenshot(t, ctx, "dashboard.png")

	// Back in the list, the finished monitor shows Completed.
	step(t, ctx, "list shows the finished monitor", 10*time.Second,
		chromedp.Click(css(`.crumbs a`)),
		chromedp.WaitVisible(css(row("job-browser-1")+`[data-status="Completed"]`)),
	)
	cells := get(t, ctx, "read the row", chromedp.Evaluate[[]string](`[...document.querySelector('#rows tr[data-id="job-browser-1"]').children].map(td => td.textContent)`))
	if len(cells) != 8 || cells[2] != "Completed" || cells[3] != "Completed" || cells[4] != "4" {
		t.Errorf("row of job-browser-1: got %q, want status Completed, job status Completed, 4 checks", cells)
	}

	// Filters: only running monitors.
	step(t, ctx, "filter by status", 10*time.Second,
		chromedp.Click(css(`input[name="status"][value="Running"]`)),
		waitJS(`location.hash === "#/?status=Running"`),
		waitJS(`document.querySelectorAll("#rows tr").length === 1 && document.querySelector("#rows tr").dataset.id === "nightly-export"`),
		chromedp.Click(css(`input[name="status"][value="Running"]`)),
		waitJS(`document.querySelectorAll("#rows tr").length === 3`),
	)
	docScreenshot(t, ctx, "dashboard-list.png")

	// Terminate the long-running monitor, then purge it.
	step(t, ctx, "open a running monitor, last minute of its timeline", 10*time.Second,
		chromedp.Click(css(row("nightly-export")+` a`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
		// 5 minutes of checks every 20 s: 16 on the whole timeline, 3 or 4 in the last minute.
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 16`),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#tl-window"); s.value = "60000"; s.dispatchEvent(new Event("change")); })()`),
		waitJS(`[3, 4].includes(document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length)`),
	)
	docScreenshot(t, ctx, "dashboard-running.png")
	step(t, ctx, "terminate it", 10*time.Second,
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #reason`)),
		chromedp.SetValue(css(`#reason`), "no longer needed"),
		chromedp.Click(css(`#confirm-ok`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Terminated"`),
		waitJS(`document.querySelector("#output").textContent.includes('"final_status": "Terminated"')`),
		waitJS(`[...document.querySelectorAll("#events td")].some(td => td.textContent === "ExecutionAborted")`),
	)
	step(t, ctx, "purge the terminated monitor", 10*time.Second,
		chromedp.Click(css(`#purge`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
		chromedp.Click(css(`#confirm-ok`)),
		waitJS(`location.hash === "#/"`),
		waitJS(`!document.querySelector('#rows tr[data-id="nightly-export"]') && document.querySelectorAll("#rows tr").length === 2`),
	)
	t.Logf("browser session: %v", time.Since(began).Round(time.Millisecond))
}
