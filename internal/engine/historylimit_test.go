package engine_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// checkHistoryLimitFailure checks the end AWS gives an execution whose
// history reaches limit events: event limit is ExecutionFailed with
// States.Runtime, following event limit-1, the last the machine produced.
func checkHistoryLimitFailure(t *testing.T, eng *engine.Engine, x engine.Execution, limit int) {
	t.Helper()
	checkLimitFailure(t, eng, x, limit, fmt.Sprintf("The execution reached the maximum number of history events (%d).", limit))
}

// checkLimitFailure checks that x failed as checkHistoryLimitFailure
// describes, with the cause cause.
func checkLimitFailure(t *testing.T, eng *engine.Engine, x engine.Execution, limit int, cause string) {
	t.Helper()
	if x.Status != engine.StatusFailed || x.Error != "States.Runtime" || x.Cause != cause {
		t.Errorf("execution = %s %q %q, want FAILED %q %q", x.Status, x.Error, x.Cause, "States.Runtime", cause)
	}
	hist := history(t, eng, x.Arn)
	if len(hist) != limit {
		t.Fatalf("got %d history events, want %d", len(hist), limit)
	}
	last := hist[len(hist)-1]
	if last.Type != "ExecutionFailed" || last.PreviousEventID != int64(limit-1) ||
		last.Details.Error != "States.Runtime" || last.Details.Cause != cause {
		t.Errorf("event %d = %s (previous %d, error %q, cause %q), want ExecutionFailed (previous %d, States.Runtime, %q)",
			last.ID, last.Type, last.PreviousEventID, last.Details.Error, last.Details.Cause, limit-1, cause)
	}
	for _, ev := range hist[:len(hist)-1] {
		if ev.Type == "ExecutionFailed" || ev.Type == "ExecutionSucceeded" {
			t.Errorf("event %d is %s, before the end", ev.ID, ev.Type)
		}
	}
}

// loopEnd returns the states C and E of a loop: C goes back to state
// from, E ends the execution when its input has a "stop" field (none of
// the tests' inputs has).
func loopEnd(from string) string {
	return `"C":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"E"}],"Default":"` + from + `"},
		"E":{"Type":"Succeed"}`
}

// TestHistoryLimit: an execution whose history reaches the limit fails
// as on AWS, whatever its states do; the events of Map iterations and
// Parallel branches count, Retry and Catch do not see the failure, and
// no task is dispatched whose TaskStarted is beyond the limit.
func TestHistoryLimit(t *testing.T) {
	const task = "arn:aws:states:::test:task"
	tests := []struct {
		name string
		def  string
		// taskFails makes the task fail with "Boom".
		taskFails bool
	}{
		{name: "pass loop", def: `{"StartAt":"A","States":{
			"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"C"},` + loopEnd("A") + `}}`},
		{name: "choice loop", def: `{"StartAt":"C","States":{` + loopEnd("C") + `}}`},
		{name: "task loop caught", def: `{"StartAt":"T","States":{
			"T":{"Type":"Task","Resource":"` + task + `","Next":"C","Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}]},` + loopEnd("T") + `}}`},
		{name: "task failures retried and caught", taskFails: true, def: `{"StartAt":"T","States":{
			"T":{"Type":"Task","Resource":"` + task + `","Next":"C",
				"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"BackoffRate":1,"MaxAttempts":3}],
				"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}]},` + loopEnd("T") + `}}`},
		{name: "parallel loop", def: `{"StartAt":"P","States":{
			"P":{"Type":"Parallel","Next":"C","Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"Branches":[
				{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
				{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"` + task + `","End":true}}}]},` + loopEnd("P") + `}}`},
		{name: "map loop", def: `{"StartAt":"M","States":{
			"M":{"Type":"Map","ItemsPath":"$.items","ResultPath":null,"Next":"C",
				"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":99}],
				"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}}},` + loopEnd("M") + `}}`},
	}
	for _, tt := range tests {
		for _, limit := range []int{100, 101, 102, 103} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, limit), func(t *testing.T) {
				var dispatched atomic.Int64
				d := engine.NewDispatcher()
				d.Handle(task, engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
					dispatched.Add(1)
					if tt.taskFails {
						return nil, &engine.TaskError{Name: "Boom", Cause: "boom"}
					}
					return map[string]any{}, nil
				}})
				eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Now()), MaxHistoryEvents: limit, CheckpointEvents: 7})
				sm := create(t, eng, tt.def)
				x := run(t, eng, sm.Arn, "x", `{"items":[1,2,3]}`)
				checkHistoryLimitFailure(t, eng, x, limit)
				started := int64(count(eventTypes(t, eng, x.Arn), "TaskStarted"))
				if got := dispatched.Load(); got != started {
					t.Errorf("the task was dispatched %d times, want %d (its TaskStarted events)", got, started)
				}
			})
		}
	}
}

// finalCrashStore crashes, as a killed process would, at the commit that
// ends an execution: that commit and all later ones are lost.
type finalCrashStore struct {
	engine.Store
	crashed atomic.Bool
}

func (s *finalCrashStore) Commit(ctx context.Context, t engine.Transition) error {
	if t.Update != nil && t.Update.Status != engine.StatusRunning {
		s.crashed.Store(true)
	}
	if s.crashed.Load() {
		return engine.ErrStoreClosed
	}
	return s.Store.Commit(ctx, t)
}

