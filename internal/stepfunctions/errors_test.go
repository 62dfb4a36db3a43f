package stepfunctions

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stepmon/stepmon/internal/monitor"
)

// stubClient answers every call with its fields.
type stubClient struct {
	err     error
	status  types.ExecutionStatus
	errName *string // DescribeExecution's error and cause
	cause   *string
	stops   int
	stopErr error                   // StopExecution's error, when DescribeExecution answers
	stopped *sfn.StopExecutionInput // the last StopExecution's input
}

func (c *stubClient) StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	if c.err != nil {
		return nil, c.err
	}
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String("arn")}, nil
}

func (c *stubClient) StopExecution(_ context.Context, in *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	c.stops++
	c.stopped = in
	if c.stopErr != nil {
		return nil, c.stopErr
	}
	return &sfn.StopExecutionOutput{}, c.err
}

func (c *stubClient) DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	if c.err != nil {
		return nil, c.err
	}
	return &sfn.DescribeExecutionOutput{Status: c.status, Error: c.errName, Cause: c.cause}, nil
}

func TestDescribeEnd(t *testing.T) {
	c := &stubClient{status: types.ExecutionStatusAborted, errName: aws.String(monitor.TerminateError), cause: aws.String("done")}
	if e, cause, err := New(c, "arn:sm").DescribeEnd(context.Background(), "arn:x"); err != nil || e != monitor.TerminateError || cause != "done" {
		t.Errorf("DescribeEnd = %q, %q, %v; want Terminated, done", e, cause, err)
	}
	c = &stubClient{err: &types.ExecutionDoesNotExist{Message: aws.String("nope")}}
	if _, _, err := New(c, "arn:sm").DescribeEnd(context.Background(), "arn:x"); monitor.KindOf(err) != monitor.KindGone {
		t.Errorf("DescribeEnd of a missing execution: %v, want gone", err)
	}
}

func TestErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want monitor.Kind
	}{
		{"already exists", &types.ExecutionAlreadyExists{Message: aws.String("exists")}, monitor.KindConflict},
		{"does not exist", &types.ExecutionDoesNotExist{Message: aws.String("nope")}, monitor.KindGone},
		{"execution limit", &types.ExecutionLimitExceeded{}, monitor.KindUnavailable},
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, monitor.KindUnavailable},
		{"KMS throttled", &types.KmsThrottlingException{Message: aws.String("KMS rate exceeded")}, monitor.KindUnavailable},
		{"Throttling", &smithy.GenericAPIError{Code: "Throttling"}, monitor.KindUnavailable},
		{"TooManyRequestsException", &smithy.GenericAPIError{Code: "TooManyRequestsException"}, monitor.KindUnavailable},
		{"RequestLimitExceeded", &smithy.GenericAPIError{Code: "RequestLimitExceeded"}, monitor.KindUnavailable},
		{"ServiceUnavailable", &smithy.GenericAPIError{Code: "ServiceUnavailable"}, monitor.KindUnavailable},
		{"InternalServerError", &smithy.GenericAPIError{Code: "InternalServerError"}, monitor.KindUnavailable},
		{"InternalFailure", &smithy.GenericAPIError{Code: "InternalFailure"}, monitor.KindUnavailable},
		{"server fault", &smithy.GenericAPIError{Code: "Whatever", Fault: smithy.FaultServer}, monitor.KindUnavailable},
		{"wrapped throttling", &smithy.OperationError{ServiceID: "SFN", OperationName: "StartExecution",
			Err: fmt.Errorf("retries exhausted: %w", &smithy.GenericAPIError{Code: "ThrottlingException"})}, monitor.KindUnavailable},
		{"server error answer", &smithy.OperationError{ServiceID: "SFN", OperationName: "StopExecution",
			Err: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusInternalServerError}},
				Err: &smithy.GenericAPIError{Code: "InternalFailure", Message: "database or disk is full"}}}, monitor.KindUnavailable},
		{"unmodelled 500 answer", &smithy.OperationError{ServiceID: "SFN", OperationName: "StartExecution",
			Err: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusInternalServerError}},
				Err: &smithy.GenericAPIError{Code: "DiskFull", Message: "database or disk is full"}}}, monitor.KindUnavailable},
		{"no network", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), monitor.KindUnavailable},
		{"deadline", context.DeadlineExceeded, monitor.KindUnavailable},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException", Fault: smithy.FaultClient}, monitor.KindInternal},
		{"no state machine", &types.StateMachineDoesNotExist{}, monitor.KindInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := New(&stubClient{err: tc.err}, "arn:sm")
			_, err := w.Start(context.Background(), "x", []byte(`{}`))
			if got := monitor.KindOf(err); got != tc.want {
				t.Errorf("Start: kind = %q (%v), want %q", got, err, tc.want)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("Start error %v does not wrap the cause", err)
			}
			if !strings.Contains(err.Error(), "stepfunctions: start x") {
				t.Errorf("Start error %q does not name the operation and the execution", err)
			}
		})
	}
}

