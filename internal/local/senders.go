package local

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/stepmon/stepmon/internal/alerts"
	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
)

// TwilioConfig sends SMS alerts with channel "twilio" through Twilio
// instead of the outbox.
type TwilioConfig struct {
	AccountSID string
	AuthToken  string
	From       string // E.164 number or Messaging Service SID
	BaseURL    string // "" means Twilio's API
}

// senders builds the alert senders: the outbox (alerts.Outbox on
// DATA/outbox.jsonl, and the log) for SNS and Twilio unless they are
// configured, webhooks through an egress guard that allows private
// addresses. It returns the outbox to close.
func (r *Runtime) senders() (map[string]monitor.Sender, *alerts.Outbox, error) {
	box, err := alerts.OpenOutbox(filepath.Join(r.cfg.DataDir, OutboxFile), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("local: open the alert outbox: %w", err)
	}
	outbox := loggedSender{Sender: box, log: r.log.With("component", "outbox")}
	s := map[string]monitor.Sender{
		monitor.ChannelSNS:    outbox,
		monitor.ChannelTwilio: outbox,
		monitor.ChannelWebhook: alerts.NewWebhook(alerts.WebhookOptions{
			Client: egress.New(egress.Options{AllowPrivate: true}).Client(0),
		}),
	}
	if r.cfg.SNSEndpoint != "" {
		s[monitor.ChannelSNS] = alerts.NewSNS(sns.New(sns.Options{
			Region:       r.cfg.awsRegion(),
			BaseEndpoint: aws.String(r.cfg.SNSEndpoint),
			Credentials:  r.cfg.awsCredentials(),
			HTTPClient:   &http.Client{Timeout: 30 * time.Second},
		}), alerts.SNSOptions{})
	}
	if r.twilio != nil {
		s[monitor.ChannelTwilio] = r.twilio
	}
	return s, box, nil
}

// newTwilioSender returns the sender of c, nil when c is empty. An
// incomplete configuration is known at once, so refused at once rather
// than at the first SMS (or never, its alerts going to the outbox
// unnoticed): see TwilioConfig.missing.
func newTwilioSender(c TwilioConfig) (monitor.Sender, error) {
	if c == (TwilioConfig{}) {
		return nil, nil
	}
	if missing, set := c.missing(); len(missing) > 0 {
		return nil, fmt.Errorf("local: twilio: incomplete configuration: missing %s (set: %s): set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM to send alerts with channel \"twilio\" through Twilio, or none of the TWILIO_* variables to write them to the outbox",
			strings.Join(missing, ", "), strings.Join(set, ", "))
	}
	creds := alerts.TwilioCredentials{AccountSID: c.AccountSID, AuthToken: c.AuthToken}
	tw, err := alerts.NewTwilio(alerts.TwilioOptions{
		From:    c.From,
		BaseURL: c.BaseURL,
		Credentials: func(context.Context) (alerts.TwilioCredentials, error) {
			return creds, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("local: twilio sender: %w", err)
	}
	return tw, nil
}

// missing returns the variables of serve's environment that c, not
// empty, lacks to send through Twilio (TWILIO_ACCOUNT_SID,
// TWILIO_AUTH_TOKEN, TWILIO_FROM), and those it has: names only, never
// a value.
func (c TwilioConfig) missing() (missing, set []string) {
	for _, v := range []struct {
		name     string
		value    string
		required bool
	}{
		{"TWILIO_ACCOUNT_SID", c.AccountSID, true},
		{"TWILIO_AUTH_TOKEN", c.AuthToken, true},
		{"TWILIO_FROM", c.From, true},
		{"TWILIO_API_URL", c.BaseURL, false},
	} {
		switch {
		case v.value != "":
			set = append(set, v.name)
		case v.required:
			missing = append(missing, v.name)
		}
	}
	return missing, set
}

// loggedSender logs each alert its Sender accepted: the outbox's alerts
// show in the server's log as well as in the file.
type loggedSender struct {
	monitor.Sender
	log *slog.Logger
}

// Send implements monitor.Sender.
func (s loggedSender) Send(ctx context.Context, a monitor.Alert, msg monitor.Message) (string, error) {
	id, err := s.Sender.Send(ctx, a, msg)
	if err == nil {
		s.log.InfoContext(ctx, "alert (local outbox)", "instanceId", msg.Data.InstanceID, "channel", a.ChannelOf(),
			"to", loggedDestination(a), "subject", msg.Subject, "text", msg.Text, "messageId", id)
	}
	return id, err
}

// loggedDestination is where an outbox alert went, as the log says it: a
// topic by its ARN, a phone number by its last four digits only. The
// number is in the outbox file; the log goes wherever logs go, and keeps
// no phone number, as the lines of failed sends keep none.
func loggedDestination(a monitor.Alert) string {
	if a.Phone == "" {
		return a.TopicArn
	}
	return "(phone ending " + a.Phone[max(0, len(a.Phone)-4):] + ")"
}

// awsRegion is the region of the AWS endpoints.
func (c Config) awsRegion() string { return firstOf(c.AWSRegion, localRegion) }

// awsCredentials are the static credentials for the AWS endpoints.
func (c Config) awsCredentials() aws.CredentialsProvider {
	if c.AWSAccessKeyID == "" {
		return credentials.NewStaticCredentialsProvider("local", "local", "")
	}
	return credentials.NewStaticCredentialsProvider(c.AWSAccessKeyID, c.AWSSecretAccessKey, "")
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
