package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// running is a monitor that runs for an hour, checked every 20 s.
func running(id string) *fakeMonitor {
	return &fakeMonitor{id: id, jobID: id, interval: 20 * time.Second, timeout: time.Hour,
		completeAfter: 1 << 30, created: time.Now().Add(-2 * time.Minute)}
}

// finished is a monitor that completed on its second check, a minute ago.
func finished(id string) *fakeMonitor {
	return &fakeMonitor{id: id, jobID: id, interval: time.Second, timeout: time.Minute,
		completeAfter: 2, created: time.Now().Add(-time.Minute)}
}

// TestDashboardTerminateWithEnter terminates a monitor by pressing Enter
// in the dialog's reason field: Enter confirms, and focus then moves to
// Purge, the action the finished monitor offers. The notice that it is
// terminating goes by itself.
func TestDashboardTerminateWithEnter(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("enter-1"))
	// Characters that mean something in a URL reach the API as typed.
	const typed = "done by keyboard: 100% & more #2 +1 ?x=y"

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/enter-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
	)
	step(t, ctx, "terminate with Enter in the reason field", 10*time.Second,
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #reason`)),
		chromedp.SetValue(css(`#reason`), typed),
		chromedp.Focus(css(`#reason`)),
		chromedp.KeyEvent(kb.Enter),
		waitJS(`!document.querySelector("#confirm").open`),
		waitJS(`document.querySelector('#toasts .toast[role="status"]')?.textContent === "Terminated enter-1"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Terminated"`),
	)
	api.mu.Lock()
	reason := api.monitors["enter-1"].reason
	api.mu.Unlock()
	if reason != typed {
		t.Errorf("terminate reason: got %q, want %q", reason, typed)
	}
	step(t, ctx, "focus moves to Purge", 5*time.Second,
		waitJS(`document.activeElement === document.querySelector("#purge")`),
	)
	step(t, ctx, "the notice of success goes by itself", 10*time.Second,
		waitJS(`!document.querySelector("#toasts .toast")`),
	)
}

