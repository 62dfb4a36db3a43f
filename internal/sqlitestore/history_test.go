package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

const (
	histSM   = "arn:aws:states:us-east-1:123456789012:stateMachine:sm"
	histExec = "arn:aws:states:us-east-1:123456789012:execution:sm:h"
)

var histT0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func histEvent(id int64) engine.Event {
	return engine.Event{ID: id, PreviousEventID: id - 1, Type: "PassStateEntered", Timestamp: histT0.Add(time.Duration(id) * time.Millisecond),
		Details: engine.EventDetails{Name: fmt.Sprintf("S%d", id), Input: map[string]any{"i": float64(id)}}}
}

// historyIDs pages through an execution's history; the page with the
// last event has no token, so no page is empty.
func historyIDs(t *testing.T, s *EngineStore, reverse bool, size int) []int64 {
	t.Helper()
	var ids []int64
	tok := ""
	for range 100 {
		p, next, err := s.GetHistory(context.Background(), histExec, engine.HistoryInput{MaxResults: size, NextToken: tok, ReverseOrder: reverse})
		if err != nil {
			t.Fatalf("GetHistory(pages of %d, reverse %v): %v", size, reverse, err)
		}
		if len(p) == 0 {
			t.Errorf("GetHistory(pages of %d, reverse %v): an empty page after %v", size, reverse, ids)
		}
		for _, e := range p {
			ids = append(ids, e.ID)
			if want := histEvent(e.ID); e.Details.Name != want.Details.Name || !e.Timestamp.Equal(want.Timestamp) {
				t.Errorf("event %d = %s at %v, want %s at %v", e.ID, e.Details.Name, e.Timestamp, want.Details.Name, want.Timestamp)
			}
		}
		if next == "" {
			return ids
		}
		tok = next
	}
	t.Fatalf("GetHistory(pages of %d): no end after 100 pages", size)
	return nil
}

func wantIDs(from, to int64) string {
	var ids []int64
	for i := from; i != to; {
		ids = append(ids, i)
		if from < to {
			i++
		} else {
			i--
		}
	}
	return fmt.Sprint(append(ids, to))
}

// A commit's events are one row; an execution's commits may reach the
// store out of order (concurrent branches), and pages still list the
// events in id order.
func TestEngineHistoryBatches(t *testing.T) {
	ctx := context.Background()
	s := openMachineStore(t)
	commit := func(t engine.Transition) error { return s.Commit(ctx, t) }
	if err := commit(engine.Transition{ExecutionArn: histExec, Events: []engine.Event{histEvent(1), histEvent(2), histEvent(3)},
		Create: &engine.Execution{Name: "h", StateMachineArn: histSM, Input: "{}", StartDate: histT0}}); err != nil {
		t.Fatal(err)
	}
	ranges := [][2]int64{{9, 10}, {4, 4}, {5, 8}, {11, 16}} // 9-10 arrives before 4-8
	for _, r := range ranges {
		var evs []engine.Event
		for id := r[0]; id <= r[1]; id++ {
			evs = append(evs, histEvent(id))
		}
		if err := commit(engine.Transition{ExecutionArn: histExec, ExpectRunning: true, Events: evs}); err != nil {
			t.Fatalf("commit %v: %v", r, err)
		}
	}
	var rows int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM engine_history_batches`).Scan(&rows); err != nil || rows != 5 {
		t.Errorf("history rows = %d, %v; want 5, one per commit", rows, err)
	}
	for size := 1; size <= 17; size++ {
		if got, want := fmt.Sprint(historyIDs(t, s, false, size)), wantIDs(1, 16); got != want {
			t.Errorf("pages of %d: %s, want %s", size, got, want)
		}
		if got, want := fmt.Sprint(historyIDs(t, s, true, size)), wantIDs(16, 1); got != want {
			t.Errorf("reverse pages of %d: %s, want %s", size, got, want)
		}
	}
	if last, err := s.LastEventID(ctx, histExec); err != nil || last != 16 {
		t.Errorf("LastEventID = %d, %v; want 16", last, err)
	}
	// The last event of a commit keys its row: a second commit of the
	// same events is refused and changes nothing.
	if err := commit(engine.Transition{ExecutionArn: histExec, ExpectRunning: true, Events: []engine.Event{histEvent(16)}}); err == nil {
		t.Error("a second commit of event 16 succeeded")
	}
	if got, want := fmt.Sprint(historyIDs(t, s, false, 100)), wantIDs(1, 16); got != want {
		t.Errorf("after the refused commit: %s, want %s", got, want)
	}
}

// A database written before history batches (one row per event in
// engine_history) is migrated on open: its history reads as before and
// new commits append to it.
func TestEngineHistoryMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stepmon.db")
	old := oldEngineDB(t, path, 1,
		fmt.Sprintf(`INSERT INTO engine_executions (seq, arn, name, state_machine_arn, status, input, start_date)
			VALUES (7, '%s', 'h', '%s', 'RUNNING', '{}', %d)`, histExec, histSM, histT0.UnixNano()))
	for id := int64(1); id <= 5; id++ {
		ev := histEvent(id)
		if _, err := old.ExecContext(ctx, `INSERT INTO engine_history (execution_seq, id, event) VALUES (7, ?, ?)`, id, ev.AppendJSON(nil)); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	s, err := OpenEngineStore(ctx, path, EngineOptions{})
	if err != nil {
		t.Fatalf("OpenEngineStore on the old database: %v", err)
	}
	defer s.Close()
	if last, err := s.LastEventID(ctx, histExec); err != nil || last != 5 {
		t.Fatalf("LastEventID after the migration = %d, %v; want 5", last, err)
	}
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: histExec, ExpectRunning: true,
		Events: []engine.Event{histEvent(6), histEvent(7), histEvent(8)}}); err != nil {
		t.Fatalf("commit after the migration: %v", err)
	}
	for size := 1; size <= 9; size++ {
		if got, want := fmt.Sprint(historyIDs(t, s, false, size)), wantIDs(1, 8); got != want {
			t.Errorf("pages of %d: %s, want %s", size, got, want)
		}
		if got, want := fmt.Sprint(historyIDs(t, s, true, size)), wantIDs(8, 1); got != want {
			t.Errorf("reverse pages of %d: %s, want %s", size, got, want)
		}
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'engine_history'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("engine_history still exists after the migration (%d, %v)", n, err)
	}
}
