package engine_test

import (
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// TestChoiceFirstMatchingRule: a Choice state follows the first of its
// rules that matches, not a later one that matches too.
func TestChoiceFirstMatchingRule(t *testing.T) {
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "C", "States": {
		"C": {"Type": "Choice", "Choices": [
			{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "First"},
			{"Variable": "$.n", "NumericGreaterThan": 2, "Next": "Second"}], "Default": "Second"},
		"First": {"Type": "Pass", "Result": "first", "End": true},
		"Second": {"Type": "Pass", "Result": "second", "End": true}}}`)
	if x := run(t, eng, sm.Arn, "x", `{"n": 3}`); x.Status != engine.StatusSucceeded || x.Output != `"first"` {
		t.Errorf("execution = %s %s, want SUCCEEDED \"first\"", x.Status, x.Output)
	}
}

// TestWaitAssignReadsEffectiveInput: a JSONPath Wait state's Assign reads
// its effective input (after InputPath) as $, as a Choice state's does.
func TestWaitAssignReadsEffectiveInput(t *testing.T) {
	eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	sm := create(t, eng, `{"StartAt": "W", "States": {
		"W": {"Type": "Wait", "Seconds": 0, "InputPath": "$.in", "Assign": {"v.$": "$.x"}, "Next": "P"},
		"P": {"Type": "Pass", "Parameters": {"v.$": "$v"}, "End": true}}}`)
	if x := run(t, eng, sm.Arn, "x", `{"x": "outer", "in": {"x": "inner"}}`); x.Status != engine.StatusSucceeded || x.Output != `{"v":"inner"}` {
		t.Errorf("execution = %s %s %s, want SUCCEEDED {\"v\":\"inner\"}", x.Status, x.Output, x.Cause)
	}
}
