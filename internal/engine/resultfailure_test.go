package engine_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
)

// TestResultFailureRetryCatch: an error raised while a Task, Parallel or
// Map state processes its successful result (ResultPath that cannot be
// applied, a JSONata Assign that fails) is an error the state reports:
// its Retry and Catch see it, as the ASL spec says. States.Runtime
// (ResultSelector) is still not caught, and a JSONata Output failure is
// left outside Retry and Catch.
func TestResultFailureRetryCatch(t *testing.T) {
	const task = "arn:aws:states:::test:task"
	const catchAll = `"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}]`
	const c = `"C":{"Type":"Pass","End":true}`
	tests := []struct {
		name       string
		def        string
		wantStatus engine.ExecutionStatus
		wantError  string // the execution's error, or the caught error in the output
		wantCause  string // a part of the cause
		wantTasks  int64
		wantEvents []string // a subsequence of the history
	}{
		{name: "task ResultPath caught",
			def:        `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `","ResultPath":"$.a.b",` + catchAll + `,"End":true},` + c + `}}`,
			wantStatus: engine.StatusSucceeded, wantError: "States.ResultPathMatchFailure", wantCause: "Unable to apply ResultPath '$.a.b'", wantTasks: 1,
			wantEvents: []string{"TaskSucceeded", "TaskStateExited", "PassStateEntered", "ExecutionSucceeded"}},
		{name: "task ResultPath retried",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `","ResultPath":"$.a.b",
				"Retry":[{"ErrorEquals":["States.ResultPathMatchFailure"],"MaxAttempts":1}],"End":true}}}`,
			wantStatus: engine.StatusFailed, wantError: "States.ResultPathMatchFailure", wantCause: "Unable to apply ResultPath", wantTasks: 2,
			wantEvents: []string{"TaskSucceeded", "TaskScheduled", "TaskSucceeded", "ExecutionFailed"}},
		{name: "task ResultPath uncaught",
			def:        `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `","ResultPath":"$.a.b","End":true}}}`,
			wantStatus: engine.StatusFailed, wantError: "States.ResultPathMatchFailure", wantCause: "Unable to apply ResultPath", wantTasks: 1,
			wantEvents: []string{"TaskStarted", "TaskSucceeded", "ExecutionFailed"}},
		{name: "parallel ResultPath caught",
			def: `{"StartAt":"P","States":{"P":{"Type":"Parallel","ResultPath":"$.a.b",` + catchAll + `,"End":true,
				"Branches":[{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"` + task + `","End":true}}}]},` + c + `}}`,
			wantStatus: engine.StatusSucceeded, wantError: "States.ResultPathMatchFailure", wantCause: "Unable to apply ResultPath", wantTasks: 1,
			wantEvents: []string{"ParallelStateSucceeded", "ParallelStateExited", "PassStateEntered", "ExecutionSucceeded"}},
		{name: "map ResultPath retried then caught",
			def: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ResultPath":"$.a.b",
				"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":1}],` + catchAll + `,"End":true,
				"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Task","Resource":"` + task + `","End":true}}}},` + c + `}}`,
			wantStatus: engine.StatusSucceeded, wantError: "States.ResultPathMatchFailure", wantCause: "Unable to apply ResultPath", wantTasks: 2,
			wantEvents: []string{"MapStateSucceeded", "MapStateStarted", "MapStateSucceeded", "MapStateExited", "PassStateEntered"}},
		{name: "jsonata Assign caught",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `",
				"Assign":{"x":"{% $number('nope') + $undefinedfn() %}"},` + catchAll + `,"End":true},` + c + `}}`,
			wantStatus: engine.StatusSucceeded, wantError: "States.QueryEvaluationError", wantTasks: 1,
			wantEvents: []string{"TaskSucceeded", "EvaluationFailed", "TaskStateExited", "PassStateEntered", "ExecutionSucceeded"}},
		{name: "ResultSelector States.Runtime not caught",
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `","ResultSelector":{"v.$":"$.nope"},
				"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},` + c + `}}`,
			wantStatus: engine.StatusFailed, wantError: "States.Runtime", wantTasks: 1,
			wantEvents: []string{"TaskSucceeded", "ExecutionFailed"}},
		{name: "jsonata Output not caught",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"` + task + `",
				"Output":"{% $number('nope') + $undefinedfn() %}",` + catchAll + `,"End":true},` + c + `}}`,
			wantStatus: engine.StatusFailed, wantError: "States.QueryEvaluationError", wantTasks: 1,
			wantEvents: []string{"TaskSucceeded", "EvaluationFailed", "ExecutionFailed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dispatched atomic.Int64
			d := engine.NewDispatcher()
			d.Handle(task, engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
				dispatched.Add(1)
				return map[string]any{"x": 1.0}, nil
			}})
			eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			sm := create(t, eng, tt.def)
			x := run(t, eng, sm.Arn, "x", `{"a":"s","items":[1]}`)
			gotError, gotCause := x.Error, x.Cause
			if x.Status == engine.StatusSucceeded {
				v, err := asl.ParseJSON([]byte(x.Output))
				m, _ := v.(map[string]any)
				if err != nil || m == nil {
					t.Fatalf("output %s is not the caught error", x.Output)
				}
				gotError, _ = m["Error"].(string)
				gotCause, _ = m["Cause"].(string)
			}
			if x.Status != tt.wantStatus || gotError != tt.wantError || !strings.Contains(gotCause, tt.wantCause) {
				t.Errorf("execution = %s, error %q, cause %q (output %s); want %s, error %q, cause with %q",
					x.Status, gotError, gotCause, x.Output, tt.wantStatus, tt.wantError, tt.wantCause)
			}
			if got := dispatched.Load(); got != tt.wantTasks {
				t.Errorf("the task ran %d times, want %d", got, tt.wantTasks)
			}
			types := eventTypes(t, eng, x.Arn)
			rest := types
			for _, w := range tt.wantEvents {
				i := 0
				for i < len(rest) && rest[i] != w {
					i++
				}
				if i == len(rest) {
					t.Errorf("history %v does not have %v in order", types, tt.wantEvents)
					break
				}
				rest = rest[i+1:]
			}
		})
	}
}
