package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stepmon/stepmon"
	"github.com/stepmon/stepmon/internal/testtool"
)

// A definition whose check state names the function with a JSON string
// escape ("stepmon\u002dcheck") invokes it all the same: the runtime
// starts with it. (The test was a substring match on the raw JSON.)
func TestDefinitionWithEscapedCheckFunctionStarts(t *testing.T) {
	def := strings.Replace(stepmon.Definition, "${"+stepmon.CheckFunctionPlaceholder+"}",
		`arn:aws:lambda:us-east-1:000000000000:function:stepmon\u002dcheck`, 1)
	if def == stepmon.Definition || strings.Contains(def, CheckFunction) {
		t.Fatal("the definition does not name the check function in the escaped form only")
	}
	newTestRuntimeWith(t, Config{Definition: def})
}

// New refuses a definition in which no Task state invokes the check
// function, whatever else names it (a comment, a Pass state's result, a
// longer function name, a Task of another service), and accepts the
// check function wherever a Task invokes it: in a Parallel branch, a Map
// item processor, by JSONata Arguments or as the Resource itself.
func TestDefinitionMustInvokeCheckFunction(t *testing.T) {
	task := func(fields string) string {
		return `{"StartAt":"C","States":{"C":{"Type":"Task",` + fields + `,"End":true}}}`
	}
	invoke := task(`"Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"${CheckFunctionArn}","Payload.$":"$"}`)
	tests := []struct {
		name, def string
		refused   bool
	}{
		{"lambda:invoke", invoke, false},
		{"partial ARN", task(`"Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"000000000000:function:stepmon-check"}`), false},
		{"function ARN as the resource", task(`"Resource":"arn:aws:lambda:eu-west-1:123456789012:function:stepmon-check:live"`), false},
		{"JSONata arguments", `{"QueryLanguage":"JSONata","StartAt":"C","States":{"C":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",` +
			`"Arguments":{"FunctionName":"stepmon-check","Payload":"{% $states.input %}"},"End":true}}}`, false},
		{"parallel branch", `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[` + invoke + `],"End":true}}}`, false},
		{"map item processor", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":` + invoke + `,"End":true}}}`, false},
		{"map iterator", `{"StartAt":"M","States":{"M":{"Type":"Map","Iterator":` + invoke + `,"End":true}}}`, false},
		{"comment only", `{"Comment":"stepmon-check","StartAt":"P","States":{"P":{"Type":"Pass","Comment":"stepmon-check","End":true}}}`, true},
		{"pass result", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"FunctionName":"stepmon-check"},"End":true}}}`, true},
		{"longer name", task(`"Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"stepmon-check-v2"}`), true},
		{"another service", task(`"Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"q","MessageBody":"stepmon-check","FunctionName":"stepmon-check"}`), true},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tryDefinition(ctx, t, tt.def)
			if got := errors.Is(err, ErrNotMonitorDefinition); got != tt.refused || (err != nil && !got) {
				t.Errorf("New: %v; want refused %v", err, tt.refused)
			}
		})
	}
}

