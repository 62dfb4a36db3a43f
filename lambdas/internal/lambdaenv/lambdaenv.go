package lambdaenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
)

// Environment variables read here.
const (
	// AlertTopicVar holds the stack's own alert topic.
	AlertTopicVar = "ALERT_TOPIC_ARN"
	// AlertTopicsVar holds further topics monitors may alert to,
	// comma-separated.
	AlertTopicsVar = "ALERT_TOPIC_ARNS"
	// LogLevelVar is the application log level Lambda sets when the
	// function logs in JSON (TRACE, DEBUG, INFO, WARN, ERROR or FATAL).
	LogLevelVar = "AWS_LAMBDA_LOG_LEVEL"
	// AllowPrivateTargetsVar, when true, lets HTTP targets and webhooks
	// reach loopback, private and link-local addresses.
	AllowPrivateTargetsVar = "ALLOW_PRIVATE_TARGETS"
	// AllowedTargetPrefixesVar holds address prefixes (CIDR,
	// comma-separated) that HTTP targets and webhooks may reach although
	// they are private, e.g. a VPC's subnets.
	AllowedTargetPrefixesVar = "ALLOWED_TARGET_PREFIXES"
)

// AWSAttemptTimeout bounds one attempt of the functions' DynamoDB and Step
// Functions calls, connecting included. Those calls answer in well under
// a second; the bound keeps a hung connection from using a function's
// whole timeout (the start function's 15 s), so that the SDK's retryer can
// try again and the function still has time to clean up.
const AWSAttemptTimeout = 3 * time.Second

// AWSHTTPClient returns an HTTP client for AWS SDK clients whose every
// attempt ends after attempt: a timed-out attempt is a connection error,
// which the SDK's retryer retries.
func AWSHTTPClient(attempt time.Duration) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTimeout(attempt)
}

// AllowPrivateTargets reads ALLOW_PRIVATE_TARGETS: false when it is unset,
// else the boolean it spells (strconv.ParseBool). Any other value is an
// error, so that a typo stops the function at start-up instead of quietly
// meaning false.
func AllowPrivateTargets(getenv func(string) string) (bool, error) {
	v := getenv(AllowPrivateTargetsVar)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: not a boolean (true or false)", AllowPrivateTargetsVar, v)
	}
	return b, nil
}

// EgressOptions returns the options of the guard that HTTP checks and
// webhook alerts dial through: AllowPrivate from ALLOW_PRIVATE_TARGETS
// (AllowPrivateTargets), Allow from the comma-separated prefixes of
// ALLOWED_TARGET_PREFIXES. A prefix that does not parse, or that
// egress.CheckAllow refuses (it overlaps loopback or link-local), is an
// error, so that the function stops at start-up instead of opening them.
func EgressOptions(getenv func(string) string) (egress.Options, error) {
	var opts egress.Options
	allowPrivate, err := AllowPrivateTargets(getenv)
	if err != nil {
		return opts, err
	}
	opts.AllowPrivate = allowPrivate
	for _, f := range strings.Split(getenv(AllowedTargetPrefixesVar), ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return opts, fmt.Errorf("%s: %q is not a prefix (CIDR, e.g. 10.1.0.0/16)", AllowedTargetPrefixesVar, f)
		}
		if err := egress.CheckAllow(p); err != nil {
			return opts, fmt.Errorf("%s: %w", AllowedTargetPrefixesVar, err)
		}
		opts.Allow = append(opts.Allow, p)
	}
	return opts, nil
}

// AlertTopics returns the SNS topics monitors may alert to: ALERT_TOPIC_ARN
// and the comma-separated ALERT_TOPIC_ARNS. configured is false when both
// are unset; the list is then empty (it allows no topic). A value that is
// not a topic ARN is an error.
func AlertTopics(getenv func(string) string) (list *monitor.TopicAllowList, configured bool, err error) {
	one, more := getenv(AlertTopicVar), getenv(AlertTopicsVar)
	list, err = monitor.NewTopicAllowList(append([]string{one}, strings.Split(more, ",")...)...)
	if err != nil {
		return nil, false, fmt.Errorf("%s/%s: %w", AlertTopicVar, AlertTopicsVar, err)
	}
	return list, strings.TrimSpace(one+more) != "", nil
}

// Main is every function's main, without the process's edges: it makes
// the default logger NewLogger's on stderr (so that what is logged before
// run builds its own is JSON at the right level too, and the log
// package's lines, aws-lambda-go's, go there at WARN), calls run, which
// builds the clients once and starts the Lambda loop, and returns the exit
// code: 1 when run fails, after logging why, so that a function that
// cannot start fails its invocations with the reason instead of running
// half configured. name names the function in that log line. Each main
// passes os.Stderr and os.Getenv and exits with the code.
func Main(name string, stderr io.Writer, getenv func(string) string, run func(context.Context, func(string) string) error) int {
	slog.SetDefault(NewLogger(stderr, getenv))
	// The log package's lines are aws-lambda-go's: an invocation's error
	// as it reports it (a panic's included), and its warnings. At the
	// bridge's INFO a query for WARN and ERROR lines, or a function
	// logging at WARN, would miss them.
	slog.SetLogLoggerLevel(slog.LevelWarn)
	if err := run(context.Background(), getenv); err != nil {
		slog.Error(name+": start-up failed", "err", err)
		return 1
	}
	return 0
}

// NewLogger returns the logger every function uses: JSON lines on w (the
// function's stderr), at the level Lambda's logging configuration sets in
// AWS_LAMBDA_LOG_LEVEL, INFO when it is unset or unknown. Its records are
// JSON objects, as Lambda expects of a function whose log format is JSON,
// so CloudWatch filters them by level. A record logged with the context of
// an invocation carries its awsRequestId, Lambda's request id, as the
// function's START, END and REPORT lines do (the API's lines have their
// own requestId, API Gateway's, which its access log has).
func NewLogger(w io.Writer, getenv func(string) string) *slog.Logger {
	return slog.New(requestIDHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: LogLevel(getenv(LogLevelVar))})})
}

// requestIDHandler adds the invocation's request id (lambdacontext), as
// awsRequestId, to each record logged with its context.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		r.AddAttrs(slog.String("awsRequestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// LogLevel maps a Lambda application log level to a slog level: TRACE and
// DEBUG to Debug, WARN to Warn, ERROR and FATAL to Error, anything else to
// Info.
func LogLevel(lambdaLevel string) slog.Level {
	switch strings.ToUpper(strings.TrimSpace(lambdaLevel)) {
	case "TRACE", "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
