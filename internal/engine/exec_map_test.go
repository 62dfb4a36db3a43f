package engine_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// TestMapItemBatcher: a DISTRIBUTED Map's ItemBatcher groups the items
// MaxItemsPerBatch (or MaxItemsPerBatchPath) at a time, all of them in
// one batch without either, and gives every batch its BatchInput.
func TestMapItemBatcher(t *testing.T) {
	tests := []struct {
		name, batcher, input string
		wantOutput           string // "" when the execution fails
		wantCause            string // a part of the failure's cause
	}{
		{"BatchInput", `{"MaxItemsPerBatch": 2, "BatchInput": {"k.$": "$.k"}}`, `{"xs": [1, 2, 3], "k": "v"}`,
			`[{"BatchInput":{"k":"v"},"Items":[1,2]},{"BatchInput":{"k":"v"},"Items":[3]}]`, ""},
		{"MaxItemsPerBatchPath", `{"MaxItemsPerBatchPath": "$.n"}`, `{"xs": [1, 2, 3, 4, 5], "n": 2}`,
			`[{"Items":[1,2]},{"Items":[3,4]},{"Items":[5]}]`, ""},
		{"MaxItemsPerBatchPath of one", `{"MaxItemsPerBatchPath": "$.n"}`, `{"xs": [1, 2], "n": 1}`,
			`[{"Items":[1]},{"Items":[2]}]`, ""},
		{"no item limit", `{"MaxInputBytesPerBatch": 1024}`, `{"xs": [1, 2, 3]}`,
			`[{"Items":[1,2,3]}]`, ""},
		{"MaxItemsPerBatchPath of zero", `{"MaxItemsPerBatchPath": "$.n"}`, `{"xs": [1, 2], "n": 0}`,
			"", `The MaxItemsPerBatchPath field refers to value "0" which is not a valid integer: $.n`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			sm := create(t, eng, `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs",
				"ItemBatcher": `+tt.batcher+`,
				"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
					"States": {"P": {"Type": "Pass", "End": true}}},
				"End": true}}}`)
			x := run(t, eng, sm.Arn, "m", tt.input)
			if tt.wantOutput == "" {
				if x.Status != engine.StatusFailed || x.Error != "States.Runtime" || !strings.Contains(x.Cause, tt.wantCause) {
					t.Errorf("execution = %s %s %q, want FAILED States.Runtime with a cause holding %q", x.Status, x.Error, x.Cause, tt.wantCause)
				}
				return
			}
			if x.Status != engine.StatusSucceeded || x.Output != tt.wantOutput {
				t.Errorf("execution = %s %s %s, want SUCCEEDED %s", x.Status, x.Output, x.Cause, tt.wantOutput)
			}
		})
	}
}

// TestInlineMapToleratesNoFailure: the tolerated failure thresholds are
// a DISTRIBUTED Map's: an INLINE Map that sets them still fails at its
// first failed iteration, with the iteration's error.
func TestInlineMapToleratesNoFailure(t *testing.T) {
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": 5, "ToleratedFailurePercentage": 100, "End": true,
		"ItemProcessor": {"StartAt": "C", "States": {
			"C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 2, "Next": "F"}], "Default": "S"},
			"F": {"Type": "Fail", "Error": "E", "Cause": "too big"}, "S": {"Type": "Succeed"}}}}}}`)
	x := run(t, eng, sm.Arn, "x", `[1, 2, 3]`)
	if x.Status != engine.StatusFailed || x.Error != "E" || x.Cause != "too big" {
		t.Errorf("execution = %s %s %q, want FAILED E \"too big\"", x.Status, x.Error, x.Cause)
	}
}

// TestResultPathFailureAfterBranches: a Parallel or Map state whose
// branches or iterations succeeded, but whose ResultPath cannot be
// applied, records its StateSucceeded event and no StateFailed event
// before its Catch handles States.ResultPathMatchFailure.
func TestResultPathFailureAfterBranches(t *testing.T) {
	for _, kind := range []string{"Parallel", "Map"} {
		t.Run(kind, func(t *testing.T) {
			body := `"Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}]`
			if kind == "Map" {
				body = `"ItemsPath": "$.items", "ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}`
			}
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			sm := create(t, eng, `{"StartAt": "S", "States": {
				"S": {"Type": "`+kind+`", `+body+`, "ResultPath": "$.s.deeper",
					"Catch": [{"ErrorEquals": ["States.ResultPathMatchFailure"], "ResultPath": "$.err", "Next": "Caught"}], "End": true},
				"Caught": {"Type": "Pass", "End": true}}}`)
			x := run(t, eng, sm.Arn, "x", `{"s": "a string", "items": [1]}`)
			if x.Status != engine.StatusSucceeded || !strings.Contains(x.Output, "States.ResultPathMatchFailure") {
				t.Fatalf("execution = %s %s %s, want SUCCEEDED with the caught States.ResultPathMatchFailure", x.Status, x.Output, x.Cause)
			}
			types := eventTypes(t, eng, x.Arn)
			if count(types, kind+"StateSucceeded") != 1 || count(types, kind+"StateFailed") != 0 {
				t.Errorf("history = %v, want one %sStateSucceeded and no %sStateFailed", types, kind, kind)
			}
		})
	}
}

