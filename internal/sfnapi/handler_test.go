package sfnapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sfnapi"
	"github.com/stepmon/stepmon/internal/sqlitestore"
	"github.com/stepmon/stepmon/internal/testtool"
)

const (
	region  = "us-east-1"
	account = "123456789012"
	role    = "arn:aws:iam::123456789012:role/r"
	smArn   = "arn:aws:states:us-east-1:123456789012:stateMachine:"
	execArn = "arn:aws:states:us-east-1:123456789012:execution:"
	// expressArn starts the ARN AWS gives an EXPRESS execution.
	expressArn = "arn:aws:states:us-east-1:123456789012:express:"
	mapRunArn  = "arn:aws:states:us-east-1:123456789012:mapRun:"
)

// Definitions the tests run.
const (
	passDef = `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"ResultPath":"$.r","End":true}}}`
	// loopDef counts $.n up to $.max through a Choice and a one-second Wait.
	loopDef = `{"StartAt":"Inc","States":{
		"Inc":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)","max.$":"$.max"},"Next":"Done?"},
		"Done?":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThanEqualsPath":"$.max","Next":"Yes"}],"Default":"Wait"},
		"Wait":{"Type":"Wait","Seconds":1,"Next":"Inc"},
		"Yes":{"Type":"Succeed"}}}`
	longWaitDef = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`
	failDef     = `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Oops","Cause":"on purpose"}}}`
)

// newServer serves the API over an engine on a SQLite store in a
// temporary directory, with the real clock.
func newServer(tb testing.TB) (*httptest.Server, *engine.Engine) {
	tb.Helper()
	store, err := sqlitestore.OpenEngineStore(context.Background(), filepath.Join(tb.TempDir(), "stepmon.db"), sqlitestore.EngineOptions{})
	if err != nil {
		tb.Fatalf("OpenEngineStore: %v", err)
	}
	e := engine.New(engine.Options{Store: store, Region: region, AccountID: account})
	srv := httptest.NewServer(sfnapi.NewHandler(sfnapi.NewEngineBackend(e), nil))
	tb.Cleanup(func() {
		srv.Close()
		e.Close()
		store.Close()
	})
	return srv, e
}

// call posts one operation and returns the status code and the decoded
// body.
func call(tb testing.TB, url, op, body string) (int, map[string]any) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if op != "" {
		req.Header.Set("X-Amz-Target", "AWSStepFunctions."+op)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		tb.Errorf("%s: Content-Type = %q, want application/x-amz-json-1.0", op, ct)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("%s: response %q is not a JSON object: %v", op, raw, err)
	}
	return resp.StatusCode, m
}

// The __type prefixes of the API's errors: the service's own, and Coral's
// validation of members.
const (
	svc        = "com.amazonaws.swf.service.v2.model#"
	validation = "com.amazon.coral.validate#ValidationException"
)

// wantAnswer checks an answer against a table's row: 200 when wantType
// is empty, otherwise 400 with that __type and a message containing
// wantMessage.
func wantAnswer(t *testing.T, code int, m map[string]any, wantType, wantMessage string) {
	t.Helper()
	if wantType == "" {
		if code != http.StatusOK {
			t.Fatalf("answer = %d %v, want 200", code, m)
		}
		return
	}
	if code != http.StatusBadRequest || m["__type"] != wantType {
		t.Fatalf("answer = %d %v, want 400 %s", code, m, wantType)
	}
	if msg, _ := m["message"].(string); !strings.Contains(msg, wantMessage) {
		t.Errorf("message = %q, want it to contain %q", msg, wantMessage)
	}
}

