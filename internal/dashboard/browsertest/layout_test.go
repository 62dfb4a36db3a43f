package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// overflow lists what sticks out of the viewport sideways, making the
// whole page scroll: elements whose right edge is past the window's.
const overflow = `(() => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!el.checkVisibility()) continue;
    let clipped = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o !== "visible") { clipped = true; break; }
    }
    if (clipped) continue;
    const r = el.getBoundingClientRect();
    if (r.right > innerWidth + 1) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + String(el.className).replace(/ /g, ".") + " to " + Math.round(r.right) + "px");
  }
  return out;
})()`

// TestDashboardNarrowLongIDs opens a monitor with the longest instance id
// and job id the API allows on a phone-sized window: nothing makes the
// page scroll sideways, the ids are shown whole, and the history keeps
// its Time column.
func TestDashboardNarrowLongIDs(t *testing.T) {
	ctx := browser(t)
	id := strings.Repeat("a", 64)
	jobID := "jobs:" + strings.Repeat("b", 123)
	_, base := serveFake(t, &fakeMonitor{id: id, jobID: jobID, interval: time.Second, timeout: time.Minute,
		completeAfter: 3, created: time.Now().Add(-time.Minute)})

	step(t, ctx, "open the monitor on a narrow window", 10*time.Second,
		chromedp.EmulateViewport(390, 800),
		chromedp.Navigate(base+"/ui/#/monitors/"+id),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelector("#events").children.length > 0`),
	)
	if out := get(t, ctx, "look for overflow", chromedp.Evaluate[[]string](overflow)); len(out) > 0 {
		t.Errorf("the monitor's page is wider than a 390 px window: %s", strings.Join(out, ", "))
	}
	cut := get(t, ctx, "look for cut values", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#facts dd, #detail-title")]
		.filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent)`))
	if len(cut) > 0 {
		t.Errorf("values cut off: %q", cut)
	}
	cols := get(t, ctx, "read the history's columns", chromedp.Evaluate[[]string](`[...document.querySelectorAll(".events th")]
		.filter((th) => th.checkVisibility()).map((th) => th.textContent)`))
	if !strings.Contains(strings.Join(cols, ","), "Time") {
		t.Errorf("history columns on a narrow window: %q, want Time among them", cols)
	}

	step(t, ctx, "the list on a narrow window", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/"`),
		chromedp.WaitVisible(css(row(id))),
	)
	if out := get(t, ctx, "look for overflow", chromedp.Evaluate[[]string](overflow)); len(out) > 0 {
		t.Errorf("the list is wider than a 390 px window: %s", strings.Join(out, ", "))
	}
}
