package browsertest

import (
	"strings"
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
	// Expired: Completed, with final status Timeout, which no other of
	// its texts holds.
	expired := scriptedRecord("plain-2", "Completed", time.Now().Add(-2*time.Hour))
	expired["output"] = map[string]any{"job_id": "plain-2", "final_status": "Timeout", "checks_performed": 7}
	base := serveScripted(t, map[string]scripted{"ended-1": {record: rec}, "plain-2": {record: expired}})

	step(t, ctx, "the list", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("ended-1"))),
		chromedp.WaitVisible(css(row("plain-2"))),
	)
	// The filter box finds a row by the job status it shows.
	step(t, ctx, "filter by the job status shown", 10*time.Second,
		chromedp.SendKeys(css(`#search`), "timeout"),
		waitJS(`!document.querySelector('#rows tr[data-id="ended-1"]')`),
	)
	if shown := get(t, ctx, "read the rows shown", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#rows tr[data-id]")].map((tr) => tr.dataset.id)`)); len(shown) != 1 || shown[0] != "plain-2" {
		t.Errorf("rows shown for the filter timeout: %q, want plain-2, whose job status reads Timeout", shown)
	}
	step(t, ctx, "clear the filter", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#search"); s.value = ""; s.dispatchEvent(new Event("input")); })()`),
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
	// The custom status is what the last check saw, not the job status
	// the list's row shows (the final status).
	if facts["Final status"] != "Terminated" || facts["Checks performed"] != "5" || facts["Last check saw"] != "Running" || facts["Job status"] != "" {
		t.Errorf("facts %q: want final status Terminated, 5 checks performed, and the custom status's Running as what the last check saw, with no Job status",
			facts)
	}
}

// TestDashboardExpiredRunSaysNoCheckRan: the last run of the Check state
// of a monitor that reached its timeout ends it without checking; its
// tooltip says so, so that "Check #8" beside 7 checks performed reads
// right.
func TestDashboardExpiredRunSaysNoCheckRan(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("tl-1"))
	step(t, ctx, "the page", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("tl-1"))),
	)
	rows := get(t, ctx, "describe an expired run", chromedp.Evaluate[[][]string](`(async () => {
		const { describe } = await import("./timeline.js");
		const span = { kind: "task", name: "Check", n: 8, start: 1000, end: 2000, open: false, attempts: 1, failures: [],
			inputText: "{}", outputText: JSON.stringify({ check: { expired: true, status: "Running", checkCount: 7 } }) };
		return describe(span, { start: 0 }).rows;
	})()`, chromedp.EvalAwaitPromise))
	var outcome, count string
	for _, r := range rows {
		switch r[0] {
		case "Outcome":
			outcome = r[1]
		case "Check count":
			count = r[1]
		}
	}
	if !strings.Contains(outcome, "no check ran") || count != "7" {
		t.Errorf("tooltip rows %q: want an outcome saying no check ran, and the check count 7", rows)
	}
}