// New refuses a definition that would fail only when a monitor reached
// one of its states: a ${...} placeholder the runtime does not fill, or a
// Lambda function other than the runtime's four, each named with its
// state; the shipped definition, a Comment that mentions a placeholder
// and a function name computed at run time are accepted. (Such a
// definition used to start, its monitors failing later.)
func TestDefinitionNamesOnlyLocalFunctions(t *testing.T) {
	check := `"C":{"Type":"Task","Resource":"${CheckFunctionArn}","Next":"X"}`
	def := func(x string) string { return `{"StartAt":"C","States":{` + check + `,"X":` + x + `}}` }
	tests := []struct {
		name, def string
		want      []string // nil: accepted
	}{
		{"shipped", stepmon.Definition, nil},
		{"all four functions", def(`{"Type":"Parallel","End":true,"Branches":[` +
			`{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:stepmon-start","Next":"A"},` +
			`"A":{"Type":"Task","Resource":"${AlertFunctionArn}","Next":"T"},` +
			`"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"${StatusFunctionArn}"},"End":true}}}]}`), nil},
		{"placeholder in a comment", def(`{"Type":"Pass","Comment":"was ${OldArn}","End":true}`), nil},
		{"computed name", def(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName.$":"$.f"},"End":true}`), nil},
		{"unknown placeholder", def(`{"Type":"Task","Resource":"${FooArn}","End":true}`),
			[]string{`state "X": ${FooArn} is not a placeholder this runtime fills (${CheckFunctionArn}, ${AlertFunctionArn}, ${StatusFunctionArn})`}},
		{"placeholder in a parameter", def(`{"Type":"Pass","Parameters":{"topic":"${TopicArn}"},"End":true}`),
			[]string{`state "X": ${TopicArn} is not a placeholder`}},
		{"unknown function ARN", def(`{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:nope","End":true}`),
			[]string{`state "X": Lambda function arn:aws:lambda:us-east-1:000000000000:function:nope is not one of this runtime's (stepmon-start, stepmon-check, stepmon-alert, stepmon-status)`}},
		{"unknown function in a map", def(`{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Task",` +
			`"Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"other"},"End":true}}}}`),
			[]string{`state "X > I": Lambda function other is not one of this runtime's`}},
		{"unknown function in a parallel branch", def(`{"Type":"Parallel","End":true,"Branches":[{"StartAt":"B","States":{"B":{"Type":"Task",` +
			`"Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"other"},"End":true}}}]}`),
			[]string{`state "X > B": Lambda function other is not one of this runtime's`}},
		{"placeholder in a parallel branch", def(`{"Type":"Parallel","End":true,"Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass",` +
			`"Result":"${FooArn}","End":true}}}]}`),
			[]string{`state "X > B": ${FooArn} is not a placeholder`}},
		{"placeholder in a legacy Iterator", def(`{"Type":"Map","End":true,"Iterator":{"StartAt":"I","States":{"I":{"Type":"Pass",` +
			`"Result":"${FooArn}","End":true}}}}`),
			[]string{`state "X > I": ${FooArn} is not a placeholder`}},
		{"placeholders of a state once each, in order", def(`{"Type":"Pass","Parameters":{"e":"${EArn}","d":["${DArn}","${AArn}"],` +
			`"${CArn}":"${BArn}","a":"${AArn} and ${EArn}"},"End":true}`),
			[]string{`state "X": ${AArn} `, `state "X": ${BArn} `, `state "X": ${CArn} `, `state "X": ${DArn} `, `state "X": ${EArn} `}},
		{"placeholder as a function name, reported once", def(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",` +
			`"Parameters":{"FunctionName":"${FooArn}"},"End":true}`),
			[]string{`state "X": ${FooArn} is not a placeholder`}},
		{"states in order", `{"StartAt":"C","States":{` + check + `,"X":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",` +
			`"Parameters":{"FunctionName":"e"},"Next":"D"},"D":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",` +
			`"Parameters":{"FunctionName":"d"},"Next":"B"},"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",` +
			`"Parameters":{"FunctionName":"b"},"Next":"A"},"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",` +
			`"Parameters":{"FunctionName":"a"},"End":true}}}`,
			[]string{`state "A": `, `state "B": `, `state "D": `, `state "X": `}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tryDefinition(ctx, t, tt.def)
			var de *DefinitionError
			if tt.want == nil {
				if err != nil {
					t.Errorf("New: %v; want it accepted", err)
				}
				return
			}
			if !errors.As(err, &de) || len(de.Problems) != len(tt.want) {
				t.Fatalf("New: %v; want a *DefinitionError with %d problems", err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(de.Problems[i], w) {
					t.Errorf("problem %d: %q, want it to begin %q", i, de.Problems[i], w)
				}
			}
		})
	}
}

// tryDefinition starts a runtime on def and shuts it down again, and
// returns New's error.
func tryDefinition(ctx context.Context, t *testing.T, def string) error {
	t.Helper()
	rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Definition: def,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		if err := rt.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
	return err
}

// A restart on the definition the machine has, respaced (compacted, or
// indented by an editor), leaves the machine as it is, as
// UpdateStateMachine with it does: it stored the respaced text as a new
// definition and logged "state machine definition updated".
func TestRestartWithRespacedDefinition(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(stepmon.Definition)); err != nil {
		t.Fatal(err)
	}
	for i, def := range []string{stepmon.Definition, compact.String()} {
		var log testtool.SyncBuffer
		rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, Definition: def, Logger: slog.New(slog.NewTextHandler(&log, nil))})
		if err != nil {
			t.Fatal(err)
		}
		sm, err := rt.engineStore.GetStateMachine(ctx, rt.StateMachineArn())
		if err := rt.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		switch {
		case err != nil:
			t.Fatal(err)
		case i > 0 && strings.Contains(log.String(), "definition updated"):
			t.Errorf("the restart on the compacted definition logged an update:\n%s", log.String())
		case sm.Definition != substituteDefinition(stepmon.Definition):
			t.Errorf("start %d: the machine's definition is\n%s\nwant the file's, filled in", i, sm.Definition)
		}
	}
}
