package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"github.com/stepmon/stepmon/internal/dashboard"
)

// serveFake serves the dashboard at /ui/ with a scripted API holding
// monitors, and returns the API and the base URL.
func serveFake(t *testing.T, monitors ...*fakeMonitor) (*fakeAPI, string) {
	t.Helper()
	api := newFakeAPI()
	for _, m := range monitors {
		api.add(m)
	}
	mux := http.NewServeMux()
	api.routes(mux)
	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler()))
	return api, serve(t, mux)
}

// metrics reads the page's performance counters by name.
func metrics(t *testing.T, ctx context.Context) map[string]float64 {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := chromedp.Call(sctx, performance.GetMetrics, cdp.Empty{})
	if err != nil {
		t.Fatalf("Performance.getMetrics: %v", err)
	}
	m := map[string]float64{}
	for _, x := range res.Metrics {
		m[x.Name] = x.Value
	}
	return m
}

// TestDashboardLongHistory opens a finished monitor that ran 1,000
// checks (about 9,000 history events): the page shows the newest 500
// events with a control for older ones, and once everything is shown a
// refresh that brings nothing new changes nothing on the page.
func TestDashboardLongHistory(t *testing.T) {
	ctx := browser(t)
	const checks = 1000
	_, base := serveFake(t, &fakeMonitor{id: "long-1", jobID: "long-1", interval: time.Second, timeout: 2 * time.Hour,
		completeAfter: checks, created: time.Now().Add(-checks*time.Second - 5*time.Second)})

	step(t, ctx, "page loads", 10*time.Second,
		chromedp.Navigate(base+"/ui/"),
		waitJS(`document.querySelector("#live").classList.contains("ok")`),
	)
	if _, err := chromedp.Call(ctx, performance.Enable, performance.EnableParams{}); err != nil {
		t.Fatalf("Performance.enable: %v", err)
	}
	before := metrics(t, ctx)
	step(t, ctx, "open the monitor with its long history", 30*time.Second,
		chromedp.Evaluate[chromedp.Void](`window.__long = [];
			new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => e.duration))).observe({type: "longtask"});
			window.__t0 = performance.now(); location.hash = "#/monitors/long-1"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 1000 && document.querySelector("#events").children.length > 0`),
		chromedp.Evaluate[chromedp.Void](`window.__t1 = performance.now()`),
	)
	after := metrics(t, ctx)
	ms := get(t, ctx, "time to render", chromedp.Evaluate[float64](`window.__t1 - window.__t0`))
	longest := get(t, ctx, "longest task", chromedp.Evaluate[float64](`Math.max(0, ...window.__long)`))
	elements := get(t, ctx, "count elements", chromedp.Evaluate[int](`document.getElementsByTagName("*").length`))
	rows := get(t, ctx, "count rows", chromedp.Evaluate[int](`document.querySelector("#events").children.length`))
	events := get(t, ctx, "history size", chromedp.Evaluate[string](`document.querySelector("#events-note").textContent`))
	t.Logf("first render: %.0f ms to show, longest task %.0f ms (script %.0f ms, layout %.0f ms, style %.0f ms); %d elements, %.0f DOM nodes; %d history rows of %s",
		ms, longest, 1000*(after["ScriptDuration"]-before["ScriptDuration"]), 1000*(after["LayoutDuration"]-before["LayoutDuration"]),
		1000*(after["RecalcStyleDuration"]-before["RecalcStyleDuration"]), elements, after["Nodes"], rows, events)
	if rows > 500 {
		t.Errorf("history rows: got %d, want the newest 500", rows)
	}
	if !strings.HasPrefix(events, "9,002 events") {
		t.Errorf("history note: got %q, want 9,002 events", events)
	}

	// Nothing changes any more: two refreshes must leave the page alone.
	get(t, ctx, "watch for changes", chromedp.Evaluate[chromedp.Void](`window.__mutations = 0;
		for (const id of ["timeline", "events"]) new MutationObserver((rs) => { window.__mutations += rs.length; })
			.observe(document.getElementById(id), {subtree: true, childList: true, attributes: true, characterData: true});
		window.__requests = performance.getEntriesByType("resource").length`))
	idle0 := metrics(t, ctx)
	step(t, ctx, "two refreshes", 10*time.Second, chromedp.Sleep(3200*time.Millisecond))
	idle1 := metrics(t, ctx)
	mutations := get(t, ctx, "count changes", chromedp.Evaluate[int](`window.__mutations`))
	requests := get(t, ctx, "count requests", chromedp.Evaluate[int](`performance.getEntriesByType("resource").length - window.__requests`))
	t.Logf("idle refreshes: %d requests, %d DOM mutations, script %.0f ms, layout %.0f ms over 3.2 s",
		requests, mutations, 1000*(idle1["ScriptDuration"]-idle0["ScriptDuration"]), 1000*(idle1["LayoutDuration"]-idle0["LayoutDuration"]))
	if requests == 0 {
		t.Errorf("no requests in 3.2 s; want the page still polling")
	}
	if mutations > 0 {
		t.Errorf("DOM mutations while nothing changed: got %d, want the timeline and history left alone", mutations)
	}

	step(t, ctx, "show older events", 5*time.Second,
		chromedp.Click(css(`#events-older`)),
		waitJS(`document.querySelector("#events").children.length === 1000`),
		waitJS(`document.querySelector("#events").firstElementChild.dataset.id === "8003"`),
		waitJS(`document.querySelector("#events").lastElementChild.dataset.id === "9002"`),
	)
}

