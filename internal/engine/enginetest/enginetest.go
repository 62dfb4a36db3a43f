package enginetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

const smArn = "arn:aws:states:us-east-1:123456789012:stateMachine:sm"

// Run runs the Store conformance suite; newStore returns an empty store
// for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) engine.Store) {
	t.Helper()
	tests := []storeTest{
		{"StateMachines", testStateMachines},
		{"ListStateMachinesOrder", testListStateMachinesOrder},
		{"CreateExecution", testCreateExecution},
		{"ListExecutions", testListExecutions},
		{"History", testHistory},
		{"HistoryOutOfOrder", testHistoryOutOfOrder},
		{"RunState", testRunState},
		{"ExpectRunning", testExpectRunning},
		{"ConcurrentCommits", testConcurrentCommits},
		{"DeleteStateMachine", testDeleteStateMachine},
		{"Tags", testTags},
		{"Config", testConfig},
	}
	if c, ok := newStore(t).(engine.TransitionCopier); ok && c.CopiesTransitions() {
		tests = append(tests, storeTest{"CopiesTransitions", testCopiesTransitions})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// storeTest is one case of the suite, run on a new store.
type storeTest struct {
	name string
	fn   func(t *testing.T, s engine.Store)
}

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func createSM(t *testing.T, s engine.Store, arn string) {
	t.Helper()
	err := s.CreateStateMachine(context.Background(), engine.StateMachine{
		Arn: arn, Name: "sm", Definition: `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`,
		RoleArn: "arn:aws:iam::123456789012:role/r", Type: "STANDARD", CreatedAt: t0,
	})
	if err != nil {
		t.Fatalf("CreateStateMachine(%s): %v", arn, err)
	}
}

func execArn(name string) string {
	return "arn:aws:states:us-east-1:123456789012:execution:sm:" + name
}

func startEvent(at time.Time) engine.Event {
	return engine.Event{ID: 1, Type: "ExecutionStarted", Timestamp: at,
		Details: engine.EventDetails{Input: map[string]any{"a": 1.0}, RoleArn: "r"}}
}

func createExec(t *testing.T, s engine.Store, name string, start time.Time) {
	t.Helper()
	err := s.Commit(context.Background(), engine.Transition{
		ExecutionArn: execArn(name),
		Create: &engine.Execution{Name: name, StateMachineArn: smArn, Status: engine.StatusRunning,
			Input: `{"a":1}`, StartDate: start},
		Events:   []engine.Event{startEvent(start)},
		RunState: []byte(`{"state":"A"}`),
	})
	if err != nil {
		t.Fatalf("create execution %s: %v", name, err)
	}
}

func testStateMachines(t *testing.T, s engine.Store) {
	ctx := context.Background()
	if _, err := s.GetStateMachine(ctx, smArn); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Fatalf("GetStateMachine(missing) error = %v, want ErrStateMachineDoesNotExist", err)
	}
	for i := range 5 {
		createSM(t, s, fmt.Sprintf("%s%d", smArn, i))
	}
	err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: smArn + "0", Name: "sm0", CreatedAt: t0})
	if !errors.Is(err, engine.ErrStateMachineAlreadyExists) {
		t.Fatalf("duplicate CreateStateMachine error = %v, want ErrStateMachineAlreadyExists", err)
	}
	got, err := s.GetStateMachine(ctx, smArn+"1")
	if err != nil {
		t.Fatalf("GetStateMachine: %v", err)
	}
	if got.Revision != 1 || got.Definition == "" || got.RoleArn == "" || !got.CreatedAt.Equal(t0) || got.Status != engine.StateMachineActive {
		t.Errorf("GetStateMachine = %+v, want ACTIVE revision 1 with definition, role and creation date", got)
	}
	upd, err := s.UpdateStateMachine(ctx, smArn+"1", engine.StateMachineUpdate{Definition: `{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}`}, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("UpdateStateMachine: %v", err)
	}
	if upd.Revision != 2 || upd.Definition != `{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}` {
		t.Errorf("UpdateStateMachine = %+v, want revision 2 with the new definition", upd)
	}
	if _, err := s.UpdateStateMachine(ctx, smArn+"x", engine.StateMachineUpdate{Definition: "{}"}, t0); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("UpdateStateMachine(missing) error = %v, want ErrStateMachineDoesNotExist", err)
	}
	// Every revision stays readable for the executions that run it.
	for _, want := range []engine.StateMachine{got, upd} {
		rev, err := s.GetStateMachineRevision(ctx, want.Arn, want.Revision)
		if err != nil {
			t.Fatalf("GetStateMachineRevision(%d): %v", want.Revision, err)
		}
		if rev.Revision != want.Revision || rev.Definition != want.Definition || rev.RevisionID != want.RevisionID ||
			rev.RoleArn != want.RoleArn || rev.Name != want.Name || !rev.UpdatedAt.Equal(want.UpdatedAt) || !rev.CreatedAt.Equal(t0) {
			t.Errorf("GetStateMachineRevision(%d) = %+v, want %+v", want.Revision, rev, want)
		}
	}
	for _, missing := range []struct {
		arn string
		rev int
	}{{smArn + "1", 3}, {smArn + "1", 0}, {smArn + "x", 1}} {
		if _, err := s.GetStateMachineRevision(ctx, missing.arn, missing.rev); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
			t.Errorf("GetStateMachineRevision(%s, %d) error = %v, want ErrStateMachineDoesNotExist", missing.arn, missing.rev, err)
		}
	}
	var all []string
	tok := ""
	for range 10 {
		page, next, err := s.ListStateMachines(ctx, 2, tok)
		if err != nil {
			t.Fatalf("ListStateMachines: %v", err)
		}
		if len(page) > 2 {
			t.Fatalf("ListStateMachines page size %d > 2", len(page))
		}
		for _, sm := range page {
			all = append(all, sm.Arn)
		}
		if next == "" {
			break
		}
		tok = next
	}
	if len(all) != 5 {
		t.Errorf("ListStateMachines paged = %v, want 5 machines", all)
	}
}

