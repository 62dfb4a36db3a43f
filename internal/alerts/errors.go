package alerts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
)

func transient(format string, args ...any) error {
	return &monitor.TransientError{Message: fmt.Sprintf(format, args...)}
}

func permanent(format string, args ...any) error {
	return &monitor.PermanentError{Message: fmt.Sprintf(format, args...)}
}

// rejected is a permanent failure caused by the monitor's alert itself (its
// webhook refuses it, its phone number is invalid): the monitor fails, the
// deployment is fine (see monitor.PermanentError).
func rejected(format string, args ...any) error {
	return monitor.InputError(format, args...)
}

// ofDestination marks err, when it is a *monitor.TransientError, as a
// failure of the monitor's own destination (see monitor.TransientError's
// Input) and returns it.
func ofDestination(err error) error {
	var te *monitor.TransientError
	if errors.As(err, &te) {
		te.Input = true
	}
	return err
}

// byStatus classifies an HTTP answer that is not a success: 504 is a
// gateway that gave up waiting for the receiver, which may have taken the
// request (an unknown outcome, never sent again); 408, 425, 429 and the
// other 5xx are the receiver not taking it, and may work later; every
// other status will not, and is the alert's own fault when byInput is
// true.
func byStatus(status int, byInput bool, format string, args ...any) error {
	switch {
	case status == http.StatusGatewayTimeout:
		return unknownOutcome("%s; a gateway gave up waiting for the answer, and the alert may or may not have been delivered", fmt.Sprintf(format, args...))
	case status == 408 || status == 425 || status == 429 || status >= 500:
		return transient(format, args...)
	case byInput:
		return rejected(format, args...)
	default:
		return permanent(format, args...)
	}
}

// maxRetryAfter bounds the wait a Retry-After asks for; the alert task
// waits far less (monitor.MaxAlertRetryAfter).
const maxRetryAfter = 24 * time.Hour

// withRetryAfter sets, when err is a *monitor.TransientError and the
// answer's header h has a Retry-After (delay seconds, or an HTTP date
// read against now; see egress.RetryAfter), how long it asked to wait
// (monitor.TransientError.RetryAfter), and returns err.
func withRetryAfter(err error, h http.Header, now time.Time) error {
	var te *monitor.TransientError
	if !errors.As(err, &te) {
		return err
	}
	if at, ok := egress.RetryAfter(h, now); ok {
		te.RetryAfter = min(max(at.Sub(now), 0), maxRetryAfter)
	}
	return err
}

// failedSend is the Sender a Prepare returns when the preparation failed:
// its Send returns err and sends nothing.
type failedSend struct{ err error }

func (f failedSend) Send(context.Context, monitor.Alert, monitor.Message) (string, error) {
	return "", f.err
}

func unknownOutcome(format string, args ...any) error {
	return &monitor.OutcomeUnknownError{Message: fmt.Sprintf(format, args...)}
}

// writeTracker notes whether a request has been written to the network,
// after which the provider may act on it whatever becomes of the answer.
type writeTracker struct{ wrote atomic.Bool }

// trace returns ctx with a trace that records the write. A request whose
// write failed part-way counts as written: the conservative choice, as a
// retry could deliver twice.
func (w *writeTracker) trace(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { w.wrote.Store(true) },
	})
}

// written reports whether the request was written, in full or in part.
func (w *writeTracker) written() bool { return w.wrote.Load() }

// sendFailure classifies a request to a provider that got no answer:
// prefix names the provider, outcome what may have happened ("the SMS may
// or may not have been sent"). Once the request was written the outcome
// is unknown, so the alert is not sent again; before that the failure is
// transient.
func sendFailure(prefix, outcome string, timeout time.Duration, wt *writeTracker, err error) error {
	switch {
	case wt.written() && egress.IsTimeout(err):
		return unknownOutcome("%s: no answer within %v; %s", prefix, timeout, outcome)
	case wt.written():
		return unknownOutcome("%s: %s after the request was sent; %s", prefix, short(err), outcome)
	case egress.IsTimeout(err):
		return transient("%s: no connection within %v", prefix, timeout)
	}
	return transient("%s: %s", prefix, short(err))
}

// short drops url.Error's repetition of the URL, which may carry a
// webhook's secret path.
func short(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