// TestDashboardHistoryRedacted opens a monitor whose spec carries secrets
// (a bearer token, a query string, a webhook key): the execution history
// holds them, and the page shows them redacted as the API does, in the
// history's cells, their hover text and the timeline.
func TestDashboardHistoryRedacted(t *testing.T) {
	ctx := browser(t)
	spec := map[string]any{
		"jobId": "secret-1",
		"target": map[string]any{"type": "http", "url": "https://jobs.example.com/api/jobs/42?token=s3cretQUERY#frag",
			"headers": map[string]any{"Authorization": "Bearer s3cretTOKEN", "X-Api-Key": "s3cretKEY"}, "statusPath": "$.status"},
		"alert":                  map[string]any{"webhookUrl": "https://hooks.slack.com/services/T000/B000/s3cretHOOK"},
		"pollingIntervalSeconds": 1,
	}
	_, base := serveFake(t, &fakeMonitor{id: "secret-1", jobID: "secret-1", interval: time.Second, timeout: time.Minute,
		completeAfter: 3, created: time.Now().Add(-5 * time.Second), spec: spec})

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/secret-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`[...document.querySelectorAll("#events td")].some(td => td.textContent === "ExecutionSucceeded")`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 3`),
	)
	// Show every tooltip once, so that its text is in the page too.
	get(t, ctx, "hover the bars", chromedp.Evaluate[chromedp.Void](`for (const b of document.querySelectorAll("#timeline .tl-bar")) {
		const r = b.getBoundingClientRect();
		b.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, clientX: r.x + 1, clientY: r.y + 2}));
		const copy = document.createElement("template");
		copy.content.append(...[...document.querySelector("#tip").childNodes].map((n) => n.cloneNode(true)));
		document.body.append(copy);
	}`))
	page := get(t, ctx, "read the page", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if strings.Contains(page, "s3cret") {
		i := strings.Index(page, "s3cret")
		t.Errorf("the page shows a secret of the spec: …%s…", page[max(0, i-200):min(len(page), i+60)])
	}
	titles := get(t, ctx, "read the history's hover texts", chromedp.Evaluate[string](`[...document.querySelectorAll("#events td[title]")].map(td => td.title).join("\n")`))
	for _, want := range []string{
		`Authorization\":\"(redacted)\"`,
		`https://jobs.example.com/api/jobs/42?(redacted)#(redacted)`,
		`https://hooks.slack.com/(redacted)`,
	} {
		if !strings.Contains(titles, want) {
			t.Errorf("history hover texts lack %s", want)
		}
	}
}