func TestStopEndedExecutionIsGone(t *testing.T) {
	for _, status := range []types.ExecutionStatus{types.ExecutionStatusSucceeded, types.ExecutionStatusFailed,
		types.ExecutionStatusAborted, types.ExecutionStatusTimedOut} {
		c := &stubClient{status: status}
		err := New(c, "arn:sm").Stop(context.Background(), "arn:x", "Terminated", "")
		if monitor.KindOf(err) != monitor.KindGone || c.stops != 0 {
			t.Errorf("%s: Stop = %v after %d StopExecution calls, want gone and none", status, err, c.stops)
		}
	}
	c := &stubClient{status: types.ExecutionStatusRunning}
	if err := New(c, "arn:sm").Stop(context.Background(), "arn:x", "Terminated", "why"); err != nil || c.stops != 1 {
		t.Errorf("running: Stop = %v after %d calls", err, c.stops)
	}
}

// Stop stops the execution with the error name and cause it is given,
// which DescribeEnd reads back, and a StopExecution that fails is an error
// of the failure's kind, not a stop.
func TestStopSendsErrorAndCause(t *testing.T) {
	c := &stubClient{status: types.ExecutionStatusRunning}
	if err := New(c, "arn:sm").Stop(context.Background(), "arn:x", monitor.TerminateError, "no longer needed"); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if in := c.stopped; in == nil || aws.ToString(in.ExecutionArn) != "arn:x" ||
		aws.ToString(in.Error) != monitor.TerminateError || aws.ToString(in.Cause) != "no longer needed" {
		t.Errorf("StopExecution input = %+v, want arn:x stopped with %s, no longer needed", in, monitor.TerminateError)
	}

	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	c = &stubClient{status: types.ExecutionStatusRunning, stopErr: throttled}
	err := New(c, "arn:sm").Stop(context.Background(), "arn:x", monitor.TerminateError, "")
	if monitor.KindOf(err) != monitor.KindUnavailable || !errors.Is(err, throttled) {
		t.Errorf("Stop answered with throttling = %v, want unavailable wrapping it", err)
	}
}

func TestExecutionArn(t *testing.T) {
	for _, tt := range []struct {
		sm, name, want string
		ok             bool
	}{
		{"arn:aws:states:us-east-1:123456789012:stateMachine:stepmon-monitor", "m1",
			"arn:aws:states:us-east-1:123456789012:execution:stepmon-monitor:m1", true},
		{"arn:aws-cn:states:cn-north-1:123456789012:stateMachine:sm", "m1-g2",
			"arn:aws-cn:states:cn-north-1:123456789012:execution:sm:m1-g2", true},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:sm:prod", "m1", "", false}, // an alias
		{"arn:aws:states:us-east-1:123456789012:activity:a", "m1", "", false},
		{"", "m1", "", false},
	} {
		got, ok := ExecutionArn(tt.sm, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ExecutionArn(%q, %q) = %q, %v; want %q, %v", tt.sm, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
