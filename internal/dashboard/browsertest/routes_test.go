package browsertest

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestDashboardBadLinks opens links with bad % escapes: the page shows
// the list and says the monitor was not found, on load and on navigation.
func TestDashboardBadLinks(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("bulk-1"))

	for _, hash := range []string{"#/monitors/bulk-1%", "#/monitors/%E0%A4%A"} {
		step(t, ctx, "load "+hash, 10*time.Second,
			chromedp.Navigate("about:blank"),
			chromedp.Navigate(base+"/ui/"+hash),
			chromedp.WaitVisible(css(row("bulk-1"))),
			waitJS(`!document.querySelector("#list-problem").hidden && document.querySelector("#list-problem").textContent.includes("not found")`),
			waitJS(`document.querySelector("#live").classList.contains("ok")`),
		)
	}
	step(t, ctx, "a good link, then a bad one", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/bulk-1"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelector("#list-problem").hidden`),
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/bulk-1%"`),
		waitJS(`!document.querySelector("#list-view").hidden && !document.querySelector("#list-problem").hidden`),
	)
	// An id with a character that means something in a URL is the id of
	// no monitor, not bulk-1's with a query.
	step(t, ctx, "a link to bulk-1?x", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/bulk-1%3Fx"`),
		waitJS(`document.querySelector("#detail-error").textContent.includes("does not exist")`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Unknown"`),
	)
}

// TestDashboardStatusFromURL reads the status filter from the URL: any
// case matches a chip, unknown statuses are dropped, and several statuses
// list the monitors of each.
func TestDashboardStatusFromURL(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("run-1"), &fakeMonitor{id: "done-1", jobID: "done-1", interval: time.Second,
		timeout: time.Minute, completeAfter: 2, created: time.Now().Add(-time.Minute)})

	step(t, ctx, "#/?status=running", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/?status=running"),
		chromedp.WaitVisible(css(row("run-1"))),
		waitJS(`document.querySelectorAll("#rows tr").length === 1`),
		waitJS(`document.querySelector('input[name="status"][value="Running"]').checked`),
		waitJS(`document.querySelectorAll('input[name="status"]:checked').length === 1`),
		waitJS(`location.hash === "#/?status=Running"`),
	)
	step(t, ctx, "#/?status=Bogus", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/?status=Bogus"),
		waitJS(`document.querySelectorAll("#rows tr").length === 2`),
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
		waitJS(`document.querySelectorAll('input[name="status"]:checked').length === 0`),
		waitJS(`location.hash === "#/"`),
	)
	step(t, ctx, "#/?status=COMPLETED,bogus", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/?status=COMPLETED,bogus"),
		chromedp.WaitVisible(css(row("done-1"))),
		waitJS(`document.querySelectorAll("#rows tr").length === 1 && document.querySelector("#live").classList.contains("ok")`),
		waitJS(`document.querySelector('input[name="status"][value="Completed"]').checked`),
	)
	step(t, ctx, "#/?status=completed,Running,running: two statuses, each once", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/?status=completed,Running,running"),
		chromedp.WaitVisible(css(row("done-1"))),
		chromedp.WaitVisible(css(row("run-1"))),
		waitJS(`document.querySelectorAll("#rows tr").length === 2 && document.querySelector("#live").classList.contains("ok")`),
		waitJS(`document.querySelectorAll('input[name="status"]:checked').length === 2`),
		waitJS(`location.hash === "#/?status=Completed,Running"`),
	)
}

// TestDashboardFocusOnNavigation follows a row's link with the keyboard:
// focus moves to the monitor's heading, and back on the list to its own.
func TestDashboardFocusOnNavigation(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("nav-1"))

	step(t, ctx, "list loads", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("nav-1"))),
	)
	step(t, ctx, "Enter on the row's link", 10*time.Second,
		chromedp.Focus(css(row("nav-1")+` a`)),
		chromedp.KeyEvent(kb.Enter),
		waitJS(`location.hash === "#/monitors/nav-1"`),
		waitJS(`document.activeElement === document.querySelector("#detail-title")`),
	)
	step(t, ctx, "Enter on the breadcrumb", 10*time.Second,
		chromedp.Focus(css(`#crumb-list`)),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css(row("nav-1"))),
		waitJS(`document.activeElement === document.querySelector("#list-title")`),
	)
}

