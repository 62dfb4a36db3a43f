package browsertest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestDashboardLiveRegion watches the connection state's live region over
// several refreshes: it changes with the state (live, paused), not with
// every refresh, while the time of the last update is still shown.
func TestDashboardLiveRegion(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("live-1"))

	step(t, ctx, "page loads", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("live-1"))),
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
		chromedp.Evaluate[chromedp.Void](`window.__announced = [];
			for (const r of document.querySelectorAll('[aria-live], [role="status"], [role="alert"]')) {
				if (r.id === "toasts") continue;
				new MutationObserver(() => window.__announced.push(r.textContent)).observe(r, {subtree: true, childList: true, characterData: true});
			}`),
		chromedp.Sleep(3200*time.Millisecond),
	)
	announced := get(t, ctx, "read the announcements", chromedp.Evaluate[[]string](`window.__announced`))
	if len(announced) > 0 {
		t.Errorf("live regions changed %d times over two refreshes, want none: %q", len(announced), announced)
	}
	if text := get(t, ctx, "read the header", chromedp.Evaluate[string](`document.querySelector("#live").textContent`)); !strings.Contains(text, "updated") {
		t.Errorf("connection state %q lacks the time of the last update", text)
	}
	step(t, ctx, "pause", 5*time.Second,
		chromedp.Click(css(`#pause`)),
		waitJS(`window.__announced.some((t) => t.includes("Paused"))`),
	)
	// A toggle button keeps its name; its state is aria-pressed, else a
	// screen reader says "Resume updates, pressed", which reads backwards.
	type toggle struct{ Name, Pressed string }
	for _, want := range []toggle{{"Pause updates", "true"}, {"Pause updates", "false"}} {
		got := get(t, ctx, "read the toggle", chromedp.Evaluate[toggle](`({Name: document.querySelector("#pause").textContent,
			Pressed: document.querySelector("#pause").getAttribute("aria-pressed")})`))
		if got != want {
			t.Errorf("pause button: got %+v, want %+v", got, want)
		}
		get(t, ctx, "press it again", chromedp.Click(css(`#pause`)))
	}
}

