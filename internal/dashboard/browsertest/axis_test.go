package browsertest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardShortTimelineAxis opens a monitor whose execution took
// 40 ms: the timeline's axis marks it in milliseconds (it showed only
// "0" when its finest step was 100 ms).
func TestDashboardShortTimelineAxis(t *testing.T) {
	ctx := browser(t)
	rec, h := startedAnHourAgo("quick-1", "Completed")
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

// TestDashboardEndedTimelineShowsItsLastBars opens a monitor whose
// execution failed in its last step: the bars that start at its end, the
// red one that ended it among them, show whole inside the track (they
// were cut to a few pixels at its edge).
func TestDashboardEndedTimelineShowsItsLastBars(t *testing.T) {
	ctx := browser(t)
	rec, h := startedAnHourAgo("cut-1", "Failed")
	for i := range 20 {
		at := time.Duration(i) * time.Minute
		h.add(at, "TaskStateEntered", map[string]any{"name": "Check", "input": "{}"})
		h.add(at+time.Second, "TaskStateExited", map[string]any{"name": "Check", "output": "{}"})
		h.add(at+time.Second, "WaitStateEntered", map[string]any{"name": "Wait", "input": "{}"})
		h.add(at+time.Minute, "WaitStateExited", map[string]any{"name": "Wait", "output": "{}"})
	}
	end := 20 * time.Minute
	h.add(end, "TaskStateEntered", map[string]any{"name": "Alert", "input": "{}"})
	h.add(end, "ExecutionFailed", map[string]any{"error": "States.TaskFailed", "cause": "boom"})
	base := serveScripted(t, map[string]scripted{"cut-1": {record: rec, events: h.events}})

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/cut-1"),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Alert"] .tl-bar').length === 1`),
	)
	cut := get(t, ctx, "measure the bars", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#timeline .tl-lane")].flatMap((lane) => {
		const track = lane.querySelector(".tl-track").getBoundingClientRect();
		return [...lane.querySelectorAll(".tl-bar")].filter((b) => b.getBoundingClientRect().right > track.right + 0.5)
			.map((b) => lane.dataset.lane + " " + b.className + " ends at " + b.getBoundingClientRect().right + ", the track at " + track.right);
	})`))
	if len(cut) > 0 {
		t.Errorf("bars cut at the track's end: %q", cut)
	}
	red := get(t, ctx, "read the Alert bar", chromedp.Evaluate[string](`document.querySelector('#timeline [data-lane="Alert"] .tl-bar').className`))
	if !strings.Contains(red, "failed") {
		t.Errorf("the Alert bar that ended the execution has classes %q, want failed", red)
	}
}

// startedAnHourAgo returns the record of monitor id, created an hour ago
// with status, and its execution's history so far: ExecutionStarted.
func startedAnHourAgo(id, status string) (map[string]any, *history) {
	created := time.Now().Add(-time.Hour)
	h := &history{t0: created}
	h.add(0, "ExecutionStarted", map[string]any{"input": "{}"})
	return scriptedRecord(id, status, created), h
}
