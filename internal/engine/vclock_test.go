package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// On the virtual clock, waits and retry intervals inside Parallel
// branches and Map iterations overlap as they do on AWS: the clock moves
// only when every branch and iteration sleeps, to the earliest wake-up.
func TestVirtualClockOverlapsBranchesAndIterations(t *testing.T) {
	wait := func(name string, secs, next string) string {
		return `"` + name + `": {"Type": "Wait", "Seconds": ` + secs + `, ` + next + `}`
	}
	branch := func(states ...string) string {
		start := strings.SplitN(states[0], `"`, 3)[1]
		return `{"StartAt": "` + start + `", "States": {` + strings.Join(states, ", ") + `}}`
	}
	parallel := func(top string, branches ...string) string {
		return `{` + top + `"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [` +
			strings.Join(branches, ", ") + `]}}}`
	}
	mapOf := func(top, extra string, processor string) string {
		return `{` + top + `"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, ` + extra +
			`"ItemProcessor": ` + processor + `}}}`
	}
	flaky := `"F": {"Type": "Task", "Resource": "arn:aws:states:::flaky", "End": true,
		"Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 10, "BackoffRate": 1, "MaxAttempts": 3}]}`
	tests := []struct {
		name, def, input string
		status           engine.ExecutionStatus
		took             time.Duration // from ExecutionStarted to the execution's end, exactly
		// at lists, per event type, the times of those events in seconds
		// from the start, in history order, when the case checks them.
		at map[string][]int
	}{
		{"parallel waits", parallel(``, branch(wait("A", "3600", `"End": true`)), branch(wait("B", "3600", `"End": true`))),
			`{}`, engine.StatusSucceeded, time.Hour, map[string][]int{"WaitStateExited": {3600, 3600}}},
		{"parallel waits within TimeoutSeconds", parallel(`"TimeoutSeconds": 5400, `,
			branch(wait("A", "3600", `"End": true`)), branch(wait("B", "3600", `"End": true`))),
			`{}`, engine.StatusSucceeded, time.Hour, nil},
		{"parallel waits beyond TimeoutSeconds", parallel(`"TimeoutSeconds": 1800, `,
			branch(wait("A", "3600", `"End": true`)), branch(wait("B", "3600", `"End": true`))),
			`{}`, engine.StatusTimedOut, 30 * time.Minute, nil},
		{"map of waits within TimeoutSeconds", mapOf(`"TimeoutSeconds": 7200, `, ``, branch(wait("W", "3600", `"End": true`))),
			`[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]`, engine.StatusSucceeded, time.Hour, nil},
		{"map with MaxConcurrency 2", mapOf(``, `"MaxConcurrency": 2, `, branch(wait("W", "1", `"End": true`))),
			`[1, 2, 3, 4, 5, 6]`, engine.StatusSucceeded, 3 * time.Second,
			map[string][]int{"MapIterationSucceeded": {1, 1, 2, 2, 3, 3}}},
		{"map inside parallel", parallel(``,
			branch(`"M": {"Type": "Map", "End": true, "ItemProcessor": `+branch(wait("W", "100", `"End": true`))+`}`),
			branch(wait("B", "100", `"End": true`))),
			`[1, 2, 3]`, engine.StatusSucceeded, 100 * time.Second,
			map[string][]int{"WaitStateExited": {100, 100, 100, 100}}},
		{"retry intervals beside a wait", parallel(``, branch(flaky), branch(wait("B", "25", `"End": true`))),
			`{}`, engine.StatusSucceeded, 25 * time.Second,
			map[string][]int{"TaskScheduled": {0, 10, 20}, "WaitStateExited": {25}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := failingTwice()
			start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(start)})
			x := run(t, eng, create(t, eng, tt.def).Arn, "x", tt.input)
			if x.Status != tt.status {
				t.Fatalf("status = %s (%s: %s), want %s", x.Status, x.Error, x.Cause, tt.status)
			}
			if got := x.StopDate.Sub(x.StartDate); got != tt.took {
				t.Errorf("the execution took %v of virtual time, want %v", got, tt.took)
			}
			hist, err := eng.History(context.Background(), x.Arn)
			if err != nil {
				t.Fatal(err)
			}
			if last := hist[len(hist)-1]; !last.Timestamp.Equal(start.Add(tt.took)) {
				t.Errorf("%s at %v, want %v", last.Type, last.Timestamp.Sub(start), tt.took)
			}
			for typ, want := range tt.at {
				var got []time.Duration
				for _, ev := range hist {
					if ev.Type == typ {
						got = append(got, ev.Timestamp.Sub(start))
					}
				}
				if !equalSeconds(got, want) {
					t.Errorf("%s at %v, want at %v s", typ, got, want)
				}
			}
		})
	}
}

// equalSeconds reports whether the durations are the given seconds.
func equalSeconds(got []time.Duration, secs []int) bool {
	if len(got) != len(secs) {
		return false
	}
	for i := range got {
		if got[i] != time.Duration(secs[i])*time.Second {
			return false
		}
	}
	return true
}