// TestDashboardTimelineKeyboard moves through a timeline's bars with the
// keyboard: one tab stop, arrow keys between bars, the tooltip on focus,
// which Escape hides.
func TestDashboardTimelineKeyboard(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, &fakeMonitor{id: "keys-1", jobID: "keys-1", interval: time.Second, timeout: time.Minute,
		completeAfter: 4, created: time.Now().Add(-time.Minute)},
		&fakeMonitor{id: "keys-2", jobID: "keys-2", interval: time.Second, timeout: time.Hour,
			completeAfter: 1 << 30, created: time.Now().Add(-5 * time.Second)})

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/keys-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 4`),
		waitJS(`document.querySelectorAll('#timeline [tabindex="0"]').length === 1`),
	)
	tipAfter := func(what string, keys string, want string) {
		t.Helper()
		step(t, ctx, what, 5*time.Second,
			chromedp.KeyEvent(keys),
			waitJS(`document.activeElement.classList.contains("tl-bar") && !document.querySelector("#tip").hidden`),
			waitJS(`document.querySelectorAll('#timeline [tabindex="0"]').length === 1 && document.activeElement.tabIndex === 0`),
		)
		tip := get(t, ctx, "read the tooltip", chromedp.Evaluate[string](`document.querySelector("#tip").innerText`))
		if !strings.HasPrefix(tip, want) {
			t.Errorf("%s: tooltip %q, want %s", what, tip, want)
		}
		if role := get(t, ctx, "read the bar's role", chromedp.Evaluate[string](`document.activeElement.getAttribute("role") || ""`)); role != "img" {
			t.Errorf("%s: focused bar's role %q, want img, which its aria-label names", what, role)
		}
		label := get(t, ctx, "read the bar's name", chromedp.Evaluate[string](`document.activeElement.getAttribute("aria-label") || ""`))
		if !strings.HasPrefix(label, want) {
			t.Errorf("%s: focused bar's aria-label %q, want %s…", what, label, want)
		}
	}
	get(t, ctx, "focus the window menu", chromedp.Focus(css(`#tl-window`)))
	tipAfter("Tab into the timeline", kb.Tab, "Check #4")
	tipAfter("ArrowLeft", kb.ArrowLeft, "Check #3")
	tipAfter("Home", kb.Home, "Check #1")
	tipAfter("ArrowDown", kb.ArrowDown, "Evaluate #1")
	tipAfter("ArrowRight", kb.ArrowRight, "Evaluate #2")
	tipAfter("End", kb.End, "Evaluate #4")
	tipAfter("ArrowUp", kb.ArrowUp, "Check #4")
	step(t, ctx, "Escape hides the tooltip, focus stays", 5*time.Second,
		chromedp.KeyEvent(kb.Escape),
		waitJS(`document.querySelector("#tip").hidden && document.activeElement.classList.contains("tl-bar")`),
	)
	step(t, ctx, "Tab leaves the timeline, hiding the tooltip", 5*time.Second,
		chromedp.KeyEvent(kb.Tab),
		waitJS(`!document.activeElement.classList.contains("tl-bar") && document.querySelector("#tip").hidden`),
	)

	// A running monitor's timeline changes on every refresh, in place: the
	// focused bar stays the same element, with focus and its tooltip.
	step(t, ctx, "open a running monitor", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/keys-2"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length >= 3`),
		chromedp.Focus(css(`#tl-window`)),
	)
	tipAfter("Tab into the running timeline", kb.Tab, "Check #")
	tipAfter("Home", kb.Home, "Check #1")
	step(t, ctx, "refreshes keep focus on the bar", 5*time.Second,
		chromedp.Evaluate[chromedp.Void](`window.__bar = document.activeElement;
			window.__checks = document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length > window.__checks`), // a refresh with a new check
		chromedp.Sleep(300*time.Millisecond),
		waitJS(`document.activeElement === window.__bar && window.__bar.isConnected && !document.querySelector("#tip").hidden`),
		waitJS(`document.querySelectorAll('#timeline [tabindex="0"]').length === 1 && window.__bar.tabIndex === 0`),
	)
	if tip := get(t, ctx, "read the tooltip", chromedp.Evaluate[string](`document.querySelector("#tip").innerText`)); !strings.HasPrefix(tip, "Check #1") {
		t.Errorf("after a refresh: tooltip %q, want Check #1", tip)
	}
}

// TestDashboardListKeepsFocus puts keyboard focus on a row's link in the
// monitors list, then changes the list under it: a row appears, another
// goes, another moves past it, its own row moves. Focus stays on the same
// link throughout; when its row goes, focus moves to the row in its place.
func TestDashboardListKeepsFocus(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("f-1"), running("f-2"), running("f-3"), running("f-4"), running("f-5"))
	const focused = `document.activeElement === document.querySelector('#rows tr[data-id="f-3"] a')`

	step(t, ctx, "list loads, focus on a row's link", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		showsList("Page 1 · 5 shown", "f-5", "f-4", "f-3", "f-2", "f-1"),
		chromedp.Focus(css(row("f-3")+` a`)),
		waitJS(focused),
	)
	// change changes the API's list, then waits for the page to show it.
	change := func(what string, f func(), ids ...string) {
		t.Helper()
		api.mu.Lock()
		f()
		api.mu.Unlock()
		step(t, ctx, what, 10*time.Second, showsList(fmt.Sprintf("Page 1 · %d shown", len(ids)), ids...))
	}
	// moveToNewest moves monitor id to the top of the list.
	moveToNewest := func(id string) {
		api.order = append(slices.DeleteFunc(api.order, func(x string) bool { return x == id }), id)
	}
	change("a monitor starts", func() {
		api.monitors["f-6"] = running("f-6")
		api.order = append(api.order, "f-6")
	}, "f-6", "f-5", "f-4", "f-3", "f-2", "f-1")
	step(t, ctx, "focus stays", time.Second, waitJS(focused))
	change("another is purged", func() { delete(api.monitors, "f-5") }, "f-6", "f-4", "f-3", "f-2", "f-1")
	step(t, ctx, "focus stays", time.Second, waitJS(focused))
	change("another moves past it", func() { moveToNewest("f-1") }, "f-1", "f-6", "f-4", "f-3", "f-2")
	step(t, ctx, "focus stays", time.Second, waitJS(focused))
	change("its own row moves", func() { moveToNewest("f-3") }, "f-3", "f-1", "f-6", "f-4", "f-2")
	step(t, ctx, "focus stays", time.Second, waitJS(focused))
	change("its own row goes", func() { delete(api.monitors, "f-3") }, "f-1", "f-6", "f-4", "f-2")
	step(t, ctx, "focus moves to the row in its place", time.Second,
		waitJS(`document.activeElement === document.querySelector('#rows tr[data-id="f-1"] a')`))
}

