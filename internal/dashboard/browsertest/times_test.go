package browsertest

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestDashboardTimesShown opens a monitor that ran on a day long past, in
// Asia/Tokyo: its facts give the local date and time (with milliseconds
// in the title), its duration as the output gives it, and the history
// gives each event's local time and its time from the execution's start,
// in milliseconds, seconds, minutes or days as fits; a wait's tooltip
// gives the local time it waits for. A running monitor's next check and
// its expiry are in the future, its last check (seconds ago, not now) and
// update in the past; a finished monitor no longer expires. The last
// minute of the running one's timeline holds the wait begun before it,
// and the timeline's name says it is still running.
func TestDashboardTimesShown(t *testing.T) {
	ctx := browser(t)
	created := time.Date(2026, 3, 4, 5, 6, 7, 8e6, time.UTC)
	rec := scriptedRecord("past-1", "Completed", created)
	// The output's duration, not the time to the last update.
	rec["lastUpdatedTime"] = created.Add(76 * time.Hour).Format(time.RFC3339Nano)
	rec["output"].(map[string]any)["monitoring_duration_seconds"] = 2*3600 + 3*60 + 4
	rec["expiresAt"] = created.Add(time.Hour).Format(time.RFC3339)
	h := &history{t0: created}
	h.add(0, "ExecutionStarted", map[string]any{"input": "{}"})
	h.add(850*time.Millisecond, "PassStateEntered", map[string]any{"name": "Start", "input": "{}"})
	h.add(4200*time.Millisecond, "PassStateExited", map[string]any{"name": "Start", "output": "{}"})
	h.add(4200*time.Millisecond, "WaitStateEntered", map[string]any{"name": "Wait", "input": `{"check":{"nextCheckAt":"2026-03-04T05:07:12Z"}}`})
	h.add(65*time.Second, "WaitStateExited", map[string]any{"name": "Wait", "output": "{}"})
	h.add(76*time.Hour, "ExecutionSucceeded", map[string]any{"output": "{}"})
	now := time.Now()
	soon := scriptedRecord("soon-1", "Running", now.Add(-10*time.Minute))
	soon["lastUpdatedTime"] = now.Add(-90 * time.Second).Format(time.RFC3339Nano)
	soon["customStatus"].(map[string]any)["next_check_time"] = now.Add(30 * time.Minute).Format(time.RFC3339Nano)
	soon["expiresAt"] = now.Add(2 * time.Hour).Format(time.RFC3339)
	soon["customStatus"].(map[string]any)["last_check_time"] = now.Add(-5 * time.Second).Format(time.RFC3339Nano)
	// Its check ten minutes ago, and the wait since.
	waiting := &history{t0: now.Add(-10 * time.Minute)}
	waiting.add(0, "ExecutionStarted", map[string]any{"input": "{}"})
	waiting.add(0, "TaskStateEntered", map[string]any{"name": "Check", "input": "{}"})
	waiting.add(40*time.Millisecond, "TaskStateExited", map[string]any{"name": "Check", "output": "{}"})
	waiting.add(41*time.Millisecond, "WaitStateEntered", map[string]any{"name": "Wait", "input": "{}"})
	base := serveScripted(t, map[string]scripted{"past-1": {record: rec, events: h.events}, "soon-1": {record: soon, events: waiting.events}})
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatalf("Emulation.setTimezoneOverride: %v", err)
	}

	step(t, ctx, "open the monitor", 10*time.Second,
		chromedp.Navigate(base+"/ui/#/monitors/past-1"),
		waitJS(`document.querySelector("#detail-badge").textContent === "Completed"`),
		waitJS(`document.querySelector("#events").children.length === 6`),
	)
	type fact struct{ Text, Title string }
	facts := get(t, ctx, "read the facts", chromedp.Evaluate[map[string]fact](`Object.fromEntries([...document.querySelectorAll("#facts dt")].map((dt) =>
		[dt.textContent, {Text: dt.nextElementSibling.textContent, Title: dt.nextElementSibling.title}]))`))
	if got, want := facts["Created"], (fact{"2026-03-04 14:06:07", "2026-03-04 14:06:07.008 UTC+9 (2026-03-04T05:06:07.008Z)"}); got != want {
		t.Errorf("Created: got %+v, want %+v", got, want)
	}
	if got, ok := facts["Expires"]; ok {
		t.Errorf("finished monitor: Expires %+v, want none", got)
	}
	if got, want := facts["Duration"].Text, "2h 03m"; got != want {
		t.Errorf("Duration: got %q, want %q (the output's monitoring_duration_seconds)", got, want)
	}
	rows := get(t, ctx, "read the history's times", chromedp.Evaluate[[][]string](`[...document.querySelectorAll("#events tr")].map((tr) =>
		[tr.children[1].textContent, tr.children[2].textContent])`))
	want := [][]string{
		{"2026-03-04 14:06:07.008", "+0 ms"},
		{"2026-03-04 14:06:07.858", "+850 ms"},
		{"2026-03-04 14:06:11.208", "+4.2 s"},
		{"2026-03-04 14:06:11.208", "+4.2 s"},
		{"2026-03-04 14:07:12.008", "+1m 05s"},
		{"2026-03-07 18:06:07.008", "+3d 4h"},
	}
	if len(rows) != len(want) {
		t.Fatalf("history rows: got %d, want %d", len(rows), len(want))
	}
	for i, w := range want {
		if strings.Join(rows[i], " ") != strings.Join(w, " ") {
			t.Errorf("event %d: time %q, since the start %q; want %q, %q", i+1, rows[i][0], rows[i][1], w[0], w[1])
		}
	}

	if tip := tooltip(t, ctx, `#timeline [data-lane="Wait"] .tl-bar`); !strings.Contains(tip, "Until: 2026-03-04 14:07:12 UTC+9") {
		t.Errorf("tooltip of the wait %q does not say until when, in local time", tip)
	}

	step(t, ctx, "open the running monitor", 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`location.hash = "#/monitors/soon-1"`),
		waitJS(`document.querySelector("#detail-badge").textContent === "Running"`),
	)
	facts = get(t, ctx, "read the facts", chromedp.Evaluate[map[string]fact](`Object.fromEntries([...document.querySelectorAll("#facts dt")].map((dt) =>
		[dt.textContent, {Text: dt.nextElementSibling.textContent, Title: dt.nextElementSibling.title}]))`))
	if got := facts["Next check"].Text; !regexp.MustCompile(`^in (29|30)m \d\ds$`).MatchString(got) {
		t.Errorf("Next check: got %q, want in about 30 minutes", got)
	}
	if got := facts["Expires"].Text; !regexp.MustCompile(`^in (1h 59m|2h 00m)$`).MatchString(got) {
		t.Errorf("Expires: got %q, want in about 2 hours", got)
	}
	if got := facts["Last check"].Text; !regexp.MustCompile(`^\d+ s ago$`).MatchString(got) {
		t.Errorf("Last check: got %q, want some seconds ago", got)
	}
	if got := facts["Updated"].Text; !regexp.MustCompile(`^1m \d\ds ago$`).MatchString(got) {
		t.Errorf("Updated: got %q, want about 90 s ago", got)
	}

	step(t, ctx, "its timeline's last minute", 10*time.Second,
		waitJS(`document.querySelectorAll('#timeline [data-lane="Wait"] .tl-bar').length === 1`),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#tl-window"); s.value = "60000"; s.dispatchEvent(new Event("change")); })()`),
		waitJS(`document.querySelector("#timeline").getAttribute("aria-label").startsWith("Timeline over last 1m 00s")`),
	)
	type lanes struct {
		Checks, Waits int
		Label         string
	}
	got := get(t, ctx, "read the timeline", chromedp.Evaluate[lanes](`({
		Checks: document.querySelectorAll('#timeline [data-lane="Check"] .tl-bar').length,
		Waits: document.querySelectorAll('#timeline [data-lane="Wait"] .tl-bar').length,
		Label: document.querySelector("#timeline").getAttribute("aria-label"),
	})`))
	if got.Checks != 0 || got.Waits != 1 {
		t.Errorf("last minute of a wait begun ten minutes ago: %d check bars, %d wait bars; want the wait's only", got.Checks, got.Waits)
	}
	if !strings.HasSuffix(got.Label, ", still running") {
		t.Errorf("running timeline named %q, want it to say it is still running", got.Label)
	}
}
