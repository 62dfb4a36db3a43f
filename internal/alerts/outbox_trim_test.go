package alerts

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// entryLine is an outbox line of an alert with id n sent at t.
func entryLine(tb testing.TB, n int, t time.Time) string {
	tb.Helper()
	b, err := json.Marshal(OutboxEntry{ID: fmt.Sprintf("outbox-mon-%d", n), SentAt: t, Channel: "sns", To: "+14255550100",
		Text: `a text with "sentAt":"2000-01-01T00:00:00Z" in it`})
	if err != nil {
		tb.Fatal(err)
	}
	return string(b) + "\n"
}

// openOutboxFile writes content to an outbox file in a new temporary
// directory and opens it, to be closed when the test ends; it returns the
// outbox and the file's path.
func openOutboxFile(tb testing.TB, content string) (*Outbox, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "outbox.jsonl")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	o, err := OpenOutbox(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { o.Close() })
	return o, path
}

// sendSMS sends the test message to a phone through o and returns the
// alert's id.
func sendSMS(tb testing.TB, o *Outbox) string {
	tb.Helper()
	id, err := o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// outboxIDs returns the ids of the outbox file's lines, "?" for a line
// that is no entry; every line must end with a newline.
func outboxIDs(tb testing.TB, path string) []string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		tb.Fatalf("the outbox ends in a partial line: %q", b[max(0, len(b)-80):])
	}
	ids := []string{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e OutboxEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			ids = append(ids, "?")
			continue
		}
		ids = append(ids, e.ID)
	}
	return ids
}

// Trim drops the lines of alerts sent before the cutoff, from the start
// of the file; it leaves a file whose first line is recent as it is.
func TestOutboxTrim(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	old, recent := now.Add(-48*time.Hour), now.Add(-time.Hour)
	cutoff := now.Add(-24 * time.Hour)
	tests := []struct {
		name      string
		lines     func(t *testing.T) string
		wantN     int
		wantIDs   []string
		unchanged bool // the file is not rewritten
	}{
		{"empty", func(t *testing.T) string { return "" }, 0, []string{}, true},
		{"nothing old", func(t *testing.T) string { return entryLine(t, 1, recent) + entryLine(t, 2, now) }, 0,
			[]string{"outbox-mon-1", "outbox-mon-2"}, true},
		{"some old", func(t *testing.T) string {
			return entryLine(t, 1, old) + entryLine(t, 2, cutoff.Add(-time.Nanosecond)) + entryLine(t, 3, cutoff) + entryLine(t, 4, recent)
		}, 2, []string{"outbox-mon-3", "outbox-mon-4"}, false},
		{"all old: the last stays, for the ids", func(t *testing.T) string {
			return entryLine(t, 1, old) + entryLine(t, 2, old) + entryLine(t, 3, old)
		}, 2, []string{"outbox-mon-3"}, false},
		{"one line, old", func(t *testing.T) string { return entryLine(t, 1, old) }, 0, []string{"outbox-mon-1"}, true},
		{"a line that is no entry stops the trim", func(t *testing.T) string {
			return entryLine(t, 1, old) + "not json\n" + entryLine(t, 3, old)
		}, 1, []string{"?", "outbox-mon-3"}, false},
		{"a line a crash cut, glued to the next one, goes with its time", func(t *testing.T) string {
			cutLine := entryLine(t, 1, old)
			return cutLine[:len(cutLine)/2] + entryLine(t, 2, old) + entryLine(t, 3, recent)
		}, 1, []string{"outbox-mon-3"}, false},
		{"a partial last line is kept", func(t *testing.T) string {
			partial := entryLine(t, 3, recent)
			return entryLine(t, 1, old) + entryLine(t, 2, recent) + partial[:10]
		}, 1, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := tt.lines(t)
			o, path := openOutboxFile(t, content)
			before, _ := os.Stat(path)
			n, err := o.Trim(cutoff)
			if err != nil || n != tt.wantN {
				t.Fatalf("Trim = %d, %v; want %d dropped", n, err, tt.wantN)
			}
			after, _ := os.Stat(path)
			if same := os.SameFile(before, after); same != tt.unchanged {
				t.Errorf("the file was rewritten: %v; want %v", !same, !tt.unchanged)
			}
			if tt.wantIDs == nil { // the partial line: the kept bytes are the old file's tail
				b, _ := os.ReadFile(path)
				if want := content[strings.Index(content, "\n")+1:]; string(b) != want {
					t.Errorf("outbox = %q, want %q", b, want)
				}
				return
			}
			if got := outboxIDs(t, path); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("outbox ids = %q, want %q", got, tt.wantIDs)
			}
			if _, err := os.Stat(trimPath(path)); !os.IsNotExist(err) {
				t.Errorf("the trim's temporary file is left: %v", err)
			}
		})
	}
}

