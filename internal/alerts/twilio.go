package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/stepmon/stepmon/internal/monitor"
)

// DefaultTwilioAPIURL is Twilio's REST API base URL.
const DefaultTwilioAPIURL = "https://api.twilio.com"

// MaxTwilioBody is the longest message body Twilio accepts, in characters
// as it counts them: UTF-16 code units.
const MaxTwilioBody = 1600

// TwilioCredentials authenticate to Twilio: an account SID with its auth
// token, or an API key SID and secret with AccountSID naming the account.
// They may name the sender too. Their JSON is that of the Secrets Manager
// secret: {"accountSid", "authToken", "from"}, plus "apiKeySid".
type TwilioCredentials struct {
	AccountSID string `json:"accountSid"`
	AuthToken  string `json:"authToken"`
	// APIKeySID, when set, is the basic-auth user and AuthToken its secret.
	APIKeySID string `json:"apiKeySid,omitempty"`
	// From, when set, is the sending number (E.164), Messaging Service
	// SID ("MG" and 32 hex digits) or alphanumeric sender id, in place of
	// TwilioOptions.From.
	From string `json:"from,omitempty"`
}

// TwilioOptions configures a Twilio sender.
type TwilioOptions struct {
	// Credentials supplies the credentials, and possibly the sender, per
	// send (Secrets Manager on Lambda, env vars locally); required. It is
	// called only when an SMS is sent, before the send is claimed (see
	// Prepare), and has Timeout, so a secret that cannot be read fails
	// that send (a transient error), not the sender's construction.
	// Never logged.
	Credentials func(ctx context.Context) (TwilioCredentials, error)
	// CredentialsRejected, when not nil, is called when Twilio answers
	// 401, so that cached credentials are read again for the next send
	// (awssecret.Cache.Invalidate): promoting a secondary auth token
	// revokes the old one at once. A 401 to credentials Twilio had not
	// rejected since they last worked fails the send with a transient
	// error, retried with the credentials read again; a 401 to the same
	// credentials again is permanent, the deployment's to fix (and the
	// send after the secret is fixed reads it). Nil: every 401 is
	// permanent.
	CredentialsRejected func()
	// From is the sending number (E.164), Messaging Service SID ("MG"
	// and 32 hex digits) or alphanumeric sender id used when the
	// credentials name none. A send with neither
	// fails with a permanent error.
	From string
	// BaseURL is the API's base URL; "" means DefaultTwilioAPIURL.
	BaseURL string
	// Client sends the requests; nil means a plain client. The API's host
	// is the operator's choice, so no egress guard is needed.
	Client *http.Client
	// Timeout bounds the credentials' read and, apart, the request of one
	// send; 0 means 15 seconds.
	Timeout time.Duration
}

// Twilio sends an alert as an SMS to Alert.Phone through Twilio's
// Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json).
type Twilio struct {
	opts TwilioOptions
	base string

	mu       sync.Mutex
	rejected [sha256.Size]byte // the fingerprint of the credentials last answered 401
}

var (
	_ monitor.Sender   = (*Twilio)(nil)
	_ monitor.Preparer = (*Twilio)(nil)
)

// NewTwilio returns a Twilio sender.
func NewTwilio(opts TwilioOptions) (*Twilio, error) {
	if opts.Credentials == nil {
		return nil, fmt.Errorf("alerts: twilio: no credentials provider")
	}
	base := strings.TrimRight(opts.BaseURL, "/")
	if base == "" {
		base = DefaultTwilioAPIURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("alerts: twilio: base URL %q must be an absolute http(s) URL", opts.BaseURL)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Timeout == 0 {
		opts.Timeout = 15 * time.Second
	}
	return &Twilio{opts: opts, base: base}, nil
}

// messagingServiceSID matches a Messaging Service SID, sent as
// MessagingServiceSid; any other sender is sent as From. An alphanumeric
// sender id ("MGM Grand" is one) has at most 11 characters.
var messagingServiceSID = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)

// twilioMessage is the part of Twilio's message resource we read.
type twilioMessage struct {
	SID          string  `json:"sid"`
	Status       string  `json:"status"`
	ErrorCode    *int    `json:"error_code"`
	ErrorMessage *string `json:"error_message"`
}

