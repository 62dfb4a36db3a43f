package main

import (
	"strings"
	"testing"
)

// TestASLRunResultNulls pins the members of asl run's result that an
// execution may not have: output is null unless the execution succeeded,
// and error and cause are null when its end carries none, not "". A
// timed-out execution's error is States.Timeout.
func TestASLRunResultNulls(t *testing.T) {
	tests := []struct {
		name, def  string
		wantStatus string
		wantError  string // "<nil>" for null
		wantCause  string
	}{
		{"fail with error and cause", `{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "why"}}}`, "FAILED", "E", "why"},
		{"fail with an error only", `{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}`, "FAILED", "E", "<nil>"},
		{"fail with neither", `{"StartAt": "F", "States": {"F": {"Type": "Fail"}}}`, "FAILED", "<nil>", "<nil>"},
		{"timed out", `{"TimeoutSeconds": 1, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}`,
			"TIMED_OUT", "States.Timeout", "<nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, stderr, err := runASLTest(t, writeFile(t, "def.json", tt.def))
			if err != nil {
				t.Fatalf("runASL: %v\n%s", err, stderr)
			}
			if r.Status != tt.wantStatus || r.Output != nil || deref(r.Error) != tt.wantError || deref(r.Cause) != tt.wantCause {
				t.Errorf("got status %s, output %s, error %s, cause %s; want %s, output <nil>, error %s, cause %s",
					r.Status, deref(r.Output), deref(r.Error), deref(r.Cause), tt.wantStatus, tt.wantError, tt.wantCause)
			}
		})
	}
}

// TestASLRunExecutionName pins the execution's name, which the context
// object shows the definition: asl-run by default, or --name.
func TestASLRunExecutionName(t *testing.T) {
	def := writeFile(t, "name.json", `{"StartAt": "P", "States": {"P": {"Type": "Pass",
		"Parameters": {"name.$": "$$.Execution.Name"}, "End": true}}}`)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, `{"name":"asl-run"}`},
		{[]string{"--name", "nightly-42"}, `{"name":"nightly-42"}`},
	} {
		r, stderr, err := runASLTest(t, append([]string{def}, tt.args...)...)
		if err != nil || deref(r.Output) != tt.want {
			t.Errorf("asl run %q: %v, output %s (stderr %q); want %s", tt.args, err, deref(r.Output), stderr, tt.want)
		}
	}
}

// TestASLRunHelpDefaults pins the defaults asl run's help states: the
// input {}, the execution name asl-run and a --timeout of 5 minutes.
func TestASLRunHelpDefaults(t *testing.T) {
	res := aslCLI(t, "run", "-h")
	for _, want := range []string{`(default "{}")`, `(default "asl-run")`, "(default 5m)"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("asl run -h does not say %s:\n%s", want, res.stdout)
		}
	}
}

// TestASLRunLambdaFunctionEvents pins the history of a Task state whose
// Resource is a plain function ARN: AWS's LambdaFunction* events, not the
// Task* events of a service integration. The result is printed as it
// is, "<", ">" and "&" unescaped.
func TestASLRunLambdaFunctionEvents(t *testing.T) {
	def := writeFile(t, "fn.json", `{"StartAt": "F", "States": {"F": {"Type": "Task",
		"Resource": "arn:aws:lambda:us-east-1:123456789012:function:reserve", "End": true}}}`)
	res := aslCLI(t, "run", def, "--task", `reserve={"a": "<b&c>"}`)
	want := `{"status":"SUCCEEDED","output":"{\"a\":\"<b&c>\"}","error":null,"cause":null,"events":[` +
		`{"type":"ExecutionStarted"},{"type":"TaskStateEntered","stateName":"F"},` +
		`{"type":"LambdaFunctionScheduled"},{"type":"LambdaFunctionStarted"},{"type":"LambdaFunctionSucceeded"},` +
		`{"type":"TaskStateExited","stateName":"F"},{"type":"ExecutionSucceeded"}]}` + "\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("exit %d, stdout\n%s\nwant exit 0 and\n%s", res.code, res.stdout, want)
	}
}

// TestASLRunStartExecutionError pins that a states:startExecution task
// answered by a $error directive fails with that error and cause as
// they are: it is no Lambda function, whose cause would be JSON.
func TestASLRunStartExecutionError(t *testing.T) {
	def := writeFile(t, "start.json", `{"StartAt": "Start", "States": {"Start": {"Type": "Task",
		"Resource": "arn:aws:states:::states:startExecution.sync:2",
		"Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Other", "Input": {}}, "End": true}}}`)
	r, stderr, err := runASLTest(t, def, "--task", `Start={"$error": "Child.Failed", "$cause": "why"}`)
	if err != nil {
		t.Fatalf("runASL: %v\n%s", err, stderr)
	}
	if r.Status != "FAILED" || deref(r.Error) != "Child.Failed" || deref(r.Cause) != "why" {
		t.Errorf("got %s, error %s, cause %s; want FAILED, Child.Failed, why", r.Status, deref(r.Error), deref(r.Cause))
	}
}

