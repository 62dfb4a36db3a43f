package monitor

import (
	"context"
	"log/slog"

	"github.com/stepmon/stepmon/internal/lambdaerr"
)

// transientErrorType is the error name of a *TransientError, which the
// state machine's Retry retries.
var transientErrorType = lambdaerr.Name(&TransientError{})

// TaskFunc is the handler of a Task state: Tasks.Check or Tasks.Alert, as
// the check and alert functions and the local runtime serve them.
type TaskFunc func(context.Context, TaskInput) (State, error)

// LogTaskErrors returns task, logging each error it returns to logger
// before Lambda (or the local runtime's invoker) sees it: a
// *TransientError at WARN (the state machine retries it; not one wrapped
// in another error, which Lambda names after the wrapper), any other at
// ERROR, as "<name> failed" with the monitor's instanceId, the
// executionArn, the retryCount (for the check task, whose state passes
// it) and the errorType Step Functions sees, each a field of its own. Otherwise the only record of a function error would
// be aws-lambda-go's own line, at INFO with the error inside its text,
// which a query for the errors the function's Errors alarm counts does not
// find, and a log level of WARN hides; locally, only the execution's
// history. The error is returned as it is (unwrapped: Lambda names it
// after its type).
func LogTaskErrors(logger *slog.Logger, name string, task TaskFunc) TaskFunc {
	return func(ctx context.Context, in TaskInput) (State, error) {
		s, err := task(ctx, in)
		if err != nil {
			// As Step Functions sees it: by the name Lambda gives the
			// error, its outermost type (a wrapped TransientError is not
			// retried).
			errorType, level := lambdaerr.Name(err), slog.LevelError
			if errorType == transientErrorType {
				level = slog.LevelWarn
			}
			attrs := []any{"instanceId", in.State.InstanceID, "executionArn", in.ExecutionArn}
			if name == "check" {
				// Only the Check state passes $$.State.RetryCount: the
				// alert's would read 0 on every retry.
				attrs = append(attrs, "retryCount", in.RetryCount)
			}
			logger.Log(ctx, level, name+" failed", append(attrs, "errorType", errorType, "err", err)...)
		}
		return s, err
	}
}
