package engine

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// The engine keeps the parses of a state machine's latest revisions, not
// one for each revision ever run: a machine updated and run 60 times
// kept 60 parses. An execution of a revision whose parse was dropped
// still runs to its end.
func TestMachineCacheKeepsLatestRevisions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		e := New(Options{})
		defer e.Close()
		def := func(n int) string {
			return fmt.Sprintf(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"Next":"P"},"P":{"Type":"Pass","Result":%d,"End":true}}}`, n)
		}
		sm, err := e.CreateStateMachine(ctx, "m", def(1), "")
		if err != nil {
			t.Fatal(err)
		}
		first, err := e.StartExecution(ctx, sm.Arn, "first", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // in its Wait, on revision 1
		const updates = 60
		for i := 2; i <= updates; i++ {
			if _, err := e.Store().UpdateStateMachine(ctx, sm.Arn, StateMachineUpdate{Definition: def(i)}, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := e.StartExecution(ctx, sm.Arn, fmt.Sprint("x", i), `{}`); err != nil {
				t.Fatal(err)
			}
		}
		cached := 0
		e.machines.Range(func(_, v any) bool {
			if v.(*machineEntry).sm.Arn == sm.Arn {
				cached++
			}
			return true
		})
		// The latest cachedRevisions (revision 1's execution, waiting,
		// parses its revision again when it resumes).
		if cached > cachedRevisions {
			t.Errorf("%d parses of the machine's revisions kept, want at most %d", cached, cachedRevisions)
		}
		x, err := e.Wait(ctx, first.Arn)
		if err != nil {
			t.Fatal(err)
		}
		if x.Status != StatusSucceeded || x.Output != "1" {
			t.Errorf("the execution of revision 1 ended %s with %s, want SUCCEEDED with 1", x.Status, x.Output)
		}
	})
}