// TestDashboardConfirmDialogNames opens the Terminate and Purge
// confirmations: the dialog's name says which monitor, and its
// description (aria-describedby) is the warning, which a screen reader
// then reads with the name, whatever control has focus.
func TestDashboardConfirmDialogNames(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("ask-1"))
	type dialog struct{ Name, Description string }
	read := func() dialog {
		return get(t, ctx, "read the dialog", chromedp.Evaluate[dialog](`(() => {
			const d = document.querySelector("#confirm");
			const text = (attr) => (d.getAttribute(attr) || "").split(" ").filter(Boolean).map((id) => document.getElementById(id).textContent).join(" ");
			return {Name: text("aria-labelledby"), Description: text("aria-describedby")};
		})()`))
	}

	step(t, ctx, "open the monitor, ask to terminate it", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/ask-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #reason`)),
	)
	got := read()
	if !strings.Contains(got.Name, "ask-1") || !strings.Contains(got.Name, "Terminate") {
		t.Errorf("terminate dialog's name %q does not name the action and the monitor ask-1", got.Name)
	}
	if !strings.Contains(got.Description, "ask-1") || !strings.Contains(got.Description, "cannot be undone") {
		t.Errorf("terminate dialog's description %q lacks the warning", got.Description)
	}
	step(t, ctx, "terminate it, ask to purge it", 10*time.Second,
		chromedp.Click(css(`#confirm-ok`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Terminated" && !document.querySelector("#purge").disabled`),
		chromedp.Click(css(`#purge`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
	)
	got = read()
	if !strings.Contains(got.Name, "ask-1") || !strings.Contains(got.Name, "Purge") {
		t.Errorf("purge dialog's name %q does not name the action and the monitor ask-1", got.Name)
	}
	if !strings.Contains(got.Description, "status record of ask-1 is deleted") {
		t.Errorf("purge dialog's description %q lacks the warning", got.Description)
	}
	get(t, ctx, "cancel", chromedp.Click(css(`#confirm-cancel`)))
}

// TestDashboardTimelineTouch taps a timeline bar on a touch screen: the
// bar takes focus and shows its tooltip, as the keyboard's does (a touch
// moves no pointer over a bar, and only the tab stop could take focus:
// nothing showed).
func TestDashboardTimelineTouch(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, &fakeMonitor{id: "touch-1", jobID: "touch-1", interval: time.Second, timeout: time.Minute,
		completeAfter: 4, created: time.Now().Add(-time.Minute)})
	step(t, ctx, "open the monitor on a phone", 10*time.Second,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(base+"/ui/#/monitors/touch-1"),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 4`),
	)
	// The third Check bar: not the tab stop, which is the first or last.
	type point struct{ X, Y float64 }
	at := get(t, ctx, "find a bar", chromedp.Evaluate[point](`(() => {
		const b = document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar')[2];
		b.scrollIntoView({block: "center"});
		const r = b.getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2};
	})()`))
	step(t, ctx, "tap it", 5*time.Second,
		chromedp.TapXY(at.X, at.Y),
		waitJS(`document.activeElement === document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar')[2] && !document.querySelector("#tip").hidden`),
	)
	if tip := get(t, ctx, "read the tooltip", chromedp.Evaluate[string](`document.querySelector("#tip").innerText`)); !strings.HasPrefix(tip, "Check") {
		t.Errorf("tooltip after a tap %q, want the Check bar's", tip)
	}
}
