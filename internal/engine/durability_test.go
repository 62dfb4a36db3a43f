package engine_test

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// crashStore is a store whose process crashes: once crashed is set, it
// commits nothing more, as a process killed at that moment would not.
// rewrite, when set, rewrites every run state it commits (into one an
// earlier engine wrote).
type crashStore struct {
	engine.Store
	crashed atomic.Bool
	rewrite func(run []byte) []byte
}

func (s *crashStore) Commit(ctx context.Context, t engine.Transition) error {
	if s.crashed.Load() {
		return engine.ErrStoreClosed
	}
	if s.rewrite != nil && t.RunState != nil {
		t.RunState = s.rewrite(t.RunState)
	}
	return s.Store.Commit(ctx, t)
}

// crash stops eng as a killed process stops: nothing more is committed.
func (s *crashStore) crash(eng *engine.Engine) {
	s.crashed.Store(true)
	_ = eng.Close()
}

// startCrashable starts execution "x" of def on an engine over store and
// returns the engine and the execution's ARN.
func startCrashable(t *testing.T, store *crashStore, d *engine.Dispatcher, def string) (*engine.Engine, string) {
	t.Helper()
	eng := engine.New(engine.Options{Store: store, Dispatcher: d})
	sm := create(t, eng, def)
	x, err := eng.StartExecution(context.Background(), sm.Arn, "x", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	return eng, x.Arn
}

// restart starts a new engine on what the crashed one committed and
// recovers its executions.
func restart(t *testing.T, store engine.Store, d *engine.Dispatcher) *engine.Engine {
	t.Helper()
	eng := engine.New(engine.Options{Store: store, Dispatcher: d})
	if n, err := eng.Recover(context.Background()); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1 execution", n, err)
	}
	return eng
}

func history(t *testing.T, eng *engine.Engine, arn string) []engine.Event {
	t.Helper()
	hist, err := eng.History(context.Background(), arn)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	for i, ev := range hist {
		if ev.ID != int64(i+1) {
			t.Errorf("event %d has id %d, want %d (ids without gaps)", i, ev.ID, i+1)
		}
	}
	return hist
}

func eventAt(t *testing.T, hist []engine.Event, typ string) time.Time {
	t.Helper()
	for _, ev := range hist {
		if ev.Type == typ {
			return ev.Timestamp
		}
	}
	t.Fatalf("no %s event in the history", typ)
	return time.Time{}
}

// A task in flight at a crash and dispatched again after the restart
// gets its whole TimeoutSeconds or HeartbeatSeconds again, counted from
// the restart: the time the runtime was down is not charged to it, even
// when it is longer than the limit. The run state does not record when
// the task started; one from an engine that recorded it (taskStartedAt)
// is treated alike.
func TestTaskTimeoutSurvivesRestart(t *testing.T) {
	tests := []struct {
		name      string
		limit     string        // the task's time limit field
		restartAt time.Duration // after the start; the crash is at 2 s
		oldRun    bool          // run states with the task's start time
		want      string        // the error caught
		timedOut  time.Duration // TaskTimedOut after TaskStarted
		calls     int32         // dispatches after the restart
	}{
		{"timeout", `"TimeoutSeconds": 3`, 2300 * time.Millisecond, false, "States.Timeout", 5300 * time.Millisecond, 1},
		{"heartbeat", `"HeartbeatSeconds": 3`, 2300 * time.Millisecond, false, "States.HeartbeatTimeout", 5300 * time.Millisecond, 1},
		{"down longer than the limit", `"TimeoutSeconds": 3`, 5 * time.Minute, false, "States.Timeout", 5*time.Minute + 3*time.Second, 1},
		{"heartbeat, down longer than the limit", `"HeartbeatSeconds": 3`, 5 * time.Minute, false, "States.HeartbeatTimeout", 5*time.Minute + 3*time.Second, 1},
		{"old run state", `"TimeoutSeconds": 3`, 2300 * time.Millisecond, true, "States.Timeout", 5300 * time.Millisecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				def := `{"StartAt": "T", "States": {
					"T": {"Type": "Task", "Resource": "arn:aws:states:::slow", ` + tt.limit + `,
						"Catch": [{"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "Next": "Caught"}], "End": true},
					"Caught": {"Type": "Pass", "End": true}}}`
				var calls atomic.Int32
				dispatcher := func() *engine.Dispatcher {
					d := engine.NewDispatcher()
					d.Handle("arn:aws:states:::slow", engine.Route{Handler: func(ctx context.Context, _ engine.TaskRequest) (any, error) {
						calls.Add(1)
						select {
						case <-time.After(10 * time.Second):
							return "done", nil
						case <-ctx.Done():
							return nil, ctx.Err()
						}
					}})
					return d
				}
				store := &crashStore{Store: engine.NewMemStore()}
				if tt.oldRun {
					store.rewrite = func(run []byte) []byte {
						started := time.Now().UTC().Format(time.RFC3339Nano)
						return append(append(slices.Clip(bytes.TrimSuffix(run, []byte("}"))), `,"taskStartedAt":"`+started+`"`...), '}')
					}
				}
				eng1, x := startCrashable(t, store, dispatcher(), def)
				time.Sleep(2 * time.Second) // after the task's in-flight commit
				store.crash(eng1)
				run, _, err := store.GetRunState(context.Background(), x)
				if err != nil {
					t.Fatal(err)
				}
				if got := bytes.Contains(run, []byte(`"taskStartedAt"`)); got != tt.oldRun {
					t.Errorf("run state of the task in flight records its start: %v, want %v (nothing reads it)", got, tt.oldRun)
				}
				time.Sleep(tt.restartAt - 2*time.Second)
				calls.Store(0)
				eng2 := restart(t, store.Store, dispatcher())
				defer eng2.Close()
				done, err := eng2.Wait(context.Background(), x)
				if err != nil || done.Status != engine.StatusSucceeded || !strings.Contains(done.Output, `"Error":"`+tt.want+`"`) {
					t.Fatalf("execution = %+v, %v; want SUCCEEDED, %s caught", done, err, tt.want)
				}
				hist := history(t, eng2, x)
				if got := eventAt(t, hist, "TaskTimedOut").Sub(eventAt(t, hist, "TaskStarted")); got != tt.timedOut {
					t.Errorf("TaskTimedOut %v after TaskStarted, want %v", got, tt.timedOut)
				}
				if got := calls.Load(); got != tt.calls {
					t.Errorf("task dispatched %d times after the restart, want %d", got, tt.calls)
				}
				if n := count(eventTypes(t, eng2, x), "TaskStarted"); n != 1 {
					t.Errorf("%d TaskStarted events, want 1", n)
				}
			})
		})
	}
}

