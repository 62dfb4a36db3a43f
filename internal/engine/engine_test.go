package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
)

func newEngine(t testing.TB, o engine.Options) *engine.Engine {
	t.Helper()
	eng := engine.New(o)
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

func create(t testing.TB, eng *engine.Engine, def string) engine.StateMachine {
	t.Helper()
	sm, err := eng.CreateStateMachine(context.Background(), "sm", def, "")
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	return sm
}

func run(t testing.TB, eng *engine.Engine, smArn, name, input string) engine.Execution {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	x, err := eng.StartExecution(ctx, smArn, name, input)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	done, err := eng.Wait(ctx, x.Arn)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return done
}

func eventTypes(t testing.TB, eng *engine.Engine, arn string) []string {
	t.Helper()
	hist, err := eng.History(context.Background(), arn)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	var out []string
	for i, ev := range hist {
		if ev.ID != int64(i+1) {
			t.Errorf("event %d has id %d, want %d (ids without gaps)", i, ev.ID, i+1)
		}
		out = append(out, ev.Type)
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// waitForTimer polls until the execution has committed a run state
// with a wake-up time (it is suspended in a Wait or a retry interval).
func waitForTimer(t testing.TB, s engine.Store, arn string) time.Time {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		raw, at, err := s.GetRunState(context.Background(), arn)
		if err == nil && !at.IsZero() && strings.Contains(string(raw), `"phase":"wait"`) {
			return at
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s never suspended in its Wait state", arn)
	return time.Time{}
}

const waitHour = `{"StartAt": "W", "States": {
	"W": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
	"Done": {"Type": "Pass", "Result": "woke", "End": true}}}`

func TestWaitSurvivesRestart(t *testing.T) {
	store := engine.NewMemStore()
	eng1 := engine.New(engine.Options{Store: store})
	sm := create(t, eng1, waitHour)
	x, err := eng1.StartExecution(context.Background(), sm.Arn, "w1", `{}`)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	wake := waitForTimer(t, store, x.Arn)
	if d := time.Until(wake); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("wake-up time in %v, want about an hour", d)
	}
	_ = eng1.Close() // the "crash": nothing of the execution is in memory any more

	clock := engine.NewVirtualClock(time.Now())
	eng2 := newEngine(t, engine.Options{Store: store, Clock: clock})
	n, err := eng2.Recover(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1 execution", n, err)
	}
	done, err := eng2.Wait(context.Background(), x.Arn)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if done.Status != engine.StatusSucceeded || done.Output != `"woke"` {
		t.Errorf("after recovery: %s %s, want SUCCEEDED \"woke\"", done.Status, done.Output)
	}
	if clock.Now().Before(wake) {
		t.Errorf("virtual clock at %v, want it jumped to the wake-up time %v", clock.Now(), wake)
	}
	got := strings.Join(eventTypes(t, eng2, x.Arn), ",")
	want := "ExecutionStarted,WaitStateEntered,WaitStateExited,PassStateEntered,PassStateExited,ExecutionSucceeded"
	if got != want {
		t.Errorf("history = %s, want %s", got, want)
	}
}

func TestTaskRedispatchedAfterRestart(t *testing.T) {
	store := engine.NewMemStore()
	def := `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::my:task", "End": true}}}`
	started := make(chan struct{}, 1)
	d1 := engine.NewDispatcher()
	d1.Handle("arn:aws:states:::my:task", engine.Route{Handler: func(ctx context.Context, _ engine.TaskRequest) (any, error) {
		started <- struct{}{}
		<-ctx.Done() // never finishes: the process dies first
		return nil, ctx.Err()
	}})
	eng1 := engine.New(engine.Options{Store: store, Dispatcher: d1})
	sm := create(t, eng1, def)
	x, err := eng1.StartExecution(context.Background(), sm.Arn, "t1", `{"n": 1}`)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	<-started
	_ = eng1.Close()

	var calls atomic.Int32
	d2 := engine.NewDispatcher()
	d2.Handle("arn:aws:states:::my:task", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
		calls.Add(1)
		return map[string]any{"got": req.Input}, nil
	}})
	eng2 := newEngine(t, engine.Options{Store: store, Dispatcher: d2})
	if n, err := eng2.Recover(context.Background()); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1", n, err)
	}
	done, err := eng2.Wait(context.Background(), x.Arn)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if done.Status != engine.StatusSucceeded || done.Output != `{"got":{"n":1}}` {
		t.Errorf("after recovery: %s %s, want SUCCEEDED with the task result", done.Status, done.Output)
	}
	if calls.Load() != 1 {
		t.Errorf("task dispatched %d times after recovery, want 1", calls.Load())
	}
	types := eventTypes(t, eng2, x.Arn)
	if count(types, "TaskScheduled") != 1 || count(types, "TaskSucceeded") != 1 {
		t.Errorf("history = %v, want one TaskScheduled and one TaskSucceeded", types)
	}
}

