package sfnapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestListStateMachineVersions: no versions are published locally, so
// every state machine has none, an unknown one too (the API model lists
// no StateMachineDoesNotExist for the operation); the request is checked
// as on AWS.
func TestListStateMachineVersions(t *testing.T) {
	srv, _ := newServer(t)
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`","publish":true}`)
	for _, arn := range []string{smArn + "sm", smArn + "nope"} {
		m := mustCall(t, srv.URL, "ListStateMachineVersions", `{"stateMachineArn":"`+arn+`","maxResults":10}`)
		if vs, ok := m["stateMachineVersions"].([]any); !ok || len(vs) != 0 || len(m) != 1 {
			t.Errorf("ListStateMachineVersions(%s) = %v, want {\"stateMachineVersions\": []}", arn, m)
		}
	}
	for _, tt := range []struct{ name, body, wantType, wantMessage string }{
		{"no arn", `{}`, validation, "Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null"},
		{"empty arn", `{"stateMachineArn":""}`, validation, "Value '' at 'stateMachineArn' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"not an arn", `{"stateMachineArn":"sm"}`, svc + "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: sm'"},
		{"execution arn", `{"stateMachineArn":"` + execArn + `sm:x"}`, svc + "InvalidArn", "Resource type not valid in this context: execution"},
		{"page size", `{"stateMachineArn":"` + smArn + `sm","maxResults":1001}`, validation, "Member must have value less than or equal to 1000"},
		{"made-up token", `{"stateMachineArn":"` + smArn + `sm","nextToken":"t"}`, svc + "InvalidToken", "Invalid Token: 'Invalid token'"},
		{"long token", `{"stateMachineArn":"` + smArn + `sm","nextToken":"` + strings.Repeat("t", 1025) + `"}`, validation,
			"Member must have length less than or equal to 1024"},
	} {
		code, m := call(t, srv.URL, "ListStateMachineVersions", tt.body)
		if code != http.StatusBadRequest || m["__type"] != tt.wantType {
			t.Errorf("%s: %d %v, want 400 %s", tt.name, code, m, tt.wantType)
			continue
		}
		if msg, _ := m["message"].(string); !strings.Contains(msg, tt.wantMessage) {
			t.Errorf("%s: message %q, want it to contain %q", tt.name, msg, tt.wantMessage)
		}
	}
}
