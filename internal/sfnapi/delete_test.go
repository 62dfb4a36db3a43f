package sfnapi_test

import (
	"net/http"
	"testing"
	"time"
)

// TestDeleteStateMachine follows a state machine through
// DeleteStateMachine as AWS answers it: 200 {} at once, DELETING while an
// execution runs (no new execution, no update, the name still taken),
// then gone with its executions once the execution ended, and the name
// free again. Deleting an unknown machine succeeds; a qualified ARN is a
// ValidationException.
func TestDeleteStateMachine(t *testing.T) {
	srv, _ := newServer(t)
	arn := smArn + "del"
	create := `{"name":"del","definition":` + jsonString(longWaitDef) + `,"roleArn":"` + role + `"}`
	mustCall(t, srv.URL, "CreateStateMachine", create)
	mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+arn+`","name":"w"}`)
	// The execution runs its first state on a worker after StartExecution
	// answered; deleted before it entered its Wait, it would fail at once
	// (at its first transition, as on AWS) and take the machine with it.
	waitForEvent(t, srv.URL, execArn+"del:w", "WaitStateEntered")

	if m := mustCall(t, srv.URL, "DeleteStateMachine", `{"stateMachineArn":"`+arn+`"}`); len(m) != 0 {
		t.Errorf("DeleteStateMachine = %v, want {}", m)
	}
	if m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+arn+`"}`); m["status"] != "DELETING" {
		t.Errorf("DescribeStateMachine while deleting: status = %v, want DELETING", m["status"])
	}
	if m := mustCall(t, srv.URL, "DescribeExecution", `{"executionArn":"`+execArn+`del:w"}`); m["status"] != "RUNNING" {
		t.Errorf("DescribeExecution while deleting: status = %v, want RUNNING (it waits)", m["status"])
	}
	for _, tt := range []struct{ name, op, body string }{
		{"start", "StartExecution", `{"stateMachineArn":"` + arn + `"}`},
		{"create the name", "CreateStateMachine", create},
		{"update", "UpdateStateMachine", `{"stateMachineArn":"` + arn + `","definition":` + jsonString(passDef) + `}`},
	} {
		code, m := call(t, srv.URL, tt.op, tt.body)
		if code != http.StatusBadRequest || m["__type"] != svc+"StateMachineDeleting" ||
			m["message"] != "State Machine is being deleted: '"+arn+"'" {
			t.Errorf("%s while deleting = %d %v, want 400 StateMachineDeleting naming %s", tt.name, code, m, arn)
		}
	}
	if m := mustCall(t, srv.URL, "DeleteStateMachine", `{"stateMachineArn":"`+arn+`"}`); len(m) != 0 {
		t.Errorf("DeleteStateMachine again = %v, want {}", m)
	}
	for _, q := range []string{arn + "/mapLabel", arn + ":1", arn + ":alias"} {
		code, m := call(t, srv.URL, "DeleteStateMachine", `{"stateMachineArn":"`+q+`"}`)
		if code != http.StatusBadRequest || m["__type"] != "com.amazon.coral.validate#ValidationException" {
			t.Errorf("DeleteStateMachine(%s) = %d %v, want 400 ValidationException", q, code, m)
		}
	}

	// The last execution ends (as the AWS knowledge center advises for a
	// machine stuck in DELETING, it is stopped): the machine is deleted.
	mustCall(t, srv.URL, "StopExecution", `{"executionArn":"`+execArn+`del:w"}`)
	if code, m := call(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+arn+`"}`); code != http.StatusBadRequest ||
		m["__type"] != svc+"StateMachineDoesNotExist" {
		t.Errorf("DescribeStateMachine after the deletion = %d %v, want StateMachineDoesNotExist", code, m)
	}
	if code, m := call(t, srv.URL, "DescribeExecution", `{"executionArn":"`+execArn+`del:w"}`); code != http.StatusBadRequest ||
		m["__type"] != svc+"ExecutionDoesNotExist" {
		t.Errorf("DescribeExecution after the deletion = %d %v, want ExecutionDoesNotExist", code, m)
	}
	if m := mustCall(t, srv.URL, "ListStateMachines", `{}`); len(m["stateMachines"].([]any)) != 0 {
		t.Errorf("ListStateMachines after the deletion = %v, want none", m)
	}
	if m := mustCall(t, srv.URL, "DeleteStateMachine", `{"stateMachineArn":"`+smArn+`nope"}`); len(m) != 0 {
		t.Errorf("DeleteStateMachine(unknown) = %v, want {}", m)
	}

	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"del","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	if m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+arn+`"}`); m["status"] != "ACTIVE" || m["definition"] != passDef {
		t.Errorf("DescribeStateMachine of the machine created again = %v, want ACTIVE with the new definition", m)
	}
}

// waitForEvent waits until the history of an execution holds an event of
// the given type.
func waitForEvent(t *testing.T, url, executionArn, typ string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		h := mustCall(t, url, "GetExecutionHistory", `{"executionArn":"`+executionArn+`"}`)
		for _, ev := range h["events"].([]any) {
			if ev.(map[string]any)["type"] == typ {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no %s event after 10 s: %v", executionArn, typ, h["events"])
		}
	}
}
