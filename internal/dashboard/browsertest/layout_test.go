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
	// The status shows beside the longest id, which is cut, whole in
	// its tooltip; at the default width every column shows.
	if !get(t, ctx, "read whether the status shows", chromedp.Evaluate[bool](statusInView)) {
		t.Errorf("on a 390 px window the list's Status column is out of view")
	}
	if title := get(t, ctx, "read the id's tooltip", chromedp.Evaluate[string](`document.querySelector('#rows tr a').title`)); title != id {
		t.Errorf("the id's tooltip %q, want the whole id", title)
	}
	step(t, ctx, "the list on a wide window", 10*time.Second,
		chromedp.EmulateViewport(1280, 900),
		chromedp.WaitVisible(css(row(id))),
	)
	if !get(t, ctx, "read whether every column shows", chromedp.Evaluate[bool](`(() => {
		const wrap = document.querySelector("#monitors").parentElement;
		return wrap.scrollWidth <= wrap.clientWidth + 1;
	})()`)) {
		t.Errorf("on a 1280 px window the list with the longest id scrolls sideways: a column is out of view")
	}
}

// statusInView is whether the list's Status heading is within its
// scrolling box, not past its right edge.
const statusInView = `(() => {
  const wrap = document.querySelector("#monitors").parentElement.getBoundingClientRect();
  const th = document.querySelector("#monitors th:nth-child(3)").getBoundingClientRect();
  return th.right <= wrap.right + 1;
})()`