// testListStateMachinesOrder: ListStateMachines pages in ARN order, which
// is name order (the ARNs share their prefix), byte by byte as AWS lists
// them, whatever the creation order; the token is a position in that
// order, so a page continues after the last machine returned even when
// that one is deleted or another is created meanwhile.
func testListStateMachinesOrder(t *testing.T, s engine.Store) {
	ctx := context.Background()
	const prefix = "arn:aws:states:us-east-1:123456789012:stateMachine:"
	for _, name := range []string{"sm_2_x", "sm_10_x", "b", "sm_1_x", "a", "sm_0_x"} {
		createSM(t, s, prefix+name)
	}
	type step struct {
		before    func() // a change between pages, or nil
		wantNames []string
	}
	create := func(name string) func() { return func() { createSM(t, s, prefix+name) } }
	steps := []step{
		{nil, []string{"a", "b"}},
		{func() {
			create("aa")() // before the last one returned: not listed
			if err := s.DeleteStateMachine(ctx, prefix+"b"); err != nil {
				t.Fatalf("DeleteStateMachine(b): %v", err)
			}
		}, []string{"sm_0_x", "sm_10_x"}},
		{create("sm_11_x"), []string{"sm_11_x", "sm_1_x"}},
		{create("zz"), []string{"sm_2_x", "zz"}},
	}
	tok := ""
	for i, st := range steps {
		if st.before != nil {
			st.before()
		}
		page, next, err := s.ListStateMachines(ctx, 2, tok)
		if err != nil {
			t.Fatalf("page %d: ListStateMachines: %v", i, err)
		}
		var got []string
		for _, sm := range page {
			got = append(got, sm.Arn[len(prefix):])
		}
		if fmt.Sprint(got) != fmt.Sprint(st.wantNames) {
			t.Errorf("page %d = %v, want %v", i, got, st.wantNames)
		}
		if last := i == len(steps)-1; (next == "") != last {
			t.Fatalf("page %d: next token %q, want one unless the page is the last", i, next)
		}
		tok = next
	}
}

func testCreateExecution(t *testing.T, s engine.Store) {
	ctx := context.Background()
	createSM(t, s, smArn)
	createExec(t, s, "e1", t0)
	err := s.Commit(ctx, engine.Transition{
		ExecutionArn: execArn("e1"),
		Create:       &engine.Execution{Name: "e1", StateMachineArn: smArn, Input: `{}`, StartDate: t0},
		Events:       []engine.Event{startEvent(t0)},
	})
	if !errors.Is(err, engine.ErrExecutionAlreadyExists) {
		t.Fatalf("duplicate create error = %v, want ErrExecutionAlreadyExists", err)
	}
	got, err := s.GetExecution(ctx, execArn("e1"))
	if err != nil {
		t.Fatalf("GetExecution: %v", err)
	}
	if got.Status != engine.StatusRunning || got.Input != `{"a":1}` || got.Name != "e1" || got.StateMachineArn != smArn {
		t.Errorf("GetExecution = %+v, want the created RUNNING record", got)
	}
	if n, err := s.LastEventID(ctx, execArn("e1")); err != nil || n != 1 {
		t.Errorf("LastEventID = %d, %v; want 1 (the failed duplicate must not append)", n, err)
	}
	if _, err := s.GetExecution(ctx, execArn("nope")); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
		t.Errorf("GetExecution(missing) error = %v, want ErrExecutionDoesNotExist", err)
	}
	err = s.Commit(ctx, engine.Transition{ExecutionArn: execArn("nope"), Events: []engine.Event{startEvent(t0)}})
	if !errors.Is(err, engine.ErrExecutionDoesNotExist) {
		t.Errorf("Commit(missing) error = %v, want ErrExecutionDoesNotExist", err)
	}
	// Finish it and check the record.
	err = s.Commit(ctx, engine.Transition{
		ExecutionArn: execArn("e1"),
		Events:       []engine.Event{{ID: 2, PreviousEventID: 1, Type: "ExecutionSucceeded", Timestamp: t0, Details: engine.EventDetails{Output: "x"}}},
		Update:       &engine.ExecutionUpdate{Status: engine.StatusSucceeded, Output: `"x"`, HasOutput: true, StopDate: t0.Add(time.Second)},
	})
	if err != nil {
		t.Fatalf("Commit(finish): %v", err)
	}
	got, _ = s.GetExecution(ctx, execArn("e1"))
	if got.Status != engine.StatusSucceeded || got.Output != `"x"` || !got.HasOutput || !got.StopDate.Equal(t0.Add(time.Second)) {
		t.Errorf("finished execution = %+v, want SUCCEEDED with output and stop date", got)
	}
}