func TestErrors(t *testing.T) {
	srv, _ := newServer(t)
	if code, m := call(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`); code != 200 {
		t.Fatalf("CreateStateMachine = %d %v", code, m)
	}
	if code, m := call(t, srv.URL, "CreateStateMachine", `{"name":"ex","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`","type":"EXPRESS"}`); code != 200 {
		t.Fatalf("CreateStateMachine(EXPRESS) = %d %v", code, m)
	}
	if code, m := call(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`sm","name":"once","input":"{\"a\":1}"}`); code != 200 {
		t.Fatalf("StartExecution = %d %v", code, m)
	}
	tests := []struct {
		name, op, body string
		wantType       string
		wantMessage    string // what the message contains
	}{
		{"unknown operation", "Frobnicate", `{}`, "com.amazon.coral.service#UnknownOperationException", "Frobnicate"},
		{"no target", "", `{}`, "com.amazon.coral.service#UnknownOperationException", ""},
		{"malformed body", "ListStateMachines", `{"maxResults":`, "com.amazon.coral.service#SerializationException", ""},
		{"wrong member type", "ListStateMachines", `{"maxResults":"ten"}`, "com.amazon.coral.service#SerializationException",
			"STRING_VALUE can not be converted to an Integer"},
		// Taken as U+FFFD, "\xff\xfe" and "\xfe\xff" were one name.
		{"name not UTF-8", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","name":"` + "\xff\xfe" + `"}`, "com.amazon.coral.service#SerializationException",
			"Malformed request body: not UTF-8 text (byte 0xFF at line 1, column "},
		{"definition not UTF-8", "CreateStateMachine", `{"name":"sm` + "\xfe" + `","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `"}`,
			"com.amazon.coral.service#SerializationException", "not UTF-8 text (byte 0xFE at line 1, column 12)"},
		{"array body", "ListStateMachines", `[]`, "com.amazon.coral.service#SerializationException", "Start of list found where not expected."},
		{"object member", "ListStateMachines", `{"nextToken":{}}`, "com.amazon.coral.service#SerializationException",
			"Start of structure or map found where not expected."},
		{"number member", "DescribeExecution", `{"executionArn":5}`, "com.amazon.coral.service#SerializationException",
			"NUMBER_VALUE can not be converted to a String"},
		{"page size", "ListStateMachines", `{"maxResults":1001}`, "com.amazon.coral.validate#ValidationException", "maxResults"},
		{"constraints of both parts of a sync start", "StartSyncExecution", `{"stateMachineArn":"` + smArn + `ex","includedData":"ALL","name":"` + strings.Repeat("n", 81) +
			`","traceHeader":"` + strings.Repeat("t", 257) + `"}`, "com.amazon.coral.validate#ValidationException", "3 validation errors detected: "},
		{"start a map label", "StartExecution", `{"stateMachineArn":"` + smArn + `sm/map"}`, "com.amazon.coral.validate#ValidationException",
			"Unsupported qualified state machine ARN"},
		{"update a map label", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm/map","roleArn":"` + role + `"}`,
			"com.amazon.coral.validate#ValidationException", "Unsupported qualified state machine ARN: '" + smArn + "sm/map'"},
		{"two constraints", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","maxResults":5000,"statusFilter":"BAD"}`, "com.amazon.coral.validate#ValidationException",
			"2 validation errors detected: Value '5000' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000; " +
				"Value 'BAD' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set"},
		{"missing role", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `}`,
			"com.amazon.coral.validate#ValidationException", "Value null at 'roleArn'"},
		{"bad name", "CreateStateMachine", `{"name":"a b","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `"}`, svc + "InvalidName", "Invalid Name: 'a b'"},
		{"name with a C1 control", "CreateStateMachine", `{"name":"a\u0085b","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `"}`, svc + "InvalidName", ""},
		// Read as U+FFFD, "\ud800" and "\udc00" were one name.
		{"name with a lone surrogate", "CreateStateMachine", `{"name":"a\ud800","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `"}`, svc + "InvalidName", "Invalid Name: 'a\uFFFD'"},
		{"execution name with a lone surrogate", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","name":"\udc00"}`, svc + "InvalidName", "Invalid Name: '\uFFFD'"},
		// A member the operation does not have is ignored, lone
		// surrogate or not.
		{"unknown name member with a lone surrogate", "DescribeExecution", `{"executionArn":"` + execArn + `sm:nosuch","name":"\ud800"}`, svc + "ExecutionDoesNotExist", ""},
		// No name holds a surrogate: an ARN that does names nothing,
		// where it named the machine "sm\uFFFD".
		{"ARN with a lone surrogate", "DescribeStateMachine", `{"stateMachineArn":"` + smArn + `sm\ud800"}`, svc + "InvalidArn", "Invalid Arn: '" + smArn + "sm\uFFFD'"},
		{"execution ARN with a lone surrogate", "StartExecution", `{"stateMachineArn":"` + smArn + `sm\udc00"}`, svc + "InvalidArn", ""},
		{"name with a colon", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","name":"a:b"}`, svc + "InvalidName", "Invalid Name: 'a:b'"},
		{"empty machine name", "CreateStateMachine", `{"name":"","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `"}`,
			"com.amazon.coral.validate#ValidationException", "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"empty execution name", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","name":""}`,
			"com.amazon.coral.validate#ValidationException", "Member must have length greater than or equal to 1"},
		{"role not an ARN", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"r"}`, svc + "InvalidArn", "r"},
		{"role of a user", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"arn:aws:iam::123456789012:user/u"}`,
			svc + "InvalidArn", "arn:aws:iam::123456789012:user/u"},
		{"update role not an ARN", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm","roleArn":"arn:aws:states:us-east-1:123456789012:role/r"}`,
			svc + "InvalidArn", ""},
		{"version description without publish", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `","versionDescription":"v1"}`,
			"com.amazon.coral.validate#ValidationException", "Version description can only be set when publish is true"},
		{"update version description without publish", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm","roleArn":"` + role + `","versionDescription":"v2"}`,
			"com.amazon.coral.validate#ValidationException", "Version description can only be set when publish is true"},
		// An enum member given empty is given: AWS's validation refuses
		// it as it refuses any other value outside the set.
		{"empty type", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `","type":""}`,
			"com.amazon.coral.validate#ValidationException", "Value '' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"},
		{"empty logging level", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `","loggingConfiguration":{"level":""}}`,
			"com.amazon.coral.validate#ValidationException", "Value '' at 'loggingConfiguration.level' failed to satisfy constraint"},
		{"empty status filter", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","statusFilter":""}`,
			"com.amazon.coral.validate#ValidationException", "Value '' at 'statusFilter' failed to satisfy constraint"},
		{"empty redrive filter", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","redriveFilter":""}`,
			"com.amazon.coral.validate#ValidationException", "Value '' at 'redriveFilter' failed to satisfy constraint"},
		{"empty includedData", "DescribeExecution", `{"executionArn":"` + execArn + `sm:once","includedData":""}`,
			"com.amazon.coral.validate#ValidationException", "Value '' at 'includedData' failed to satisfy constraint"},
		{"empty severity", "ValidateStateMachineDefinition", `{"definition":` + jsonString(passDef) + `,"severity":""}`,
			"com.amazon.coral.validate#ValidationException", "Value '' at 'severity' failed to satisfy constraint"},
		{"empty type to validate", "ValidateStateMachineDefinition", `{"definition":` + jsonString(passDef) + `,"type":""}`,
			"com.amazon.coral.validate#ValidationException", "Value '' at 'type' failed to satisfy constraint"},
		{"type enum", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `","type":"FAST"}`,
			"com.amazon.coral.validate#ValidationException", "Member must satisfy enum value set: [STANDARD, EXPRESS]"},
		{"logging without destination", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"` + role +
			`","loggingConfiguration":{"level":"ALL"}}`, svc + "InvalidLoggingConfiguration", "Log Destination"},
		{"logging to a bad log group", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm","loggingConfiguration":{"level":"ERROR",` +
			`"destinations":[{"cloudWatchLogsLogGroup":{"logGroupArn":"arn:aws:logs:us-east-1:123456789012:log-group:g"}}]}}`,
			svc + "InvalidLoggingConfiguration", "Invalid Logging Configuration: Log Group ARN must be provided with '*' qualifier."},
		{"logging to two log groups", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm","loggingConfiguration":{"level":"OFF",` +
			`"destinations":[{"cloudWatchLogsLogGroup":{"logGroupArn":"` + logGroup + `"}},{"cloudWatchLogsLogGroup":{"logGroupArn":"` + logGroup + `"}}]}}`,
			svc + "InvalidLoggingConfiguration", "Invalid Logging Configuration: Must specify exactly one Log Destination."},
		{"logging to something else", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"` + role +
			`","loggingConfiguration":{"level":"FATAL","destinations":[{"cloudWatchLogsLogGroup":{"logGroupArn":"arn:aws:s3:::bucket:*"}}]}}`,
			svc + "InvalidLoggingConfiguration", "Invalid Logging Configuration: 'arn:aws:s3:::bucket:*' is not a CloudWatch Logs log group ARN."},
		{"logging to a destination without a log group", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"` + role +
			`","loggingConfiguration":{"level":"ALL","destinations":[{}]}}`,
			svc + "InvalidLoggingConfiguration", "Invalid Logging Configuration: '' is not a CloudWatch Logs log group ARN."},
		{"long log group ARN", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm","loggingConfiguration":{"level":"ALL",` +
			`"destinations":[{"cloudWatchLogsLogGroup":{"logGroupArn":"arn:aws:logs:us-east-1:123456789012:log-group:` + strings.Repeat("g", 210) + `:*"}}]}}`,
			"com.amazon.coral.validate#ValidationException",
			"at 'loggingConfiguration.destinations.1.member.cloudWatchLogsLogGroup.logGroupArn' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"empty log group ARN and a bad level", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"` + role +
			`","loggingConfiguration":{"level":"DEBUG","destinations":[{"cloudWatchLogsLogGroup":{"logGroupArn":""}}]}}`,
			"com.amazon.coral.validate#ValidationException", "2 validation errors detected: Value 'DEBUG' at 'loggingConfiguration.level'"},
		{"logging level enum", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"` + role +
			`","loggingConfiguration":{"level":"DEBUG"}}`, "com.amazon.coral.validate#ValidationException", "loggingConfiguration.level"},
		{"sync on standard", "StartSyncExecution", `{"stateMachineArn":"` + smArn + `sm"}`, svc + "StateMachineTypeNotSupported",
			"This operation is not supported by this type of state machine"},
		{"sync includedData", "StartSyncExecution", `{"stateMachineArn":"` + smArn + `ex","includedData":"ALL"}`,
			"com.amazon.coral.validate#ValidationException", "Member must satisfy enum value set: [ALL_DATA, METADATA_ONLY]"},
		{"describe execution includedData", "DescribeExecution", `{"executionArn":"` + execArn + `sm:once","includedData":"SOME"}`,
			"com.amazon.coral.validate#ValidationException", "'includedData'"},
		{"describe machine includedData", "DescribeStateMachine", `{"stateMachineArn":"` + smArn + `sm","includedData":"x"}`,
			"com.amazon.coral.validate#ValidationException", "'includedData'"},
		{"machine for execution includedData", "DescribeStateMachineForExecution", `{"executionArn":"` + execArn + `sm:once","includedData":"x"}`,
			"com.amazon.coral.validate#ValidationException", "'includedData'"},
		{"long execution arn", "DescribeExecution", `{"executionArn":"` + execArn + `sm:` + strings.Repeat("x", 256) + `"}`,
			"com.amazon.coral.validate#ValidationException", "Member must have length less than or equal to 256"},
		{"long machine arn", "ListExecutions", `{"stateMachineArn":"` + smArn + strings.Repeat("x", 256) + `"}`,
			"com.amazon.coral.validate#ValidationException", "Member must have length less than or equal to 256"},
		{"negative page size", "GetExecutionHistory", `{"executionArn":"` + execArn + `sm:once","maxResults":-1}`,
			"com.amazon.coral.validate#ValidationException", "Member must have value greater than or equal to 0"},
		{"stop error length in characters", "StopExecution", `{"executionArn":"` + execArn + `sm:once","error":"` + strings.Repeat("é", 257) + `"}`,
			"com.amazon.coral.validate#ValidationException", "Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"trace header not ASCII", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","traceHeader":"Root=é"}`,
			"com.amazon.coral.validate#ValidationException", `Member must satisfy regular expression pattern: \p{ASCII}*`},
		{"long trace header", "StartSyncExecution", `{"stateMachineArn":"` + smArn + `ex","traceHeader":"` + strings.Repeat("t", 257) + `"}`,
			"com.amazon.coral.validate#ValidationException", "Member must have length less than or equal to 256"},
		{"empty token", "ListStateMachines", `{"nextToken":""}`, "com.amazon.coral.validate#ValidationException",
			"Member must have length greater than or equal to 1"},
		{"long token", "GetExecutionHistory", `{"executionArn":"` + execArn + `sm:once","nextToken":"` + strings.Repeat("t", 1025) + `"}`,
			"com.amazon.coral.validate#ValidationException", "Member must have length less than or equal to 1024"},
		{"long executions token", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","nextToken":"` + strings.Repeat("t", 3097) + `"}`,
			"com.amazon.coral.validate#ValidationException", "Member must have length less than or equal to 3096"},
		{"made-up executions token", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","nextToken":"` + strings.Repeat("t", 3096) + `"}`,
			svc + "InvalidToken", ""},
		{"store token", "ListStateMachines", `{"nextToken":"m:1"}`, svc + "InvalidToken", ""},
		{"redrive filter", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","redriveFilter":"ALL"}`,
			"com.amazon.coral.validate#ValidationException", "Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]"},
		{"pending redrive of a machine", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","statusFilter":"PENDING_REDRIVE"}`,
			"com.amazon.coral.validate#ValidationException", "mapRunArn"},
		{"execution name with a slash", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","name":"a/b"}`, svc + "InvalidName", "Invalid Name: 'a/b'"},
		{"long name", "CreateStateMachine", `{"name":"` + strings.Repeat("a", 81) + `","definition":"{}","roleArn":"r"}`,
			"com.amazon.coral.validate#ValidationException", "length less than or equal to 80"},
		{"definition not JSON", "CreateStateMachine", `{"name":"x","definition":"{","roleArn":"` + role + `"}`, svc + "InvalidDefinition", "INVALID_JSON_DESCRIPTION"},
		{"definition invalid", "CreateStateMachine", `{"name":"x","definition":"{\"StartAt\":\"Nope\",\"States\":{}}","roleArn":"` + role + `"}`,
			svc + "InvalidDefinition", "Invalid State Machine Definition"},
		{"definition without an end", "CreateStateMachine", `{"name":"x","definition":` + jsonString(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`) + `,"roleArn":"` + role + `"}`,
			svc + "InvalidDefinition", "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'"},
		{"taken name", "CreateStateMachine", `{"name":"sm","definition":` + jsonString(failDef) + `,"roleArn":"` + role + `"}`,
			svc + "StateMachineAlreadyExists", "State Machine Already Exists: '" + smArn + "sm'"},
		{"machine arn prefix", "DescribeStateMachine", `{"stateMachineArn":"nope"}`, svc + "InvalidArn", "Invalid ARN prefix"},
		{"machine arn type", "DescribeStateMachine", `{"stateMachineArn":"` + execArn + `sm:x"}`, svc + "InvalidArn", "execution"},
		{"no machine", "DescribeStateMachine", `{"stateMachineArn":"` + smArn + `nope"}`, svc + "StateMachineDoesNotExist", smArn + "nope"},
		{"no machine to start", "StartExecution", `{"stateMachineArn":"` + smArn + `nope"}`, svc + "StateMachineDoesNotExist", ""},
		{"empty input", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","input":""}`, svc + "InvalidExecutionInput",
			"Invalid State Machine Execution Input: 'Invalid execution input.'"},
		{"empty sync input", "StartSyncExecution", `{"stateMachineArn":"` + smArn + `ex","input":""}`, svc + "InvalidExecutionInput",
			"Invalid State Machine Execution Input: 'Invalid execution input.'"},
		{"input not JSON", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","input":"{"}`, svc + "InvalidExecutionInput", ""},
		{"input nested too deeply", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","input":"` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `"}`,
			svc + "InvalidExecutionInput", "Invalid State Machine Execution Input: 'input is not valid JSON: nested too deeply (limit 10000)'"},
		{"definition nested too deeply", "CreateStateMachine", `{"name":"x","definition":` + jsonString(`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`,"End":true}}}`) + `,"roleArn":"` + role + `"}`,
			svc + "InvalidDefinition", "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: the definition is not valid JSON: nested too deeply (limit 10000)'"},
		{"brackets in a string are not nesting", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","input":"[\"` + strings.Repeat("[", 20000) + `\\\"\""}`,
			svc + "InvalidExecutionInput", "Invalid State Machine Execution Input: 'input is not valid JSON'"},
		{"input number out of range", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","input":"{\"x\":1e400}"}`, svc + "InvalidExecutionInput",
			"Invalid State Machine Execution Input: 'number 1e400 is out of range'"},
		{"sync input number out of range", "StartSyncExecution", `{"stateMachineArn":"` + smArn + `ex","input":"-1e400"}`, svc + "InvalidExecutionInput",
			"number -1e400 is out of range"},
		{"definition number out of range", "CreateStateMachine", `{"name":"x","definition":"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"Result\":1e400,\"End\":true}}}","roleArn":"` + role + `"}`,
			svc + "InvalidDefinition", "number 1e400 is out of range"},
		{"execution exists", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","name":"once","input":"{\"a\":2}"}`,
			svc + "ExecutionAlreadyExists", execArn + "sm:once"},
		{"execution arn type", "DescribeExecution", `{"executionArn":"` + smArn + `sm"}`, svc + "InvalidArn", "stateMachine"},
		{"describe express arn", "DescribeExecution", `{"executionArn":"` + expressArn + `ex:x:abc"}`, svc + "InvalidArn",
			"Invalid Arn: 'Resource type not valid in this context: express'"},
		{"stop express arn", "StopExecution", `{"executionArn":"` + expressArn + `ex:x:abc"}`, svc + "InvalidArn",
			"Invalid Arn: 'Resource type not valid in this context: express'"},
		{"history of express arn", "GetExecutionHistory", `{"executionArn":"` + expressArn + `ex:x:abc"}`, svc + "InvalidArn",
			"Invalid Arn: 'Resource type not valid in this context: express'"},
		{"machine for express arn", "DescribeStateMachineForExecution", `{"executionArn":"` + expressArn + `ex:x:abc"}`, svc + "InvalidArn",
			"Invalid Arn: 'Resource type not valid in this context: express'"},
		{"no execution", "DescribeExecution", `{"executionArn":"` + execArn + `sm:nope"}`, svc + "ExecutionDoesNotExist", execArn + "sm:nope"},
		{"no execution to stop", "StopExecution", `{"executionArn":"` + execArn + `sm:nope"}`, svc + "ExecutionDoesNotExist", ""},
		{"no history", "GetExecutionHistory", `{"executionArn":"` + execArn + `sm:nope"}`, svc + "ExecutionDoesNotExist", ""},
		{"bad history token", "GetExecutionHistory", `{"executionArn":"` + execArn + `sm:once","nextToken":"garbage"}`, svc + "InvalidToken", ""},
		{"status filter", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","statusFilter":"DONE"}`,
			"com.amazon.coral.validate#ValidationException",
			"Value 'DONE' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"},
		{"no machine to list", "ListExecutions", `{"stateMachineArn":"` + smArn + `nope"}`, svc + "StateMachineDoesNotExist", ""},
		{"neither machine nor map run", "ListExecutions", `{}`, "com.amazon.coral.validate#ValidationException",
			"Must specify either a stateMachineArn or a mapRunArn"},
		{"both machine and map run", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","mapRunArn":"` + mapRunArn + `sm/m:1"}`,
			"com.amazon.coral.validate#ValidationException", "Specify either a stateMachineArn or a mapRunArn, not both"},
		{"no map run", "ListExecutions", `{"mapRunArn":"` + mapRunArn + `sm/m:1"}`, svc + "ResourceNotFound",
			"Resource not found: '" + mapRunArn + "sm/m:1'"},
		{"no map run pending redrive", "ListExecutions", `{"mapRunArn":"` + mapRunArn + `sm/m:1","statusFilter":"PENDING_REDRIVE"}`,
			svc + "ResourceNotFound", ""},
		{"map run arn type", "ListExecutions", `{"mapRunArn":"` + smArn + `sm"}`, svc + "InvalidArn",
			"Resource type not valid in this context: stateMachine"},
		{"empty machine arn", "DescribeStateMachine", `{"stateMachineArn":""}`, "com.amazon.coral.validate#ValidationException",
			"1 validation error detected: Value '' at 'stateMachineArn' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"empty execution arn", "DescribeExecution", `{"executionArn":""}`, "com.amazon.coral.validate#ValidationException",
			"1 validation error detected: Value '' at 'executionArn' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"empty machine arn to start", "StartExecution", `{"stateMachineArn":"","name":"x"}`, "com.amazon.coral.validate#ValidationException",
			"Value '' at 'stateMachineArn' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"empty machine arn to list", "ListExecutions", `{"stateMachineArn":""}`, "com.amazon.coral.validate#ValidationException",
			"Value '' at 'stateMachineArn' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"empty map run arn", "ListExecutions", `{"mapRunArn":""}`, "com.amazon.coral.validate#ValidationException",
			"Value '' at 'mapRunArn' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"null machine arn", "DescribeStateMachine", `{"stateMachineArn":null}`, "com.amazon.coral.validate#ValidationException",
			"Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null"},
		{"member name in another case", "StartExecution", `{"StateMachineArn":"` + smArn + `sm","name":"casey"}`,
			"com.amazon.coral.validate#ValidationException", "Value null at 'stateMachineArn'"},
		{"embedded member name in another case", "StartSyncExecution", `{"STATEMACHINEARN":"` + smArn + `ex"}`,
			"com.amazon.coral.validate#ValidationException", "Value null at 'stateMachineArn'"},
		{"update nothing", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm"}`, svc + "MissingRequiredParameter",
			"Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified"},
		{"update invalid", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm","definition":"{\"StartAt\":1}"}`, svc + "InvalidDefinition", ""},
		{"update missing", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `nope","roleArn":"` + role + `"}`, svc + "StateMachineDoesNotExist", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, m := call(t, srv.URL, tt.op, tt.body)
			if code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400 (body %v)", code, m)
			}
			if m["__type"] != tt.wantType {
				t.Errorf("__type = %v, want %s (message %v)", m["__type"], tt.wantType, m["message"])
			}
			msg, _ := m["message"].(string)
			if strings.Contains(msg, "sfnapi") {
				t.Errorf("message = %q names a Go type", msg)
			}
			if !regexp.MustCompile(regexp.QuoteMeta(tt.wantMessage)).MatchString(msg) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.wantMessage)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv, _ := newServer(t)
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET / = %d, want 405", resp.StatusCode)
	}
}

// A body over the limit, AWS's 1 MB (MiB) request size quota, is 413 in
// the API's error shape, not a SerializationException: the request is
// refused for its size, before it is read as JSON. A body of exactly
// 1 MiB is read (and here refused for its over-long token).
func TestBodyTooLarge(t *testing.T) {
	srv, _ := newServer(t)
	// body returns a request body of n bytes.
	body := func(n int) string { return `{"nextToken":"` + strings.Repeat("a", n-len(`{"nextToken":""}`)) + `"}` }
	for _, n := range []int{1<<20 + 1, 3 << 20} {
		status, m := call(t, srv.URL, "ListStateMachines", body(n))
		if status != http.StatusRequestEntityTooLarge {
			t.Errorf("%d bytes: status %d, want 413", n, status)
		}
		if got, want := m["__type"], "com.amazon.coral.service#RequestEntityTooLargeException"; got != want {
			t.Errorf("%d bytes: __type %v, want %s", n, got, want)
		}
		if msg, _ := m["message"].(string); !strings.Contains(msg, "1048576 bytes") {
			t.Errorf("%d bytes: message %.100q, want it to name the limit of 1048576 bytes", n, msg)
		}
	}
	if status, m := call(t, srv.URL, "ListStateMachines", body(1<<20)); status != http.StatusBadRequest ||
		m["__type"] != "com.amazon.coral.validate#ValidationException" {
		t.Errorf("1 MiB: %d %v, want 400 ValidationException for the token's length", status, m["__type"])
	}
}

// TestWireShapes checks the JSON members and timestamp encoding of the
// responses against what AWS sends.
func TestWireShapes(t *testing.T) {
	srv, e := newServer(t)
	epochRE := regexp.MustCompile(`^\d{10}\.\d{3}$`)
	isEpoch := func(t *testing.T, what string, v any) {
		t.Helper()
		n, ok := v.(json.Number)
		if !ok || !epochRE.MatchString(string(n)) {
			t.Errorf("%s = %#v, want a JSON number: epoch seconds with milliseconds", what, v)
		}
	}
	_, m := call(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	if m["stateMachineArn"] != smArn+"sm" {
		t.Errorf("stateMachineArn = %v", m["stateMachineArn"])
	}
	isEpoch(t, "creationDate", m["creationDate"])
	_, m = call(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`sm"}`)
	for k, want := range map[string]any{"name": "sm", "status": "ACTIVE", "type": "STANDARD", "definition": passDef, "roleArn": role} {
		if m[k] != want {
			t.Errorf("DescribeStateMachine %s = %v, want %v", k, m[k], want)
		}
	}
	_, m = call(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`sm","name":"x","input":"{\"a\":1}"}`)
	if m["executionArn"] != execArn+"sm:x" {
		t.Errorf("executionArn = %v", m["executionArn"])
	}
	isEpoch(t, "startDate", m["startDate"])
	if _, err := e.Wait(context.Background(), execArn+"sm:x"); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	_, m = call(t, srv.URL, "DescribeExecution", `{"executionArn":"`+execArn+`sm:x"}`)
	for k, want := range map[string]any{"status": "SUCCEEDED", "input": `{"a":1}`, "output": `{"a":1,"r":{"ok":true}}`, "name": "x"} {
		if m[k] != want {
			t.Errorf("DescribeExecution %s = %v, want %v", k, m[k], want)
		}
	}
	isEpoch(t, "stopDate", m["stopDate"])
	_, m = call(t, srv.URL, "GetExecutionHistory", `{"executionArn":"`+execArn+`sm:x","maxResults":1}`)
	evs, _ := m["events"].([]any)
	if len(evs) != 1 || m["nextToken"] == nil {
		t.Fatalf("GetExecutionHistory maxResults 1 = %v, want one event and a nextToken", m)
	}
	ev := evs[0].(map[string]any)
	isEpoch(t, "event timestamp", ev["timestamp"])
	if ev["type"] != "ExecutionStarted" || ev["id"] != json.Number("1") {
		t.Errorf("first event = %v, want ExecutionStarted id 1", ev)
	}
	det, _ := ev["executionStartedEventDetails"].(map[string]any)
	if det["input"] != `{"a":1}` {
		t.Errorf("executionStartedEventDetails = %v, want input {\"a\":1}", det)
	}
	_, m = call(t, srv.URL, "GetExecutionHistory", `{"executionArn":"`+execArn+`sm:x","maxResults":1,"includeExecutionData":true}`)
	if evs, _ := m["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["executionStartedEventDetails"].(map[string]any)["input"] != `{"a":1}` {
		t.Errorf("GetExecutionHistory includeExecutionData=true = %v, want the first event with its input", m["events"])
	}
	_, m = call(t, srv.URL, "GetExecutionHistory", `{"executionArn":"`+execArn+`sm:x","includeExecutionData":false}`)
	for _, ev := range m["events"].([]any) {
		for k, v := range ev.(map[string]any) {
			if d, ok := v.(map[string]any); ok && strings.HasSuffix(k, "EventDetails") {
				if _, has := d["input"]; has {
					t.Errorf("includeExecutionData=false: %s still has input", k)
				}
				if _, has := d["output"]; has {
					t.Errorf("includeExecutionData=false: %s still has output", k)
				}
			}
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// mustCall posts one operation that must succeed.
func mustCall(tb testing.TB, url, op, body string) map[string]any {
	tb.Helper()
	code, m := call(tb, url, op, body)
	if code != http.StatusOK {
		tb.Fatalf("%s %s = %d %v", op, body, code, m)
	}
	return m
}

// StartExecution is idempotent on STANDARD machines only: an EXPRESS name
// reused with the same input, while its execution runs, answers
// ExecutionAlreadyExists (local names are unique), and StartSyncExecution
// never waits on an execution it did not start.
func TestExpressNamesNotIdempotent(t *testing.T) {
	srv, _ := newServer(t)
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"std","definition":`+jsonString(longWaitDef)+`,"roleArn":"`+role+`"}`)
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"exw","definition":`+jsonString(longWaitDef)+`,"roleArn":"`+role+`","type":"EXPRESS"}`)
	first := mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`std","name":"x1","input":"{\"a\":1}"}`)
	if again := mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`std","name":"x1","input":"{\"a\":1}"}`); again["executionArn"] != first["executionArn"] {
		t.Errorf("STANDARD: the same start again = %v, want the running execution %v", again, first)
	}
	mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`exw","name":"x1","input":"{\"a\":1}"}`)
	for _, op := range []string{"StartExecution", "StartSyncExecution"} {
		t.Run(op, func(t *testing.T) {
			code, m := call(t, srv.URL, op, `{"stateMachineArn":"`+smArn+`exw","name":"x1","input":"{\"a\":1}"}`)
			if code != http.StatusBadRequest || m["__type"] != "com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists" {
				t.Errorf("EXPRESS: the same start again = %d %v, want 400 ExecutionAlreadyExists", code, m)
			}
		})
	}
}