// A branch that fails while another sleeps stops the sleeper at the time
// of the failure, as AWS does: the sleeper's next state never runs and
// the execution ends then, not at the sleeper's wake-up. The failing
// branch starts with a task that gives the other branch time to fall
// asleep first; the clock does not move while the task runs.
func TestVirtualClockFailureCancelsSleepingBranch(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := engine.NewVirtualClock(start)
	var invoked atomic.Int32
	var moved atomic.Bool
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::t", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		invoked.Add(1)
		return "ok", nil
	}})
	d.Handle("arn:aws:states:::gate", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		for range 50 {
			if !clock.Now().Equal(start) {
				moved.Store(true)
				break
			}
			time.Sleep(time.Millisecond)
		}
		return "open", nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: clock})
	sm := create(t, eng, `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
		{"StartAt": "W1", "States": {"W1": {"Type": "Wait", "Seconds": 3600, "Next": "T"},
			"T": {"Type": "Task", "Resource": "arn:aws:states:::t", "End": true}}},
		{"StartAt": "G", "States": {"G": {"Type": "Task", "Resource": "arn:aws:states:::gate", "Next": "W2"},
			"W2": {"Type": "Wait", "Seconds": 10, "Next": "F"},
			"F": {"Type": "Fail", "Error": "Boom"}}}]}}}`)
	x := run(t, eng, sm.Arn, "race", `{}`)
	if x.Status != engine.StatusFailed || x.Error != "Boom" {
		t.Fatalf("execution = %s %s, want FAILED Boom", x.Status, x.Error)
	}
	if moved.Load() {
		t.Error("the clock moved while a task ran")
	}
	if n := invoked.Load(); n != 0 {
		t.Errorf("T invoked %d times, want 0 (its branch is stopped at 10 s)", n)
	}
	if got := x.StopDate.Sub(start); got != 10*time.Second {
		t.Errorf("the execution ended at +%v, want +10s", got)
	}
}

// The clock goes to the earliest of the engine's timers and the wake-ups
// of sleeping branches: an execution suspended in a top-level Wait of 50 s
// ends at +50 s while another's branch sleeps until +100 s. The branch
// starts with a task held until both executions have started, so that
// the clock stays at the start until then.
func TestVirtualClockInterleavesTimersAndSleepers(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	gate := make(chan struct{})
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::gate", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		<-gate
		return "open", nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(start)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	par, err := eng.CreateStateMachine(ctx, "par", `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
		{"StartAt": "G", "States": {"G": {"Type": "Task", "Resource": "arn:aws:states:::gate", "Next": "W"},
			"W": {"Type": "Wait", "Seconds": 100, "End": true}}}]}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	top, err := eng.CreateStateMachine(ctx, "top", `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 50, "End": true}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sm   string
		took time.Duration
		arn  string
	}{{sm: par.Arn, took: 100 * time.Second}, {sm: top.Arn, took: 50 * time.Second}}
	for i := range tests {
		x, err := eng.StartExecution(ctx, tests[i].sm, "x", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		tests[i].arn = x.Arn
	}
	close(gate)
	for _, tt := range tests {
		x, err := eng.Wait(ctx, tt.arn)
		if err != nil {
			t.Fatal(err)
		}
		if got := x.StopDate.Sub(start); x.Status != engine.StatusSucceeded || got != tt.took {
			t.Errorf("%s: %s at +%v, want SUCCEEDED at +%v", tt.arn, x.Status, got, tt.took)
		}
	}
}

// Without an engine, SleepUntil moves the clock itself.
func TestVirtualClockStandaloneSleep(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := engine.NewVirtualClock(start)
	if err := c.SleepUntil(context.Background(), start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := c.Now().Sub(start); got != time.Minute {
		t.Errorf("clock at +%v after SleepUntil(+1m), want +1m", got)
	}
}

// Drain on a virtual clock lets the waits inside a Parallel state run to
// their end, as they would in real time: the clock still jumps for them
// once the timer loop has stopped.
func TestDrainOnVirtualClockEndsInMemoryWaits(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(start)})
	sm := create(t, eng, `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
		{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}},
		{"StartAt": "V", "States": {"V": {"Type": "Wait", "Seconds": 200, "End": true}}}]}}}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	x, err := eng.StartExecution(ctx, sm.Arn, "drained", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if !eng.Drain(ctx) {
		t.Fatal("Drain = false; want true once the execution ended")
	}
	done, err := eng.Wait(ctx, x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	if got := done.StopDate.Sub(start); done.Status != engine.StatusSucceeded || got != 200*time.Second {
		t.Errorf("execution = %s at +%v, want SUCCEEDED at +3m20s", done.Status, got)
	}
}

// A branch waiting for a startExecution.sync child stays work in progress
// until it resumes: the clock does not jump to the other branch's wake-up
// (+1 h) between the child's end and the branch's next state, so the
// branch's Wait of 10 s ends the execution at +10 s.
func TestVirtualClockWaitsForSyncChildBranch(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(start)})
	ctx := context.Background()
	child, err := eng.CreateStateMachine(ctx, "child", `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	sm := create(t, eng, `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
		{"StartAt": "S", "States": {
			"S": {"Type": "Task", "Resource": "`+engine.StartExecutionSync2Resource+`",
				"Parameters": {"StateMachineArn": "`+child.Arn+`"}, "Next": "W"},
			"W": {"Type": "Wait", "Seconds": 10, "Next": "F"},
			"F": {"Type": "Fail", "Error": "Boom"}}},
		{"StartAt": "V", "States": {"V": {"Type": "Wait", "Seconds": 3600, "End": true}}}]}}}`)
	for i := range 20 {
		x := run(t, eng, sm.Arn, fmt.Sprintf("x%d", i), `{}`)
		if got := x.StopDate.Sub(x.StartDate); x.Status != engine.StatusFailed || got != 10*time.Second {
			t.Fatalf("iteration %d: %s at +%v, want FAILED at +10s", i, x.Status, got)
		}
	}
}