func testListExecutions(t *testing.T, s engine.Store) {
	ctx := context.Background()
	createSM(t, s, smArn)
	for i := range 7 {
		createExec(t, s, fmt.Sprintf("e%d", i), t0.Add(time.Duration(i)*time.Second))
	}
	for _, i := range []int{1, 4} {
		err := s.Commit(ctx, engine.Transition{ExecutionArn: execArn(fmt.Sprintf("e%d", i)),
			Update: &engine.ExecutionUpdate{Status: engine.StatusFailed, Error: "E", Cause: "C", StopDate: t0}})
		if err != nil {
			t.Fatalf("fail e%d: %v", i, err)
		}
	}
	list := func(status engine.ExecutionStatus) []string {
		var names []string
		tok := ""
		for range 20 {
			page, next, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: smArn, Status: status, MaxResults: 3, NextToken: tok})
			if err != nil {
				t.Fatalf("ListExecutions(%q): %v", status, err)
			}
			for _, e := range page {
				names = append(names, e.Name)
			}
			if next == "" {
				break
			}
			tok = next
		}
		return names
	}
	tests := []struct {
		status engine.ExecutionStatus
		want   string
	}{
		{"", "[e6 e5 e4 e3 e2 e1 e0]"},
		{engine.StatusRunning, "[e6 e5 e3 e2 e0]"},
		{engine.StatusFailed, "[e4 e1]"},
		{engine.StatusSucceeded, "[]"},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			if got := fmt.Sprint(list(tt.status)); got != tt.want {
				t.Errorf("ListExecutions(%q) = %s, want %s (newest first)", tt.status, got, tt.want)
			}
		})
	}
	if _, _, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: smArn + "x"}); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("ListExecutions(unknown machine) error = %v, want ErrStateMachineDoesNotExist", err)
	}
	if _, _, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: smArn, NextToken: "garbage!"}); !errors.Is(err, engine.ErrInvalidToken) {
		t.Errorf("ListExecutions(bad token) error = %v, want ErrInvalidToken", err)
	}
}

func testHistory(t *testing.T, s engine.Store) {
	ctx := context.Background()
	createSM(t, s, smArn)
	createExec(t, s, "h", t0)
	var evs []engine.Event
	for i := int64(2); i <= 11; i++ {
		evs = append(evs, engine.Event{ID: i, PreviousEventID: i - 1, Type: "PassStateEntered", Timestamp: t0,
			Details: engine.EventDetails{Name: fmt.Sprintf("S%d", i), Input: map[string]any{"i": float64(i)}}})
	}
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: execArn("h"), Events: evs[:4]}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: execArn("h"), Events: evs[4:]}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	page := func(rev bool, size int) []int64 {
		var ids []int64
		tok := ""
		for range 20 {
			p, next, err := s.GetHistory(ctx, execArn("h"), engine.HistoryInput{MaxResults: size, NextToken: tok, ReverseOrder: rev})
			if err != nil {
				t.Fatalf("GetHistory: %v", err)
			}
			for _, e := range p {
				ids = append(ids, e.ID)
			}
			if next == "" {
				break
			}
			tok = next
		}
		return ids
	}
	// Pages that end inside a commit's events, on its edges, and beyond.
	for size := 1; size <= 12; size++ {
		if got, want := fmt.Sprint(page(false, size)), "[1 2 3 4 5 6 7 8 9 10 11]"; got != want {
			t.Errorf("GetHistory ids, pages of %d = %s, want %s", size, got, want)
		}
		if got, want := fmt.Sprint(page(true, size)), "[11 10 9 8 7 6 5 4 3 2 1]"; got != want {
			t.Errorf("GetHistory reverse ids, pages of %d = %s, want %s", size, got, want)
		}
	}
	p, _, err := s.GetHistory(ctx, execArn("h"), engine.HistoryInput{MaxResults: 1, NextToken: "", ReverseOrder: true})
	if err != nil || len(p) != 1 {
		t.Fatalf("GetHistory: %v, %d events", err, len(p))
	}
	if e := p[0]; e.Type != "PassStateEntered" || e.PreviousEventID != 10 || e.Details.Name != "S11" || !e.Timestamp.Equal(t0) {
		t.Errorf("last event = %+v, want PassStateEntered S11 prev 10", e)
	}
	if in, ok := p[0].Details.Input.(map[string]any); !ok || in["i"] != 11.0 {
		t.Errorf("last event input = %#v, want map[i:11]", p[0].Details.Input)
	}
	if n, err := s.LastEventID(ctx, execArn("h")); err != nil || n != 11 {
		t.Errorf("LastEventID = %d, %v; want 11", n, err)
	}
	if _, _, err := s.GetHistory(ctx, execArn("zz"), engine.HistoryInput{}); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
		t.Errorf("GetHistory(missing) error = %v, want ErrExecutionDoesNotExist", err)
	}
}

