package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// TestDashboardTimelineGrows follows a monitor running for 800 checks
// (about 7,200 history events): a refresh that brings a check's events
// adds them to the timeline, rather than building it again from every
// event, so it parses a few states' JSON, not every state's. The page's
// JSON.parse calls are counted; the script time per refresh, from a CPU
// profile, is logged.
func TestDashboardTimelineGrows(t *testing.T) {
	ctx := browser(t)
	const checks = 800
	api, base := serveFake(t, &fakeMonitor{id: "grow-1", jobID: "grow-1", interval: time.Second, timeout: 24 * time.Hour,
		completeAfter: 1 << 30, created: time.Now().Add(-checks * time.Second)})
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__parses = 0; JSON.parse = ((parse) => function (...args) { window.__parses++; return parse.apply(this, args); })(JSON.parse);`,
	}); err != nil {
		t.Fatalf("Page.addScriptToEvaluateOnNewDocument: %v", err)
	}

	step(t, ctx, "open the running monitor", 30*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/grow-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length >= 800`),
	)
	reads := func() int {
		api.mu.Lock()
		defer api.mu.Unlock()
		return api.reverseCalls
	}
	get(t, ctx, "count from here", chromedp.Evaluate[chromedp.Void](`window.__parses = 0;
		window.__checks0 = document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length`))
	stop := startProfile(t, ctx)
	r0 := reads()
	// Refreshes that bring checks, however long a loaded machine makes them take.
	step(t, ctx, "six new checks", 60*time.Second,
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length >= window.__checks0 + 6`))
	ui, model := stop()
	r1 := reads()
	type counts struct{ Parses, Checks int }
	got := get(t, ctx, "read the counts", chromedp.Evaluate[counts](`({Parses: window.__parses,
		Checks: document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length - window.__checks0})`))
	n := float64(max(1, r1-r0))
	t.Logf("at %d checks: %d refreshes brought %d checks; per refresh: the page's script %.1f ms, of which the timeline model %.1f ms; %.0f JSON.parse calls",
		checks, r1-r0, got.Checks, ui.Seconds()*1000/n, model.Seconds()*1000/n, float64(got.Parses)/n)
	// A check is 9 events; each read answer and each new event's JSON
	// texts (the History row, the redaction) are parsed, about 20 a check.
	if limit := 60 * max(1, got.Checks); got.Parses > limit {
		t.Errorf("%d JSON.parse calls for %d new checks, want at most %d: a refresh should parse what it brought, not the whole history", got.Parses, got.Checks, limit)
	}
}

// startProfile starts the page's CPU profiler, sampling every 200 µs. The
// function it returns stops it and gives the time spent in the
// dashboard's scripts (samples with one of its frames on the stack), and
// of that the time in building the timeline's model.
func startProfile(t *testing.T, ctx context.Context) func() (ui, model time.Duration) {
	t.Helper()
	for _, err := range []error{
		call(ctx, profiler.Enable, cdp.Empty{}),
		call(ctx, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 200}),
		call(ctx, profiler.Start, cdp.Empty{}),
	} {
		if err != nil {
			t.Fatalf("start the profiler: %v", err)
		}
	}
	return func() (ui, model time.Duration) {
		t.Helper()
		res, err := chromedp.Call(ctx, profiler.Stop, cdp.Empty{})
		if err != nil || res.Profile == nil {
			t.Fatalf("Profiler.stop: %v", err)
		}
		p := res.Profile
		// Which nodes run the dashboard's code, or the model's, themselves
		// or in a caller.
		type mark struct{ ui, model bool }
		marks := map[int64]mark{}
		parent := map[int64]int64{}
		for _, nd := range p.Nodes {
			for _, c := range nd.Children {
				parent[c] = nd.ID
			}
		}
		byID := map[int64]*profiler.ProfileNode{}
		for _, nd := range p.Nodes {
			byID[nd.ID] = nd
		}
		var markOf func(id int64) mark
		markOf = func(id int64) mark {
			if m, ok := marks[id]; ok {
				return m
			}
			var m mark
			if pid, ok := parent[id]; ok {
				m = markOf(pid)
			}
			f := byID[id].CallFrame
			m.ui = m.ui || strings.Contains(f.URL, "/ui/")
			m.model = m.model || f.FunctionName == "buildTimeline" || f.FunctionName == "extendTimeline"
			marks[id] = m
			return m
		}
		for i, id := range p.Samples {
			if i+1 >= len(p.TimeDeltas) {
				break
			}
			d := time.Duration(p.TimeDeltas[i+1]) * time.Microsecond // until the next sample
			m := markOf(id)
			if m.ui {
				ui += d
			}
			if m.model {
				model += d
			}
		}
		return ui, model
	}
}

// call runs a protocol command whose answer is of no interest.
func call[P, R any](ctx context.Context, cmd cdp.Command[P, R], params P) error {
	_, err := chromedp.Call(ctx, cmd, params)
	return err
}
