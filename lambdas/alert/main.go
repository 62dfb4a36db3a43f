package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/stepmon/stepmon/internal/alerts"
	"github.com/stepmon/stepmon/internal/awssecret"
	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/lambdas/internal/lambdaenv"
)

func main() { os.Exit(lambdaenv.Main("alert", os.Stderr, os.Getenv, run)) }

func run(ctx context.Context, getenv func(string) string) error {
	tasks, err := newTasks(ctx, getenv, os.Stderr)
	if err != nil {
		return err
	}
	lambda.Start(monitor.LogTaskErrors(tasks.Logger, "alert", tasks.Alert))
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
	// Always a list, empty when nothing is configured: this is the check
	// that keeps alerts to the deployment's topics when the role may
	// publish anywhere (direct SMS).
	topics, _, err := lambdaenv.AlertTopics(getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	logger := lambdaenv.NewLogger(logw, getenv)
	// The guard logs a refused webhook's address, which the alert's error
	// leaves out for a name.
	egressOpts.Logger = logger
	sm := secretsmanager.NewFromConfig(cfg)
	webhookOpts := alerts.WebhookOptions{Client: egress.New(egressOpts).Client(0)}
	if arn := getenv("WEBHOOK_SECRET_ARN"); arn != "" {
		secret := awssecret.New(sm, arn, 0)
		webhookOpts.Secret = func(ctx context.Context) ([]byte, error) {
			v, err := secret.Value(ctx)
			return []byte(v), err
		}
	}
	senders := map[string]monitor.Sender{
		monitor.ChannelSNS:     alerts.NewSNS(sns.NewFromConfig(cfg), alerts.SNSOptions{}),
		monitor.ChannelWebhook: alerts.NewWebhook(webhookOpts),
	}
	if arn := getenv("TWILIO_SECRET_ARN"); arn != "" {
		// Read when an SMS is sent, never here: a secret that cannot be
		// read at a cold start fails Twilio sends (transiently, so they
		// are retried), not the function and its other channels.
		secret := awssecret.New(sm, arn, 0)
		twilio, err := alerts.NewTwilio(alerts.TwilioOptions{
			Credentials: func(ctx context.Context) (alerts.TwilioCredentials, error) {
				var c alerts.TwilioCredentials
				v, err := secret.Value(ctx)
				if err != nil {
					return c, err
				}
				if err := json.Unmarshal([]byte(v), &c); err != nil {
					return c, fmt.Errorf("twilio secret %s is not JSON {accountSid, authToken, from}", arn)
				}
				return c, nil
			},
			// A token rotated since it was cached: read it again.
			CredentialsRejected: secret.Invalidate,
		})
		if err != nil {
			return nil, err
		}
		senders[monitor.ChannelTwilio] = twilio
	}
	// Only DynamoDB's attempts are bounded: an SNS send has its own
	// bound (one attempt of up to 15 s, whose timeout is an unknown
	// outcome, not a retry that could send twice), and awssecret bounds a
	// secret's read at 5 s.
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.HTTPClient = lambdaenv.AWSHTTPClient(lambdaenv.AWSAttemptTimeout)
	})
	return &monitor.Tasks{
		Store:       dynamostore.New(db, table),
		Senders:     senders,
		Clock:       monitor.SystemClock,
		Logger:      logger,
		AlertTopics: topics,
	}, nil
}