// Retry intervals pass on the virtual clock: IntervalSeconds, then
// doubled by BackoffRate. Intervals that grow beyond what a time.Duration
// holds (about 292 years) do not wrap around to negative intervals,
// retried at once: they stay that long.
func TestRetryIntervalsOnVirtualClock(t *testing.T) {
	tests := []struct {
		name, retry string
		wantTime    time.Duration // virtual time passed, at least
		exact       bool
	}{
		{"100 s doubling", `"IntervalSeconds": 100, "BackoffRate": 2, "MaxAttempts": 5`, 300 * time.Second, true},
		{"beyond a Duration", `"IntervalSeconds": 99999999, "BackoffRate": 1000, "MaxAttempts": 2`, time.Duration(math.MaxInt64), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := failingTwice()
			start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := engine.NewVirtualClock(start)
			eng := newEngine(t, engine.Options{Dispatcher: d, Clock: clock})
			sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::flaky",
				"Retry": [{"ErrorEquals": ["Transient"], `+tt.retry+`}], "End": true}}}`)
			x := run(t, eng, sm.Arn, "r", `{}`)
			if x.Status != engine.StatusSucceeded || x.Output != `"ok"` {
				t.Fatalf("execution = %s %s, want SUCCEEDED \"ok\"", x.Status, x.Output)
			}
			if got := clock.Now().Sub(start); got < tt.wantTime || (tt.exact && got != tt.wantTime) {
				t.Errorf("virtual time passed = %v, want %v (the first two retry intervals)", got, tt.wantTime)
			}
			types := eventTypes(t, eng, x.Arn)
			if count(types, "TaskScheduled") != 3 || count(types, "TaskFailed") != 2 {
				t.Errorf("history = %v, want 3 TaskScheduled and 2 TaskFailed", types)
			}
		})
	}
}

func TestLambdaInvoke(t *testing.T) {
	d := engine.NewDispatcher()
	engine.RegisterLambda(d, func(_ context.Context, inv engine.Invocation) ([]byte, error) {
		switch inv.FunctionName {
		case "echo":
			return inv.Payload, nil
		case "fail":
			return nil, &engine.FunctionError{Type: "InvalidTarget", Message: "no such repo"}
		}
		return nil, errors.New("connection refused")
	})
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "Call", "States": {
		"Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
			"Parameters": {"FunctionName.$": "$.fn", "Payload": {"v.$": "$.v"}},
			"Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}], "End": true},
		"Caught": {"Type": "Pass", "End": true}}}`)
	tests := []struct {
		name, input string
		check       func(t *testing.T, out map[string]any)
	}{
		{"success is wrapped", `{"fn": "echo", "v": 7}`, func(t *testing.T, out map[string]any) {
			p, _ := out["Payload"].(map[string]any)
			if p["v"] != 7.0 || out["StatusCode"] != 200.0 || out["ExecutedVersion"] != "$LATEST" {
				t.Errorf("output = %v, want Payload {v:7}, StatusCode 200, ExecutedVersion $LATEST", out)
			}
			if _, ok := out["SdkHttpMetadata"].(map[string]any); !ok {
				t.Errorf("output has no SdkHttpMetadata: %v", out)
			}
		}},
		{"function error", `{"fn": "fail", "v": 1}`, func(t *testing.T, out map[string]any) {
			e, _ := out["error"].(map[string]any)
			if e["Error"] != "InvalidTarget" || e["Cause"] != `{"errorMessage":"no such repo","errorType":"InvalidTarget"}` {
				t.Errorf("caught error = %v, want InvalidTarget with the Lambda cause JSON", e)
			}
		}},
		{"service error", `{"fn": "down", "v": 1}`, func(t *testing.T, out map[string]any) {
			e, _ := out["error"].(map[string]any)
			if e["Error"] != "Lambda.ServiceException" {
				t.Errorf("caught error = %v, want Lambda.ServiceException", e)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := run(t, eng, sm.Arn, "l"+string(rune('a'+i)), tt.input)
			var out map[string]any
			if err := json.Unmarshal([]byte(x.Output), &out); err != nil {
				t.Fatalf("output %q: %v", x.Output, err)
			}
			tt.check(t, out)
		})
	}
}

