package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/stepmon/stepmon/lambdas/internal/apienv"
	"github.com/stepmon/stepmon/lambdas/internal/lambdaenv"
)

func main() { os.Exit(lambdaenv.Main("start", os.Stderr, os.Getenv, run)) }

// run builds the AWS clients once and serves invocations until the Lambda
// runtime stops the process.
func run(ctx context.Context, getenv func(string) string) error {
	h, err := apienv.NewHandler(ctx, "start", getenv, os.Stderr)
	if err != nil {
		return err
	}
	lambda.StartWithOptions(h.Handle, lambda.WithContext(ctx))
	return nil
}