// twilioInputError reports whether Twilio refusing a message with HTTP
// status and error code blames the monitor's input rather than the
// deployment. A 400 is an invalid request, and of what the request
// carries only the 'To' number (and the body, from the monitor's
// template) is the caller's: Twilio answers 400 for every number it will
// not take (invalid, unreachable, a landline, unsubscribed, a region the
// account has not enabled, the sender's own number, a short code, an
// unverified number on a trial account), and adds such codes as carriers
// and regulations change. So a 400 blames the input unless its code is
// one of the few about the account, the sender or the form of the request
// (twilioDeploymentCode). Other statuses (401, 403, 404) are the account's.
// See https://www.twilio.com/docs/api/errors.
func twilioInputError(status, code int) bool {
	return status == http.StatusBadRequest && !twilioDeploymentCode(code)
}

// twilioDeploymentCode reports whether a Twilio error code is about the
// account, its credentials or the configured sender (From or the
// Messaging Service), or a request field that the sender always sets
// right: the deployment's to fix, whatever number a monitor names.
func twilioDeploymentCode(code int) bool {
	switch code {
	case 20003, // authentication failed
		20005, // account not active
		20008, // test credentials cannot reach the resource
		20404, // resource (the account, the service) not found
		21212, // invalid 'From' number
		21603, // 'From' is required
		21604, // 'To' is required (the sender always sets it)
		21606, // 'From' is not a message-enabled number of the account
		21617, // body over 1,600 characters (the sender cuts it)
		21659, // 'From' is not a Twilio number or sender id
		21660: // 'From' belongs to another account
		return true
	}
	// 21701-21712: the Messaging Service (MessagingServiceSid) is
	// missing, invalid or has no sender for the message.
	return code >= 21701 && code <= 21712
}

// twilioQueueFull is Twilio's error 21611: the sender has as many
// messages queued as it may. A 400, but one that clears as the queue
// drains, so the send is retried like a 429.
const twilioQueueFull = 21611

// twilioError is Twilio's error body.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Twilio sends alerts, and Tasks.Alert prepares it (reads its secret)
// before claiming the alert.
var (
	_ monitor.Sender   = (*Twilio)(nil)
	_ monitor.Preparer = (*Twilio)(nil)
)

// Send reads the credentials and sends msg.Text (cut to MaxTwilioBody
// UTF-16 units); it returns the message SID ("SM..."). It is Prepare and
// the prepared Send in one.
func (t *Twilio) Send(ctx context.Context, alert monitor.Alert, msg monitor.Message) (string, error) {
	return t.Prepare(ctx, alert).Send(ctx, alert, msg)
}

// Prepare reads the credentials, within Timeout, and returns the Sender
// that sends with them. When they cannot be read, its Send fails at once
// with a transient error and sends nothing.
func (t *Twilio) Prepare(ctx context.Context, alert monitor.Alert) monitor.Sender {
	if alert.Phone == "" {
		return failedSend{permanent("alerts: twilio: alert has no phone number")}
	}
	ctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	creds, err := t.opts.Credentials(ctx)
	if err != nil {
		return failedSend{transient("alerts: twilio: read credentials: %v", err)}
	}
	return preparedTwilio{t: t, creds: creds}
}

// preparedTwilio is a Twilio sender with its credentials read.
type preparedTwilio struct {
	t     *Twilio
	creds TwilioCredentials
}

// Send sends msg with the prepared credentials.
func (p preparedTwilio) Send(ctx context.Context, alert monitor.Alert, msg monitor.Message) (string, error) {
	return p.t.send(ctx, p.creds, alert, msg)
}