// TestDashboardOpenByID types the id of a monitor that is not on the
// list's page (another status, or a later page): the page offers to open
// it, which the search alone, on this page only, cannot do.
func TestDashboardOpenByID(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("elsewhere-1"), &fakeMonitor{id: "done-1", jobID: "done-1", interval: time.Second,
		timeout: time.Minute, completeAfter: 2, created: time.Now().Add(-time.Minute)})

	step(t, ctx, "the completed monitors", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/?status=Completed"),
		chromedp.WaitVisible(css(row("done-1"))),
		waitJS(`document.querySelectorAll("#rows tr").length === 1`),
	)
	step(t, ctx, "search for a running one", 10*time.Second,
		chromedp.SendKeys(css(`#search`), "elsewhere-1"),
		chromedp.WaitVisible(css(`#search-open a`)),
		waitJS(`document.querySelector("#search-open a").textContent.includes("elsewhere-1")`),
	)
	step(t, ctx, "open it", 10*time.Second,
		chromedp.Click(css(`#search-open a`)),
		waitJS(`location.hash === "#/monitors/elsewhere-1"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
	)
	search := func(text string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector("#search");
			s.value = %q; s.dispatchEvent(new Event("input")); })()`, text))
	}
	step(t, ctx, "no offer for an id on the page, or for what cannot be an id", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/"`),
		search("done-1"),
		chromedp.WaitVisible(css(row("done-1"))),
		waitJS(`document.querySelector("#search-open").hidden`),
		search("two words"),
		waitJS(`document.querySelectorAll("#rows tr").length === 0`),
		waitJS(`document.querySelector("#search-open").hidden`),
	)
	// A word that matches rows is the search at work as a filter: no offer
	// to open a monitor of that name.
	for _, word := range []string{"Running", "running", "done", "elsewhere"} {
		step(t, ctx, "no offer for "+word+", which matches rows", 10*time.Second,
			search(word),
			waitJS(`document.querySelectorAll("#rows tr").length > 0`),
			chromedp.Sleep(100*time.Millisecond),
			waitJS(`document.querySelector("#search-open").hidden`),
		)
	}
	step(t, ctx, "an id that matches no row is offered", 10*time.Second,
		search("other-7"),
		waitJS(`document.querySelectorAll("#rows tr").length === 0`),
		waitJS(`!document.querySelector("#search-open").hidden && document.querySelector("#search-open a").textContent.includes("other-7")`),
	)
}

// TestDashboardEmptyPageWithMore shows a page with no monitors but a next
// page (a filtered list on DynamoDB stops reading after a while): the page
// says more may follow, and Next leads to them.
func TestDashboardEmptyPageWithMore(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("later-1"))
	api.mu.Lock()
	api.emptyFirstPage = true
	api.mu.Unlock()

	step(t, ctx, "an empty first page with a token", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/?status=Running"),
		waitJS(`!document.querySelector("#empty").hidden && document.querySelector("#empty").textContent.includes("next")`),
		waitJS(`!document.querySelector("#next").disabled`),
	)
	step(t, ctx, "Next shows the monitor", 10*time.Second,
		chromedp.Click(css(`#next`)),
		chromedp.WaitVisible(css(row("later-1"))),
		waitJS(`document.querySelector("#empty").hidden`),
	)
}

// TestDashboardInvalidID opens a link to an id the API refuses (400): the
// page says the id is not valid, with the API's reason, and that is news
// about the monitor, not a failed refresh.
func TestDashboardInvalidID(t *testing.T) {
	ctx := browser(t)
	base := serveScripted(t, map[string]scripted{})

	step(t, ctx, "open a link to a.b", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/a.b"),
		waitJS(`document.querySelector("#detail-error").textContent === "This is not a valid monitor id: instanceId must be 1 to 64 of A-Z a-z 0-9 - _"`),
		waitJS(`document.querySelector("#live-text").textContent === "Live" && document.querySelector("#offline").hidden`),
	)
}

// TestDashboardMonitorAppears keeps the page of a monitor that does not
// exist open until it is started: the page then shows it, without the
// message that it does not exist.
func TestDashboardMonitorAppears(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t)

	step(t, ctx, "open a monitor not started yet", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/later-1"),
		waitJS(`document.querySelector("#detail-error").textContent.includes("does not exist")`),
	)
	api.add(running("later-1"))
	step(t, ctx, "it starts", 10*time.Second,
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelector("#detail-error").hidden && document.querySelector("#detail-error").textContent === ""`),
	)
}