// An execution's commits hold disjoint ranges of event ids, but
// concurrent commits (parallel branches) may reach the store out of
// order; pages list the events in id order all the same.
func testHistoryOutOfOrder(t *testing.T, s engine.Store) {
	ctx := context.Background()
	createSM(t, s, smArn)
	createExec(t, s, "o", t0)
	for _, r := range [][2]int64{{6, 7}, {2, 2}, {3, 5}, {8, 9}} {
		var evs []engine.Event
		for id := r[0]; id <= r[1]; id++ {
			evs = append(evs, engine.Event{ID: id, PreviousEventID: id - 1, Type: "PassStateEntered", Timestamp: t0,
				Details: engine.EventDetails{Name: fmt.Sprintf("S%d", id)}})
		}
		if err := s.Commit(ctx, engine.Transition{ExecutionArn: execArn("o"), ExpectRunning: true, Events: evs}); err != nil {
			t.Fatalf("Commit %v: %v", r, err)
		}
	}
	for _, rev := range []bool{false, true} {
		for size := 1; size <= 10; size++ {
			var ids []int64
			tok := ""
			for range 20 {
				p, next, err := s.GetHistory(ctx, execArn("o"), engine.HistoryInput{MaxResults: size, NextToken: tok, ReverseOrder: rev})
				if err != nil {
					t.Fatalf("GetHistory: %v", err)
				}
				for _, e := range p {
					ids = append(ids, e.ID)
				}
				if tok = next; tok == "" {
					break
				}
			}
			want := "[1 2 3 4 5 6 7 8 9]"
			if rev {
				want = "[9 8 7 6 5 4 3 2 1]"
			}
			if got := fmt.Sprint(ids); got != want {
				t.Errorf("GetHistory(reverse %v, pages of %d) ids = %s, want %s", rev, size, got, want)
			}
		}
	}
	if n, err := s.LastEventID(ctx, execArn("o")); err != nil || n != 9 {
		t.Errorf("LastEventID = %d, %v; want 9", n, err)
	}
}

func testRunState(t *testing.T, s engine.Store) {
	ctx := context.Background()
	createSM(t, s, smArn)
	createExec(t, s, "r1", t0)
	createExec(t, s, "r2", t0)
	wake := t0.Add(time.Hour)
	err := s.Commit(ctx, engine.Transition{
		ExecutionArn: execArn("r1"), ExpectRunning: true,
		Events:   []engine.Event{{ID: 2, PreviousEventID: 0, Type: "WaitStateEntered", Timestamp: t0, Details: engine.EventDetails{Name: "W", Input: nil}}},
		RunState: []byte(`{"state":"W"}`), WakeAt: wake,
	})
	if err != nil {
		t.Fatalf("Commit(wait): %v", err)
	}
	rs, at, err := s.GetRunState(ctx, execArn("r1"))
	if err != nil || string(rs) != `{"state":"W"}` || !at.Equal(wake) {
		t.Errorf("GetRunState = %s, %v, %v; want {\"state\":\"W\"} at %v", rs, at, err, wake)
	}
	pend := map[string]time.Time{}
	if err := s.ListPending(ctx, func(p engine.Pending) error { pend[p.ExecutionArn] = p.WakeAt; return nil }); err != nil {
		t.Fatalf("ListPending: %v", err)
	}
	if len(pend) != 2 || !pend[execArn("r1")].Equal(wake) || !pend[execArn("r2")].IsZero() {
		t.Errorf("ListPending = %v, want r1 at %v and r2 runnable now", pend, wake)
	}
	// A terminal update removes the run state and the timer.
	err = s.Commit(ctx, engine.Transition{ExecutionArn: execArn("r1"),
		Update: &engine.ExecutionUpdate{Status: engine.StatusAborted, StopDate: t0}, RunState: []byte(`{}`)})
	if err != nil {
		t.Fatalf("Commit(abort): %v", err)
	}
	if _, _, err := s.GetRunState(ctx, execArn("r1")); !errors.Is(err, engine.ErrExecutionNotRunning) {
		t.Errorf("GetRunState(aborted) error = %v, want ErrExecutionNotRunning", err)
	}
	pend = map[string]time.Time{}
	_ = s.ListPending(ctx, func(p engine.Pending) error { pend[p.ExecutionArn] = p.WakeAt; return nil })
	if len(pend) != 1 {
		t.Errorf("ListPending after abort = %v, want only r2", pend)
	}
	stop := errors.New("stop")
	if err := s.ListPending(ctx, func(engine.Pending) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("ListPending must return the callback's error, got %v", err)
	}
}

