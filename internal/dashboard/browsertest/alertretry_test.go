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
