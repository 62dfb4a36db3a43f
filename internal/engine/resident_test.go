package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// stores returns a fresh store of every kind, by name.
func stores(t *testing.T) map[string]func() engine.Store {
	return map[string]func() engine.Store{
		"mem": func() engine.Store { return engine.NewMemStore() },
		"sqlite": func() engine.Store {
			s, err := sqlitestore.OpenEngineStore(context.Background(), filepath.Join(t.TempDir(), "e.db"), sqlitestore.EngineOptions{})
			if err != nil {
				t.Fatalf("OpenEngineStore: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
}

// residentDef loops through a retried Task, variables, $$ and Waits of
// growing length until $.n reaches 4.
const residentDef = `{"StartAt": "Init", "States": {
	"Init": {"Type": "Pass", "Assign": {"round": 0},
		"Parameters": {"n": 0, "started.$": "$$.Execution.StartTime", "in.$": "$$.Execution.Input"}, "Next": "Check"},
	"Check": {"Type": "Task", "Resource": "arn:aws:states:::check", "Parameters": {"n.$": "$.n", "round.$": "$round"},
		"Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 1}],
		"ResultSelector": {"n.$": "$.n", "meta.$": "$.meta", "entered.$": "$$.State.EnteredTime", "retries.$": "$$.State.RetryCount"},
		"Assign": {"round.$": "$.n"}, "Next": "Enough"},
	"Enough": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 4, "Next": "Finish"}], "Default": "Pause"},
	"Pause": {"Type": "Wait", "SecondsPath": "$.n", "Next": "Nap"},
	"Nap": {"Type": "Wait", "Seconds": 2, "Next": "Check"},
	"Finish": {"Type": "Pass", "Parameters": {"n.$": "$.n", "round.$": "$round", "in.$": "$$.Execution.Input"}, "End": true}}}`

// runResidentDef runs residentDef with the given task result's meta value on
// an engine with a store from newStore and returns the history as JSON,
// the final record and how many resumes were resident.
func runResidentDef(t *testing.T, newStore func() engine.Store, window time.Duration, residentMax int, meta any) ([]byte, engine.Execution, int64) {
	t.Helper()
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::check", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
		n := req.Input.(map[string]any)["n"].(float64)
		if int(n)%2 == 1 && req.Attempt == 0 {
			return nil, &engine.TaskError{Name: "Flaky", Cause: "<odd> & \"flaky\" \u2028"}
		}
		return map[string]any{"n": n + 1, "meta": meta}, nil
	}})
	eng := newEngine(t, engine.Options{Store: newStore(), Dispatcher: d, ResidentWindow: window, ResidentMax: residentMax,
		Clock: engine.NewVirtualClock(time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC))})
	sm := create(t, eng, residentDef)
	done := run(t, eng, sm.Arn, "x", `{"who": "é <b>", "list": [1, 2.5, null, true]}`)
	hist, err := eng.History(context.Background(), done.Arn)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(hist, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return b, done, engine.ResidentHits(eng)
}

// A resumed resident execution writes exactly the history of one resumed
// from the store, on every store, whether it kept its run state decoded
// or encoded. Snapshots holding values the store's JSON would change
// (here a struct from the task) are kept encoded only.
func TestResidentResumeSameAsStore(t *testing.T) {
	type point struct{ X, Y int }
	metas := map[string]struct {
		meta any
		// resumes from memory (6 waits and 2 retry intervals in all),
		// with the decoded residents' default room and without any
		decoded, encoded int64
	}{
		"plain JSON values": {map[string]any{"ok": true, "s": "a\tb", "f": 0.1}, 8, 8},
		// The Pause waits hold the task's struct: they are never decoded
		// residents but encoded ones.
		"Go values": {point{1, 2}, 8, 8},
	}
	for storeName, newStore := range stores(t) {
		for metaName, m := range metas {
			t.Run(storeName+"/"+metaName, func(t *testing.T) {
				fromStore, recS, hitsS := runResidentDef(t, newStore, -1, 0, m.meta)
				if hitsS != 0 {
					t.Errorf("resident window disabled: %d resident resumes, want 0", hitsS)
				}
				for _, mode := range []struct {
					name        string
					residentMax int
					hits        int64
				}{
					{"decoded", 0, m.decoded},
					{"encoded", -1, m.encoded},
				} {
					resident, recR, hitsR := runResidentDef(t, newStore, 0, mode.residentMax, m.meta)
					if hitsR != mode.hits {
						t.Errorf("%s: resident resumes: %d, want %d", mode.name, hitsR, mode.hits)
					}
					if string(resident) != string(fromStore) {
						t.Errorf("%s: history differs:\nresident:\n%s\nfrom the store:\n%s", mode.name, resident, fromStore)
					}
					if recR.Status != engine.StatusSucceeded || recR.Status != recS.Status || recR.Output != recS.Output {
						t.Errorf("%s: resident: %s %s; from the store: %s %s", mode.name, recR.Status, recR.Output, recS.Status, recS.Output)
					}
				}
			})
		}
	}
}

// manualClock is the wall clock moved forward by hand; the engine cannot
// jump it (it is no VirtualClock), so an execution stays in its Wait
// until the test advances the clock.
type manualClock struct{ offset atomic.Int64 }

func (c *manualClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *manualClock) SleepUntil(ctx context.Context, t time.Time) error {
	return engine.RealClock{}.SleepUntil(ctx, t.Add(-time.Duration(c.offset.Load())))
}

// advance moves the clock forward and makes the engine look at it.
func (c *manualClock) advance(eng *engine.Engine, d time.Duration) {
	c.offset.Add(int64(d))
	engine.Poke(eng)
}

// settle waits until no execution of eng runs and timers timers are armed.
func settle(t *testing.T, eng *engine.Engine, timers int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		quiet, n := engine.Quiet(eng)
		if quiet && n == timers {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine not settled: quiet %v, %d timers, want %d", quiet, n, timers)
		}
		time.Sleep(time.Millisecond)
	}
}

