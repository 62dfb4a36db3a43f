package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
)

// SNSPublisher is the part of *sns.Client that SNS uses.
type SNSPublisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

var _ SNSPublisher = (*sns.Client)(nil)

// SNSOptions configures an SNS sender.
type SNSOptions struct {
	// SMSType is AWS.SNS.SMS.SMSType for SMS: "Transactional" (the
	// default: delivered even to opted-in marketing blocks) or
	// "Promotional".
	SMSType string
	// SenderID is AWS.SNS.SMS.SenderID, where the destination supports one.
	SenderID string
	// Timeout bounds one send; 0 means 15 seconds.
	Timeout time.Duration
}

// SNS sends an alert through Amazon SNS: to Alert.TopicArn as a topic
// message with a Subject, or to Alert.Phone as an SMS. On a FIFO topic the
// instance id is the message group and the alert's idempotency key (hashed)
// the deduplication id, so SNS itself drops a second copy of one monitor's
// alert within its five-minute window, not the alert of a later monitor
// of the same id.
//
// A topic is published to in its own region (the region of its ARN), which
// need not be the client's: SNS answers a Publish only in the topic's
// region, and refuses a topic of another one (400 InvalidParameter). The
// client's region is overridden for that call; its credentials, HTTP
// client and endpoint setting (BaseEndpoint, for a local SNS) stay. SMS
// goes through the client's region.
//
// It makes exactly one attempt per Send (the SDK's retryer is replaced by
// aws.NopRetryer for the call).
type SNS struct {
	client SNSPublisher
	opts   SNSOptions
}

var _ monitor.Sender = (*SNS)(nil)

// NewSNS returns an SNS sender around a client built once by main (on
// Lambda with the function's role; locally against an endpoint).
func NewSNS(client SNSPublisher, opts SNSOptions) *SNS {
	if opts.SMSType == "" {
		opts.SMSType = "Transactional"
	}
	if opts.Timeout == 0 {
		opts.Timeout = 15 * time.Second
	}
	return &SNS{client: client, opts: opts}
}

// Send publishes msg once and returns SNS's message id.
func (s *SNS) Send(ctx context.Context, alert monitor.Alert, msg monitor.Message) (string, error) {
	in := &sns.PublishInput{Message: aws.String(msg.Text)}
	dest := ""
	switch {
	case alert.TopicArn != "":
		dest = alert.TopicArn
		in.TopicArn = aws.String(alert.TopicArn)
		if subj := snsSubject(msg.Subject); subj != "" {
			in.Subject = aws.String(subj)
		}
		if strings.HasSuffix(alert.TopicArn, ".fifo") {
			in.MessageGroupId, in.MessageDeduplicationId = fifoIDs(msg)
		}
	case alert.Phone != "":
		dest = alert.Phone
		in.PhoneNumber = aws.String(alert.Phone)
		in.Message = aws.String(monitor.TruncateBytes(msg.Text, MaxSMSBytes))
		in.MessageAttributes = map[string]snstypes.MessageAttributeValue{
			"AWS.SNS.SMS.SMSType": {DataType: aws.String("String"), StringValue: aws.String(s.opts.SMSType)},
		}
		if s.opts.SenderID != "" {
			in.MessageAttributes["AWS.SNS.SMS.SenderID"] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s.opts.SenderID)}
		}
	default:
		return "", permanent("alerts: sns: alert has neither topicArn nor phone")
	}
	if msg.Text == "" {
		return "", permanent("alerts: sns: empty message")
	}

	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	optFns := []func(*sns.Options){func(o *sns.Options) { o.Retryer = aws.NopRetryer{} }}
	if r := topicRegion(alert.TopicArn); r != "" {
		optFns = append(optFns, func(o *sns.Options) { o.Region = r })
	}
	var wt writeTracker
	out, err := s.client.Publish(wt.trace(ctx), in, optFns...)
	if err != nil {
		return "", classifySNS(dest, alert.TopicArn == "", s.opts.Timeout, wt.written(), err)
	}
	return aws.ToString(out.MessageId), nil
}

