package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/monitor"
)

// TestProgressWidth: on a terminal, the updating line is cut to one
// column less than the terminal's width and rewritten after "\r\x1b[K",
// so that it never wraps (a carriage return goes back to the start of the
// last row only); a line that fits is written whole. Elsewhere each change
// is a line of its own, whole.
func TestProgressWidth(t *testing.T) {
	id := strings.Repeat("2073b0fa1c17c2f1", 4) // 64 characters
	recs := []record{
		{InstanceID: id, RuntimeStatus: monitor.RuntimeRunning, CustomStatus: &customStatus{CheckCount: 1, Status: "Running"}},
		{InstanceID: id, RuntimeStatus: monitor.RuntimeRunning, CustomStatus: &customStatus{CheckCount: 2, Status: "Running"}},
		{InstanceID: id, RuntimeStatus: monitor.RuntimeCompleted, CustomStatus: &customStatus{CheckCount: 3, Status: "Completed"}},
	}
	const stamp = len("[  0.0s] ")
	tests := []struct {
		name string
		tty  bool
		cols int
		want int // visible runes of each update; 0: whole lines; -1: whole, the id shortened
	}{
		{name: "narrow terminal", tty: true, cols: 40, want: 39},
		// The whole line, with the id shortened, fits 80 columns.
		{name: "80 columns", tty: true, cols: 80, want: -1},
		{name: "wide terminal", tty: true, cols: 500},
		{name: "not a terminal", tty: false, cols: 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := &progress{w: &buf, tty: tt.tty, cols: func() int { return tt.cols }, start: time.Now()}
			var chunks []string
			for _, rec := range recs {
				buf.Reset()
				p.show(rec)
				chunks = append(chunks, buf.String())
			}
			buf.Reset()
			p.done()
			end := buf.String()
			for i, c := range chunks {
				full := line(recs[i])
				if !tt.tty {
					if !strings.HasSuffix(c, "] "+full+"\n") || strings.ContainsAny(c, "\r\x1b") {
						t.Errorf("update %d = %q, want a plain line ending in %q", i+1, c, full)
					}
					continue
				}
				text, ok := strings.CutPrefix(c, "\r\x1b[K")
				if !ok || strings.ContainsAny(text, "\r\n\x1b") {
					t.Fatalf("update %d = %q, want \"\\r\\x1b[K\" and one line", i+1, c)
				}
				if len(text) < stamp {
					t.Fatalf("update %d = %q, too short", i+1, c)
				}
				shown := text[stamp:]
				if tt.want == 0 {
					if shown != full {
						t.Errorf("update %d shows %q, want the whole %q", i+1, shown, full)
					}
					continue
				}
				if n := utf8.RuneCountInString(text); tt.want > 0 && n != tt.want || tt.want < 0 && n > 79 {
					t.Errorf("update %d is %d runes wide (%q), want %d", i+1, n, text, tt.want)
				}
				if short := strings.Replace(full, id, id[:shortIDLen-1]+"…", 1); tt.want < 0 && shown != short {
					t.Errorf("update %d shows %q, want the whole line with the id shortened, %q", i+1, shown, short)
				}
				// The long id is shortened before the line is cut.
				short := strings.Replace(full, id, id[:shortIDLen-1]+"…", 1)
				if !strings.HasPrefix(short, shown) {
					t.Errorf("update %d shows %q, not the start of %q", i+1, shown, short)
				}
			}
			if tt.tty && end != "\n" {
				t.Errorf("done wrote %q, want a newline", end)
			}
			if !tt.tty && end != "" {
				t.Errorf("done wrote %q, want nothing", end)
			}
		})
	}
}

