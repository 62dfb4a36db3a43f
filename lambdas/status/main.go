// Command status is the Lambda function behind the status routes of the
// API (GET /monitors/{id}, GET /monitors, terminate, raiseEvent, DELETE),
// the EventBridge rule on "Step Functions Execution Status Change" events,
// and the state machine's RecordFailure task.
//
// Environment: TABLE_NAME (the status table), STATE_MACHINE_ARN (the
// monitor state machine), AWS_LAMBDA_LOG_LEVEL (the level of the JSON
// log), and the AWS SDK's usual variables.
package main

import (
	"context"
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
	h, err := apienv.NewHandler(ctx, "status", getenv)
	if err != nil {
		return err
	}
	f := apigw.NewFunction(h)
	lambda.StartWithOptions(f.Invoke, lambda.WithContext(ctx))
	return nil
}
