package stepfunctions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stepmon/stepmon/internal/deadline"
	"github.com/stepmon/stepmon/internal/monitor"
)

// Client is the part of the sfn client that Workflow uses.
type Client interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

var _ Client = (*sfn.Client)(nil)

// Workflow starts and stops executions of one state machine.
type Workflow struct {
	Client          Client
	StateMachineArn string
}

var (
	_ monitor.Workflow        = (*Workflow)(nil)
	_ monitor.EndDescriber    = (*Workflow)(nil)
	_ monitor.ExecutionFinder = (*Workflow)(nil)
)

// New returns a Workflow running executions of the state machine
// stateMachineArn through client.
func New(client Client, stateMachineArn string) *Workflow {
	return &Workflow{Client: client, StateMachineArn: stateMachineArn}
}

// Start starts an execution named name with the given input and returns its
// ARN. Step Functions treats a repeated start with the same name and input
// of a running execution as the same start and returns its ARN; any other
// reuse of a name is KindConflict.
//
// When ctx has a deadline, StartExecution must answer startCheckReserve
// before it (or halfway to it, when less time is left), so that the look
// for an execution a failed start may have started still runs in time.
func (w *Workflow) Start(ctx context.Context, name string, input []byte) (string, error) {
	sctx, cancel := deadline.Reserve(ctx, startCheckReserve)
	out, err := w.Client.StartExecution(sctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(w.StateMachineArn),
		Name:            aws.String(name),
		Input:           aws.String(string(input)),
	})
	cancel()
	if err != nil {
		if ambiguous(err) {
			// The request may have started the execution and only its
			// answer been lost. Releasing the caller's claim then would
			// leave an execution without a record and the name taken
			// for 90 days, so look: a running execution of this name
			// with this very input is this start's.
			if arn, ok := w.startedAnyway(ctx, name, input); ok {
				return arn, nil
			}
		}
		return "", wrap("start", name, err)
	}
	return aws.ToString(out.ExecutionArn), nil
}

// The look for an execution that a failed start may have started runs even
// when the caller's context has been cancelled, but never past its
// deadline: on Lambda nothing runs after the function's timeout. It gets
// what StartExecution left of the deadline (at least startCheckReserve
// when that much was left), and at most startCheckTimeout, the bound when
// there is no deadline (stepmon serve). One DescribeExecution takes well
// under a second.
const (
	startCheckReserve = 3 * time.Second
	startCheckTimeout = 10 * time.Second
)

// ambiguous reports whether a failed request may still have been carried
// out: no answer arrived (a network failure, the caller's deadline), the
// service failed with a 5xx, or it throttled. A throttle answers the SDK's
// last attempt only: an earlier one whose answer was lost may have started
// the execution, and the service throttles before it would find a repeated
// start the same. Any other 4xx answer is a refusal: nothing was started
// (the SDK retries no other refusal, so no attempt came before it).
func ambiguous(err error) bool {
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorFault() == smithy.FaultServer || throttled(api.ErrorCode())
	}
	return true
}

// throttled reports whether an error code is one of a request refused for
// its rate.
func throttled(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
		return true
	}
	return false
}

// startedAnyway reports whether the execution name of the state machine is
// running with input, and its ARN.
func (w *Workflow) startedAnyway(ctx context.Context, name string, input []byte) (string, bool) {
	ctx, cancel := deadline.Detached(ctx, 0, startCheckTimeout)
	defer cancel()
	d, err := w.describeName(ctx, name)
	if err != nil || d.Status != types.ExecutionStatusRunning || aws.ToString(d.Input) != string(input) {
		return "", false
	}
	return aws.ToString(d.ExecutionArn), true
}

// describeName describes the execution name of the state machine.
func (w *Workflow) describeName(ctx context.Context, name string) (*sfn.DescribeExecutionOutput, error) {
	arn, ok := ExecutionArn(w.StateMachineArn, name)
	if !ok {
		return nil, monitor.Errorf(monitor.KindInternal, "stepfunctions: describe "+name, "%q is not a state machine's ARN", w.StateMachineArn)
	}
	d, err := w.Client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		return nil, wrap("describe", arn, err)
	}
	return d, nil
}