// TestStartSyncExecutionExpress runs an EXPRESS machine created through
// the API synchronously, with all data and with METADATA_ONLY.
func TestStartSyncExecutionExpress(t *testing.T) {
	srv, _ := newServer(t)
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"ex","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`","type":"EXPRESS"}`)
	if m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`ex"}`); m["type"] != "EXPRESS" {
		t.Errorf("DescribeStateMachine type = %v, want EXPRESS", m["type"])
	}
	tests := []struct {
		name, body          string
		wantInput, wantData bool
	}{
		{"all data", `{"stateMachineArn":"` + smArn + `ex","input":"{\"a\":1}"}`, true, true},
		{"ALL_DATA", `{"stateMachineArn":"` + smArn + `ex","input":"{\"a\":1}","includedData":"ALL_DATA","traceHeader":"Root=1-5759e988-bd862e3fe1be46a994272793"}`, true, true},
		{"METADATA_ONLY", `{"stateMachineArn":"` + smArn + `ex","input":"{\"a\":1}","includedData":"METADATA_ONLY"}`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCall(t, srv.URL, "StartSyncExecution", tt.body)
			if m["status"] != "SUCCEEDED" {
				t.Errorf("status = %v, want SUCCEEDED", m["status"])
			}
			for _, k := range []string{"input", "inputDetails", "output", "outputDetails"} {
				if _, has := m[k]; has != tt.wantData {
					t.Errorf("%s present = %v, want %v (%v)", k, has, tt.wantData, m)
				}
			}
			if tt.wantInput && (m["input"] != `{"a":1}` || m["output"] != `{"a":1,"r":{"ok":true}}`) {
				t.Errorf("input, output = %v, %v", m["input"], m["output"])
			}
		})
	}
}

