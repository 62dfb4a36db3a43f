package browsertest

import (
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardShortTimelineAxis opens a monitor whose execution took
// 40 ms: the timeline's axis marks it in milliseconds (it showed only
// "0" when its finest step was 100 ms).
func TestDashboardShortTimelineAxis(t *testing.T) {
	ctx := browser(t)
	created := time.Now().Add(-time.Hour)
	rec := scriptedRecord("quick-1", "Completed", created)
	h := &history{t0: created}
	h.add(0, "ExecutionStarted", map[string]any{"input": "{}"})
	h.add(0, "TaskStateEntered", map[string]any{"name": "Check", "input": "{}"})
	h.add(30*time.Millisecond, "TaskStateExited", map[string]any{"name": "Check", "output": "{}"})
	h.add(40*time.Millisecond, "ExecutionSucceeded", map[string]any{"output": "{}"})
	base := serveScripted(t, map[string]scripted{"quick-1": {record: rec, events: h.events}})

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/quick-1"),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 1`),
	)
	ticks := get(t, ctx, "read the axis", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#timeline .tl-tick")].map((e) => e.textContent)`))
	if len(ticks) < 3 || ticks[0] != "0" || !slices.Contains(ticks, "+20ms") {
		t.Errorf("axis ticks of a 40 ms execution: %q, want 0 and at least two more in milliseconds, +20ms among them", ticks)
	}
}
