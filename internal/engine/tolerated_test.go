package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// TestToleratedFailureThresholds: a DISTRIBUTED Map fails with
// States.ExceedToleratedFailureThreshold when its failed items exceed
// either threshold it specifies, as on AWS ("If you specify both values,
// the workflow fails when it exceeds either value"), and succeeds while
// they exceed none. Items greater than 2 fail.
func TestToleratedFailureThresholds(t *testing.T) {
	tests := []struct {
		name       string
		thresholds string
		input      string
		wantFailed bool
	}{
		{"count held, percentage exceeded", `"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 10`, `[1,2,3,4]`, true},
		{"count exceeded, percentage held", `"ToleratedFailureCount": 0, "ToleratedFailurePercentage": 100`, `[1,2,3]`, true},
		{"both held", `"ToleratedFailureCount": 2, "ToleratedFailurePercentage": 50`, `[1,2,3,4]`, false},
		{"both exceeded", `"ToleratedFailureCount": 1, "ToleratedFailurePercentage": 25`, `[1,2,3,4]`, true},
		{"count alone held", `"ToleratedFailureCount": 2`, `[1,2,3,4]`, false},
		{"count alone exceeded", `"ToleratedFailureCount": 1`, `[1,2,3,4]`, true},
		{"percentage alone held", `"ToleratedFailurePercentage": 50`, `[1,2,3,4]`, false},
		{"percentage alone exceeded", `"ToleratedFailurePercentage": 49`, `[1,2,3,4]`, true},
		{"count path held, percentage exceeded", `"ToleratedFailureCountPath": "$.count", "ToleratedFailurePercentage": 10`, `{"count": 5, "items": [1,2,3,4]}`, true},
		{"none", ``, `[1,2,3]`, true},
		{"none, no failure", ``, `[1,2]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			thresholds := tt.thresholds
			if thresholds != "" {
				thresholds += ", "
			}
			items := ""
			if tt.input[0] == '{' {
				items = `"ItemsPath": "$.items", `
			}
			def := fmt.Sprintf(`{"StartAt": "M", "States": {"M": {"Type": "Map", %s%s"End": true,
				"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "C", "States": {
					"C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 2, "Next": "F"}], "Default": "S"},
					"F": {"Type": "Fail", "Error": "E"}, "S": {"Type": "Succeed"}}}}}}`, thresholds, items)
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			sm := create(t, eng, def)
			x := run(t, eng, sm.Arn, "x", tt.input)
			types := eventTypes(t, eng, x.Arn)
			if tt.wantFailed {
				if x.Status != engine.StatusFailed || x.Error != "States.ExceedToleratedFailureThreshold" || count(types, "MapRunFailed") != 1 {
					t.Errorf("execution = %s %s, history %v; want FAILED States.ExceedToleratedFailureThreshold after MapRunFailed", x.Status, x.Error, types)
				}
				return
			}
			if x.Status != engine.StatusSucceeded || count(types, "MapRunSucceeded") != 1 {
				t.Errorf("execution = %s %s, history %v; want SUCCEEDED after MapRunSucceeded", x.Status, x.Error, types)
			}
		})
	}
}

// TestMapMaxConcurrencyPathNegative: a MaxConcurrencyPath that selects a
// negative number fails the Map with States.Runtime; MaxConcurrency is a
// non-negative integer (0: unbounded).
func TestMapMaxConcurrencyPathNegative(t *testing.T) {
	def := `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrencyPath": "$.m", "End": true,
		"ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}`
	tests := []struct {
		input      string
		wantStatus engine.ExecutionStatus
	}{
		{`{"m": -1, "items": [1, 2]}`, engine.StatusFailed},
		{`{"m": 0, "items": [1, 2]}`, engine.StatusSucceeded},
		{`{"m": 1, "items": [1, 2]}`, engine.StatusSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			sm := create(t, eng, def)
			x := run(t, eng, sm.Arn, "x", tt.input)
			if x.Status != tt.wantStatus || (tt.wantStatus == engine.StatusFailed && x.Error != "States.Runtime") {
				t.Errorf("execution = %s %s %s, want %s (States.Runtime when failed)", x.Status, x.Error, x.Cause, tt.wantStatus)
			}
		})
	}
}