func testExpectRunning(t *testing.T, s engine.Store) {
	ctx := context.Background()
	createSM(t, s, smArn)
	createExec(t, s, "x", t0)
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: execArn("x"),
		Update: &engine.ExecutionUpdate{Status: engine.StatusAborted, StopDate: t0}}); err != nil {
		t.Fatalf("Commit(abort): %v", err)
	}
	err := s.Commit(ctx, engine.Transition{ExecutionArn: execArn("x"), ExpectRunning: true,
		Events:   []engine.Event{{ID: 2, Type: "PassStateEntered", Timestamp: t0}},
		RunState: []byte(`{}`)})
	if !errors.Is(err, engine.ErrExecutionNotRunning) {
		t.Fatalf("Commit(ExpectRunning) on aborted error = %v, want ErrExecutionNotRunning", err)
	}
	if n, _ := s.LastEventID(ctx, execArn("x")); n != 1 {
		t.Errorf("LastEventID = %d, want 1: a rejected commit must not append events", n)
	}
}

func testConcurrentCommits(t *testing.T, s engine.Store) {
	ctx := context.Background()
	createSM(t, s, smArn)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arn := execArn(fmt.Sprintf("c%d", i))
			err := s.Commit(ctx, engine.Transition{ExecutionArn: arn,
				Create: &engine.Execution{Name: fmt.Sprintf("c%d", i), StateMachineArn: smArn, Input: "{}", StartDate: t0},
				Events: []engine.Event{startEvent(t0)}, RunState: []byte(`{}`), WakeAt: t0.Add(time.Duration(i) * time.Second)})
			if err == nil {
				err = s.Commit(ctx, engine.Transition{ExecutionArn: arn, ExpectRunning: true,
					Events: []engine.Event{{ID: 2, PreviousEventID: 1, Type: "WaitStateEntered", Timestamp: t0}}, RunState: []byte(`{"w":1}`)})
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Commit: %v", err)
		}
	}
	count := 0
	_ = s.ListPending(ctx, func(engine.Pending) error { count++; return nil })
	if count != n {
		t.Errorf("ListPending found %d executions, want %d", count, n)
	}
	for i := range n {
		if id, _ := s.LastEventID(ctx, execArn(fmt.Sprintf("c%d", i))); id != 2 {
			t.Errorf("c%d LastEventID = %d, want 2", i, id)
		}
	}
}

// A store that says it copies what it commits (engine.TransitionCopier)
// must keep nothing of a Transition's events and run state: the engine
// overwrites both for the next commit. (Run adds this case only for such
// stores.)
func testCopiesTransitions(t *testing.T, s engine.Store) {
	ctx := context.Background()
	createSM(t, s, smArn)
	createExec(t, s, "c", t0)
	evs := []engine.Event{{ID: 2, PreviousEventID: 1, Type: "WaitStateEntered", Timestamp: t0,
		Details: engine.EventDetails{Name: "W", Input: map[string]any{"k": "v"}}}}
	run := []byte(`{"state":"W"}`)
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: execArn("c"), Events: evs, RunState: run, WakeAt: t0}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	evs[0] = engine.Event{ID: 99, Type: "Overwritten", Timestamp: t0.Add(time.Hour)}
	copy(run, `{"state":"X"}`)
	p, _, err := s.GetHistory(ctx, execArn("c"), engine.HistoryInput{})
	if err != nil || len(p) != 2 {
		t.Fatalf("GetHistory: %v, %d events; want 2", err, len(p))
	}
	if e := p[1]; e.ID != 2 || e.Type != "WaitStateEntered" || e.Details.Name != "W" {
		t.Errorf("event 2 after the caller reused its memory = %+v, want WaitStateEntered W", e)
	}
	if rs, _, err := s.GetRunState(ctx, execArn("c")); err != nil || string(rs) != `{"state":"W"}` {
		t.Errorf("GetRunState after the caller reused its memory = %s, %v; want {\"state\":\"W\"}", rs, err)
	}
}

