package browsertest

import (
	"context"
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

	bannerShows(t, ctx, base, "late-1", "running late", "1.4 s late", "281,000", "2,345 due")

	api.mu.Lock()
	api.health["timers"].(map[string]any)["lastMinute"].(map[string]any)["late"] = false
	api.mu.Unlock()
	step(t, ctx, "on time again", 10*time.Second,
		skipClock(11000),
		waitJS(`document.querySelector("#late").hidden`),
	)
}

// TestDashboardStoreFailing shows the local runtime's warnings while
// /healthz answers 503 degraded: its database fails the engine's commits,
// or the reads that resume monitors, or the status function fails to
// record executions' ends, or the status store fails the monitors'
// writes; each names how many monitors and the error,
// and the banner hides once the runtime recovers.
func TestDashboardStoreFailing(t *testing.T) {
	tests := []struct {
		name   string
		health map[string]any // merged into a degraded /healthz
		want   []string
	}{
		{"commits", map[string]any{"store": map[string]any{"commitsWaiting": 20, "error": "database or disk is full (13)"}},
			[]string{"cannot save", "20 monitors", "database or disk is full (13)"}},
		{"resumes", map[string]any{"store": map[string]any{"commitsWaiting": 0, "resumesWaiting": 3, "error": "database is locked (5)"}},
			[]string{"cannot read", "3 monitors", "database is locked (5)"}},
		{"commits and resumes", map[string]any{"store": map[string]any{"commitsWaiting": 4, "resumesWaiting": 3, "error": "disk I/O error (10)"}},
			[]string{"cannot save", "4 monitors", "3 more", "disk I/O error (10)"}},
		{"status changes", map[string]any{"statusChanges": map[string]any{"undelivered": 2, "error": "TransientError: database or disk is full (13)"}},
			[]string{"2 monitors", "ended", "still say Running", "database or disk is full (13)"}},
		{"status writes", map[string]any{"statusStore": map[string]any{"writesFailing": 6, "error": "record: sqlitestore: record check f2: database or disk is full (13)"}},
			[]string{"status store fails", "6 monitors", "record check f2: database or disk is full (13)", "then the monitors fail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := browser(t)
			api, base := serveFake(t, running("stuck-1"))
			api.mu.Lock()
			api.health = map[string]any{"status": "degraded", "timers": map[string]any{"waiting": 0, "due": 0,
				"lastMinute": map[string]any{"from": "2026-12-03T10:00:00Z", "resumed": 0, "p50Ms": 0, "p99Ms": 0, "maxMs": 0, "late": false}}}
			for k, v := range tt.health {
				api.health[k] = v
			}
			api.mu.Unlock()

			bannerShows(t, ctx, base, "stuck-1", tt.want...)

			api.mu.Lock()
			api.health["status"] = "ok"
			for k := range tt.health {
				delete(api.health, k)
			}
			api.mu.Unlock()
			step(t, ctx, "the runtime recovers", 10*time.Second,
				skipClock(11000),
				waitJS(`document.querySelector("#late").hidden`),
			)
		})
	}
}

// bannerShows loads the dashboard at base, waits for the row of monitor
// id and for the health banner, and checks that the banner says each of
// want.
func bannerShows(t *testing.T, ctx context.Context, base, id string, want ...string) {
	t.Helper()
	step(t, ctx, "page loads", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row(id))),
		chromedp.WaitVisible(css("#late")),
	)
	text := get(t, ctx, "read the banner", chromedp.Evaluate[string](`document.querySelector("#late").textContent`))
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("banner %q lacks %q", text, w)
		}
	}
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