// TestASLRunFunctionNameKey pins that a lambda:invoke task is answered
// by a --task key equal to its FunctionName as given, a whole function
// ARN with a qualifier included, before a key of its Resource, which the
// warning says was not used: it names the state and the key that
// answered.
func TestASLRunFunctionNameKey(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:123456789012:function:ship:live"
	def := writeFile(t, "invoke.json", `{"StartAt": "Invoke", "States": {"Invoke": {"Type": "Task",
		"Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload", "End": true,
		"Parameters": {"FunctionName": "`+fn+`", "Payload.$": "$"}}}}`)
	r, stderr, err := runASLTest(t, def, "--task", fn+`={"shipped": true}`, "--task", `arn:aws:states:::lambda:invoke={"shipped": false}`)
	if err != nil || r.Status != "SUCCEEDED" || deref(r.Output) != `{"shipped":true}` {
		t.Errorf("got %v, %s with output %s (error %s); want SUCCEEDED with the FunctionName key's result",
			err, r.Status, deref(r.Output), deref(r.Error))
	}
	want := "stepmon: asl run: warning: --task arn:aws:states:::lambda:invoke was not used: state Invoke's task was answered by --task " + fn +
		", which comes first (state name, then Lambda function name, then Resource ARN)\n"
	if stderr != want {
		t.Errorf("got stderr %q, want %q", stderr, want)
	}
}

// TestASLRunUnusedKeyOfSkippedState pins the warning about a --task key
// that names a Task state that did not run by its Resource or by the
// function of its plain function ARN: it names the state, not only the
// key.
func TestASLRunUnusedKeyOfSkippedState(t *testing.T) {
	def := writeFile(t, "skip.json", `{"StartAt": "C", "States": {
		"C": {"Type": "Choice", "Choices": [{"Variable": "$.skip", "BooleanEquals": true, "Next": "Done"}], "Default": "Reserve"},
		"Reserve": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:reserve", "Next": "Notify"},
		"Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Next": "Done"},
		"Done": {"Type": "Succeed"}}}`)
	_, stderr, err := runASLTest(t, def, "--input", `{"skip": true}`,
		"--task", "reserve=1", "--task", "arn:aws:states:::sns:publish=2")
	if err != nil {
		t.Fatalf("runASL: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		"--task reserve was not used: state Reserve did not run",
		"--task arn:aws:states:::sns:publish was not used: state Notify did not run",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("got stderr %q, want it to contain %q", stderr, want)
		}
	}
}

// TestASLEmptyDefinitionArgument pins that an empty definition argument
// is a wrong command line (exit status 2) for asl run and asl validate,
// not a file that cannot be read (1).
func TestASLEmptyDefinitionArgument(t *testing.T) {
	for _, args := range [][]string{{"run", ""}, {"validate", ""}} {
		res := aslCLI(t, args...)
		if res.code != 2 || !strings.Contains(res.stderr, "is required") {
			t.Errorf("asl %s \"\": exit %d, stderr %q; want 2 saying a definition is required", args[0], res.code, res.stderr)
		}
	}
}

// TestASLReadDirectory pins the error of a definition, input or --task
// file that is a directory: it names the directory once.
func TestASLReadDirectory(t *testing.T) {
	dir := t.TempDir()
	def := writeFile(t, "pass.json", passDef)
	tests := []struct {
		args     []string
		wantCode int
	}{
		{[]string{"run", dir}, 1},
		{[]string{"validate", dir}, 1},
		{[]string{"run", def, "--input", "@" + dir}, 1},
		{[]string{"run", def, "--task", "P=@" + dir}, 2},
	}
	for _, tt := range tests {
		res := aslCLI(t, tt.args...)
		if res.code != tt.wantCode || strings.Count(res.stderr, dir) != 1 || !strings.Contains(res.stderr, "is a directory") {
			t.Errorf("asl %s: exit %d, stderr %q; want exit %d and an error naming %s once", strings.Join(tt.args, " "), res.code, res.stderr, tt.wantCode, dir)
		}
	}
}

// TestASLRunTaskDirectiveCombinations pins how objects of "$" keys
// combine: an empty object is a result, and $sequence or $error with
// $cause cannot be combined with another directive.
func TestASLRunTaskDirectiveCombinations(t *testing.T) {
	def := writeFile(t, "task.json", `{"StartAt": "T", "States": {"T": {"Type": "Task",
		"Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}}`)
	r, stderr, err := runASLTest(t, def, "--task", "T={}")
	if err != nil || r.Status != "SUCCEEDED" || deref(r.Output) != "{}" {
		t.Errorf("--task T={}: %v, %s with output %s (stderr %q); want SUCCEEDED with {}", err, r.Status, deref(r.Output), stderr)
	}
	for _, spec := range []string{`{"$sequence": [1], "$echo": true}`, `{"$error": "X", "$cause": "why", "$echo": true}`} {
		res := aslCLI(t, "run", def, "--task", "T="+spec)
		if res.code != 2 || !strings.Contains(res.stderr, `"$echo" and `) || !strings.Contains(res.stderr, "cannot be combined") {
			t.Errorf("--task T=%s: exit %d, stderr %q; want 2 saying the keys cannot be combined", spec, res.code, res.stderr)
		}
	}
}
