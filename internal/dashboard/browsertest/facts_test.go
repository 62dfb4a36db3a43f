package browsertest

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// watchFacts notes the facts' dd elements and watches the facts panel:
// window.__facts counts the refreshes that changed it, window.__rebuilt
// the elements added to it or removed from it.
const watchFacts = `window.__dds = [...document.querySelectorAll("#facts dd")];
	window.__facts = 0;
	window.__rebuilt = 0;
	new MutationObserver((rs) => {
		window.__facts++;
		for (const r of rs) window.__rebuilt += r.addedNodes.length + r.removedNodes.length > 0 && r.target.nodeName !== "DD" ? 1 : 0;
	}).observe(document.querySelector("#facts"), {subtree: true, childList: true, characterData: true, attributes: true})`

// factsKept says whether the facts are still the elements watchFacts noted.
const factsKept = `(() => {
	const dds = [...document.querySelectorAll("#facts dd")];
	return dds.length === window.__dds.length && dds.every((dd, i) => dd === window.__dds[i] && dd.isConnected) && window.__rebuilt === 0;
})()`

// TestDashboardFactsKept leaves a finished monitor's page, and a running
// one's with updates paused, through several refreshes: the facts stay
// the same elements, only the times relative to now change, and a text
// selected in a fact (the job id, to copy it) stays selected.
func TestDashboardFactsKept(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, &fakeMonitor{id: "kept-1", jobID: "kept-job-1", interval: time.Second, timeout: time.Minute,
		completeAfter: 2, created: time.Now().Add(-time.Minute)}, running("kept-2"))

	selectJobID := chromedp.Evaluate[chromedp.Void](`(() => {
		const dd = [...document.querySelectorAll("#facts div")].find((d) => d.firstChild.textContent === "Job id").lastChild;
		const r = document.createRange();
		r.selectNodeContents(dd);
		getSelection().removeAllRanges();
		getSelection().addRange(r);
	})()`)
	step(t, ctx, "open the finished monitor, select its job id", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/kept-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelector("#facts").textContent.includes("kept-job-1")`),
		chromedp.Evaluate[chromedp.Void](watchFacts),
		selectJobID,
	)
	// kept waits for three changes of the facts, then checks that they
	// changed in place and that the job id is still selected.
	kept := func(what, jobID string) {
		t.Helper()
		step(t, ctx, "several redraws", 30*time.Second, waitJS(`window.__facts >= 3`))
		if !get(t, ctx, "compare the facts", chromedp.Evaluate[bool](factsKept)) {
			t.Errorf("%s: the facts were drawn anew, want the same elements with their text changed in place", what)
		}
		if sel := get(t, ctx, "read the selection", chromedp.Evaluate[string](`getSelection().toString()`)); sel != jobID {
			t.Errorf("%s: selection %q, want the job id %s still selected", what, sel, jobID)
		}
	}
	kept("a finished monitor", "kept-job-1")

	step(t, ctx, "open the running monitor, pause, select its job id", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/kept-2"`),
		waitJS(`document.querySelector("#facts").textContent.includes("Running for")`),
		chromedp.Click(css(`#pause`)),
		waitJS(`document.querySelector("#live").classList.contains("paused")`),
		chromedp.Evaluate[chromedp.Void](watchFacts),
		selectJobID,
	)
	kept("a running monitor, paused", "kept-2")
}

// TestDashboardFailingTimesMove stops the API while a monitor's page, then
// the list, is open: while the banner says what the page shows is old,
// the times relative to now go on moving ("Running for", "Updated … ago"),
// rather than staying as they were at the last read.
func TestDashboardFailingTimesMove(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("fail-1"))
	runningFor := `[...document.querySelectorAll("#facts div")].find((d) => d.firstChild.textContent === "Running for").lastChild.textContent`

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/fail-1"),
		waitJS(`document.querySelector("#facts").textContent.includes("Running for")`),
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
	)
	api.setDown(true)
	step(t, ctx, "the API goes away; Running for moves on", 20*time.Second,
		chromedp.WaitVisible(css(`#offline`)),
		chromedp.Evaluate[chromedp.Void](`window.__was = `+runningFor),
		waitJS(runningFor+` !== window.__was && !document.querySelector("#offline").hidden`),
	)

	api.setDown(false)
	updated := `document.querySelector('#rows tr[data-id="fail-1"]').children[7].textContent`
	step(t, ctx, "the list", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/"`),
		chromedp.WaitVisible(css(row("fail-1"))),
		waitJS(`document.querySelector("#offline").hidden`),
	)
	api.setDown(true)
	step(t, ctx, "the API goes away; Updated moves on", 20*time.Second,
		chromedp.WaitVisible(css(`#offline`)),
		chromedp.Evaluate[chromedp.Void](`window.__was = `+updated),
		waitJS(updated+` !== window.__was && !document.querySelector("#offline").hidden`),
	)
}
