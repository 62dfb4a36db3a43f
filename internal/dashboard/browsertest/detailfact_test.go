package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// factText reads the text of the fact labelled label, "" when there is none.
func factText(label string) string {
	return `(() => {
		const div = [...document.querySelectorAll("#facts div")].find((d) => d.firstChild.textContent === "` + label + `");
		return div ? div.lastChild.textContent : "";
	})()`
}

// TestDashboardDetailFact: a monitor's page says in a fact what its last
// check saw (customStatus.detail), next to the job status it explains,
// and once the monitor has finished, how it ended (output.detail).
func TestDashboardDetailFact(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("detail-1"),
		&fakeMonitor{id: "detail-2", interval: time.Second, timeout: time.Minute, completeAfter: 1, created: time.Now().Add(-time.Minute)})

	step(t, ctx, "open the running monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/detail-1"),
		waitJS(factText("Detail")+` !== ""`),
	)
	if got := get(t, ctx, "read the detail", chromedp.Evaluate[string](factText("Detail"))); !strings.HasPrefix(got, "check ") {
		t.Errorf("running monitor: Detail %q, want the custom status's detail (check N of the simulated job)", got)
	}
	next := get(t, ctx, "read the fact after Job status", chromedp.Evaluate[string](
		`[...document.querySelectorAll("#facts dt")].map((dt) => dt.textContent).join(",")`))
	if want := "Job status,Detail,"; !strings.Contains(next, want) {
		t.Errorf("facts %s: want Detail right after Job status", next)
	}

	step(t, ctx, "open the finished monitor", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/detail-2"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(factText("Detail")+` === "the job completed"`),
	)
}
