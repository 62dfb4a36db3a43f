package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// newTestMachine opens a store on a new file with the state machine
// testSM; the store is closed with the test.
func newTestMachine(t *testing.T) *sqlitestore.EngineStore {
	t.Helper()
	s := openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	if err := s.CreateStateMachine(context.Background(), engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	return s
}

// startAt creates the execution name of testSM, started at start, with
// the events 1 to last.
func startAt(t *testing.T, s *sqlitestore.EngineStore, name string, start time.Time, last int64) {
	t.Helper()
	var evs []engine.Event
	for id := int64(1); id <= last; id++ {
		evs = append(evs, engine.Event{ID: id, PreviousEventID: id - 1, Type: "PassStateEntered", Timestamp: start})
	}
	if err := s.Commit(context.Background(), engine.Transition{ExecutionArn: testExec + name, Events: evs,
		Create: &engine.Execution{Name: name, StateMachineArn: testSM, Input: `{}`, StartDate: start}}); err != nil {
		t.Fatalf("create execution %s: %v", name, err)
	}
}

// Executions that started at the same time are listed newest created
// first, and pages that end between them list each one once. The page
// with the last one has no token, so no empty page follows.
func TestListExecutionsSameStartDate(t *testing.T) {
	ctx := context.Background()
	s := newTestMachine(t)
	// a, b and c start together, after z and before y.
	for _, x := range []struct {
		name  string
		start time.Duration
	}{{"z", 0}, {"a", time.Second}, {"b", time.Second}, {"y", 2 * time.Second}, {"c", time.Second}} {
		startAt(t, s, x.name, testT0.Add(x.start), 1)
	}
	const want = "[y c b a z]"
	for size := 1; size <= 6; size++ {
		var names []string
		tok := ""
		for range 10 {
			page, next, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: testSM, MaxResults: size, NextToken: tok})
			if err != nil {
				t.Fatalf("ListExecutions(pages of %d): %v", size, err)
			}
			if len(page) == 0 {
				t.Errorf("ListExecutions, pages of %d: an empty page after %v", size, names)
			}
			for _, x := range page {
				names = append(names, x.Name)
			}
			if tok = next; tok == "" {
				break
			}
		}
		if got := fmt.Sprint(names); got != want {
			t.Errorf("ListExecutions, pages of %d = %s, want %s", size, got, want)
		}
	}
}

// Without MaxResults a page holds 100 items, as engine.Store says.
func TestEngineDefaultPageSize(t *testing.T) {
	ctx := context.Background()
	s := newTestMachine(t)
	const n = 101
	startAt(t, s, "long", testT0, n)
	for i := range n - 1 {
		startAt(t, s, fmt.Sprintf("x%03d", i), testT0.Add(time.Duration(i)*time.Second), 1)
	}
	for i := range n - 1 {
		if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: fmt.Sprintf("%s-%03d", testSM, i), Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
			t.Fatal(err)
		}
	}
	pages := []struct {
		name string
		page func(tok string) (int, string, error)
	}{
		{"GetHistory", func(tok string) (int, string, error) {
			evs, next, err := s.GetHistory(ctx, testExec+"long", engine.HistoryInput{NextToken: tok})
			return len(evs), next, err
		}},
		{"GetHistory in reverse", func(tok string) (int, string, error) {
			evs, next, err := s.GetHistory(ctx, testExec+"long", engine.HistoryInput{NextToken: tok, ReverseOrder: true})
			return len(evs), next, err
		}},
		{"ListExecutions", func(tok string) (int, string, error) {
			xs, next, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: testSM, NextToken: tok})
			return len(xs), next, err
		}},
		{"ListStateMachines", func(tok string) (int, string, error) {
			sms, next, err := s.ListStateMachines(ctx, 0, tok)
			return len(sms), next, err
		}},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			got, next, err := p.page("")
			if err != nil || got != 100 || next == "" {
				t.Fatalf("first page: %d items, next %q, %v; want 100 and a token", got, next, err)
			}
			got, next, err = p.page(next)
			if err != nil || got != 1 || next != "" {
				t.Errorf("second page: %d items, next %q, %v; want the last one and no token", got, next, err)
			}
		})
	}
}

// A history token pages in the direction it was issued for: given to the
// other one, it is refused rather than read as a position.
func TestHistoryTokenKeepsItsDirection(t *testing.T) {
	ctx := context.Background()
	s := newTestMachine(t)
	startAt(t, s, "h", testT0, 5)
	for _, reverse := range []bool{false, true} {
		_, tok, err := s.GetHistory(ctx, testExec+"h", engine.HistoryInput{MaxResults: 2, ReverseOrder: reverse})
		if err != nil || tok == "" {
			t.Fatalf("GetHistory(reverse %v): token %q, %v; want a token", reverse, tok, err)
		}
		_, _, err = s.GetHistory(ctx, testExec+"h", engine.HistoryInput{MaxResults: 2, NextToken: tok, ReverseOrder: !reverse})
		if !errors.Is(err, engine.ErrInvalidToken) {
			t.Errorf("GetHistory(reverse %v) with a token of reverse %v: error = %v, want ErrInvalidToken", !reverse, reverse, err)
		}
	}
	if _, _, err := s.ListStateMachines(ctx, 1, "a."); !errors.Is(err, engine.ErrInvalidToken) {
		t.Errorf("ListStateMachines(token \"a.\") error = %v, want ErrInvalidToken", err)
	}
}

