package main

import (
	"context"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/lambdas/internal/apienv"
	"github.com/stepmon/stepmon/lambdas/internal/lambdaenv"
)

func main() { os.Exit(lambdaenv.Main("status", os.Stderr, os.Getenv, run)) }

// run builds the AWS clients once and serves invocations until the Lambda
// runtime stops the process.
func run(ctx context.Context, getenv func(string) string) error {
	f, err := newFunction(ctx, getenv, os.Stderr)
	if err != nil {
		return err
	}
	lambda.StartWithOptions(f.Invoke, lambda.WithContext(ctx))
	return nil
}

// newFunction builds the clients once, outside the handler; the
// function's log records go to logw.
func newFunction(ctx context.Context, getenv func(string) string, logw io.Writer) (*apigw.Function, error) {
	h, err := apienv.NewHandler(ctx, "status", getenv, logw)
	if err != nil {
		return nil, err
	}
	f := apigw.NewFunction(h)
	// NewHandler has checked that it is set.
	f.StateMachineArn = getenv("STATE_MACHINE_ARN")
	return f, nil
}