// TestDashboardExecutionDeleted opens a finished monitor whose execution
// the retention period has deleted while its status record remains: the
// timeline says so, rather than blaming the endpoint.
func TestDashboardExecutionDeleted(t *testing.T) {
	ctx := browser(t)
	_, base := serveFake(t, &fakeMonitor{id: "old-1", jobID: "old-1", interval: time.Second, timeout: time.Minute,
		completeAfter: 2, created: time.Now().Add(-time.Hour), executionDeleted: true})

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/old-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelector("#timeline .tl-empty") !== null`),
	)
	empty := get(t, ctx, "read the timeline", chromedp.Evaluate[string](`document.querySelector("#timeline .tl-empty").textContent`))
	if want := "This execution no longer exists: it was deleted, with its history, when its retention period passed."; !strings.HasPrefix(empty, want) {
		t.Errorf("timeline says %q, want it to start with %q", empty, want)
	}
	note := get(t, ctx, "read the timeline note", chromedp.Evaluate[string](`document.querySelector("#timeline-note").textContent`))
	if !strings.Contains(note, "Execution Does Not Exist") {
		t.Errorf("timeline note %q does not give the API's answer", note)
	}
}

// TestDashboardRunningHistory opens a monitor that is still running after
// 1,000 checks (about 9,000 history events, 3,000 bars) and watches
// several refreshes: each one adds the new check's bars and moves the
// open bar and the now-line, leaving the other bars alone.
func TestDashboardRunningHistory(t *testing.T) {
	ctx := browser(t)
	const checks = 1000
	_, base := serveFake(t, &fakeMonitor{id: "run-1", jobID: "run-1", interval: time.Second, timeout: 24 * time.Hour,
		completeAfter: 1 << 30, created: time.Now().Add(-checks * time.Second)})

	step(t, ctx, "open the running monitor with its long history", 30*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/run-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length >= 1000`),
	)
	if _, err := chromedp.Call(ctx, performance.Enable, performance.EnableParams{}); err != nil {
		t.Fatalf("Performance.enable: %v", err)
	}
	// Each refresh draws in one task, so each batch of mutation records is
	// one refresh: count the records and the bars they touch.
	get(t, ctx, "watch for changes", chromedp.Evaluate[chromedp.Void](`window.__batches = [];
		window.__checks0 = document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length;
		window.__long = [];
		new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => e.duration))).observe({type: "longtask"});
		new MutationObserver((rs) => {
			const bars = new Set(), checks = new Set();
			for (const r of rs) {
				if (r.target.classList && r.target.classList.contains("tl-bar")) bars.add(r.target);
				for (const n of r.addedNodes) {
					if (n.nodeType !== 1) continue;
					for (const b of [n, ...n.querySelectorAll(".tl-bar")]) {
						if (b.classList.contains("tl-bar") && b.closest('[data-lane="Check"]')) checks.add(b);
					}
				}
				for (const n of [...r.addedNodes, ...r.removedNodes]) {
					if (n.nodeType !== 1) continue;
					if (n.classList.contains("tl-bar")) bars.add(n);
					for (const b of n.querySelectorAll(".tl-bar")) bars.add(b);
				}
			}
			window.__batches.push({records: rs.length, bars: bars.size, checks: checks.size});
		}).observe(document.getElementById("timeline"), {subtree: true, childList: true, attributes: true, characterData: true})`))
	m0 := metrics(t, ctx)
	// Three refreshes, however long a loaded machine makes them take (one
	// every 2 s on an idle one).
	watched := time.Now()
	step(t, ctx, "several refreshes", 60*time.Second, waitJS(`window.__batches.length >= 3`))
	window := time.Since(watched)
	m1 := metrics(t, ctx)
	type batch struct{ Records, Bars, Checks int }
	batches := get(t, ctx, "read the changes", chromedp.Evaluate[[]batch](`window.__batches`))
	added := get(t, ctx, "count new checks", chromedp.Evaluate[int](`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length - window.__checks0`))
	longest := get(t, ctx, "longest task", chromedp.Evaluate[float64](`Math.max(0, ...window.__long)`))
	n := float64(max(1, len(batches)))
	maxBars, records := 0, 0
	for _, b := range batches {
		maxBars = max(maxBars, b.Bars)
		records += b.Records
		// A check adds three bars (Check, Evaluate, Wait) and closes the
		// open Wait; the tab stop may move. A refresh brings the checks
		// made since the last, more than one when the page is slow.
		if limit := 6*max(1, b.Checks) + 4; b.Bars > limit {
			t.Errorf("a refresh that added %d checks touched %d bars, want only the new and the open ones (at most %d)", b.Checks, b.Bars, limit)
		}
	}
	t.Logf("running refreshes: %d drawn over %v, %d new checks; per refresh: main thread %.1f ms, script %.1f ms, layout %.1f ms, style %.1f ms, %.0f DOM mutations, at most %d bars touched; longest task %.0f ms",
		len(batches), window.Round(time.Millisecond), added, 1000*(m1["TaskDuration"]-m0["TaskDuration"])/n, 1000*(m1["ScriptDuration"]-m0["ScriptDuration"])/n, 1000*(m1["LayoutDuration"]-m0["LayoutDuration"])/n,
		1000*(m1["RecalcStyleDuration"]-m0["RecalcStyleDuration"])/n, float64(records)/n, maxBars, longest)
	if added < 3 {
		t.Errorf("%d refreshes drawn with %d new checks over %v, want the running timeline to follow the checks (one a second)", len(batches), added, window.Round(time.Millisecond))
	}
}