func TestStartExecutionIntegration(t *testing.T) {
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	child, err := eng.CreateStateMachine(context.Background(), "child",
		`{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "Next": "P"}, "P": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": true}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	def := `{"StartAt": "Start", "States": {
		"Start": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
			"Parameters": {"StateMachineArn": "` + child.Arn + `", "Name.$": "$.name", "Input": {"n.$": "$.n"}}, "ResultPath": "$.started", "Next": "Sync"},
		"Sync": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
			"Parameters": {"StateMachineArn": "` + child.Arn + `", "Input": {"n": 5}}, "OutputPath": "$.Output", "End": true}}}`
	sm := create(t, eng, def)
	x := run(t, eng, sm.Arn, "parent", `{"name": "kid", "n": 2}`)
	if x.Status != engine.StatusSucceeded || x.Output != `{"doubled":10}` {
		t.Fatalf("parent = %s %s %s, want SUCCEEDED {\"doubled\":10}", x.Status, x.Output, x.Cause)
	}
	kid, err := eng.Wait(context.Background(), "arn:aws:states:us-east-1:123456789012:execution:child:kid")
	if err != nil || kid.Status != engine.StatusSucceeded || kid.Output != `{"doubled":4}` || kid.ParentArn != x.Arn {
		t.Errorf("child = %+v, %v; want SUCCEEDED {\"doubled\":4} started by the parent", kid, err)
	}
}

func TestStopExecution(t *testing.T) {
	store := engine.NewMemStore()
	eng := newEngine(t, engine.Options{Store: store})
	sm := create(t, eng, waitHour)
	x, err := eng.StartExecution(context.Background(), sm.Arn, "s", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	waitForTimer(t, store, x.Arn)
	stopped, err := eng.StopExecution(context.Background(), x.Arn, "Stop", "by test")
	if err != nil {
		t.Fatalf("StopExecution: %v", err)
	}
	if stopped.Status != engine.StatusAborted || stopped.Error != "Stop" {
		t.Errorf("stopped = %+v, want ABORTED with error Stop", stopped)
	}
	types := eventTypes(t, eng, x.Arn)
	if types[len(types)-1] != "ExecutionAborted" {
		t.Errorf("history = %v, want it to end with ExecutionAborted", types)
	}
	if _, err := eng.StopExecution(context.Background(), x.Arn, "", ""); !errors.Is(err, engine.ErrExecutionNotRunning) {
		t.Errorf("second StopExecution error = %v, want ErrExecutionNotRunning", err)
	}
	if n, _ := newEngine(t, engine.Options{Store: store}).Recover(context.Background()); n != 0 {
		t.Errorf("Recover after stop re-armed %d executions, want 0", n)
	}
}

func TestStartExecutionIdempotency(t *testing.T) {
	store := engine.NewMemStore()
	eng := newEngine(t, engine.Options{Store: store})
	sm := create(t, eng, waitHour)
	ctx := context.Background()
	first, err := eng.StartExecution(ctx, sm.Arn, "same", `{"a":1}`)
	if err != nil {
		t.Fatal(err)
	}
	again, err := eng.StartExecution(ctx, sm.Arn, "same", `{"a":1}`)
	if err != nil || again.Arn != first.Arn {
		t.Errorf("restart with the same input = %v, %v; want the running execution", again.Arn, err)
	}
	if _, err := eng.StartExecution(ctx, sm.Arn, "same", `{"a":2}`); !errors.Is(err, engine.ErrExecutionAlreadyExists) {
		t.Errorf("restart with another input error = %v, want ErrExecutionAlreadyExists", err)
	}
}

// StartExecution gives an execution without a name a generated one and
// one without input the input {}, and refuses a name AWS would not
// accept without storing anything.
func TestStartExecutionNameAndInput(t *testing.T) {
	ctx := context.Background()
	store := engine.NewMemStore()
	eng := newEngine(t, engine.Options{Store: store})
	sm := create(t, eng, `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`)

	x := run(t, eng, sm.Arn, "", "")
	if !engine.ValidName(x.Name) || x.Arn != execArnOf(sm, x.Name) {
		t.Errorf("execution without a name = %q, %s; want a generated valid name in its ARN", x.Name, x.Arn)
	}
	if x.Input != "{}" || x.Status != engine.StatusSucceeded || x.Output != "{}" {
		t.Errorf("execution without input = input %q, %s, output %q; want input {}, SUCCEEDED with {}", x.Input, x.Status, x.Output)
	}
	hist, err := eng.History(ctx, x.Arn)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if d := hist[0].Details; hist[0].Type != "ExecutionStarted" || d.RoleArn != sm.RoleArn || d.Extra == nil || d.Extra.StateMachineArn != sm.Arn {
		t.Errorf("first event = %s %+v, want ExecutionStarted with role %s and machine %s", hist[0].Type, d, sm.RoleArn, sm.Arn)
	}
	if other := run(t, eng, sm.Arn, "", `{"a":1}`); other.Name == x.Name {
		t.Errorf("two executions without a name were both named %q", x.Name)
	}

	for _, name := range []string{"a b", "a:b", strings.Repeat("n", 81)} {
		if got, err := eng.StartExecution(ctx, sm.Arn, name, `{}`); err == nil || errors.Is(err, engine.ErrExecutionAlreadyExists) {
			t.Errorf("StartExecution(%q) = %+v, %v; want an invalid name refused", name, got, err)
		}
	}
	if list, _, err := store.ListExecutions(ctx, engine.ListExecutionsInput{StateMachineArn: sm.Arn}); err != nil || len(list) != 2 {
		t.Errorf("executions stored = %d, %v; want only the two started", len(list), err)
	}
}

// A second start with the name of an execution returns that execution
// only if it is RUNNING on a STANDARD machine with the same input, as on
// AWS; otherwise it fails with ErrExecutionAlreadyExists and leaves the
// execution as it was.
func TestStartExecutionAgainWithTheSameName(t *testing.T) {
	const pass = `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`
	tests := []struct {
		name, typ, def string
		idempotent     bool
	}{
		{"running STANDARD", "STANDARD", waitHour, true},
		{"ended STANDARD", "STANDARD", pass, false},
		{"running EXPRESS", "EXPRESS", waitHour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			eng := newEngine(t, engine.Options{})
			sm, err := eng.CreateStateMachineOfType(ctx, "sm", tt.typ, tt.def, "")
			if err != nil {
				t.Fatal(err)
			}
			first, err := eng.StartExecution(ctx, sm.Arn, "same", `{"a":1}`)
			if err != nil {
				t.Fatal(err)
			}
			if tt.def == pass {
				if first, err = eng.Wait(ctx, first.Arn); err != nil {
					t.Fatal(err)
				}
			}
			again, err := eng.StartExecution(ctx, sm.Arn, "same", `{"a":1}`)
			if tt.idempotent {
				if err != nil || again.Arn != first.Arn || !again.StartDate.Equal(first.StartDate) {
					t.Errorf("second start = %+v, %v; want the first execution, %+v", again, err, first)
				}
			} else if !errors.Is(err, engine.ErrExecutionAlreadyExists) {
				t.Errorf("second start = %+v, %v; want ErrExecutionAlreadyExists", again, err)
			}
			now, err := eng.DescribeExecution(ctx, first.Arn)
			if err != nil || now.Status != first.Status || !now.StartDate.Equal(first.StartDate) {
				t.Errorf("execution after the second start = %+v, %v; want it unchanged, %+v", now, err, first)
			}
			if types := eventTypes(t, eng, first.Arn); count(types, "ExecutionStarted") != 1 {
				t.Errorf("history = %v, want one ExecutionStarted", types)
			}
		})
	}
}

// History returns the whole history of an execution, also one longer
// than a page of the store's (1,000 events).
func TestHistoryLongerThanAPage(t *testing.T) {
	eng := newEngine(t, engine.Options{})
	sm := create(t, eng, `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "End": true,
		"ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}`)
	items := make([]int, 400)
	in, _ := json.Marshal(map[string]any{"items": items})
	x := run(t, eng, sm.Arn, "long", string(in))
	if x.Status != engine.StatusSucceeded {
		t.Fatalf("execution = %s %s, want SUCCEEDED", x.Status, x.Cause)
	}
	types := eventTypes(t, eng, x.Arn) // ids 1, 2, ... without gaps
	if len(types) <= 1000 || types[0] != "ExecutionStarted" || types[len(types)-1] != "ExecutionSucceeded" {
		t.Errorf("history of %d events from %s to %s, want more than 1000 from ExecutionStarted to ExecutionSucceeded",
			len(types), types[0], types[len(types)-1])
	}
}

