package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestDashboardAlertRetryWait opens a monitor whose webhook failed and
// whose alert waits to be retried (the AlertRetryWait state): the wait
// has a numbered lane of its own, and its tooltip gives the local time
// it waits for, its waitSeconds after it began, not the next check that
// its input still names.
func TestDashboardAlertRetryWait(t *testing.T) {
	ctx := browser(t)
	created := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	rec := scriptedRecord("retry-1", "Running", created)
	h := &history{t0: created}
	h.add(0, "ExecutionStarted", map[string]any{"input": "{}"})
	h.add(0, "TaskStateEntered", map[string]any{"name": "Alert", "input": "{}"})
	h.add(3*time.Second, "TaskStateExited", map[string]any{"name": "Alert", "output": "{}"})
	h.add(3*time.Second, "ChoiceStateEntered", map[string]any{"name": "AlertOutcome", "input": "{}"})
	h.add(3*time.Second, "ChoiceStateExited", map[string]any{"name": "AlertOutcome", "output": "{}"})
	h.add(3*time.Second, "WaitStateEntered", map[string]any{"name": "AlertRetryWait",
		"input": `{"check":{"nextCheckAt":"2026-03-04T09:00:00Z"},"alertRetry":{"retries":1,"waitSeconds":40}}`})
	base := serveScripted(t, map[string]scripted{"retry-1": {record: rec, events: h.events}})
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatalf("Emulation.setTimezoneOverride: %v", err)
	}
	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/retry-1"),
		waitJS(`document.querySelectorAll('#timeline [data-lane="AlertRetryWait"] .tl-bar').length === 1`),
	)
	tip := tooltip(t, ctx, `#timeline [data-lane="AlertRetryWait"] .tl-bar`)
	// 05:06:10 UTC, 40 s: 14:06:50 in Tokyo.
	if !strings.Contains(tip, "AlertRetryWait #1") || !strings.Contains(tip, "Until: 2026-03-04 14:06:50 UTC+9") {
		t.Errorf("tooltip of the alert's retry wait %q, want it numbered and until 14:06:50 UTC+9", tip)
	}
}

// TestDashboardAlertOutcome: an alert's task that did not send (a webhook
// failing, retried after a wait; one refusing, which failed the monitor)
// returns normally, yet its bar says so, as a retried or a failed one, and
// its tooltip says what became of the alert; a sent one's says sent.
func TestDashboardAlertOutcome(t *testing.T) {
	ctx := browser(t)
	created := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	rec := scriptedRecord("outcome-1", "Failed", created)
	h := &history{t0: created}
	met := `{"check":{"conditionMet":true,"status":"Completed"}}`
	h.add(0, "ExecutionStarted", map[string]any{"input": "{}"})
	h.add(0, "TaskStateEntered", map[string]any{"name": "Alert", "input": met})
	h.add(2*time.Second, "TaskStateExited", map[string]any{"name": "Alert",
		"output": `{"check":{"conditionMet":true,"status":"Completed"},"alertRetry":{"retries":1,"waitSeconds":40}}`})
	h.add(42*time.Second, "TaskStateEntered", map[string]any{"name": "Alert", "input": met})
	h.add(44*time.Second, "TaskStateExited", map[string]any{"name": "Alert",
		"output": `{"check":{"conditionMet":false,"status":"Completed","output":{"final_status":"Completed","alert_status":"failed"}}}`})
	base := serveScripted(t, map[string]scripted{"outcome-1": {record: rec, events: h.events}})
	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/outcome-1"),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Alert"] .tl-bar').length === 2`),
	)
	classes := get(t, ctx, "read the bars", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('#timeline [data-lane="Alert"] .tl-bar')].map((b) => b.getAttribute("class"))`))
	if len(classes) != 2 || !strings.Contains(classes[0], "retried") || !strings.Contains(classes[1], "failed") {
		t.Errorf("the alert's bars %q; want the first retried, the second failed", classes)
	}
	if tip := tooltip(t, ctx, `#timeline [data-lane="Alert"] .tl-bar`); !strings.Contains(tip, "Alert: not sent; retry 1 after 40 s") {
		t.Errorf("tooltip of the retried alert %q, want what became of it", tip)
	}
}