// TestMapRetryWithFullHistory: a Map state whose failed iteration filled
// the history is not retried: the execution fails at the history limit
// at once, without waiting out the retry interval.
func TestMapRetryWithFullHistory(t *testing.T) {
	// ExecutionStarted, MapStateEntered, MapStateStarted,
	// MapIterationStarted and FailStateEntered fill five of the six
	// events; MapIterationFailed does not fit, ExecutionFailed is sixth.
	const limit = 6
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := engine.NewVirtualClock(start)
	eng := newEngine(t, engine.Options{Clock: clock, MaxHistoryEvents: limit})
	sm := create(t, eng, `{"StartAt": "M", "States": {"M": {"Type": "Map",
		"ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}},
		"Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 3600, "MaxAttempts": 3}], "End": true}}}`)
	x := run(t, eng, sm.Arn, "x", `[1]`)
	checkHistoryLimitFailure(t, eng, x, limit)
	if got := clock.Now().Sub(start); got != 0 {
		t.Errorf("virtual time passed = %v, want 0 (no retry interval)", got)
	}
}

// TestMapStopsStartingIterationsAfterFailure: once an iteration of a Map
// state fails, no further iteration starts: with MaxConcurrency 1, the
// failure of the first leaves the others unstarted.
func TestMapStopsStartingIterationsAfterFailure(t *testing.T) {
	d, calls := alwaysFailing("E")
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1, "End": true,
		"ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::fail", "End": true}}}}}}`)
	x := run(t, eng, sm.Arn, "x", `[1, 2, 3]`)
	if x.Status != engine.StatusFailed || x.Error != "E" {
		t.Fatalf("execution = %s %s, want FAILED E", x.Status, x.Error)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("task dispatched %d times, want 1", n)
	}
	if types := eventTypes(t, eng, x.Arn); count(types, "MapIterationStarted") != 1 {
		t.Errorf("history = %v, want one MapIterationStarted", types)
	}
}

// TestMapFailureEventChain: the MapStateFailed event of an INLINE Map
// follows the failed iteration's last event, the one its
// MapIterationFailed follows too, as AWS's histories chain them.
func TestMapFailureEventChain(t *testing.T) {
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
		"ItemProcessor": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}}}}`)
	x := run(t, eng, sm.Arn, "x", `[1]`)
	var iterationLast int64
	for _, ev := range history(t, eng, x.Arn) {
		switch ev.Type {
		case "MapIterationFailed":
			iterationLast = ev.PreviousEventID
		case "MapStateFailed":
			if iterationLast == 0 || ev.PreviousEventID != iterationLast {
				t.Errorf("MapStateFailed follows event %d, want the iteration's last (event %d)", ev.PreviousEventID, iterationLast)
			}
			return
		}
	}
	t.Errorf("history has no MapStateFailed")
}

// TestDistributedMapTimesOut: the execution's timeout, reached while a
// DISTRIBUTED Map's child workflows wait, times the execution out; it is
// no failed child workflow, and no tolerated failure threshold is
// exceeded.
func TestDistributedMapTimesOut(t *testing.T) {
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"TimeoutSeconds": 10, "StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
		"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "W",
			"States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}}}}`)
	x := run(t, eng, sm.Arn, "x", `[1, 2]`)
	if x.Status != engine.StatusTimedOut {
		t.Errorf("execution = %s %s, want TIMED_OUT", x.Status, x.Error)
	}
	if types := eventTypes(t, eng, x.Arn); count(types, "MapRunFailed") != 0 {
		t.Errorf("history = %v, want no MapRunFailed", types)
	}
}

