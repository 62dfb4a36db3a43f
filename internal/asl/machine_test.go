package asl

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	def := `{
	  "Comment": "all state types",
	  "StartAt": "P",
	  "TimeoutSeconds": 60,
	  "States": {
	    "P": {"Type": "Pass", "InputPath": "$.['in put']", "Result": {"x": 1}, "ResultPath": "$.r.['x y']", "Next": "C"},
	    "C": {"Type": "Choice", "Choices": [{"Variable": "$.r.x", "NumericEquals": 1, "Next": "W"}], "Default": "F"},
	    "W": {"Type": "Wait", "SecondsPath": "$.r.x", "Next": "T"},
	    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "f"},
	          "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}, {"ErrorEquals": ["States.ALL"]}],
	          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}], "Next": "Par"},
	    "Par": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "M"},
	    "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
	          "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
	          "Next": "L"},
	    "L": {"Type": "Map", "Iterator": {"StartAt": "LI", "States": {"LI": {"Type": "Pass", "End": true}}}, "Next": "J"},
	    "J": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $states.input %}", "Next": "JC"},
	    "JC": {"Type": "Choice", "QueryLanguage": "JSONata", "Choices": [{"Condition": true, "Next": "S"}], "Default": "S"},
	    "S": {"Type": "Succeed"},
	    "F": {"Type": "Fail", "Error": "E", "Cause": "C"}
	  }
	}`
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if m.StartAt != "P" || len(m.States) != 11 || m.TimeoutSeconds != 60 {
		t.Errorf("machine = %+v", m)
	}
	tests := []struct {
		name string
		typ  string
	}{{"P", TypePass}, {"C", TypeChoice}, {"W", TypeWait}, {"T", TypeTask}, {"Par", TypeParallel}, {"M", TypeMap}, {"S", TypeSucceed}, {"F", TypeFail}}
	for _, tt := range tests {
		if got := m.States[tt.name].Base().Type; got != tt.typ {
			t.Errorf("state %s type = %s, want %s", tt.name, got, tt.typ)
		}
	}
	if !m.States["M"].(*MapState).Distributed() || m.States["L"].(*MapState).Distributed() {
		t.Errorf("M must be DISTRIBUTED and L (legacy Iterator) INLINE")
	}
	if m.States["J"].Base().QueryLanguage != LangJSONata || m.States["P"].Base().QueryLanguage != LangJSONPath {
		t.Errorf("per-state query languages not applied")
	}
	if r := m.States["T"].Base().Retry[1]; r.MaxAttempts != 3 || r.IntervalSeconds != 1 || r.BackoffRate != 2 {
		t.Errorf("retrier defaults = %+v, want 3 attempts, 1 s, rate 2", r)
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name, def string
		want      []string // substrings of the error: state and field
	}{
		{"not json", `{`, []string{"INVALID_JSON_DESCRIPTION"}},
		{"missing StartAt target", `{"StartAt": "X", "States": {"A": {"Type": "Succeed"}}}`, []string{"/StartAt", "X"}},
		{"unknown field", `{"StartAt": "A", "States": {"A": {"Type": "Succeed", "Foo": 1}}}`, []string{"/States/A/Foo"}},
		{"unknown type", `{"StartAt": "A", "States": {"A": {"Type": "Sleep"}}}`, []string{"/States/A/Type"}},
		{"missing Next", `{"StartAt": "A", "States": {"A": {"Type": "Pass"}}}`, []string{"/States/A", "Next or End"}},
		{"bad Next", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}`, []string{"/States/A", "B"}},
		{"unreachable", `{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}}`, []string{"/States/B", "not reachable"}},
		{"bad path", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "nope", "End": true}}}`, []string{"/States/A/InputPath"}},
		{"bad ResultPath", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": "$.a[*]", "End": true}}}`, []string{"/States/A/ResultPath"}},
		{"bad ResultPath after a dot", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": "$.a.[*]", "End": true}}}`, []string{"/States/A/ResultPath"}},
		{"bad intrinsic", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "States.Nope()"}, "End": true}}}`, []string{"/States/A/Parameters"}},
		{"choice without rules", `{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": []}}}`, []string{"/States/A/Choices"}},
		{"choice rule without operator", `{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "Next": "B"}]}, "B": {"Type": "Succeed"}}}`, []string{"/States/A/Choices[0]"}},
		{"choice IsNullPath is no operator", `{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNullPath": "$.y", "Next": "B"}], "Default": "B"}, "B": {"Type": "Succeed"}}}`,
			[]string{"/States/A/Choices[0]/IsNullPath"}},
		{"choice bad value type", `{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": "1", "Next": "B"}]}, "B": {"Type": "Succeed"}}}`, []string{"/States/A/Choices[0]/NumericEquals"}},
		{"wait two fields", `{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": true}}}`, []string{"/States/A", "exactly one"}},
		{"Retry not an array", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "Retry": {"ErrorEquals": ["X"]}, "End": true}}}`, []string{"/States/A/Retry", "must be an array"}},
		{"Catch member not an object", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "Catch": [{"ErrorEquals": ["X"], "Next": "B"}, 1], "End": true}, "B": {"Type": "Succeed"}}}`, []string{"/States/A/Catch[1]", "must be an object"}},
		{"ErrorPath with States.MathAdd", `{"StartAt": "A", "States": {"A": {"Type": "Fail", "ErrorPath": "States.MathAdd(1, 2)"}}}`,
			[]string{"/States/A/ErrorPath", "SCHEMA_VALIDATION_FAILED", "not States.MathAdd"}},
		{"CausePath with States.Array", `{"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": "E", "CausePath": "States.Array(1, 2)"}}}`,
			[]string{"/States/A/CausePath", "SCHEMA_VALIDATION_FAILED", "not States.Array"}},
		{"Fail Error a number", `{"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": 5}}}`, []string{"/States/A/Error", "must be a string"}},
		{"Fail Cause an object", `{"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": "E", "Cause": {"a": 1}}}}`, []string{"/States/A/Cause", "must be a string"}},
		{"JSONata Fail Error a number", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Fail", "Error": 5}}}`, []string{"/States/A/Error", "must be a string"}},
		{"JSONata Condition a number", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Condition": 5, "Next": "B"}], "Default": "B"}, "B": {"Type": "Succeed"}}}`,
			[]string{"/States/A/Choices[0]/Condition", "must be a boolean or a JSONata expression string"}},
		{"JSONata Condition a plain string", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Condition": "yes", "Next": "B"}], "Default": "B"}, "B": {"Type": "Succeed"}}}`,
			[]string{"/States/A/Choices[0]/Condition", "must be a boolean or a JSONata expression string"}},
		{"JSONata Condition null", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Condition": null, "Next": "B"}], "Default": "B"}, "B": {"Type": "Succeed"}}}`,
			[]string{"/States/A/Choices[0]/Condition", "must be a boolean or a JSONata expression string"}},
		{"Resource not an ARN", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "not-an-arn", "End": true}}}`,
			[]string{"/States/A/Resource", "SCHEMA_VALIDATION_FAILED: Value is not a valid resource ARN"}},
		{"Resource without a service", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws::::x", "End": true}}}`,
			[]string{"/States/A/Resource", "SCHEMA_VALIDATION_FAILED: Value is not a valid resource ARN"}},
		{"Resource without a resource", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::", "End": true}}}`,
			[]string{"/States/A/Resource", "SCHEMA_VALIDATION_FAILED: Value is not a valid resource ARN"}},
		{"Resource of another partition prefix", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:gcp:states:::x", "End": true}}}`,
			[]string{"/States/A/Resource", "SCHEMA_VALIDATION_FAILED: Value is not a valid resource ARN"}},
		{"Resource empty", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "", "End": true}}}`,
			[]string{"/States/A/Resource", "SCHEMA_VALIDATION_FAILED: Value is not a valid resource ARN"}},
		{"fail both", `{"StartAt": "A", "States": {"A": {"Type": "Fail", "Error": "x", "ErrorPath": "$.e"}}}`, []string{"/States/A", "Error and ErrorPath"}},
		{"States.ALL with another name", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "Retry": [{"ErrorEquals": ["States.ALL", "X"]}], "End": true}}}`, []string{"/States/A/Retry[0]/ErrorEquals", "alone"}},
		{"States.ALL not last", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}], "End": true}}}`, []string{"/States/A/Retry[0]/ErrorEquals"}},
		{"heartbeat not below timeout", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "TimeoutSeconds": 10, "HeartbeatSeconds": 10, "End": true}}}`, []string{"/States/A/HeartbeatSeconds", "smaller than TimeoutSeconds"}},
		{"timeout and its path", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "TimeoutSeconds": 10, "TimeoutSecondsPath": "$.t", "End": true}}}`, []string{"/States/A", "TimeoutSeconds and TimeoutSecondsPath"}},
		{"heartbeat and its path", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "HeartbeatSeconds": 10, "HeartbeatSecondsPath": "$.h", "End": true}}}`, []string{"/States/A", "HeartbeatSeconds and HeartbeatSecondsPath"}},
		{"retry in pass", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Retry": [], "End": true}}}`, []string{"/States/A/Retry"}},
		{"jsonpath field in jsonata", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$", "End": true}}}`, []string{"/States/A/InputPath"}},
		{"jsonata field in jsonpath", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": {}, "End": true}}}`, []string{"/States/A/Output"}},
		{"bad jsonata", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% $$$( %}", "End": true}}}`, []string{"/States/A/Output"}},
		{"branch bad next", `{"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "A"}}}], "End": true}}}`, []string{"/States/A/Branches[0]/States/B"}},
		{"catcher ResultPath not a reference path", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "End": true,
			"Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.a[*]", "Next": "B"}]}, "B": {"Type": "Succeed"}}}`,
			[]string{"/States/A/Catch[0]/ResultPath", "INVALID_JSON_PATH"}},
		{"TimeoutSeconds above its bound", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "TimeoutSeconds": 100000000, "End": true}}}`,
			[]string{"/States/A/TimeoutSeconds"}},
		{"HeartbeatSeconds above its bound", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "HeartbeatSeconds": 100000000, "End": true}}}`,
			[]string{"/States/A/HeartbeatSeconds"}},
		{"Wait Seconds negative", `{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": -1, "End": true}}}`,
			[]string{"/States/A/Seconds", "non-negative integer"}},
		{"Wait Seconds above its bound", `{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 100000000, "End": true}}}`,
			[]string{"/States/A/Seconds"}},
		{"IntervalSeconds above its bound", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "End": true,
			"Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 100000000}]}}}`,
			[]string{"/States/A/Retry[0]/IntervalSeconds"}},
		{"MaxAttempts above its bound", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "End": true,
			"Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 100000000}]}}}`,
			[]string{"/States/A/Retry[0]/MaxAttempts"}},
		{"IntervalSeconds zero", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "End": true,
			"Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 0}]}}}`,
			[]string{"/States/A/Retry[0]/IntervalSeconds"}},
		{"MaxDelaySeconds zero", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "End": true,
			"Retry": [{"ErrorEquals": ["States.ALL"], "MaxDelaySeconds": 0}]}}}`,
			[]string{"/States/A/Retry[0]/MaxDelaySeconds"}},
		{"ItemSelector and Parameters", `{"StartAt": "A", "States": {"A": {"Type": "Map", "ItemSelector": {}, "Parameters": {}, "End": true,
			"ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A/Parameters", "either ItemSelector or Parameters"}},
		{"MaxDelaySeconds above its bound", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "End": true,
			"Retry": [{"ErrorEquals": ["States.ALL"], "MaxDelaySeconds": 31622401}]}}}`,
			[]string{"/States/A/Retry[0]/MaxDelaySeconds"}},
		{"MaxConcurrency and its path", `{"StartAt": "A", "States": {"A": {"Type": "Map", "MaxConcurrency": 1, "MaxConcurrencyPath": "$.m", "End": true,
			"ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A", "MaxConcurrency and MaxConcurrencyPath"}},
		{"ToleratedFailureCount and its path", `{"StartAt": "A", "States": {"A": {"Type": "Map", "ToleratedFailureCount": 1, "ToleratedFailureCountPath": "$.c", "End": true,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A", "ToleratedFailureCount and ToleratedFailureCountPath"}},
		{"ToleratedFailurePercentage and its path", `{"StartAt": "A", "States": {"A": {"Type": "Map", "ToleratedFailurePercentage": 1, "ToleratedFailurePercentagePath": "$.p", "End": true,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A", "ToleratedFailurePercentage and ToleratedFailurePercentagePath"}},
		{"Items in a JSONPath map", `{"StartAt": "A", "States": {"A": {"Type": "Map", "Items": [1, 2], "End": true,
			"ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A/Items", `field "Items" is not supported with the JSONPath query language`}},
		{"ToleratedFailureCount negative", `{"StartAt": "A", "States": {"A": {"Type": "Map", "ToleratedFailureCount": -1, "End": true,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A/ToleratedFailureCount", "must be a non-negative integer"}},
		{"ToleratedFailureCount fractional", `{"StartAt": "A", "States": {"A": {"Type": "Map", "ToleratedFailureCount": 1.5, "End": true,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A/ToleratedFailureCount", "must be a non-negative integer"}},
		{"ToleratedFailureCount a string", `{"StartAt": "A", "States": {"A": {"Type": "Map", "ToleratedFailureCount": "1", "End": true,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A/ToleratedFailureCount", "must be a non-negative integer"}},
		{"ToleratedFailurePercentage above 100", `{"StartAt": "A", "States": {"A": {"Type": "Map", "ToleratedFailurePercentage": 101, "End": true,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A/ToleratedFailurePercentage", "must be a number between 0 and 100"}},
		{"ToleratedFailurePercentage negative", `{"StartAt": "A", "States": {"A": {"Type": "Map", "ToleratedFailurePercentage": -5, "End": true,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A/ToleratedFailurePercentage", "must be a number between 0 and 100"}},
		{"ToleratedFailurePercentage a string", `{"StartAt": "A", "States": {"A": {"Type": "Map", "ToleratedFailurePercentage": "5", "End": true,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
			[]string{"/States/A/ToleratedFailurePercentage", "must be a number between 0 and 100"}},
		{"map without processor", `{"StartAt": "A", "States": {"A": {"Type": "Map", "End": true}}}`, []string{"/States/A/ItemProcessor"}},
		{"same name in two branches", `{"StartAt": "A", "States": {"A": {"Type": "Parallel", "End": true, "Branches": [
			{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}, {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}]}}}`,
			[]string{"/States/A/Branches[1]/States/B", "DUPLICATE_STATE_NAME"}},
		{"processor state named like a top-level state", `{"StartAt": "A", "States": {"A": {"Type": "Map", "Next": "B",
			"ItemProcessor": {"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}, "B": {"Type": "Succeed"}}}`,
			[]string{"/States/A/ItemProcessor/States/B", "DUPLICATE_STATE_NAME"}},
		{"same key twice in States", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}}`,
			[]string{"/States/A", "DUPLICATE_STATE_NAME"}},
		{"same key twice in a branch's States", `{"StartAt": "A", "States": {"A": {"Type": "Parallel", "End": true, "Branches": [
			{"StartAt": "B", "States": {"B": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}}]}}}`,
			[]string{"/States/A/Branches[0]/States/B", "DUPLICATE_STATE_NAME"}},
		{"same name in nested distributed maps", `{"StartAt": "A", "States": {"A": {"Type": "Map", "End": true,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "M", "States": {
				"M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}}}}}}}`,
			[]string{"/States/A/ItemProcessor/States/M/ItemProcessor/States/A", "DUPLICATE_STATE_NAME"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			var verrs ValidationErrors
			if !errors.As(err, &verrs) {
				t.Fatalf("Parse error = %v, want ValidationErrors", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestErrorMatching(t *testing.T) {
	tests := []struct {
		list []string
		name string
		want bool
	}{
		{[]string{"States.ALL"}, "Custom", true},
		{[]string{"States.ALL"}, "States.Timeout", true},
		{[]string{"States.ALL"}, "States.Runtime", false},
		{[]string{"States.ALL"}, "States.DataLimitExceeded", false},
		{[]string{"States.TaskFailed"}, "Custom", true},
		{[]string{"States.TaskFailed"}, "States.Timeout", false},
		{[]string{"A", "B"}, "B", true},
		{[]string{"A"}, "a", false},
	}
	for _, tt := range tests {
		if got := (&Retrier{ErrorEquals: tt.list}).Matches(tt.name); got != tt.want {
			t.Errorf("%v matches %s = %v, want %v", tt.list, tt.name, got, tt.want)
		}
	}
}

// TestParseMissingEndState: a machine, branch or item processor with no
// terminal state (End, Succeed or Fail) is refused with AWS's
// MISSING_END_STATE, which leaves out the reachability check.
func TestParseMissingEndState(t *testing.T) {
	const end = "MISSING_END_STATE: Workflow has no terminal state"
	tests := []struct {
		name string
		def  string
		want []ValidationError // nil: the definition is valid
	}{
		{name: "pass loop", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`,
			want: []ValidationError{{Path: "", Message: end}}},
		{name: "choice loop", def: `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"A"}],"Default":"A"}}}`,
			want: []ValidationError{{Path: "", Message: end}}},
		{name: "loops and an unreachable state", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A"},"B":{"Type":"Pass","Next":"B"}}}`,
			want: []ValidationError{{Path: "", Message: end}}},
		{name: "dangling Next", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"NOPE"}}}`,
			want: []ValidationError{{Path: "/States/A/Next", Message: "MISSING_TRANSITION_TARGET: Missing 'Next' target: NOPE"}, {Path: "", Message: end}}},
		{name: "branch loop", def: `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
			{"StartAt":"A","States":{"A":{"Type":"Succeed"}}},
			{"StartAt":"B","States":{"B":{"Type":"Pass","Next":"B"}}}]}}}`,
			want: []ValidationError{{Path: "/States/P/Branches[1]", Message: end}}},
		{name: "item processor loop", def: `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
			"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Wait","Seconds":1,"Next":"I"}}}}}}`,
			want: []ValidationError{{Path: "/States/M/ItemProcessor", Message: end}}},
		{name: "a loop with an exit", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"C"},
			"C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"E"}],"Default":"A"},"E":{"Type":"Fail"}}}`},
		{name: "a task that ends", def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource": "arn:aws:states:::r","End":true}}}`},
		{name: "a loop with a caught exit", def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource": "arn:aws:states:::r","Next":"T",
			"Catch":[{"ErrorEquals":["States.ALL"],"Next":"S"}]},"S":{"Type":"Succeed"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Parse error = %v, want none", err)
				}
				return
			}
			got := validationErrors(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Parse errors = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestParseBounds: the largest values AWS's schema allows are accepted
// (TestParseInvalid has the values just beyond them).
func TestParseBounds(t *testing.T) {
	for _, def := range []string{
		`{"StartAt": "A", "States": {
		"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "TimeoutSeconds": 99999999, "HeartbeatSeconds": 99999998, "Next": "W",
			"Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 99999999, "MaxAttempts": 99999999, "MaxDelaySeconds": 31622400}]},
		"W": {"Type": "Wait", "Seconds": 99999999, "End": true}}}`,
		// The lower bounds of a retrier's fields.
		`{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::r", "End": true,
			"Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 0, "BackoffRate": 1, "MaxDelaySeconds": 1, "JitterStrategy": "NONE"}]}}}`,
		`{"StartAt": "A", "States": {"A": {"Type": "Map", "ToleratedFailurePercentage": 100, "End": true,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}`,
	} {
		if _, err := Parse([]byte(def)); err != nil {
			t.Errorf("Parse error = %v, want none", err)
		}
	}
}

// TestParseAssignNames: Assign's variable names follow AWS's syntax
// (Unicode UAX #31 identifiers of at most 80 characters; "states" is
// reserved in JSONata), in a state's, a catcher's and a Choice rule's
// Assign. A JSONPath name may end in ".$".
func TestParseAssignNames(t *testing.T) {
	long := strings.Repeat("a", 80)
	tests := []struct {
		name     string
		jsonata  bool
		variable string
		valid    bool
	}{
		{"letter", false, "x", true},
		{"camel case with digits", false, "theAnswer2", true},
		{"inner underscore", false, "constant_bool", true},
		{"leading underscore", false, "_private", true},
		{"non-ASCII letter", false, "été", true},
		{"80 characters", false, long, true},
		{"JSONPath expression name", false, "guess.$", true},
		{"states in JSONPath", false, "states", true},
		{"states in JSONata", true, "states", false},
		{"leading digit", false, "1abc", false},
		{"dash", false, "a-b", false},
		{"dot", false, "a.b", false},
		{"dot in JSONata", true, "a.b", false},
		{"81 characters", false, long + "a", false},
		{"empty", false, "", false},
		{"only the expression suffix", false, ".$", false},
	}
	for _, tt := range tests {
		lang, value := "", `1`
		if tt.jsonata {
			lang = `"QueryLanguage": "JSONata", `
		}
		key, err := json.Marshal(tt.variable)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(tt.variable, ".$") {
			value = `"$.x"`
		}
		assign := `"Assign": {` + string(key) + `: ` + value + `}`
		for _, place := range []struct{ where, def, path string }{
			{"state", `{` + lang + `"StartAt": "P", "States": {"P": {"Type": "Pass", ` + assign + `, "End": true}}}`, "/States/P/Assign/"},
			{"catcher", `{` + lang + `"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::r", "End": true,
				"Catch": [{"ErrorEquals": ["States.ALL"], ` + assign + `, "Next": "S"}]}, "S": {"Type": "Succeed"}}}`, "/States/T/Catch[0]/Assign/"},
			{"choice rule", `{"StartAt": "C", "States": {"C": {"Type": "Choice", "Default": "S",
				"Choices": [{"Variable": "$.x", "IsPresent": true, ` + assign + `, "Next": "S"}]}, "S": {"Type": "Succeed"}}}`, "/States/C/Choices[0]/Assign/"},
		} {
			if tt.jsonata && place.where == "choice rule" {
				continue
			}
			t.Run(tt.name+"/"+place.where, func(t *testing.T) {
				_, err := Parse([]byte(place.def))
				if tt.valid {
					if err != nil {
						t.Errorf("Parse error = %v, want none", err)
					}
					return
				}
				wantPath := place.path + tt.variable
				var verrs ValidationErrors
				if !errors.As(err, &verrs) || !strings.Contains(err.Error(), wantPath+": SCHEMA_VALIDATION_FAILED") {
					t.Errorf("Parse error = %v, want SCHEMA_VALIDATION_FAILED at %s", err, wantPath)
				}
			})
		}
	}
}

// Any looks into Parallel branches and Map item processors at any depth.
func TestMachineAny(t *testing.T) {
	m, err := Parse([]byte(`{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
	  {"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{
	    "StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}}}}}}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	is := func(want string) func(State) bool {
		return func(st State) bool { return st.Base().Type == want }
	}
	for _, tt := range []struct {
		typ  string
		want bool
	}{{"Parallel", true}, {"Map", true}, {"Task", true}, {"Wait", false}} {
		if got := m.Any(is(tt.typ)); got != tt.want {
			t.Errorf("Any(%s) = %v, want %v", tt.typ, got, tt.want)
		}
	}
}

// TestParseReportsRootCauseOnly: each problem is reported once, at the
// field that has it, in the words a user reads (no Go package prefix).
func TestParseReportsRootCauseOnly(t *testing.T) {
	tests := []struct {
		name string
		def  string
		want []ValidationError
	}{
		{name: "unknown state type", def: `{"StartAt":"A","States":{"A":{"Type":"Passs","End":true}}}`,
			want: []ValidationError{{Path: "/States/A/Type", Message: `SCHEMA_VALIDATION_FAILED: unknown state type "Passs"`}}},
		{name: "missing Type, reached by Next", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"End":true}}}`,
			want: []ValidationError{{Path: "/States/B/Type", Message: "SCHEMA_VALIDATION_FAILED: required field Type is missing"}}},
		{name: "state not an object", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":1}}`,
			want: []ValidationError{{Path: "/States/B", Message: "SCHEMA_VALIDATION_FAILED: a state must be an object"}}},
		{name: "missing Next target", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"E":{"Type":"Succeed"}}}`,
			want: []ValidationError{{Path: "/States/A/Next", Message: "MISSING_TRANSITION_TARGET: Missing 'Next' target: B"}}},
		{name: "missing Catch, Choice and Default targets", def: `{"StartAt":"C","States":{
			"C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":true,"Next":"X"}],"Default":"Y"},
			"T":{"Type":"Task","Resource": "arn:aws:states:::r","End":true,"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Z"}]}}}`,
			want: []ValidationError{
				{Path: "/States/C/Choices[0]/Next", Message: "MISSING_TRANSITION_TARGET: Missing 'Next' target: X"},
				{Path: "/States/C/Default", Message: "MISSING_TRANSITION_TARGET: Missing 'Next' target: Y"},
				{Path: "/States/T/Catch[0]/Next", Message: "MISSING_TRANSITION_TARGET: Missing 'Next' target: Z"},
			}},
		{name: "missing StartAt target", def: `{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}`,
			want: []ValidationError{{Path: "/StartAt", Message: "MISSING_TRANSITION_TARGET: Missing 'Next' target: X"}}},
		{name: "path without the package prefix", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"foo","End":true}}}`,
			want: []ValidationError{{Path: "/States/A/InputPath", Message: `INVALID_JSON_PATH: path "foo": must start with '$'`}}},
		{name: "intrinsic without the package prefix", def: `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope()"},"End":true}}}`,
			want: []ValidationError{{Path: "/States/A/Parameters", Message: `INVALID_JSON_PATH: the value of "Parameters/x.$": intrinsic "States.Nope()": unknown function "States.Nope"`}}},
		{name: "empty definition", def: " \n",
			want: []ValidationError{{Message: "MISSING_DESCRIPTION: empty definition"}}},
		// Fields missing are one problem at the object's path, as AWS
		// reports them.
		{name: "missing StartAt", def: `{"States":{"A":{"Type":"Succeed"}}}`,
			want: []ValidationError{{Path: "/", Message: "SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt]"}}},
		{name: "missing States", def: `{"StartAt":"A"}`,
			want: []ValidationError{{Path: "/", Message: "SCHEMA_VALIDATION_FAILED: These fields are required: [States]"}}},
		{name: "an empty object", def: `{}`,
			want: []ValidationError{{Path: "/", Message: "SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt]"}}},
		{name: "States not an object", def: `{"StartAt":"A","States":[]}`,
			want: []ValidationError{{Path: "/States", Message: "SCHEMA_VALIDATION_FAILED: must be an object"}}},
		{name: "a Map's processor without StartAt", def: `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
			"ItemProcessor":{"States":{"A":{"Type":"Succeed"}}}}}}`,
			want: []ValidationError{{Path: "/States/M/ItemProcessor", Message: "SCHEMA_VALIDATION_FAILED: These fields are required: [StartAt]"}}},
		{name: "StartAt not a string", def: `{"StartAt":5,"States":{"A":{"Type":"Succeed"}}}`,
			want: []ValidationError{{Path: "/StartAt", Message: "SCHEMA_VALIDATION_FAILED: must be a string"}}},
		{name: "empty StartAt", def: `{"StartAt":"","States":{"A":{"Type":"Succeed"}}}`,
			want: []ValidationError{{Path: "/StartAt", Message: "MISSING_TRANSITION_TARGET: Missing 'Next' target: "}}},
		{name: "choice rule without an operator", def: `{"StartAt":"C","States":{
			"C":{"Type":"Choice","Choices":[{"Variable":"$.x","Next":"E"}],"Default":"E"},"E":{"Type":"Succeed"}}}`,
			want: []ValidationError{{Path: "/States/C/Choices[0]",
				Message: "SCHEMA_VALIDATION_FAILED: a choice rule needs exactly one comparison operator, And, Or or Not"}}},
		{name: "JSON syntax error, with its line and column", def: "{\n \"StartAt\": \"A\",,\n}",
			want: []ValidationError{{Message: "INVALID_JSON_DESCRIPTION: invalid character ',' looking for beginning of object key string (line 2, column 17)"}}},
		{name: "JSON cut short, with where it ends", def: "{\n \"StartAt\": \"A\",\n \"States\": {\"A\": {\"Type\": \"Succeed\"}}",
			want: []ValidationError{{Message: "INVALID_JSON_DESCRIPTION: the JSON ends before its last value is complete (line 3, column 38, the end)"}}},
		{name: "JSON cut short inside a string", def: `{"Comment": "abc`,
			want: []ValidationError{{Message: "INVALID_JSON_DESCRIPTION: the JSON ends before its last value is complete (line 1, column 17, the end)"}}},
		{name: "byte order mark", def: "\ufeff" + `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`,
			want: []ValidationError{{Message: "INVALID_JSON_DESCRIPTION: the definition starts with a byte order mark (U+FEFF), " +
				"which JSON does not allow: save it as UTF-8 without one"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			got := validationErrors(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Parse errors = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// validationErrors returns the problems of err, which must be the
// ValidationErrors of a Parse.
// wantParse parses def and checks that it is valid (want nil) or refused
// with exactly the errors of want.
func wantParse(t *testing.T, def string, want []ValidationError) {
	t.Helper()
	_, err := Parse([]byte(def))
	if want == nil {
		if err != nil {
			t.Fatalf("Parse error = %v, want none", err)
		}
		return
	}
	if got := validationErrors(t, err); !slices.Equal(got, want) {
		t.Errorf("Parse errors = %q\nwant %q", got, want)
	}
}

func validationErrors(t *testing.T, err error) []ValidationError {
	t.Helper()
	var verrs ValidationErrors
	if !errors.As(err, &verrs) {
		t.Fatalf("Parse error = %v, want ValidationErrors", err)
	}
	var got []ValidationError
	for _, e := range verrs {
		got = append(got, *e)
	}
	return got
}

// TestParseStateNameLength: a state name has 1 to 80 characters, counted
// as Unicode code points, not UTF-8 bytes.
func TestParseStateNameLength(t *testing.T) {
	tests := []struct {
		name  string
		state string
		want  []ValidationError // nil: the definition is valid
	}{
		{name: "80 ASCII characters", state: strings.Repeat("a", 80)},
		{name: "80 two-byte characters", state: strings.Repeat("é", 80)},
		{name: "80 four-byte characters", state: strings.Repeat("😀", 80)},
		{name: "81 characters", state: strings.Repeat("é", 81),
			want: []ValidationError{{Path: "/States/" + strings.Repeat("é", 81), Message: "SCHEMA_VALIDATION_FAILED: state names are at most 80 characters"}}},
		{name: "empty", state: "",
			want: []ValidationError{{Path: "/States/", Message: "SCHEMA_VALIDATION_FAILED: a state name must not be empty"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, _ := json.Marshal(tt.state)
			wantParse(t, `{"StartAt":`+string(name)+`,"States":{`+string(name)+`:{"Type":"Pass","End":true}}}`, tt.want)
		})
	}
}

// TestParseDistributedMapFields: ProcessorConfig, ItemBatcher and Label
// are checked when the definition is parsed; ItemBatcher belongs to a
// DISTRIBUTED Map.
func TestParseDistributedMapFields(t *testing.T) {
	const dist = `{"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}`
	mapDef := func(config, fields string) string {
		return `{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, ` + fields + `
			"ItemProcessor": {"ProcessorConfig": ` + config + `, "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}}`
	}
	schema := func(path, msg string) []ValidationError {
		return []ValidationError{{Path: "/States/M" + path, Message: "SCHEMA_VALIDATION_FAILED: " + msg}}
	}
	const badLabel = "a label has at most 40 characters, none of them whitespace or special characters"
	tests := []struct {
		name string
		def  string
		want []ValidationError // nil: the definition is valid
	}{
		{name: "every ItemBatcher field", def: mapDef(dist, `"ItemBatcher": {"MaxItemsPerBatch": 2, "MaxInputBytesPerBatch": 1024, "BatchInput": {"k": 1, "p.$": "$.p"}},`)},
		{name: "ItemBatcher paths", def: mapDef(dist, `"ItemBatcher": {"MaxItemsPerBatchPath": "$.n", "MaxInputBytesPerBatchPath": "$.b"},`)},
		{name: "JSONata ItemBatcher", def: `{"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
			"ItemBatcher": {"MaxItemsPerBatch": "{% $states.input.n %}", "BatchInput": "{% $states.input %}"},
			"ItemProcessor": {"ProcessorConfig": ` + dist + `, "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}}`},
		{name: "EXPRESS child workflows", def: mapDef(`{"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}`, ``)},
		{name: "40-character label", def: mapDef(dist, `"Label": "`+strings.Repeat("é", 40)+`",`)},
		{name: "label with dots, dashes and underscores", def: mapDef(dist, `"Label": "my.map-run_1",`)},
		{name: "ItemBatcher in INLINE mode", def: mapDef(`{"Mode": "INLINE"}`, `"ItemBatcher": {"MaxItemsPerBatch": 2},`),
			want: schema("/ItemBatcher", `field "ItemBatcher" is only supported in DISTRIBUTED mode`)},
		{name: "ItemBatcher without ProcessorConfig", def: strings.Replace(mapDef(`{}`, `"ItemBatcher": {"MaxItemsPerBatch": 2},`), `"ProcessorConfig": {}, `, "", 1),
			want: schema("/ItemBatcher", `field "ItemBatcher" is only supported in DISTRIBUTED mode`)},
		{name: "ItemBatcher not an object", def: mapDef(dist, `"ItemBatcher": "nope",`),
			want: schema("/ItemBatcher", "must be an object")},
		{name: "MaxItemsPerBatch 0", def: mapDef(dist, `"ItemBatcher": {"MaxItemsPerBatch": 0},`),
			want: schema("/ItemBatcher/MaxItemsPerBatch", "must be a positive integer")},
		{name: "MaxItemsPerBatch fractional", def: mapDef(dist, `"ItemBatcher": {"MaxItemsPerBatch": 1.5},`),
			want: schema("/ItemBatcher/MaxItemsPerBatch", "must be a positive integer")},
		{name: "MaxInputBytesPerBatch negative", def: mapDef(dist, `"ItemBatcher": {"MaxInputBytesPerBatch": -1},`),
			want: schema("/ItemBatcher/MaxInputBytesPerBatch", "must be a positive integer")},
		{name: "MaxItemsPerBatch and its path", def: mapDef(dist, `"ItemBatcher": {"MaxItemsPerBatch": 2, "MaxItemsPerBatchPath": "$.n"},`),
			want: schema("/ItemBatcher", "MaxItemsPerBatch and MaxItemsPerBatchPath are mutually exclusive")},
		{name: "unknown ItemBatcher field", def: mapDef(dist, `"ItemBatcher": {"MaxItemsPerBatch": 2, "Bogus": 1},`),
			want: schema("/ItemBatcher/Bogus", `field "Bogus" is not supported here`)},
		{name: "ItemBatcher path in JSONata", def: `{"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
			"ItemBatcher": {"MaxItemsPerBatchPath": "$.n"},
			"ItemProcessor": {"ProcessorConfig": ` + dist + `, "StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}}}`,
			want: schema("/ItemBatcher/MaxItemsPerBatchPath", `field "MaxItemsPerBatchPath" is not supported here`)},
		{name: "41-character label", def: mapDef(dist, `"Label": "`+strings.Repeat("a", 41)+`",`), want: schema("/Label", badLabel)},
		{name: "label with a space", def: mapDef(dist, `"Label": "bad label",`), want: schema("/Label", badLabel)},
		{name: "label with a slash", def: mapDef(dist, `"Label": "a/b",`), want: schema("/Label", badLabel)},
		{name: "label with a control character", def: mapDef(dist, `"Label": "a\u0085b",`), want: schema("/Label", badLabel)},
		{name: "DISTRIBUTED without ExecutionType", def: mapDef(`{"Mode": "DISTRIBUTED"}`, ``),
			want: schema("/ItemProcessor/ProcessorConfig/ExecutionType", "required field ExecutionType is missing in DISTRIBUTED mode")},
		{name: "unknown ExecutionType", def: mapDef(`{"Mode": "DISTRIBUTED", "ExecutionType": "FAST"}`, ``),
			want: schema("/ItemProcessor/ProcessorConfig/ExecutionType", "must be STANDARD or EXPRESS")},
		{name: "unknown Mode", def: mapDef(`{"Mode": "PARALLEL"}`, ``),
			want: schema("/ItemProcessor/ProcessorConfig/Mode", "must be INLINE or DISTRIBUTED")},
		{name: "ProcessorConfig not an object", def: mapDef(`"DISTRIBUTED"`, ``),
			want: schema("/ItemProcessor/ProcessorConfig", "must be an object")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantParse(t, tt.def, tt.want)
		})
	}
}

// TestParseResourceARNs: the Resource forms AWS accepts, service
// integrations without region and account among them.
func TestParseResourceARNs(t *testing.T) {
	for _, r := range []string{
		"arn:aws:states:::lambda:invoke",
		"arn:aws:states:::states:startExecution.sync:2",
		"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		"arn:aws:lambda:eu-west-1:123456789012:function:stepmon-check:live",
		"arn:aws:states:us-east-1:123456789012:activity:work",
		"arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
	} {
		if _, err := Parse([]byte(`{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "` + r + `", "End": true}}}`)); err != nil {
			t.Errorf("Resource %s: Parse error = %v, want none", r, err)
		}
	}
}