// send sends msg with creds.
func (t *Twilio) send(ctx context.Context, creds TwilioCredentials, alert monitor.Alert, msg monitor.Message) (string, error) {
	if creds.AccountSID == "" || creds.AuthToken == "" {
		return "", permanent("alerts: twilio: credentials lack the account SID or auth token")
	}
	from := creds.From
	if from == "" {
		from = t.opts.From
	}
	if from == "" {
		return "", permanent("alerts: twilio: no From number or Messaging Service SID, neither in the credentials nor configured")
	}
	form := url.Values{}
	form.Set("To", alert.Phone)
	if messagingServiceSID.MatchString(from) {
		form.Set("MessagingServiceSid", from)
	} else {
		form.Set("From", from)
	}
	form.Set("Body", truncateUTF16(msg.Text, MaxTwilioBody))

	ctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	endpoint := t.base + "/2010-04-01/Accounts/" + url.PathEscape(creds.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", permanent("alerts: twilio: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "stepmon")
	user := creds.AccountSID
	if creds.APIKeySID != "" {
		user = creds.APIKeySID
	}
	req.SetBasicAuth(user, creds.AuthToken)

	var wt writeTracker
	req = req.WithContext(wt.trace(ctx))
	resp, err := t.opts.Client.Do(req)
	if err != nil {
		return "", sendFailure("alerts: twilio", "the SMS may or may not have been sent", t.opts.Timeout, &wt, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusUnauthorized && t.opts.CredentialsRejected != nil {
		// Nothing was sent. The credentials are read again for the next
		// send, whatever this one's outcome: a secret fixed after a
		// second 401 is used at once, not when its cache expires.
		t.opts.CredentialsRejected()
		if t.firstRejection(creds) {
			return "", transient("alerts: twilio: HTTP 401: the credentials were rejected; they are read again for the next attempt")
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Twilio documents no Retry-After on its 429 (20429: back off
		// and retry); one in the answer is honoured all the same.
		var te twilioError
		if json.Unmarshal(body, &te) == nil && te.Message != "" {
			te.Message = oneLine([]byte(te.Message))
			if te.Code == twilioQueueFull {
				return "", withRetryAfter(transient("alerts: twilio: HTTP %d, error %d: %s", resp.StatusCode, te.Code, te.Message), resp.Header, time.Now())
			}
			err := byStatus(resp.StatusCode, twilioInputError(resp.StatusCode, te.Code), "alerts: twilio: HTTP %d, error %d: %s", resp.StatusCode, te.Code, te.Message)
			return "", withRetryAfter(err, resp.Header, time.Now())
		}
		err := byStatus(resp.StatusCode, false, "alerts: twilio: HTTP %d: %s", resp.StatusCode, oneLine(body))
		return "", withRetryAfter(err, resp.Header, time.Now())
	}
	t.accepted(creds)
	var m twilioMessage
	if err := json.Unmarshal(body, &m); err != nil || m.SID == "" {
		// Accepted, but we cannot tell which message: report it sent with
		// no id rather than risk a second SMS.
		return "twilio-" + strconv.Itoa(resp.StatusCode), nil
	}
	if m.Status == "failed" || m.Status == "undelivered" {
		detail := m.Status
		if m.ErrorMessage != nil {
			detail += ": " + oneLine([]byte(*m.ErrorMessage))
		}
		return m.SID, rejected("alerts: twilio: message %s %s", m.SID, detail)
	}
	return m.SID, nil
}

// firstRejection records that Twilio rejected creds and reports whether
// it had not rejected them since they last worked.
func (t *Twilio) firstRejection(creds TwilioCredentials) bool {
	fp := credentialsPrint(creds)
	t.mu.Lock()
	defer t.mu.Unlock()
	first := fp != t.rejected
	t.rejected = fp
	return first
}

// accepted records that Twilio took creds: a later 401 to them is a
// first rejection again (they were revoked since).
func (t *Twilio) accepted(creds TwilioCredentials) {
	fp := credentialsPrint(creds)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rejected == fp {
		t.rejected = [sha256.Size]byte{}
	}
}

// credentialsPrint is a fingerprint of creds, which keeps no secret.
func credentialsPrint(creds TwilioCredentials) [sha256.Size]byte {
	return sha256.Sum256([]byte(creds.AccountSID + "\x00" + creds.APIKeySID + "\x00" + creds.AuthToken))
}

// truncateUTF16 cuts s to at most n UTF-16 code units, the characters
// Twilio's body limit counts (an emoji is two), on a rune boundary, ending
// it with "…" (one unit) when it cuts.
func truncateUTF16(s string, n int) string {
	units := 0
	for _, r := range s {
		units += utf16.RuneLen(r)
	}
	if units <= n {
		return s
	}
	units = 0
	for i, r := range s {
		if units += utf16.RuneLen(r); units > n-1 {
			return s[:i] + "…"
		}
	}
	return s
}