// StartSyncExecution's billingDetails are billed as AWS bills Express
// workflows: at least 64 MB, and the duration rounded up to 100 ms, at
// least 100 ms.
func TestStartSyncExecutionBilling(t *testing.T) {
	srv, _ := newServer(t)
	const waitDef = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}`
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"pass","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`","type":"EXPRESS"}`)
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"wait","definition":`+jsonString(waitDef)+`,"roleArn":"`+role+`","type":"EXPRESS"}`)
	tests := []struct {
		machine string
		minMs   int64 // the least duration billed
	}{
		{"pass", 100},
		{"wait", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.machine, func(t *testing.T) {
			m := mustCall(t, srv.URL, "StartSyncExecution", `{"stateMachineArn":"`+smArn+tt.machine+`"}`)
			bd, _ := m["billingDetails"].(map[string]any)
			if mb := bd["billedMemoryUsedInMB"]; mb != json.Number("64") {
				t.Errorf("billedMemoryUsedInMB = %v, want 64", mb)
			}
			ms, err := bd["billedDurationInMilliseconds"].(json.Number).Int64()
			if err != nil || ms%100 != 0 || ms < tt.minMs {
				t.Errorf("billedDurationInMilliseconds = %v, want a multiple of 100 of at least %d", bd["billedDurationInMilliseconds"], tt.minMs)
			}
			start, _ := m["startDate"].(json.Number).Float64()
			stop, _ := m["stopDate"].(json.Number).Float64()
			if ran := int64((stop - start) * 1000); ms < ran || ms >= ran+200 {
				t.Errorf("billedDurationInMilliseconds = %d for a run of %d ms, want it rounded up to 100 ms", ms, ran)
			}
		})
	}
}

// TestNamesLikeAWS uses names AWS accepts beyond letters, digits, '-'
// and '_': a state machine named "a.b-é" is created, run, described,
// listed and its history read, and so is an execution of that name.
func TestNamesLikeAWS(t *testing.T) {
	srv, e := newServer(t)
	const name = "a.b-é"
	m := mustCall(t, srv.URL, "CreateStateMachine", `{"name":"`+name+`","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	if m["stateMachineArn"] != smArn+name {
		t.Fatalf("stateMachineArn = %v, want %s", m["stateMachineArn"], smArn+name)
	}
	if m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+smArn+name+`"}`); m["name"] != name {
		t.Errorf("DescribeStateMachine name = %v, want %s", m["name"], name)
	}
	if m := mustCall(t, srv.URL, "ListStateMachines", `{}`); !strings.Contains(jsonText(m), smArn+name) {
		t.Errorf("ListStateMachines = %v, want %s", m, name)
	}
	m = mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+name+`","name":"run-1"}`)
	arn := execArn + name + ":run-1"
	if m["executionArn"] != arn {
		t.Fatalf("executionArn = %v, want %s", m["executionArn"], arn)
	}
	// A character beyond the Basic Multilingual Plane, escaped as a
	// surrogate pair, is one character of a name.
	m = mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+name+`","name":"run-\ud83d\ude00"}`)
	if want := execArn + name + ":run-😀"; m["executionArn"] != want {
		t.Errorf("executionArn of an escaped surrogate pair = %v, want %s", m["executionArn"], want)
	}
	if _, err := e.Wait(t.Context(), arn); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if m := mustCall(t, srv.URL, "DescribeExecution", `{"executionArn":"`+arn+`"}`); m["status"] != "SUCCEEDED" || m["stateMachineArn"] != smArn+name {
		t.Errorf("DescribeExecution = %v", m)
	}
	if m := mustCall(t, srv.URL, "GetExecutionHistory", `{"executionArn":"`+arn+`"}`); len(m["events"].([]any)) == 0 {
		t.Errorf("GetExecutionHistory = %v, want events", m)
	}
	if m := mustCall(t, srv.URL, "ListExecutions", `{"stateMachineArn":"`+smArn+name+`"}`); !strings.Contains(jsonText(m), arn) {
		t.Errorf("ListExecutions = %v, want %s", m, arn)
	}
	m = mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+name+`","name":"`+name+`"}`)
	arn = execArn + name + ":" + name
	if m["executionArn"] != arn {
		t.Fatalf("executionArn = %v, want %s", m["executionArn"], arn)
	}
	if _, err := e.Wait(t.Context(), arn); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if m := mustCall(t, srv.URL, "DescribeExecution", `{"executionArn":"`+arn+`"}`); m["status"] != "SUCCEEDED" || m["name"] != name {
		t.Errorf("DescribeExecution = %v", m)
	}
}