// fifoIDs returns the message group and deduplication ids of msg on a
// FIFO topic: the group is the instance id, the deduplication id the
// SHA-256 (hex, within SNS's 128 characters) of the alert's idempotency key
// (monitor.AlertKey), the same on every attempt of one monitor's alert and
// another for a later monitor that reuses the instance id, whose alert SNS
// would otherwise drop as a duplicate within its five-minute window and
// still answer with a message id. Without a key (a message built by hand)
// it falls back to the instance id.
func fifoIDs(msg monitor.Message) (group, dedup *string) {
	id := msg.Data.InstanceID
	if id == "" {
		id = "stepmon"
	}
	key := msg.IdempotencyKey
	if key == "" {
		key = id
	}
	sum := sha256.Sum256([]byte(key))
	return aws.String(id), aws.String(hex.EncodeToString(sum[:]))
}

// classifySNS maps a Publish failure to a transient or permanent error, or
// to an *monitor.OutcomeUnknownError when no answer came and SNS may have
// taken the message: after a timeout (whether or not the request was seen
// written: the SDK's transport is not always net/http's) or a connection
// lost once the request was written, or a 2xx answer that could not be
// read. Standard topics and SMS do not drop duplicates. SNS refusing the
// phone number as an invalid parameter blames the monitor's alert (see
// rejected).
func classifySNS(dest string, phone bool, timeout time.Duration, written bool, err error) error {
	var apiErr smithy.APIError
	code, message := "", ""
	if errors.As(err, &apiErr) {
		code, message = apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	byInput := phone && code == "InvalidParameter" && namesPhoneNumber(message)
	switch code {
	case "Throttling", "ThrottlingException", "Throttled", "InternalError", "InternalFailure", "ServiceUnavailable",
		"KMSThrottling", "KMSThrottlingException", "RequestTimeout":
		return transient("alerts: sns: publish to %s: %s: %s", dest, code, message)
	}
	switch {
	case status >= 200 && status < 300:
		// SNS took the message; its answer was cut off, garbled or
		// late, so the message id is lost, not the message.
		return unknownOutcome("alerts: sns: publish to %s: HTTP %d, but the answer could not be read (%s); the message was most likely sent", dest, status, short(err))
	case status != 0:
		return byStatus(status, byInput, "alerts: sns: publish to %s: HTTP %d %s: %s", dest, status, code, message)
	case egress.IsTimeout(err):
		return unknownOutcome("alerts: sns: publish to %s: no answer within %v; the message may or may not have been sent", dest, timeout)
	case code != "" && byInput:
		return rejected("alerts: sns: publish to %s: %s: %s", dest, code, message)
	case code != "":
		return permanent("alerts: sns: publish to %s: %s: %s", dest, code, message)
	case written:
		return unknownOutcome("alerts: sns: publish to %s: %v after the request was sent; the message may or may not have been sent", dest, err)
	}
	// No answer at all: a network failure or missing credentials.
	return transient("alerts: sns: publish to %s: %v", dest, err)
}

// namesPhoneNumber reports whether an SNS InvalidParameter message is
// about the phone number ("Invalid parameter: PhoneNumber Reason: ... is
// not valid to publish to"; moto_server says "Phone number does not meet
// the E164 format"). SNS answers the same code for the SMS attributes (a
// sender id, an SMS type), which are the deployment's.
func namesPhoneNumber(message string) bool {
	m := strings.ToLower(message)
	return strings.Contains(m, "phonenumber") || strings.Contains(m, "phone number")
}

// topicRegion returns the region of the SNS topic ARN topicArn, or "" when
// it is not a topic ARN with a region (left for SNS to refuse).
func topicRegion(topicArn string) string {
	a, err := arn.Parse(topicArn)
	if err != nil || a.Service != "sns" {
		return ""
	}
	return a.Region
}

// MaxSMSBytes is the longest SMS SNS sends; longer texts are cut.
const MaxSMSBytes = 1600

// snsSubject makes an SNS topic Subject: ASCII, no control characters,
// fewer than 100 characters, not starting with a space.
func snsSubject(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r > unicode.MaxASCII || unicode.IsControl(r):
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
		if b.Len() >= 99 {
			break
		}
	}
	return strings.TrimSpace(b.String())
}
