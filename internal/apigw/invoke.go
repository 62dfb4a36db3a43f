package apigw

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/lambdaerr"
	"github.com/stepmon/stepmon/internal/monitor"
)

// Payloads the status Lambda receives besides API Gateway proxy requests.
const (
	// ActionRecordFailure is the "action" of the state machine's
	// RecordFailure invocation.
	ActionRecordFailure = "recordFailure"
	// StatusChangeDetailType is the detail-type of the EventBridge events
	// Step Functions sends when an execution changes status.
	StatusChangeDetailType = "Step Functions Execution Status Change"
	// StatusChangeSource is those events' source.
	StatusChangeSource = "aws.states"
)

// Function is the status Lambda's handler. It serves API Gateway proxy
// requests with HTTP, and records the ends of executions that the workflow
// could not record itself with HTTP.API.
type Function struct {
	HTTP *Handler
	// StateMachineArn, when set, is the state machine whose executions'
	// status changes the function records: an event of another machine
	// (an EventBridge rule that matches more than the stack's does) is
	// logged and dropped, not taken for a monitor's execution by its
	// name.
	StateMachineArn string
	// QuietUnrecorded leaves a status change the function could not
	// record unlogged, for a caller that retries and says so once itself
	// (the local runtime's notifier); on AWS each failed attempt is an
	// ERROR line.
	QuietUnrecorded bool
}

// NewFunction returns the status Lambda's handler around h.
func NewFunction(h *Handler) *Function { return &Function{HTTP: h} }

// RecordFailureRequest is the payload of the state machine's RecordFailure
// task: {"action":"recordFailure","instanceId":"...","startedAt":"...",
// "executionArn":"...","error":{"Error":"...","Cause":"..."}}.
type RecordFailureRequest struct {
	Action     string `json:"action"`
	InstanceID string `json:"instanceId"`
	// StartedAt is the monitor's start (monitor.State.StartedAt), which
	// tells its record from a later monitor's of the same id. Absent
	// from the payload of earlier definitions.
	StartedAt    time.Time `json:"startedAt,omitzero"`
	ExecutionArn string    `json:"executionArn"`
	Error        struct {
		Error string `json:"Error"`
		Cause string `json:"Cause"`
	} `json:"error"`
}

// RecordResult is the answer to a RecordFailure invocation and to a status
// change event.
type RecordResult struct {
	// Recorded is false when the end was not the monitor's to record: it
	// had already finished, no longer exists, or the execution is not its
	// current one.
	Recorded bool `json:"recorded"`
}

// ExecutionStatusChange is the detail of an EventBridge "Step Functions
// Execution Status Change" event.
type ExecutionStatusChange struct {
	ExecutionArn    string `json:"executionArn"`
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	// StartDate and StopDate are milliseconds since the epoch.
	StartDate int64 `json:"startDate"`
	StopDate  int64 `json:"stopDate"`
	// Input is the execution's input, a JSON document in a string; absent
	// when it is too large for the event.
	Input string `json:"input"`
	Error string `json:"error"`
	Cause string `json:"cause"`
}

