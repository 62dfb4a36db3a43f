package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// looks is a script function giving what an element looks like, as far as
// forced colours leave it to the page: its background (a transparent one
// and the page's own, Canvas, look the same), background image, border
// and outline, and its ::before's content.
const looks = `(el) => {
	const probe = document.createElement("span");
	probe.style.background = "Canvas";
	document.body.append(probe);
	const canvas = getComputedStyle(probe).backgroundColor;
	probe.remove();
	const s = getComputedStyle(el), b = getComputedStyle(el, "::before");
	const bg = s.backgroundColor === canvas || /^rgba\(.*, 0\)$/.test(s.backgroundColor) ? "canvas" : s.backgroundColor;
	return [bg, s.backgroundImage, s.borderTopWidth, s.borderTopStyle, s.borderTopColor, s.outlineStyle, s.boxShadow, b.content].join(" | ");
}`

// TestDashboardForcedColors looks at the page in forced-colours mode
// (Windows High Contrast), where the system's colours replace the page's:
// a checked status chip looks unlike an unchecked one, the pressed Pause
// button unlike the unpressed one, and each kind of timeline bar and
// legend swatch is drawn (not a blank) and unlike the others.
func TestDashboardForcedColors(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("hc-1"), &fakeMonitor{id: "hc-2", jobID: "hc-2", interval: time.Second, timeout: time.Minute,
		completeAfter: 3, created: time.Now().Add(-time.Minute)})
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "forced-colors", Value: "active"}},
	}); err != nil {
		t.Fatalf("Emulation.setEmulatedMedia: %v", err)
	}

	step(t, ctx, "the list, filtered by Running", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/?status=Running"),
		waitJS(`matchMedia("(forced-colors: active)").matches`),
		chromedp.WaitVisible(css(row("hc-1"))),
	)
	type pair struct{ On, Off string }
	chips := get(t, ctx, "look at the chips", chromedp.Evaluate[pair](`(() => { const looks = `+looks+`;
		return {On: looks(document.querySelector('input[value="Running"] + span')), Off: looks(document.querySelector('input[value="Pending"] + span'))}; })()`))
	if chips.On == chips.Off {
		t.Errorf("a checked chip looks like an unchecked one: %s", chips.On)
	}
	// Pressed by script, so that neither hover nor focus changes its look.
	off := get(t, ctx, "look at Pause", chromedp.Evaluate[string](`(`+looks+`)(document.querySelector("#pause"))`))
	on := get(t, ctx, "look at Pause, pressed", chromedp.Evaluate[string](`document.querySelector("#pause").click();
		(`+looks+`)(document.querySelector("#pause"))`))
	get(t, ctx, "press Pause again", chromedp.Evaluate[chromedp.Void](`document.querySelector("#pause").click()`))
	if on == off {
		t.Errorf("the pressed Pause button looks like the unpressed one: %s", on)
	}

	step(t, ctx, "a finished monitor's timeline", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/hc-2"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 3`),
	)
	type drawn struct{ Blank, Kinds []string }
	for _, tc := range []struct{ what, sel string }{
		{"timeline bars", `#timeline .tl-bar.task, #timeline .tl-bar.wait, #timeline .tl-bar.choice`},
		{"legend swatches", `.legend .sw`},
	} {
		got := get(t, ctx, "look at the "+tc.what, chromedp.Evaluate[drawn](`(() => { const looks = `+looks+`;
			// Blank: no image, no border, and the background the page's own.
			const blank = (el) => looks(el).startsWith("canvas | none | ") && getComputedStyle(el).borderTopStyle === "none";
			const kinds = new Map();
			const blanks = new Set();
			for (const el of document.querySelectorAll(`+"`"+tc.sel+"`"+`)) {
				const kind = [...el.classList].filter((c) => c !== "tl-bar" && c !== "sw" && c !== "open").join(".");
				kinds.set(kind, looks(el));
				if (blank(el)) blanks.add(kind);
			}
			return {Blank: [...blanks], Kinds: [...kinds].map(([k, l]) => k + ": " + l)};
		})()`))
		seen := map[string]bool{}
		for _, k := range got.Kinds {
			_, l, _ := strings.Cut(k, ": ")
			if seen[l] {
				t.Errorf("%s: two kinds look alike in forced colours: %q", tc.what, got.Kinds)
				break
			}
			seen[l] = true
		}
		if len(got.Blank) > 0 || len(got.Kinds) < 3 {
			t.Errorf("%s: %v drawn as blanks; want each of %q visible", tc.what, got.Blank, got.Kinds)
		}
	}
}