func TestTaskTimeout(t *testing.T) {
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::slow", engine.Route{Handler: func(ctx context.Context, _ engine.TaskRequest) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d})
	sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::slow", "TimeoutSeconds": 1,
		"Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}], "End": true}, "Late": {"Type": "Pass", "End": true}}}`)
	x := run(t, eng, sm.Arn, "slow", `{}`)
	if x.Status != engine.StatusSucceeded || !strings.Contains(x.Output, `"Error":"States.Timeout"`) {
		t.Errorf("execution = %s %s, want the States.Timeout caught", x.Status, x.Output)
	}
	if types := eventTypes(t, eng, x.Arn); count(types, "TaskTimedOut") != 1 {
		t.Errorf("history = %v, want one TaskTimedOut", types)
	}
}

func TestCreateStateMachineValidation(t *testing.T) {
	eng := newEngine(t, engine.Options{})
	_, err := eng.CreateStateMachine(context.Background(), "bad",
		`{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "Bogus": 1}}}`, "")
	var verrs asl.ValidationErrors
	if !errors.As(err, &verrs) {
		t.Fatalf("error = %v, want asl.ValidationErrors", err)
	}
	msg := err.Error()
	for _, want := range []string{"/States/A/Bogus", "/States/A", "Missing 'Next' target: B"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}

// CreateStateMachineOfType refuses, as AWS does, a name AWS would not
// accept and a type other than STANDARD or EXPRESS, and stores nothing.
func TestCreateStateMachineRefusesNameAndType(t *testing.T) {
	const def = `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`
	tests := []struct {
		name, smName, typ string
	}{
		{"empty name", "", "STANDARD"},
		{"name with a space", "a b", "STANDARD"},
		{"name with a colon", "a:b", "EXPRESS"},
		{"name of 81 characters", strings.Repeat("n", 81), "STANDARD"},
		{"lower-case type", "sm", "standard"},
		{"unknown type", "sm", "BATCH"},
		{"no type", "sm", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := engine.NewMemStore()
			eng := newEngine(t, engine.Options{Store: store})
			if sm, err := eng.CreateStateMachineOfType(context.Background(), tt.smName, tt.typ, def, ""); err == nil {
				t.Errorf("CreateStateMachineOfType(%q, %q) = %+v, want an error", tt.smName, tt.typ, sm)
			}
			if sms, _, err := store.ListStateMachines(context.Background(), 10, ""); err != nil || len(sms) != 0 {
				t.Errorf("state machines stored = %+v, %v; want none", sms, err)
			}
		})
	}
}

