package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// A busy execution commits checkpoints while StopExecution runs; the
// ExecutionAborted event must still continue the history without a
// duplicate id, on every store.
func TestStopWhileCommitting(t *testing.T) {
	const def = `{"StartAt":"Spin","States":{
		"Spin":{"Type":"Pass","Next":"Again"},
		"Again":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"Spin"},
		"Done":{"Type":"Succeed"}}}`
	const maxEvents = 25000 // AWS's quota, the default
	eng := newEngine(t, engine.Options{CheckpointEvents: 2, MaxHistoryEvents: maxEvents})
	sm := create(t, eng, def)
	ctx := context.Background()
	const n = 40
	arns := make([]string, n)
	for i := range arns {
		x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("spin-%d", i), `{}`)
		if err != nil {
			t.Fatal(err)
		}
		arns[i] = x.Arn
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, arn := range arns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = eng.StopExecution(ctx, arn, "Stopped", "test")
		}()
	}
	wg.Wait()
	for i, arn := range arns {
		x, err := eng.Wait(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		types := eventTypes(t, eng, arn) // checks ids 1..n without gaps or repeats
		last := types[len(types)-1]
		// Nothing bounds the time between an execution's start and its
		// stop, and it adds events as fast as it can: one held up long
		// enough (a loaded machine) reaches the history limit and fails
		// on its own first. Its stop then finds it no longer running.
		if x.Status == engine.StatusFailed && x.Error == "States.Runtime" && len(types) == maxEvents &&
			last == "ExecutionFailed" && errors.Is(errs[i], engine.ErrExecutionNotRunning) {
			continue
		}
		if errs[i] != nil {
			t.Errorf("StopExecution(%s): %v", arn, errs[i])
		}
		if x.Status != engine.StatusAborted {
			t.Errorf("%s: status %s (%s: %s), want ABORTED", arn, x.Status, x.Error, x.Cause)
		}
		if last != "ExecutionAborted" {
			t.Errorf("%s: last event %s, want ExecutionAborted", arn, last)
		}
	}
}

