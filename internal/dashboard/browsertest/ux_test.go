package browsertest

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/stepmon/stepmon/internal/dashboard"
)

// TestDashboardGatewayErrorPage: a proxy's or load balancer's HTML error
// page in front of the API is no message: the banner and the error
// notice say its status, short, and the notice's Dismiss stays on the
// screen. (The whole page was printed, some 4,000 characters, and the
// notice grew past the top of the window.)
func TestDashboardGatewayErrorPage(t *testing.T) {
	ctx := browser(t)
	api := newFakeAPI()
	api.add(running("gw-1"))
	var gateway atomic.Bool
	mux := http.NewServeMux()
	api.routes(mux)
	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler()))
	page := "<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>" + strings.Repeat("body{margin:0}", 250) +
		"</style></head><body><h1>502 Bad Gateway</h1></body></html>"
	base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gateway.Load() && !strings.HasPrefix(r.URL.Path, "/ui/") {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, page)
			return
		}
		mux.ServeHTTP(w, r)
	}))

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/gw-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
	)
	gateway.Store(true)
	step(t, ctx, "terminate through the failing gateway", 15*time.Second,
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
		chromedp.Click(css(`#confirm-ok`)),
		chromedp.WaitVisible(css(`#toasts .toast.err`)),
		waitJS(`!document.querySelector("#offline").hidden`),
	)
	toast := get(t, ctx, "read the notice", chromedp.Evaluate[string](`document.querySelector("#toasts .toast.err").textContent`))
	banner := get(t, ctx, "read the banner", chromedp.Evaluate[string](`document.querySelector("#offline").textContent`))
	for what, text := range map[string]string{"notice": toast, "banner": banner} {
		if !strings.Contains(text, "HTTP 502 Bad Gateway") || strings.Contains(text, "<") || len(text) > 400 {
			t.Errorf("%s %.120q (%d characters); want HTTP 502 Bad Gateway, without the page", what, text, len(text))
		}
	}
	top := get(t, ctx, "where Dismiss is", chromedp.Evaluate[float64](`document.querySelector("#toasts .toast.err button").getBoundingClientRect().top`))
	if top < 0 {
		t.Errorf("Dismiss at y=%v, above the window", top)
	}
}

