package stepmon_test

// Golden tests between the two runtimes of statemachine.asl.json (STYLE.md
// rule 10): each scenario scripts what the Lambda functions return, runs
// the definition on this module's engine and on moto_server's Step
// Functions interpreter, and compares both executions' histories with
// testdata/golden/SCENARIO.json.
//
//	go test -run TestGolden -update   rewrites the goldens from the engine
//
// A golden holds, per execution (the first, then any it continued as),
// the final status, output or error and cause, and the history as event
// types with the state names and the JSON each state entered with or left
// with. It leaves out timestamps, ids, ARNs' region and account, task
// parameters and task results (the lambda:invoke wrapper, which moto
// reduces to StatusCode and Payload).

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stepmon/stepmon"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the engine")

// Names the golden runs give the functions and the state machine.
const (
	goldenMachine = "stepmon-golden"
	goldenRole    = "arn:aws:iam::123456789012:role/stepmon-states"
	functionARN   = "arn:aws:lambda:us-east-1:123456789012:function:"
)

// goldenDefinition is statemachine.asl.json with the functions named
// check, alert and status.
func goldenDefinition() string {
	return stepmon.Substitute(stepmon.Definition, map[string]string{
		stepmon.CheckFunctionPlaceholder:  functionARN + "check",
		stepmon.AlertFunctionPlaceholder:  functionARN + "alert",
		stepmon.StatusFunctionPlaceholder: functionARN + "status",
	})
}

// reply is one scripted invocation: the function expected (check, alert or
// status) and what it returns, a JSON payload or, when ErrorType is set,
// a function error.
type reply struct {
	Function     string
	Payload      string
	ErrorType    string
	ErrorMessage string
}

// Lambda's answer to a function whose response exceeds 6 MB, the one
// function error moto's Docker-free Lambda can return (see queueReplies).
const (
	tooLargeType    = "Function.ResponseSizeTooLarge"
	tooLargeMessage = "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
)

// scenario is one path through the definition.
type scenario struct {
	name    string
	input   string // of the first execution
	replies []reply
}

// monitorState is the workflow state the functions return, with check
// holding the check's verdict.
func monitorState(generation int, check string) string {
	s := fmt.Sprintf(`{"instanceId":"golden","generation":%d,"startedAt":"2026-01-01T00:00:00Z","expiresAt":"2026-01-01T01:00:00Z",`+
		`"spec":{"jobId":"golden","target":{"type":"simulated"},"pollingIntervalSeconds":1,"timeoutSeconds":3600}`, generation)
	if check != "" {
		s += `,"check":` + check
	}
	return s + "}"
}

// verdict is a check's result as the check function writes it: the four
// flags Evaluate tests, each present (a missing one fails the Choice
// state with States.Runtime), the one named true, and the members in
// extra (JSON members, without braces).
func verdict(flag, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i, f := range []string{"conditionMet", "done", "expired", "rollover"} {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%t", f, f == flag)
	}
	if extra != "" {
		b.WriteString("," + extra)
	}
	return b.String() + "}"
}

