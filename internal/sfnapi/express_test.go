package sfnapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// taskDef is a definition whose one Task state, named name, calls
// resource.
func taskDef(name, resource string) string {
	return `{"StartAt":"` + name + `","States":{"` + name + `":{"Type":"Task","Resource":"` + resource + `","End":true}}}`
}

// EXPRESS state machines refuse the integrations that wait (.sync,
// .sync:2, .waitForTaskToken) and activities, at any depth, when created
// and when updated, with AWS's SCHEMA_VALIDATION_FAILED messages;
// STANDARD machines take them.
func TestExpressRefusesWaitingIntegrations(t *testing.T) {
	srv, _ := newServer(t)
	const (
		syncRes     = "arn:aws:states:::states:startExecution.sync"
		sync2Res    = "arn:aws:states:::states:startExecution.sync:2"
		tokenRes    = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
		activityRes = "arn:aws:states:us-east-1:123456789012:activity:a"
		lambdaRes   = "arn:aws:lambda:us-east-1:123456789012:function:f"
		prefix      = "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: "
	)
	inParallel := `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[` + taskDef("A", lambdaRes) + `,` + taskDef("T", syncRes) + `]}}}`
	inMap := `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":` + taskDef("T", tokenRes) + `}}}`
	tests := []struct {
		name, definition string
		wantExpress      string // the message for an EXPRESS machine; "" when it is accepted
	}{
		{"sync", taskDef("StartExecution", syncRes),
			prefix + "Express state machine does not support '.sync' service integration at /States/StartExecution/Resource'"},
		{"sync:2", taskDef("StartExecution", sync2Res),
			prefix + "Express state machine does not support '.sync' service integration at /States/StartExecution/Resource'"},
		{"waitForTaskToken", taskDef("Publish", tokenRes),
			prefix + "Express state machine does not support '.waitForTaskToken' service integration  at /States/Publish/Resource'"},
		{"activity", taskDef("ActivityTask", activityRes),
			prefix + "Express state machine does not support Activity ARN at /States/ActivityTask/Resource'"},
		{"in a Parallel branch", inParallel,
			prefix + "Express state machine does not support '.sync' service integration at /States/P/Branches/1/States/T/Resource'"},
		{"in a Map item processor", inMap,
			prefix + "Express state machine does not support '.waitForTaskToken' service integration  at /States/M/ItemProcessor/States/T/Resource'"},
		{"request response", taskDef("Invoke", lambdaRes), ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := strings.NewReplacer(":", "-", " ", "-").Replace(tt.name)
			for _, typ := range []string{"STANDARD", "EXPRESS"} {
				want := ""
				if typ == "EXPRESS" {
					want = tt.wantExpress
				}
				body := `{"name":"` + typ + `-` + name + `","definition":` + jsonString(tt.definition) + `,"roleArn":"` + role + `","type":"` + typ + `"}`
				checkDefinitionAnswer(t, srv.URL, "CreateStateMachine "+typ, body, want)

				machine := typ + "-update-" + string(rune('a'+i))
				mustCall(t, srv.URL, "CreateStateMachine", `{"name":"`+machine+`","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`","type":"`+typ+`"}`)
				body = `{"stateMachineArn":"` + smArn + machine + `","definition":` + jsonString(tt.definition) + `}`
				checkDefinitionAnswer(t, srv.URL, "UpdateStateMachine "+typ, body, want)
				wantDef := tt.definition
				if want != "" {
					wantDef = passDef
				}
				if m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+smArn+machine+`"}`); m["definition"] != wantDef {
					t.Errorf("%s after the update: definition %v, want %s", typ, m["definition"], wantDef)
				}
			}
		})
	}
}

// checkDefinitionAnswer posts op and checks that it succeeds (wantMessage
// "") or answers InvalidDefinition with wantMessage.
func checkDefinitionAnswer(tb testing.TB, url, what, body, wantMessage string) {
	tb.Helper()
	op, _, _ := strings.Cut(what, " ")
	code, m := call(tb, url, op, body)
	if wantMessage == "" {
		if code != http.StatusOK {
			tb.Errorf("%s = %d %v, want 200", what, code, m)
		}
		return
	}
	if code != http.StatusBadRequest || m["__type"] != "com.amazonaws.swf.service.v2.model#InvalidDefinition" || m["message"] != wantMessage {
		tb.Errorf("%s = %d %v %q, want 400 InvalidDefinition %q", what, code, m["__type"], m["message"], wantMessage)
	}
}
