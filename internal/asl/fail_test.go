package asl

import (
	"errors"
	"testing"
)

// TestFailEval: a Fail state's error and cause are strings; a path or an
// intrinsic function that gives anything else fails the state with
// States.Runtime instead of being turned into its JSON text.
func TestFailEval(t *testing.T) {
	tests := []struct {
		name, fields, input  string
		wantError, wantCause string
		wantErrName          string // the error Eval returns; "" for none
		wantMessage          string
	}{
		{name: "literals", fields: `"Error": "E", "Cause": "C"`, input: `{}`, wantError: "E", wantCause: "C"},
		{name: "paths", fields: `"ErrorPath": "$.e", "CausePath": "$.c"`, input: `{"e": "E", "c": "C"}`, wantError: "E", wantCause: "C"},
		{name: "intrinsics", fields: `"ErrorPath": "States.Format('{}!', $.e)", "CausePath": "States.ArrayGetItem($.a, 1)"`,
			input: `{"e": "E", "a": ["x", "C"]}`, wantError: "E!", wantCause: "C"},
		{name: "ErrorPath selects a number", fields: `"ErrorPath": "$.e"`, input: `{"e": 5}`,
			wantErrName: ErrRuntime, wantMessage: `The ErrorPath field refers to value "5" which is not a string: $.e`},
		{name: "ErrorPath selects null", fields: `"ErrorPath": "$.e"`, input: `{"e": null}`,
			wantErrName: ErrRuntime, wantMessage: `The ErrorPath field refers to value "null" which is not a string: $.e`},
		{name: "CausePath selects an object", fields: `"Error": "E", "CausePath": "$.c"`, input: `{"c": {"a": 1}}`,
			wantErrName: ErrRuntime, wantMessage: `The CausePath field refers to value "{\"a\":1}" which is not a string: $.c`},
		{name: "CausePath intrinsic gives a number", fields: `"Error": "E", "CausePath": "States.ArrayGetItem($.a, 0)"`, input: `{"a": [1]}`,
			wantErrName: ErrRuntime, wantMessage: `The CausePath field refers to value "1" which is not a string: States.ArrayGetItem($.a, 0)`},
		{name: "JSONata strings", fields: `"QueryLanguage": "JSONata", "Error": "{% $states.input.e %}", "Cause": "{% 'C' %}"`, input: `{"e": "E"}`,
			wantError: "E", wantCause: "C"},
		{name: "JSONata Error a number", fields: `"QueryLanguage": "JSONata", "Error": "{% $states.input.e %}"`, input: `{"e": 5}`,
			wantErrName: ErrQueryEvaluationError,
			wantMessage: "The JSONata expression '$states.input.e' specified for the field 'Error' returned an unexpected result type. Expected 'string', but was 'number' for value: 5"},
		{name: "JSONata Cause an object", fields: `"QueryLanguage": "JSONata", "Error": "E", "Cause": "{% $states.input.c %}"`, input: `{"c": {"a": 1}}`,
			wantErrName: ErrQueryEvaluationError,
			wantMessage: `The JSONata expression '$states.input.c' specified for the field 'Cause' returned an unexpected result type. Expected 'string', but was 'object' for value: {"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(`{"StartAt": "F", "States": {"F": {"Type": "Fail", ` + tt.fields + `}}}`))
			if err != nil {
				t.Fatal(err)
			}
			name, cause, _, err := m.States["F"].(*FailState).Eval(&Scope{Input: mustJSON(t, tt.input)})
			if tt.wantErrName == "" {
				if err != nil || name != tt.wantError || cause != tt.wantCause {
					t.Errorf("Eval = %q, %q, %v; want %q, %q", name, cause, err, tt.wantError, tt.wantCause)
				}
				return
			}
			var ae *Error
			if !errors.As(err, &ae) || ae.Name != tt.wantErrName || ae.Cause != tt.wantMessage {
				t.Errorf("Eval error = %v, want %s: %s", err, tt.wantErrName, tt.wantMessage)
			}
		})
	}
}
