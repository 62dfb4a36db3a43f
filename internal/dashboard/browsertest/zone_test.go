package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestDashboardNamesTheZone shows the page in Asia/Tokyo, 9 hours from the
// UTC of the JSON beside the times: each view names the zone of the times
// it shows once, and the tooltips and titles that give a time name it too.
func TestDashboardNamesTheZone(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("zone-1"))
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatalf("Emulation.setTimezoneOverride: %v", err)
	}
	has := func(what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %q lacks %q", what, got, w)
			}
		}
	}

	step(t, ctx, "the list", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		chromedp.WaitVisible(css(row("zone-1"))),
	)
	list := get(t, ctx, "read the list's zone", chromedp.Evaluate[string](`document.querySelector("#monitors thead").textContent`))
	has("list's header", list, "UTC+9")
	titles := get(t, ctx, "read the row's titles", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#rows tr td:nth-child(6), #rows tr td:nth-child(8)')].map(td => td.title).filter(Boolean)`))
	if len(titles) < 2 {
		t.Errorf("row titles %q: want the next check's and the update's times", titles)
	}
	for _, title := range titles {
		has("row title", title, "UTC+9")
	}

	step(t, ctx, "the monitor", 10*time.Second,
		chromedp.Click(css(row("zone-1")+` a`)),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length >= 1 && document.querySelector("#events").children.length > 0`),
	)
	note := get(t, ctx, "read the monitor's zone", chromedp.Evaluate[string](`[...document.querySelectorAll("#detail-view .tz")].filter((e) => e.offsetParent).map((e) => e.textContent).join(" | ")`))
	has("monitor's zone note", note, "UTC+9", "Asia/Tokyo")
	if n := strings.Count(note, "Asia/Tokyo"); n != 1 {
		t.Errorf("monitor's zone notes %q: the zone named %d times, want once", note, n)
	}
	facts := get(t, ctx, "read the facts' titles", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#facts dd")].map(dd => dd.title).filter(Boolean)`))
	if len(facts) < 3 {
		t.Errorf("facts' titles %q: want the last and next checks', creation's and update's times", facts)
	}
	for _, title := range facts {
		has("fact's title", title, "UTC+9")
	}
	has("History's header", get(t, ctx, "read the history's header", chromedp.Evaluate[string](`document.querySelector(".events thead").textContent`)), "UTC+9")
	step(t, ctx, "hover a check", 5*time.Second,
		chromedp.ScrollIntoView(css(`#timeline`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const b = document.querySelector('#timeline [data-lane="Check"] .tl-bar');
			const r = b.getBoundingClientRect();
			b.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, clientX: r.x + 1, clientY: r.y + 2})); })()`),
		chromedp.WaitVisible(css(`#tip`)),
	)
	has("timeline tooltip", get(t, ctx, "read the tooltip", chromedp.Evaluate[string](`document.querySelector("#tip").innerText`)), "UTC+9")

	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Etc/UTC"}); err != nil {
		t.Fatalf("Emulation.setTimezoneOverride: %v", err)
	}
	step(t, ctx, "in UTC", 10*time.Second,
		chromedp.Navigate("about:blank"),
		chromedp.Navigate(base+"/ui/#/monitors/zone-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`[...document.querySelectorAll("#detail-view .tz")].some((e) => e.offsetParent && e.textContent === "Times in UTC")`),
	)
}
