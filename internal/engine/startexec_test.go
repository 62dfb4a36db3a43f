package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// A child started by startExecution.sync is stopped when its parent's
// task ends without it: the parent stopped, timed out, or the task timed
// out. A child started without .sync runs on.
func TestSyncChildStoppedWithParent(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		task     string // more fields of the parent's Task state
		top      string // more fields of the parent's definition
		stop     bool   // stop the parent
		want     engine.ExecutionStatus
	}{
		{"parent stopped", engine.StartExecutionSyncResource, ``, ``, true, engine.StatusAborted},
		{"parent timed out", engine.StartExecutionSync2Resource, ``, `"TimeoutSeconds": 1,`, false, engine.StatusAborted},
		{"task timed out", engine.StartExecutionSyncResource, `"TimeoutSeconds": 1,`, ``, false, engine.StatusAborted},
		{"not .sync", engine.StartExecutionResource, ``, ``, true, engine.StatusRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			eng := newEngine(t, engine.Options{})
			child, err := eng.CreateStateMachine(ctx, "child", waitHour, "")
			if err != nil {
				t.Fatal(err)
			}
			parent := create(t, eng, `{`+tt.top+` "StartAt": "Start", "States": {
				"Start": {"Type": "Task", "Resource": "`+tt.resource+`", `+tt.task+`
					"Parameters": {"StateMachineArn": "`+child.Arn+`", "Name": "kid"}, "Next": "W"},
				"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}`)
			x, err := eng.StartExecution(ctx, parent.Arn, "parent", `{}`)
			if err != nil {
				t.Fatal(err)
			}
			kid := "arn:aws:states:us-east-1:123456789012:execution:child:kid"
			waitForTimer(t, eng.Store(), kid) // the child is waiting
			if tt.stop {
				if _, err := eng.StopExecution(ctx, x.Arn, "", ""); err != nil {
					t.Fatal(err)
				}
			}
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if tt.want == engine.StatusRunning {
				time.Sleep(100 * time.Millisecond)
			} else if _, err := eng.Wait(wctx, kid); err != nil {
				t.Fatalf("the child still runs: %v", err)
			}
			got, err := eng.DescribeExecution(ctx, kid)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want {
				t.Errorf("child status %s, want %s", got.Status, tt.want)
			}
		})
	}
}

// crashingStore loses every commit of one execution after its first few,
// as a process killed at that point would: the store keeps the earlier
// ones only.
type crashingStore struct {
	engine.Store
	arn   string
	after int32
	seen  atomic.Int32
}

func (s *crashingStore) Commit(ctx context.Context, t engine.Transition) error {
	if t.ExecutionArn == s.arn && s.seen.Add(1) > s.after {
		return engine.ErrStoreClosed
	}
	return s.Store.Commit(ctx, t)
}