// A state machine's revisions carry their id and date: "1" and the
// creation date when the caller gives none, then the revision number and
// the time of each update. An update that sets only the definition keeps
// the role. ListStateMachines lists the whole current record.
func TestStateMachineRevisionRecords(t *testing.T) {
	ctx := context.Background()
	s := openEngineStore(t, filepath.Join(t.TempDir(), "stepmon.db"))
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: `{"v":1}`, RoleArn: "role", CreatedAt: testT0}); err != nil {
		t.Fatal(err)
	}
	at := []time.Time{testT0, testT0.Add(time.Hour), testT0.Add(2 * time.Hour)}
	for rev := 2; rev <= 3; rev++ {
		upd, err := s.UpdateStateMachine(ctx, testSM, engine.StateMachineUpdate{Definition: fmt.Sprintf(`{"v":%d}`, rev)}, at[rev-1])
		if err != nil {
			t.Fatal(err)
		}
		if upd.RevisionID != fmt.Sprint(rev) || !upd.UpdatedAt.Equal(at[rev-1]) || upd.RoleArn != "role" || !upd.CreatedAt.Equal(testT0) {
			t.Errorf("UpdateStateMachine to revision %d = %+v; want revision id %d, updated at %v, role kept, created at %v",
				rev, upd, rev, at[rev-1], testT0)
		}
	}
	for rev := 1; rev <= 3; rev++ {
		sm, err := s.GetStateMachineRevision(ctx, testSM, rev)
		if err != nil {
			t.Fatal(err)
		}
		if sm.Revision != rev || sm.RevisionID != fmt.Sprint(rev) || !sm.UpdatedAt.Equal(at[rev-1]) || sm.RoleArn != "role" ||
			sm.Definition != fmt.Sprintf(`{"v":%d}`, rev) {
			t.Errorf("GetStateMachineRevision(%d) = %+v; want revision id %d of definition v %d with role, updated at %v",
				rev, sm, rev, rev, at[rev-1])
		}
	}
	sm, err := s.GetStateMachine(ctx, testSM)
	if err != nil || sm.RevisionID != "3" || !sm.UpdatedAt.Equal(at[2]) || sm.RoleArn != "role" {
		t.Errorf("GetStateMachine = %+v, %v; want revision id 3, updated at %v, the role", sm, err, at[2])
	}
	if list, _, err := s.ListStateMachines(ctx, 10, ""); err != nil || len(list) != 1 || fmt.Sprint(list[0]) != fmt.Sprint(sm) {
		t.Errorf("ListStateMachines = %+v, %v; want the record GetStateMachine reads, %+v", list, err, sm)
	}
}

// LastEventID is 0 for an execution with no event yet, and
// ErrExecutionDoesNotExist for an unknown one.
func TestLastEventIDWithoutEvents(t *testing.T) {
	ctx := context.Background()
	s := newTestMachine(t)
	startAt(t, s, "quiet", testT0, 0)
	if last, err := s.LastEventID(ctx, testExec+"quiet"); err != nil || last != 0 {
		t.Errorf("LastEventID(no events) = %d, %v; want 0", last, err)
	}
	if _, err := s.LastEventID(ctx, testExec+"missing"); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
		t.Errorf("LastEventID(missing) error = %v, want ErrExecutionDoesNotExist", err)
	}
}

// Tags belong to one machine: untagging a key, or counting the tags
// against the limit, leaves the other machines' tags out.
func TestTagsOfOneMachine(t *testing.T) {
	ctx := context.Background()
	s := newTestMachine(t)
	const other = testSM + "-other"
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: other, Name: "other", Definition: "{}", CreatedAt: testT0,
		Tags: []engine.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.TagStateMachine(ctx, testSM, []engine.Tag{{Key: "a", Value: "x"}, {Key: "c", Value: "y"}}, 2); err != nil {
		t.Fatalf("TagStateMachine up to the limit, the other machine having as many: %v", err)
	}
	if err := s.UntagStateMachine(ctx, testSM, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	for arn, want := range map[string]string{testSM: "[{c y}]", other: "[{a 1} {b 2}]"} {
		if tags, err := s.ListStateMachineTags(ctx, arn); err != nil || fmt.Sprint(tags) != want {
			t.Errorf("ListStateMachineTags(%s) = %v, %v; want %s", arn, tags, err, want)
		}
	}
}
