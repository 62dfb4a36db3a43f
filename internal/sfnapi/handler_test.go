package sfnapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sfnapi"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

const (
	region  = "us-east-1"
	account = "123456789012"
	role    = "arn:aws:iam::123456789012:role/r"
	smArn   = "arn:aws:states:us-east-1:123456789012:stateMachine:"
	execArn = "arn:aws:states:us-east-1:123456789012:execution:"
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

func TestErrors(t *testing.T) {
	srv, _ := newServer(t)
	if code, m := call(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`); code != 200 {
		t.Fatalf("CreateStateMachine = %d %v", code, m)
	}
	if code, m := call(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`sm","name":"once","input":"{\"a\":1}"}`); code != 200 {
		t.Fatalf("StartExecution = %d %v", code, m)
	}
	const svc = "com.amazonaws.swf.service.v2.model#"
	tests := []struct {
		name, op, body string
		wantType       string
		wantMessage    string // regexp
	}{
		{"unknown operation", "Frobnicate", `{}`, "com.amazon.coral.service#UnknownOperationException", "Frobnicate"},
		{"no target", "", `{}`, "com.amazon.coral.service#UnknownOperationException", ""},
		{"malformed body", "ListStateMachines", `{"maxResults":`, "com.amazon.coral.service#SerializationException", ""},
		{"wrong member type", "ListStateMachines", `{"maxResults":"ten"}`, "com.amazon.coral.service#SerializationException", "maxResults"},
		{"page size", "ListStateMachines", `{"maxResults":1001}`, "com.amazon.coral.validate#ValidationException", "maxResults"},
		{"missing role", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `}`,
			"com.amazon.coral.validate#ValidationException", "Value null at 'roleArn'"},
		{"bad name", "CreateStateMachine", `{"name":"a b","definition":` + jsonString(passDef) + `,"roleArn":"r"}`, svc + "InvalidName", "Invalid Name: 'a b'"},
		{"name the engine refuses", "CreateStateMachine", `{"name":"a.b","definition":` + jsonString(passDef) + `,"roleArn":"r"}`, svc + "InvalidName", "Invalid Name: 'a.b'"},
		{"execution name the engine refuses", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","name":"é"}`, svc + "InvalidName", ""},
		{"long name", "CreateStateMachine", `{"name":"` + strings.Repeat("a", 81) + `","definition":"{}","roleArn":"r"}`,
			"com.amazon.coral.validate#ValidationException", "length less than or equal to 80"},
		{"definition not JSON", "CreateStateMachine", `{"name":"x","definition":"{","roleArn":"r"}`, svc + "InvalidDefinition", "INVALID_JSON_DESCRIPTION"},
		{"definition invalid", "CreateStateMachine", `{"name":"x","definition":"{\"StartAt\":\"Nope\",\"States\":{}}","roleArn":"r"}`,
			svc + "InvalidDefinition", "Invalid State Machine Definition"},
		{"taken name", "CreateStateMachine", `{"name":"sm","definition":` + jsonString(failDef) + `,"roleArn":"` + role + `"}`,
			svc + "StateMachineAlreadyExists", "State Machine Already Exists: '" + smArn + "sm'"},
		{"express", "CreateStateMachine", `{"name":"x","definition":` + jsonString(passDef) + `,"roleArn":"r","type":"EXPRESS"}`,
			svc + "StateMachineTypeNotSupported", ""},
		{"machine arn prefix", "DescribeStateMachine", `{"stateMachineArn":"nope"}`, svc + "InvalidArn", "Invalid ARN prefix"},
		{"machine arn type", "DescribeStateMachine", `{"stateMachineArn":"` + execArn + `sm:x"}`, svc + "InvalidArn", "execution"},
		{"no machine", "DescribeStateMachine", `{"stateMachineArn":"` + smArn + `nope"}`, svc + "StateMachineDoesNotExist", smArn + "nope"},
		{"no machine to start", "StartExecution", `{"stateMachineArn":"` + smArn + `nope"}`, svc + "StateMachineDoesNotExist", ""},
		{"input not JSON", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","input":"{"}`, svc + "InvalidExecutionInput", ""},
		{"execution exists", "StartExecution", `{"stateMachineArn":"` + smArn + `sm","name":"once","input":"{\"a\":2}"}`,
			svc + "ExecutionAlreadyExists", execArn + "sm:once"},
		{"execution arn type", "DescribeExecution", `{"executionArn":"` + smArn + `sm"}`, svc + "InvalidArn", "stateMachine"},
		{"no execution", "DescribeExecution", `{"executionArn":"` + execArn + `sm:nope"}`, svc + "ExecutionDoesNotExist", execArn + "sm:nope"},
		{"no execution to stop", "StopExecution", `{"executionArn":"` + execArn + `sm:nope"}`, svc + "ExecutionDoesNotExist", ""},
		{"no history", "GetExecutionHistory", `{"executionArn":"` + execArn + `sm:nope"}`, svc + "ExecutionDoesNotExist", ""},
		{"bad history token", "GetExecutionHistory", `{"executionArn":"` + execArn + `sm:once","nextToken":"garbage"}`, svc + "InvalidToken", ""},
		{"status filter", "ListExecutions", `{"stateMachineArn":"` + smArn + `sm","statusFilter":"DONE"}`,
			"com.amazon.coral.validate#ValidationException", "statusFilter"},
		{"no machine to list", "ListExecutions", `{"stateMachineArn":"` + smArn + `nope"}`, svc + "StateMachineDoesNotExist", ""},
		{"missing machine arn", "ListExecutions", `{}`, "com.amazon.coral.validate#ValidationException", "stateMachineArn"},
		{"update nothing", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm"}`, svc + "MissingRequiredParameter", ""},
		{"update invalid", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `sm","definition":"{\"StartAt\":1}"}`, svc + "InvalidDefinition", ""},
		{"update missing", "UpdateStateMachine", `{"stateMachineArn":"` + smArn + `nope","roleArn":"r"}`, svc + "StateMachineDoesNotExist", ""},
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
