package browsertest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestDashboardServerGone stops answering while the page is open, then
// answers again: the page says in a banner that it cannot reach the API,
// since when and how old what it shows is, keeps showing it, and recovers
// by itself.
func TestDashboardServerGone(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("gone-1"))

	step(t, ctx, "page loads", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("gone-1"))),
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
		waitJS(`document.querySelector("#offline").hidden`),
	)
	api.setDown(true)
	step(t, ctx, "the server goes away", 10*time.Second,
		waitJS(`document.querySelector("#live").classList.contains("err")`),
		chromedp.WaitVisible(css(`#offline`)),
	)
	banner := get(t, ctx, "read the banner", chromedp.Evaluate[string](`document.querySelector("#offline").textContent`))
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`Cannot reach the API since \d\d:\d\d:\d\d`),
		regexp.MustCompile(`shows what it read at \d\d:\d\d:\d\d`),
		regexp.MustCompile(`tries again`),
	} {
		if !want.MatchString(banner) {
			t.Errorf("banner %q lacks %s", banner, want)
		}
	}
	state := get(t, ctx, "read the header", chromedp.Evaluate[string](`document.querySelector("#live-text").textContent`))
	if state != "Cannot reach the API" {
		t.Errorf("header's live region: got %q, want only the state, %q", state, "Cannot reach the API")
	}
	if header := get(t, ctx, "read the header", chromedp.Evaluate[string](`document.querySelector("#live").textContent`)); !strings.Contains(header, "last update") {
		t.Errorf("header %q lacks the time of the last update", header)
	}
	if n := get(t, ctx, "count rows", chromedp.Evaluate[int](`document.querySelectorAll("#rows tr").length`)); n != 1 {
		t.Errorf("rows while the server is gone: got %d, want the 1 last read", n)
	}

	api.setDown(false)
	step(t, ctx, "the server is back", 10*time.Second,
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
		waitJS(`document.querySelector("#offline").hidden`),
		waitJS(`document.querySelector("#live-text").textContent === "Live"`),
	)
}

// TestDashboardServerHangs stops answering without closing the
// connections (a server that is stopped, not gone): the page gives up
// waiting and says so, rather than showing old data as live.
func TestDashboardServerHangs(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("hang-1"))
	// The page's timeouts run ten times faster, so the test need not wait
	// for the real ones.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `AbortSignal.timeout = ((timeout) => (ms) => timeout.call(AbortSignal, ms / 10))(AbortSignal.timeout);`,
	}); err != nil {
		t.Fatalf("Page.addScriptToEvaluateOnNewDocument: %v", err)
	}

	step(t, ctx, "page loads", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/hang-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
	)
	api.setHang(true)
	step(t, ctx, "the server stops answering", 10*time.Second,
		waitJS(`document.querySelector("#live").classList.contains("err")`),
		chromedp.WaitVisible(css(`#offline`)),
	)
	if banner := get(t, ctx, "read the banner", chromedp.Evaluate[string](`document.querySelector("#offline").textContent`)); !strings.Contains(banner, "no answer") {
		t.Errorf("banner %q does not say the API did not answer", banner)
	}
	api.setHang(false)
	step(t, ctx, "the server answers again", 10*time.Second,
		waitJS(`document.querySelector("#live").classList.contains("ok") && document.querySelector("#offline").hidden`),
	)
}

