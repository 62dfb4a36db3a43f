package browsertest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardQuietPolling leaves a finished monitor's page open: once
// reads bring nothing new the page reads less often, while the times it
// shows relative to now still move on; on the list, a new monitor still
// shows within seconds.
func TestDashboardQuietPolling(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, &fakeMonitor{id: "quiet-1", jobID: "quiet-1", interval: time.Second, timeout: time.Minute,
		completeAfter: 2, created: time.Now().Add(-time.Minute)})
	reads := func() (list, get int) {
		api.mu.Lock()
		defer api.mu.Unlock()
		return api.listCalls, api.getCalls
	}

	step(t, ctx, "open the finished monitor, let it settle", 20*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/quiet-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		chromedp.Sleep(6*time.Second),
	)
	_, get0 := reads()
	step(t, ctx, "9 s more", 20*time.Second,
		chromedp.Evaluate[chromedp.Void](`window.__updated = new Set();
			setInterval(() => window.__updated.add(document.querySelector("#facts").textContent), 200)`),
		chromedp.Sleep(9*time.Second),
	)
	_, get1 := reads()
	if n := get1 - get0; n > 3 {
		t.Errorf("a finished monitor read %d times in 9 s once nothing changed, want at most 3", n)
	}
	if n := get(t, ctx, "count what the facts showed", chromedp.Evaluate[int](`window.__updated.size`)); n < 5 {
		t.Errorf("the facts changed %d times in 9 s, want the times relative to now to move on", n)
	}

	step(t, ctx, "the list, quiet for a while", 20*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/"`),
		chromedp.WaitVisible(css(row("quiet-1"))),
		chromedp.Sleep(9*time.Second),
	)
	list0, _ := reads()
	api.add(running("new-1"))
	step(t, ctx, "a new monitor shows", 7*time.Second,
		chromedp.WaitVisible(css(row("new-1"))),
	)
	list1, _ := reads()
	t.Logf("list reads until the new monitor showed: %d", list1-list0)
}

// showsList waits until the list shows the page info and exactly the rows
// of the monitors ids, in that order.
func showsList(info string, ids ...string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf(`document.querySelector("#page-info").textContent === %q &&
		[...document.querySelectorAll("#rows tr")].map((tr) => tr.dataset.id).join() === %q`, info, strings.Join(ids, ",")))
}

// TestDashboardPausedNavigation pauses updates, then pages through the
// list (pressing Older twice at once), filters it and opens a monitor:
// each view asked for is read once, as Terminate and Purge do, and
// nothing more is read until updates resume.
func TestDashboardPausedNavigation(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, &fakeMonitor{id: "done-1", jobID: "done-1", interval: time.Second, timeout: time.Minute,
		completeAfter: 2, created: time.Now().Add(-time.Minute)},
		running("p-1"), running("p-2"), running("p-3"), running("p-4"))
	api.mu.Lock()
	api.pageSize = 2
	api.mu.Unlock()

	step(t, ctx, "page loads, then pause", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		showsList("Page 1 · 2 shown", "p-4", "p-3"),
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
		chromedp.Click(css(`#pause`)),
		waitJS(`document.querySelector("#live").classList.contains("paused")`),
	)
	step(t, ctx, "Older, pressed twice at once, shows the second page", 5*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#next").click(); document.querySelector("#next").click()`),
		showsList("Page 2 · 2 shown", "p-2", "p-1"),
	)
	step(t, ctx, "Older again, then Newer", 5*time.Second,
		chromedp.Click(css(`#next`)),
		showsList("Page 3 · 1 shown", "done-1"),
		chromedp.Click(css(`#prev`)),
		showsList("Page 2 · 2 shown", "p-2", "p-1"),
	)
	step(t, ctx, "filter by status", 5*time.Second,
		chromedp.Click(css(`input[name="status"][value="Completed"]`)),
		waitJS(`location.hash === "#/?status=Completed"`),
		showsList("Page 1 · 1 shown", "done-1"),
		chromedp.Click(css(`input[name="status"][value="Completed"]`)),
		showsList("Page 1 · 2 shown", "p-4", "p-3"),
	)
	step(t, ctx, "open a monitor", 5*time.Second,
		chromedp.Click(css(row("p-3")+` a`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelector("#facts").textContent.includes("Job id")`),
		waitJS(`document.querySelector("#events").children.length > 0`),
		waitJS(`document.querySelector("#live").classList.contains("paused")`),
	)
	reads := func() int {
		api.mu.Lock()
		defer api.mu.Unlock()
		return api.listCalls + api.getCalls
	}
	n := reads()
	step(t, ctx, "stay paused", 5*time.Second, chromedp.Sleep(3500*time.Millisecond))
	if got := reads() - n; got > 0 {
		t.Errorf("%d reads in 3.5 s while paused, want none", got)
	}
}

// TestDashboardPausedTimesMove pauses updates on a monitor's page and on
// the list: nothing is read, but the times relative to now ("Running for",
// "Updated … ago") still move on, so they stay true of the data shown.
func TestDashboardPausedTimesMove(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("still-1"))
	reads := func() int {
		api.mu.Lock()
		defer api.mu.Unlock()
		return api.listCalls + api.getCalls
	}
	watch := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.__seen = new Set();
			clearInterval(window.__watch);
			window.__watch = setInterval(() => window.__seen.add(document.querySelector(%q).textContent), 200)`, sel))
	}

	step(t, ctx, "open the monitor, pause", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/still-1"),
		waitJS(`document.querySelector("#facts").textContent.includes("Running for")`),
		chromedp.Click(css(`#pause`)),
		waitJS(`document.querySelector("#live").classList.contains("paused")`),
		chromedp.Sleep(500*time.Millisecond),
	)
	n := reads()
	step(t, ctx, "3.5 s paused", 10*time.Second, watch("#facts"), chromedp.Sleep(3500*time.Millisecond))
	if got := reads() - n; got > 0 {
		t.Errorf("%d reads in 3.5 s while paused, want none", got)
	}
	if seen := get(t, ctx, "count what the facts showed", chromedp.Evaluate[int](`window.__seen.size`)); seen < 3 {
		t.Errorf("the facts showed %d texts in 3.5 s while paused, want the relative times to move on", seen)
	}

	step(t, ctx, "the list, paused", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/"`),
		chromedp.WaitVisible(css(row("still-1"))),
		chromedp.Sleep(500*time.Millisecond),
	)
	n = reads()
	step(t, ctx, "3.5 s paused", 10*time.Second, watch(row("still-1")), chromedp.Sleep(3500*time.Millisecond))
	if got := reads() - n; got > 0 {
		t.Errorf("%d reads in 3.5 s while paused, want none", got)
	}
	if seen := get(t, ctx, "count what the row showed", chromedp.Evaluate[int](`window.__seen.size`)); seen < 2 {
		t.Errorf("the row showed %d texts in 3.5 s while paused, want its relative times to move on", seen)
	}
}