// TestLineFinalStatus: once a monitor has finished, its line shows the
// output's final status, as list and the dashboard do, not what its last
// check saw; while it runs, the check's status.
func TestLineFinalStatus(t *testing.T) {
	five := 5
	tests := []struct {
		name string
		rec  record
		want string
	}{
		{"running", record{InstanceID: "m", RuntimeStatus: monitor.RuntimeRunning,
			CustomStatus: &customStatus{CheckCount: 1, Status: "Running", OpenIssues: &five}},
			"m  Running  checks 1  job Running  open issues 5"},
		{"alerted", record{InstanceID: "m", RuntimeStatus: monitor.RuntimeCompleted,
			CustomStatus: &customStatus{CheckCount: 1, Status: "Running", OpenIssues: &five},
			Output:       []byte(`{"final_status":"Alerted"}`)},
			"m  Completed  checks 1  job Alerted  open issues 5"},
		{"terminated", record{InstanceID: "m", RuntimeStatus: monitor.RuntimeTerminated,
			CustomStatus: &customStatus{CheckCount: 1, Status: "Running"},
			Output:       []byte(`{"final_status":"Terminated","detail":"terminated"}`)},
			"m  Terminated  checks 1  job Terminated"},
		{"finished without an output", record{InstanceID: "m", RuntimeStatus: monitor.RuntimeFailed,
			CustomStatus: &customStatus{CheckCount: 2, Status: "Error"}},
			"m  Failed  checks 2  job Error"},
		{"before the first check", record{InstanceID: "m", RuntimeStatus: monitor.RuntimePending}, "m  Pending  checks 0"},
		{"checked, without a job status", record{InstanceID: "m", RuntimeStatus: monitor.RuntimeRunning,
			CustomStatus: &customStatus{CheckCount: 1}},
			"m  Running  checks 1"},
		// Why the check could not tell the status, while it runs and
		// after it has ended (it expired after such checks).
		{"check error", record{InstanceID: "m", RuntimeStatus: monitor.RuntimeRunning,
			CustomStatus: &customStatus{CheckCount: 2, Status: "Error", Detail: "GitHub API unreachable: no such host"}},
			"m  Running  checks 2  job Error  last check: GitHub API unreachable: no such host"},
		{"expired after unknown checks", record{InstanceID: "m", RuntimeStatus: monitor.RuntimeCompleted,
			CustomStatus: &customStatus{CheckCount: 4, Status: "Unknown", Detail: "status field $.job.state " + strings.Repeat("x", 200)},
			Output:       []byte(`{"final_status":"Timeout"}`)},
			"m  Completed  checks 4  job Timeout  last check: status field $.job.state " + strings.Repeat("x", 119-len("status field $.job.state ")) + "…"},
		{"running, detail of a status known", record{InstanceID: "m", RuntimeStatus: monitor.RuntimeRunning,
			CustomStatus: &customStatus{CheckCount: 1, Status: "Running", Detail: "job is running"}},
			"m  Running  checks 1  job Running"},
		// What another server says is escaped: a title, colours or a
		// right-to-left override must not reach the terminal.
		{"control characters", record{InstanceID: "m\x1b]0;PWNED\x07", RuntimeStatus: "Running\x1b[31m",
			CustomStatus: &customStatus{CheckCount: 1, Status: "Run\u202ening"}},
			`m\x1b]0;PWNED\x07  Running\x1b[31m  checks 1  job Run\u202ening`},
		// The alert's retry comes before the check's detail, which a
		// narrow terminal cuts first.
		{"check error while an alert is retried", record{InstanceID: "m", RuntimeStatus: monitor.RuntimeRunning,
			CustomStatus: &customStatus{CheckCount: 2, Status: "Error", Detail: "unreachable"},
			Alert:        &alertState{Status: monitor.AlertFailed, Attempts: 3}},
			"m  Running  checks 2  job Error  alert failed 3×, retrying  last check: unreachable"},
		{"finished, with a next check", record{InstanceID: "m", RuntimeStatus: monitor.RuntimeCompleted,
			CustomStatus: &customStatus{CheckCount: 3, Status: "Completed", NextCheckTime: time.Now().Add(time.Minute)},
			Output:       []byte(`{"final_status":"Completed"}`)},
			"m  Completed  checks 3  job Completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := line(tt.rec); got != tt.want {
				t.Errorf("line = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLineNextCheckDate: the next check is shown as a time of day when it
// is today, with its date when it is on another day (a 24h interval's
// check tomorrow at 01:50:46 does not read as 5 s ago).
func TestLineNextCheckDate(t *testing.T) {
	running := func(next time.Time) record {
		return record{InstanceID: "daily1", RuntimeStatus: monitor.RuntimeRunning,
			CustomStatus: &customStatus{CheckCount: 1, Status: "Running", NextCheckTime: next}}
	}
	next := time.Now().Add(24*time.Hour - 5*time.Second)
	want := "next check " + next.Local().Format("2006-01-02 15:04:05")
	if got := line(running(next)); !strings.HasSuffix(got, want) {
		t.Errorf("line = %q, want it to end in %q", got, want)
	}

	now := time.Date(2026, 12, 5, 1, 50, 51, 0, time.Local)
	tests := []struct {
		next time.Time
		want string
	}{
		{time.Date(2026, 12, 5, 1, 50, 56, 0, time.Local), "01:50:56"},
		{time.Date(2026, 12, 5, 23, 59, 59, 0, time.Local), "23:59:59"},
		{time.Date(2026, 12, 5, 0, 0, 0, 0, time.Local), "00:00:00"},
		{time.Date(2026, 12, 6, 1, 50, 46, 0, time.Local), "2026-12-06 01:50:46"},
		{time.Date(2026, 12, 4, 23, 59, 59, 0, time.Local), "2026-12-04 23:59:59"},
		{time.Date(2027, 12, 5, 1, 50, 56, 0, time.Local), "2027-12-05 01:50:56"},
	}
	for _, tt := range tests {
		if got := nextCheckText(tt.next, now); got != tt.want {
			t.Errorf("nextCheckText(%v) = %q, want %q", tt.next, got, tt.want)
		}
	}
}

// TestZoneLabel: the list's time columns name their zone as the dashboard
// does, so that local times are not taken for the API's UTC ones.
func TestZoneLabel(t *testing.T) {
	at := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	tests := []struct {
		zone *time.Location
		want string
	}{
		{time.UTC, "UTC"},
		{time.FixedZone("JST", 9*3600), "UTC+9"},
		{time.FixedZone("NST", -(3*3600 + 30*60)), "UTC-3:30"},
		{time.FixedZone("IST", 5*3600+30*60), "UTC+5:30"},
		{time.FixedZone("", -5*3600), "UTC-5"},
	}
	for _, tt := range tests {
		if got := zoneLabel(at.In(tt.zone)); got != tt.want {
			t.Errorf("zoneLabel(%v) = %q, want %q", tt.zone, got, tt.want)
		}
	}
}

// TestProgressUpdates: a record is shown when it differs from the last
// one, and again after a note; done ends an updating line, and only one
// that was written. On a terminal of unknown width a shorter line is
// padded with spaces over the longer one before it; on one of known width
// a line as wide as the terminal is cut too.
func TestProgressUpdates(t *testing.T) {
	rec := func(checks int) record {
		return record{InstanceID: "m", RuntimeStatus: monitor.RuntimeRunning, CustomStatus: &customStatus{CheckCount: checks}}
	}
	// The time stamps vary with the machine's speed.
	stamp := regexp.MustCompile(`\[ *[0-9]+\.[0-9]s\] `)
	unstamped := func(b *bytes.Buffer) string { return stamp.ReplaceAllString(b.String(), "[T] ") }
	stamped := func(r record) string { return "[T] " + line(r) }

	var buf bytes.Buffer
	p := &progress{w: &buf, start: time.Now()}
	p.show(rec(1))
	p.show(rec(1))
	p.note("stepmon: a note")
	p.show(rec(1))
	p.done()
	if want := stamped(rec(1)) + "\nstepmon: a note\n" + stamped(rec(1)) + "\n"; unstamped(&buf) != want {
		t.Errorf("not a terminal: wrote %q, want %q", buf.String(), want)
	}

	buf.Reset()
	p = &progress{w: &buf, tty: true, start: time.Now()}
	p.done()
	if buf.Len() != 0 {
		t.Errorf("done before any line wrote %q, want nothing", buf.String())
	}
	p.show(rec(10))
	p.show(rec(9))
	p.done()
	if want := "\r" + stamped(rec(10)) + "\r" + stamped(rec(9)) + " \n"; unstamped(&buf) != want {
		t.Errorf("terminal of unknown width: wrote %q, want %q", buf.String(), want)
	}

	buf.Reset()
	// "[  0.0s] " is as wide up to 999.9 s.
	width := len("[  0.0s] " + line(rec(1)))
	p = &progress{w: &buf, tty: true, cols: func() int { return width }, start: time.Now()}
	p.show(rec(1))
	if text := stamped(rec(1)); unstamped(&buf) != "\r\x1b[K"+text[:len(text)-1] {
		t.Errorf("a line as wide as the terminal: wrote %q, want it cut to %d bytes", buf.String(), width-1)
	}

	buf.Reset()
	p = &progress{w: &buf, tty: true, cols: func() int { return 1 }, start: time.Now()}
	p.show(rec(1))
	p.done()
	if want := "\r\x1b[K\n"; buf.String() != want {
		t.Errorf("a terminal one column wide: wrote %q, want %q", buf.String(), want)
	}
}

// TestIsTerminal: only a character device takes the updating line; a
// file, a pipe or a buffer that watch's output is redirected to gets one
// line per change.
func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "progress.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, out := range map[string]io.Writer{"file": f, "pipe": w, "buffer": &bytes.Buffer{}} {
		if isTerminal(out) {
			t.Errorf("%s: isTerminal = true, want false", name)
		}
		if p := newProgress(out); p.tty || p.cols != nil {
			t.Errorf("%s: newProgress shows an updating line (tty %v, width known %v)", name, p.tty, p.cols != nil)
		}
	}
}

// TestLineAlert: while a monitor runs, its line says that its alert is
// being sent, or failed and is retried, with the attempts so far and
// the time of the retry when the status gives it; a finished monitor's
// line leaves the alert to its final status.
func TestLineAlert(t *testing.T) {
	retryAt := time.Now().Add(37 * time.Second)
	for _, tt := range []struct {
		name  string
		rs    monitor.RuntimeStatus
		alert *alertState
		want  string
	}{
		{"no alert yet", monitor.RuntimeRunning, nil, "m  Running  checks 3"},
		{"sending", monitor.RuntimeRunning, &alertState{Status: monitor.AlertSending, Attempts: 1}, "m  Running  checks 3  alert sending"},
		{"failed, retrying", monitor.RuntimeRunning, &alertState{Status: monitor.AlertFailed, Attempts: 6}, "m  Running  checks 3  alert failed 6×, retrying"},
		{"failed, retrying at a time", monitor.RuntimeRunning, &alertState{Status: monitor.AlertFailed, Attempts: 6, RetryAt: retryAt},
			"m  Running  checks 3  alert failed 6×, retrying at " + nextCheckText(retryAt, time.Now())},
		{"finished", monitor.RuntimeFailed, &alertState{Status: monitor.AlertFailed, Attempts: 18}, "m  Failed  checks 3"},
		{"finished while waiting to retry", monitor.RuntimeTerminated, &alertState{Status: monitor.AlertFailed, Attempts: 6, RetryAt: retryAt}, "m  Terminated  checks 3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := record{InstanceID: "m", RuntimeStatus: tt.rs, CustomStatus: &customStatus{CheckCount: 3}, Alert: tt.alert}
			if got := line(rec); got != tt.want {
				t.Errorf("line = %q, want %q", got, tt.want)
			}
		})
	}
}