func testDeleteStateMachine(t *testing.T, s engine.Store) {
	ctx := context.Background()
	const other = smArn + "-other"
	createSM(t, s, smArn)
	createSM(t, s, other)
	if _, err := s.UpdateStateMachine(ctx, smArn, engine.StateMachineUpdate{Definition: `{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}`}, t0); err != nil {
		t.Fatalf("UpdateStateMachine: %v", err)
	}
	createExec(t, s, "done", t0)
	createExec(t, s, "waits", t0)
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: execArn("done"),
		Update: &engine.ExecutionUpdate{Status: engine.StatusSucceeded, StopDate: t0}}); err != nil {
		t.Fatalf("Commit(succeed): %v", err)
	}
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: execArn("waits"), ExpectRunning: true,
		RunState: []byte(`{"state":"W"}`), WakeAt: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("Commit(wait): %v", err)
	}
	otherExec := "arn:aws:states:us-east-1:123456789012:execution:sm-other:o"
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: otherExec,
		Create: &engine.Execution{Name: "o", StateMachineArn: other, Status: engine.StatusRunning, Input: `{}`, StartDate: t0},
		Events: []engine.Event{startEvent(t0)}, RunState: []byte(`{"state":"A"}`)}); err != nil {
		t.Fatalf("create execution of the other machine: %v", err)
	}

	if err := s.MarkStateMachineDeleting(ctx, smArn+"x"); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("MarkStateMachineDeleting(missing) error = %v, want ErrStateMachineDoesNotExist", err)
	}
	for range 2 { // marking twice is no error
		if err := s.MarkStateMachineDeleting(ctx, smArn); err != nil {
			t.Fatalf("MarkStateMachineDeleting: %v", err)
		}
	}
	if sm, err := s.GetStateMachine(ctx, smArn); err != nil || sm.Status != engine.StateMachineDeleting || sm.Revision != 2 {
		t.Errorf("GetStateMachine(deleting) = %+v, %v; want revision 2 DELETING", sm, err)
	}
	if sm, err := s.GetStateMachine(ctx, other); err != nil || sm.Status != engine.StateMachineActive {
		t.Errorf("GetStateMachine(other) = %+v, %v; want ACTIVE", sm, err)
	}
	list, _, err := s.ListStateMachines(ctx, 10, "")
	if err != nil || len(list) != 2 || list[0].Status != engine.StateMachineDeleting {
		t.Errorf("ListStateMachines = %+v, %v; want both, the first DELETING", list, err)
	}
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: smArn, Name: "sm", CreatedAt: t0}); !errors.Is(err, engine.ErrStateMachineAlreadyExists) {
		t.Errorf("CreateStateMachine(deleting) error = %v, want ErrStateMachineAlreadyExists", err)
	}
	// A DELETING machine's executions still commit (they fail).
	if err := s.Commit(ctx, engine.Transition{ExecutionArn: execArn("waits"), ExpectRunning: true,
		Events: []engine.Event{{ID: 2, PreviousEventID: 1, Type: "ExecutionFailed", Timestamp: t0}},
		Update: &engine.ExecutionUpdate{Status: engine.StatusFailed, Error: "States.Runtime", StopDate: t0}}); err != nil {
		t.Fatalf("Commit(fail): %v", err)
	}

	if err := s.DeleteStateMachine(ctx, smArn); err != nil {
		t.Fatalf("DeleteStateMachine: %v", err)
	}
	if _, err := s.GetStateMachine(ctx, smArn); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("GetStateMachine(deleted) error = %v, want ErrStateMachineDoesNotExist", err)
	}
	for rev := 1; rev <= 2; rev++ {
		if _, err := s.GetStateMachineRevision(ctx, smArn, rev); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
			t.Errorf("GetStateMachineRevision(deleted, %d) error = %v, want ErrStateMachineDoesNotExist", rev, err)
		}
	}
	if list, _, err := s.ListStateMachines(ctx, 10, ""); err != nil || len(list) != 1 || list[0].Arn != other {
		t.Errorf("ListStateMachines after delete = %+v, %v; want only %s", list, err, other)
	}
	if _, _, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: smArn}); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("ListExecutions(deleted) error = %v, want ErrStateMachineDoesNotExist", err)
	}
	for _, name := range []string{"done", "waits"} {
		if _, err := s.GetExecution(ctx, execArn(name)); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
			t.Errorf("GetExecution(%s of the deleted machine) error = %v, want ErrExecutionDoesNotExist", name, err)
		}
		if _, _, err := s.GetHistory(ctx, execArn(name), engine.HistoryInput{}); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
			t.Errorf("GetHistory(%s of the deleted machine) error = %v, want ErrExecutionDoesNotExist", name, err)
		}
	}
	pend := map[string]bool{}
	if err := s.ListPending(ctx, func(p engine.Pending) error { pend[p.ExecutionArn] = true; return nil }); err != nil {
		t.Fatalf("ListPending: %v", err)
	}
	if len(pend) != 1 || !pend[otherExec] {
		t.Errorf("ListPending after delete = %v, want only the other machine's execution", pend)
	}
	if x, err := s.GetExecution(ctx, otherExec); err != nil || x.Status != engine.StatusRunning {
		t.Errorf("GetExecution(other machine's) = %+v, %v; want it RUNNING", x, err)
	}
	if err := s.DeleteStateMachine(ctx, smArn); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("second DeleteStateMachine error = %v, want ErrStateMachineDoesNotExist", err)
	}

	// The name is free: the machine created again is a new one, without
	// the old one's revisions or executions.
	createSM(t, s, smArn)
	sm, err := s.GetStateMachine(ctx, smArn)
	if err != nil || sm.Status != engine.StateMachineActive || sm.Revision != 1 {
		t.Errorf("GetStateMachine(created again) = %+v, %v; want ACTIVE revision 1", sm, err)
	}
	if xs, _, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: smArn}); err != nil || len(xs) != 0 {
		t.Errorf("ListExecutions(created again) = %+v, %v; want none", xs, err)
	}
	createExec(t, s, "waits", t0.Add(time.Minute))
	if n, err := s.LastEventID(ctx, execArn("waits")); err != nil || n != 1 {
		t.Errorf("LastEventID(new execution with an old name) = %d, %v; want 1", n, err)
	}
}