// ExecutionArn returns the ARN of the execution name of a standard state
// machine: arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME; ok
// is false when stateMachineArn is not a state machine's ARN.
func ExecutionArn(stateMachineArn, name string) (string, bool) {
	const sm, ex = ":stateMachine:", ":execution:"
	i := strings.Index(stateMachineArn, sm)
	if i < 0 || strings.Contains(stateMachineArn[i+len(sm):], ":") {
		return "", false
	}
	return stateMachineArn[:i] + ex + stateMachineArn[i+len(sm):] + ":" + name, true
}

// Stop stops the running execution executionArn with the given error name
// and cause. An execution that does not exist or has already ended is
// KindGone.
func (w *Workflow) Stop(ctx context.Context, executionArn, errorName, cause string) error {
	// StopExecution does not tell a running execution from an ended one,
	// so look first.
	d, err := w.Client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionArn)})
	if err != nil {
		return wrap("stop", executionArn, err)
	}
	if d.Status != types.ExecutionStatusRunning {
		return monitor.Errorf(monitor.KindGone, "stepfunctions: stop "+executionArn, "the execution has already ended (%s)", d.Status)
	}
	in := &sfn.StopExecutionInput{ExecutionArn: aws.String(executionArn)}
	if errorName != "" {
		in.Error = aws.String(errorName)
	}
	if cause != "" {
		in.Cause = aws.String(cause)
	}
	if _, err := w.Client.StopExecution(ctx, in); err != nil {
		return wrap("stop", executionArn, err)
	}
	return nil
}

// FindExecution implements monitor.ExecutionFinder: it describes the
// execution name of the state machine, running or ended.
func (w *Workflow) FindExecution(ctx context.Context, name string) (monitor.FoundExecution, bool, error) {
	d, err := w.describeName(ctx, name)
	var missing *types.ExecutionDoesNotExist
	switch {
	case errors.As(err, &missing):
		return monitor.FoundExecution{}, false, nil
	case err != nil:
		return monitor.FoundExecution{}, false, err
	}
	return monitor.FoundExecution{Arn: aws.ToString(d.ExecutionArn), StartedAt: aws.ToTime(d.StartDate),
		MonitorStartedAt: monitor.MonitorStartOf(aws.ToString(d.Input))}, true, nil
}

// DescribeEnd implements monitor.EndDescriber: the error and cause the
// execution failed or was stopped with.
func (w *Workflow) DescribeEnd(ctx context.Context, executionArn string) (errorName, cause string, err error) {
	d, err := w.Client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionArn)})
	if err != nil {
		return "", "", wrap("describe", executionArn, err)
	}
	return aws.ToString(d.Error), aws.ToString(d.Cause), nil
}

// wrap converts an sfn error into a *monitor.Error of the matching kind.
func wrap(op, subject string, err error) error {
	op = fmt.Sprintf("stepfunctions: %s %s", op, subject)
	var (
		exists   *types.ExecutionAlreadyExists
		missing  *types.ExecutionDoesNotExist
		limit    *types.ExecutionLimitExceeded
		kmsLimit *types.KmsThrottlingException
		api      smithy.APIError
		resp     *smithyhttp.ResponseError
	)
	switch {
	case errors.As(err, &exists):
		return monitor.WrapError(monitor.KindConflict, op, err, "an execution of that name already exists")
	case errors.As(err, &missing):
		return monitor.WrapError(monitor.KindGone, op, err, "the execution does not exist")
	case errors.As(err, &limit), errors.As(err, &kmsLimit):
		return monitor.WrapError(monitor.KindUnavailable, op, err, "Step Functions is over a limit; retry later")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return monitor.WrapError(monitor.KindUnavailable, op, err, "Step Functions did not answer in time")
	case errors.As(err, &api):
		// A 5xx answer is the service's failure, whether or not the
		// SDK models its code (InternalFailure, a full disk under the
		// local runtime, is not modelled): nothing changed, retry.
		serverAnswer := errors.As(err, &resp) && resp.HTTPStatusCode() >= 500
		switch code := api.ErrorCode(); {
		case throttled(code), code == "ServiceUnavailable", code == "InternalServerError",
			code == "InternalFailure", api.ErrorFault() == smithy.FaultServer, serverAnswer:
			return monitor.WrapError(monitor.KindUnavailable, op, err, "Step Functions is unavailable; retry later")
		}
		return monitor.WrapError(monitor.KindInternal, op, err, "internal error")
	default:
		// No answer from the service at all: a network failure.
		return monitor.WrapError(monitor.KindUnavailable, op, err, "Step Functions could not be reached; retry later")
	}
}