// The events that end an execution from outside it have no previous
// event, as on AWS (previousEventId 0): ExecutionAborted, whose details
// are present and empty for a stop without error and cause, and
// ExecutionTimedOut, with error States.Timeout and no cause.
func TestExternalEndEvents(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		def  string
		stop bool
		want string // the last event's JSON without its id and timestamp
	}{
		{"stopped without a reason", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":31536000,"End":true}}}`, true,
			`{"executionAbortedEventDetails":{},"previousEventId":0,"type":"ExecutionAborted"}`},
		{"timed out", `{"TimeoutSeconds":10,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`, false,
			`{"executionTimedOutEventDetails":{"error":"States.Timeout"},"previousEventId":0,"type":"ExecutionTimedOut"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			// The stop comes on the real clock: a virtual one jumps to
			// the end of the Wait as soon as the engine is idle, which
			// can be before the stop.
			var clock engine.Clock = engine.NewVirtualClock(start)
			if tt.stop {
				clock = engine.RealClock{}
			}
			eng := newEngine(t, engine.Options{Clock: clock})
			sm := create(t, eng, tt.def)
			x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
			if err != nil {
				t.Fatal(err)
			}
			if tt.stop {
				if _, err := eng.StopExecution(ctx, x.Arn, "", ""); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := eng.Wait(ctx, x.Arn); err != nil {
				t.Fatal(err)
			}
			evs, err := eng.History(ctx, x.Arn)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(evs[len(evs)-1])
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if m["id"] != float64(len(evs)) {
				t.Errorf("last event id %v, want %d", m["id"], len(evs))
			}
			delete(m, "id")
			delete(m, "timestamp")
			got, _ := json.Marshal(m)
			if string(got) != tt.want {
				t.Errorf("last event = %s, want %s", got, tt.want)
			}
		})
	}
}

// StopExecution while a task runs: the task's context is cancelled, its
// result is not applied, nothing after it runs, and the history shows
// what the execution did up to the stop (also the events it had not
// committed yet) followed by ExecutionAborted.
func TestStopDuringTask(t *testing.T) {
	tests := []struct {
		name string
		def  string
		want string
	}{
		{"top level", `{"StartAt": "P", "States": {
			"P": {"Type": "Pass", "Next": "T"},
			"T": {"Type": "Task", "Resource": "arn:aws:states:::block", "Next": "After"},
			"After": {"Type": "Task", "Resource": "arn:aws:states:::after", "End": true}}}`,
			"ExecutionStarted,PassStateEntered,PassStateExited,TaskStateEntered,TaskScheduled,TaskStarted,ExecutionAborted"},
		{"parallel branch", `{"StartAt": "Par", "States": {
			"Par": {"Type": "Parallel", "Next": "After", "Branches": [
				{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::block", "End": true}}}]},
			"After": {"Type": "Task", "Resource": "arn:aws:states:::after", "End": true}}}`,
			"ExecutionStarted,ParallelStateEntered,ParallelStateStarted,TaskStateEntered,TaskScheduled,TaskStarted,ExecutionAborted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started, canceled := make(chan struct{}), make(chan struct{})
			var after atomic.Int32
			d := engine.NewDispatcher()
			d.Handle("arn:aws:states:::block", engine.Route{Handler: func(ctx context.Context, _ engine.TaskRequest) (any, error) {
				close(started)
				<-ctx.Done()
				close(canceled)
				return "too late", nil // a result after the stop
			}})
			d.Handle("arn:aws:states:::after", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
				after.Add(1)
				return nil, nil
			}})
			eng := newEngine(t, engine.Options{Dispatcher: d})
			sm := create(t, eng, tt.def)
			ctx := context.Background()
			x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
			if err != nil {
				t.Fatal(err)
			}
			<-started
			stopped, err := eng.StopExecution(ctx, x.Arn, "Stopped", "by the test")
			if err != nil {
				t.Fatalf("StopExecution: %v", err)
			}
			if stopped.Status != engine.StatusAborted {
				t.Errorf("status %s, want ABORTED", stopped.Status)
			}
			select {
			case <-canceled:
			case <-time.After(5 * time.Second):
				t.Fatal("the task's context was not cancelled")
			}
			if quiet := waitQuiet(t, eng); !quiet {
				t.Fatal("the execution kept running after the stop")
			}
			if got := strings.Join(eventTypes(t, eng, x.Arn), ","); got != tt.want {
				t.Errorf("history = %s\nwant      %s", got, tt.want)
			}
			if n := after.Load(); n != 0 {
				t.Errorf("the state after the stopped task ran %d times", n)
			}
		})
	}
}

// waitQuiet waits until no execution runs in the engine.
func waitQuiet(t testing.TB, eng *engine.Engine) bool {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if quiet, _ := engine.Quiet(eng); quiet {
			return true
		}
	}
	return false
}

// StopExecution records the error and cause it is given, cut to AWS's
// limits (256 and 32,768 characters), in the execution's record, in its
// answer and in ExecutionAborted.
func TestStopExecutionClipsErrorAndCause(t *testing.T) {
	ctx := context.Background()
	eng := newEngine(t, engine.Options{})
	sm := create(t, eng, waitHour)
	x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	errName, cause := strings.Repeat("E", 300), strings.Repeat("c", 40000)
	wantErr, wantCause := errName[:256], cause[:32768]
	stopped, err := eng.StopExecution(ctx, x.Arn, errName, cause)
	if err != nil {
		t.Fatalf("StopExecution: %v", err)
	}
	described, err := eng.DescribeExecution(ctx, x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []engine.Execution{stopped, described} {
		if got.Status != engine.StatusAborted || got.Error != wantErr || got.Cause != wantCause || got.StopDate.IsZero() {
			t.Errorf("execution = %s, error of %d characters, cause of %d, stopped %v; want ABORTED, 256, 32768 and a stop date",
				got.Status, len(got.Error), len(got.Cause), got.StopDate)
		}
	}
	hist, err := eng.History(ctx, x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if d := last.Details; last.Type != "ExecutionAborted" || d.Error != wantErr || !d.HasError || d.Cause != wantCause || !d.HasCause {
		t.Errorf("last event = %s, error of %d characters (%v), cause of %d (%v); want ExecutionAborted, 256 and 32768",
			last.Type, len(d.Error), d.HasError, len(d.Cause), d.HasCause)
	}
}