// TestDashboardMonitorReadFails answers the reads of a monitor already on
// screen with 503: that is a failed refresh, not news about the monitor.
// The header says the API answers with an error, the banner gives the time
// of the data shown and of the first failure, and those times stay put
// until a read works again.
func TestDashboardMonitorReadFails(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("fail-1"))
	setStatus := func(code int) {
		api.mu.Lock()
		api.getStatus = code
		api.mu.Unlock()
	}

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/fail-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelector("#live-text").textContent === "Live"`),
	)
	for _, code := range []int{503, 429, 500} {
		setStatus(code)
		step(t, ctx, fmt.Sprintf("its reads fail with %d", code), 10*time.Second,
			waitJS(`document.querySelector("#live-text").textContent === "The API answers with an error"`),
			chromedp.WaitVisible(css(`#offline`)),
		)
		before := get(t, ctx, "read the header", chromedp.Evaluate[string](`document.querySelector("#live-time").textContent`))
		since := regexp.MustCompile(`since \d\d:\d\d:\d\d`)
		sinceBefore := since.FindString(get(t, ctx, "read the banner", chromedp.Evaluate[string](`document.querySelector("#offline").textContent`)))
		step(t, ctx, "two more failed reads", 10*time.Second, chromedp.Sleep(3200*time.Millisecond))
		if after := get(t, ctx, "read the header", chromedp.Evaluate[string](`document.querySelector("#live-time").textContent`)); after != before || !strings.Contains(after, "last update") {
			t.Errorf("header's time went from %q to %q while reads failed, want the last update's, unchanged", before, after)
		}
		banner := get(t, ctx, "read the banner", chromedp.Evaluate[string](`document.querySelector("#offline").textContent`))
		if sinceAfter := since.FindString(banner); sinceAfter != sinceBefore {
			t.Errorf("%d: banner went from %q to %q while reads failed, want the time of the first failure, unchanged", code, sinceBefore, sinceAfter)
		}
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`The API answers with an error since \d\d:\d\d:\d\d`),
			regexp.MustCompile(`\(the status table is unavailable\)`), // the message, not the answer's JSON
			regexp.MustCompile(`shows what it read at \d\d:\d\d:\d\d`),
		} {
			if !want.MatchString(banner) {
				t.Errorf("%d: banner %q lacks %s", code, banner, want)
			}
		}
		if badge := get(t, ctx, "read the badge", chromedp.Evaluate[string](`document.querySelector("#detail-badge").textContent`)); badge != "Running" {
			t.Errorf("%d: badge %q, want the Running last read", code, badge)
		}
		setStatus(0)
		step(t, ctx, "reads work again", 10*time.Second,
			waitJS(`document.querySelector("#live-text").textContent === "Live" && document.querySelector("#offline").hidden`),
			waitJS(`document.querySelector("#detail-error").hidden`),
		)
	}

	setStatus(503)
	step(t, ctx, "open it while its reads fail", 10*time.Second,
		chromedp.Navigate("about:blank"),
		chromedp.Navigate(base+"/ui/#/monitors/fail-1"),
		waitJS(`document.querySelector("#live-text").textContent === "The API answers with an error"`),
		waitJS(`document.querySelector("#offline").textContent.includes("has read nothing yet")`),
	)
	setStatus(0)
	step(t, ctx, "and once they work", 10*time.Second,
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && document.querySelector("#live-text").textContent === "Live"`),
	)
	step(t, ctx, "a monitor that does not exist is not a failure", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/nope-1"`),
		waitJS(`document.querySelector("#detail-error").textContent.includes("does not exist")`),
		waitJS(`document.querySelector("#live-text").textContent === "Live" && document.querySelector("#offline").hidden`),
	)
}

// TestDashboardUnreachableIsItsOwnError: the page tells a connection that
// failed (api.UnreachableError, in its own words) from the API's error
// answers and from its own failures, which it once all took for an
// unreachable API.
func TestDashboardUnreachableIsItsOwnError(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("u-1"))
	step(t, ctx, "the list", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("u-1"))),
	)
	classify := `(async () => {
		const api = await import("./api.js");
		try { await api.getMonitor(%q); return "no error"; }
		catch (e) { return (e instanceof api.UnreachableError ? "unreachable" : e instanceof api.ApiError ? "api" : "other") + ": " + e.message; }
	})()`
	if got := get(t, ctx, "an unknown monitor", chromedp.Evaluate[string](fmt.Sprintf(classify, "nope"), chromedp.EvalAwaitPromise)); !strings.HasPrefix(got, "api: ") {
		t.Errorf("a 404: %q, want an ApiError", got)
	}
	api.setDown(true)
	if got := get(t, ctx, "the API gone", chromedp.Evaluate[string](fmt.Sprintf(classify, "u-1"), chromedp.EvalAwaitPromise)); got != "unreachable: no answer from the server" {
		t.Errorf("a failed connection: %q, want an UnreachableError saying there was no answer from the server", got)
	}
}