// CreateStateMachineFrom stores the machine's tags and configuration in
// the same step as the machine, gives a machine without a role the
// engine's, and answers the machine as stored: ACTIVE, revision 1.
func TestCreateStateMachineFromStoresTagsAndConfig(t *testing.T) {
	ctx := context.Background()
	store := engine.NewMemStore()
	eng := newEngine(t, engine.Options{Store: store, RoleArn: "arn:aws:iam::123456789012:role/default"})
	cfg := engine.StateMachineConfig{Logging: `{"level":"ALL"}`, Tracing: `{"enabled":true}`, Encryption: `{"type":"AWS_OWNED_KEY"}`}
	sm, err := eng.CreateStateMachineFrom(ctx, engine.StateMachine{Name: "tagged", Type: "EXPRESS",
		Definition: `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`,
		Tags:       []engine.Tag{{Key: "team", Value: "ops"}, {Key: "env", Value: "dev"}}, Config: cfg})
	if err != nil {
		t.Fatalf("CreateStateMachineFrom: %v", err)
	}
	if sm.Status != engine.StateMachineActive || sm.Revision != 1 || sm.Type != "EXPRESS" ||
		sm.RoleArn != "arn:aws:iam::123456789012:role/default" || sm.Config != cfg {
		t.Errorf("machine = %+v, want ACTIVE EXPRESS revision 1 with the engine's role and the configuration given", sm)
	}
	tags, err := store.ListStateMachineTags(ctx, sm.Arn)
	if want := []engine.Tag{{Key: "env", Value: "dev"}, {Key: "team", Value: "ops"}}; err != nil || !reflect.DeepEqual(tags, want) {
		t.Errorf("tags = %+v, %v; want %+v", tags, err, want)
	}
}

func TestHistoryEventJSON(t *testing.T) {
	eng := newEngine(t, engine.Options{})
	sm := create(t, eng, `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Assign": {"v": 1}, "End": true}}}`)
	x := run(t, eng, sm.Arn, "h", `{"k": "v"}`)
	hist, err := eng.History(context.Background(), x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(hist[2])
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	det, _ := got["stateExitedEventDetails"].(map[string]any)
	if got["type"] != "PassStateExited" || got["id"] != 3.0 || got["previousEventId"] != 2.0 ||
		det["name"] != "P" || det["output"] != `{"k":"v"}` {
		t.Errorf("event JSON = %s", b)
	}
	if av, _ := det["assignedVariables"].(map[string]any); av["v"] != "1" {
		t.Errorf("assignedVariables = %v, want v: \"1\"", det["assignedVariables"])
	}
	var back engine.Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal event: %v", err)
	}
	if back.Details.Name != "P" || back.Type != "PassStateExited" || back.StateName() != "P" {
		t.Errorf("round trip = %+v", back)
	}
}

