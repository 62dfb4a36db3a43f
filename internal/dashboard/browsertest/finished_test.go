package browsertest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardFinishedFromOutput lists and opens a monitor terminated
// after its custom status last changed: its custom status still says
// the job runs, after four checks; its output says how it ended, after
// five. The list's row and the monitor's facts give the output's. Its
// alert failed, and is no longer retried.
func TestDashboardFinishedFromOutput(t *testing.T) {
	ctx := browser(t)
	rec := scriptedRecord("ended-1", "Terminated", time.Now().Add(-time.Hour))
	rec["customStatus"] = map[string]any{"job_id": "ended-1", "status": "Running", "check_count": 4}
	rec["output"] = map[string]any{"job_id": "ended-1", "final_status": "Terminated", "checks_performed": 5}
	// Terminated while its alert failed: no retry follows.
	rec["alert"] = map[string]any{"status": "failed", "channel": "webhook", "attempts": 3}
	base := serveScripted(t, map[string]scripted{"ended-1": {record: rec}})

	step(t, ctx, "the list", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("ended-1"))),
	)
	cells := get(t, ctx, "read the row", chromedp.Evaluate[[]string](`[...document.querySelector('#rows tr[data-id="ended-1"]').children].map(td => td.textContent)`))
	if len(cells) != 8 || cells[2] != "Terminated" || cells[3] != "Terminated" || cells[4] != "5" {
		t.Errorf("row of ended-1: got %q, want status Terminated, job status Terminated, 5 checks", cells)
	}
	step(t, ctx, "open it", 10*time.Second,
		chromedp.Click(css(row("ended-1")+` a`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Terminated"`),
	)
	facts := get(t, ctx, "read the facts", chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("#facts dt")].map((dt) =>
		[dt.textContent, dt.nextElementSibling.textContent]))`))
	if facts["Alert"] != "failed" {
		t.Errorf("Alert: got %q, want failed, no longer retrying", facts["Alert"])
	}
	if facts["Final status"] != "Terminated" || facts["Checks performed"] != "5" || facts["Job status"] != "Running" {
		t.Errorf("facts: final status %q, checks performed %q, job status %q; want Terminated, 5, and the custom status's Running",
			facts["Final status"], facts["Checks performed"], facts["Job status"])
	}
}