// TestDashboardHistoryReadsLittle follows a running monitor with a long
// history: each refresh brings the few events of the last check or two,
// so it asks for a few, not for a page of a hundred or more (one read may
// need more, when a slow first read let many events pass), and adds each
// event to the history once.
func TestDashboardHistoryReadsLittle(t *testing.T) {
	ctx := browser(t)
	api, base := serveFake(t, &fakeMonitor{id: "little-1", jobID: "little-1", interval: time.Second, timeout: time.Hour,
		completeAfter: 1 << 30, created: time.Now().Add(-5 * time.Minute)})

	step(t, ctx, "open the running monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/little-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length >= 300`),
	)
	api.mu.Lock()
	seen := len(api.reverseEvents)
	api.mu.Unlock()
	// Three refreshes' reads, however long a loaded machine makes them
	// take (one every 2 s on an idle one).
	var reads []int
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		api.mu.Lock()
		reads = slices.Clone(api.reverseEvents[seen:])
		api.mu.Unlock()
		if len(reads) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d incremental history reads in 60 s, want one a refresh", len(reads))
		}
	}
	t.Logf("incremental history reads, events each: %v", reads)
	large := 0
	for _, n := range reads {
		if n > 30 {
			large++
		}
	}
	if large > 1 {
		t.Errorf("%d of %d incremental history reads answered more than 30 events, want at most one (a check is 9 events)", large, len(reads))
	}
	// The events read are added once each, after those shown.
	ids := get(t, ctx, "read the history's ids", chromedp.Evaluate[[]int](`[...document.querySelectorAll("#events tr")].map(tr => Number(tr.dataset.id))`))
	for i := 1; i < len(ids); i++ {
		if ids[i] != ids[i-1]+1 {
			t.Fatalf("history rows' ids go %d, %d at row %d, want each event once, in order", ids[i-1], ids[i], i)
		}
	}
}

// TestDashboardGenerationSwitch keeps a running monitor's page open, with
// updates paused, while its execution continues as new and the new one
// outgrows the history shown: once updates resume, the History table
// holds the new execution's events only. Ids start at 1 in every
// execution, so the table cannot tell the two apart by them.
func TestDashboardGenerationSwitch(t *testing.T) {
	ctx := browser(t)
	created := time.Now().Add(-time.Second)
	api, base := serveFake(t, &fakeMonitor{id: "gen-1", jobID: "gen-1", interval: 200 * time.Millisecond, timeout: time.Hour,
		completeAfter: 1 << 30, created: created})

	step(t, ctx, "open the monitor, then pause", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/gen-1"),
		waitJS(`document.querySelector("#events").children.length >= 20`),
		chromedp.Click(css(`#pause`)),
		waitJS(`document.querySelector("#live").classList.contains("paused")`),
	)
	shown := get(t, ctx, "count the rows", chromedp.Evaluate[int](`document.querySelector("#events").children.length`))
	api.continueAsNew("gen-1", time.Now())
	// As long as the first execution ran: the second has more events by then.
	step(t, ctx, "stay paused across the rollover", 20*time.Second, chromedp.Sleep(time.Since(created)+time.Second))
	step(t, ctx, "resume", 10*time.Second,
		chromedp.Click(css(`#pause`)),
		waitJS(`document.querySelector("#timeline-note").textContent.includes("generation 1")`),
		waitJS(fmt.Sprintf(`document.querySelector("#events").children.length > %d`, shown)),
	)
	type table struct {
		Rows, Old int
		First     string
		Note      string
	}
	got := get(t, ctx, "read the history", chromedp.Evaluate[table](`(() => {
		const rows = [...document.querySelectorAll("#events tr")];
		// Every state the new execution's events carry names its generation.
		const old = rows.filter((tr) => tr.children[5].textContent.includes("instanceId") && !tr.children[5].textContent.includes('"generation":1'));
		return {Rows: rows.length, Old: old.length, First: rows[0].dataset.id, Note: document.querySelector("#events-note").textContent};
	})()`))
	if got.Old > 0 || got.First != "1" || !strings.HasPrefix(got.Note, fmt.Sprintf("%d events", got.Rows)) {
		t.Errorf("history after the rollover: %d rows from the first event %s, %d of them from the previous execution, note %q; want the new execution's events only, all shown",
			got.Rows, got.First, got.Old, got.Note)
	}
}