// StopExecution during a resident wait aborts the execution: its run
// state, decoded or encoded, is dropped and, when the wait would have
// ended, it does not run.
func TestStopDuringResidentWait(t *testing.T) {
	for storeName, newStore := range stores(t) {
		for _, residentMax := range []int{0, -1} {
			t.Run(fmt.Sprintf("%s/ResidentMax=%d", storeName, residentMax), func(t *testing.T) {
				var calls atomic.Int64
				d := engine.NewDispatcher()
				d.Handle("arn:aws:states:::count", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
					calls.Add(1)
					return map[string]any{}, nil
				}})
				clock := &manualClock{}
				eng := newEngine(t, engine.Options{Store: newStore(), Dispatcher: d, Clock: clock, ResidentMax: residentMax})
				sm := create(t, eng, `{"StartAt": "W", "States": {
				"W": {"Type": "Wait", "Seconds": 10, "Next": "T"},
				"T": {"Type": "Task", "Resource": "arn:aws:states:::count", "End": true}}}`)
				ctx := context.Background()
				x := startInShortWait(t, eng, sm.Arn)
				stopped, err := eng.StopExecution(ctx, x.Arn, "Stop", "test")
				if err != nil {
					t.Fatal(err)
				}
				if stopped.Status != engine.StatusAborted {
					t.Fatalf("status after StopExecution: %s, want ABORTED", stopped.Status)
				}
				if n := engine.ResidentCount(eng); n != 0 {
					t.Errorf("resident executions after StopExecution: %d, want 0", n)
				}
				clock.advance(eng, 11*time.Second)
				settle(t, eng, 0)
				if n := calls.Load(); n != 0 {
					t.Errorf("the task ran %d times after the execution was stopped, want 0", n)
				}
				if n := engine.ResidentHits(eng); n != 0 {
					t.Errorf("resident resumes: %d, want 0", n)
				}
				got := fmt.Sprint(eventTypes(t, eng, x.Arn))
				if want := "[ExecutionStarted WaitStateEntered ExecutionAborted]"; got != want {
					t.Errorf("history %s, want %s", got, want)
				}
			})
		}
	}
}

// Only a wait within the resident window is kept in memory; a longer one
// resumes from the store.
func TestResidentWindow(t *testing.T) {
	clock := &manualClock{}
	eng := newEngine(t, engine.Options{Clock: clock}) // default window: 30 s
	sm := create(t, eng, `{"StartAt": "Short", "States": {
		"Short": {"Type": "Wait", "Seconds": 10, "Next": "Long"},
		"Long": {"Type": "Wait", "Seconds": 60, "End": true}}}`)
	x := startInShortWait(t, eng, sm.Arn)
	clock.advance(eng, 10*time.Second)
	for deadline := time.Now().Add(10 * time.Second); engine.ResidentHits(eng) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the 10 s wait did not end")
		}
	}
	settle(t, eng, 1)
	if n := engine.ResidentCount(eng); n != 0 {
		t.Errorf("resident executions in a 60 s wait: %d, want 0", n)
	}
	clock.advance(eng, 60*time.Second)
	done, err := eng.Wait(context.Background(), x.Arn)
	if err != nil || done.Status != engine.StatusSucceeded {
		t.Fatalf("Wait: %v %s", err, done.Status)
	}
	if n := engine.ResidentHits(eng); n != 1 {
		t.Errorf("resident resumes: %d, want 1 (the short wait only)", n)
	}
}

// Beyond ResidentMax executions stay resident encoded, up to
// ResidentEncodedMax more; beyond both they resume from the store.
func TestResidentMax(t *testing.T) {
	clock := &manualClock{}
	eng := newEngine(t, engine.Options{Clock: clock, ResidentMax: 2, ResidentEncodedMax: 1})
	sm := create(t, eng, `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}`)
	ctx := context.Background()
	var arns []string
	for i := range 5 {
		x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("x%d", i), `{}`)
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, x.Arn)
	}
	settle(t, eng, 5)
	if n := engine.ResidentCount(eng); n != 3 {
		t.Fatalf("resident executions: %d, want 3", n)
	}
	clock.advance(eng, 5*time.Second)
	var wg sync.WaitGroup
	for _, arn := range arns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if done, err := eng.Wait(ctx, arn); err != nil || done.Status != engine.StatusSucceeded {
				t.Errorf("%s: %v %s", arn, err, done.Status)
			}
		}()
	}
	wg.Wait()
	if n := engine.ResidentHits(eng); n != 3 {
		t.Errorf("resident resumes: %d, want 3", n)
	}
	if n := engine.ResidentCount(eng); n != 0 {
		t.Errorf("resident executions after the end: %d, want 0", n)
	}
}

// startInShortWait starts execution "x" of a machine whose first state
// waits 10 s and checks that it waits resident.
func startInShortWait(t *testing.T, eng *engine.Engine, smArn string) engine.Execution {
	t.Helper()
	x, err := eng.StartExecution(context.Background(), smArn, "x", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	settle(t, eng, 1)
	if n := engine.ResidentCount(eng); n != 1 {
		t.Fatalf("resident executions in a 10 s wait: %d, want 1", n)
	}
	return x
}
