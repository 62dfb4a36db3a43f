package lambdainvoke

import (
	"context"
	"errors"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// StopGrace is how long the handler of a task without a deadline runs on
// after its execution is stopped before its context is cancelled, when its
// function has no timeout (Options.Timeout) either: a Lambda function's
// longest run on AWS is its timeout. (Registry.Close ends every handler.)
const StopGrace = 30 * time.Second

// Invoker returns the engine's invoker for the functions of r: handler
// failures become *engine.FunctionError with aws-lambda-go's error name
// (what Retry and Catch match), an unknown function the task error Step
// Functions reports for it, Lambda.ResourceNotFoundException.
//
// An invocation runs to its end when its execution is stopped, as a Lambda
// function does on AWS, where StopExecution does not interrupt it: the
// handler's context keeps the task's deadline and the values of the
// engine's context, but not the stop's cancellation (for up to StopGrace
// after it, when the task has no deadline). The engine discards the
// result. An alert being sent when its monitor is terminated is thus
// delivered and recorded as sent, not cut off halfway with an unknown
// outcome. Close ends them all, before the runtime closes its stores.
//
// An Event invocation runs detached from its task, which it does not
// hold up (see start); a DryRun one only checks that the function exists.
func (r *Registry) Invoker() engine.Invoker {
	return func(ctx context.Context, inv engine.Invocation) ([]byte, error) {
		switch inv.Type {
		case engine.InvokeDryRun:
			if !r.exists(inv.FunctionName) {
				return nil, notFound(inv.FunctionName)
			}
			return nil, nil
		case engine.InvokeEvent:
			if !r.exists(inv.FunctionName) {
				return nil, notFound(inv.FunctionName)
			}
			r.start(ctx, inv)
			return nil, nil
		}
		end, _ := r.track() // after Close, invoke fails with ErrClosed
		defer end()
		base := detached{Context: r.closing, values: ctx}
		var hctx context.Context
		var cancel context.CancelFunc
		if deadline, ok := ctx.Deadline(); ok {
			hctx, cancel = context.WithDeadline(base, deadline)
		} else {
			// A task without a time limit still ends some time after a
			// stop.
			hctx, cancel = context.WithCancel(base)
			grace := context.AfterFunc(ctx, func() { time.AfterFunc(StopGrace, cancel) })
			defer grace()
		}
		defer cancel()
		out, err := r.invoke(hctx, inv)
		if err == nil {
			return out, nil
		}
		var fe *FunctionError
		if errors.As(err, &fe) {
			return nil, &engine.FunctionError{Type: fe.ErrorType, Message: fe.ErrorMessage, StackTrace: fe.StackTrace}
		}
		var nf *NotFoundError
		if errors.As(err, &nf) {
			return nil, notFound(nf.Function)
		}
		return nil, err
	}
}

// notFound is the task error of an invocation of an unknown function.
func notFound(function string) *engine.TaskError {
	return &engine.TaskError{Name: "Lambda.ResourceNotFoundException",
		Cause: "Function not found: " + function + " (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException)"}
}

// start runs an Event invocation on its own: it outlives the task, which
// does not wait for it, up to its function's timeout or Close, which
// waits for it like for the invocations the engine waits for. Its error
// reaches only the log, and it gets no client context, which Lambda
// passes to synchronous invocations only.
func (r *Registry) start(ctx context.Context, inv engine.Invocation) {
	end, _ := r.track() // after Close, invoke fails with ErrClosed
	inv.ClientContext = nil
	hctx, cancel := context.WithCancel(detached{Context: r.closing, values: ctx})
	r.handlers.Go(func() {
		defer end()
		defer cancel()
		if _, err := r.invoke(hctx, inv); err != nil && r.Logger != nil {
			r.Logger.WarnContext(hctx, "lambda: event invocation failed", "function", inv.FunctionName, "err", err)
		}
	})
}

// detached is a context with the cancellation of its Context (the
// registry's closing) and the values of values (the engine's context).
type detached struct {
	context.Context
	values context.Context
}

func (d detached) Value(key any) any { return d.values.Value(key) }
