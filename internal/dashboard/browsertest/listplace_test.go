package browsertest

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestDashboardBackToRow opens the 81st monitor of a long list from the
// keyboard, then goes Back: the list is where it was left, scrolled as it
// was, with focus on the link of the row opened, so that the next Tab goes
// on from there rather than from the top.
func TestDashboardBackToRow(t *testing.T) {
	ctx := browser(t)
	var ms []*fakeMonitor
	for i := range 120 {
		ms = append(ms, running(fmt.Sprintf("row-%03d", i)))
	}
	_, base := serveFake(t, ms...)
	link := fmt.Sprintf(`document.querySelector(%q)`, row("row-039")+" a") // the 81st row, newest first

	step(t, ctx, "open the 81st monitor from the keyboard", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		waitJS(`document.querySelectorAll("#rows tr").length === 120`),
		chromedp.Evaluate[chromedp.Void](link+`.focus()`),
		waitJS(`scrollY > 0`),
		chromedp.Evaluate[chromedp.Void](`window.__y = scrollY`),
		chromedp.KeyEvent(kb.Enter),
		waitJS(`location.hash === "#/monitors/row-039" && document.activeElement.id === "detail-title"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
	)
	step(t, ctx, "Back", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`history.back()`),
		waitJS(`!document.querySelector("#list-view").hidden`),
		waitJS(`document.activeElement === `+link),
	)
	type place struct {
		Y, Was  float64
		InSight bool
	}
	got := get(t, ctx, "read the place", chromedp.Evaluate[place](`(() => {
		const r = `+link+`.getBoundingClientRect();
		return {Y: scrollY, Was: window.__y, InSight: r.top >= 0 && r.bottom <= innerHeight};
	})()`))
	if got.Y != got.Was || !got.InSight {
		t.Errorf("after Back: scrolled to %v with the row's link in sight: %v; want %v, as left, with the link in sight", got.Y, got.InSight, got.Was)
	}
}
