package browsertest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardPagingWhileReading pages and filters the list while the
// page reads it, from an API that takes 600 ms to answer and where a
// monitor starts meanwhile: an answer for a page or a filter no longer
// asked for is not shown, Older pressed twice before its page came goes
// one page on, and Older and Newer say they are unavailable until it came.
func TestDashboardPagingWhileReading(t *testing.T) {
	ctx := browser(t)
	monitors := []*fakeMonitor{{id: "done-1", jobID: "done-1", interval: time.Second, timeout: time.Minute,
		completeAfter: 2, created: time.Now().Add(-time.Minute)}}
	for i := 1; i <= 7; i++ {
		monitors = append(monitors, running(fmt.Sprintf("m-%d", i)))
	}
	api, base := serveFake(t, monitors...)
	api.mu.Lock()
	api.pageSize = 3
	api.mu.Unlock()

	step(t, ctx, "page loads", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		showsList("Page 1 · 3 shown", "m-7", "m-6", "m-5"),
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
	)
	// Every state of the list the page shows, as page info|rows.
	get(t, ctx, "watch the list", chromedp.Evaluate[chromedp.Void](`window.__shown = [];
		window.__snap = () => {
			const s = document.querySelector("#page-info").textContent + "|" +
				[...document.querySelectorAll("#rows tr")].map((tr) => tr.dataset.id).join();
			if (window.__shown.at(-1) !== s) window.__shown.push(s);
		};
		window.__snap();
		const o = new MutationObserver(window.__snap);
		o.observe(document.querySelector("#rows"), {childList: true});
		o.observe(document.querySelector("#page-info"), {childList: true, characterData: true, subtree: true})`))
	shown := func(want ...string) {
		t.Helper()
		got := get(t, ctx, "read what the list showed", chromedp.Evaluate[[]string](`window.__shown`))
		if !slices.Equal(got, want) {
			t.Errorf("the list showed %q, want %q", got, want)
		}
	}
	api.mu.Lock()
	api.listDelay = 600 * time.Millisecond
	api.mu.Unlock()
	// duringRead waits until the page's next read of the list begins, then
	// starts monitor id, which the answer to that read then holds.
	duringRead := func(id string) {
		t.Helper()
		api.mu.Lock()
		n := api.listCalls
		api.mu.Unlock()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			api.mu.Lock()
			began := api.listCalls > n
			api.mu.Unlock()
			if began {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the page did not read the list in 10 s")
			}
		}
		api.add(running(id))
	}

	duringRead("m-8")
	busy := get(t, ctx, "press Older twice", chromedp.Evaluate[string](`(() => { const b = document.querySelector("#next");
		b.click(); b.click(); return String(b.getAttribute("aria-disabled")) })()`))
	if busy != "true" {
		t.Errorf("Older while its page is read: aria-disabled=%q, want true", busy)
	}
	step(t, ctx, "the second page shows", 5*time.Second,
		showsList("Page 2 · 3 shown", "m-5", "m-4", "m-3"),
		waitJS(`document.querySelector("#next").getAttribute("aria-disabled") !== "true"`),
		chromedp.Sleep(700*time.Millisecond),
	)
	shown("Page 1 · 3 shown|m-7,m-6,m-5", "Page 2 · 3 shown|m-5,m-4,m-3")
	step(t, ctx, "Older again, then Newer", 5*time.Second,
		chromedp.Click(css(`#next`)),
		showsList("Page 3 · 3 shown", "m-2", "m-1", "done-1"),
		chromedp.Click(css(`#prev`)),
		showsList("Page 2 · 3 shown", "m-5", "m-4", "m-3"),
	)

	get(t, ctx, "watch again", chromedp.Evaluate[chromedp.Void](`window.__shown = []; window.__snap()`))
	duringRead("m-9")
	step(t, ctx, "filter by status", 5*time.Second,
		chromedp.Click(css(`input[name="status"][value="Completed"]`)),
		showsList("Page 1 · 1 shown", "done-1"),
		chromedp.Sleep(700*time.Millisecond),
	)
	shown("Page 2 · 3 shown|m-5,m-4,m-3", "Page 1 · 1 shown|done-1")
}

// TestDashboardBrandShowsFirstPage goes two pages on, then follows the
// brand link ("stepmon: all monitors"): it shows page 1, the newest
// monitors, as a reload does; so does following it from a monitor's page.
// Newer is disabled on the first page, Older on the last.
func TestDashboardBrandShowsFirstPage(t *testing.T) {
	ctx := browser(t)
	_, base := servePaged(t, "b", 5, 2)

	older := []chromedp.Action[chromedp.Void]{
		chromedp.Click(css(`#next`)),
		showsList("Page 2 · 2 shown", "b-3", "b-2"),
		chromedp.Click(css(`#next`)),
		showsList("Page 3 · 1 shown", "b-1"),
	}
	step(t, ctx, "page loads, Older twice", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		showsList("Page 1 · 2 shown", "b-5", "b-4"),
	)
	step(t, ctx, "Older twice", 10*time.Second, older...)
	// The last page: Older is disabled, Newer is not.
	step(t, ctx, "the last page's buttons", 10*time.Second,
		waitJS(`document.querySelector("#next").disabled && !document.querySelector("#prev").disabled`),
	)
	step(t, ctx, "the brand link shows page 1", 10*time.Second,
		chromedp.Click(css(`.brand`)),
		showsList("Page 1 · 2 shown", "b-5", "b-4"),
		waitJS(`location.hash === "#/"`),
		waitJS(`!document.querySelector("#next").disabled && document.querySelector("#prev").disabled`),
	)
	step(t, ctx, "Older twice", 10*time.Second, older...)
	step(t, ctx, "open a monitor, then the brand link", 10*time.Second,
		chromedp.Click(css(row("b-1")+` a`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		chromedp.Click(css(`.brand`)),
		showsList("Page 1 · 2 shown", "b-5", "b-4"),
	)
	step(t, ctx, "Older twice", 10*time.Second, older...)
	step(t, ctx, "the breadcrumb still goes back to the page left", 10*time.Second,
		chromedp.Click(css(row("b-1")+` a`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		chromedp.Click(css(`#crumb-list`)),
		showsList("Page 3 · 1 shown", "b-1"),
	)
}

// servePaged serves the fake API with n running monitors, prefix-1 to
// prefix-n (the newest last), listed pageSize a page.
func servePaged(t *testing.T, prefix string, n, pageSize int) (*fakeAPI, string) {
	t.Helper()
	var monitors []*fakeMonitor
	for i := 1; i <= n; i++ {
		monitors = append(monitors, running(fmt.Sprintf("%s-%d", prefix, i)))
	}
	api, base := serveFake(t, monitors...)
	api.mu.Lock()
	api.pageSize = pageSize
	api.mu.Unlock()
	return api, base
}