// DescribeStateMachineForExecution describes the revision an execution
// started on, not the machine's current one; a first revision has no
// revision id, in DescribeStateMachine too.
func TestDescribeStateMachineForExecutionRevision(t *testing.T) {
	srv, _ := newServer(t)
	const waitDef = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"rev","definition":`+jsonString(waitDef)+`,"roleArn":"`+role+`"}`)
	if m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`rev"}`); m["revisionId"] != nil {
		t.Errorf("DescribeStateMachine of a new machine: revisionId %v, want none", m["revisionId"])
	}
	mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`rev","name":"old"}`)
	mustCall(t, srv.URL, "UpdateStateMachine", `{"stateMachineArn":"`+smArn+`rev","definition":`+jsonString(passDef)+`}`)
	if m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`rev"}`); m["revisionId"] != "2" {
		t.Errorf("DescribeStateMachine after an update: revisionId %v, want 2", m["revisionId"])
	}
	mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`rev","name":"new"}`)
	tests := []struct {
		execution, definition string
		revisionID            any
	}{
		{"old", waitDef, nil},
		{"new", passDef, "2"},
	}
	for _, tt := range tests {
		m := mustCall(t, srv.URL, "DescribeStateMachineForExecution", `{"executionArn":"`+execArn+`rev:`+tt.execution+`"}`)
		if m["definition"] != tt.definition || m["revisionId"] != tt.revisionID {
			t.Errorf("%s: definition %v, revisionId %v; want %s, %v", tt.execution, m["definition"], m["revisionId"], tt.definition, tt.revisionID)
		}
		// The defaults AWS answers, as DescribeStateMachine does.
		if got, want := jsonText(m["loggingConfiguration"]), `{"includeExecutionData":false,"level":"OFF"}`; got != want {
			t.Errorf("%s: loggingConfiguration %s, want %s", tt.execution, got, want)
		}
		if got, want := jsonText(m["tracingConfiguration"]), `{"enabled":false}`; got != want {
			t.Errorf("%s: tracingConfiguration %s, want %s", tt.execution, got, want)
		}
	}
	m := mustCall(t, srv.URL, "DescribeStateMachineForExecution", `{"executionArn":"`+execArn+`rev:old","includedData":"METADATA_ONLY"}`)
	if m["definition"] != "{}" {
		t.Errorf("METADATA_ONLY definition = %v, want {}", m["definition"])
	}
}

