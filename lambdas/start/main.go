// Command start is the Lambda function behind POST /monitors: it validates
// the request, claims the instance id in DynamoDB, starts the Step
// Functions execution and answers 202 with the management URLs.
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
		slog.Error("start: cannot run", "err", err)
		os.Exit(1)
	}
}

// run builds the AWS clients once and serves invocations until the Lambda
// runtime stops the process.
func run(ctx context.Context, getenv func(string) string) error {
	h, err := newHandler(ctx, getenv)
	if err != nil {
		return err
	}
	lambda.StartWithOptions(h.Handle, lambda.WithContext(ctx))
	return nil
}

// newHandler wires the API Gateway handler to DynamoDB and Step Functions.
func newHandler(ctx context.Context, getenv func(string) string) (*apigw.Handler, error) {
	table, smArn := getenv("TABLE_NAME"), getenv("STATE_MACHINE_ARN")
	if table == "" || smArn == "" {
		return nil, errors.New("start: TABLE_NAME and STATE_MACHINE_ARN must be set")
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("start: load AWS config: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	api := &monitor.API{
		Store:    dynamostore.New(dynamodb.NewFromConfig(cfg), table),
		Workflow: stepfunctions.New(sfn.NewFromConfig(cfg), smArn),
		Clock:    monitor.SystemClock,
		Logger:   logger,
	}
	return apigw.NewHandler(api, logger), nil
}
