package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
)

type aslResult struct {
	Status string  `json:"status"`
	Output *string `json:"output"`
	Error  *string `json:"error"`
	Cause  *string `json:"cause"`
	Events []struct {
		Type      string `json:"type"`
		StateName string `json:"stateName"`
	} `json:"events"`
}

func runASLTest(t *testing.T, args ...string) (aslResult, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := runASL(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	var r aslResult
	if err == nil {
		if jerr := json.Unmarshal(stdout.Bytes(), &r); jerr != nil {
			t.Fatalf("output is not one JSON object: %v\n%s", jerr, stdout.String())
		}
	}
	return r, stderr.String(), err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func stateNames(r aslResult, typ string) []string {
	var out []string
	for _, e := range r.Events {
		if e.Type == typ {
			out = append(out, e.StateName)
		}
	}
	return out
}

const monitorDef = "../../statemachine.asl.json"

func TestASLRunStateMachine(t *testing.T) {
	waitThenExpire := `{"$sequence": [
		{"instanceId": "m1", "check": {"conditionMet": false, "done": false, "expired": false, "rollover": false, "nextCheckAt": "2031-01-01T00:00:00Z", "waitSeconds": 60}},
		{"instanceId": "m1", "check": {"conditionMet": false, "done": false, "expired": false, "rollover": false, "nextCheckAt": "2031-01-02T00:00:00Z", "waitSeconds": 86400}},
		{"instanceId": "m1", "check": {"conditionMet": false, "done": false, "expired": true, "rollover": false, "output": {"job_id": "m1", "final_status": "Timeout", "checks_performed": 3}}}
	]}`
	rollover := `{"instanceId": "m2", "startedAt": "2025-01-01T00:00:00Z", "expiresAt": "2031-01-01T00:00:00Z",
		"spec": {"pollingIntervalSeconds": 5}, "check": {"conditionMet": false, "done": false, "expired": false, "rollover": true, "nextGeneration": 2,
		"nextExecutionName": "m2-g402913-g2"}}`
	tests := []struct {
		name       string
		tasks      []string
		wantStatus string
		wantOutput string // substring of the output
		wantError  string
		wantStates []string // entered states, in order
	}{
		{
			name:       "expiry after two waits",
			tasks:      []string{"Check=" + waitThenExpire},
			wantStatus: "SUCCEEDED",
			wantOutput: `"final_status":"Timeout"`,
			wantStates: []string{"Check", "Evaluate", "Wait", "Check", "Evaluate", "Wait", "Check", "Evaluate", "Finish"},
		},
		{
			name:       "continue as new",
			tasks:      []string{"Check=" + rollover},
			wantStatus: "SUCCEEDED",
			wantOutput: `"continuedAs":"arn:aws:states:us-east-1:123456789012:execution:asl-run:m2-g402913-g2"`,
			wantStates: []string{"Check", "Evaluate", "ContinueAsNew"},
		},
		{
			name: "alert then done",
			tasks: []string{
				"Check=" + `{"instanceId": "m3", "check": {"conditionMet": true}}`,
				"Alert=" + `{"instanceId": "m3", "check": {"output": {"final_status": "Alerted"}}}`,
			},
			wantStatus: "SUCCEEDED",
			wantOutput: `"final_status":"Alerted"`,
			wantStates: []string{"Check", "Evaluate", "Alert", "AlertOutcome", "Finish"},
		},
		{
			name: "check error is caught and recorded",
			tasks: []string{
				"Check=" + `{"$error": "InvalidTarget", "$cause": "no such repo"}`,
				"RecordFailure=" + `{"recorded": true}`,
			},
			wantStatus: "FAILED",
			wantError:  "InvalidTarget",
			wantStates: []string{"Check", "RecordFailure", "Failed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--definition", monitorDef, "--input", `{"instanceId": "m", "startedAt": "2026-01-02T03:04:05Z"}`}
			for _, task := range tt.tasks {
				args = append(args, "--task", task)
			}
			r, stderr, err := runASLTest(t, args...)
			if err != nil {
				t.Fatalf("runASL: %v\n%s", err, stderr)
			}
			if r.Status != tt.wantStatus {
				t.Fatalf("status = %s (error %v, cause %v), want %s", r.Status, deref(r.Error), deref(r.Cause), tt.wantStatus)
			}
			if tt.wantOutput != "" && (r.Output == nil || !strings.Contains(*r.Output, tt.wantOutput)) {
				t.Errorf("output = %v, want it to contain %s", deref(r.Output), tt.wantOutput)
			}
			if tt.wantError != "" && deref(r.Error) != tt.wantError {
				t.Errorf("error = %v, want %s", deref(r.Error), tt.wantError)
			}
			var entered []string
			for _, e := range r.Events {
				if strings.HasSuffix(e.Type, "StateEntered") {
					entered = append(entered, e.StateName)
				}
			}
			if strings.Join(entered, ",") != strings.Join(tt.wantStates, ",") {
				t.Errorf("entered states = %v, want %v", entered, tt.wantStates)
			}
			if len(r.Events) == 0 || r.Events[0].Type != "ExecutionStarted" || r.Events[0].StateName != "" {
				t.Errorf("first event = %+v, want ExecutionStarted without a state name", r.Events[0])
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestASLRunLambdaErrorShape(t *testing.T) {
	def := writeFile(t, "def.json", `{"StartAt": "Call", "States": {"Call": {"Type": "Task",
		"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "fn", "Payload.$": "$"}, "End": true}}}`)
	r, _, err := runASLTest(t, "--definition", def, "--task", `fn={"$error": "BadThing", "$cause": "it broke"}`)
	if err != nil {
		t.Fatalf("runASL: %v", err)
	}
	if r.Status != "FAILED" || deref(r.Error) != "BadThing" || deref(r.Cause) != `{"errorMessage":"it broke","errorType":"BadThing"}` {
		t.Errorf("got %s %s %s, want FAILED BadThing with the Lambda cause JSON", r.Status, deref(r.Error), deref(r.Cause))
	}
	if got := strings.Join(stateNames(r, "TaskFailed"), ","); got != "" {
		t.Errorf("TaskFailed carries no state name, got %q", got)
	}
	r, _, err = runASLTest(t, "--definition", def, "--input", `{"x": 1}`, "--task", `fn={"$echo": true}`)
	if err != nil {
		t.Fatalf("runASL: %v", err)
	}
	var out map[string]any
	if r.Output == nil || json.Unmarshal([]byte(*r.Output), &out) != nil {
		t.Fatalf("output = %v, want JSON", deref(r.Output))
	}
	if out["StatusCode"] != 200.0 || out["ExecutedVersion"] != "$LATEST" {
		t.Errorf("lambda:invoke output = %v, want the AWS wrapper with StatusCode 200", out)
	}
	if p, _ := out["Payload"].(map[string]any); p["x"] != 1.0 {
		t.Errorf("Payload = %v, want the echoed input", out["Payload"])
	}
}

func TestASLRunHistory(t *testing.T) {
	def := writeFile(t, "def.json", `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "End": true}}}`)
	var stdout, stderr bytes.Buffer
	if err := runASL(context.Background(), []string{"--definition", def, "--history"}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("runASL: %v", err)
	}
	var r struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || len(r.Events) != 4 {
		t.Fatalf("history output = %s (%v), want 4 events", stdout.String(), err)
	}
	exited, _ := r.Events[2]["stateExitedEventDetails"].(map[string]any)
	if exited["name"] != "P" || exited["output"] != `{"a":1}` {
		t.Errorf("PassStateExited details = %v, want name P and output {\"a\":1}", exited)
	}
}

// Flags after the definition's file name count, as for the other commands:
// they were ignored, the run took {} as its input.
func TestASLRunFlagsAfterFile(t *testing.T) {
	def := writeFile(t, "pass.json", `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`)
	r, _, err := runASLTest(t, def, "--input", `{"a":1}`)
	if err != nil {
		t.Fatalf("runASL: %v", err)
	}
	if r.Status != "SUCCEEDED" || deref(r.Output) != `{"a":1}` {
		t.Errorf("got %s with output %s, want SUCCEEDED with the input", r.Status, deref(r.Output))
	}
}

func TestASLRunInvalid(t *testing.T) {
	bad := writeFile(t, "bad.json", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}`)
	good := writeFile(t, "good.json", `{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}`)
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"bad transition", []string{"--definition", bad}, "/States/A"},
		{"bad input", []string{"--definition", good, "--input", "{nope"}, ""},
		{"missing definition", []string{}, ""},
		{"two definitions", []string{good, bad}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runASLTest(t, tt.args...)
			if err == nil {
				t.Fatalf("runASL succeeded, want an error")
			}
			// The problems are in the error, which main prints on
			// standard error.
			if !strings.Contains(stderr+err.Error(), tt.wantStderr) {
				t.Errorf("stderr %q, error %q; want them to name %q", stderr, err, tt.wantStderr)
			}
		})
	}
}

// asl run --timeout takes both spellings of a time, as the other
// commands' time flags do; it took only a Go duration.
func TestASLRunTimeout(t *testing.T) {
	def := writeFile(t, "pass.json", `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`)
	for _, timeout := range []string{"30", "30s"} {
		t.Run(timeout, func(t *testing.T) {
			r, stderr, err := runASLTest(t, "--definition", def, "--input", "{}", "--timeout", timeout)
			if err != nil || r.Status != "SUCCEEDED" {
				t.Errorf("--timeout %s: %v, status %q, stderr %q; want SUCCEEDED", timeout, err, r.Status, stderr)
			}
		})
	}
	_, _, err := runASLTest(t, "--definition", def, "--timeout", "-5")
	want := `asl run: --timeout "-5": takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -5 is negative; run 'stepmon asl run -h' for its flags`
	if err == nil || err.Error() != want {
		t.Errorf("--timeout -5: %v; want %q", err, want)
	}
}

// TestASLRunInputTooLong: an input StartExecution refuses (over 256 KiB)
// is invalid input, exit status 1, as it is for serve and AWS; it ran
// and failed with States.DataLimitExceeded, exit status 0.
func TestASLRunInputTooLong(t *testing.T) {
	def := writeFile(t, "pass.json", `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`)
	blob := func(n int) string { // a JSON string of n bytes
		return writeFile(t, "in.json", `"`+strings.Repeat("x", n-2)+`"`)
	}
	_, _, err := runASLTest(t, def, "--input", "@"+blob(engine.MaxInput+1))
	if err == nil || !strings.Contains(err.Error(), "invalid input") {
		t.Fatalf("input of %d bytes: error %v, want invalid input", engine.MaxInput+1, err)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		t.Errorf("input too long: exit code %d, want 1", ee.code)
	}
	r, _, err := runASLTest(t, def, "--input", "@"+blob(engine.MaxInput))
	if err != nil || r.Status != "SUCCEEDED" {
		t.Errorf("input of %d bytes: %v, status %q; want SUCCEEDED", engine.MaxInput, err, r.Status)
	}
}

// TestASLRunTaskKeys: a plain function ARN is answered by the function's
// name (it needed the whole ARN), and a --task key no task used is
// reported on standard error (it was ignored in silence).
func TestASLRunTaskKeys(t *testing.T) {
	def := writeFile(t, "lambda.json", `{"StartAt": "Reserve", "States": {
		"Reserve": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:reserve", "Next": "Invoke"},
		"Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload", "End": true,
			"Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:ship:live", "Payload.$": "$"}}}}`)
	r, stderr, err := runASLTest(t, def, "--task", `reserve={"reserved":true}`, "--task", `ship={"$echo":true}`,
		"--task", `Nonexistent={"x":1}`, "--task", `Typo={"x":1}`)
	if err != nil {
		t.Fatalf("runASL: %v", err)
	}
	if r.Status != "SUCCEEDED" || deref(r.Output) != `{"reserved":true}` {
		t.Errorf("got %s with output %s (error %s, cause %s), want SUCCEEDED with {\"reserved\":true}",
			r.Status, deref(r.Output), deref(r.Error), deref(r.Cause))
	}
	for _, k := range []string{"Nonexistent", "Typo"} {
		if want := "--task " + k + " matched no task"; !strings.Contains(stderr, want) {
			t.Errorf("stderr = %q, want it to say %q", stderr, want)
		}
	}
	for _, k := range []string{"reserve", "ship"} {
		if strings.Contains(stderr, "--task "+k+" ") {
			t.Errorf("stderr = %q, want no warning about %s, which matched", stderr, k)
		}
	}
}

// TestASLRunTimeoutExpires: when --timeout expires first, the execution
// is stopped and then printed (status ABORTED, the events until the
// stop, ExecutionAborted last) and the exit status is 3; it printed
// nothing but a Go error, with exit status 1.
func TestASLRunTimeoutExpires(t *testing.T) {
	def := writeFile(t, "wait.json", `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}`)
	var stdout, stderr bytes.Buffer
	err := runASL(context.Background(), []string{def, "--real-time", "--timeout", "100ms"}, strings.NewReader(""), &stdout, &stderr)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitRunTimedOut {
		t.Fatalf("runASL: %v, want exit status %d", err, exitRunTimedOut)
	}
	var r aslResult
	if jerr := json.Unmarshal(stdout.Bytes(), &r); jerr != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", jerr, stdout.String())
	}
	if r.Status != "ABORTED" || !slices.Equal(stateNames(r, "WaitStateEntered"), []string{"W"}) {
		t.Errorf("got status %s with events %+v, want ABORTED with W entered", r.Status, r.Events)
	}
	if n := len(r.Events); n == 0 || r.Events[n-1].Type != "ExecutionAborted" {
		t.Errorf("events %+v, want them to end with ExecutionAborted (the stop)", r.Events)
	}
	if !strings.Contains(err.Error(), "--timeout 100ms expired") {
		t.Errorf("error %q, want it to say that --timeout expired", err)
	}
}

// TestASLValidate: "stepmon asl validate FILE" exits 0 for a valid
// definition and 1 for an invalid one, whose problems it prints one per
// line; "asl validate" was an unknown command.
func TestASLValidate(t *testing.T) {
	good := writeFile(t, "good.json", `{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}`)
	bad := writeFile(t, "bad.json", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "InputPath": "x"}}}`)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
	}{
		{"valid", []string{"asl", "validate", good}, 0, ""},
		{"invalid", []string{"asl", "validate", bad}, 1, `/States/A/InputPath: INVALID_JSON_PATH: path "x": must start with '$'
/States/A/Next: MISSING_TRANSITION_TARGET: Missing 'Next' target: B
MISSING_END_STATE: Workflow has no terminal state
`},
		{"no file", []string{"asl", "validate"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(context.Background(), "http://127.0.0.1:1", tt.args...)
			if res.code != tt.wantCode || res.stdout != tt.wantStdout {
				t.Errorf("exit %d, stdout %q (stderr %q); want exit %d, stdout %q", res.code, res.stdout, res.stderr, tt.wantCode, tt.wantStdout)
			}
		})
	}
}