// UpdateStateMachine makes a revision only when the definition, the
// role or a configuration changes: an update that changes none of them
// answers the current revision id, as AWS does.
func TestUpdateStateMachineRevisions(t *testing.T) {
	srv, _ := newServer(t)
	const other = "arn:aws:iam::123456789012:role/other"
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"rev","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	tests := []struct {
		name, update   string // the members after stateMachineArn
		wantRevisionID any    // nil: none, as for a machine never changed
	}{
		{"the same definition on a new machine", `"definition":` + jsonString(passDef), nil},
		{"the same role on a new machine", `"roleArn":"` + role + `"`, nil},
		{"a new role", `"roleArn":"` + other + `"`, "2"},
		{"the same role again", `"roleArn":"` + other + `"`, "2"},
		{"the same role and definition", `"roleArn":"` + other + `","definition":` + jsonString(passDef), "2"},
		{"tracing as it is", `"tracingConfiguration":{"enabled":false}`, "2"},
		{"logging as it is", `"loggingConfiguration":{"level":"OFF"}`, "2"},
		{"tracing on", `"tracingConfiguration":{"enabled":true}`, "3"},
		{"tracing on again", `"tracingConfiguration":{"enabled":true}`, "3"},
		{"a new definition", `"definition":` + jsonString(failDef), "4"},
		{"the new definition again", `"definition":` + jsonString(failDef), "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCall(t, srv.URL, "UpdateStateMachine", `{"stateMachineArn":"`+smArn+`rev",`+tt.update+`}`)
			if m["revisionId"] != tt.wantRevisionID {
				t.Errorf("UpdateStateMachine revisionId = %v, want %v", m["revisionId"], tt.wantRevisionID)
			}
			if m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`rev"}`); m["revisionId"] != tt.wantRevisionID {
				t.Errorf("DescribeStateMachine revisionId = %v, want %v", m["revisionId"], tt.wantRevisionID)
			}
		})
	}
}

