package monitor

import (
	"context"
	"encoding/json"
	"time"
)

// Checker performs one check of a target. Implementations live in package
// checks; the check handler picks one by Target.Type.
type Checker interface {
	Check(ctx context.Context, req CheckRequest) (Observation, error)
}

// CheckRequest is one check of a target.
type CheckRequest struct {
	InstanceID string
	Target     Target
	// Number is this check's number, 1 for the first check of a monitor.
	Number int
	// Memo is what the previous check of this monitor returned in
	// Observation.Memo (an ETag, a cursor); nil for the first check.
	Memo json.RawMessage
}

// Observation is what a check saw.
type Observation struct {
	// Status is the job status: StatusRunning, StatusCompleted,
	// StatusFailed, StatusUnknown or StatusError.
	Status string
	// Done ends the monitor with Status as its final status.
	Done bool
	// ConditionMet sends the monitor's alert and ends it.
	ConditionMet bool
	OpenIssues   *int
	// Detail says in a sentence what was seen (recorded in the custom
	// status): "42 open issues", "status field missing", "HTTP 503".
	Detail string
	// NotBefore, when set, is the earliest time the next check may run
	// (a rate limit's reset time); the monitor waits at least until then.
	NotBefore time.Time
	// Memo is carried to the next check's CheckRequest.Memo.
	Memo json.RawMessage
	// Deferred reports that the check asked nothing (a rate limit that
	// another check met holds the target's API): the monitor keeps the
	// job status it had and its interval, which a backoff does not grow
	// for a deferral (a setInterval event still sets it). The check
	// counts as one all the same, and Detail says it was deferred.
	Deferred bool
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(ctx context.Context, req CheckRequest) (Observation, error)

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context, req CheckRequest) (Observation, error) {
	return f(ctx, req)
}

// Sender delivers an alert on one channel. Implementations live in package
// alerts.
type Sender interface {
	// Send delivers msg and returns the provider's message id. A
	// *TransientError (or KindUnavailable) means a later attempt may work
	// and cannot deliver the message twice; an *OutcomeUnknownError means
	// the provider may have accepted it, so it must not be sent again.
	Send(ctx context.Context, alert Alert, msg Message) (messageID string, err error)
}

// Preparer is a Sender with work to do before a send is claimed, such as
// reading credentials from a service that may not answer. Alert calls
// Prepare before each claim and sends with the Sender it returns, so that
// the work never runs while the claim says "sending": a crash or a
// timeout there would leave the alert reported "unknown", never sent.
// When the preparation fails, the returned Sender's Send returns the
// failure (such as a *TransientError) at once and sends nothing; Alert
// records it as any failed send, unless the alert needs no send (it was
// sent already, or the monitor was terminated).
type Preparer interface {
	Prepare(ctx context.Context, alert Alert) Sender
}

// Message is an alert's content.
type Message struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	// WebhookText is the text a webhook sends, a Slack message's: the
	// template run over the data's values escaped as Slack asks ("&",
	// "<", ">" as "&amp;", "&lt;", "&gt;"), its own text left as written.
	// Empty means Text.
	WebhookText string `json:"webhookText,omitempty"`
	// Data is the template's data, also sent as-is by webhook senders.
	Data AlertData `json:"data"`
	// IdempotencyKey identifies the alert of one monitor run (AlertKey):
	// the same on every attempt to send it, another for a later monitor
	// of the same instance id. Webhooks send it as their Idempotency-Key.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// Workflow starts and stops the executions that run monitors: Step
// Functions on AWS, the local engine under stepmon serve.
type Workflow interface {
	// Start starts an execution named name with the given input and
	// returns its ARN. An execution of that name that already exists is
	// KindConflict.
	Start(ctx context.Context, name string, input []byte) (executionArn string, err error)
	// Stop stops a running execution. Stopping one that has already
	// ended is KindGone.
	Stop(ctx context.Context, executionArn, errorName, cause string) error
}

// EndDescriber is a Workflow that can tell how an execution ended: the
// error and cause it failed or was stopped with. RecordExecutionEnd asks
// it when a status-change event carries neither.
type EndDescriber interface {
	DescribeEnd(ctx context.Context, executionArn string) (errorName, cause string, err error)
}

// Clock tells the time. Handlers take one so that tests control time.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// SystemClock is the real clock.
var SystemClock Clock = ClockFunc(time.Now)
