package sfnapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sfnapi"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// TestRequestLimits checks requests at the edges of the limits the API
// model and the API Reference give (maxResults up to 1000, cause up to
// 32768 characters, versionDescription up to 256, input up to 256 KiB, a
// traceHeader of ASCII), the shapes of the ARNs a request names (a
// state machine's, an execution's, an activity's, an IAM role's, a
// CloudWatch Logs log group's), and how the errors of a request combine:
// a value at its limit is accepted, one past it refused, and a sensitive
// member (definition, cause) is reported without its value.
func TestRequestLimits(t *testing.T) {
	srv, e := newServer(t)
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`sm","name":"once"}`)
	if _, err := e.Wait(t.Context(), execArn+"sm:once"); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	n := 0
	create := func(members string) string {
		n++
		return fmt.Sprintf(`{"name":"m%d","definition":%s,%s}`, n, jsonString(passDef), members)
	}
	withRole := func(roleArn string) string { return create(`"roleArn":` + jsonString(roleArn)) }
	withLogGroup := func(arn string) string {
		return create(`"roleArn":"` + role + `","loggingConfiguration":{"level":"ALL","destinations":[{"cloudWatchLogsLogGroup":{"logGroupArn":"` + arn + `"}}]}`)
	}
	start := func(input string) string {
		return `{"stateMachineArn":"` + smArn + `sm","input":` + jsonString(input) + `}`
	}
	stop := func(cause string) string { return `{"executionArn":"` + execArn + `sm:once","cause":"` + cause + `"}` }
	// A JSON string of exactly the longest input.
	longestInput := `"` + strings.Repeat("i", engine.MaxInput-2) + `"`
	tests := []struct {
		name, op, body string
		wantType       string // "" for success
		wantMessage    string // what the message contains
	}{
		{"a page of 1000 machines", "ListStateMachines", `{"maxResults":1000}`, "", ""},
		{"a page of 1000 executions", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","maxResults":1000}`, "", ""},
		{"a page of 1000 events", "GetExecutionHistory", `{"executionArn":"` + execArn + `sm:once","maxResults":1000}`, "", ""},

		{"the longest cause", "StopExecution", stop(strings.Repeat("c", 32768)), "", ""},
		{"a cause too long", "StopExecution", stop(strings.Repeat("c", 32769)), validation,
			"1 validation error detected: Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768"},
		{"an empty definition", "CreateStateMachine", `{"name":"empty","definition":"","roleArn":"` + role + `"}`, validation,
			"1 validation error detected: Value at 'definition' failed to satisfy constraint: Member must have length greater than or equal to 1"},

		{"the longest version description", "CreateStateMachine", create(`"roleArn":"` + role + `","publish":true,"versionDescription":"` + strings.Repeat("v", 256) + `"`), "", ""},
		{"a version description too long", "CreateStateMachine", create(`"roleArn":"` + role + `","publish":true,"versionDescription":"` + strings.Repeat("v", 257) + `"`), validation,
			"1 validation error detected: Value at 'versionDescription' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"the longest version description of an update", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm","roleArn":"` + role +
			`","publish":true,"versionDescription":"` + strings.Repeat("v", 256) + `"}`, "", ""},
		{"an update's version description too long", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm","roleArn":"` + role +
			`","publish":true,"versionDescription":"` + strings.Repeat("v", 257) + `"}`, validation,
			"1 validation error detected: Value at 'versionDescription' failed to satisfy constraint: Member must have length less than or equal to 256"},

		{"the longest input", "StartExecution", start(longestInput), "", ""},
		{"an input too long", "StartExecution", start(longestInput + " "), validation,
			fmt.Sprintf("1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to %d", engine.MaxInput)},
		{"a trace header with DEL, the last ASCII character", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","traceHeader":"Root=\u007f"}`, "", ""},

		{"escapes in a string before deep nesting", "StartExecution", start(`["\"\\",` + strings.Repeat("[", 10001)), svc + "InvalidExecutionInput",
			"Invalid State Machine Execution Input: 'input is not valid JSON: nested too deeply (limit 10000)'"},
		{"nesting at the limit", "StartExecution", start(strings.Repeat("[", 10000)), svc + "InvalidExecutionInput",
			"Invalid State Machine Execution Input: 'input is not valid JSON'"},
		{"closed arrays are no nesting", "StartExecution", start("[" + strings.Repeat("[],", 10001)), svc + "InvalidExecutionInput",
			"Invalid State Machine Execution Input: 'input is not valid JSON'"},

		{"an execution ARN without the execution's name", "DescribeExecution", `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:sm"}`,
			svc + "InvalidArn", "Invalid Arn: 'Execution name missing: arn:aws:states:us-east-1:123456789012:execution:sm'"},
		{"an ARN without a region", "DescribeStateMachine", `{"stateMachineArn":"arn:aws:states::123456789012:stateMachine:sm"}`, svc + "InvalidArn", "Invalid Arn: "},
		{"an ARN without an account", "DescribeStateMachine", `{"stateMachineArn":"arn:aws:states:us-east-1::stateMachine:sm"}`, svc + "InvalidArn", "Invalid Arn: "},
		{"an ARN without a name", "DescribeStateMachine", `{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:"}`, svc + "InvalidArn", "Invalid Arn: "},
		{"an activity ARN without an account", "ListTagsForResource", `{"resourceArn":"arn:aws:states:us-east-1::activity:a"}`, svc + "InvalidArn", "Invalid Arn: "},

		{"a role in another partition", "CreateStateMachine", withRole("arn:aws-cn:iam::123456789012:role/r"), "", ""},
		{"a role with a path", "CreateStateMachine", withRole("arn:aws-us-gov:iam::123456789012:role/service-role/r"), "", ""},
		{"a role without a name", "CreateStateMachine", withRole("arn:aws:iam::123456789012:role/"), svc + "InvalidArn", "Invalid role ARN"},
		{"a role of a short account", "CreateStateMachine", withRole("arn:aws:iam::12345:role/r"), svc + "InvalidArn", "Invalid role ARN"},
		{"a role after other text", "CreateStateMachine", withRole("x" + role), svc + "InvalidArn", "Invalid role ARN"},
		{"a role before another line", "CreateStateMachine", withRole(role + "\nx"), svc + "InvalidArn", "Invalid role ARN"},

		{"a log group in another partition", "CreateStateMachine", withLogGroup("arn:aws-cn:logs:cn-north-1:123456789012:log-group:g:*"), "", ""},
		{"a log group after other text", "CreateStateMachine", withLogGroup("x" + logGroup), svc + "InvalidLoggingConfiguration", "is not a CloudWatch Logs log group ARN"},
		{"a log group with more after its qualifier", "CreateStateMachine", withLogGroup(logGroup + "x"), svc + "InvalidLoggingConfiguration",
			"is not a CloudWatch Logs log group ARN"},
		{"a log group without a region", "CreateStateMachine", withLogGroup("arn:aws:logs::123456789012:log-group:g:*"), svc + "InvalidLoggingConfiguration",
			"is not a CloudWatch Logs log group ARN"},
		{"a log group of a short account", "CreateStateMachine", withLogGroup("arn:aws:logs:us-east-1:12345:log-group:g:*"), svc + "InvalidLoggingConfiguration",
			"is not a CloudWatch Logs log group ARN"},

		{"an encryption configuration without a type", "CreateStateMachine", create(`"roleArn":"` + role + `","encryptionConfiguration":{"kmsKeyId":"k"}`), validation,
			"1 validation error detected: Value null at 'encryptionConfiguration.type' failed to satisfy constraint: Member must not be null"},
		{"the first of two errors that are no constraint", "CreateStateMachine", `{"name":"a b","definition":` + jsonString(passDef) + `,"roleArn":"r"}`,
			svc + "InvalidName", "Invalid Name: 'a b'"},
		{"two errors of a definition", "CreateStateMachine", `{"name":"two","definition":` +
			jsonString(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"X"},"B":{"Type":"Pass","Next":"Y"}}}`) + `,"roleArn":"` + role + `"}`,
			svc + "InvalidDefinition", "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: X at /States/A/Next, "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, m := call(t, srv.URL, tt.op, tt.body)
			wantAnswer(t, code, m, tt.wantType, tt.wantMessage)
		})
	}
}

// failingList is an engine backend whose ListStateMachines fails with err.
type failingList struct {
	*sfnapi.EngineBackend
	err error
}

func (b failingList) ListStateMachines(context.Context, int, string) ([]engine.StateMachine, string, error) {
	return nil, "", b.err
}

// TestBackendErrors checks the answers to a Backend's errors that no
// request check catches: a failure of its own is AWS's InternalFailure,
// status 500, in Coral's namespace; a token the Backend no longer takes
// is InvalidToken; a definition problem is InvalidDefinition, with the
// problem's message.
func TestBackendErrors(t *testing.T) {
	store, err := sqlitestore.OpenEngineStore(context.Background(), filepath.Join(t.TempDir(), "stepmon.db"), sqlitestore.EngineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Options{Store: store, Region: region, AccountID: account})
	t.Cleanup(func() {
		e.Close()
		store.Close()
	})
	for _, tc := range []struct {
		name        string
		err         error
		wantCode    int
		wantType    string
		wantMessage string // what the message contains (a definition problem's is AWS's "MSG at PATH")
	}{
		{"the backend's own failure", errors.New("sqlitestore: disk I/O error"), http.StatusInternalServerError,
			"com.amazon.coral.service#InternalFailure", "sqlitestore: disk I/O error"},
		{"a token no longer valid", fmt.Errorf("engine: list: %w", engine.ErrInvalidToken), http.StatusBadRequest,
			svc + "InvalidToken", "Invalid Token: 'Invalid token'"},
		{"a definition problem", &asl.ValidationError{Path: "/States/A", Message: "SCHEMA_VALIDATION_FAILED: bad"}, http.StatusBadRequest,
			svc + "InvalidDefinition", "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: bad at /States/A'"},
		{"a problem of the whole definition", &asl.ValidationError{Message: "MISSING_END_STATE: none"}, http.StatusBadRequest,
			svc + "InvalidDefinition", "Invalid State Machine Definition: 'MISSING_END_STATE: none at null'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(sfnapi.NewHandler(failingList{sfnapi.NewEngineBackend(e), tc.err}, nil))
			defer srv.Close()
			code, m := call(t, srv.URL, "ListStateMachines", `{}`)
			if code != tc.wantCode || m["__type"] != tc.wantType {
				t.Fatalf("answer = %d %v, want %d %s", code, m, tc.wantCode, tc.wantType)
			}
			if msg, _ := m["message"].(string); !strings.Contains(msg, tc.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", msg, tc.wantMessage)
			}
		})
	}
}
