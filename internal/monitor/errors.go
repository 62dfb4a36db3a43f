package monitor

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies an error for callers that must react to it: the HTTP layer
// maps each kind to one status code, the workflow maps some to retries.
type Kind string

// Error kinds.
const (
	KindInvalid     Kind = "invalid"      // bad input; nothing was changed
	KindNotFound    Kind = "not_found"    // no such monitor
	KindConflict    Kind = "conflict"     // the instance id is taken
	KindGone        Kind = "gone"         // the monitor has already finished
	KindUnavailable Kind = "unavailable"  // a dependency failed transiently; retry
	KindTooLarge    Kind = "too_large"    // the request body is over the limit
	KindInternal    Kind = "internal"     // a bug or an unexpected failure
	KindRateLimited Kind = "rate_limited" // the caller or a target asked us to slow down
)

// Error is the domain's error: a kind, the operation that failed, a message
// meant for the API caller, and optionally the cause and per-field problems.
type Error struct {
	Kind    Kind
	Op      string       // e.g. "start", "dynamostore: put"
	Message string       // safe to show to the caller
	Fields  []FieldError // validation problems, in input order
	Err     error        // the underlying cause, if any
}

// FieldError names one invalid field of a request and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(" ")
		b.WriteString(f.Problem)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error of the given kind around err.
func WrapError(kind Kind, op string, err error, message string) *Error {
	return &Error{Kind: kind, Op: op, Message: message, Err: err}
}

// KindOf reports the kind of err: the kind of the first *Error in its chain,
// KindInternal for any other non-nil error, and "" for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// IsKind reports whether err is of the given kind.
func IsKind(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }

// MessageOf returns the caller-safe message of err: the message of its first
// *Error (with field problems), or a generic text for anything else, so that
// internal details never reach an API response.
func MessageOf(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return "internal error"
	}
	if e.Kind == KindInternal {
		return "internal error"
	}
	msg := e.Message
	for i, f := range e.Fields {
		if i == 0 {
			msg += ": "
		} else {
			msg += "; "
		}
		msg += f.Field + " " + f.Problem
	}
	return msg
}

// The errors below cross the Lambda boundary. aws-lambda-go names a returned
// error after its Go type, and Step Functions Retry and Catch match on that
// name, so handlers return these unwrapped (never through fmt.Errorf("%w")).

// TransientError is returned by a task handler when a retry may succeed (a
// store or network dependency is briefly unavailable). The state machine
// retries it with backoff.
type TransientError struct {
	Message string
	// Input reports that what failed is the monitor's own destination (a
	// caller's webhook that answers 503 or does not resolve), not the
	// deployment. The alert task has the state machine retry it by a
	// Wait, not as a function error (TaskInput.RetryByWait), and ends
	// such a monitor as Failed on the last retry (AlertTransientRetries),
	// rather than fail the execution.
	Input bool
	// RetryAfter, when positive, is how long the failing party asked to
	// be left alone before the next attempt (an HTTP Retry-After). The
	// alert task sends again no sooner: after a pause in its run, or a
	// longer wait of the state machine (see Tasks.Alert).
	RetryAfter time.Duration
}

func (e *TransientError) Error() string { return e.Message }

// PermanentError is returned when retrying cannot help. Returned by a task
// handler, it is a fault of the deployment or of the state (a channel not
// configured, a corrupt state): the state machine catches it, records the
// failure and fails, and the operator alarms see it.
//
// A checker or a sender marks with Input a failure of the monitor's own
// input (a repository that does not exist, an address the deployment
// refuses, a webhook that rejects the alert). The check and alert tasks
// then end that monitor as Failed themselves and return no error: one
// user's mistake is that monitor's outcome, not an error of the service,
// and does not raise the functions' error or the failed-execution alarms.
type PermanentError struct {
	Message string
	// Input reports that the monitor's input is at fault, not the
	// deployment.
	Input bool
}

func (e *PermanentError) Error() string { return e.Message }

// InputError returns a *PermanentError marked as the fault of the
// monitor's input, formatted as fmt.Sprintf does.
func InputError(format string, args ...any) error {
	return &PermanentError{Message: fmt.Sprintf(format, args...), Input: true}
}

// inputFailure returns the *PermanentError in err's chain that blames the
// monitor's input, if there is one.
func inputFailure(err error) (*PermanentError, bool) {
	var pe *PermanentError
	if errors.As(err, &pe) && pe.Input {
		return pe, true
	}
	return nil, false
}

// OutcomeUnknownError is returned by a Sender when the provider may have
// accepted the message though the sender cannot tell: the request was
// written and no answer came back (a timeout, a connection lost). Sending
// again could deliver the alert twice, so the alert task does not; it
// finishes the monitor with the alert's outcome "unknown". A failure
// before the request was written (a refused connection, a name that does
// not resolve) is a *TransientError, safe to try again. The alert task
// never returns this error to the state machine.
type OutcomeUnknownError struct{ Message string }

func (e *OutcomeUnknownError) Error() string { return e.Message }

// TaskError converts err into the error a task handler should return: nil
// stays nil, *TransientError and *PermanentError pass through unwrapped,
// KindUnavailable and KindRateLimited become *TransientError and every other
// kind becomes *PermanentError, so that the error name Step Functions sees
// is always one the state machine matches.
//
// The message stays the whole error text, causes and all: it is the Lambda
// error's errorMessage, which Step Functions keeps in the execution's
// history and its Fail state's cause, read by operators (with
// states:GetExecutionHistory, DescribeExecution) looking into a failed
// execution, and which the status function logs when it records the
// failure. It never reaches API callers: the record's detail names only the
// error (see describeFailure), and API answers carry MessageOf.
func TaskError(err error) error {
	if err == nil {
		return nil
	}
	var te *TransientError
	if errors.As(err, &te) {
		return te
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return pe
	}
	switch KindOf(err) {
	case KindUnavailable, KindRateLimited:
		return &TransientError{Message: err.Error()}
	default:
		return &PermanentError{Message: err.Error()}
	}
}
