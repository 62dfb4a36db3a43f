package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
)

// Webhook headers.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256, keyed with
	// the webhook secret, of TimestampHeader's value, a ".", and the body.
	SignatureHeader = "X-Stepmon-Signature"
	// TimestampHeader carries the send time in Unix seconds; receivers
	// should reject old timestamps to stop replays.
	TimestampHeader = "X-Stepmon-Timestamp"
	// IdempotencyHeader carries the message's IdempotencyKey (see
	// monitor.AlertKey: "{instanceId}@{start}"), or the instance id for
	// a message without one: a monitor sends one alert, so a receiver
	// that sees a key twice can drop the second, and a later monitor of
	// the same instance id sends another key.
	IdempotencyHeader = "Idempotency-Key"
)

// WebhookPayload is the JSON body a Webhook posts. Text makes it a valid
// Slack incoming-webhook message: the message's WebhookText, whose values
// from the alert data are escaped as Slack asks (Text when it has none);
// the other fields are for programs, Data's values as they are.
type WebhookPayload struct {
	Text       string `json:"text"`
	Subject    string `json:"subject"`
	InstanceID string `json:"instanceId"`
	// IdempotencyKey is IdempotencyHeader's value again, in the body, so
	// that the signature covers it: a receiver that verifies signatures
	// drops repeated keys by this one, which a replay of a signed request
	// cannot change, not by the header, which it can.
	IdempotencyKey string            `json:"idempotencyKey,omitempty"`
	Data           monitor.AlertData `json:"data"`
}

// WebhookOptions configures a Webhook sender.
type WebhookOptions struct {
	// Client sends the requests. nil means a client that dials through a
	// strict egress.Guard (the AWS configuration). Redirects are never
	// followed, whatever the client says.
	Client *http.Client
	// Secret, when set, signs every request (SignatureHeader). It is a
	// func so that main can read it from Secrets Manager and rotate it.
	Secret func(ctx context.Context) ([]byte, error)
	// Timeout bounds one send; 0 means 10 seconds.
	Timeout time.Duration
	// Clock stamps TimestampHeader; nil means the system clock.
	Clock monitor.Clock
}

// Webhook posts alerts to Alert.WebhookURL.
type Webhook struct {
	client  *http.Client
	secret  func(ctx context.Context) ([]byte, error)
	timeout time.Duration
	clock   monitor.Clock
}

var (
	_ monitor.Sender   = (*Webhook)(nil)
	_ monitor.Preparer = (*Webhook)(nil)
	_ monitor.Sender   = preparedWebhook{}
)

// NewWebhook returns a Webhook sender.
func NewWebhook(opts WebhookOptions) *Webhook {
	c := opts.Client
	if c == nil {
		c = egress.New(egress.Options{}).Client(0)
	}
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w := &Webhook{client: &nc, secret: opts.Secret, timeout: opts.Timeout, clock: opts.Clock}
	if w.timeout == 0 {
		w.timeout = 10 * time.Second
	}
	if w.clock == nil {
		w.clock = monitor.SystemClock
	}
	return w
}

// Webhook sends alerts, and Tasks.Alert prepares it (reads its secret)
// before claiming the alert.
var (
	_ monitor.Sender   = (*Webhook)(nil)
	_ monitor.Preparer = (*Webhook)(nil)
)

// Send posts msg once. It returns the receiver's X-Request-Id (or
// Slack's x-slack-req-id) when there is one, else "webhook-{status}". It
// is Prepare and the prepared Send in one.
func (w *Webhook) Send(ctx context.Context, alert monitor.Alert, msg monitor.Message) (string, error) {
	return w.Prepare(ctx, alert).Send(ctx, alert, msg)
}

