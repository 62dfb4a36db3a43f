package engine_test

import (
	"context"
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