// testTags: a machine keeps the tags it was created with, TagStateMachine
// adds and overwrites (keys are case-sensitive), UntagStateMachine
// removes, the list is in key order byte by byte, the limit holds after
// the merge, and the tags go with the machine.
func testTags(t *testing.T, s engine.Store) {
	ctx := context.Background()
	const other = smArn + "-other"
	list := func(arn string) string {
		t.Helper()
		tags, err := s.ListStateMachineTags(ctx, arn)
		if err != nil {
			t.Fatalf("ListStateMachineTags(%s): %v", arn, err)
		}
		if tags == nil {
			t.Errorf("ListStateMachineTags(%s) = nil, want a list", arn)
		}
		return fmt.Sprint(tags)
	}
	for name, err := range map[string]error{
		"TagStateMachine":      s.TagStateMachine(ctx, smArn, []engine.Tag{{Key: "k", Value: "v"}}, 50),
		"UntagStateMachine":    s.UntagStateMachine(ctx, smArn, []string{"k"}),
		"ListStateMachineTags": func() error { _, err := s.ListStateMachineTags(ctx, smArn); return err }(),
	} {
		if !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
			t.Errorf("%s(missing) error = %v, want ErrStateMachineDoesNotExist", name, err)
		}
	}
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: smArn, Name: "sm", Definition: "{}", Type: "STANDARD", CreatedAt: t0,
		Tags: []engine.Tag{{Key: "team", Value: "a"}, {Key: "env", Value: "dev"}, {Key: "team", Value: "b"}}}); err != nil {
		t.Fatalf("CreateStateMachine with tags: %v", err)
	}
	createSM(t, s, other)
	if got, want := list(smArn), "[{env dev} {team b}]"; got != want {
		t.Errorf("tags after create = %s, want %s", got, want)
	}
	if sm, err := s.GetStateMachine(ctx, smArn); err != nil || sm.Tags != nil {
		t.Errorf("GetStateMachine = %+v, %v; want no tags in the record", sm, err)
	}
	if got := list(other); got != "[]" {
		t.Errorf("tags of a machine created without = %s, want none", got)
	}
	if err := s.TagStateMachine(ctx, smArn, []engine.Tag{{Key: "Env", Value: "PROD"}, {Key: "env", Value: "prod"}, {Key: "B", Value: ""}}, 50); err != nil {
		t.Fatalf("TagStateMachine: %v", err)
	}
	if got, want := list(smArn), "[{B } {Env PROD} {env prod} {team b}]"; got != want {
		t.Errorf("tags after TagStateMachine = %s, want %s", got, want)
	}
	if got := list(other); got != "[]" {
		t.Errorf("tags of the other machine = %s, want none", got)
	}
	// 4 tags; 2 new keys (one of them twice) and an overwrite make 6.
	more := []engine.Tag{{Key: "x", Value: "1"}, {Key: "y", Value: "2"}, {Key: "x", Value: "3"}, {Key: "team", Value: "c"}}
	if err := s.TagStateMachine(ctx, smArn, more, 5); !errors.Is(err, engine.ErrTooManyTags) {
		t.Errorf("TagStateMachine over the limit error = %v, want ErrTooManyTags", err)
	}
	if got, want := list(smArn), "[{B } {Env PROD} {env prod} {team b}]"; got != want {
		t.Errorf("tags after a refused TagStateMachine = %s, want them unchanged %s", got, want)
	}
	if err := s.TagStateMachine(ctx, smArn, more, 6); err != nil {
		t.Fatalf("TagStateMachine up to the limit: %v", err)
	}
	if got, want := list(smArn), "[{B } {Env PROD} {env prod} {team c} {x 3} {y 2}]"; got != want {
		t.Errorf("tags after TagStateMachine up to the limit = %s, want %s", got, want)
	}
	if err := s.UntagStateMachine(ctx, smArn, []string{"ENV", "env", "x", "x", "nope"}); err != nil {
		t.Fatalf("UntagStateMachine: %v", err)
	}
	if got, want := list(smArn), "[{B } {Env PROD} {team c} {y 2}]"; got != want {
		t.Errorf("tags after UntagStateMachine = %s, want %s", got, want)
	}

	if err := s.MarkStateMachineDeleting(ctx, smArn); err != nil {
		t.Fatalf("MarkStateMachineDeleting: %v", err)
	}
	if err := s.DeleteStateMachine(ctx, smArn); err != nil {
		t.Fatalf("DeleteStateMachine: %v", err)
	}
	if _, err := s.ListStateMachineTags(ctx, smArn); !errors.Is(err, engine.ErrStateMachineDoesNotExist) {
		t.Errorf("ListStateMachineTags(deleted) error = %v, want ErrStateMachineDoesNotExist", err)
	}
	// A machine created again under the name has none of the old tags.
	createSM(t, s, smArn)
	if got := list(smArn); got != "[]" {
		t.Errorf("tags of the machine created again = %s, want none", got)
	}
	if got := list(other); got != "[]" {
		t.Errorf("tags of the other machine after the delete = %s, want none", got)
	}
}

