package browsertest

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stepmon/stepmon/internal/dashboard"
)

// scripted is a monitor whose status record and execution history are
// written out whole, for histories the scripted API does not make: checks
// that fail and are retried, executions that fail or are stopped.
type scripted struct {
	record map[string]any
	events []map[string]any
}

// validID matches the instance ids the API takes (docs/api.md).
var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// serveScripted serves the dashboard at /ui/ with an API that answers
// with the monitors' records and histories as they are, and refuses ids
// it would not take, and returns the base URL. It has no /healthz, as
// the API on AWS.
func serveScripted(t *testing.T, monitors map[string]scripted) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /monitors", func(w http.ResponseWriter, r *http.Request) {
		recs := []map[string]any{}
		for _, m := range monitors {
			recs = append(recs, m.record)
		}
		writeJSON(w, http.StatusOK, map[string]any{"monitors": recs})
	})
	mux.HandleFunc("GET /monitors/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !validID.MatchString(r.PathValue("id")) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "instanceId must be 1 to 64 of A-Z a-z 0-9 - _"})
			return
		}
		m, ok := monitors[r.PathValue("id")]
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "monitor not found"})
			return
		}
		writeJSON(w, http.StatusOK, m.record)
	})
	mux.HandleFunc("POST /{$}", func(w http.ResponseWriter, r *http.Request) {
		var req historyRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		for _, m := range monitors {
			if m.record["executionArn"] == req.ExecutionArn {
				evs := slices.Clone(m.events)
				if req.ReverseOrder {
					slices.Reverse(evs)
				}
				// Pages of maxResults; the token is the offset of the next.
				from, _ := strconv.Atoi(req.NextToken)
				from = min(from, len(evs))
				to := len(evs)
				if req.MaxResults > 0 {
					to = min(from+req.MaxResults, len(evs))
				}
				out := map[string]any{"events": evs[from:to]}
				if to < len(evs) {
					out["nextToken"] = strconv.Itoa(to)
				}
				writeJSON(w, http.StatusOK, out)
				return
			}
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"__type": "ExecutionDoesNotExist", "message": "no such execution"})
	})
	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler()))
	return serve(t, mux)
}

// scriptedRecord is the status record of monitor id, in status.
func scriptedRecord(id, status string, created time.Time) map[string]any {
	rec := map[string]any{
		"name": "JobMonitor", "instanceId": id, "runtimeStatus": status,
		"customStatus": map[string]any{"job_id": id, "status": "Running", "check_count": 1},
		"createdTime":  created.UTC().Format(time.RFC3339Nano), "lastUpdatedTime": created.Add(time.Second).UTC().Format(time.RFC3339Nano),
		"executionArn": "arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor:" + id,
	}
	if final(status) {
		rec["output"] = map[string]any{"job_id": id, "final_status": status, "checks_performed": 1}
	}
	return rec
}

// history builds an execution history from t0 on, in the AWS shape.
type history struct {
	t0     time.Time
	events []map[string]any
}

// add appends an event at offset from t0, with its details under the key
// the AWS API uses for its type.
func (h *history) add(offset time.Duration, typ string, details map[string]any) {
	e := map[string]any{"id": len(h.events) + 1, "previousEventId": len(h.events), "type": typ,
		"timestamp": float64(h.t0.Add(offset).UnixMilli()) / 1000}
	if details != nil {
		key := strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
		switch {
		case strings.HasSuffix(typ, "StateEntered"):
			key = "stateEnteredEventDetails"
		case strings.HasSuffix(typ, "StateExited"):
			key = "stateExitedEventDetails"
		}
		e[key] = details
	}
	h.events = append(h.events, e)
}

// tooltip hovers the bar sel and returns its tooltip's text.
func tooltip(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return get(t, ctx, "hover "+sel, chromedp.Evaluate[string](`(() => { const b = document.querySelector(`+strconv.Quote(sel)+`);
		const r = b.getBoundingClientRect();
		b.dispatchEvent(new PointerEvent("pointermove", {bubbles: true, clientX: r.x + 1, clientY: r.y + 2}));
		return document.querySelector("#tip").innerText; })()`))
}

