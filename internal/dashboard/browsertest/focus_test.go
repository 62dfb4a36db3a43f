package browsertest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardFocusWhenFinished keeps keyboard focus on Terminate while
// the monitor finishes by itself: Terminate is disabled then, and focus
// moves to Purge, the action the finished monitor offers, rather than
// being dropped on the page's body.
func TestDashboardFocusWhenFinished(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, &fakeMonitor{id: "ends-1", jobID: "ends-1", interval: time.Second, timeout: time.Minute,
		completeAfter: 10, created: time.Now()})

	step(t, ctx, "open the monitor, focus Terminate", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/ends-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
		chromedp.Focus(css(`#terminate`)),
		waitJS(`document.activeElement === document.querySelector("#terminate")`),
	)
	step(t, ctx, "the monitor completes", 30*time.Second,
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed" && document.querySelector("#terminate").disabled`),
	)
	type focus struct{ ID, Description string }
	got := get(t, ctx, "read the focus", chromedp.Evaluate[focus](`({ID: document.activeElement.id,
		Description: document.getElementById(document.activeElement.getAttribute("aria-describedby") || "")?.textContent || ""})`))
	if want := (focus{"purge", "Completed"}); got != want {
		t.Errorf("focus after the monitor finished: got %+v, want %+v (Purge, described by the new status)", got, want)
	}
}
