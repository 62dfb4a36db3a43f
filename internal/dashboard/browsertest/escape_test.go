package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardShowsMarkupAsText opens a monitor whose job id and
// terminate reason are HTML (the API refuses such a job id, the scripted
// API does not; a reason may be any text): the page shows them as text,
// in the list, the facts, the JSON, the history and the timeline, and
// runs nothing.
func TestDashboardShowsMarkupAsText(t *testing.T) {
	ctx := browser(t)
	const markup = `<img src=x onerror="window.__xss=1">`
	m := running("markup-1")
	m.jobID = markup
	api, base := serveFake(t, m)

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/markup-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
		waitJS(`document.querySelector("#events").children.length > 0`),
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #reason`)),
		chromedp.SetValue(css(`#reason`), `<script>window.__xss=2</script>`+markup),
		chromedp.Click(css(`#confirm-ok`)),
		waitJS(`[...document.querySelectorAll("#events td")].some(td => td.textContent === "ExecutionAborted")`),
		// Every bar's tooltip, once.
		chromedp.Evaluate[chromedp.Void](`for (const b of document.querySelectorAll("#timeline .tl-bar")) {
			const r = b.getBoundingClientRect();
			b.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, clientX: r.x + 1, clientY: r.y + 2}));
		}`),
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/"`),
		chromedp.WaitVisible(css(row("markup-1"))),
		chromedp.Evaluate[chromedp.Void](`history.back()`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Terminated"`),
		// The facts and the output are drawn from the record read after
		// Back, which a loaded machine may bring after the badge.
		waitJS(`document.querySelector("#output").textContent.includes("Terminated")`),
		chromedp.Sleep(300*time.Millisecond),
	)
	api.mu.Lock()
	reason := api.monitors["markup-1"].reason
	api.mu.Unlock()
	if !strings.Contains(reason, "<script>") {
		t.Fatalf("terminate reason: got %q, want the markup typed", reason)
	}
	type found struct {
		XSS     any
		Images  int
		Scripts int
		Text    string
	}
	got := get(t, ctx, "look for injected markup", chromedp.Evaluate[found](`({
		XSS: window.__xss ?? null,
		Images: document.querySelectorAll("main img, #tip img, #toasts img").length,
		Scripts: document.scripts.length,
		Text: document.querySelector("#facts").textContent + document.querySelector("#output").textContent,
	})`))
	if got.XSS != nil || got.Images != 0 || got.Scripts != 1 {
		t.Errorf("markup ran or became elements: __xss=%v, %d images, %d scripts", got.XSS, got.Images, got.Scripts)
	}
	if !strings.Contains(got.Text, markup) || !strings.Contains(got.Text, "<script>window.__xss=2</script>") {
		t.Errorf("the job id and reason are not shown as text: %q", got.Text)
	}
}
