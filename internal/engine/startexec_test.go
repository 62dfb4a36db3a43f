package engine_test

import (
	"context"
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
