package engine_test

import (
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// TestFailStateStrings: a Fail state's ErrorPath and CausePath must
// select strings, and its JSONata Error and Cause return strings;
// anything else fails the execution (States.Runtime,
// States.QueryEvaluationError) rather than becoming the error's name or
// cause as JSON text.
func TestFailStateStrings(t *testing.T) {
	tests := []struct {
		name, state, input   string
		wantError, wantCause string
	}{
		{"strings", `"ErrorPath": "$.e", "CausePath": "$.c"`, `{"e": "E", "c": "C"}`, "E", "C"},
		{"number error", `"ErrorPath": "$.e", "CausePath": "$.c"`, `{"e": 5, "c": "C"}`, "States.Runtime",
			`An error occurred while executing the state 'F' (entered at the event id #2). The ErrorPath field refers to value "5" which is not a string: $.e`},
		{"object cause", `"Error": "E", "CausePath": "$.c"`, `{"c": {"a": 1}}`, "States.Runtime",
			`An error occurred while executing the state 'F' (entered at the event id #2). The CausePath field refers to value "{\"a\":1}" which is not a string: $.c`},
		{"JSONata number error", `"QueryLanguage": "JSONata", "Error": "{% $states.input.e %}"`, `{"e": 5}`, "States.QueryEvaluationError",
			`An error occurred while executing the state 'F' (entered at the event id #2). The JSONata expression '$states.input.e' specified for the field 'Error' returned an unexpected result type. Expected 'string', but was 'number' for value: 5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
			sm := create(t, eng, `{"StartAt": "F", "States": {"F": {"Type": "Fail", `+tt.state+`}}}`)
			x := run(t, eng, sm.Arn, "fail", tt.input)
			if x.Status != engine.StatusFailed || x.Error != tt.wantError || x.Cause != tt.wantCause {
				t.Errorf("execution = %s %s: %s\nwant FAILED %s: %s", x.Status, x.Error, x.Cause, tt.wantError, tt.wantCause)
			}
		})
	}
}