// Alerts sent while a Trim copies the kept lines are in the trimmed file,
// whole, after them; the ids go on from the ones dropped, in the running
// outbox and in one reopened.
func TestOutboxTrimKeepsAppends(t *testing.T) {
	now := time.Now().UTC()
	var content strings.Builder
	const oldLines = 5000
	for i := 1; i <= oldLines; i++ {
		content.WriteString(entryLine(t, i, now.Add(-48*time.Hour)))
	}
	content.WriteString(entryLine(t, oldLines+1, now))
	o, path := openOutboxFile(t, content.String())
	send := func() string {
		id, err := o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
		if err != nil {
			t.Error(err)
		}
		return id
	}
	var (
		mu     sync.Mutex
		sent   []string
		copies int
	)
	// Between the copy and the switch, deterministically; and from
	// other goroutines all along.
	o.afterCopy = func() {
		copies++
		for range 3 {
			id := send()
			mu.Lock()
			sent = append(sent, id)
			mu.Unlock()
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := send()
				mu.Lock()
				sent = append(sent, id)
				mu.Unlock()
			}
		})
	}
	n, err := o.Trim(now.Add(-24 * time.Hour))
	close(stop)
	wg.Wait()
	if err != nil || n != oldLines {
		t.Fatalf("Trim = %d, %v; want %d dropped", n, err, oldLines)
	}
	if copies != 1 {
		t.Fatalf("the trim's copy ended %d times before the switch, want once: the sends between them were not made", copies)
	}
	last := send()
	sent = append(sent, last)

	got := outboxIDs(t, path)
	want := append([]string{fmt.Sprintf("outbox-mon-%d", oldLines+1)}, sent...)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("after the trim the outbox has %d lines, want %d: the one kept and every alert sent (%d)", len(got), len(want), len(sent))
	}
	if wantLast := fmt.Sprintf("outbox-mon-1-%d", oldLines+1+len(sent)); last != wantLast {
		t.Errorf("id after the trim = %s, want %s", last, wantLast)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, err := OpenOutbox(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	id, err := reopened.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
	if wantID := fmt.Sprintf("outbox-mon-1-%d", oldLines+2+len(sent)); err != nil || id != wantID {
		t.Errorf("id after reopening = %s, %v; want %s", id, err, wantID)
	}
}

// Once a trim found every line old, the outbox reopened (a restart) goes
// on numbering its ids from the ones dropped, not from 1 again.
func TestOutboxIDsAfterEveryLineIsOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	sentAt := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	send := func(o *Outbox) string {
		t.Helper()
		id, err := o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, monitor.Message{Data: monitor.AlertData{InstanceID: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	o, err := OpenOutbox(path, monitor.ClockFunc(func() time.Time { return sentAt }))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		send(o)
	}
	if _, err := o.Trim(sentAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	o.Close()
	o, err = OpenOutbox(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if id := send(o); id != "outbox-x-4" {
		t.Errorf("the first id after the trim and a restart is %s, want outbox-x-4", id)
	}
}

// An outbox file removed by hand is nothing to trim.
func TestOutboxTrimRemovedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	o, err := OpenOutbox(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if n, err := o.Trim(time.Now()); n != 0 || err != nil {
		t.Errorf("Trim = %d, %v; want 0, nil", n, err)
	}
}

// A trim the process ended in the middle of leaves the outbox whole and
// its temporary file, which the next OpenOutbox removes.
func TestOutboxInterruptedTrim(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	line := entryLine(t, 7, time.Now())
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trimPath(path), []byte(line[:20]), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := OpenOutbox(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, err := os.Stat(trimPath(path)); !os.IsNotExist(err) {
		t.Errorf("the interrupted trim's file is left: %v", err)
	}
	if got := outboxIDs(t, path); !slices.Equal(got, []string{"outbox-mon-7"}) {
		t.Errorf("outbox ids = %q", got)
	}
}