// Waits are 1 s: the Wait state reads waitSeconds from the check's result.
var scenarios = []scenario{
	{
		name:  "met-first-check",
		input: monitorState(0, ""),
		replies: []reply{
			{Function: "check", Payload: monitorState(0, verdict("conditionMet", `"output":{"status":"met","checks":1}`))},
			{Function: "alert", Payload: monitorState(0, verdict("conditionMet", `"output":{"status":"met","checks":1,"alerted":true}`))},
		},
	},
	{
		name:  "met-after-wait",
		input: monitorState(0, ""),
		replies: []reply{
			{Function: "check", Payload: monitorState(0, verdict("", `"waitSeconds":1`))},
			{Function: "check", Payload: monitorState(0, verdict("conditionMet", `"output":{"status":"met","checks":2}`))},
			{Function: "alert", Payload: monitorState(0, verdict("conditionMet", `"output":{"status":"met","checks":2,"alerted":true}`))},
		},
	},
	{
		name:  "job-done",
		input: monitorState(0, ""),
		replies: []reply{
			{Function: "check", Payload: monitorState(0, verdict("done", `"output":{"status":"done","checks":1}`))},
		},
	},
	{
		name:  "expired",
		input: monitorState(0, ""),
		replies: []reply{
			{Function: "check", Payload: monitorState(0, verdict("", `"waitSeconds":1`))},
			{Function: "check", Payload: monitorState(0, verdict("expired", `"output":{"status":"expired","checks":2}`))},
		},
	},
	{
		// The alert's own destination failed transiently: the alert
		// function asks for a retry after a wait, and sends on it.
		name:  "alert-retried-by-wait",
		input: monitorState(0, ""),
		replies: []reply{
			{Function: "check", Payload: monitorState(0, verdict("conditionMet", `"output":{"status":"met","checks":1}`))},
			{Function: "alert", Payload: strings.TrimSuffix(monitorState(0, verdict("conditionMet", `"output":{"status":"met","checks":1}`)), "}") + `,"alertRetry":{"retries":1,"waitSeconds":1}}`},
			{Function: "alert", Payload: monitorState(0, verdict("conditionMet", `"output":{"status":"met","checks":1,"alerted":true}`))},
		},
	},
	{
		name:  "check-fails",
		input: monitorState(0, ""),
		replies: []reply{
			{Function: "check", ErrorType: tooLargeType, ErrorMessage: tooLargeMessage},
			{Function: "status", Payload: `{"recorded":true}`},
		},
	},
	{
		name:  "continue-as-new",
		input: monitorState(0, ""),
		replies: []reply{
			{Function: "check", Payload: monitorState(0, verdict("rollover", `"nextExecutionName":"golden-continue-as-new-1","nextGeneration":1,"waitSeconds":1`))},
			// The execution it continues as.
			{Function: "check", Payload: monitorState(1, verdict("conditionMet", `"output":{"status":"met","checks":2}`))},
			{Function: "alert", Payload: monitorState(1, verdict("conditionMet", `"output":{"status":"met","checks":2,"alerted":true}`))},
		},
	},
}

// executionName is the name of a scenario's first execution.
func executionName(sc scenario) string { return "golden-" + sc.name }

// goldenRun is the content of a golden file: the first execution, then
// each one it continued as.
type goldenRun struct {
	Executions []goldenExecution `json:"executions"`
}

type goldenExecution struct {
	Name    string        `json:"name"`
	Status  string        `json:"status"`
	Output  any           `json:"output,omitempty"`
	Error   string        `json:"error,omitempty"`
	Cause   any           `json:"cause,omitempty"`
	History []goldenEvent `json:"history"`
}

