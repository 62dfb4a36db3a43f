// Command status is the Lambda function behind the status routes of the
// API (GET /monitors/{id}, GET /monitors, terminate, raiseEvent, DELETE),
// the EventBridge rule on "Step Functions Execution Status Change" events,
// and the state machine's RecordFailure task.
//
// Environment: TABLE_NAME (the status table), STATE_MACHINE_ARN (the
// monitor state machine), and the AWS SDK's usual variables.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/stepfunctions"
)

func main() {
	if err := run(context.Background(), os.Getenv); err != nil {
		slog.Error("status: cannot run", "err", err)
		os.Exit(1)
	}
}

// run builds the AWS clients once and serves invocations until the Lambda
// runtime stops the process.
func run(ctx context.Context, getenv func(string) string) error {
	f, err := newFunction(ctx, getenv)
	if err != nil {
		return err
	}
	lambda.StartWithOptions(f.Invoke, lambda.WithContext(ctx))
	return nil
}

// newFunction wires the status handler to DynamoDB and Step Functions.
func newFunction(ctx context.Context, getenv func(string) string) (*apigw.Function, error) {
	table, smArn := getenv("TABLE_NAME"), getenv("STATE_MACHINE_ARN")
	if table == "" || smArn == "" {
		return nil, errors.New("status: TABLE_NAME and STATE_MACHINE_ARN must be set")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: load AWS config: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	api := &monitor.API{
		Store:    dynamostore.New(dynamodb.NewFromConfig(cfg), table),
		Workflow: stepfunctions.New(sfn.NewFromConfig(cfg), smArn),
		Clock:    monitor.SystemClock,
		Logger:   logger,
	}
	return apigw.NewFunction(apigw.NewHandler(api, logger)), nil
}