// TestDashboardOlderRowsStay follows a running monitor after Show older
// events, and then with a disclosure of the oldest row open: new events
// do not take away the rows asked for or the one being read (they went a
// few seconds later, the open disclosure with them).
func TestDashboardOlderRowsStay(t *testing.T) {
	ctx := browser(t)
	const checks = 200 // more than 1,000 events
	_, base := serveFake(t, &fakeMonitor{id: "older-1", jobID: "older-1", interval: time.Second, timeout: 24 * time.Hour,
		completeAfter: 1 << 30, created: time.Now().Add(-checks * time.Second)})
	step(t, ctx, "open the running monitor and show older events", 30*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/older-1"),
		waitJS(`document.querySelectorAll("#events tr").length === 500`),
		chromedp.Click(css(`#events-older`)),
		waitJS(`document.querySelectorAll("#events tr").length === 1000`),
	)
	firstRow := `document.querySelector("#events tr").dataset.id`
	first := get(t, ctx, "read the oldest row shown", chromedp.Evaluate[string](firstRow))
	count := `Number(document.querySelector("#events-note").textContent.replace(/,/g, "").split(" ")[0])`
	n0 := get(t, ctx, "count the events", chromedp.Evaluate[int](count))
	step(t, ctx, "new events come", 30*time.Second, waitJS(count+` >= `+strconv.Itoa(n0+10)))
	if got := get(t, ctx, "read the oldest row again", chromedp.Evaluate[string](firstRow)); got != first {
		t.Errorf("after new events the oldest row shown is event %s, want %s, the one Show older brought", got, first)
	}

	// On a fresh page, the newest 500 rows, the oldest one's disclosure open.
	step(t, ctx, "open the monitor again, a disclosure of the oldest row open", 30*time.Second,
		chromedp.Navigate(base+"/ui/#/"),
		// The list shown, the monitor's view dropped: two hash changes
		// in a row may reach the page as one, which keeps the view and
		// its 1,000 rows.
		waitJS(`!document.querySelector("#list-view").hidden && document.querySelector("#detail-view").hidden`),
		chromedp.Navigate(base+"/ui/#/monitors/older-1"),
		waitJS(`document.querySelectorAll("#events tr").length === 500`),
	)
	opened := get(t, ctx, "open the oldest row's details", chromedp.Evaluate[string](`(() => {
		const row = [...document.querySelectorAll("#events tr")].find((r) => r.querySelector("details"));
		row.querySelector("details").open = true;
		return row.dataset.id;
	})()`))
	n1 := get(t, ctx, "count the events", chromedp.Evaluate[int](count))
	step(t, ctx, "new events come", 30*time.Second, waitJS(count+` >= `+strconv.Itoa(n1+10)))
	if still := get(t, ctx, "look for the open row", chromedp.Evaluate[bool](`!!document.querySelector('#events tr[data-id="`+opened+`"] details[open]')`)); !still {
		t.Errorf("the row %s, its details open, went when new events came", opened)
	}
}
