package alerts

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// A request that got no answer is transient while nothing of it was
// written (it can be sent again) and of unknown outcome once it was (the
// provider may have acted on it); a timeout says how long was waited, and
// no message repeats the request's URL, which may carry a webhook's
// secret path.
func TestSendFailure(t *testing.T) {
	urlErr := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://hooks.example/services/SECRET", Err: err}
	}
	written := &writeTracker{}
	written.wrote.Store(true)
	for _, tt := range []struct {
		name      string
		wt        *writeTracker
		err       error
		transient bool
		want      string
	}{
		{"timeout before the request was written", &writeTracker{}, urlErr(context.DeadlineExceeded), true,
			"webhook: no connection within 10s"},
		{"refused before the request was written", &writeTracker{}, urlErr(errors.New("connect: connection refused")), true,
			"webhook: connect: connection refused"},
		{"timeout after the request was written", written, urlErr(context.DeadlineExceeded), false,
			"webhook: no answer within 10s; the alert may or may not have been delivered"},
		{"connection lost after the request was written", written, urlErr(errors.New("connection reset by peer")), false,
			"webhook: connection reset by peer after the request was sent; the alert may or may not have been delivered"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := sendFailure("webhook", "the alert may or may not have been delivered", 10*time.Second, tt.wt, tt.err)
			var te *monitor.TransientError
			var ue *monitor.OutcomeUnknownError
			switch {
			case tt.transient && !errors.As(err, &te):
				t.Errorf("sendFailure = %T %v, want a *monitor.TransientError", err, err)
			case !tt.transient && !errors.As(err, &ue):
				t.Errorf("sendFailure = %T %v, want a *monitor.OutcomeUnknownError", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("sendFailure = %q\nwant %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("sendFailure = %q names the request's URL", err)
			}
		})
	}
}

// NewTwilio refuses options it could not send with.
func TestNewTwilioRefuses(t *testing.T) {
	creds := func(context.Context) (TwilioCredentials, error) { return TwilioCredentials{}, nil }
	for _, tt := range []struct {
		name string
		opts TwilioOptions
		want string
	}{
		{"no credentials", TwilioOptions{}, "alerts: twilio: no credentials provider"},
		{"a relative base URL", TwilioOptions{Credentials: creds, BaseURL: "api.twilio.com"}, `alerts: twilio: base URL "api.twilio.com" must be an absolute http(s) URL`},
		{"another scheme", TwilioOptions{Credentials: creds, BaseURL: "ftp://api.twilio.com"}, `alerts: twilio: base URL "ftp://api.twilio.com" must be an absolute http(s) URL`},
		{"no host", TwilioOptions{Credentials: creds, BaseURL: "https://"}, `alerts: twilio: base URL "https://" must be an absolute http(s) URL`},
		{"unparsable", TwilioOptions{Credentials: creds, BaseURL: "https://a b/"}, `alerts: twilio: base URL "https://a b/" must be an absolute http(s) URL`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tw, err := NewTwilio(tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("NewTwilio = %v, %v; want the error %q", tw, err, tt.want)
			}
		})
	}
	if _, err := NewTwilio(TwilioOptions{Credentials: creds}); err != nil {
		t.Errorf("NewTwilio with credentials and the default base URL = %v, want it made", err)
	}
}
