package engine_test

import (
	"context"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
)

// A task result, or a task input after Parameters, beyond 256 KiB fails
// the state with States.DataLimitExceeded, which States.ALL does not
// catch, even when ResultSelector or ResultPath would have kept only a
// little of it.
func TestTaskDataLimit(t *testing.T) {
	big := strings.Repeat("x", 200*1024)
	var calls atomic.Int32
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::big", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		calls.Add(1)
		return map[string]any{"big": big + big, "small": 1.0}, nil
	}})
	d.Handle("arn:aws:states:::small", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		calls.Add(1)
		return "ok", nil
	}})
	const catchAll = `"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "Retry": [{"ErrorEquals": ["States.ALL"]}]`
	tests := []struct {
		name, state string
		calls       int32
	}{
		{"result with ResultSelector", `"Resource": "arn:aws:states:::big", "ResultSelector": {"s.$": "$.small"}`, 1},
		{"result with ResultPath null", `"Resource": "arn:aws:states:::big", "ResultPath": null`, 1},
		{"input after Parameters", `"Resource": "arn:aws:states:::small", "Parameters": {"a.$": "$.s", "b.$": "$.s"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls.Store(0)
			eng := newEngine(t, engine.Options{Dispatcher: d})
			sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", `+tt.state+`, `+catchAll+`, "End": true},
				"Caught": {"Type": "Pass", "End": true}}}`)
			x := run(t, eng, sm.Arn, "x", `{"s": "`+big+`"}`)
			want := "The state/task 'T' returned a result with a size exceeding the maximum number of bytes service limit."
			if x.Status != engine.StatusFailed || x.Error != "States.DataLimitExceeded" || x.Cause != want {
				t.Errorf("execution = %s %s %q, want FAILED States.DataLimitExceeded %q", x.Status, x.Error, x.Cause, want)
			}
			if n := calls.Load(); n != tt.calls {
				t.Errorf("task dispatched %d times, want %d", n, tt.calls)
			}
		})
	}
}

// A descendant query on an input nested 5,000 levels deep (30 KB)
// selects 5,000 values, each holding the rest of the input: their JSON
// text would take some 75 MB. The state fails with
// States.DataLimitExceeded once 256 KiB are counted, without encoding or
// copying the whole result: the bound below is generous (the execution
// allocates a few megabytes; it took gigabytes and a minute when the
// payload check encoded the whole result and JSONata results were copied
// member by member).
func TestDeepDescendantDataLimit(t *testing.T) {
	const depth = 5000
	input := strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
	tests := []struct {
		name, def string
		budget    uint64 // bytes the execution may allocate
	}{
		{"JSONPath", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"h.$": "$..a"}, "End": true}}}`, 64 << 20},
		// gnata's own descendant operator allocates some 630 MB here
		// (it grows its result level by level, in O(N²) steps), which
		// the budget leaves room for; copying the 5,000 results took
		// gigabytes more.
		{"JSONata", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass",
			"Output": "{% $states.input.**.a %}", "End": true}}}`, 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{})
			sm := create(t, eng, tt.def)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			x := run(t, eng, sm.Arn, "x", input)
			runtime.ReadMemStats(&after)
			if x.Status != engine.StatusFailed || x.Error != "States.DataLimitExceeded" {
				t.Errorf("execution = %s %s, want FAILED States.DataLimitExceeded", x.Status, x.Error)
			}
			got := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d KB", got>>10)
			if got > tt.budget {
				t.Errorf("execution allocated %d MB, want at most %d MB", got>>20, tt.budget>>20)
			}
		})
	}
}

// The results a Map or Parallel state collects are its result: beyond
// 256 KiB they fail the state with States.DataLimitExceeded, as a task's
// result does, even when ResultSelector or ResultPath would have kept
// only a little of them.
func TestMapParallelDataLimit(t *testing.T) {
	input := `{"s": "` + strings.Repeat("a", 100000) + `", "i": [1, 2, 3]}`
	const catchAll = `"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "Retry": [{"ErrorEquals": ["States.ALL"]}]`
	tests := []struct {
		name, state string
	}{
		{"Map with ResultSelector", `"Type": "Map", "ItemsPath": "$.i", "ItemSelector": {"s.$": "$.s"},
			"ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}},
			"ResultSelector": {"n.$": "States.ArrayLength($)"}`},
		{"Map with ResultPath null", `"Type": "Map", "ItemsPath": "$.i", "ItemSelector": {"s.$": "$.s"},
			"ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}},
			"ResultPath": null`},
		{"Parallel with ResultSelector", `"Type": "Parallel", "Branches": [
			{"StartAt": "X", "States": {"X": {"Type": "Pass", "End": true}}},
			{"StartAt": "Y", "States": {"Y": {"Type": "Pass", "End": true}}},
			{"StartAt": "Z", "States": {"Z": {"Type": "Pass", "End": true}}}],
			"ResultSelector": {"n.$": "States.ArrayLength($)"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{})
			sm := create(t, eng, `{"StartAt": "M", "States": {"M": {`+tt.state+`, `+catchAll+`, "End": true},
				"Caught": {"Type": "Pass", "End": true}}}`)
			x := run(t, eng, sm.Arn, "x", input)
			want := "The state/task 'M' returned a result with a size exceeding the maximum number of bytes service limit."
			if x.Status != engine.StatusFailed || x.Error != "States.DataLimitExceeded" || x.Cause != want {
				t.Errorf("execution = %s %s %q, want FAILED States.DataLimitExceeded %q", x.Status, x.Error, x.Cause, want)
			}
			types := eventTypes(t, eng, x.Arn)
			if n := len(types); n < 2 || !strings.HasSuffix(types[n-2], "StateFailed") {
				t.Errorf("events end %v, want a StateFailed before ExecutionFailed", types[max(n-3, 0):])
			}
		})
	}
}
