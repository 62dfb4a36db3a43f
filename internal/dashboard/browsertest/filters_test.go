package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardFilterHelp checks what the list says about its filters:
// the search box filters the rows of the page shown only, and a Failed
// status is the monitor's own (a failed job's monitor is Completed, with
// job status Failed), in the descriptions of both and in the empty list
// of the Failed filter.
func TestDashboardFilterHelp(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, finished("help-1"))

	step(t, ctx, "the list", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("help-1"))),
	)
	described := func(sel string) string {
		return get(t, ctx, "read the description of "+sel, chromedp.Evaluate[string](`(document.querySelector(`+"`"+sel+"`"+`).getAttribute("aria-describedby") || "")
			.split(" ").map((id) => document.getElementById(id)?.textContent || "").join(" ").replace(/\s+/g, " ")`))
	}
	if d := described(`#search`); !strings.Contains(d, "this page only") {
		t.Errorf("the search box is described as %q, want it to say it filters this page only", d)
	}
	if d := described(`fieldset.chips`); !strings.Contains(d, "Completed, with job status Failed") {
		t.Errorf("the status chips are described as %q, want it to say a failed job's monitor is Completed", d)
	}
	// The filter box hiding every row of the page: the count says how
	// many the page holds.
	step(t, ctx, "filter the page's rows away", 10*time.Second,
		chromedp.SendKeys(css(`#search`), "zzz"),
		waitJS(`document.querySelectorAll("#rows tr").length === 0`),
	)
	if info := get(t, ctx, "read the page's count", chromedp.Evaluate[string](`document.querySelector("#page-info").textContent`)); info != "Page 1 · 0 of 1 shown" {
		t.Errorf("page info %q, want %q", info, "Page 1 · 0 of 1 shown")
	}
	step(t, ctx, "clear the filter box", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#search"); s.value = ""; s.dispatchEvent(new Event("input")); })()`),
		chromedp.WaitVisible(css(row("help-1"))),
	)
	step(t, ctx, "filter by Failed", 10*time.Second,
		chromedp.Click(css(`input[name="status"][value="Failed"]`)),
		waitJS(`!document.querySelector("#empty").hidden && document.querySelectorAll("#rows tr").length === 0`),
	)
	if e := get(t, ctx, "read the empty list", chromedp.Evaluate[string](`document.querySelector("#empty").textContent`)); !strings.Contains(e, "job status Failed") {
		t.Errorf("the empty Failed list says %q, want it to point to Completed with job status Failed", e)
	}
}

// TestDashboardEmptyFailedAndCompleted filters by Failed and Completed
// where there are neither: the empty list says so, without pointing to
// Completed, which the filter already takes.
func TestDashboardEmptyFailedAndCompleted(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("busy-1"))

	step(t, ctx, "the list of Failed and Completed", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/?status=Failed,Completed"),
		waitJS(`document.querySelector("#live").classList.contains("ok") && !document.querySelector("#empty").hidden`),
	)
	if e := get(t, ctx, "read the empty list", chromedp.Evaluate[string](`document.querySelector("#empty").textContent`)); e != "No monitors with this status." {
		t.Errorf("the empty list says %q, want No monitors with this status.", e)
	}
}
