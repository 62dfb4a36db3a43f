package local

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
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

// newTwilioSender returns the sender of c, nil when c has no account SID.
// An incomplete configuration is known at once, so refused at once rather
// than at the first SMS.
func newTwilioSender(c TwilioConfig) (monitor.Sender, error) {
	if c.AccountSID == "" {
		return nil, nil
	}
	if c.From == "" {
		return nil, fmt.Errorf("local: twilio: an account SID but no From number or Messaging Service SID (serve reads it from TWILIO_FROM)")
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
			"to", firstOf(a.Phone, a.TopicArn), "subject", msg.Subject, "text", msg.Text, "messageId", id)
	}
	return id, err
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
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
