package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"testing"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// The status function records the ends of its own state machine's
// executions only: it knows the machine from STATE_MACHINE_ARN, and drops
// a status change event of another machine (an EventBridge rule that
// matches more than the stack's does) before it reads the table, rather
// than take the execution for a monitor's by its name.
func TestNewFunction(t *testing.T) {
	lambdatest.FakeAWS(t, "us-east-1")
	// Nothing listens there: a call to AWS fails rather than reach AWS.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://"+ln.Addr().String())
	ln.Close()
	const machine = "arn:aws:states:us-east-1:123456789012:stateMachine:stepmon-monitor"
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"nothing set", map[string]string{}, "status: TABLE_NAME and STATE_MACHINE_ARN"},
		{"no state machine", map[string]string{"TABLE_NAME": "t"}, "STATE_MACHINE_ARN"},
		{"complete", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": machine}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := newFunction(context.Background(), env(tt.env), io.Discard)
			if lambdatest.WantErr(t, err, tt.wantErr) {
				return
			}
			if f.StateMachineArn != machine {
				t.Errorf("got StateMachineArn %q, want %q", f.StateMachineArn, machine)
			}
			other, err := json.Marshal(map[string]any{"source": apigw.StatusChangeSource, "detail-type": apigw.StatusChangeDetailType,
				"detail": apigw.ExecutionStatusChange{
					ExecutionArn:    "arn:aws:states:us-east-1:123456789012:execution:other:my-job-123",
					StateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:other",
					Name:            "my-job-123", Status: "FAILED", Error: "States.TaskFailed"}})
			if err != nil {
				t.Fatal(err)
			}
			out, err := f.Invoke(context.Background(), other)
			if err != nil || out != (apigw.RecordResult{}) {
				t.Errorf("another machine's status change: got %+v, %v; want it dropped unrecorded", out, err)
			}
		})
	}
}