// A parent that started its named child and crashed before it committed
// the task's result starts it again after the restart: it finds the child
// it started, even with another input (the state before the task ran
// again), and continues with it instead of failing with
// ExecutionAlreadyExists.
func TestStartExecutionAgainAfterCrash(t *testing.T) {
	ctx := context.Background()
	mem := engine.NewMemStore()
	parentArn := "arn:aws:states:us-east-1:123456789012:execution:sm:parent"
	store := &crashingStore{Store: mem, arn: parentArn, after: 1} // only its start
	eng1 := engine.New(engine.Options{Store: store})
	child, err := eng1.CreateStateMachine(ctx, "child", waitHour, "")
	if err != nil {
		t.Fatal(err)
	}
	def := `{"StartAt": "Start", "States": {
		"Start": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
			"Parameters": {"StateMachineArn": "` + child.Arn + `", "Name": "kid", "Input": {"at.$": "$$.State.EnteredTime"}},
			"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}], "End": true},
		"Failed": {"Type": "Fail", "Error": "StartFailed"}}}`
	sm := create(t, eng1, def)
	x, err := eng1.StartExecution(ctx, sm.Arn, "parent", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	kid := "arn:aws:states:us-east-1:123456789012:execution:child:kid"
	waitForTimer(t, mem, kid)
	if !waitQuiet(t, eng1) { // the parent's commits are lost
		t.Fatal("the parent still runs")
	}
	_ = eng1.Close()

	time.Sleep(5 * time.Millisecond) // another EnteredTime, another input
	eng2 := newEngine(t, engine.Options{Store: mem})
	if _, err := eng2.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	done, err := eng2.Wait(wctx, x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != engine.StatusSucceeded || !strings.Contains(done.Output, kid) {
		t.Errorf("parent = %s %s %s, want SUCCEEDED with the child it started", done.Status, done.Error, done.Output)
	}
}

// The states:startExecution task answers as on AWS: without .sync the
// child's ARN and start date; with .sync its description with Input and
// Output as JSON text; with .sync:2 with them as JSON. A child that does
// not succeed fails a .sync task with States.TaskFailed and its
// description as the cause. Input absent starts the child with {}.
func TestStartExecutionTaskResults(t *testing.T) {
	const childDef = `{"StartAt": "C", "States": {"C": {"Type": "Choice",
		"Choices": [{"Variable": "$.fail", "IsPresent": true, "Next": "F"}], "Default": "P"},
		"P": {"Type": "Pass", "Parameters": {"got.$": "$"}, "End": true},
		"F": {"Type": "Fail", "Error": "Child", "Cause": "asked to"}}}`
	tests := []struct {
		name, resource, input string
		want                  func(out map[string]any) bool // the task's result, as the parent's output
		wantErr               string                        // or the parent's error
		wantCause             string                        // in the parent's cause
		machine               string                        // the child's machine, if not child
	}{
		{"not .sync", engine.StartExecutionResource, `, "Input": {"n": 1}`, func(out map[string]any) bool {
			return strings.HasSuffix(out["ExecutionArn"].(string), ":child:kid") && out["StartDate"] != nil && len(out) == 2
		}, "", "", ""},
		{".sync", engine.StartExecutionSyncResource, `, "Input": {"n": 1}`, func(out map[string]any) bool {
			return out["Status"] == "SUCCEEDED" && out["Input"] == `{"n":1}` && out["Output"] == `{"got":{"n":1}}` && out["Name"] == "kid"
		}, "", "", ""},
		{".sync:2", engine.StartExecutionSync2Resource, `, "Input": {"n": 1}`, func(out map[string]any) bool {
			in, _ := out["Input"].(map[string]any)
			o, _ := out["Output"].(map[string]any)
			return out["Status"] == "SUCCEEDED" && in["n"] == 1.0 && o != nil && o["got"].(map[string]any)["n"] == 1.0
		}, "", "", ""},
		{"no input", engine.StartExecutionSyncResource, ``, func(out map[string]any) bool {
			return out["Input"] == `{}` && out["Output"] == `{"got":{}}`
		}, "", "", ""},
		{"input as text", engine.StartExecutionSyncResource, `, "Input": "{\"n\":2}"`, func(out map[string]any) bool {
			return out["Input"] == `{"n":2}`
		}, "", "", ""},
		{"child failed", engine.StartExecutionSync2Resource, `, "Input": {"fail": true}`, nil, "States.TaskFailed", `"Status":"FAILED"`, ""},
		{"no such machine", engine.StartExecutionResource, ``, nil, "StepFunctions.StateMachineDoesNotExistException",
			"State Machine Does Not Exist: 'arn:aws:states:us-east-1:123456789012:stateMachine:none'",
			"arn:aws:states:us-east-1:123456789012:stateMachine:none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			eng := newEngine(t, engine.Options{})
			child, err := eng.CreateStateMachine(ctx, "child", childDef, "")
			if err != nil {
				t.Fatal(err)
			}
			if tt.machine == "" {
				tt.machine = child.Arn
			}
			parent := create(t, eng, `{"StartAt": "Start", "States": {"Start": {"Type": "Task", "Resource": "`+tt.resource+`",
				"Parameters": {"StateMachineArn": "`+tt.machine+`", "Name": "kid"`+tt.input+`}, "End": true}}}`)
			x := run(t, eng, parent.Arn, "parent", `{}`)
			if tt.wantErr != "" {
				if x.Status != engine.StatusFailed || x.Error != tt.wantErr || !strings.Contains(x.Cause, tt.wantCause) {
					t.Errorf("parent = %s %s %s, want FAILED %s with %s", x.Status, x.Error, x.Cause, tt.wantErr, tt.wantCause)
				}
				return
			}
			var out map[string]any
			if err := json.Unmarshal([]byte(x.Output), &out); err != nil || x.Status != engine.StatusSucceeded || !tt.want(out) {
				t.Errorf("parent = %s %s %s", x.Status, x.Output, x.Cause)
			}
		})
	}
}

// A states:startExecution task whose child's name is taken fails with
// StepFunctions.ExecutionAlreadyExistsException, unless the execution
// that holds the name is the task's own child (a run of the task whose
// result was lost): not when another execution, or no execution, started
// it.
func TestStartExecutionTaskNameTaken(t *testing.T) {
	ctx := context.Background()
	eng := newEngine(t, engine.Options{})
	child, err := eng.CreateStateMachine(ctx, "child", waitHour, "")
	if err != nil {
		t.Fatal(err)
	}
	taken, err := eng.StartExecution(ctx, child.Arn, "kid", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	route, err := eng.Dispatcher().Lookup(engine.StartExecutionResource)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"StateMachineArn": child.Arn, "Name": "kid", "Input": map[string]any{"n": 1.0}} // not an idempotent start
	for _, parent := range []string{"", execArnOf(child, "other")} {
		out, err := route.Handler(ctx, engine.TaskRequest{Resource: engine.StartExecutionResource, Input: in, ExecutionArn: parent})
		var te *engine.TaskError
		if !errors.As(err, &te) || te.Name != "StepFunctions.ExecutionAlreadyExistsException" || te.Cause != "Execution Already Exists: 'kid'" {
			t.Errorf("start by %q of a name %s holds = %v, %v; want StepFunctions.ExecutionAlreadyExistsException", parent, taken.Arn, out, err)
		}
	}
}

// Closing the engine while a startExecution.sync task waits for its child
// stops neither: both stay RUNNING in the store, for the next start to
// go on with.
func TestCloseLeavesSyncChildRunning(t *testing.T) {
	ctx := context.Background()
	store := engine.NewMemStore()
	eng := engine.New(engine.Options{Store: store})
	child, err := eng.CreateStateMachine(ctx, "child", waitHour, "")
	if err != nil {
		t.Fatal(err)
	}
	parent := create(t, eng, `{"StartAt": "Start", "States": {"Start": {"Type": "Task", "Resource": "`+engine.StartExecutionSyncResource+`",
		"Parameters": {"StateMachineArn": "`+child.Arn+`", "Name": "kid"}, "End": true}}}`)
	x, err := eng.StartExecution(ctx, parent.Arn, "parent", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	kid := execArnOf(child, "kid")
	waitForTimer(t, store, kid)
	_ = eng.Close()
	if !waitQuiet(t, eng) {
		t.Fatal("the parent still runs after Close")
	}
	for _, arn := range []string{x.Arn, kid} {
		if got, err := store.GetExecution(ctx, arn); err != nil || got.Status != engine.StatusRunning {
			t.Errorf("%s after Close = %s, %v; want RUNNING", arn, got.Status, err)
		}
	}
}

// A child's name AWS refuses fails the task with the error AWS names for
// it, StepFunctions.InvalidNameException, not as an invalid input.
func TestStartExecutionTaskInvalidName(t *testing.T) {
	ctx := context.Background()
	eng := newEngine(t, engine.Options{})
	child, err := eng.CreateStateMachine(ctx, "child", `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	parent := create(t, eng, `{"StartAt": "Start", "States": {"Start": {"Type": "Task", "Resource": "`+engine.StartExecutionResource+`",
		"Parameters": {"StateMachineArn": "`+child.Arn+`", "Name": "bad name"}, "End": true}}}`)
	x := run(t, eng, parent.Arn, "parent", `{}`)
	if x.Status != engine.StatusFailed || x.Error != "StepFunctions.InvalidNameException" || x.Cause != "Invalid Name: 'bad name'" {
		t.Errorf("parent = %s %s %q, want FAILED StepFunctions.InvalidNameException \"Invalid Name: 'bad name'\"", x.Status, x.Error, x.Cause)
	}
}
