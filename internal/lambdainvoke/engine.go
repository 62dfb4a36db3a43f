package lambdainvoke

import (
	"context"
	"errors"

	"github.com/stepmon/stepmon/internal/engine"
)

// Invoker returns the engine's invoker for the functions of r: handler
// failures become *engine.FunctionError with aws-lambda-go's error name
// (what Retry and Catch match), an unknown function the task error Step
// Functions reports for it, Lambda.ResourceNotFoundException.
func (r *Registry) Invoker() engine.Invoker {
	return func(ctx context.Context, functionName string, payload []byte) ([]byte, error) {
		out, err := r.Invoke(ctx, functionName, payload)
		if err == nil {
			return out, nil
		}
		var fe *FunctionError
		if errors.As(err, &fe) {
			return nil, &engine.FunctionError{Type: fe.ErrorType, Message: fe.ErrorMessage}
		}
		var nf *NotFoundError
		if errors.As(err, &nf) {
			return nil, &engine.TaskError{Name: "Lambda.ResourceNotFoundException",
				Cause: "Function not found: " + nf.Function + " (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException)"}
		}
		return nil, err
	}
}
