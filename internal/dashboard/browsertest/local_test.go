package browsertest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stepmon/stepmon/internal/local"
)

// startRuntime serves the local runtime on a free loopback port with a
// temporary data directory until the test ends, and returns its base URL.
func startRuntime(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	rt, err := local.New(ctx, local.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatalf("local.New: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := rt.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(rt.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return rt.URL()
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/healthz never answered 200", rt.URL())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startMonitor starts a monitor through the HTTP API and returns its id.
func startMonitor(t *testing.T, base, body string) string {
	t.Helper()
	resp, err := http.Post(base+"/monitors", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST /monitors: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /monitors: HTTP %d, want 202: %s", resp.StatusCode, b)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID == "" {
		t.Fatalf("POST /monitors: no id in %s (%v)", b, err)
	}
	return out.ID
}

// TestDashboardLocalRuntime loads the page from the local runtime (the
// one stepmon serve runs), starts a seed-002 job monitor on the simulated
// job and follows it on the page until it completes on its 4th check.
func TestDashboardLocalRuntime(t *testing.T) {
	ctx := browser(t)
	base := startRuntime(t)
	began := time.Now()

	step(t, ctx, "page loads from the runtime", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
		waitJS(`!document.querySelector("#empty").hidden`),
	)

	id := startMonitor(t, base, `{"job_id":"x","polling_interval_seconds":1,"timeout_seconds":60}`)
	step(t, ctx, "list shows the running monitor", 10*time.Second,
		chromedp.WaitVisible(css(row(id)+`[data-status="Running"]`)),
	)
	cells := get(t, ctx, "read the row", chromedp.Evaluate[[]string](`[...document.querySelector('#rows tr').children].map(td => td.textContent)`))
	if len(cells) != 8 || cells[0] != id || cells[1] != "JobMonitor" || cells[2] != "Running" || cells[3] != "Running" {
		t.Errorf("row of the running monitor: got %q, want id %s, JobMonitor, Running, job status Running", cells, id)
	}

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Click(css(row(id)+` a`)),
		waitJS(`document.querySelector("#detail-title").textContent === `+jsString(id)),
		waitJS(`["Running", "Completed"].includes(document.querySelector("#detail-badge").textContent)`),
	)
	step(t, ctx, "detail updates when the monitor completes", 20*time.Second,
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelector("#output").textContent.includes('"final_status": "Completed"')`),
		waitJS(`document.querySelector("#output").textContent.includes('"checks_performed": 4')`),
		waitJS(`document.querySelector("#terminate").disabled && !document.querySelector("#purge").disabled`),
	)
	// The timeline comes from the runtime's GetExecutionHistory.
	step(t, ctx, "timeline shows the checks and waits", 10*time.Second,
		waitJS(`document.querySelector("#events").children.length > 0`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 4`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Wait"] .tl-bar').length === 3`),
		waitJS(`[...document.querySelectorAll("#events td")].some(td => td.textContent === "ExecutionSucceeded")`),
	)
	if note := get(t, ctx, "read the timeline note", chromedp.Evaluate[string](`document.querySelector("#timeline-note").textContent`)); strings.Contains(note, "unavailable") || strings.Contains(note, "not supported") {
		t.Errorf("timeline note = %q, want the history shown", note)
	}
	screenshot(t, ctx, "local-completed.png")

	step(t, ctx, "list shows it completed", 10*time.Second,
		chromedp.Click(css(`.crumbs a`)),
		chromedp.WaitVisible(css(row(id)+`[data-status="Completed"]`)),
	)
	screenshot(t, ctx, "local-list.png")
	t.Logf("browser session: %v", time.Since(began).Round(time.Millisecond))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