// TestDashboardFailedChecks opens monitors whose checks failed: one whose
// first check failed once and passed on its retry, then whose second
// check failed the execution; one whose check is failing right now, being
// retried; one terminated while it waited. The timeline marks a retried
// check, a failing one and the one that failed the execution, and its
// tooltip gives the attempts, the errors and how the execution ended; an
// ended timeline has no now-line; the history marks the failure events
// and cuts a long cause short.
func TestDashboardFailedChecks(t *testing.T) {
	ctx := browser(t)
	t0 := time.Now().Add(-time.Minute)
	check := map[string]any{"name": "Check", "input": `{"check":{"checkCount":0}}`}
	lambda := map[string]any{"resource": "invoke", "resourceType": "lambda"}

	failed := &history{t0: t0}
	failed.add(0, "ExecutionStarted", map[string]any{"input": "{}"})
	failed.add(0, "TaskStateEntered", check)
	failed.add(0, "TaskScheduled", lambda)
	failed.add(time.Millisecond, "TaskStarted", lambda)
	failed.add(40*time.Millisecond, "TaskFailed", map[string]any{"error": "Lambda.ServiceException", "cause": "the check's Lambda is unavailable"})
	failed.add(1040*time.Millisecond, "TaskScheduled", lambda)
	failed.add(1041*time.Millisecond, "TaskStarted", lambda)
	failed.add(1080*time.Millisecond, "TaskSucceeded", lambda)
	failed.add(1080*time.Millisecond, "TaskStateExited", map[string]any{"name": "Check", "output": `{"check":{"checkCount":1,"status":"Running"}}`})
	failed.add(1081*time.Millisecond, "WaitStateEntered", map[string]any{"name": "Wait", "input": "{}"})
	failed.add(11*time.Second, "WaitStateExited", map[string]any{"name": "Wait", "output": "{}"})
	failed.add(11*time.Second, "TaskStateEntered", check)
	failed.add(11*time.Second, "TaskScheduled", lambda)
	failed.add(11001*time.Millisecond, "TaskStarted", lambda)
	failed.add(21*time.Second, "TaskTimedOut", map[string]any{"error": "States.Timeout"})
	failed.add(21*time.Second, "ExecutionFailed", map[string]any{"error": "States.Timeout", "cause": "the check timed out"})

	failing := &history{t0: time.Now().Add(-5 * time.Second)}
	failing.add(0, "ExecutionStarted", map[string]any{"input": "{}"})
	failing.add(0, "TaskStateEntered", check)
	failing.add(0, "TaskScheduled", lambda)
	failing.add(time.Millisecond, "TaskStarted", lambda)
	failing.add(40*time.Millisecond, "TaskFailed", map[string]any{"error": "Lambda.TooManyRequestsException", "cause": "Rate exceeded"})
	failing.add(1040*time.Millisecond, "TaskScheduled", lambda)

	stopped := &history{t0: t0}
	stopped.add(0, "ExecutionStarted", map[string]any{"input": "{}"})
	stopped.add(0, "TaskStateEntered", check)
	stopped.add(0, "TaskScheduled", lambda)
	stopped.add(40*time.Millisecond, "TaskSucceeded", lambda)
	stopped.add(40*time.Millisecond, "TaskStateExited", map[string]any{"name": "Check", "output": "{}"})
	stopped.add(41*time.Millisecond, "WaitStateEntered", map[string]any{"name": "Wait", "input": "{}"})
	stopped.add(5*time.Second, "ExecutionAborted", map[string]any{"error": "States.Aborted", "cause": strings.Repeat("no longer needed; ", 20)})

	base := serveScripted(t, map[string]scripted{
		"failed-1":  {record: scriptedRecord("failed-1", "Failed", t0), events: failed.events},
		"failing-1": {record: scriptedRecord("failing-1", "Running", failing.t0), events: failing.events},
		"stopped-1": {record: scriptedRecord("stopped-1", "Terminated", t0), events: stopped.events},
	})

	step(t, ctx, "open the failed monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/failed-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Failed"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 2`),
		waitJS(`document.querySelector("#events").children.length === 16`),
	)
	bars := get(t, ctx, "read the check bars", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar')].map(b => b.className)`))
	if !strings.Contains(bars[0], "retried") || strings.Contains(bars[0], "failed") {
		t.Errorf("check #1, retried after a failure: classes %q, want retried", bars[0])
	}
	if !strings.Contains(bars[1], "failed") || strings.Contains(bars[1], "open") {
		t.Errorf("check #2, which failed the execution: classes %q, want failed and not open", bars[1])
	}
	tip := tooltip(t, ctx, `#timeline [data-lane="Check"] .tl-bar`)
	for _, want := range []string{"Check #1", "Attempts: 2", "Error: Lambda.ServiceException: the check's Lambda is unavailable"} {
		if !strings.Contains(tip, want) {
			t.Errorf("tooltip of check #1 %q lacks %q", tip, want)
		}
	}
	tip = tooltip(t, ctx, `#timeline [data-lane="Check"] .tl-bar:last-of-type`)
	for _, want := range []string{"Check #2", "Error: States.Timeout", "Ended: execution failed"} {
		if !strings.Contains(tip, want) {
			t.Errorf("tooltip of check #2 %q lacks %q", tip, want)
		}
	}
	if strings.Contains(tip, "running") || strings.Contains(tip, "Attempts") {
		t.Errorf("tooltip of check #2 %q: want neither running nor attempts (one)", tip)
	}
	if label := get(t, ctx, "read the timeline's name", chromedp.Evaluate[string](`document.querySelector("#timeline").getAttribute("aria-label")`)); strings.Contains(label, "still running") {
		t.Errorf("timeline of a failed execution named %q, want it ended", label)
	}
	if n := get(t, ctx, "count the now-lines", chromedp.Evaluate[int](`document.querySelectorAll("#timeline .tl-now").length`)); n != 0 {
		t.Errorf("timeline of a failed execution: %d now-lines, want none", n)
	}
	marked := get(t, ctx, "read the marked events", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#events tr.fail")].map(tr => tr.children[3].textContent)`))
	if got, want := strings.Join(marked, ","), "TaskFailed,TaskTimedOut,ExecutionFailed"; got != want {
		t.Errorf("history rows marked as failures: got %s, want %s", got, want)
	}

	step(t, ctx, "open the monitor whose check is failing", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/failing-1"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length === 1`),
	)
	if cls := get(t, ctx, "read the check bar", chromedp.Evaluate[string](`document.querySelector('#timeline [data-lane="Check"] .tl-bar').className`)); !strings.Contains(cls, "failed") || !strings.Contains(cls, "open") {
		t.Errorf("check being retried after a failure: classes %q, want failed and open", cls)
	}
	tip = tooltip(t, ctx, `#timeline [data-lane="Check"] .tl-bar`)
	for _, want := range []string{"Attempts: 2", "Error: Lambda.TooManyRequestsException: Rate exceeded", "State: running"} {
		if !strings.Contains(tip, want) {
			t.Errorf("tooltip of the failing check %q lacks %q", tip, want)
		}
	}

	step(t, ctx, "open the terminated monitor", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/stopped-1"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Terminated"`),
		waitJS(`document.querySelectorAll('#timeline [data-lane="Wait"] .tl-bar').length === 1`),
	)
	if cls := get(t, ctx, "read the wait bar", chromedp.Evaluate[string](`document.querySelector('#timeline [data-lane="Wait"] .tl-bar').className`)); strings.Contains(cls, "failed") || strings.Contains(cls, "open") {
		t.Errorf("wait stopped by a terminate: classes %q, want neither failed nor open", cls)
	}
	// A long cause is cut short in the history's cell.
	short := get(t, ctx, "read the end's details", chromedp.Evaluate[string](`document.querySelector('#events tr[data-id="7"] summary').textContent`))
	if want := ("States.Aborted: " + strings.Repeat("no longer needed; ", 20))[:240] + "…"; short != want {
		t.Errorf("ExecutionAborted's details: got %q, want %q", short, want)
	}
	tip = tooltip(t, ctx, `#timeline [data-lane="Wait"] .tl-bar`)
	if !strings.Contains(tip, "Ended: execution stopped") {
		t.Errorf("tooltip of the stopped wait %q lacks Ended: execution stopped", tip)
	}
}

// TestDashboardErrorsRedacted opens a monitor whose history holds its
// spec's secrets where the scripted API puts none: a user and password in
// the target URL, a webhook URL without a scheme, error causes that quote the spec in JSON cut short or
// with escaped quotes, and an output that is JSON text of JSON text. The
// page shows none of them, in the history, its hover texts and the
// timeline's tooltips.
func TestDashboardErrorsRedacted(t *testing.T) {
	ctx := browser(t)
	t0 := time.Now().Add(-time.Minute)
	spec := `{"spec":{"target":{"type":"http","url":"https://user:s3cretPW@jobs.example.com/api/jobs/42"},` +
		`"alert":{"webhookUrl":"hooks.example.com/services/s3cretNOSCHEME"}}}`
	lambda := map[string]any{"resource": "invoke", "resourceType": "lambda"}
	h := &history{t0: t0}
	h.add(0, "ExecutionStarted", map[string]any{"input": spec})
	h.add(0, "TaskStateEntered", map[string]any{"name": "Check", "input": spec})
	h.add(0, "TaskScheduled", lambda)
	h.add(40*time.Millisecond, "TaskFailed", map[string]any{"error": "Lambda.Unknown",
		"cause": `check failed for {"target":{"url":"https://jobs.example.com/api?token=s3cretCUT`})
	h.add(time.Second, "TaskScheduled", lambda)
	h.add(1040*time.Millisecond, "TaskFailed", map[string]any{"error": "Lambda.Unknown",
		"cause": `the Lambda said {\"target\":{\"url\":\"https://jobs.example.com/api?token=s3cretESC\"}}`})
	h.add(2*time.Second, "TaskScheduled", lambda)
	h.add(2040*time.Millisecond, "TaskSucceeded", map[string]any{"resource": "invoke", "resourceType": "lambda",
		"output": `"{\"target\":{\"url\":\"https://jobs.example.com/api?token=s3cretSTR\"}}"`})
	h.add(2040*time.Millisecond, "TaskStateExited", map[string]any{"name": "Check", "output": spec})
	h.add(2040*time.Millisecond, "ExecutionSucceeded", map[string]any{"output": "{}"})
	base := serveScripted(t, map[string]scripted{"leaky-1": {record: scriptedRecord("leaky-1", "Completed", t0), events: h.events}})

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/leaky-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelector("#events").children.length === 10`),
	)
	tip := tooltip(t, ctx, `#timeline [data-lane="Check"] .tl-bar`)
	get(t, ctx, "open every event's details", chromedp.Evaluate[chromedp.Void](`for (const d of document.querySelectorAll("#events details")) d.open = true`))
	step(t, ctx, "details written in", 5*time.Second, waitJS(`document.querySelectorAll("#events details pre").length === 10`))
	page := get(t, ctx, "read the page", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if i := strings.Index(page+tip, "s3cret"); i >= 0 {
		all := page + tip
		t.Errorf("the page shows a secret of the spec: …%s…", all[max(0, i-200):min(len(all), i+60)])
	}
	titles := get(t, ctx, "read the history's hover texts", chromedp.Evaluate[string](`[...document.querySelectorAll("#events td[title]")].map(td => td.title).join("\n")`))
	if want := `https://(redacted)@jobs.example.com/api/jobs/42`; !strings.Contains(titles, want) {
		t.Errorf("history hover texts lack %s", want)
	}
	if want := `https://jobs.example.com/api?(redacted)`; !strings.Contains(titles, want) {
		t.Errorf("history hover texts lack %s, the URL of the output's JSON text", want)
	}
}

// TestDashboardHistoryCut opens a monitor whose history has more events
// than the page reads (ten pages of 1,000): it shows the first 10,000
// and says so.
func TestDashboardHistoryCut(t *testing.T) {
	ctx := browser(t)
	t0 := time.Now().Add(-time.Hour)
	h := &history{t0: t0}
	h.add(0, "ExecutionStarted", map[string]any{"input": "{}"})
	for i := range 5005 {
		at := time.Duration(i) * 500 * time.Millisecond
		h.add(at, "PassStateEntered", map[string]any{"name": "Step", "input": "{}"})
		h.add(at+time.Millisecond, "PassStateExited", map[string]any{"name": "Step", "output": "{}"})
	}
	base := serveScripted(t, map[string]scripted{"cut-1": {record: scriptedRecord("cut-1", "Running", t0), events: h.events}})

	step(t, ctx, "open the monitor", 30*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/cut-1"),
		waitJS(`document.querySelector("#events-note").textContent.startsWith("10,000 events")`),
	)
	if note := get(t, ctx, "read the timeline's note", chromedp.Evaluate[string](`document.querySelector("#timeline-note").textContent`)); !strings.Contains(note, "first 10,000 events") {
		t.Errorf("timeline note %q does not say that it shows the first 10,000 events", note)
	}
}
