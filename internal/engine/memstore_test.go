package engine_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/engine/enginetest"
)

func TestMemStore(t *testing.T) {
	enginetest.Run(t, func(*testing.T) engine.Store { return engine.NewMemStore() })
}

var memT0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

const memSM = "arn:aws:states:us-east-1:123456789012:stateMachine:mem"

// newMemMachine returns a memory store holding the state machine memSM,
// created with no revision id and no update date.
func newMemMachine(t testing.TB) *engine.MemStore {
	t.Helper()
	s := engine.NewMemStore()
	err := s.CreateStateMachine(context.Background(), engine.StateMachine{Arn: memSM, Name: "mem",
		Definition: `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, Type: "STANDARD", CreatedAt: memT0})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	return s
}

// memExecArn returns the ARN of memSM's execution name.
func memExecArn(name string) string {
	return "arn:aws:states:us-east-1:123456789012:execution:mem:" + name
}

// A machine created without a revision id or an update date gets those of
// its first revision: id "1", updated when it was created, as an update
// numbers the next ones.
func TestMemStoreFirstRevisionDefaults(t *testing.T) {
	s := newMemMachine(t)
	ctx := context.Background()
	for _, get := range []func() (engine.StateMachine, error){
		func() (engine.StateMachine, error) { return s.GetStateMachine(ctx, memSM) },
		func() (engine.StateMachine, error) { return s.GetStateMachineRevision(ctx, memSM, 1) },
	} {
		sm, err := get()
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if sm.RevisionID != "1" || !sm.UpdatedAt.Equal(memT0) {
			t.Errorf("revision id %q, updated %v; want \"1\", %v", sm.RevisionID, sm.UpdatedAt, memT0)
		}
	}
	upd, err := s.UpdateStateMachine(ctx, memSM, engine.StateMachineUpdate{RoleArn: "r2"}, memT0.Add(time.Hour))
	if err != nil {
		t.Fatalf("UpdateStateMachine: %v", err)
	}
	if upd.RevisionID != "2" || !upd.UpdatedAt.Equal(memT0.Add(time.Hour)) {
		t.Errorf("updated: revision id %q, updated %v; want \"2\", %v", upd.RevisionID, upd.UpdatedAt, memT0.Add(time.Hour))
	}
}

// A page asked for with no size holds 100 entries, as on AWS.
func TestMemStoreDefaultPageSize(t *testing.T) {
	s := newMemMachine(t)
	ctx := context.Background()
	arn := memExecArn("long")
	evs := []engine.Event{{ID: 1, Type: "ExecutionStarted", Timestamp: memT0}}
	for id := int64(2); id <= 150; id++ {
		evs = append(evs, engine.Event{ID: id, PreviousEventID: id - 1, Type: "PassStateEntered", Timestamp: memT0})
	}
	err := s.Commit(ctx, engine.Transition{ExecutionArn: arn, Events: evs,
		Create: &engine.Execution{Name: "long", StateMachineArn: memSM, StartDate: memT0}})
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	page, next, err := s.GetHistory(ctx, arn, engine.HistoryInput{})
	if err != nil || len(page) != 100 || next == "" {
		t.Fatalf("GetHistory = %d events, token %q, %v; want 100 and a token", len(page), next, err)
	}
	page, next, err = s.GetHistory(ctx, arn, engine.HistoryInput{NextToken: next})
	if err != nil || len(page) != 50 || next != "" || page[0].ID != 101 {
		t.Fatalf("GetHistory page 2 = %d events, token %q, %v; want 50 from id 101 and no token", len(page), next, err)
	}
}

// Tags given twice in one request count once against the limit.
func TestMemStoreTagLimitCountsKeysOnce(t *testing.T) {
	s := newMemMachine(t)
	ctx := context.Background()
	if err := s.TagStateMachine(ctx, memSM, []engine.Tag{{Key: "k", Value: "1"}, {Key: "k", Value: "2"}}, 1); err != nil {
		t.Fatalf("TagStateMachine(one key twice, limit 1): %v", err)
	}
	tags, err := s.ListStateMachineTags(ctx, memSM)
	if err != nil || fmt.Sprint(tags) != "[{k 2}]" {
		t.Errorf("tags = %v, %v; want [{k 2}]", tags, err)
	}
}

// A terminal commit drops the run state, the one it carries included: an
// execution made RUNNING again afterwards (a redrive) has none until it
// commits one.
func TestMemStoreTerminalCommitIgnoresRunState(t *testing.T) {
	s := newMemMachine(t)
	ctx := context.Background()
	arn := memExecArn("done")
	commits := []engine.Transition{
		{ExecutionArn: arn, RunState: []byte(`{"state":"A"}`),
			Create: &engine.Execution{Name: "done", StateMachineArn: memSM, StartDate: memT0}},
		{ExecutionArn: arn, RunState: []byte(`{"state":"B"}`), WakeAt: memT0.Add(time.Hour),
			Update: &engine.ExecutionUpdate{Status: engine.StatusFailed, StopDate: memT0}},
		{ExecutionArn: arn, Update: &engine.ExecutionUpdate{Status: engine.StatusRunning}},
	}
	for i, c := range commits {
		if err := s.Commit(ctx, c); err != nil {
			t.Fatalf("Commit %d: %v", i, err)
		}
	}
	if run, wake, err := s.GetRunState(ctx, arn); !errors.Is(err, engine.ErrExecutionNotRunning) {
		t.Errorf("GetRunState = %s, %v, %v; want ErrExecutionNotRunning", run, wake, err)
	}
	var pending []engine.Pending
	if err := s.ListPending(ctx, func(p engine.Pending) error { pending = append(pending, p); return nil }); err != nil || len(pending) != 0 {
		t.Errorf("ListPending = %v, %v; want none", pending, err)
	}
}

// The store keeps a copy of a committed run state: the caller may reuse
// its slice.
func TestMemStoreCopiesCommittedRunState(t *testing.T) {
	s := newMemMachine(t)
	ctx := context.Background()
	arn := memExecArn("copy")
	run := []byte(`{"state":"A"}`)
	err := s.Commit(ctx, engine.Transition{ExecutionArn: arn, RunState: run,
		Create: &engine.Execution{Name: "copy", StateMachineArn: memSM, StartDate: memT0}})
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	copy(run, `{"state":"Z"}`)
	if got, _, err := s.GetRunState(ctx, arn); err != nil || string(got) != `{"state":"A"}` {
		t.Errorf("GetRunState = %s, %v; want {\"state\":\"A\"}", got, err)
	}
}

// ListExecutions lists by start date, newest first, not by creation: an
// execution created later with an earlier start date (the clock went
// back) comes after the ones that started after it.
func TestMemStoreListExecutionsByStartDate(t *testing.T) {
	s := newMemMachine(t)
	ctx := context.Background()
	for _, e := range []struct {
		name  string
		start time.Time
	}{{"noon", memT0.Add(time.Hour)}, {"early", memT0}, {"late", memT0.Add(2 * time.Hour)}} {
		err := s.Commit(ctx, engine.Transition{ExecutionArn: memExecArn(e.name),
			Create: &engine.Execution{Name: e.name, StateMachineArn: memSM, StartDate: e.start}})
		if err != nil {
			t.Fatalf("Commit %s: %v", e.name, err)
		}
	}
	page, _, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: memSM})
	if err != nil {
		t.Fatalf("ListExecutions: %v", err)
	}
	var names []string
	for _, e := range page {
		names = append(names, e.Name)
	}
	if got, want := fmt.Sprint(names), "[late noon early]"; got != want {
		t.Errorf("ListExecutions = %s, want %s", got, want)
	}
}

// A paging token that is not an offset into the list, a negative one or
// one past its end among them, is ErrInvalidToken, never a panic or a
// page from elsewhere.
func TestMemStoreRefusesBadTokens(t *testing.T) {
	s := newMemMachine(t)
	ctx := context.Background()
	arn := memExecArn("short")
	err := s.Commit(ctx, engine.Transition{ExecutionArn: arn, Events: []engine.Event{{ID: 1, Type: "ExecutionStarted", Timestamp: memT0}},
		Create: &engine.Execution{Name: "short", StateMachineArn: memSM, StartDate: memT0}})
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	for _, tok := range []string{"-1", "x", "2"} {
		if _, _, err := s.GetHistory(ctx, arn, engine.HistoryInput{NextToken: tok}); !errors.Is(err, engine.ErrInvalidToken) {
			t.Errorf("GetHistory with token %q: %v, want ErrInvalidToken", tok, err)
		}
		if _, _, err := s.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: memSM, NextToken: tok}); !errors.Is(err, engine.ErrInvalidToken) {
			t.Errorf("ListExecutions with token %q: %v, want ErrInvalidToken", tok, err)
		}
	}
}