// mapOrParallel is a top-level Map (over [1]) or Parallel state named P,
// whose one branch or iteration is inner, with the given other fields.
// The Map uses JSONata, whose Items lists the items in the definition.
func mapOrParallel(kind, inner, fields string) string {
	if kind == "Map" {
		return `"P": {"Type": "Map", "QueryLanguage": "JSONata", "Items": [1], ` + fields + `, "ItemProcessor": ` + inner + `}`
	}
	return `"P": {"Type": "Parallel", ` + fields + `, "Branches": [` + inner + `]}`
}

// A top-level Map or Parallel state's own Retry survives a crash during
// its retry interval: it retries at the wake-up time it committed, with
// the attempts it counted, and runs at most MaxAttempts+1 times in all.
func TestMapParallelRetrySurvivesRestart(t *testing.T) {
	for _, kind := range []string{"Parallel", "Map"} {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				def := `{"StartAt": "P", "States": {` + mapOrParallel(kind,
					`{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::fail", "End": true}}}`,
					`"Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 4, "MaxAttempts": 2, "BackoffRate": 1}], "End": true`) + `}}`
				start := time.Now()
				var runs []time.Duration // guarded by the bubble: one run at a time
				dispatcher := func() *engine.Dispatcher {
					d := engine.NewDispatcher()
					d.Handle("arn:aws:states:::fail", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
						runs = append(runs, time.Since(start))
						return nil, &engine.TaskError{Name: "Broken", Cause: "always"}
					}})
					return d
				}
				store := &crashStore{Store: engine.NewMemStore()}
				eng1, x := startCrashable(t, store, dispatcher(), def)
				time.Sleep(6 * time.Second) // in the second retry interval, 4 s to 8 s
				store.crash(eng1)
				synctest.Wait()
				time.Sleep(500 * time.Millisecond)
				eng2 := restart(t, store.Store, dispatcher())
				defer eng2.Close()
				done, err := eng2.Wait(context.Background(), x)
				if err != nil || done.Status != engine.StatusFailed || done.Error != "Broken" {
					t.Fatalf("execution = %+v, %v; want FAILED with Broken", done, err)
				}
				want := []time.Duration{0, 4 * time.Second, 8 * time.Second}
				if !slices.Equal(runs, want) {
					t.Errorf("the branch ran at %v, want %v", runs, want)
				}
				types := eventTypes(t, eng2, x)
				if n := count(types, kind+"StateStarted"); n != 3 {
					t.Errorf("%d %sStateStarted events, want 3: %v", n, kind, types)
				}
				if n := count(types, "TaskFailed"); n != 3 {
					t.Errorf("%d TaskFailed events, want 3: %v", n, types)
				}
			})
		})
	}
}