type goldenEvent struct {
	Type   string `json:"type"`
	State  string `json:"state,omitempty"`
	Input  any    `json:"input,omitempty"`
	Output any    `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
	Cause  any    `json:"cause,omitempty"`
}

// rawEvent is what either runtime reports of a history event, texts as
// they are.
type rawEvent struct {
	Type                 string
	Name                 string
	Input, Output, Cause *string
	Error                string
}

// goldenEventOf keeps of ev what the goldens compare: the state name of
// state events, the input of entered states and of the execution, the
// output of exited states and of the execution, error and cause of
// failures. Task results and parameters are left out.
func goldenEventOf(t testing.TB, ev rawEvent) goldenEvent {
	t.Helper()
	g := goldenEvent{Type: ev.Type}
	entered := strings.HasSuffix(ev.Type, "StateEntered")
	exited := strings.HasSuffix(ev.Type, "StateExited")
	if entered || exited {
		g.State = ev.Name
	}
	if (entered || ev.Type == "ExecutionStarted") && ev.Input != nil {
		g.Input = jsonValue(t, *ev.Input)
	}
	if (exited || ev.Type == "ExecutionSucceeded") && ev.Output != nil {
		g.Output = jsonValue(t, *ev.Output)
	}
	if strings.HasSuffix(ev.Type, "Failed") || strings.HasSuffix(ev.Type, "TimedOut") || strings.HasSuffix(ev.Type, "Aborted") {
		g.Error = ev.Error
		if ev.Cause != nil {
			g.Cause = causeValue(*ev.Cause)
		}
	}
	return g
}

// arnAccount matches the region and account of a Step Functions ARN.
var arnAccount = regexp.MustCompile(`^arn:aws:states:[a-z0-9-]*:[0-9]*:`)

// normalize replaces the region and account of every Step Functions ARN
// in v with REGION and ACCOUNT.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalize(x)
		}
	case []any:
		for i, x := range v {
			v[i] = normalize(x)
		}
	case string:
		return arnAccount.ReplaceAllString(v, "arn:aws:states:REGION:ACCOUNT:")
	}
	return v
}

// jsonValue parses a JSON text the runtimes report (input, output).
func jsonValue(t testing.TB, text string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("not JSON: %v: %q", err, text)
	}
	return normalize(v)
}

// causeValue is a cause as a JSON value when it is JSON (a function
// error's), as the text otherwise.
func causeValue(cause string) any {
	var v any
	if json.Unmarshal([]byte(cause), &v) == nil {
		return normalize(v)
	}
	return cause
}

func goldenPath(sc scenario) string {
	return filepath.Join("testdata", "golden", sc.name+".json")
}

func encodeGolden(t testing.TB, run goldenRun) []byte {
	t.Helper()
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func readGolden(t testing.TB, sc scenario) goldenRun {
	t.Helper()
	b, err := os.ReadFile(goldenPath(sc))
	if err != nil {
		t.Fatalf("%v (go test -run TestGolden -update writes it)", err)
	}
	var run goldenRun
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatalf("%s: %v", goldenPath(sc), err)
	}
	return run
}

// compareGolden reports where got differs from want, the golden of sc,
// event by event.
func compareGolden(t testing.TB, runtime string, sc scenario, got, want goldenRun) {
	t.Helper()
	// Through JSON both ways, so that numbers and empty values compare
	// alike.
	if gb, wb := encodeGolden(t, got), encodeGolden(t, want); bytes.Equal(gb, wb) {
		return
	}
	if len(got.Executions) != len(want.Executions) {
		t.Errorf("%s: %d executions, golden %s has %d", runtime, len(got.Executions), goldenPath(sc), len(want.Executions))
	}
	for i := range min(len(got.Executions), len(want.Executions)) {
		g, w := got.Executions[i], want.Executions[i]
		gh, wh := g.History, w.History
		g.History, w.History = nil, nil
		if a, b := jsonText(t, g), jsonText(t, w); a != b {
			t.Errorf("%s: execution %d:\n got %s\nwant %s", runtime, i+1, a, b)
		}
		for j := range max(len(gh), len(wh)) {
			var a, b string = "(none)", "(none)"
			if j < len(gh) {
				a = jsonText(t, gh[j])
			}
			if j < len(wh) {
				b = jsonText(t, wh[j])
			}
			if a != b {
				t.Errorf("%s: execution %d, event %d:\n got %s\nwant %s", runtime, i+1, j+1, a, b)
				break // the rest follows from the first difference
			}
		}
	}
	t.Logf("%s's run of %s:\n%s", runtime, sc.name, encodeGolden(t, got))
}

func jsonText(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// continuedAs returns the ARN of the execution a ContinueAsNew ending
// started, read from the output, or "".
func continuedAs(output string) string {
	var out struct {
		ContinuedAs string `json:"continuedAs"`
	}
	_ = json.Unmarshal([]byte(output), &out)
	return out.ContinuedAs
}

// TestGoldenScenariosCoverDefinition keeps the scenarios honest about the
// definition: the failure scenario's error must not be one the Check
// state retries (its retriers change; a retried error would wait and
// retry instead of going to the Catch), and the scenarios together pass
// through every state.
func TestGoldenScenariosCoverDefinition(t *testing.T) {
	var def struct {
		States map[string]struct {
			Retry []struct{ ErrorEquals []string }
		}
	}
	if err := json.Unmarshal([]byte(stepmon.Definition), &def); err != nil {
		t.Fatal(err)
	}
	check, ok := def.States["Check"]
	if !ok {
		t.Fatal("the definition has no Check state: the scenarios follow it by name")
	}
	for _, r := range check.Retry {
		for _, name := range r.ErrorEquals {
			if name == tooLargeType || name == "States.ALL" || name == "States.TaskFailed" {
				t.Errorf("Check retries %s: the check-fails scenario needs a function error that goes straight to the Catch", name)
			}
		}
	}
	entered := map[string]bool{}
	for _, sc := range scenarios {
		if _, err := os.Stat(goldenPath(sc)); err != nil {
			continue // TestGoldenEngine reports it
		}
		for _, x := range readGolden(t, sc).Executions {
			for _, ev := range x.History {
				if ev.State != "" {
					entered[ev.State] = true
				}
			}
		}
	}
	var missed []string
	for name := range def.States {
		if !entered[name] {
			missed = append(missed, name)
		}
	}
	slices.Sort(missed)
	if len(missed) > 0 {
		t.Errorf("no golden scenario passes through %v", missed)
	}
}