// TestDashboardActionsWhilePaused terminates and purges a monitor while
// updates are paused: each action still shows its outcome.
func TestDashboardActionsWhilePaused(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("paused-1"), running("paused-2"))

	step(t, ctx, "open the monitor and pause updates", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/paused-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
		chromedp.Click(css(`#pause`)),
		waitJS(`document.querySelector("#live").classList.contains("paused")`),
	)
	step(t, ctx, "terminate while paused", 10*time.Second,
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
		chromedp.Click(css(`#confirm-ok`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Terminated"`),
		waitJS(`!document.querySelector("#purge").disabled`),
		waitJS(`document.querySelector("#live").classList.contains("paused")`),
	)
	step(t, ctx, "purge while paused", 10*time.Second,
		chromedp.Click(css(`#purge`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
		chromedp.Click(css(`#confirm-ok`)),
		waitJS(`location.hash === "#/"`),
		chromedp.WaitVisible(css(row("paused-2"))),
		waitJS(`!document.querySelector('#rows tr[data-id="paused-1"]') && document.querySelectorAll("#rows tr").length === 1`),
		waitJS(`document.activeElement === document.querySelector("#list-title")`),
	)
}

// TestDashboardPurgeRefused purges a monitor that the API refuses to
// purge (409, as for one that still runs): the page says why, and the
// error stays until it is dismissed, however long reading it takes.
func TestDashboardPurgeRefused(t *testing.T) {
	ctx := browser(t)
	purgeFinished(t, ctx, "refused-1", http.StatusConflict, chromedp.WaitVisible(css(`#toasts .toast.err`)))
	// An alert: a screen reader says it at once.
	if role := get(t, ctx, "read the error's role", chromedp.Evaluate[string](`document.querySelector("#toasts .toast.err").getAttribute("role")`)); role != "alert" {
		t.Errorf("error notice's role %q, want alert", role)
	}
	text := get(t, ctx, "read the error", chromedp.Evaluate[string](`document.querySelector("#toasts .toast.err").textContent`))
	if !strings.Contains(text, "refused-1") || !strings.Contains(text, "terminate it first") {
		t.Errorf("error %q does not say that refused-1 must be terminated first", text)
	}
	if hash := get(t, ctx, "read the location", chromedp.Evaluate[string](`location.hash`)); hash != "#/monitors/refused-1" {
		t.Errorf("after a refused purge: at %s, want the monitor's page", hash)
	}
	step(t, ctx, "the error stays", 15*time.Second,
		chromedp.Sleep(9*time.Second),
		chromedp.WaitVisible(css(`#toasts .toast.err`)),
	)
	step(t, ctx, "dismiss it", 5*time.Second,
		chromedp.Click(css(`#toasts .toast.err button`)),
		waitJS(`!document.querySelector("#toasts .toast")`),
		waitJS(`document.activeElement !== document.body`),
	)
}

// TestDashboardDemoJobIDs enters job ids in the demo form: those the API
// takes (1 to 128 of A-Z a-z 0-9 . _ : / -, docs/api.md) pass the form's
// check, others do not, and the field says which characters it takes.
func TestDashboardDemoJobIDs(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("form-1"))

	step(t, ctx, "open the form", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("form-1"))),
		chromedp.Click(css(`#start > summary`)),
		chromedp.WaitVisible(css(`#start-form input[name="job_id"]`)),
	)
	valid := func(v string) bool {
		return get(t, ctx, "check "+v, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
			const i = document.querySelector('#start-form input[name="job_id"]');
			i.value = %q; return i.checkValidity(); })()`, v)))
	}
	for _, v := range []string{"etl.nightly", "team/etl:42", "a", "A_b-9", strings.Repeat("x", 128)} {
		if !valid(v) {
			t.Errorf("job id %q: refused by the form, want accepted as by the API", v)
		}
	}
	for _, v := range []string{"two words", "etl;drop", "ümlaut", strings.Repeat("x", 129)} {
		if valid(v) {
			t.Errorf("job id %q: accepted by the form, want refused as by the API", v)
		}
	}
	help := get(t, ctx, "read the field's help", chromedp.Evaluate[string](`(() => {
		const i = document.querySelector('#start-form input[name="job_id"]');
		const d = (i.getAttribute("aria-describedby") || "").split(" ").filter(Boolean).map((id) => document.getElementById(id).textContent);
		return i.title + " | " + d.join(" "); })()`))
	for _, want := range []string{". _ : / -", "128"} {
		if strings.Count(help, want) < 2 {
			t.Errorf("the job id field's title and description %q do not both name %q", help, want)
		}
	}
	step(t, ctx, "start one with a dot in its job id", 10*time.Second,
		chromedp.SetValue(css(`#start-form input[name="job_id"]`), "etl.nightly"),
		chromedp.Click(css(`#start-form button[type="submit"]`)),
		waitJS(`location.hash === "#/monitors/etl.nightly"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
	)
}

// TestDashboardTerminateCancelledOrLate cancels a terminate, which leaves
// the monitor running, then confirms one for a monitor that finished by
// itself while the dialog was open, updates paused (so that the page has
// not seen it finish): the API answers 410, and the page says that the
// monitor has already finished.
func TestDashboardTerminateCancelledOrLate(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("late-1"))

	step(t, ctx, "open the monitor, cancel a terminate", 10*time.Second, append(terminateDialog(base, "late-1"),
		chromedp.Click(css(`#confirm-cancel`)),
		waitJS(`!document.querySelector("#confirm").open`),
		// A read after the dialog closed, with the monitor still running.
		chromedp.Evaluate[chromedp.Void](`window.__reads = performance.getEntriesByType("resource").length`),
		waitJS(`performance.getEntriesByType("resource").length > window.__reads + 2`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
	)...)
	if api.terminated("late-1") {
		t.Fatalf("a cancelled terminate stopped the monitor")
	}

	step(t, ctx, "pause updates, open the dialog again", 10*time.Second,
		chromedp.Click(css(`#pause`)),
		waitJS(`document.querySelector("#live").classList.contains("paused")`),
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
	)
	api.mu.Lock()
	api.monitors["late-1"].completeAfter = 1 // done on its first check, long ago
	api.mu.Unlock()
	step(t, ctx, "confirm once the monitor has finished", 10*time.Second,
		chromedp.Click(css(`#confirm-ok`)),
		chromedp.WaitVisible(css(`#toasts .toast.err`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
	)
	if text := get(t, ctx, "read the error", chromedp.Evaluate[string](`document.querySelector("#toasts .toast.err").textContent`)); !strings.HasPrefix(text, "late-1 has already finished.") {
		t.Errorf("error %q, want it to say that late-1 has already finished", text)
	}
}

// terminateDialog opens monitor id's page at base and, once it shows the
// monitor running, its Terminate dialog.
func terminateDialog(base, id string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/ui/#/monitors/" + id),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open]`)),
	}
}

// TestDashboardConfirmTurnsMoot opens a terminate's confirmation and lets
// the monitor finish by itself, then a purge's and lets another tab purge
// it: each dialog says so once the page sees it, its Confirm disabled and
// its Cancel, focused, become Close, which closes it having done nothing.
func TestDashboardConfirmTurnsMoot(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("moot-1"))

	step(t, ctx, "open the monitor and its terminate dialog", 10*time.Second, terminateDialog(base, "moot-1")...)
	api.mu.Lock()
	api.monitors["moot-1"].completeAfter = 1 // done on its first check, long ago
	api.mu.Unlock()
	step(t, ctx, "the dialog says the monitor has finished", 10*time.Second,
		waitJS(`document.querySelector("#confirm-text").textContent.includes("moot-1 has finished meanwhile (Completed)")`),
		waitJS(`document.querySelector("#confirm-ok").disabled && document.querySelector("#reason-row").hidden`),
		waitJS(`document.activeElement === document.querySelector("#confirm-cancel") && document.querySelector("#confirm-cancel").textContent === "Close"`),
		chromedp.Click(css(`#confirm-cancel`)),
		waitJS(`!document.querySelector("#confirm").open`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed" && !document.querySelector("#purge").disabled`),
	)
	if api.terminated("moot-1") {
		t.Fatal("closing a dialog whose monitor had finished terminated it")
	}

	step(t, ctx, "open the purge dialog", 10*time.Second,
		chromedp.Click(css(`#purge`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
		waitJS(`!document.querySelector("#confirm-ok").disabled && document.querySelector("#confirm-cancel").textContent === "Cancel"`),
	)
	api.mu.Lock()
	delete(api.monitors, "moot-1") // purged in another tab
	api.mu.Unlock()
	step(t, ctx, "the dialog says the monitor was purged", 10*time.Second,
		waitJS(`document.querySelector("#confirm-text").textContent.includes("moot-1 was purged meanwhile")`),
		waitJS(`document.querySelector("#confirm-ok").disabled`),
		chromedp.Click(css(`#confirm-cancel`)),
		waitJS(`!document.querySelector("#confirm").open`),
	)
}

// TestDashboardPurgeAlreadyPurged confirms a purge of a monitor purged
// meanwhile (another tab, the CLI: the API answers 404): what was asked
// is done, so the page says so and goes back to the list, not "Purge
// failed" in an error that stays until dismissed.
func TestDashboardPurgeAlreadyPurged(t *testing.T) {
	ctx := browser(t)
	purgeFinished(t, ctx, "gone-1", http.StatusNotFound,
		waitJS(`location.hash === "#/" || location.hash.startsWith("#/?")`),
		chromedp.WaitVisible(css(`#toasts .toast`)))
	text := get(t, ctx, "read the notice", chromedp.Evaluate[string](`document.querySelector("#toasts .toast").textContent`))
	if !strings.Contains(text, "gone-1 was already purged") {
		t.Errorf("notice %q, want it to say gone-1 was already purged", text)
	}
	if n := get(t, ctx, "count the errors", chromedp.Evaluate[int](`document.querySelectorAll("#toasts .toast.err").length`)); n != 0 {
		t.Errorf("%d error notices after purging a monitor purged meanwhile, want none", n)
	}
}

// purgeFinished serves monitor id, finished, whose purge the API answers
// with purgeStatus, opens its page once it shows Completed, confirms a
// purge of it and runs then.
func purgeFinished(t *testing.T, ctx context.Context, id string, purgeStatus int, then ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	_, base := serveFake(t, &fakeMonitor{id: id, jobID: id, interval: time.Second, timeout: time.Minute,
		completeAfter: 2, created: time.Now().Add(-time.Minute), purgeStatus: purgeStatus})
	step(t, ctx, "open the monitor and purge it", 10*time.Second, append([]chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/ui/#/monitors/" + id),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed" && !document.querySelector("#purge").disabled`),
		chromedp.Click(css(`#purge`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
		chromedp.Click(css(`#confirm-ok`)),
	}, then...)...)
}

// TestDashboardActionsWhenUnreachable terminates a monitor while the API
// cannot be reached: the error says so in words and what may be left
// (the browser's own "Failed to fetch" says neither), and so does the
// banner. Purge's confirmation opens on Cancel: two presses of Enter do
// not purge a record for good.
func TestDashboardActionsWhenUnreachable(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("gone-1"),
		&fakeMonitor{id: "done-1", interval: time.Second, timeout: time.Minute, completeAfter: 1, created: time.Now().Add(-time.Minute)})

	step(t, ctx, "open the finished monitor and ask to purge it", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/done-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed" && !document.querySelector("#purge").disabled`),
		chromedp.Click(css(`#purge`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-cancel`)),
	)
	if focused := get(t, ctx, "read the focus", chromedp.Evaluate[string](`document.activeElement.id`)); focused != "confirm-cancel" {
		t.Errorf("purge's confirmation opened with focus on %q, want confirm-cancel", focused)
	}
	step(t, ctx, "cancel", 10*time.Second,
		chromedp.Click(css(`#confirm-cancel`)),
		waitJS(`!document.querySelector("#confirm").open`),
	)

	step(t, ctx, "open the running monitor", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/gone-1"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
	)
	// The Running badge pulses a few times, not for ever: an endless
	// animation keeps the browser drawing frames for a tab left open.
	if n := get(t, ctx, "read the badge's animation", chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector("#detail-badge"), "::before").animationIterationCount`)); n == "infinite" || n == "" {
		t.Errorf("the Running badge's pulse repeats %q times, want a few", n)
	}
	api.setDown(true)
	step(t, ctx, "terminate it with the API gone", 20*time.Second,
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
		chromedp.Click(css(`#confirm-ok`)),
		chromedp.WaitVisible(css(`#toasts .toast.err`)),
		chromedp.WaitVisible(css(`#offline`)),
	)
	text := get(t, ctx, "read the error", chromedp.Evaluate[string](`document.querySelector("#toasts .toast.err").textContent`))
	if !strings.Contains(text, "could not be reached") || !strings.Contains(text, "gone-1 may still be running") {
		t.Errorf("error %q, want it to say the API could not be reached and gone-1 may still be running", text)
	}
	banner := get(t, ctx, "read the banner", chromedp.Evaluate[string](`document.querySelector("#offline").textContent`))
	if !strings.Contains(banner, "no answer from the server") || strings.Contains(banner, "fetch") {
		t.Errorf("banner %q, want it to say the server gave no answer, in its own words", banner)
	}

	step(t, ctx, "start a demo monitor with the API gone", 20*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#toasts .toast").forEach((t) => t.remove()); location.hash = "#/"`),
		chromedp.WaitVisible(css(`#start summary`)),
		chromedp.Click(css(`#start summary`)),
		chromedp.WaitVisible(css(`#start-form button[type=submit]`)),
		chromedp.Click(css(`#start-form button[type=submit]`)),
		chromedp.WaitVisible(css(`#toasts .toast.err`)),
	)
	text = get(t, ctx, "read the start's error", chromedp.Evaluate[string](`document.querySelector("#toasts .toast.err").textContent`))
	if !strings.Contains(text, "could not be reached") || !strings.Contains(text, "may have started") {
		t.Errorf("error %q, want it to say the API could not be reached and the monitor may have started", text)
	}
}