// After a crash a top-level Map or Parallel state that ran for 1 s runs
// again from its entry: the task before it, which ended before the crash,
// is not run again. Its history holds one complete run of the state.
func TestMapParallelRerunsFromItsEntry(t *testing.T) {
	for _, kind := range []string{"Parallel", "Map"} {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				def := `{"StartAt": "T", "States": {
					"T": {"Type": "Task", "Resource": "arn:aws:states:::work", "Next": "P"},
					` + mapOrParallel(kind, `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": true}}}`, `"End": true`) + `}}`
				start := time.Now()
				var calls atomic.Int32
				dispatcher := func() *engine.Dispatcher {
					d := engine.NewDispatcher()
					d.Handle("arn:aws:states:::work", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
						calls.Add(1)
						time.Sleep(1500 * time.Millisecond)
						return "ok", nil
					}})
					return d
				}
				store := &crashStore{Store: engine.NewMemStore()}
				eng1, x := startCrashable(t, store, dispatcher(), def)
				time.Sleep(3 * time.Second) // the state has run from 1.5 s
				store.crash(eng1)
				synctest.Wait()
				eng2 := restart(t, store.Store, dispatcher())
				defer eng2.Close()
				done, err := eng2.Wait(context.Background(), x)
				if err != nil || done.Status != engine.StatusSucceeded {
					t.Fatalf("execution = %+v, %v; want SUCCEEDED", done, err)
				}
				if n := calls.Load(); n != 1 {
					t.Errorf("the task before the %s state ran %d times, want 1", kind, n)
				}
				// Run again from the restart at 3 s: its Wait takes 3 s.
				if got := time.Since(start); got != 6*time.Second {
					t.Errorf("execution ended after %v, want 6s", got)
				}
				types := eventTypes(t, eng2, x)
				for _, typ := range []string{"TaskScheduled", "TaskSucceeded", kind + "StateEntered", kind + "StateStarted",
					"WaitStateEntered", "WaitStateExited", kind + "StateSucceeded", kind + "StateExited", "ExecutionSucceeded"} {
					if n := count(types, typ); n != 1 {
						t.Errorf("%d %s events, want 1: %v", n, typ, types)
					}
				}
			})
		})
	}
}

// A top-level Map or Parallel state that ends within 1 s costs no commit
// of its own; a longer one costs one while it runs.
func TestMapParallelRunningCommit(t *testing.T) {
	for _, tt := range []struct {
		kind    string
		seconds int
		commits int32 // start, (running,) end
	}{{"Parallel", 0, 2}, {"Map", 0, 2}, {"Parallel", 2, 3}, {"Map", 2, 3}} {
		t.Run(tt.kind+"/"+strconv.Itoa(tt.seconds)+"s", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := &commitCounter{Store: engine.NewMemStore()}
				eng := engine.New(engine.Options{Store: store})
				defer eng.Close()
				def := `{"StartAt": "P", "States": {` + mapOrParallel(tt.kind,
					`{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": `+strconv.Itoa(tt.seconds)+`, "End": true}}}`, `"End": true`) + `}}`
				sm := create(t, eng, def)
				before := store.commits.Load()
				x := run(t, eng, sm.Arn, "x", `{}`)
				if x.Status != engine.StatusSucceeded {
					t.Fatalf("execution = %+v", x)
				}
				if got := store.commits.Load() - before; got != tt.commits {
					t.Errorf("%d commits, want %d", got, tt.commits)
				}
				want := []string{"ExecutionStarted", tt.kind + "StateEntered", tt.kind + "StateStarted"}
				if tt.kind == "Map" {
					want = append(want, "MapIterationStarted")
				}
				want = append(want, "WaitStateEntered", "WaitStateExited")
				if tt.kind == "Map" {
					want = append(want, "MapIterationSucceeded")
				}
				want = append(want, tt.kind+"StateSucceeded", tt.kind+"StateExited", "ExecutionSucceeded")
				if got := eventTypes(t, eng, x.Arn); !slices.Equal(got, want) {
					t.Errorf("history = %v, want %v", got, want)
				}
			})
		})
	}
}

type commitCounter struct {
	engine.Store
	commits atomic.Int32
}

func (s *commitCounter) Commit(ctx context.Context, t engine.Transition) error {
	s.commits.Add(1)
	return s.Store.Commit(ctx, t)
}

// A Map or Parallel state that runs for over a second, with variables
// assigned before it and by it: the commit of its running state encodes
// the variables while the state ends and assigns its own. Under -race
// this failed for Map, whose Assign ran before the running commit was
// settled (a concurrent map iteration and write can crash the process).
func TestMapParallelRunningCommitWithAssign(t *testing.T) {
	for _, kind := range []string{"Parallel", "Map"} {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := engine.New(engine.Options{Store: engine.NewMemStore()})
				defer eng.Close()
				def := `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "P"}, ` +
					mapOrParallel(kind, `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "End": true}}}`,
						`"Assign": {"c": 3}, "Next": "Out"`) +
					`, "Out": {"Type": "Pass", "Parameters": {"a.$": "$a", "c.$": "$c"}, "End": true}}}`
				sm := create(t, eng, def)
				x := run(t, eng, sm.Arn, "x", `{}`)
				if x.Status != engine.StatusSucceeded || x.Output != `{"a":1,"c":3}` {
					t.Errorf("execution = %s %s %s, want SUCCEEDED with {\"a\":1,\"c\":3}", x.Status, x.Output, x.Error)
				}
			})
		})
	}
}