// A DISTRIBUTED Map batches its items as ItemBatcher asks, and runs the
// tasks of its child workflows MaxConcurrency at a time.
func TestMapWithTasksAndBatches(t *testing.T) {
	var active, peak, calls atomic.Int32
	// The first two tasks wait for each other (MaxConcurrency 2 lets them
	// run at once), so that the peak does not depend on timing.
	bothStarted := make(chan struct{})
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::double", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
		n := active.Add(1)
		defer active.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		switch calls.Add(1) {
		case 1:
			select {
			case <-bothStarted:
			case <-time.After(5 * time.Second):
				// Not run at once: the peak stays 1 and the test fails.
			}
		case 2:
			close(bothStarted)
		}
		m, _ := req.Input.(map[string]any)
		items, _ := m["Items"].([]any)
		sum := 0.0
		for _, it := range items {
			sum += it.(float64)
		}
		return sum * 2, nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs", "MaxConcurrency": 2,
		"ItemBatcher": {"MaxItemsPerBatch": 2},
		"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "T",
			"States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::double", "Next": "W"},
			           "W": {"Type": "Wait", "Seconds": 30, "End": true}}},
		"End": true}}}`)
	x := run(t, eng, sm.Arn, "m", `{"xs": [1, 2, 3, 4, 5, 6, 7]}`)
	if x.Status != engine.StatusSucceeded || x.Output != `[6,14,22,14]` {
		t.Fatalf("map = %s %s %s, want SUCCEEDED [6,14,22,14]", x.Status, x.Output, x.Cause)
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrent tasks = %d, want MaxConcurrency 2", p)
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("%d tasks ran, want one per batch of 2 items: 4", n)
	}
	types := eventTypes(t, eng, x.Arn)
	if count(types, "MapRunStarted") != 1 || count(types, "MapRunSucceeded") != 1 {
		t.Errorf("history = %v, want one map run", types)
	}
}

// Map iterations and Parallel branches read the variables of the outer
// scopes, except a DISTRIBUTED Map's: its child workflows see none, and
// reading one fails as reading a variable never assigned does (its state
// entered at event 2 of the child's own history).
func TestVariableScopes(t *testing.T) {
	const undefined = `[{"Cause":"An error occurred while executing the state 'I' (entered at the event id #2). The JSONPath '$x' specified for the field 'v.$' could not be found in the input '{}'","Error":"States.Runtime"}]`
	mapDef := func(assign, mode string) string {
		return `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": ` + assign + `, "Next": "M"},
			"M": {"Type": "Map", "ToleratedFailurePercentage": 100, "End": true,
				"ItemProcessor": {"ProcessorConfig": {"Mode": "` + mode + `", "ExecutionType": "STANDARD"}, "StartAt": "I",
					"States": {"I": {"Type": "Pass", "Parameters": {"v.$": "$x"}, "End": true}}}}}}`
	}
	tests := []struct {
		name, def, want string
	}{
		{"inline map", strings.Replace(mapDef(`{"x": 1}`, "INLINE"), `"ToleratedFailurePercentage": 100, `, "", 1), `[{"v":1}]`},
		{"parallel branch", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "P"},
			"P": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "I",
				"States": {"I": {"Type": "Pass", "Parameters": {"v.$": "$x"}, "End": true}}}]}}}`, `[{"v":1}]`},
		{"distributed map", mapDef(`{"x": 1}`, "DISTRIBUTED"), undefined},
		{"distributed map, no such variable", mapDef(`{"y": 1}`, "DISTRIBUTED"), undefined},
		{"distributed map assigns its own", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"},
			"M": {"Type": "Map", "End": true,
				"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "I", "States": {
					"I": {"Type": "Pass", "Assign": {"x": 2}, "Next": "J"},
					"J": {"Type": "Pass", "Parameters": {"v.$": "$x"}, "End": true}}}}}}`, `[{"v":2}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			sm := create(t, eng, tt.def)
			x := run(t, eng, sm.Arn, "vars", `[{}]`) // the Map's one item
			if x.Status != engine.StatusSucceeded || x.Output != tt.want {
				t.Errorf("execution = %s %s (%s: %s), want SUCCEEDED %s", x.Status, x.Output, x.Error, x.Cause, tt.want)
			}
		})
	}
}

func TestExecutionTimeout(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := engine.NewVirtualClock(start)
	eng := newEngine(t, engine.Options{Clock: clock})
	sm := create(t, eng, `{"TimeoutSeconds": 10, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}`)
	x := run(t, eng, sm.Arn, "late", `{}`)
	if x.Status != engine.StatusTimedOut || x.Error != "States.Timeout" {
		t.Errorf("execution = %s %s, want TIMED_OUT States.Timeout", x.Status, x.Error)
	}
	if got := x.StopDate.Sub(start); got != 10*time.Second {
		t.Errorf("stopped after %v, want 10s", got)
	}
	types := eventTypes(t, eng, x.Arn)
	if types[len(types)-1] != "ExecutionTimedOut" {
		t.Errorf("history = %v, want it to end with ExecutionTimedOut", types)
	}
}

func TestParallelFailureStopsOtherBranches(t *testing.T) {
	canceled, started := make(chan struct{}), make(chan struct{})
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::block", engine.Route{Handler: func(ctx context.Context, _ engine.TaskRequest) (any, error) {
		close(started)
		<-ctx.Done()
		close(canceled)
		return nil, ctx.Err()
	}})
	d.Handle("arn:aws:states:::boom", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		<-started
		return nil, &engine.TaskError{Name: "Boom", Cause: "branch failed"}
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d})
	sm := create(t, eng, `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
		{"StartAt": "Block", "States": {"Block": {"Type": "Task", "Resource": "arn:aws:states:::block", "End": true}}},
		{"StartAt": "Boom", "States": {"Boom": {"Type": "Task", "Resource": "arn:aws:states:::boom", "End": true}}}]}}}`)
	x := run(t, eng, sm.Arn, "p", `{}`)
	if x.Status != engine.StatusFailed || x.Error != "Boom" {
		t.Errorf("execution = %s %s, want FAILED Boom", x.Status, x.Error)
	}
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Errorf("the other branch's task was not canceled")
	}
}