// A DISTRIBUTED Map's child workflow is an execution of its own on AWS: an
// error in it names the event its state was entered at in the child's
// history (ExecutionStarted 1, the first state's entry 2, ...), not 0.
func TestDistributedMapChildErrorNamesItsOwnEventID(t *testing.T) {
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": 5, "End": true,
		"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "First",
			"States": {"First": {"Type": "Pass", "Next": "Bad"}, "Bad": {"Type": "Pass", "Parameters": {"a.$": "$.nope"}, "End": true}}}}}}`)
	x := run(t, eng, sm.Arn, "x", `[{}]`)
	if x.Status != engine.StatusSucceeded {
		t.Fatalf("execution = %s %s %s, want SUCCEEDED (the failure tolerated)", x.Status, x.Error, x.Cause)
	}
	// First entered 2, exited 3; Bad entered 4.
	if want := "state 'Bad' (entered at the event id #4)"; !strings.Contains(x.Output, want) {
		t.Errorf("output %s; want the item's cause to say %q", x.Output, want)
	}
	// A DISTRIBUTED Map inside the child is a Map Run of the child's
	// history, whose own children add nothing to it: 2 MapStateEntered,
	// 3 MapStateStarted, 4 MapRunStarted, 5 MapRunSucceeded,
	// 6 MapStateSucceeded, 7 MapStateExited, 8 Bad entered.
	eng2 := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	nested := create(t, eng2, `{"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": 5, "End": true,
		"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "Inner",
			"States": {"Inner": {"Type": "Map", "ItemsPath": "$.xs", "ResultPath": null, "Next": "Bad",
				"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
					"States": {"P": {"Type": "Pass", "End": true}}}},
				"Bad": {"Type": "Pass", "Parameters": {"a.$": "$.nope"}, "End": true}}}}}}`)
	y := run(t, eng2, nested.Arn, "y", `[{"xs": [1, 2]}]`)
	if want := "state 'Bad' (entered at the event id #8)"; !strings.Contains(y.Output, want) {
		t.Errorf("nested: output %s; want the item's cause to say %q", y.Output, want)
	}
}

// Numbers a path gives a Map beyond what the state can use: a batch size
// past int's range is all the items in one batch (it panicked, ending the
// process at every restart), and NaN or an infinity is no number (NaN
// passed every range check and tolerated every failure).
func TestMapNumbersOutOfRange(t *testing.T) {
	const distributed = `"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
		"States": {"P": {"Type": "Pass", "End": true}}}`
	tests := []struct {
		name, def, input   string
		wantStatus         engine.ExecutionStatus
		wantError, wantOut string // wantOut: a part of the output or the cause
	}{
		{"a batch size past int", `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs",
			"ItemBatcher": {"MaxItemsPerBatchPath": "$.n"}, ` + distributed + `, "End": true}}}`,
			`{"xs": [1, 2], "n": 1e19}`, engine.StatusSucceeded, "", `[{"Items":[1,2]}]`},
		{"a batch size of Infinity", `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs",
			"ItemBatcher": {"MaxItemsPerBatchPath": "$.n"}, ` + distributed + `, "End": true}}}`,
			`{"xs": [1, 2], "n": "Infinity"}`, engine.StatusFailed, "States.Runtime", "which is not a valid integer"},
		{"a tolerated percentage of NaN", `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs",
			"ToleratedFailurePercentagePath": "$.p", ` + distributed + `, "End": true}}}`,
			`{"xs": [1], "p": "NaN"}`, engine.StatusFailed, "States.Runtime", "which is not a valid float"},
		{"a concurrency past int", `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.xs",
			"MaxConcurrencyPath": "$.c", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}}`,
			`{"xs": [1, 2], "c": 1e19}`, engine.StatusSucceeded, "", `[1,2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			x := run(t, eng, create(t, eng, tt.def).Arn, "x", tt.input)
			if x.Status != tt.wantStatus || x.Error != tt.wantError || !strings.Contains(x.Output+x.Cause, tt.wantOut) {
				t.Errorf("execution = %s %s, output %s, cause %q; want %s %s with %q", x.Status, x.Error, x.Output, x.Cause,
					tt.wantStatus, tt.wantError, tt.wantOut)
			}
		})
	}
}
