package lambdaenv

import (
	"context"
	"log/slog"

	"github.com/stepmon/stepmon/internal/lambdaerr"
	"github.com/stepmon/stepmon/internal/monitor"
)

// transientErrorType is the error name of a *monitor.TransientError,
// which the state machine's Retry retries.
var transientErrorType = lambdaerr.Name(&monitor.TransientError{})

// TaskFunc is the handler of a Task state the functions serve:
// monitor.Tasks.Check or monitor.Tasks.Alert.
type TaskFunc func(context.Context, monitor.TaskInput) (monitor.State, error)

// LogTaskErrors returns task, logging each error it returns to logger
// before Lambda sees it: a *monitor.TransientError at WARN (the state
// machine retries it; not one wrapped in another error, which Lambda
// names after the wrapper), any other at ERROR, as "<name> failed" with the
// monitor's instanceId, the executionArn, the retryCount and the
// errorType Step Functions sees, each a field of its own. Otherwise the
// only record of a function error would be aws-lambda-go's own line, at
// INFO with the error inside its text, which a query for the errors the
// function's Errors alarm counts does not find, and a log level of WARN
// hides. The error is returned as it is (unwrapped: Lambda names it
// after its type).
func LogTaskErrors(logger *slog.Logger, name string, task TaskFunc) TaskFunc {
	return func(ctx context.Context, in monitor.TaskInput) (monitor.State, error) {
		s, err := task(ctx, in)
		if err != nil {
			// As Step Functions sees it: by the name Lambda gives the
			// error, its outermost type (a wrapped TransientError is not
			// retried).
			errorType, level := lambdaerr.Name(err), slog.LevelError
			if errorType == transientErrorType {
				level = slog.LevelWarn
			}
			logger.Log(ctx, level, name+" failed", "instanceId", in.State.InstanceID, "executionArn", in.ExecutionArn,
				"retryCount", in.RetryCount, "errorType", errorType, "err", err)
		}
		return s, err
	}
}