// Prepare reads the signing secret, when the webhook signs, within the
// timeout, and returns the Sender that posts with it. When it cannot be
// read, its Send fails at once with a transient error and sends nothing.
func (w *Webhook) Prepare(ctx context.Context, _ monitor.Alert) monitor.Sender {
	if w.secret == nil {
		return preparedWebhook{w: w}
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	secret, err := w.secret(ctx)
	if err != nil {
		return failedSend{transient("alerts: webhook: read secret: %v", err)}
	}
	return preparedWebhook{w: w, secret: secret}
}

// preparedWebhook is a webhook sender with its signing secret read (none:
// it does not sign).
type preparedWebhook struct {
	w      *Webhook
	secret []byte
}

// Send posts msg once, signed with the prepared secret.
func (p preparedWebhook) Send(ctx context.Context, alert monitor.Alert, msg monitor.Message) (string, error) {
	return p.w.send(ctx, p.secret, alert, msg)
}

// send posts msg once, signed with secret when it is not empty.
func (w *Webhook) send(ctx context.Context, secret []byte, alert monitor.Alert, msg monitor.Message) (string, error) {
	if alert.WebhookURL == "" {
		return "", permanent("alerts: webhook: alert has no webhookUrl")
	}
	text := msg.WebhookText
	if text == "" {
		text = msg.Text
	}
	key := msg.IdempotencyKey
	if key == "" {
		key = msg.Data.InstanceID
	}
	body, err := json.Marshal(WebhookPayload{Text: text, Subject: msg.Subject, InstanceID: msg.Data.InstanceID, IdempotencyKey: key, Data: msg.Data})
	if err != nil {
		return "", permanent("alerts: webhook: encode: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, alert.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return "", rejected("alerts: webhook: bad URL: %v", short(err))
	}
	// A connection of its own: net/http replays a request that carries an
	// Idempotency-Key when a reused connection breaks after it was sent,
	// which would deliver the alert twice and report one success. On a
	// fresh connection it never does, and a send is one attempt.
	req.Close = true
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stepmon")
	if key != "" {
		req.Header.Set(IdempotencyHeader, key)
	}
	signed := len(secret) > 0
	if signed {
		ts := strconv.FormatInt(w.clock.Now().Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(SignatureHeader, Sign(secret, ts, body))
	}

	host := req.URL.Host
	var wt writeTracker
	req = req.WithContext(wt.trace(ctx))
	resp, err := w.client.Do(req)
	if err != nil {
		var refused *egress.RefusedError
		if errors.As(err, &refused) {
			return "", rejected("alerts: webhook: %s", strings.TrimPrefix(refused.Error(), "egress: "))
		}
		// The receiver is the caller's: its failing to answer is the
		// monitor's, once the state machine's retries are spent.
		return "", ofDestination(sendFailure("alerts: webhook "+host, "the alert may or may not have been delivered", w.timeout, &wt, err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// The Location is shown as the webhook URL is, scheme and host
		// only: its path may hold the key of the webhook it points at.
		// (The guard's client drops a Location that is no URL.)
		to := "without a readable Location"
		if loc, err := resp.Location(); err == nil {
			to = "to " + monitor.RedactWebhookURL(loc.String())
		}
		return "", rejected("alerts: webhook %s answered HTTP %d redirect %s; configure the final URL", host, resp.StatusCode, to)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The receiver refusing the request is the alert's fault: the URL
		// is the caller's choice, and a caller must not be able to
		// raise the operators' alarms with one that answers 403. A
		// signed request's 401/403 may also mean a receiver without the
		// deployment's secret, which the detail says.
		hint := ""
		if signed && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			hint = " (a receiver that verifies stepmon's signature needs the deployment's webhook secret)"
		}
		// A receiver may quote the URL it was sent to (Express's
		// "Cannot POST /hooks/KEY"): its key must not reach the detail,
		// which every reader of the monitor sees.
		said := oneLine([]byte(monitor.RedactWebhookIn(alert.WebhookURL, string(snippet))))
		if said != "" {
			said = ": " + said
		}
		err := byStatus(resp.StatusCode, true, "alerts: webhook %s answered HTTP %d%s%s", host, resp.StatusCode, said, hint)
		return "", ofDestination(withRetryAfter(err, resp.Header, w.clock.Now()))
	}
	for _, h := range []string{"X-Request-Id", "X-Slack-Req-Id"} {
		if v := resp.Header.Get(h); v != "" {
			return v, nil
		}
	}
	return fmt.Sprintf("webhook-%d", resp.StatusCode), nil
}

// Sign returns the SignatureHeader value for a body sent at timestamp (the
// TimestampHeader value): "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a webhook request's signature in constant time and that
// its timestamp is within tolerance of now. Receivers use it; so do the
// tests.
func Verify(secret []byte, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("alerts: verify: bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("alerts: verify: timestamp %s is outside the %v tolerance", timestamp, tolerance)
	}
	if !hmac.Equal([]byte(signature), []byte(Sign(secret, timestamp, body))) {
		return errors.New("alerts: verify: signature mismatch")
	}
	return nil
}

// oneLine returns a receiver's answer (a webhook's or Twilio's body) as
// one line for a detail: white space collapsed, control and
// text-direction characters written as escapes (\u202e), as an HTTP check
// shows a status it did not expect, and at most 200 bytes. A receiver's
// text is shown to every reader of the monitor (the API, the dashboard):
// a right-to-left override in it made "stset lla" read "all tests".
func oneLine(b []byte) string {
	var sb strings.Builder
	for i, f := range strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")) {
		if i > 0 {
			sb.WriteByte(' ')
		}
		for _, r := range f {
			if monitor.BreaksText(r) {
				fmt.Fprintf(&sb, "\\u%04x", r)
				continue
			}
			sb.WriteRune(r)
		}
	}
	s := sb.String()
	if len(s) > 200 {
		// Cut on a character boundary.
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