// Invoke handles one invocation of the status Lambda, telling the payload's
// kind from its JSON:
//
//   - {"action":"recordFailure", ...}: the state machine's RecordFailure
//     task; answers RecordResult. Errors are *monitor.TransientError or
//     *monitor.PermanentError, unwrapped, for the task's Retry.
//   - {"source":"aws.states","detail-type":"Step Functions Execution
//     Status Change", ...}: answers RecordResult; a failure to record is
//     returned as an error. EventBridge invokes the function
//     asynchronously, so Lambda retries it twice and then puts the event
//     in the function's dead-letter queue (infra), where it can be
//     replayed; EventBridge's own retries cover only the delivery.
//   - {"httpMethod": ..., "requestContext": ...}: an API Gateway proxy
//     request; answers events.APIGatewayProxyResponse and never an error.
//
// Any other payload is a *monitor.PermanentError.
func (f *Function) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		Action         string          `json:"action"`
		Source         string          `json:"source"`
		DetailType     string          `json:"detail-type"`
		HTTPMethod     string          `json:"httpMethod"`
		RequestContext json.RawMessage `json:"requestContext"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, &monitor.PermanentError{Message: "status: the payload is not a JSON object"}
	}
	switch {
	case probe.Action == ActionRecordFailure:
		var req RecordFailureRequest
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, &monitor.PermanentError{Message: "status: recordFailure: " + err.Error()}
		}
		res, err := f.recordFailure(ctx, req)
		if err != nil {
			// The RecordFailure state retries a *TransientError: WARN,
			// as the check and alert functions log theirs.
			level := slog.LevelError
			if lambdaerr.Name(err) == lambdaerr.Name(&monitor.TransientError{}) {
				level = slog.LevelWarn
			}
			f.HTTP.logger().Log(ctx, level, "recordFailure failed", "instanceId", req.InstanceID,
				"executionArn", req.ExecutionArn, "errorType", lambdaerr.Name(err), "err", err)
		}
		return res, err
	case probe.Action != "":
		return nil, &monitor.PermanentError{Message: fmt.Sprintf("status: unknown action %q", monitor.TruncateBytes(probe.Action, 40))}
	case probe.Source == StatusChangeSource && probe.DetailType == StatusChangeDetailType:
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, &monitor.PermanentError{Message: "status: event: " + err.Error()}
		}
		return f.statusChange(ctx, ev)
	case probe.HTTPMethod != "" && len(probe.RequestContext) > 0:
		var req events.APIGatewayProxyRequest
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, &monitor.PermanentError{Message: "status: API Gateway request: " + err.Error()}
		}
		return f.HTTP.Handle(ctx, req)
	case probe.Source != "" || probe.DetailType != "":
		return nil, &monitor.PermanentError{Message: fmt.Sprintf("status: unexpected event %q from %q", monitor.TruncateBytes(probe.DetailType, 80), monitor.TruncateBytes(probe.Source, 40))}
	default:
		return nil, &monitor.PermanentError{Message: "status: unrecognised payload: expected an API Gateway proxy request, a Step Functions status change event or a recordFailure action"}
	}
}

func (f *Function) recordFailure(ctx context.Context, req RecordFailureRequest) (RecordResult, error) {
	if req.InstanceID == "" || req.ExecutionArn == "" {
		return RecordResult{}, &monitor.PermanentError{Message: "status: recordFailure: instanceId and executionArn are required"}
	}
	ok, err := f.HTTP.API.RecordExecutionEnd(ctx, monitor.ExecutionEnd{
		InstanceID:       req.InstanceID,
		ExecutionArn:     req.ExecutionArn,
		Status:           monitor.ExecutionFailed,
		Error:            req.Error.Error,
		Cause:            req.Error.Cause,
		MonitorStartedAt: req.StartedAt,
	})
	if err != nil {
		return RecordResult{}, monitor.TaskError(fmt.Errorf("status: record failure of %s: %w", req.InstanceID, err))
	}
	return RecordResult{Recorded: ok}, nil
}

func (f *Function) statusChange(ctx context.Context, ev events.EventBridgeEvent) (_ RecordResult, err error) {
	var d ExecutionStatusChange
	defer func() {
		if err != nil && !f.QuietUnrecorded {
			// Lambda invokes again, twice, then leaves the event in the
			// dead-letter queue: each attempt that fails is an ERROR line
			// for the DeadLetters alarm's first look (docs/operations.md).
			// Otherwise the only line is aws-lambda-go's, at WARN with
			// the error inside its text.
			f.HTTP.logger().ErrorContext(ctx, "execution end not recorded", "executionArn", d.ExecutionArn,
				"status", d.Status, "errorType", lambdaerr.Name(err), "err", err)
		}
	}()
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return RecordResult{}, &monitor.PermanentError{Message: "status: event detail: " + err.Error()}
	}
	if d.ExecutionArn == "" {
		return RecordResult{}, &monitor.PermanentError{Message: "status: event detail has no executionArn"}
	}
	if f.StateMachineArn != "" && d.StateMachineArn != f.StateMachineArn {
		// Redelivery cannot make it this machine's.
		f.HTTP.logger().WarnContext(ctx, "status change event of another state machine ignored",
			"executionArn", d.ExecutionArn, "stateMachineArn", d.StateMachineArn)
		return RecordResult{}, nil
	}
	end := monitor.ExecutionEnd{ExecutionArn: d.ExecutionArn, Status: d.Status, Error: d.Error, Cause: d.Cause}
	if d.StopDate > 0 {
		end.At = time.UnixMilli(d.StopDate).UTC()
	}
	if d.StartDate > 0 {
		end.StartedAt = time.UnixMilli(d.StartDate).UTC()
	}
	// The execution input names the monitor exactly, by its instance id
	// and its start (monitor.State); the execution name (see
	// monitor.ExecutionName) is the fallback when the input was too large
	// to include. A start time that does not parse is left out: the
	// execution's start then tells an earlier monitor's execution.
	if d.Input != "" {
		var st struct {
			InstanceID string `json:"instanceId"`
		}
		if json.Unmarshal([]byte(d.Input), &st) == nil && monitor.ValidInstanceID(st.InstanceID) {
			end.InstanceID = st.InstanceID
			end.MonitorStartedAt = monitor.MonitorStartOf(d.Input)
		}
	}
	ok, err := f.HTTP.API.RecordExecutionEnd(ctx, end)
	if monitor.IsKind(err, monitor.KindInvalid) {
		// Redelivery cannot fix a malformed event.
		f.HTTP.logger().WarnContext(ctx, "status change event ignored", "executionArn", d.ExecutionArn, "err", err)
		return RecordResult{}, nil
	}
	if err != nil {
		return RecordResult{}, fmt.Errorf("status: record %s of %s: %w", d.Status, d.ExecutionArn, err)
	}
	return RecordResult{Recorded: ok}, nil
}