// ListStateMachines lists by name, byte by byte, as AWS does, across
// pages.
func TestListStateMachinesByName(t *testing.T) {
	srv, _ := newServer(t)
	for _, name := range []string{"sm_2_x", "sm_10_x", "b", "sm_1_x", "a"} {
		mustCall(t, srv.URL, "CreateStateMachine", `{"name":"`+name+`","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	}
	var got []string
	body := `{"maxResults":2}`
	for range 10 {
		m := mustCall(t, srv.URL, "ListStateMachines", body)
		for _, sm := range m["stateMachines"].([]any) {
			got = append(got, sm.(map[string]any)["name"].(string))
		}
		tok, _ := m["nextToken"].(string)
		if tok == "" {
			break
		}
		body = `{"maxResults":2,"nextToken":"` + tok + `"}`
	}
	if want := []string{"a", "b", "sm_10_x", "sm_1_x", "sm_2_x"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListStateMachines = %v, want %v", got, want)
	}
}

// TestPagingTokens checks that a nextToken only continues the request it
// came from.
func TestPagingTokens(t *testing.T) {
	srv, e := newServer(t)
	for _, sm := range []string{"a", "b"} {
		mustCall(t, srv.URL, "CreateStateMachine", `{"name":"`+sm+`","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
		for _, x := range []string{"x1", "x2"} {
			mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+sm+`","name":"`+x+`"}`)
			if _, err := e.Wait(t.Context(), execArn+sm+":"+x); err != nil {
				t.Fatalf("Wait: %v", err)
			}
		}
	}
	token := func(op, body string) string {
		t.Helper()
		tok, _ := mustCall(t, srv.URL, op, body)["nextToken"].(string)
		if tok == "" {
			t.Fatalf("%s %s: no nextToken", op, body)
		}
		return tok
	}
	hist := token("GetExecutionHistory", `{"executionArn":"`+execArn+`a:x1","maxResults":1}`)
	list := token("ListExecutions", `{"stateMachineArn":"`+smArn+`a","maxResults":1}`)
	listOK := token("ListExecutions", `{"stateMachineArn":"`+smArn+`a","statusFilter":"SUCCEEDED","maxResults":1}`)
	listNotRedriven := token("ListExecutions", `{"stateMachineArn":"`+smArn+`a","redriveFilter":"NOT_REDRIVEN","maxResults":1}`)
	sms := token("ListStateMachines", `{"maxResults":1}`)
	tampered := []byte(hist)
	tampered[0] ^= 1

	tests := []struct {
		name, op, body string
		ok             bool
	}{
		{"history, same request", "GetExecutionHistory", `{"executionArn":"` + execArn + `a:x1","maxResults":1,"nextToken":"` + hist + `"}`, true},
		{"history, other execution", "GetExecutionHistory", `{"executionArn":"` + execArn + `a:x2","nextToken":"` + hist + `"}`, false},
		{"history, reversed", "GetExecutionHistory", `{"executionArn":"` + execArn + `a:x1","reverseOrder":true,"nextToken":"` + hist + `"}`, false},
		{"history, tampered", "GetExecutionHistory", `{"executionArn":"` + execArn + `a:x1","nextToken":"` + string(tampered) + `"}`, false},
		{"history, a list token", "GetExecutionHistory", `{"executionArn":"` + execArn + `a:x1","nextToken":"` + list + `"}`, false},
		{"executions, same request", "ListExecutions", `{"stateMachineArn":"` + smArn + `a","nextToken":"` + list + `"}`, true},
		{"executions, same filter", "ListExecutions", `{"stateMachineArn":"` + smArn + `a","statusFilter":"SUCCEEDED","nextToken":"` + listOK + `"}`, true},
		{"executions, other machine", "ListExecutions", `{"stateMachineArn":"` + smArn + `b","nextToken":"` + list + `"}`, false},
		{"executions, other status", "ListExecutions", `{"stateMachineArn":"` + smArn + `a","statusFilter":"SUCCEEDED","nextToken":"` + list + `"}`, false},
		{"executions, filter dropped", "ListExecutions", `{"stateMachineArn":"` + smArn + `a","nextToken":"` + listOK + `"}`, false},
		{"executions, same redrive filter", "ListExecutions", `{"stateMachineArn":"` + smArn + `a","redriveFilter":"NOT_REDRIVEN","nextToken":"` + listNotRedriven + `"}`, true},
		{"executions, redrive filter dropped", "ListExecutions", `{"stateMachineArn":"` + smArn + `a","nextToken":"` + listNotRedriven + `"}`, false},
		{"machines, same request", "ListStateMachines", `{"nextToken":"` + sms + `"}`, true},
		{"machines, a history token", "ListStateMachines", `{"nextToken":"` + hist + `"}`, false},
		{"executions, a machines token", "ListExecutions", `{"stateMachineArn":"` + smArn + `a","nextToken":"` + sms + `"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, m := call(t, srv.URL, tt.op, tt.body)
			if tt.ok {
				if code != http.StatusOK {
					t.Errorf("= %d %v, want 200", code, m)
				}
				return
			}
			if code != http.StatusBadRequest || m["__type"] != svc+"InvalidToken" {
				t.Errorf("= %d %v, want 400 InvalidToken", code, m)
			}
		})
	}
}

// TestDescribeExecutionLikeAWS checks the redrive members, includedData
// and redriveFilter.
func TestDescribeExecutionLikeAWS(t *testing.T) {
	srv, e := newServer(t)
	for name, def := range map[string]string{"pass": passDef, "long": longWaitDef, "fail": failDef} {
		mustCall(t, srv.URL, "CreateStateMachine", `{"name":"`+name+`","definition":`+jsonString(def)+`,"roleArn":"`+role+`"}`)
		mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+name+`","name":"x","input":"{\"a\":1}"}`)
	}
	for _, name := range []string{"pass", "fail"} {
		if _, err := e.Wait(t.Context(), execArn+name+":x"); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
	mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`long","name":"stopped"}`)
	mustCall(t, srv.URL, "StopExecution", `{"executionArn":"`+execArn+`long:stopped","error":"`+strings.Repeat("é", 256)+`","cause":"`+strings.Repeat("é", 20000)+`"}`)

	tests := []struct {
		name, body   string
		wantReason   string
		wantData     bool
		wantOutput   bool
		wantErrorLen int
	}{
		{"running", `{"executionArn":"` + execArn + `long:x"}`, "Execution is RUNNING and cannot be redriven", true, false, 0},
		{"succeeded", `{"executionArn":"` + execArn + `pass:x"}`, "Execution is SUCCEEDED and cannot be redriven", true, true, 0},
		{"failed", `{"executionArn":"` + execArn + `fail:x"}`, "RedriveExecution is not supported by the local runtime", true, false, 4},
		{"aborted", `{"executionArn":"` + execArn + `long:stopped"}`, "RedriveExecution is not supported by the local runtime", true, false, 256},
		{"ALL_DATA", `{"executionArn":"` + execArn + `pass:x","includedData":"ALL_DATA"}`, "Execution is SUCCEEDED and cannot be redriven", true, true, 0},
		{"METADATA_ONLY", `{"executionArn":"` + execArn + `pass:x","includedData":"METADATA_ONLY"}`, "Execution is SUCCEEDED and cannot be redriven", false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCall(t, srv.URL, "DescribeExecution", tt.body)
			if m["redriveCount"] != json.Number("0") || m["redriveStatus"] != "NOT_REDRIVABLE" || m["redriveStatusReason"] != tt.wantReason {
				t.Errorf("redriveCount, redriveStatus, redriveStatusReason = %v, %v, %q; want 0, NOT_REDRIVABLE, %q",
					m["redriveCount"], m["redriveStatus"], m["redriveStatusReason"], tt.wantReason)
			}
			for k, want := range map[string]bool{"input": tt.wantData, "inputDetails": tt.wantData, "output": tt.wantOutput, "outputDetails": tt.wantOutput} {
				if _, has := m[k]; has != want {
					t.Errorf("%s present = %v, want %v", k, has, want)
				}
			}
			if n := len([]rune(fmt.Sprint(m["error"]))); tt.wantErrorLen > 0 && n != tt.wantErrorLen {
				t.Errorf("error has %d characters, want %d", n, tt.wantErrorLen)
			}
		})
	}

	if m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`pass","includedData":"METADATA_ONLY"}`); m["definition"] != "{}" {
		t.Errorf("DescribeStateMachine METADATA_ONLY definition = %v, want {}", m["definition"])
	}
	for filter, want := range map[string]int{"": 2, `,"redriveFilter":"NOT_REDRIVEN"`: 2, `,"redriveFilter":"REDRIVEN"`: 0} {
		m := mustCall(t, srv.URL, "ListExecutions", `{"stateMachineArn":"`+smArn+`long"`+filter+`}`)
		if xs, _ := m["executions"].([]any); len(xs) != want {
			t.Errorf("ListExecutions%s = %d executions, want %d", filter, len(xs), want)
		}
	}
	// REDRIVEN lists none, and no next page either.
	if m := mustCall(t, srv.URL, "ListExecutions", `{"stateMachineArn":"`+smArn+`long","redriveFilter":"REDRIVEN","maxResults":1}`); m["nextToken"] != nil {
		t.Errorf("ListExecutions REDRIVEN maxResults 1: nextToken %v, want none", m["nextToken"])
	}
}

// TestCreateStateMachineOptions checks the options the local runtime
// accepts and ignores, and CreateStateMachine's idempotency.
func TestCreateStateMachineOptions(t *testing.T) {
	srv, _ := newServer(t)
	body := `{"name":"opts","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `",` +
		`"loggingConfiguration":{"level":"ERROR","includeExecutionData":true,"destinations":[{"cloudWatchLogsLogGroup":` +
		`{"logGroupArn":"arn:aws:logs:us-east-1:123456789012:log-group:g:*"}}]},` +
		`"tracingConfiguration":{"enabled":true},"tags":[{"key":"k","value":"v"}],"publish":false}`
	first := mustCall(t, srv.URL, "CreateStateMachine", body)
	again := mustCall(t, srv.URL, "CreateStateMachine", strings.Replace(body, role, "arn:aws:iam::123456789012:role/other", 1))
	if again["stateMachineArn"] != first["stateMachineArn"] {
		t.Errorf("CreateStateMachine with another role = %v, want the existing machine %v", again, first)
	}
	code, m := call(t, srv.URL, "CreateStateMachine", strings.Replace(body, `"publish":false`, `"type":"EXPRESS"`, 1))
	if code != http.StatusBadRequest || !strings.HasSuffix(fmt.Sprint(m["__type"]), "#StateMachineAlreadyExists") {
		t.Errorf("CreateStateMachine with another type = %d %v, want StateMachineAlreadyExists", code, m)
	}
	mustCall(t, srv.URL, "UpdateStateMachine", `{"stateMachineArn":"`+smArn+`opts","tracingConfiguration":{"enabled":false}}`)
}

// TestMemberNamesMatchExactly: AWS ignores a member whose name differs
// from the model's only in letter case, at any depth, and takes the
// exactly named one when both are sent.
func TestMemberNamesMatchExactly(t *testing.T) {
	srv, _ := newServer(t)
	// Level in another case is an unknown member: the logging
	// configuration has no level, so the invalid "DEBUG" is never read.
	body := `{"name":"sm","definition":` + jsonString(passDef) + `,"roleArn":"` + role + `","loggingConfiguration":{"Level":"DEBUG"}}`
	if code, m := call(t, srv.URL, "CreateStateMachine", body); code != 200 {
		t.Fatalf("CreateStateMachine with loggingConfiguration.Level = %d %v, want 200", code, m)
	}
	body = `{"stateMachineArn":"` + smArn + `sm","StateMachineArn":"` + smArn + `nope","name":"both"}`
	code, m := call(t, srv.URL, "StartExecution", body)
	if code != 200 || m["executionArn"] != execArn+"sm:both" {
		t.Fatalf("StartExecution with both spellings = %d %v, want 200 and %ssm:both", code, m, execArn)
	}
}

// lockedWait is an engine backend whose WaitExecution, once the request
// has ended, fails with err, or with the request's own end when err is
// nil.
type lockedWait struct {
	*sfnapi.EngineBackend
	err error
}

func (b lockedWait) WaitExecution(ctx context.Context, arn string) (engine.Execution, error) {
	<-ctx.Done()
	if b.err != nil {
		return engine.Execution{}, b.err
	}
	return engine.Execution{}, fmt.Errorf("engine: wait %s: %w", arn, ctx.Err())
}

// A request that ends before its answer (the client leaves, or the server
// closes its connection at shutdown), and with it the operation, is no
// internal failure: it is logged at info. A failure of the operation's own
// while the client was gone is still an error.
func TestRequestEndedIsNoFailure(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		wantLine string
		wantErr  bool
	}{
		{"the operation ends with the request", nil, "ended before its answer", false},
		{"the operation fails on its own", errors.New("sqlitestore: database is locked"), "operation failed", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, err := sqlitestore.OpenEngineStore(context.Background(), filepath.Join(t.TempDir(), "stepmon.db"), sqlitestore.EngineOptions{})
			if err != nil {
				t.Fatal(err)
			}
			e := engine.New(engine.Options{Store: store, Region: region, AccountID: account})
			var logs testtool.SyncBuffer
			backend := lockedWait{EngineBackend: sfnapi.NewEngineBackend(e), err: tc.err}
			srv := httptest.NewServer(sfnapi.NewHandler(backend, slog.New(slog.NewTextHandler(&logs, nil))))
			defer func() {
				srv.Close()
				e.Close()
				store.Close()
			}()
			mustCall(t, srv.URL, "CreateStateMachine", `{"name":"slow","definition":`+jsonString(longWaitDef)+`,"roleArn":"`+role+`","type":"EXPRESS"}`)

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/", strings.NewReader(`{"stateMachineArn":"`+smArn+`slow"}`))
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			req.Header.Set("X-Amz-Target", "AWSStepFunctions.StartSyncExecution")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("StartSyncExecution of an hour's wait answered %s", resp.Status)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(logs.String(), tc.wantLine) {
				if time.Now().After(deadline) {
					t.Fatalf("no line %q; log:\n%s", tc.wantLine, logs.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if got := strings.Contains(logs.String(), "level=ERROR"); got != tc.wantErr {
				t.Errorf("logged as an error: %v, want %v; log:\n%s", got, tc.wantErr, logs.String())
			}
		})
	}
}

// DescribeStateMachine and DescribeStateMachineForExecution answer the
// variables each state reads, as AWS does, and leave them out with the
// definition (METADATA_ONLY) and for a machine whose states read none.
func TestVariableReferencesDescribed(t *testing.T) {
	srv, _ := newServer(t)
	const def = `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"n":1,"m":2},"Next":"B"},` +
		`"B":{"Type":"Pass","Parameters":{"v.$":"States.Format('{} {}', $n, $m)"},"End":true}}}`
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"vars","definition":`+jsonString(def)+`,"roleArn":"`+role+`"}`)
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"novars","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`vars","name":"x"}`)
	const want = `{"B":["m","n"]}`
	for _, tt := range []struct{ op, body, want string }{
		{"DescribeStateMachine", `{"stateMachineArn":"` + smArn + `vars"}`, want},
		{"DescribeStateMachineForExecution", `{"executionArn":"` + execArn + `vars:x"}`, want},
		{"DescribeStateMachine", `{"stateMachineArn":"` + smArn + `vars","includedData":"METADATA_ONLY"}`, ""},
		{"DescribeStateMachineForExecution", `{"executionArn":"` + execArn + `vars:x","includedData":"METADATA_ONLY"}`, ""},
		{"DescribeStateMachine", `{"stateMachineArn":"` + smArn + `novars"}`, ""},
	} {
		m := mustCall(t, srv.URL, tt.op, tt.body)
		got := ""
		if v, ok := m["variableReferences"]; ok {
			got = jsonText(v)
		}
		if got != tt.want {
			t.Errorf("%s %s: variableReferences %s, want %q", tt.op, tt.body, got, tt.want)
		}
	}
}
