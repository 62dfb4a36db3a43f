package engine

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// countingStore counts Commit calls.
type countingStore struct {
	Store
	commits atomic.Int32
}

func (s *countingStore) Commit(ctx context.Context, t Transition) error {
	s.commits.Add(1)
	return s.Store.Commit(ctx, t)
}

// A task that ends within taskCommitDelay has its scheduling events
// committed with what follows it; a longer one has them committed, and
// visible in the history, after taskCommitDelay while it runs.
func TestTaskScheduledCommit(t *testing.T) {
	tests := []struct {
		name string
		// runFor is how long the task runs.
		runFor time.Duration
		// whileRunning is the history just before the task returns.
		whileRunning []string
		// commits counts the commits: start, (scheduled,) succeeded.
		commits int32
	}{
		{"fast task", taskCommitDelay / 2, []string{"ExecutionStarted"}, 2},
		{"slow task", 2 * taskCommitDelay, []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := &countingStore{Store: NewMemStore()}
				var eng *Engine
				var hist []string
				d := NewDispatcher()
				d.Handle("arn:aws:states:::work", Route{Handler: func(ctx context.Context, req TaskRequest) (any, error) {
					time.Sleep(tt.runFor)
					hist = historyTypes(t, eng, req.ExecutionArn)
					return map[string]any{"done": true}, nil
				}})
				eng = New(Options{Store: store, Dispatcher: d})
				defer eng.Close()
				arn, commits := runToSuccess(t, eng, store, `{"StartAt": "T", "States": {
					"T": {"Type": "Task", "Resource": "arn:aws:states:::work", "End": true}}}`)
				if !slices.Equal(hist, tt.whileRunning) {
					t.Errorf("history while the task ran = %v, want %v", hist, tt.whileRunning)
				}
				if got := commits; got != tt.commits {
					t.Errorf("%d commits, want %d", got, tt.commits)
				}
				want := []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}
				if got := historyTypes(t, eng, arn); !slices.Equal(got, want) {
					t.Errorf("history = %v, want %v", got, want)
				}
			})
		})
	}
}

// runToSuccess creates a state machine of definition, runs an execution
// of it with input {} until it succeeds, and returns its ARN and the
// commits store counted meanwhile.
func runToSuccess(t *testing.T, eng *Engine, store *countingStore, definition string) (string, int32) {
	t.Helper()
	ctx := context.Background()
	sm, err := eng.CreateStateMachine(ctx, "m", definition, "")
	if err != nil {
		t.Fatal(err)
	}
	before := store.commits.Load()
	x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if x, err = eng.Wait(ctx, x.Arn); err != nil || x.Status != StatusSucceeded {
		t.Fatalf("execution = %+v, %v", x, err)
	}
	return x.Arn, store.commits.Load() - before
}

func historyTypes(t *testing.T, eng *Engine, arn string) []string {
	t.Helper()
	hist, err := eng.History(context.Background(), arn)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	var out []string
	for _, ev := range hist {
		out = append(out, ev.Type)
	}
	return out
}

// A task that ended is committed before the next task is dispatched: a
// loop of tasks that never waits (Task, Pass, Choice, Task) repeated
// after a crash every task since its last commit, with no wait to
// commit at. While the third task runs, the first two have ended in the
// committed history, and a restart would dispatch the third alone.
func TestTaskEndCommittedBeforeNextTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &countingStore{Store: NewMemStore()}
		var eng *Engine
		var ended []int // TaskSucceeded events committed while each task ran
		d := NewDispatcher()
		d.Handle("arn:aws:states:::work", Route{Handler: func(ctx context.Context, req TaskRequest) (any, error) {
			time.Sleep(taskCommitDelay / 10)
			n := 0
			for _, typ := range historyTypes(t, eng, req.ExecutionArn) {
				if typ == "TaskSucceeded" {
					n++
				}
			}
			ended = append(ended, n)
			return map[string]any{"n": float64(len(ended))}, nil
		}})
		eng = New(Options{Store: store, Dispatcher: d})
		defer eng.Close()
		_, commits := runToSuccess(t, eng, store, `{"StartAt": "T", "States": {
			"T": {"Type": "Task", "Resource": "arn:aws:states:::work", "Next": "P"},
			"P": {"Type": "Pass", "Next": "C"},
			"C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 3, "Next": "T"}], "Default": "Done"},
			"Done": {"Type": "Succeed"}}}`)
		if want := []int{0, 1, 2}; !slices.Equal(ended, want) {
			t.Errorf("tasks ended in the committed history while each task ran: %v, want %v", ended, want)
		}
		// Start, one before each task after the first, the end.
		if got := commits; got != 4 {
			t.Errorf("%d commits, want 4", got)
		}
	})
}