// TestHistoryLimitRestart: the history limit's failure is durable. A
// crash at the commit that records it leaves the execution running from
// its last checkpoint; the next engine ends it the same way, with one
// ExecutionFailed at the limit; a further restart finds nothing to resume
// and the history unchanged.
func TestHistoryLimitRestart(t *testing.T) {
	ctx := context.Background()
	const limit = 120
	sq, err := sqlitestore.OpenEngineStore(ctx, filepath.Join(t.TempDir(), "e.db"), sqlitestore.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sq.Close() })
	opts := engine.Options{MaxHistoryEvents: limit, CheckpointEvents: 10}
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"C"},` + loopEnd("A") + `}}`

	crash := &finalCrashStore{Store: sq}
	o1 := opts
	o1.Store = crash
	eng1 := engine.New(o1)
	sm := create(t, eng1, def)
	x, err := eng1.StartExecution(ctx, sm.Arn, "x", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !crash.crashed.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	_ = eng1.Close()
	if !crash.crashed.Load() {
		t.Fatal("the execution did not reach its end")
	}
	if got, err := sq.GetExecution(ctx, x.Arn); err != nil || got.Status != engine.StatusRunning {
		t.Fatalf("after the crash the execution is %s, %v; want RUNNING", got.Status, err)
	}

	o2 := opts
	o2.Store = sq
	eng2 := engine.New(o2)
	if n, err := eng2.Recover(ctx); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1 execution", n, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	done, err := eng2.Wait(wctx, x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	checkHistoryLimitFailure(t, eng2, done, limit)
	_ = eng2.Close()

	o3 := opts
	o3.Store = sq
	eng3 := newEngine(t, o3)
	if n, err := eng3.Recover(ctx); err != nil || n != 0 {
		t.Fatalf("Recover after the end = %d, %v; want 0 executions", n, err)
	}
	got, err := eng3.DescribeExecution(ctx, x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	checkHistoryLimitFailure(t, eng3, got, limit)
}

// TestHistoryLimitStandardOnly: Step Functions bounds the history of a
// STANDARD execution only (an Express execution's is unlimited), so the
// same counted loop fails at the limit on a STANDARD machine and ends on
// an EXPRESS one (below the engine's own EXPRESS limit).
func TestHistoryLimitStandardOnly(t *testing.T) {
	const limit = 100
	def := `{"StartAt":"I","States":{
		"I":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},"Next":"C"},
		"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThanEquals":60,"Next":"E"}],"Default":"I"},
		"E":{"Type":"Succeed"}}}`
	for _, typ := range []string{"STANDARD", "EXPRESS"} {
		t.Run(typ, func(t *testing.T) {
			eng := newEngine(t, engine.Options{MaxHistoryEvents: limit})
			sm, err := eng.CreateStateMachineOfType(context.Background(), "sm", typ, def, "")
			if err != nil {
				t.Fatal(err)
			}
			x := run(t, eng, sm.Arn, "x", `{"n":0}`)
			if typ == "STANDARD" {
				checkHistoryLimitFailure(t, eng, x, limit)
				return
			}
			if n := len(history(t, eng, x.Arn)); x.Status != engine.StatusSucceeded || n <= limit {
				t.Errorf("EXPRESS execution %s %s with %d events, want SUCCEEDED past %d", x.Status, x.Error, n, limit)
			}
		})
	}
}

// An EXPRESS execution's history, which AWS does not record, is bounded
// by the engine's own limit (Options.MaxExpressHistoryEvents): the loop
// that ends on AWS fails at it as a STANDARD execution fails at the
// quota, with a cause that names the local limit and how to raise it.
func TestHistoryLimitExpress(t *testing.T) {
	const limit = 100
	def := `{"StartAt":"I","States":{
		"I":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},"Next":"C"},
		"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThanEquals":60,"Next":"E"}],"Default":"I"},
		"E":{"Type":"Succeed"}}}`
	eng := newEngine(t, engine.Options{MaxExpressHistoryEvents: limit})
	sm, err := eng.CreateStateMachineOfType(context.Background(), "sm", "EXPRESS", def, "")
	if err != nil {
		t.Fatal(err)
	}
	x := run(t, eng, sm.Arn, "x", `{"n":0}`)
	checkLimitFailure(t, eng, x, limit, "The execution reached the maximum number of history events (100) that this local runtime records for an EXPRESS execution. "+
		"AWS records no EXPRESS history and has no such limit; raise it with stepmon serve --express-max-events (engine.Options.MaxExpressHistoryEvents).")
}

// A definition's TimeoutSeconds beyond what a time.Duration holds is no
// deadline: it overflowed into the past and timed every execution out.
func TestHugeTimeoutSeconds(t *testing.T) {
	eng := newEngine(t, engine.Options{})
	sm := create(t, eng, `{"TimeoutSeconds":10000000000,"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	if x := run(t, eng, sm.Arn, "x", `{}`); x.Status != engine.StatusSucceeded {
		t.Errorf("execution %s %s %s, want SUCCEEDED", x.Status, x.Error, x.Cause)
	}
}
