package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// TestDashboardTerminateReasonLimit checks the terminate dialog's reason
// against the API's limit of 256 characters, counted as code points: 150
// emoji (300 UTF-16 code units) can be typed and are sent whole, 256
// characters are fine but 257 cannot be confirmed, and each opening of
// the dialog starts from the default reason, not the one typed for
// another monitor.
func TestDashboardTerminateReasonLimit(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("reason-1"), running("reason-2"))
	rockets := strings.Repeat("🚀", 150)

	step(t, ctx, "open the first monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/reason-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
	)
	step(t, ctx, "type 150 emoji as the reason and terminate", 10*time.Second,
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #reason`)),
		waitJS(`document.querySelector("#reason").value === "terminated from the dashboard"`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#reason").select()`),
		insertText(rockets),
		waitJS(`[...document.querySelector("#reason").value].length === 150`),
		chromedp.Click(css(`#confirm-ok`)),
		waitJS(`!document.querySelector("#confirm").open`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Terminated"`),
	)
	api.mu.Lock()
	reason := api.monitors["reason-1"].reason
	api.mu.Unlock()
	if reason != rockets {
		t.Errorf("terminate reason: got %d characters, want the 150 emoji", utf8.RuneCountInString(reason))
	}

	step(t, ctx, "the next dialog starts from the default reason", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/reason-2"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running" && !document.querySelector("#terminate").disabled`),
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #reason`)),
		waitJS(`document.querySelector("#reason").value === "terminated from the dashboard"`),
	)
	step(t, ctx, "256 characters are fine", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#reason").select()`),
		insertText(strings.Repeat("a", 256)),
		waitJS(`document.querySelector("#reason").value.length === 256 && document.querySelector("#reason").validity.valid`),
	)
	step(t, ctx, "257 characters cannot be confirmed", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#reason").select()`),
		insertText(strings.Repeat("a", 257)),
		waitJS(`!document.querySelector("#reason").validity.valid`),
		chromedp.Click(css(`#confirm-ok`)),
		chromedp.Sleep(300*time.Millisecond),
		waitJS(`document.querySelector("#confirm").open && document.querySelector("#detail-badge").textContent === "Running"`),
		chromedp.Click(css(`#confirm-cancel`)),
		waitJS(`!document.querySelector("#confirm").open`),
	)
}

// insertText types text into the focused field as an emoji keyboard or an
// IME would: the field's maxlength applies, unlike to a value set by script.
func insertText(text string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
		return chromedp.Void{}, err
	}
}

// TestDashboardTerminateReasonCharacters types reasons the API refuses
// (monitor.CheckReason): a right-to-left override, a tab. The dialog
// cannot be confirmed with either, and says why, so the user is not
// told only after confirming; plain text with non-ASCII letters is fine.
func TestDashboardTerminateReasonCharacters(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, running("chars-1"))

	step(t, ctx, "open the monitor, then Terminate", 10*time.Second, terminateDialog(base, "chars-1")...)
	for _, reason := range []string{"ok \u202e RTL", "tab\there", "nel\u0085"} {
		step(t, ctx, fmt.Sprintf("%q cannot be confirmed", reason), 10*time.Second,
			chromedp.Evaluate[chromedp.Void](`document.querySelector("#reason").select()`),
			insertText(reason),
			waitJS(`!document.querySelector("#reason").validity.valid && document.querySelector("#reason").validationMessage !== ""`),
			chromedp.Click(css(`#confirm-ok`)),
			waitJS(`document.querySelector("#confirm").open`),
		)
	}
	step(t, ctx, "plain text can", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#reason").select()`),
		insertText("plus de besoin — déplacé"),
		waitJS(`document.querySelector("#reason").validity.valid`),
		chromedp.Click(css(`#confirm-ok`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Terminated"`),
	)
	api.mu.Lock()
	reason := api.monitors["chars-1"].reason
	api.mu.Unlock()
	if reason != "plus de besoin — déplacé" {
		t.Errorf("terminate reason: got %q, want the plain one", reason)
	}
}
