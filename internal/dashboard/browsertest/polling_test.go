package browsertest

import (
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
