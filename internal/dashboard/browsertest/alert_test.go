package browsertest

import (
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// alertFactJS is a script that reads property prop of the monitor page's
// Alert fact (its dd element), "" without one.
func alertFactJS(prop string) string {
	return `(() => {
  const d = [...document.querySelectorAll("#facts div")].find((d) => d.querySelector("dt").textContent === "Alert");
  return d ? d.querySelector("dd").` + prop + ` : "";
})()`
}

// alertFact is the text of the monitor page's Alert fact, and
// alertFactTitle its tooltip.
var alertFact, alertFactTitle = alertFactJS("textContent"), alertFactJS("title")

// TestDashboardAlertRetrying checks that a failed alert attempt of a
// monitor that still runs reads as being retried, with the attempts made,
// and as failed only once the monitor has finished with it.
func TestDashboardAlertRetrying(t *testing.T) {
	ctx := browser(t)
	m := running("alert-1")
	m.alertStatus, m.alertAttempts = "failed", 6
	_, base := serveFake(t, m)

	step(t, ctx, "open the running monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/alert-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
	)
	if got, want := get(t, ctx, "read the alert fact", chromedp.Evaluate[string](alertFact)), "failed, retrying (attempt 6)"; got != want {
		t.Errorf("Alert while running: %q, want %q", got, want)
	}
	step(t, ctx, "terminate it", 10*time.Second,
		chromedp.Click(css(`#terminate`)),
		chromedp.WaitVisible(css(`#confirm[open] #confirm-ok`)),
		chromedp.Click(css(`#confirm-ok`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Terminated"`),
	)
	if got, want := get(t, ctx, "read the alert fact", chromedp.Evaluate[string](alertFact)), "failed"; got != want {
		t.Errorf("Alert once finished: %q, want %q", got, want)
	}
}

// TestDashboardAlertRetryTime checks that a failed alert whose retry the
// status plans reads with the time to it, and its clock time on hover.
func TestDashboardAlertRetryTime(t *testing.T) {
	ctx := browser(t)
	m := running("alert-2")
	m.alertStatus, m.alertAttempts = "failed", 3
	m.alertRetryAt = time.Now().Add(100 * time.Second)
	_, base := serveFake(t, m)

	step(t, ctx, "open the running monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/alert-2"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
	)
	got := get(t, ctx, "read the alert fact", chromedp.Evaluate[string](alertFact))
	if !regexp.MustCompile(`^failed, retrying in 1m [34]\ds \(attempt 3\)$`).MatchString(got) {
		t.Errorf("Alert: %q, want failed, retrying in about 1m 40s (attempt 3)", got)
	}
	title := get(t, ctx, "read the alert fact's tooltip", chromedp.Evaluate[string](alertFactTitle))
	if !regexp.MustCompile(`\d\d:\d\d:\d\d \S`).MatchString(title) {
		t.Errorf("Alert's tooltip: %q, want the retry's clock time and zone", title)
	}
}