// TestDashboardListKeyboardAndMouse: on the list, Older and Newer pressed
// from the keyboard up to the last and the first page leave focus on the
// other button, not on the page's body; a row's Created time says its
// zone; text selected in a row can be copied (the click that ends the
// selection opens nothing); and the demo form closes on Escape, with
// focus back on its button.
func TestDashboardListKeyboardAndMouse(t *testing.T) {
	ctx := browser(t)
	api, base := servePaged(t, "k", 5, 2)
	focused := `document.activeElement && document.activeElement.id`

	step(t, ctx, "page loads", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		showsList("Page 1 · 2 shown", "k-5", "k-4"),
	)
	step(t, ctx, "Older to the last page", 15*time.Second,
		chromedp.Focus(css(`#next`)),
		chromedp.KeyEvent(kb.Enter),
		showsList("Page 2 · 2 shown", "k-3", "k-2"),
		chromedp.KeyEvent(kb.Enter),
		showsList("Page 3 · 1 shown", "k-1"),
	)
	if id := get(t, ctx, "read the focus", chromedp.Evaluate[string](focused)); id != "prev" {
		t.Errorf("on the last page, focus on %q, want Newer (prev)", id)
	}
	step(t, ctx, "Newer to the first page", 15*time.Second,
		chromedp.KeyEvent(kb.Enter),
		showsList("Page 2 · 2 shown", "k-3", "k-2"),
		chromedp.Focus(css(`#prev`)),
		chromedp.KeyEvent(kb.Enter),
		showsList("Page 1 · 2 shown", "k-5", "k-4"),
	)
	if id := get(t, ctx, "read the focus", chromedp.Evaluate[string](focused)); id != "next" {
		t.Errorf("on the first page, focus on %q, want Older (next)", id)
	}
	// Two pages: the button to take focus was disabled until this page.
	api.mu.Lock()
	api.pageSize = 3
	api.mu.Unlock()
	step(t, ctx, "two pages: Older", 15*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#next").focus()`),
		showsList("Page 1 · 3 shown", "k-5", "k-4", "k-3"),
		chromedp.KeyEvent(kb.Enter),
		showsList("Page 2 · 2 shown", "k-2", "k-1"),
	)
	if id := get(t, ctx, "read the focus", chromedp.Evaluate[string](focused)); id != "prev" {
		t.Errorf("on the second of two pages, focus on %q, want Newer (prev)", id)
	}
	step(t, ctx, "two pages: Newer", 15*time.Second,
		chromedp.KeyEvent(kb.Enter),
		showsList("Page 1 · 3 shown", "k-5", "k-4", "k-3"),
	)
	if id := get(t, ctx, "read the focus", chromedp.Evaluate[string](focused)); id != "next" {
		t.Errorf("on the first of two pages, focus on %q, want Older (next)", id)
	}

	title := get(t, ctx, "read Created's title", chromedp.Evaluate[string](`document.querySelector("#rows tr").cells[6].title`))
	if !strings.Contains(title, "UTC") && !strings.Contains(title, "GMT") && !strings.ContainsAny(title, "+-") {
		t.Errorf("Created's title %q, want the time with its zone", title)
	}

	hash := get(t, ctx, "select a row's text and click", chromedp.Evaluate[string](`(() => {
		const cell = document.querySelector("#rows tr").cells[2];
		getSelection().selectAllChildren(cell);
		cell.dispatchEvent(new MouseEvent("click", {bubbles: true, button: 0}));
		return location.hash })()`))
	if hash != "#/" && hash != "" {
		t.Errorf("a click ending a selection went to %q, want the list left alone", hash)
	}
	get(t, ctx, "clear the selection", chromedp.Evaluate[chromedp.Void](`getSelection().removeAllRanges()`))

	step(t, ctx, "the demo form closes on Escape", 10*time.Second,
		chromedp.Click(css(`#start summary`)),
		waitJS(`document.querySelector("#start").open`),
		chromedp.Focus(css(`#start-form input[name="job_id"]`)),
		chromedp.KeyEvent(kb.Escape),
		waitJS(`!document.querySelector("#start").open && document.activeElement === document.querySelector("#start summary")`),
	)
	step(t, ctx, "and on a click elsewhere", 10*time.Second,
		chromedp.Click(css(`#start summary`)),
		waitJS(`document.querySelector("#start").open`),
		chromedp.Click(css(`#list-title`)),
		waitJS(`!document.querySelector("#start").open`),
	)
}

// TestDashboardShowOlderKeepsFocus: pressing Show older events from the
// keyboard until the oldest are shown leaves focus on the history's
// heading, not on the page's body, as the button hides.
func TestDashboardShowOlderKeepsFocus(t *testing.T) {
	ctx := browser(t)
	const checks = 100 // about 900 events: the newest 500 shown, one press shows the rest
	_, base := serveFake(t, &fakeMonitor{id: "older-1", jobID: "older-1", interval: time.Second, timeout: 2 * time.Hour,
		completeAfter: checks, created: time.Now().Add(-checks*time.Second - 5*time.Second)})
	step(t, ctx, "open the monitor", 15*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/older-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed" && !document.querySelector("#events-older").hidden`),
		chromedp.Focus(css(`#events-older`)),
		chromedp.KeyEvent(kb.Enter),
		waitJS(`document.querySelector("#events-older").hidden`),
	)
	if id := get(t, ctx, "read the focus", chromedp.Evaluate[string](`document.activeElement && document.activeElement.id`)); id != "events-title" {
		t.Errorf("after the oldest events are shown, focus on %q, want the history's heading", id)
	}
}