func TestLegacyLambdaEvents(t *testing.T) {
	d := engine.NewDispatcher()
	engine.RegisterLambda(d, func(_ context.Context, inv engine.Invocation) ([]byte, error) {
		return inv.Payload, nil
	})
	eng := newEngine(t, engine.Options{Dispatcher: d})
	sm := create(t, eng, `{"StartAt": "F", "States": {"F": {"Type": "Task",
		"Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo", "TimeoutSeconds": 30, "End": true}}}`)
	x := run(t, eng, sm.Arn, "legacy", `{"v": 1}`)
	if x.Status != engine.StatusSucceeded || x.Output != `{"v":1}` {
		t.Fatalf("execution = %s %s, want the unwrapped function result", x.Status, x.Output)
	}
	hist, _ := eng.History(context.Background(), x.Arn)
	var got []string
	for _, ev := range hist {
		got = append(got, ev.Type)
	}
	want := "ExecutionStarted,TaskStateEntered,LambdaFunctionScheduled,LambdaFunctionStarted,LambdaFunctionSucceeded,TaskStateExited,ExecutionSucceeded"
	if strings.Join(got, ",") != want {
		t.Errorf("history = %v, want %s", got, want)
	}
	b, _ := json.Marshal(hist[2])
	var ev map[string]any
	_ = json.Unmarshal(b, &ev)
	det, _ := ev["lambdaFunctionScheduledEventDetails"].(map[string]any)
	if det["resource"] != "arn:aws:lambda:us-east-1:123456789012:function:echo" || det["input"] != `{"v":1}` || det["timeoutInSeconds"] != 30.0 {
		t.Errorf("LambdaFunctionScheduled = %s", b)
	}
}

// A Task whose Resource is an activity, answered by a handler standing in
// for its worker (as stepmon asl run's --task does), records an
// activity's events with their AWS details, for success and failure.
func TestActivityEvents(t *testing.T) {
	const activity = "arn:aws:states:us-east-1:123456789012:activity:review"
	d := engine.NewDispatcher()
	d.HandlePrefix("", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
		if m, _ := req.Input.(map[string]any); m["fail"] == true {
			return nil, &engine.TaskError{Name: "Rejected", Cause: "no"}
		}
		return map[string]any{"ok": true}, nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d})
	sm := create(t, eng, `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "`+activity+`",
		"TimeoutSeconds": 300, "HeartbeatSeconds": 60, "End": true}}}`)
	tests := []struct {
		name, input, wantTypes string
		wantDetails            map[string]map[string]any // event type -> details key -> value
	}{
		{"succeeded", `{"v": 1}`,
			"ExecutionStarted,TaskStateEntered,ActivityScheduled,ActivityStarted,ActivitySucceeded,TaskStateExited,ExecutionSucceeded",
			map[string]map[string]any{
				"ActivityScheduled": {"resource": activity, "input": `{"v":1}`, "timeoutInSeconds": 300.0, "heartbeatInSeconds": 60.0,
					"inputDetails": map[string]any{"truncated": false}},
				"ActivitySucceeded": {"output": `{"ok":true}`, "outputDetails": map[string]any{"truncated": false}},
			}},
		{"failed", `{"fail": true}`,
			"ExecutionStarted,TaskStateEntered,ActivityScheduled,ActivityStarted,ActivityFailed,ExecutionFailed",
			map[string]map[string]any{"ActivityFailed": {"error": "Rejected", "cause": "no"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := run(t, eng, sm.Arn, tt.name, tt.input)
			hist, err := eng.History(context.Background(), x.Arn)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, ev := range hist {
				types = append(types, ev.Type)
				want, ok := tt.wantDetails[ev.Type]
				if !ok {
					continue
				}
				b, _ := json.Marshal(ev)
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				key := strings.ToLower(ev.Type[:1]) + ev.Type[1:] + "EventDetails"
				if got, _ := m[key].(map[string]any); !reflect.DeepEqual(got, want) {
					t.Errorf("%s %s = %v, want %v", ev.Type, key, m[key], want)
				}
			}
			if got := strings.Join(types, ","); got != tt.wantTypes {
				t.Errorf("history = %s\nwant      %s", got, tt.wantTypes)
			}
		})
	}
}

