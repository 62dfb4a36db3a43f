package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestDashboardHistoryDetailsByKeyboard reaches a history event's full
// details without a mouse: the Details cell is a disclosure that the
// keyboard opens, showing what the hover text shows (here the execution's
// role, which the cell's short text leaves out).
func TestDashboardHistoryDetailsByKeyboard(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, finished("det-1"))

	summary := `document.querySelector('#events tr[data-id="1"] td.details summary')`
	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/det-1"),
		waitJS(`[...document.querySelectorAll("#events td")].some(td => td.textContent === "ExecutionSucceeded")`),
		waitJS(summary+` !== null`),
	)
	short := get(t, ctx, "read the short text", chromedp.Evaluate[string](`document.querySelector('#events tr[data-id="1"] td.details').textContent`))
	if strings.Contains(short, "roleArn") {
		t.Fatalf("the short text %q already holds the role; the test needs details it leaves out", short)
	}
	step(t, ctx, "focus the event's details, press Enter", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](summary+`.focus()`),
		waitJS(`document.activeElement === `+summary),
		chromedp.KeyEvent(kb.Enter),
		// The full text is written in as the disclosure opens (its toggle event).
		waitJS(`document.querySelector('#events tr[data-id="1"] td.details details[open] pre') !== null`),
	)
	full := get(t, ctx, "read the details", chromedp.Evaluate[string](`document.querySelector('#events tr[data-id="1"] td.details').innerText`))
	if !strings.Contains(full, `"roleArn"`) {
		t.Errorf("opened details %q lack the event's roleArn", full)
	}
}
