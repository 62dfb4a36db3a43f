package browsertest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// skipClock makes the page's Date.now run ahead by ms: the dashboard asks
// /healthz every 10 s of it.
func skipClock(ms int) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		if (!window.__skip) {
			const now = Date.now.bind(Date);
			let off = 0;
			Date.now = () => now() + off;
			window.__skip = (ms) => { off += ms; };
		}
		window.__skip(%d);
	})()`, ms))
}

// TestDashboardLateBanner shows the local runtime's warning that checks
// run late, from its /healthz timers, and hides it once they are on time.
func TestDashboardLateBanner(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("late-1"))
	api.mu.Lock()
	api.health = map[string]any{"status": "ok", "timers": map[string]any{
		"waiting": 7000, "due": 2345,
		"lastMinute": map[string]any{"from": "2026-12-03T10:00:00Z", "resumed": 281000, "p50Ms": 1020.5, "p99Ms": 1433.6, "maxMs": 1602, "late": true},
	}}
	api.mu.Unlock()

	step(t, ctx, "page loads", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("late-1"))),
		chromedp.WaitVisible(css("#late")),
	)
	text := get(t, ctx, "read the banner", chromedp.Evaluate[string](`document.querySelector("#late").textContent`))
	for _, want := range []string{"running late", "1.4 s late", "281,000", "2,345 due"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner %q lacks %q", text, want)
		}
	}

	api.mu.Lock()
	api.health["timers"].(map[string]any)["lastMinute"].(map[string]any)["late"] = false
	api.mu.Unlock()
	step(t, ctx, "on time again", 10*time.Second,
		skipClock(11000),
		waitJS(`document.querySelector("#late").hidden`),
	)
}

// TestDashboardStoreFailing shows the local runtime's warning that its
// database fails the engine's commits (/healthz 503 degraded), naming the
// monitors waiting and the error, and hides it once it recovers.
func TestDashboardStoreFailing(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("stuck-1"))
	api.mu.Lock()
	api.health = map[string]any{"status": "degraded", "timers": map[string]any{"waiting": 0, "due": 0,
		"lastMinute": map[string]any{"from": "2026-12-03T10:00:00Z", "resumed": 0, "p50Ms": 0, "p99Ms": 0, "maxMs": 0, "late": false}},
		"store": map[string]any{"commitsWaiting": 20, "error": "database or disk is full (13)"}}
	api.mu.Unlock()

	step(t, ctx, "page loads", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("stuck-1"))),
		chromedp.WaitVisible(css("#late")),
	)
	text := get(t, ctx, "read the banner", chromedp.Evaluate[string](`document.querySelector("#late").textContent`))
	for _, want := range []string{"cannot save", "20 monitors", "database or disk is full (13)"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner %q lacks %q", text, want)
		}
	}

	api.mu.Lock()
	api.health["status"] = "ok"
	delete(api.health, "store")
	api.mu.Unlock()
	step(t, ctx, "the store recovers", 10*time.Second,
		skipClock(11000),
		waitJS(`document.querySelector("#late").hidden`),
	)
}

// TestDashboardNoHealth: against an API without /healthz (the API on AWS)
// the banner stays hidden and the page stops asking.
func TestDashboardNoHealth(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("quiet-1"))
	step(t, ctx, "page loads, then refreshes twice 11 s apart", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("quiet-1"))),
		skipClock(11000),
		chromedp.Sleep(1600*time.Millisecond),
		skipClock(11000),
		chromedp.Sleep(1600*time.Millisecond),
	)
	if hidden := get(t, ctx, "read the banner", chromedp.Evaluate[bool](`document.querySelector("#late").hidden`)); !hidden {
		t.Error("the late banner shows without a /healthz")
	}
	api.mu.Lock()
	calls := api.healthCalls
	api.mu.Unlock()
	if calls != 1 {
		t.Errorf("/healthz asked %d times, want once", calls)
	}
}
