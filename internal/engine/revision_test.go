package engine

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// An execution runs the revision of its state machine that it started
// on, to its end: after the machine is updated and the engine restarts,
// the waiting execution resumes on its own revision, and
// StateMachineForExecution describes that revision.
func TestResumeRunsTheStartingRevision(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := NewMemStore()
		eng := New(Options{Store: store})
		const rev1 = `{"StartAt": "W", "States": {
			"W": {"Type": "Wait", "Seconds": 10, "Next": "Old"},
			"Old": {"Type": "Pass", "Result": "old", "End": true}}}`
		const rev2 = `{"StartAt": "New", "States": {"New": {"Type": "Pass", "Result": "new", "End": true}}}`
		sm, err := eng.CreateStateMachine(ctx, "m", rev1, "")
		if err != nil {
			t.Fatal(err)
		}
		x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the execution waits in W
		if err := eng.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := store.UpdateStateMachine(ctx, sm.Arn, StateMachineUpdate{Definition: rev2}, time.Now()); err != nil {
			t.Fatal(err)
		}

		eng = New(Options{Store: store})
		defer eng.Close()
		if _, err := eng.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := eng.Wait(ctx, x.Arn)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != StatusSucceeded || got.Output != `"old"` {
			t.Errorf("execution = %s %s (%s: %s), want SUCCEEDED \"old\" (revision 1)", got.Status, got.Output, got.Error, got.Cause)
		}
		desc, err := eng.StateMachineForExecution(ctx, x.Arn)
		if err != nil {
			t.Fatal(err)
		}
		if desc.Revision != 1 || desc.Definition != rev1 {
			t.Errorf("StateMachineForExecution = revision %d %s, want revision 1", desc.Revision, desc.Definition)
		}
	})
}