// Each attempt of a Task evaluates its Parameters again, so a handler sees
// $$.State.RetryCount count its retries, at the top level (where a retry
// waits on a durable timer) and in a Parallel branch (where it sleeps).
func TestRetriesEvaluateParametersAgain(t *testing.T) {
	task := `{"Type": "Task", "Resource": "arn:aws:states:::flaky",
		"Parameters": {"retry.$": "$$.State.RetryCount", "v.$": "$.v"},
		"Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 5, "MaxAttempts": 3}], "End": true}`
	tests := []struct{ name, definition string }{
		{"top level", `{"StartAt": "T", "States": {"T": ` + task + `}}`},
		{"parallel branch", `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
			"Branches": [{"StartAt": "T", "States": {"T": ` + task + `}}]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			d := engine.NewDispatcher()
			d.Handle("arn:aws:states:::flaky", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, asl.Text(req.Input))
				if len(seen) < 3 {
					return nil, &engine.TaskError{Name: "Transient", Cause: "try again"}
				}
				return "ok", nil
			}})
			eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			sm := create(t, eng, tt.definition)
			x := run(t, eng, sm.Arn, "r", `{"v": 7}`)
			if x.Status != engine.StatusSucceeded {
				t.Fatalf("execution = %s %s, want SUCCEEDED", x.Status, x.Output)
			}
			want := []string{`{"retry":0,"v":7}`, `{"retry":1,"v":7}`, `{"retry":2,"v":7}`}
			if !slices.Equal(seen, want) {
				t.Errorf("task inputs = %v, want %v", seen, want)
			}
		})
	}
}

// failingTwice returns a dispatcher whose arn:aws:states:::flaky task
// fails with the error Transient on its first two calls and returns "ok"
// from the third on.
func failingTwice() *engine.Dispatcher {
	var calls atomic.Int32
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::flaky", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		if calls.Add(1) < 3 {
			return nil, &engine.TaskError{Name: "Transient", Cause: "try again"}
		}
		return "ok", nil
	}})
	return d
}

// awaitRetryWait waits until the run state of the execution arn in store
// shows it suspended for a retry interval, so that a test can close the
// engine in the middle of that wait.
func awaitRetryWait(t *testing.T, store engine.Store, arn string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		raw, _, err := store.GetRunState(context.Background(), arn)
		if err == nil && strings.Contains(string(raw), `"phase":"retry"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never suspended for its retry interval", arn)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A retry that waits out its interval across a restart evaluates its
// Parameters with the retry count it had before the restart.
func TestRetryAfterRestartCountsRetries(t *testing.T) {
	store := engine.NewMemStore()
	def := `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::flaky",
		"Parameters": {"retry.$": "$$.State.RetryCount"},
		"Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 3600, "MaxAttempts": 3}], "End": true}}}`
	d1 := engine.NewDispatcher()
	d1.Handle("arn:aws:states:::flaky", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		return nil, &engine.TaskError{Name: "Transient", Cause: "try again"}
	}})
	eng1 := engine.New(engine.Options{Store: store, Dispatcher: d1})
	sm := create(t, eng1, def)
	x, err := eng1.StartExecution(context.Background(), sm.Arn, "r1", `{}`)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	awaitRetryWait(t, store, x.Arn)
	_ = eng1.Close()

	var got string
	d2 := engine.NewDispatcher()
	d2.Handle("arn:aws:states:::flaky", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
		got = asl.Text(req.Input)
		return "ok", nil
	}})
	eng2 := newEngine(t, engine.Options{Store: store, Dispatcher: d2, Clock: engine.NewVirtualClock(time.Now())})
	if n, err := eng2.Recover(context.Background()); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1", n, err)
	}
	done, err := eng2.Wait(context.Background(), x.Arn)
	if err != nil || done.Status != engine.StatusSucceeded {
		t.Fatalf("after recovery: %+v, %v; want SUCCEEDED", done, err)
	}
	if got != `{"retry":1}` {
		t.Errorf("task input after the restart = %s, want {\"retry\":1}", got)
	}
}

// TestParallelBranchesConcurrently runs Parallel branches that block, so
// that they run at once, each a task and a Pass: under -race it checks
// that the branches share nothing of their parent thread unguarded.
func TestParallelBranchesConcurrently(t *testing.T) {
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::nap", engine.Route{Handler: func(ctx context.Context, _ engine.TaskRequest) (any, error) {
		time.Sleep(time.Millisecond)
		return map[string]any{}, nil
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d})
	branches := make([]string, 8)
	for i := range branches {
		n := strconv.Itoa(i)
		branches[i] = `{"StartAt": "T` + n + `", "States": {"T` + n + `": {"Type": "Task", "Resource": "arn:aws:states:::nap", "Next": "P` + n + `"},
			"P` + n + `": {"Type": "Pass", "End": true}}}`
	}
	sm := create(t, eng, `{"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": true, "Branches": [`+
		strings.Join(branches, ",")+`]}}}`)
	for i := range 5 {
		x := run(t, eng, sm.Arn, "p"+strconv.Itoa(i), `{}`)
		if x.Status != engine.StatusSucceeded {
			t.Fatalf("execution %d = %s %s, want SUCCEEDED", i, x.Status, x.Error)
		}
		if types := eventTypes(t, eng, x.Arn); count(types, "PassStateExited") != 8 {
			t.Errorf("execution %d: %d PassStateExited events, want 8", i, count(types, "PassStateExited"))
		}
	}
}
