package apienv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/stepfunctions"
	"github.com/stepmon/stepmon/lambdas/internal/lambdaenv"
)

// SMSChannelsVar lists the channels that can deliver the deployment's
// text messages ("sns", "twilio", comma-separated, or "none"); a start
// request for a phone alert on another channel is refused. Unset, start
// accepts every channel.
const SMSChannelsVar = "SMS_CHANNELS"

// MinIntervalVar is the shortest polling interval, in whole seconds, that
// a start request or a setInterval event may ask for in this deployment
// (monitor.API.MinIntervalSeconds); unset, the API's own minimum.
const MinIntervalVar = "MIN_POLLING_INTERVAL_SECONDS"

// ListIndexVar names the table's index that GET /monitors lists through:
// dynamostore.IndexName when unset, the index of earlier versions while
// a stack is upgraded (docs/deploy.md).
const ListIndexVar = "LIST_INDEX"

// NewHandler reads TABLE_NAME and STATE_MACHINE_ARN, builds the AWS clients
// once, and returns the API Gateway handler over them. fn names the
// function in errors; its log records go to logw. The continuation tokens
// of GET /monitors are keyed with the table's name, which every instance
// of the functions shares.
//
// ALERT_TOPIC_ARN and ALERT_TOPIC_ARNS (see lambdaenv.AlertTopics) are the
// SNS topics a start request may name as its alert; when both are unset,
// start accepts any topic and the alert function, which always checks,
// refuses the ones it does not allow. ALLOW_PRIVATE_TARGETS and
// ALLOWED_TARGET_PREFIXES, as the check and alert functions read them,
// decide whether a start refuses a target or webhook URL that names a
// private, loopback or link-local address or localhost: it refuses them
// unless private targets are allowed, or the address is in one of the
// allowed prefixes.
func NewHandler(ctx context.Context, fn string, getenv func(string) string, logw io.Writer) (*apigw.Handler, error) {
	table, smArn := getenv("TABLE_NAME"), getenv("STATE_MACHINE_ARN")
	if table == "" || smArn == "" {
		return nil, errors.New(fn + ": TABLE_NAME and STATE_MACHINE_ARN must be set")
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(lambdaenv.AWSHTTPClient(lambdaenv.AWSAttemptTimeout)))
	if err != nil {
		return nil, fmt.Errorf("%s: load AWS config: %w", fn, err)
	}
	logger := lambdaenv.NewLogger(logw, getenv)
	topics, configured, err := lambdaenv.AlertTopics(getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	if !configured {
		if fn == "start" {
			logger.WarnContext(ctx, "no alert topic allow-list: alert topics are checked when the alert is sent, not at start",
				"set", lambdaenv.AlertTopicVar+", "+lambdaenv.AlertTopicsVar)
		}
		topics = nil
	}
	egressOpts, err := lambdaenv.EgressOptions(getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	var sms monitor.SMSChannels
	if v := getenv(SMSChannelsVar); v != "" {
		if sms, err = monitor.ParseSMSChannels(v); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", fn, SMSChannelsVar, err)
		}
	}
	floor, err := minInterval(getenv(MinIntervalVar))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", fn, MinIntervalVar, err)
	}
	api := &monitor.API{
		Store:       dynamostore.New(dynamodb.NewFromConfig(cfg), table, dynamostore.WithListIndex(getenv(ListIndexVar))),
		Workflow:    stepfunctions.New(sfn.NewFromConfig(cfg), smArn),
		Clock:       monitor.SystemClock,
		Logger:      logger,
		AlertTopics: topics,
		SMSChannels: sms,
		PermitHost:  permitHost(egress.New(egressOpts)),

		MinIntervalSeconds: floor,
		// Every instance of the start and status functions shares the
		// table, so its name keys the continuation tokens' check; it
		// differs between deployments and is not meant to be secret.
		TokenKey: []byte("stepmon continuation token v1\x00" + table),
	}
	return apigw.NewHandler(api, logger), nil
}

// minInterval parses MinIntervalVar's value: "" is 0 (the API's own
// minimum), otherwise a whole number of seconds the API accepts as an
// interval.
func minInterval(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < monitor.MinIntervalSeconds || n > monitor.MaxIntervalSeconds {
		return 0, fmt.Errorf("want a whole number of seconds from %d to %d, got %q", monitor.MinIntervalSeconds, monitor.MaxIntervalSeconds, v)
	}
	return n, nil
}

// permitHost is the start's check of the hosts of target and webhook URLs
// (monitor.API.PermitHost): it refuses what guard, built as the check and
// alert functions build theirs, refuses without resolving a name; a
// refusal names the deployment's allowed prefixes when there are any.
func permitHost(guard *egress.Guard) func(host string) error {
	return func(host string) error {
		var re *egress.RefusedError
		if !errors.As(guard.PermitHost(host), &re) {
			return nil
		}
		return fmt.Errorf("must not name %s, a %s: %s", host, re.Reason, re.Policy())
	}
}
