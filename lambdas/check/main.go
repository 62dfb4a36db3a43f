package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/stepmon/stepmon/internal/awssecret"
	"github.com/stepmon/stepmon/internal/checks"
	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/lambdas/internal/lambdaenv"
)

func main() { os.Exit(lambdaenv.Main("check", os.Stderr, os.Getenv, run)) }

func run(ctx context.Context, getenv func(string) string) error {
	tasks, err := newTasks(ctx, getenv, os.Stderr)
	if err != nil {
		return err
	}
	// How late each check is invoked, as a metric (CheckLateness), for
	// the stack's ChecksLateAlarm: on standard output, where AWS
	// documents embedded-metric lines of a function's log.
	metrics := lambdaenv.NewMetrics(os.Stdout, getenv)
	lambda.Start(monitor.LogTaskErrors(tasks.Logger, "check", lambdaenv.RecordCheckLateness(metrics, time.Now, tasks.Check)))
	return nil
}

// newTasks builds the clients once, outside the handler; the function's
// log records go to logw.
func newTasks(ctx context.Context, getenv func(string) string, logw io.Writer) (*monitor.Tasks, error) {
	table := getenv("TABLE_NAME")
	if table == "" {
		return nil, errors.New("TABLE_NAME is not set")
	}
	egressOpts, err := lambdaenv.EgressOptions(getenv)
	if err != nil {
		return nil, err
	}
	// Its calls (DynamoDB, Secrets Manager) answer in well under a
	// second: each attempt is bounded.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(lambdaenv.AWSHTTPClient(lambdaenv.AWSAttemptTimeout)))
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	logger := lambdaenv.NewLogger(logw, getenv)
	ghOpts := checks.GitHubOptions{BaseURL: getenv("GITHUB_API_URL"), Logger: logger}
	if arn := getenv("GITHUB_TOKEN_SECRET_ARN"); arn != "" {
		// Cached for awssecret.DefaultTTL, and read again at the next
		// check after GitHub rejects it (a rotated token).
		secret := awssecret.New(secretsmanager.NewFromConfig(cfg), arn, 0)
		ghOpts.Token, ghOpts.TokenRejected = secret.Value, secret.Invalidate
	}
	github, err := checks.NewGitHub(ghOpts)
	if err != nil {
		return nil, fmt.Errorf("github checker: %w", err)
	}
	// The guard logs a refused target's address, which the monitor's
	// detail leaves out for a name.
	egressOpts.Logger = logger
	guard := egress.New(egressOpts)
	return &monitor.Tasks{
		Store: dynamostore.New(dynamodb.NewFromConfig(cfg), table),
		Checkers: map[string]monitor.Checker{
			monitor.TargetGitHub:    github,
			monitor.TargetHTTP:      checks.NewHTTPJob(checks.HTTPJobOptions{Client: guard.Client(0)}),
			monitor.TargetSimulated: checks.Simulated{},
		},
		Clock:  monitor.SystemClock,
		Logger: logger,
	}, nil
}
