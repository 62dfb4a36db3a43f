package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardPurgeBack purges a monitor opened from the list, then goes
// Back: the list, as it shows, no longer has the purged monitor's row;
// the purged monitor's page, which no longer exists, is not in the
// history; Back stays on the list.
func TestDashboardPurgeBack(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("stays-1"), finished("gone-b"))

	step(t, ctx, "open the finished monitor from the list, purge it", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("gone-b"))),
		chromedp.Click(css(row("gone-b")+` a`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed" && !document.querySelector("#purge").disabled`),
		chromedp.Click(css(`#purge`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
		// Whether the list, as it shows, has the purged monitor's row,
		// before it is read again.
		chromedp.Evaluate[chromedp.Void](`window.__purgedShown = null;
			new MutationObserver((_, o) => {
				if (document.querySelector("#list-view").hidden) return;
				window.__purgedShown = !!document.querySelector('#rows tr[data-id="gone-b"]');
				o.disconnect();
			}).observe(document.querySelector("#list-view"), {attributes: true, attributeFilter: ["hidden"]})`),
		chromedp.Click(css(`#confirm-ok`)),
		waitJS(`!document.querySelector("#list-view").hidden && !document.querySelector('#rows tr[data-id="gone-b"]')`),
	)
	if shown := get(t, ctx, "read the list as it showed", chromedp.Evaluate[bool](`window.__purgedShown`)); shown {
		t.Errorf("the list showed the purged monitor's row until it was read again")
	}
	step(t, ctx, "Back", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`window.__popped = false; addEventListener("popstate", () => { window.__popped = true; }, {once: true}); history.back()`),
		waitJS(`window.__popped`),
	)
	type where struct {
		Hash string
		List bool
	}
	got := get(t, ctx, "read where Back led", chromedp.Evaluate[where](`({Hash: location.hash, List: !document.querySelector("#list-view").hidden})`))
	if !got.List || got.Hash == "#/monitors/gone-b" {
		t.Errorf("Back after the purge: %+v, want the list, not the purged monitor's page", got)
	}
}

// TestDashboardPurgeDialogAsksNoReason: the purge dialog shows no Reason
// field, which purge does not send; the terminate dialog shows it. The
// field's hidden attribute was overridden by the dialog labels' display:
// grid, so purge showed a reason that went nowhere.
func TestDashboardPurgeDialogAsksNoReason(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, finished("done-r"), running("runs-r"))
	shown := `getComputedStyle(document.querySelector("#reason-row")).display !== "none" && document.querySelector("#reason").offsetParent !== null`
	step(t, ctx, "open the finished monitor's purge dialog", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/done-r"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed" && !document.querySelector("#purge").disabled`),
		chromedp.Click(css(`#purge`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
	)
	if get(t, ctx, "read whether the reason shows", chromedp.Evaluate[bool](shown)) {
		t.Errorf("the purge dialog shows a Reason field; purge sends no reason")
	}
	step(t, ctx, "cancel, open the running monitor's terminate dialog", 10*time.Second,
		chromedp.Click(css(`#confirm-cancel`)),
		waitJS(`!document.querySelector("#confirm").open`),
		chromedp.Navigate(base+"/ui/#/monitors/runs-r"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
	)
	if !get(t, ctx, "read whether the reason shows", chromedp.Evaluate[bool](shown)) {
		t.Errorf("the terminate dialog shows no Reason field")
	}
}

// TestDashboardPurgedElsewhere keeps a finished monitor's page open while
// its status record is purged from elsewhere: the page says the monitor
// is gone and keeps the timeline and history it read, which the workflow
// keeps, rather than saying that no state has run.
func TestDashboardPurgedElsewhere(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, finished("else-1"))

	step(t, ctx, "open the finished monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/else-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 2`),
		waitJS(`[...document.querySelectorAll("#events td")].some(td => td.textContent === "ExecutionSucceeded")`),
	)
	api.mu.Lock()
	delete(api.monitors, "else-1")
	api.mu.Unlock()
	step(t, ctx, "the record is purged", 20*time.Second,
		chromedp.WaitVisible(css(`#detail-error`)),
	)
	type shown struct {
		Timeline, Note string
		Bars, Rows     int
	}
	got := get(t, ctx, "read the page", chromedp.Evaluate[shown](`({Timeline: document.querySelector("#timeline").textContent,
		Note: document.querySelector("#timeline-note").textContent,
		Bars: document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length,
		Rows: document.querySelectorAll("#events tr").length})`))
	if got.Bars != 2 || got.Rows == 0 || got.Timeline == "No state has run yet." {
		t.Errorf("after the purge: timeline %q with %d check bars, %d history rows; want the 2 checks and the history read before", got.Timeline, got.Bars, got.Rows)
	}
	if want := "purged"; !strings.Contains(got.Note, want) {
		t.Errorf("timeline note %q does not say the record was purged", got.Note)
	}
}
