package stepfunctions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/motoserver"
	"github.com/stepmon/stepmon/internal/stepfunctions"
)

// A minimal definition: moto's control plane does not run it.
const definition = `{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"End":true}}}`

// newMoto creates a state machine in a fresh moto_server and returns a
// client and the machine's ARN.
func newMoto(t *testing.T) (*sfn.Client, string) {
	t.Helper()
	client := sfn.NewFromConfig(motoserver.Config(motoserver.Start(t)))
	out, err := client.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{
		Name:       aws.String("stepmon-monitor"),
		Definition: aws.String(definition),
		RoleArn:    aws.String("arn:aws:iam::" + motoserver.AccountID + ":role/stepmon-states"),
		Type:       types.StateMachineTypeStandard,
	})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	return client, aws.ToString(out.StateMachineArn)
}

func stateInput(t *testing.T, id string) []byte {
	t.Helper()
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	b, err := json.Marshal(monitor.State{InstanceID: id, StartedAt: now, ExpiresAt: now.Add(time.Minute),
		Spec: monitor.Spec{JobID: id, Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 4},
			PollingIntervalSeconds: 5, TimeoutSeconds: 60}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWorkflowOnMoto(t *testing.T) {
	client, smArn := newMoto(t)
	w := stepfunctions.New(client, smArn)
	ctx := t.Context()

	input := stateInput(t, "m1")
	arn, err := w.Start(ctx, "m1", input)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !strings.HasSuffix(arn, ":execution:stepmon-monitor:m1") {
		t.Errorf("execution ARN = %q", arn)
	}
	d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != types.ExecutionStatusRunning || aws.ToString(d.Input) != string(input) || aws.ToString(d.Name) != "m1" {
		t.Errorf("execution = %s %s input %s", aws.ToString(d.Name), d.Status, aws.ToString(d.Input))
	}

	// The same start again is the same execution; another input under the
	// same name is a conflict.
	again, err := w.Start(ctx, "m1", input)
	if err != nil || again != arn {
		t.Errorf("repeated Start = %q, %v; want %q", again, err, arn)
	}
	_, err = w.Start(ctx, "m1", stateInput(t, "other"))
	if monitor.KindOf(err) != monitor.KindConflict {
		t.Errorf("Start with another input: %v, want conflict", err)
	}

	if err := w.Stop(ctx, arn, monitor.TerminateError, "no longer needed"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	d, err = client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != types.ExecutionStatusAborted {
		t.Errorf("status after Stop = %s, want ABORTED", d.Status)
	}
	if err := w.Stop(ctx, arn, monitor.TerminateError, ""); monitor.KindOf(err) != monitor.KindGone {
		t.Errorf("second Stop: %v, want gone", err)
	}
	// A closed execution's name cannot be used again.
	if _, err := w.Start(ctx, "m1", input); monitor.KindOf(err) != monitor.KindConflict {
		t.Errorf("Start of a closed execution's name: %v, want conflict", err)
	}

	// The next generation of a monitor that never continued as new.
	missing := strings.TrimSuffix(arn, "m1") + "m1-g1"
	if err := w.Stop(ctx, missing, monitor.TerminateError, ""); monitor.KindOf(err) != monitor.KindGone {
		t.Errorf("Stop of a missing execution: %v, want gone", err)
	}

	// A wrong state machine ARN is a deployment bug, not a retryable
	// failure.
	_, err = stepfunctions.New(client, smArn+"-deleted").Start(ctx, "m2", stateInput(t, "m2"))
	if monitor.KindOf(err) != monitor.KindInternal {
		t.Errorf("Start on a missing state machine: %v, want internal", err)
	}
}

// lostAnswers is a client whose StartExecution reaches the service and then
// fails as if its answer, whatever it was, had been lost on the way back
// (err), after calling cancel when it is set (the caller going away), or,
// with refuse, fails with err without reaching it; its other calls pass
// through.
type lostAnswers struct {
	*sfn.Client
	err    error
	cancel context.CancelFunc
	refuse bool // the request never reaches the service
}

func (c lostAnswers) StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	if !c.refuse {
		c.Client.StartExecution(ctx, in, optFns...)
	}
	if c.cancel != nil {
		c.cancel()
	}
	return nil, c.err
}

// responseError is an answer of the service with the HTTP status status
// and the error code code.
func responseError(status int, code string) error {
	return &smithy.OperationError{ServiceID: "SFN", OperationName: "StartExecution",
		Err: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err: &smithy.GenericAPIError{Code: code}}}
}

// A start whose answer was lost (no answer, or a 5xx one) but whose
// execution runs with the input sent is the start's: Start returns its ARN
// instead of an error that would release the monitor's claim and leave the
// name taken, even when the caller has gone away meanwhile; so is one
// that ends throttled (an earlier attempt may have started it). A refusal
// is never taken for a start, nor an execution of the name with another
// input, nor one that has ended.
func TestStartAnswerLost(t *testing.T) {
	client, smArn := newMoto(t)
	ctx := t.Context()
	lost := errors.New("read tcp 127.0.0.1:5000: connection reset by peer")
	gone, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, tc := range []struct {
		name   string
		client stepfunctions.Client
		ctx    context.Context
	}{
		{"m1", lostAnswers{Client: client, err: lost}, ctx},
		{"m1-500", lostAnswers{Client: client, err: responseError(http.StatusInternalServerError, "InternalFailure")}, ctx},
		{"m1-gone", lostAnswers{Client: client, err: context.Canceled, cancel: cancel}, gone},
	} {
		arn, err := stepfunctions.New(tc.client, smArn).Start(tc.ctx, tc.name, stateInput(t, tc.name))
		if err != nil || !strings.HasSuffix(arn, ":execution:stepmon-monitor:"+tc.name) {
			t.Fatalf("Start of %s with the answer lost = %q, %v; want the execution's ARN", tc.name, arn, err)
		}
		d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil || d.Status != types.ExecutionStatusRunning {
			t.Fatalf("DescribeExecution(%s) = %v, %v", arn, d, err)
		}
	}

	// The execution m2 runs with m2's input: a lost answer to a start of
	// the same name with other input is still a failure. So is one to a
	// start of the name of m3, which has ended, even with m3's input.
	w := stepfunctions.New(client, smArn)
	if _, err := w.Start(ctx, "m2", stateInput(t, "m2")); err != nil {
		t.Fatal(err)
	}
	_, err := stepfunctions.New(lostAnswers{Client: client, err: lost}, smArn).Start(ctx, "m2", stateInput(t, "other"))
	if err == nil {
		t.Error("Start of another input under a running name, answer lost: no error")
	}
	arn, err := w.Start(ctx, "m3", stateInput(t, "m3"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Stop(ctx, arn, monitor.TerminateError, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := stepfunctions.New(lostAnswers{Client: client, err: lost}, smArn).Start(ctx, "m3", stateInput(t, "m3")); err == nil {
		t.Error("Start of an ended execution's name and input, answer lost: no error")
	}

	// A refusal that never reached the service starts nothing.
	for _, refused := range []error{
		&smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"},
		responseError(http.StatusBadRequest, "ThrottlingException"),
	} {
		_, err = stepfunctions.New(lostAnswers{Client: client, err: refused, refuse: true}, smArn).Start(ctx, "m4", stateInput(t, "m4"))
		if monitor.KindOf(err) != monitor.KindUnavailable {
			t.Errorf("Start refused with %v = %v, want unavailable", refused, err)
		}
	}
	// Throttling is the answer to the SDK's last attempt only: an earlier
	// attempt, its answer lost, may have started the execution (the
	// service throttles before it would find the start a repeat).
	for i, throttled := range []error{
		&smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"},
		responseError(http.StatusBadRequest, "ThrottlingException"),
	} {
		name := fmt.Sprintf("m5-%d", i)
		arn, err := stepfunctions.New(lostAnswers{Client: client, err: throttled}, smArn).Start(ctx, name, stateInput(t, name))
		if err != nil || !strings.HasSuffix(arn, ":execution:stepmon-monitor:"+name) {
			t.Errorf("Start of %s, throttled after an attempt that started it = %q, %v; want the execution's ARN", name, arn, err)
		}
	}
}

// FindExecution finds an execution by name, running or ended, and tells
// one that does not exist from a failed look-up.
func TestFindExecution(t *testing.T) {
	client, smArn := newMoto(t)
	w := stepfunctions.New(client, smArn)
	ctx := t.Context()
	before := time.Now().Add(-time.Minute)
	arn, err := w.Start(ctx, "m1", stateInput(t, "m1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, stopped := range []bool{false, true} {
		if stopped {
			if err := w.Stop(ctx, arn, monitor.TerminateError, ""); err != nil {
				t.Fatal(err)
			}
		}
		x, found, err := w.FindExecution(ctx, "m1")
		if err != nil || !found || x.Arn != arn || x.StartedAt.Before(before) {
			t.Errorf("FindExecution(m1), stopped %t = %+v, %t, %v; want %q started after %v", stopped, x, found, err, arn, before)
		}
		// The monitor's start its input names (stateInput's).
		if want := monitor.MonitorStartOf(string(stateInput(t, "m1"))); want.IsZero() || !x.MonitorStartedAt.Equal(want) {
			t.Errorf("FindExecution(m1): monitor started %v, want %v, the input's startedAt", x.MonitorStartedAt, want)
		}
	}
	if x, found, err := w.FindExecution(ctx, "m2"); err != nil || found || x.Arn != "" {
		t.Errorf("FindExecution(m2) = %+v, %t, %v; want not found, no error", x, found, err)
	}
	// A look-up that fails is an error, not "not found".
	throttled := failingDescribe{client, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}}
	if _, found, err := stepfunctions.New(throttled, smArn).FindExecution(ctx, "m1"); monitor.KindOf(err) != monitor.KindUnavailable || found {
		t.Errorf("FindExecution answered with throttling = %t, %v; want unavailable", found, err)
	}
	// A state machine ARN that names no state machine is a deployment
	// bug, whatever the service would answer.
	for _, c := range []stepfunctions.Client{client, throttled} {
		if _, _, err := stepfunctions.New(c, "not-an-arn").FindExecution(ctx, "m1"); monitor.KindOf(err) != monitor.KindInternal {
			t.Errorf("FindExecution with a bad state machine ARN = %v, want internal", err)
		}
	}
}

// failingDescribe is a client whose DescribeExecution fails with err.
type failingDescribe struct {
	*sfn.Client
	err error
}

func (c failingDescribe) DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	return nil, c.err
}
