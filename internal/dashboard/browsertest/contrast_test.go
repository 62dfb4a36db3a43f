package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// lowContrast lists the visible text on the page whose contrast with what
// is behind it is under WCAG's AA minimum: 4.5:1, 3:1 for large text.
// Disabled controls are exempt, as WCAG has them; text over a gradient
// (the hatched waits) is not judged.
const lowContrast = `(() => {
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lin = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const behind = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const cs = getComputedStyle(n);
      if (cs.backgroundImage !== "none") return null;
      const c = parse(cs.backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255, 1];
    for (const c of layers.reverse()) out = over(c, out);
    return out;
  };
  const bad = [];
  const seen = new Set();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t; (t = walk.nextNode());) {
    const el = t.parentElement;
    if (!t.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    if (el.closest(".visually-hidden, :disabled, [aria-disabled=\"true\"]")) continue;
    const cs = getComputedStyle(el);
    const bg = behind(el);
    const fg = parse(cs.color);
    if (!bg || !fg) continue;
    const a = lum(over(fg, bg)), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(cs.fontSize);
    const need = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700) ? 3 : 4.5;
    if (ratio < need) bad.push(ratio.toFixed(2) + ":1 " + el.tagName.toLowerCase() + "." + el.className.replace(/ /g, ".") + " " + JSON.stringify(t.textContent.trim().slice(0, 30)));
  }
  return bad;
})()`

// TestDashboardContrast checks the contrast of the page's text in the
// light and the dark colour scheme: the list with the start form open,
// and a monitor with its timeline, a task bar carrying its number.
func TestDashboardContrast(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, running("contrast-1"), &fakeMonitor{id: "contrast-2", jobID: "contrast-2", interval: time.Second,
		timeout: time.Minute, completeAfter: 2, created: time.Now().Add(-time.Minute)})

	for _, scheme := range []string{"light", "dark"} {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		}); err != nil {
			t.Fatalf("Emulation.setEmulatedMedia: %v", err)
		}
		step(t, ctx, scheme+": the list, with the start form", 10*time.Second,
			chromedp.Navigate(base+"/ui/"),
			chromedp.WaitVisible(css(row("contrast-2"))),
			chromedp.Click(css(`#start > summary`)),
			chromedp.WaitVisible(css(`#start-form`)),
		)
		if bad := get(t, ctx, "audit the list", chromedp.Evaluate[[]string](lowContrast)); len(bad) > 0 {
			t.Errorf("%s scheme, list: text under AA contrast:\n%s", scheme, strings.Join(bad, "\n"))
		}
		step(t, ctx, scheme+": a monitor", 10*time.Second,
			chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/contrast-1"`),
			waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
			waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length >= 1`),
			// A check long enough for its bar to carry its number.
			chromedp.Evaluate[chromedp.Void](`(() => {
				const bar = Object.assign(document.createElement("div"), {className: "tl-bar task", textContent: "#7"});
				bar.style.left = "0"; bar.style.width = "20%";
				document.querySelector('#timeline [data-lane="Check"] .tl-scale').append(bar);
			})()`),
		)
		if bad := get(t, ctx, "audit the monitor", chromedp.Evaluate[[]string](lowContrast)); len(bad) > 0 {
			t.Errorf("%s scheme, monitor: text under AA contrast:\n%s", scheme, strings.Join(bad, "\n"))
		}
	}
}