// testConfig: a machine keeps the configuration it was created with,
// every read returns it, an update replaces only the members it sets,
// and each revision keeps the configuration it was made with.
func testConfig(t *testing.T, s engine.Store) {
	ctx := context.Background()
	created := engine.StateMachineConfig{Logging: `{"level":"OFF"}`, Tracing: `{"enabled":true}`}
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: smArn, Name: "sm", Definition: "{}", Type: "STANDARD", CreatedAt: t0,
		Config: created}); err != nil {
		t.Fatalf("CreateStateMachine with a configuration: %v", err)
	}
	createSM(t, s, smArn+"-other")
	read := func(what string, want engine.StateMachineConfig, got engine.StateMachine, err error) {
		t.Helper()
		if err != nil || got.Config != want {
			t.Errorf("%s: configuration %+v, %v; want %+v", what, got.Config, err, want)
		}
	}
	sm, err := s.GetStateMachine(ctx, smArn)
	read("GetStateMachine after create", created, sm, err)
	sms, _, err := s.ListStateMachines(ctx, 10, "")
	if len(sms) != 2 {
		t.Fatalf("ListStateMachines = %d machines, %v; want 2", len(sms), err)
	}
	read("ListStateMachines", created, sms[0], err)
	read("ListStateMachines, the machine created without", engine.StateMachineConfig{}, sms[1], err)

	// Only the logging changes; the definition, role and tracing stay.
	updated := engine.StateMachineConfig{Logging: `{"level":"ALL"}`, Tracing: created.Tracing, Encryption: `{"type":"AWS_OWNED_KEY"}`}
	upd, err := s.UpdateStateMachine(ctx, smArn, engine.StateMachineUpdate{Config: engine.StateMachineConfig{
		Logging: updated.Logging, Encryption: updated.Encryption}}, t0.Add(time.Hour))
	read("UpdateStateMachine", updated, upd, err)
	if upd.Definition != "{}" || upd.Revision != 2 {
		t.Errorf("UpdateStateMachine of the configuration = revision %d, definition %s; want revision 2, the definition kept", upd.Revision, upd.Definition)
	}
	sm, err = s.GetStateMachine(ctx, smArn)
	read("GetStateMachine after the update", updated, sm, err)
	rev, err := s.GetStateMachineRevision(ctx, smArn, 1)
	read("GetStateMachineRevision(1)", created, rev, err)
	rev, err = s.GetStateMachineRevision(ctx, smArn, 2)
	read("GetStateMachineRevision(2)", updated, rev, err)

	upd, err = s.UpdateStateMachine(ctx, smArn, engine.StateMachineUpdate{Definition: `{"v":3}`}, t0.Add(2*time.Hour))
	read("UpdateStateMachine of the definition", updated, upd, err)
}
