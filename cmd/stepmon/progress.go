package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// progress shows a monitor's changes: on a terminal one line rewritten in
// place, elsewhere one line per change.
type progress struct {
	w     io.Writer
	tty   bool
	last  string
	width int
	// cols returns the terminal's width in columns, 0 when unknown.
	cols  func() int
	start time.Time
}

// newProgress returns a progress that writes to w, shown as w's
// destination is (whether it is a terminal, and its width): for a
// command's standard output, which run wraps in an outputWriter, the
// file beneath it.
func newProgress(w io.Writer) *progress {
	dest := w
	if o, ok := w.(*outputWriter); ok {
		dest = o.w
	}
	p := &progress{w: w, tty: isTerminal(dest), start: time.Now()}
	if f, ok := dest.(*os.File); ok && p.tty {
		// Asked at each update: the terminal may be resized meanwhile.
		p.cols = func() int { return terminalWidth(f) }
	}
	return p
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// line describes a record in one line. The job status is what list
// shows (record.jobStatus): a finished monitor's final status. What the
// server says is escaped (printable): it goes to a terminal.
func line(rec record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s", printable(rec.InstanceID), printable(string(rec.RuntimeStatus)))
	if cs := rec.CustomStatus; cs != nil {
		fmt.Fprintf(&b, "  checks %d", cs.CheckCount)
		if job := rec.jobStatus(); job != "-" {
			fmt.Fprintf(&b, "  job %s", printable(job))
		}
		if cs.OpenIssues != nil {
			fmt.Fprintf(&b, "  open issues %d", *cs.OpenIssues)
		}
		if !cs.NextCheckTime.IsZero() && !rec.RuntimeStatus.Final() {
			fmt.Fprintf(&b, "  next check %s", nextCheckText(cs.NextCheckTime, time.Now()))
		}
	} else {
		b.WriteString("  checks 0")
	}
	// A running monitor whose alert is being sent, or failed and is
	// retried (a webhook answering 503 waits minutes between tries).
	if a := rec.Alert; a != nil && !rec.RuntimeStatus.Final() {
		switch a.Status {
		case monitor.AlertSending:
			b.WriteString("  alert sending")
		case monitor.AlertFailed:
			fmt.Fprintf(&b, "  alert failed %d×, retrying", a.Attempts)
			if !a.RetryAt.IsZero() {
				fmt.Fprintf(&b, " at %s", nextCheckText(a.RetryAt, time.Now()))
			}
		}
	}
	// Why a check could not tell the job's status (a target that cannot
	// be reached, a status path that finds nothing): without it a
	// monitor reads "job Error" on every line until it expires. Last, so
	// that a line cut to its terminal's width loses it first.
	if cs := rec.CustomStatus; cs != nil && (cs.Status == string(monitor.StatusError) || cs.Status == string(monitor.StatusUnknown)) && cs.Detail != "" {
		fmt.Fprintf(&b, "  last check: %s", clip(printable(cs.Detail), maxDetailLen))
	}
	return b.String()
}

// show reports rec if it differs from the last one shown.
func (p *progress) show(rec record) {
	l := line(rec)
	if l == p.last {
		return
	}
	p.last = l
	elapsed := time.Since(p.start).Truncate(100 * time.Millisecond)
	text := fmt.Sprintf("[%5.1fs] %s", elapsed.Seconds(), l)
	if !p.tty {
		fmt.Fprintln(p.w, text)
		return
	}
	cols := 0
	if p.cols != nil {
		cols = p.cols()
	}
	if cols <= 0 {
		// The width is unknown: overwrite the last line with spaces,
		// without escape sequences.
		pad := ""
		if n := p.width - len(text); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		p.width = len(text)
		fmt.Fprintf(p.w, "\r%s%s", text, pad)
		return
	}
	// A carriage return goes back to the start of the last row only: a
	// line that wrapped would leave its first rows behind. Cut it to one
	// column less than the terminal (writing the last column would wrap
	// on some terminals) and clear the rest of the row. A long instance
	// id (a generated one has 32 characters), which the user has seen
	// already, is shortened first, so that the status and the next check
	// fit an 80-column terminal.
	if id := printable(rec.InstanceID); len([]rune(text)) > cols-1 && len(id) > shortIDLen {
		text = fmt.Sprintf("[%5.1fs] %s", elapsed.Seconds(), strings.Replace(l, id, id[:shortIDLen-1]+"…", 1))
	}
	if r := []rune(text); len(r) > cols-1 {
		text = string(r[:max(cols-1, 0)])
	}
	p.width = max(len(text), 1)
	fmt.Fprintf(p.w, "\r\x1b[K%s", text)
}

// maxDetailLen is how many characters of a check's detail a line shows,
// "…" included.
const maxDetailLen = 120

// clip cuts s to n characters, the last of them "…", when it is longer.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// shortIDLen is how many characters of a long instance id an updating
// line that would not fit its terminal keeps, "…" included.
const shortIDLen = 12

// done ends an updating line.
func (p *progress) done() {
	if p.tty && p.width > 0 {
		fmt.Fprintln(p.w)
		p.width = 0
	}
}

// note reports msg on a line of its own, ending an updating line first;
// the next record is shown again.
func (p *progress) note(msg string) {
	p.done()
	fmt.Fprintln(p.w, msg)
	p.last = ""
}

// nextCheckText shows when the next check is due, in local time: the time
// of day when that is today, with the date when it is another day (a 24h
// interval's next check, tomorrow at a time of day that has passed today).
func nextCheckText(next, now time.Time) string {
	next, now = next.Local(), now.Local()
	if next.Format(time.DateOnly) == now.Format(time.DateOnly) {
		return next.Format(time.TimeOnly)
	}
	return next.Format(time.DateTime)
}

// zoneLabel names the zone of t as an offset from UTC, the way the
// dashboard does: "UTC", "UTC+9", "UTC-3:30". The list's columns give
// local times, while the API's JSON gives UTC; the label tells them apart.
func zoneLabel(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return "UTC"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	h, m := off/3600, off%3600/60
	if m == 0 {
		return fmt.Sprintf("UTC%s%d", sign, h)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
}
