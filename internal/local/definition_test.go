package local

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stepmon/stepmon"
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
			rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Definition: tt.def,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err == nil {
				if err := rt.Shutdown(ctx); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
			}
			if got := errors.Is(err, ErrNotMonitorDefinition); got != tt.refused || (err != nil && !got) {
				t.Errorf("New: %v; want refused %v", err, tt.refused)
			}
		})
	}
}
