package monitor

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/deadline"
	"github.com/stepmon/stepmon/internal/pagetoken"
)

// API holds the operations of the monitor HTTP API: start, status, list,
// terminate, raise event and purge, plus RecordExecutionEnd for terminal
// states the workflow could not record itself. It is transport-neutral: the
// API Gateway adapter (package apigw) calls it on AWS and under stepmon
// serve alike.
//
// Every method validates its arguments before it changes anything, so a
// KindInvalid error means nothing was started or stored. Errors are *Error
// values whose messages are safe to show to the caller (see MessageOf).
type API struct {
	Store    Store
	Workflow Workflow
	// Clock defaults to SystemClock.
	Clock Clock
	// NewID generates instance ids for requests that name none; nil means
	// newInstanceID.
	NewID func() string
	// Retention is how long a finished record is kept (its PurgeAt); 0
	// means DefaultRetention.
	Retention time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// AlertTopics are the SNS topics Start accepts as alert.topicArn; nil
	// accepts every topic.
	AlertTopics *TopicAllowList
	// SMSChannels are the channels Start accepts for a phone alert; nil
	// accepts every channel.
	SMSChannels SMSChannels
	// PermitHost, when set, is asked about the host of an HTTP target's
	// url and of a webhookUrl (a name, or an IP literal without brackets);
	// Start refuses a host it returns an error for, with the error's text
	// as the field's problem. On AWS it refuses what the egress guard of
	// the check and alert functions would refuse without resolving a name:
	// private, loopback and link-local literals and localhost, which would
	// otherwise fail the first check or lose the alert when it fires. nil
	// permits every host (the local runtime).
	PermitHost func(host string) error
	// TokenKey keys the HMAC that List's continuation tokens carry, so
	// that a token List did not issue, an edited one, or one issued for a
	// query with other filters (see tokenScope) is refused. Every
	// instance serving one deployment's API must use the same key (on AWS,
	// one derived from the status table's name); nil means a built-in key.
	// It need not be secret: a token is only a position in a list that its
	// holder may read anyway, and the check catches made-up, edited and
	// other deployments' tokens, not a forger who knows the key.
	TokenKey []byte
	// MinIntervalSeconds is the shortest polling interval this deployment
	// accepts, at start and in a setInterval event; 0 means
	// MinIntervalSeconds (the package's). A STANDARD execution is billed
	// per state transition and a poll is three, so an operator bounds what
	// one monitor may cost and how much of the account's state-transition
	// quota it may take (docs/deploy.md).
	MinIntervalSeconds int
}

// Limits of the API's operations, documented in docs/api.md.
const (
	MaxReasonLen      = 256     // terminate reason, in characters
	MaxEventDataBytes = 1 << 10 // a raised event's JSON data
	// MaxEventsPerMonitor bounds the events a status record holds at a
	// time, so that it stays far below DynamoDB's 400 KB item limit: 100
	// events of at most 1 KiB. A record holds the events not consumed yet
	// and those the latest check to consume any took (kept for that check's
	// retries); a check that consumes events drops the ones consumed
	// before it, so the bound is not on what a monitor receives in its
	// life (see Store.ConsumeEvents).
	MaxEventsPerMonitor  = 100
	MaxContinuationToken = 4096 // an opaque List continuation token
	// MaxRetryAfterSeconds caps the Retry-After a start or status answer
	// suggests, whatever the polling interval.
	MaxRetryAfterSeconds = 60
)

// Execution statuses a workflow ends with, as Step Functions names them.
const (
	ExecutionSucceeded = "SUCCEEDED"
	ExecutionFailed    = "FAILED"
	ExecutionTimedOut  = "TIMED_OUT"
	ExecutionAborted   = "ABORTED"
)

// TerminateError is the error name given to StopExecution by Terminate.
const TerminateError = "Terminated"

var eventNameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// newInstanceID returns a random instance id: 32 lowercase hex digits.
func newInstanceID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand.Read crashes the program instead
	return hex.EncodeToString(b[:])
}

// ValidInstanceID reports whether id is a well-formed instance id: 1 to
// MaxInstanceIDLen letters, digits, '-' or '_'. Lookups accept any such id;
// a new monitor's id must also not end in a generation suffix (see
// HasGenerationSuffix).
func ValidInstanceID(id string) bool {
	return id != "" && len(id) <= MaxInstanceIDLen && instanceIDRe.MatchString(id)
}

// validEventName reports whether name is a well-formed event name: 1 to 64
// letters, digits, '-' or '_'.
func validEventName(name string) bool { return eventNameRe.MatchString(name) }

// EventNameProblems returns what is wrong with name as the name of a raised
// event, as RaiseEvent reports it in the field eventName: not well formed,
// or a name the checks understand in another case. None for a good name.
// Clients call it to refuse a name before sending it.
func EventNameProblems(name string) []string {
	var problems []string
	if !validEventName(name) {
		problems = append(problems, "must be 1 to 64 letters, digits, '-' or '_'")
	}
	if known := miscasedEventName(name); known != "" {
		problems = append(problems, "is not an event the checks understand (did you mean "+known+"? event names are case-sensitive)")
	}
	return problems
}

// miscasedEventName returns the event name the checks understand that
// name spells in another case ("complete" for "Complete"), or "". Other
// names are stored and shown but do nothing, so such a name would be a
// request that silently fails.
func miscasedEventName(name string) string {
	for _, known := range []string{EventComplete, EventSetInterval, EventCheckNow} {
		if name != known && strings.EqualFold(name, known) {
			return known
		}
	}
	return ""
}

// RetryAfterSeconds is how long a caller should wait before polling the
// status of a monitor with spec s: its polling interval, capped at
// MaxRetryAfterSeconds.
func RetryAfterSeconds(s Spec) int {
	return retryAfter(s.PollingIntervalSeconds)
}

// RetryAfterSeconds is how long a caller should wait before polling r's
// status again: the monitor's current polling interval, once a check has
// recorded it (a setInterval event or a backoff changes it), else the
// interval it started with; capped at MaxRetryAfterSeconds.
func (r Record) RetryAfterSeconds() int {
	if r.CustomStatus != nil && r.CustomStatus.IntervalSeconds > 0 {
		return retryAfter(r.CustomStatus.IntervalSeconds)
	}
	return RetryAfterSeconds(r.Input)
}

// retryAfter is the Retry-After for a polling interval of n seconds.
func retryAfter(n int) int {
	return min(max(n, 1), MaxRetryAfterSeconds)
}

func (a *API) now() time.Time {
	if a.Clock == nil {
		return stamp(time.Now())
	}
	return stamp(a.Clock.Now())
}

// stamp returns t as the API and the tasks record times: in UTC, to the
// microsecond, the finest precision every store keeps, so that one instant
// reads the same in every field of a status.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

func (a *API) retention() time.Duration {
	if a.Retention <= 0 {
		return DefaultRetention
	}
	return a.Retention
}

func (a *API) newID() string {
	if a.NewID == nil {
		return newInstanceID()
	}
	return a.NewID()
}

func invalidID(op, id string) error {
	return &Error{Kind: KindInvalid, Op: op, Message: "invalid instance id",
		Fields: []FieldError{{Field: "id", Problem: instanceIDFieldProblem(id)}}}
}

// instanceIDFieldProblem is the problem of id, an instance id in a path
// that is not well formed, with the id shown.
func instanceIDFieldProblem(id string) string {
	return fmt.Sprintf("must be 1 to %d letters, digits, '-' or '_', not %q", MaxInstanceIDLen, TruncateBytes(id, 80))
}

// storeErr wraps an error of the store (or the workflow) for the caller:
// not-found and gone get a message that names the monitor, the other kinds
// keep theirs.
func storeErr(op, id string, err error) error {
	switch kind := KindOf(err); kind {
	case KindNotFound:
		return WrapError(kind, op, err, fmt.Sprintf("no monitor with instance id %q", id))
	case KindGone:
		return WrapError(kind, op, err, fmt.Sprintf("monitor %q has already finished", id))
	case KindUnavailable:
		return WrapError(kind, op, err, "the status store is unavailable; retry later")
	case KindInternal:
		return WrapError(kind, op, err, "internal error")
	default:
		return WrapError(kind, op, err, MessageOf(err))
	}
}

// minInterval returns the shortest polling interval this deployment
// accepts.
func (a *API) minInterval() int {
	return max(a.MinIntervalSeconds, MinIntervalSeconds)
}

// floorProblem is the problem of an interval under a deployment's floor.
func floorProblem(floor int) string {
	return fmt.Sprintf("must be at least %d seconds in this deployment (and at most %d)", floor, MaxIntervalSeconds)
}

// checkIntervalFloor refuses a request whose polling interval, valid in
// itself, is shorter than the deployment's floor. An interval out of the
// API's own range is reported by ParseStartRequest instead.
func (a *API) checkIntervalFloor(op string, req StartRequest) error {
	n, floor := req.Spec.PollingIntervalSeconds, a.minInterval()
	if !validInterval(n) || n >= floor {
		return nil
	}
	return &Error{Kind: KindInvalid, Op: op, Message: "invalid request",
		Fields: []FieldError{{Field: fieldName(req.Shape, "pollingIntervalSeconds"), Problem: floorProblem(floor)}}}
}

// ParseStartRequest is the package's ParseStartRequest with this
// deployment's checks among the problems it lists: a topic that
// AlertTopics does not allow, a text message on a channel that
// SMSChannels lacks, a URL whose host PermitHost refuses. A caller thus learns every problem of a start request
// at once, in input order, not the deployment's after fixing the others.
// Start makes the same checks again.
func (a *API) ParseStartRequest(body []byte) (StartRequest, error) {
	return parseStartRequest(body, a.deploymentProblems)
}

// deploymentProblems returns the problems of req's alert with what this
// deployment can send: none for an alert with problems of its own, which
// are reported instead.
func (a *API) deploymentProblems(req StartRequest) []FieldError {
	hosts := append(fieldsOf(a.checkIntervalFloor("", req)), fieldsOf(checkHosts("", req, a.PermitHost))...)
	al := req.Spec.Alert
	if al == nil {
		return hosts
	}
	var own validator
	al.validate(&own, req.Shape)
	if len(own.fields) > 0 {
		return hosts
	}
	return append(append(hosts, fieldsOf(a.AlertTopics.checkAlertTopic("", req.Spec))...), fieldsOf(a.SMSChannels.checkPhoneChannel("", req))...)
}

// Start claims the request's instance id (or a generated one), starts the
// workflow execution named after it and records the execution's ARN. It
// returns the new record.
//
// A taken id is KindConflict and starts nothing. When the execution cannot
// be started the claim is deleted again, so that nothing is left half
// started, and the error is KindUnavailable (or KindConflict when Step
// Functions already has an execution of that name). A workflow call that
// got no answer (the caller went away, or the deadline passed) may have
// started the execution: when the Workflow is an ExecutionFinder and finds
// it, the monitor has started and its record is kept. The workflow must
// answer startCleanupReserve before ctx's deadline, so that the claim is
// released, and the error answered, before it.
func (a *API) Start(ctx context.Context, req StartRequest) (Record, error) {
	const op = "monitor: start"
	id := req.InstanceID
	if id == "" {
		id = a.newID()
	}
	if !ValidInstanceID(id) {
		return Record{}, invalidID(op, id)
	}
	if HasGenerationSuffix(id) {
		return Record{}, &Error{Kind: KindInvalid, Op: op, Message: "invalid request",
			Fields: []FieldError{{Field: "instanceId", Problem: generationSuffixProblem}}}
	}
	if err := a.AlertTopics.checkAlertTopic(op, req.Spec); err != nil {
		return Record{}, err
	}
	if err := a.SMSChannels.checkPhoneChannel(op, req); err != nil {
		return Record{}, err
	}
	if err := checkHosts(op, req, a.PermitHost); err != nil {
		return Record{}, err
	}
	if err := a.checkIntervalFloor(op, req); err != nil {
		return Record{}, err
	}
	now := a.now()
	spec := req.Spec
	if spec.JobID == "" {
		spec.JobID = id
	}
	rec := Record{
		InstanceID:      id,
		Name:            NameFor(spec),
		RuntimeStatus:   RuntimePending,
		Input:           spec,
		CreatedTime:     now,
		LastUpdatedTime: now,
		ExpiresAt:       spec.ExpiresAt(now),
	}
	input, err := json.Marshal(State{InstanceID: id, Generation: 0, StartedAt: now, ExpiresAt: rec.ExpiresAt, Spec: spec})
	if err != nil {
		return Record{}, WrapError(KindInternal, op, err, "internal error")
	}
	if stale, taken, err := a.claim(ctx, rec); err != nil {
		return a.notClaimed(ctx, rec, stale, taken, err)
	}
	wctx, cancel := deadline.Reserve(ctx, startCleanupReserve)
	arn, err := a.Workflow.Start(wctx, id, input)
	cancel()
	if err != nil && unanswered(ctx, err) {
		// The execution may have started and only the answer been
		// lost: look before releasing the claim, even when the caller
		// has gone away.
		cctx, cancel := deadline.Detached(ctx, answerReserve, cleanupTimeout)
		found, ok := a.startedAnyway(cctx, rec)
		cancel()
		if ok {
			arn, err = found, nil
		}
	}
	if err != nil {
		// Release the claim even when the caller has gone away; only
		// the claim: a record that has moved on belongs to an execution
		// that started after all.
		cctx, cancel := deadline.Detached(ctx, answerReserve, cleanupTimeout)
		got, ok := a.releaseAfterFailedStart(cctx, rec)
		cancel()
		if ok {
			return got, nil
		}
		if IsKind(err, KindConflict) {
			return Record{}, WrapError(KindConflict, op, err, fmt.Sprintf(
				"an execution named %q already exists; a name stays taken after its execution ends (90 days on AWS Step Functions, the --retention time under stepmon serve), so choose another instance id", id))
		}
		a.logger().ErrorContext(ctx, "start: workflow did not start", "instanceId", id, "err", err)
		return Record{}, WrapError(KindUnavailable, op, err, "the workflow could not be started; nothing was started, retry later")
	}
	rec.ExecutionArn = arn
	// Who started what: the access log has the request id, not the
	// instance id the path of a later terminate or purge names.
	a.logger().InfoContext(ctx, "monitor started", "instanceId", id, "executionArn", arn, "interval", rec.Input.PollingIntervalSeconds)
	// Recorded even when the caller has gone away (an execution found
	// after a call without an answer): the record then tells at once what
	// runs, and an execution terminated while starting is stopped. The
	// write names the claim's created time, so that it never records the
	// execution in a newer claim of the id (NotTheMonitor).
	sctx, cancelSet := deadline.Detached(ctx, answerReserve, cleanupTimeout)
	err = a.Store.SetExecution(sctx, id, rec.CreatedTime, arn, now)
	cancelSet()
	if err != nil {
		if IsKind(err, KindGone) {
			return a.stopTerminatedWhileStarting(ctx, rec), nil
		}
		// The execution runs and its first check records the ARN: the
		// monitor has started, so the request succeeded.
		a.logger().WarnContext(ctx, "start: could not record the execution ARN; the first check will",
			"instanceId", id, "executionArn", arn, "err", err)
	}
	return rec, nil
}

// notClaimed answers a start whose claim of rec's instance id failed
// (claim's stale, taken and err): KindConflict while another start of the
// id is under way (stale) or a monitor holds it, the monitor itself when
// the request repeats the start of a running one (repeats), or the
// store's error.
func (a *API) notClaimed(ctx context.Context, rec Record, stale time.Time, taken *Record, err error) (Record, error) {
	const op = "monitor: start"
	id := rec.InstanceID
	switch {
	case !stale.IsZero():
		return Record{}, WrapError(KindConflict, op, err, fmt.Sprintf(
			"a start of instance id %q is in progress (claimed at %s): the same start sent again in a few seconds, or GET of the id, "+
				"answers with the monitor it starts; if that start failed, the id can be started again from %s",
			id, stale.Add(-StaleClaimAge).Format(time.RFC3339), stale.Add(time.Second-time.Nanosecond).Truncate(time.Second).Format(time.RFC3339)))
	case IsKind(err, KindConflict):
		// The record that holds the id: claim's reading, or a reading
		// of it where claim had none to give.
		var old Record
		var gerr error
		if taken != nil {
			old = *taken
		} else {
			old, gerr = a.Store.Get(ctx, id)
		}
		if gerr == nil && repeats(rec, old) {
			a.logger().InfoContext(ctx, "start: a repeat of the start of a running monitor", "instanceId", id, "executionArn", old.ExecutionArn)
			return old, nil
		}
		msg := fmt.Sprintf("a monitor with instance id %q already exists", id)
		if gerr == nil && old.RuntimeStatus.Final() {
			msg += fmt.Sprintf(" and has finished (%s); its id stays taken, even after a purge, while its execution's name is kept (90 days on AWS Step Functions, the --retention time under stepmon serve), so choose another instance id", old.RuntimeStatus)
		}
		return Record{}, WrapError(KindConflict, op, err, msg)
	}
	return Record{}, storeErr(op, id, err)
}

// stopTerminatedWhileStarting stops the execution rec.ExecutionArn that
// a start began for a monitor terminated between its claim and the
// recording of the ARN (finished, or finished, purged and the id claimed
// again by another start): no record is the execution's monitor's, so it
// must not run on. It returns the record of the id when it is this
// start's claim (another monitor's is not the request's), else rec. A
// terminate's reason becomes the stop's cause, as when it stops a running
// monitor.
func (a *API) stopTerminatedWhileStarting(ctx context.Context, rec Record) Record {
	id, arn := rec.InstanceID, rec.ExecutionArn
	got, gerr := a.Store.Get(ctx, id)
	mine := gerr == nil && startedAs(got, rec.CreatedTime)
	cause := "terminated while starting"
	if mine && got.RuntimeStatus == RuntimeTerminated && got.Output != nil {
		if reason, ok := strings.CutPrefix(got.Output.Detail, terminatedDetail("")+": "); ok {
			cause = reason
		}
	}
	cctx, cancel := deadline.Detached(ctx, answerReserve, cleanupTimeout)
	serr := a.Workflow.Stop(cctx, arn, TerminateError, cause)
	cancel()
	if serr != nil && !IsKind(serr, KindGone) {
		a.logger().ErrorContext(ctx, "start: could not stop an execution terminated while starting",
			"instanceId", id, "executionArn", arn, "err", serr)
	}
	if mine {
		return got
	}
	return rec
}

// A start runs Workflow.Start startCleanupReserve before its caller's
// deadline (or halfway to it, when less than twice that is left), keeping
// the rest for the clean-up after a failed start: on Lambda nothing runs
// after the function's timeout. The clean-up (releasing the claim, or
// stopping an execution terminated while starting) runs even when the
// caller has gone away, until answerReserve before the deadline, so that
// the answer still goes out, and for at most cleanupTimeout, the bound
// when there is no deadline (stepmon serve). A conditional delete and a
// read take well under a second.
const (
	startCleanupReserve = 2 * time.Second
	answerReserve       = 250 * time.Millisecond
	cleanupTimeout      = 10 * time.Second
)

// StaleClaimAge is how old an unstarted claim must be before a start of
// the same instance id may take it over. A claim is unstarted while its
// record is Pending with no execution: between the start's claim and its
// StartExecution, or for ever when the start died in between (a Lambda
// timeout or crash, kill -9 of the local runtime). A start holds its claim
// for at most its function's timeout (15 s on AWS) or its client's (30 s
// locally), far less than this.
const StaleClaimAge = 5 * time.Minute

// ExecutionFinder is a Workflow that can look an execution up by name.
// Start uses it to tell a claim whose start died before StartExecution
// from one whose execution runs.
type ExecutionFinder interface {
	// FindExecution returns the execution named name; found is false
	// when there is none.
	FindExecution(ctx context.Context, name string) (x FoundExecution, found bool, err error)
}

// FoundExecution is an execution an ExecutionFinder found.
type FoundExecution struct {
	Arn string
	// StartedAt is when the execution started; zero when unknown.
	StartedAt time.Time
	// MonitorStartedAt is the start of the monitor that its input names
	// (State.StartedAt: its record's CreatedTime; MonitorStartOf); zero
	// when unknown.
	MonitorStartedAt time.Time
}

// MonitorStartOf returns the start of the monitor that an execution input
// (a State) names, or the zero time when the input names none that
// parses.
func MonitorStartOf(input string) time.Time {
	var st struct {
		StartedAt json.RawMessage `json:"startedAt"`
	}
	var at time.Time
	if json.Unmarshal([]byte(input), &st) != nil || json.Unmarshal(st.StartedAt, &at) != nil {
		return time.Time{}
	}
	return at.UTC()
}

// executionOf reports whether x may be rec's own execution: the one of
// the monitor its input names, when it names one (an earlier monitor of
// the same id, finished, purged and started again within clockSkew, has
// another start), or else one that started no more than clockSkew
// before the record was created (startedForRecord).
func executionOf(x FoundExecution, rec Record) bool {
	if !x.MonitorStartedAt.IsZero() {
		return startedAs(rec, x.MonitorStartedAt)
	}
	return startedForRecord(x.StartedAt, rec)
}

// claim creates rec, the claim of its instance id. A claim of the id that
// a dead start left behind is taken over: when it is StaleClaimAge old,
// MendClaim links it to its execution or releases it, and in the second
// case the id is claimed afresh. A younger unstarted claim is a start in
// progress: inProgressUntil is when it becomes stale. A conflict is
// KindConflict, with taken the record that holds the id when claim read it
// and left it as it was (nil when it did not, or mended it). The claim rec
// itself, met by a store client's retry of a create whose answer was lost,
// is no conflict (ownClaim).
func (a *API) claim(ctx context.Context, rec Record) (inProgressUntil time.Time, taken *Record, err error) {
	err = a.Store.Create(ctx, rec)
	if !IsKind(err, KindConflict) {
		return time.Time{}, nil, err
	}
	id := rec.InstanceID
	old, gerr := a.Store.Get(ctx, id)
	if gerr != nil {
		return time.Time{}, nil, err
	}
	if old.RuntimeStatus != RuntimePending || old.ExecutionArn != "" {
		return time.Time{}, &old, err
	}
	if ownClaim(old, rec) {
		a.logger().InfoContext(ctx, "start: the claim's create was applied although its answer was lost", "instanceId", id)
		return time.Time{}, nil, nil
	}
	finder, ok := a.Workflow.(ExecutionFinder)
	if !ok {
		return time.Time{}, nil, err
	}
	if stale := old.CreatedTime.Add(StaleClaimAge); rec.CreatedTime.Before(stale) {
		return stale, nil, err
	}
	mended, merr := MendClaim(ctx, a.Store, finder, old)
	if merr != nil {
		a.logger().WarnContext(ctx, "start: could not mend an old claim", "instanceId", id, "err", merr)
		return time.Time{}, nil, err
	}
	if mended != ClaimReleased {
		return time.Time{}, nil, err
	}
	a.logger().WarnContext(ctx, "start: took over a claim that a failed start left behind",
		"instanceId", id, "claimedAt", old.CreatedTime)
	return time.Time{}, nil, a.Store.Create(ctx, rec)
}

// repeats reports whether the start of rec repeats that of old, the
// monitor its instance id names: old has started (its execution is
// recorded) and not finished, with the same spec. A client whose answer
// was lost sends the start again and gets the monitor it started, as Step
// Functions answers a repeated StartExecution of a running execution with
// the same name and input, rather than a 409 that reads as another's
// monitor.
func repeats(rec, old Record) bool {
	return old.ExecutionArn != "" && !old.RuntimeStatus.Final() && old.Name == rec.Name && sameSpec(old.Input, rec.Input)
}

// ownClaim reports whether old, an unstarted claim, is the claim rec:
// created at the same microsecond (the stores' precision, see stamp) with
// the same spec. A second start of the same request at the same instant
// would pass too, and is harmless: its StartExecution of the same name and
// input returns the same execution.
func ownClaim(old, rec Record) bool {
	return old.CreatedTime.Equal(rec.CreatedTime) && old.Name == rec.Name && sameSpec(old.Input, rec.Input)
}

// sameSpec reports whether two specs are the same, as their JSON is.
func sameSpec(x, y Spec) bool {
	a, aerr := json.Marshal(x)
	b, berr := json.Marshal(y)
	return aerr == nil && berr == nil && bytes.Equal(a, b)
}

// ClaimMended is what MendClaim did with a claim.
type ClaimMended int

// What MendClaim did.
const (
	ClaimKept     ClaimMended = iota // the record moved on meanwhile
	ClaimLinked                      // the execution ran: its ARN is recorded
	ClaimReleased                    // no execution: the claim is gone
)

// MendClaim mends old, an unstarted claim (Pending, no execution) whose
// start has ended, with an execution or without: when finder finds the
// execution of its name, and it is old's (executionOf: its input names
// old's start, or it started when the claim was made or later), its ARN
// is recorded; otherwise the claim is released (store.ReleaseClaim), so
// that the id can be started again. Another execution belongs to an
// earlier monitor of the same id, purged while its execution is still
// kept (the first execution's name is the instance id, with no run tag),
// even one started again within clockSkew of the earlier one's start:
// linking it would leave the claim Pending for ever. A record that has moved on
// meanwhile is kept as it is (ClaimKept): one that has finished (which
// takes the ARN only when it names no execution: see Store.SetExecution),
// or another claim of the id, made after old was released, which the
// execution is not linked to (SetExecution names old's created time).
func MendClaim(ctx context.Context, store Store, finder ExecutionFinder, old Record) (ClaimMended, error) {
	id := old.InstanceID
	x, found, err := finder.FindExecution(ctx, id)
	if err != nil {
		return ClaimKept, fmt.Errorf("look up the execution of %s: %w", id, err)
	}
	if found && executionOf(x, old) {
		// Only in old itself: the claim may have been released (by
		// another mend) and the id claimed again since it was read.
		switch err := store.SetExecution(ctx, id, old.CreatedTime, x.Arn, x.StartedAt); {
		case IsKind(err, KindGone):
			return ClaimKept, nil
		case err != nil:
			return ClaimKept, fmt.Errorf("record the execution of %s: %w", id, err)
		}
		return ClaimLinked, nil
	}
	switch err := store.ReleaseClaim(ctx, id, old.CreatedTime); {
	case err == nil, IsKind(err, KindNotFound):
		return ClaimReleased, nil
	case IsKind(err, KindConflict):
		return ClaimKept, nil
	default:
		return ClaimKept, fmt.Errorf("release the claim of %s: %w", id, err)
	}
}

// unanswered reports whether a start whose workflow call failed with err
// may have started the execution after all: the call got no answer,
// because its context was cancelled (the caller went away) or its
// deadline passed.
func unanswered(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// startedAnyway looks, when the Workflow is an ExecutionFinder, for the
// execution that rec's start may have started without its answer arriving,
// and returns its ARN: an execution of the id that started no earlier than
// the claim (an older one belongs to a monitor since purged, whose name a
// start cannot take).
func (a *API) startedAnyway(ctx context.Context, rec Record) (string, bool) {
	finder, ok := a.Workflow.(ExecutionFinder)
	if !ok {
		return "", false
	}
	id := rec.InstanceID
	x, found, err := finder.FindExecution(ctx, id)
	if err != nil {
		a.logger().WarnContext(ctx, "start: could not look for the execution of a start that got no answer", "instanceId", id, "err", err)
		return "", false
	}
	if !found || !executionOf(x, rec) {
		return "", false
	}
	a.logger().WarnContext(ctx, "start: the workflow did not answer but the execution started", "instanceId", id, "executionArn", x.Arn)
	return x.Arn, true
}

// releaseAfterFailedStart releases rec's claim after its execution could
// not be started. When the record is no longer that claim, the execution
// started after all (its first check recorded it, though the start's
// answer was lost): ok is true and the record is returned, since the
// monitor runs. A claim that a terminate finished while the start was
// under way, and that names no execution, is deleted all the same: the
// monitor never ran, and a failed start leaves nothing.
func (a *API) releaseAfterFailedStart(ctx context.Context, rec Record) (Record, bool) {
	id := rec.InstanceID
	err := a.Store.ReleaseClaim(ctx, id, rec.CreatedTime)
	if err == nil || IsKind(err, KindNotFound) {
		return Record{}, false
	}
	if IsKind(err, KindConflict) {
		got, gerr := a.Store.Get(ctx, id)
		switch {
		case gerr != nil || !startedAs(got, rec.CreatedTime):
		case got.ExecutionArn != "" && !got.RuntimeStatus.Final():
			a.logger().WarnContext(ctx, "start: the workflow answered with an error but the execution runs",
				"instanceId", id, "executionArn", got.ExecutionArn)
			return got, true
		case got.ExecutionArn == "" && got.RuntimeStatus.Final():
			if derr := a.Store.DeleteFinished(ctx, id, rec.CreatedTime); derr != nil && !IsKind(derr, KindNotFound) {
				a.logger().WarnContext(ctx, "start: could not delete the claim a terminate finished before the start failed",
					"instanceId", id, "err", derr)
			}
		}
		return Record{}, false
	}
	a.logger().ErrorContext(ctx, "start: could not release the claim after a failed start", "instanceId", id, "err", err)
	return Record{}, false
}

// Get returns the status record of the monitor id.
func (a *API) Get(ctx context.Context, id string) (Record, error) {
	const op = "monitor: get"
	if !ValidInstanceID(id) {
		return Record{}, invalidID(op, id)
	}
	rec, err := a.Store.Get(ctx, id)
	if err != nil {
		return Record{}, storeErr(op, id, err)
	}
	return rec, nil
}

// QueryTimeProblem is what is wrong with a list query's time for which
// QueryTimeInRange is false.
const QueryTimeProblem = "must be a time from year 0000 to 9999 in UTC"

// ParseQueryTime reads a time that bounds a list query: an RFC 3339 time,
// whose T and Z may be lower case (RFC 3339, section 5.6), which Go's
// layout does not take.
func ParseQueryTime(v string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, strings.ToUpper(v))
}

// QueryTimeInRange reports whether t may bound a list query (the zero
// time: no bound). Stores may compare times as text (DynamoDB's sort
// keys), which orders four-digit years only.
func QueryTimeInRange(t time.Time) bool {
	y := t.UTC().Year()
	return t.IsZero() || (y >= 0 && y <= 9999)
}

// Problems returns what is wrong with q, every problem at once: what
// List refuses. An adapter that reads a query adds them to the problems
// it found reading it, so that a caller hears of all of them together.
func (q ListQuery) Problems() []FieldError {
	var v validator
	for _, s := range q.RuntimeStatus {
		v.check(s.Valid(), "runtimeStatus", RuntimeStatusProblem(string(s)))
	}
	v.check(q.Top >= 0 && q.Top <= MaxPageSize, "top", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	v.check(QueryTimeInRange(q.CreatedFrom), "createdTimeFrom", QueryTimeProblem)
	v.check(QueryTimeInRange(q.CreatedTo), "createdTimeTo", QueryTimeProblem)
	v.check(q.CreatedFrom.IsZero() || q.CreatedTo.IsZero() || !q.CreatedFrom.After(q.CreatedTo),
		"createdTimeFrom", "must not be after createdTimeTo")
	v.check(len(q.ContinuationToken) <= MaxContinuationToken, "continuationToken",
		fmt.Sprintf("must be at most %d characters", MaxContinuationToken))
	return v.fields
}

// List returns a page of status records matching q, newest first. Every
// problem with q is reported at once as a KindInvalid error.
func (a *API) List(ctx context.Context, q ListQuery) (ListPage, error) {
	const op = "monitor: list"
	if fields := q.Problems(); len(fields) > 0 {
		return ListPage{}, &Error{Kind: KindInvalid, Op: op, Message: "invalid query", Fields: fields}
	}
	badToken := func(err error) error {
		return &Error{Kind: KindInvalid, Op: op, Message: "invalid query", Err: err,
			Fields: []FieldError{{Field: "continuationToken", Problem: "is not a token returned by this API for this query " +
				"(the same runtimeStatus, createdTimeFrom and createdTimeTo); start again without it"}}}
	}
	scope := tokenScope(q)
	if q.ContinuationToken != "" {
		tok, ok := a.openToken(scope, q.ContinuationToken)
		if !ok {
			return ListPage{}, badToken(nil)
		}
		q.ContinuationToken = tok
	}
	page, err := a.Store.List(ctx, q)
	if err != nil {
		if IsKind(err, KindInvalid) {
			return ListPage{}, badToken(err)
		}
		return ListPage{}, storeErr(op, "", err)
	}
	if page.ContinuationToken != "" {
		page.ContinuationToken = a.sealToken(scope, page.ContinuationToken)
	}
	return page, nil
}

// defaultTokenKey keys continuation tokens when API.TokenKey is nil.
var defaultTokenKey = []byte("stepmon continuation token v1")

// sealToken returns the store's continuation token tok as the API hands it
// out, sealed with an HMAC under TokenKey over scope and tok (pagetoken).
func (a *API) sealToken(scope, tok string) string { return a.tokens().Seal(scope, tok) }

// openToken checks a token made by sealToken for scope and returns the
// store's token inside it; ok is false for any other token.
func (a *API) openToken(scope, sealed string) (tok string, ok bool) {
	return a.tokens().Open(scope, sealed)
}

// tokenScope is what a client must keep unchanged between the pages of q,
// so that a token resumes only the list it was issued for: in another
// list its position would skip that list's newer records. It is q's
// filters: its statuses as a set, and its created-time range as instants.
// The page size is not part of it: a client may change it, and apigw
// reads a page again with a smaller one.
func tokenScope(q ListQuery) string {
	statuses := make([]string, 0, len(q.RuntimeStatus))
	for _, s := range q.RuntimeStatus {
		statuses = append(statuses, string(s))
	}
	slices.Sort(statuses)
	instant := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return pagetoken.Scope("monitors", strings.Join(slices.Compact(statuses), ","), instant(q.CreatedFrom), instant(q.CreatedTo))
}

func (a *API) tokens() *pagetoken.Sealer {
	key := a.TokenKey
	if key == nil {
		key = defaultTokenKey
	}
	return pagetoken.New(key)
}

// Terminate stops the monitor's execution with the given reason and records
// it as Terminated with the detail "terminated" or "terminated: {reason}".
// An unknown monitor is KindNotFound, a finished one KindGone. It returns
// the record after the change.
//
// The execution is stopped first and the record written after, so that a
// stop that fails (KindUnavailable) leaves the monitor exactly as it was:
// running, with a live record, and the caller can retry. Once the stop has
// succeeded two writers race to finish the record: Terminate itself and
// the status-change handler that the execution's end triggers
// (RecordExecutionEnd with ExecutionAborted; EventBridge on AWS, the local
// runtime's notifier under stepmon serve). The stop carries TerminateError
// as its error and the reason as its cause, and RecordExecutionEnd records
// such an end with the same detail Terminate writes, so the record says
// "terminated: {reason}" whichever write lands first; the loser gets
// KindGone from the store and changes nothing, and Terminate answers with
// the record. A terminate that finds the record finished otherwise by
// then (a concurrent terminate with another reason won, or the monitor
// ended) is KindGone, as it would be a moment later: only the request
// whose termination the record holds, or a retry of it with the same
// reason, is accepted. When a purge has taken the record meanwhile, the
// request that stopped the running execution is accepted, since that stop
// ended the monitor.
func (a *API) Terminate(ctx context.Context, id, reason string) (Record, error) {
	const op = "monitor: terminate"
	if !ValidInstanceID(id) {
		return Record{}, invalidID(op, id)
	}
	if err := CheckReason(reason); err != nil {
		return Record{}, err
	}
	rec, err := a.Store.Get(ctx, id)
	if err != nil {
		return Record{}, storeErr(op, id, err)
	}
	if rec.RuntimeStatus.Final() {
		return Record{}, Errorf(KindGone, op, "monitor %q has already finished (%s)", id, rec.RuntimeStatus)
	}
	stoppedArn, err := a.stop(ctx, id, rec.ExecutionArn, reason)
	stoppedIt := stoppedArn != ""
	if err != nil {
		a.logger().ErrorContext(ctx, "terminate: stop failed", "instanceId", id, "executionArn", rec.ExecutionArn, "err", err)
		if IsKind(err, KindUnavailable) {
			return Record{}, WrapError(KindUnavailable, op, err, "the workflow could not be stopped; retry later")
		}
		return Record{}, WrapError(KindInternal, op, err, "internal error")
	}
	// The output counts the checks recorded up to the stop: read again,
	// since a check may have recorded itself between the first read and
	// the stop (and the Finish takes the count, and the alert's status,
	// as it finds them: FromRecord).
	first, created := rec.ExecutionArn, rec.CreatedTime
	if fresh, err := a.Store.Get(ctx, id); err == nil && !fresh.RuntimeStatus.Final() && startedAs(fresh, created) {
		rec = fresh
	}
	now := a.now()
	out := a.output(rec, FinalTerminated, now)
	out.Detail = terminatedDetail(reason)
	// The Finish names the record read: should the monitor have finished
	// and been purged meanwhile, and its id started again, the new
	// monitor is not this request's to terminate (NotTheMonitor).
	finishErr := a.Store.Finish(ctx, id, Finish{RuntimeStatus: RuntimeTerminated, Output: out, At: now, PurgeAt: now.Add(a.retention()), Created: created, FromRecord: true})
	done := rec
	done.RuntimeStatus, done.Output, done.LastUpdatedTime = RuntimeTerminated, &out, now
	// purged answers a terminate whose monitor has finished since the
	// first read (purge deletes only finished records) and was purged:
	// what finished it, the purge took along. When this request stopped
	// the running execution, the stop's end finished it (or the monitor's
	// own end in its last step): the request terminated the monitor.
	purged := func() (Record, error) {
		if stoppedIt {
			return done, nil
		}
		return Record{}, Errorf(KindGone, op, "monitor %q has already finished (and its record was purged)", id)
	}
	if IsKind(finishErr, KindNotFound) {
		return purged()
	}
	if finishErr != nil && !IsKind(finishErr, KindGone) {
		return Record{}, storeErr(op, id, finishErr)
	}
	got, err := a.Store.Get(ctx, id)
	if err == nil && !startedAs(got, created) {
		// Purged, and the id started again: the new monitor's record,
		// and its execution, are left alone.
		return purged()
	}
	if IsKind(err, KindNotFound) {
		// Purged since it finished. When this request recorded the
		// termination, answer what it recorded; so too when it stopped
		// the running execution, whose end recorded the termination
		// first. When something else finished the record (the monitor's
		// own end, with the execution ended before the stop), the purge
		// took the record that would tell, and the monitor has finished:
		// Gone.
		if finishErr == nil || stoppedIt {
			return done, nil
		}
		return Record{}, Errorf(KindGone, op, "monitor %q has already finished (and its record was purged)", id)
	}
	if err != nil {
		return Record{}, storeErr(op, id, err)
	}
	if cur := got.ExecutionArn; cur != "" && cur != first && cur != stoppedArn && (first == "" || laterGeneration(id, cur, first)) {
		// Start recorded the execution after this request read the
		// record without one, so the stop above stopped nothing (Start
		// stops it itself only when it finds the record finished); or
		// the execution stopped had continued as new, and the next
		// generation recorded itself only after the stop looked for it
		// (it would wait out its interval, check once more and end
		// SUCCEEDED). Stop it now.
		if _, err := a.stop(ctx, id, got.ExecutionArn, reason); err != nil {
			a.logger().ErrorContext(ctx, "terminate: stop of the execution recorded meanwhile failed; its first check ends it",
				"instanceId", id, "executionArn", got.ExecutionArn, "err", err)
		}
	}
	if finishErr != nil && !terminatedWith(got, reason) {
		// Finished meanwhile by something else: another terminate with
		// another reason, or the monitor's own end. Only the request
		// whose termination the record holds is accepted.
		return Record{}, storeErr(op, id, finishErr)
	}
	// Recorded here, or meanwhile as this request would have recorded
	// it: by the execution's end (its ABORTED event arrived first, and
	// RecordExecutionEnd writes the same detail) or by a retry of this
	// request.
	return got, nil
}

// terminatedWith reports whether rec records a termination through the
// API with reason.
func terminatedWith(rec Record, reason string) bool {
	return rec.RuntimeStatus == RuntimeTerminated && rec.Output != nil &&
		rec.Output.FinalStatus == FinalTerminated && rec.Output.Detail == terminatedDetail(reason)
}

// CheckReason returns nil when reason may be a terminate reason (see
// validReason), else the KindInvalid error that Terminate answers, with
// the field reason.
func CheckReason(reason string) error {
	if validReason(reason) {
		return nil
	}
	return &Error{Kind: KindInvalid, Op: "monitor: terminate", Message: "invalid request",
		Fields: []FieldError{{Field: "reason", Problem: fmt.Sprintf(
			"must be UTF-8 text of at most %d characters, without control characters, line breaks or bidirectional formatting characters", MaxReasonLen)}}}
}

// validReason reports whether reason may be a terminate reason: UTF-8 of
// at most MaxReasonLen characters, none of them a control character
// (newlines, tabs, NUL and ESC included), a line or paragraph separator
// or a bidirectional formatting character, so that the output's detail
// reads as one line of plain text, shown in the order it was written.
func validReason(reason string) bool {
	return utf8.ValidString(reason) && utf8.RuneCountInString(reason) <= MaxReasonLen &&
		!strings.ContainsFunc(reason, BreaksText)
}

// BreaksText reports whether r is a control character, a line or
// paragraph separator, or a bidirectional formatting character (marks,
// embeddings, overrides and isolates: U+061C, U+200E, U+200F, U+202A to
// U+202E, U+2066 to U+2069), which can make a text display in another
// order than it reads, and bleed into the text shown after it.
func BreaksText(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
}

// terminatedDetail is the output detail of a monitor terminated through
// the API with reason (the cause of its StopExecution). A reason the API
// accepted is used as it is; in a cause given some other way each control
// character or line break becomes a space.
func terminatedDetail(reason string) string {
	if reason == "" {
		return "terminated"
	}
	return "terminated: " + strings.Map(func(r rune) rune {
		if BreaksText(r) {
			return ' '
		}
		return r
	}, reason)
}

// stop stops the execution running monitor id, starting with arn, the one
// its record names. After a continue-as-new that execution has ended and a
// later generation runs: stop then stops the execution the record names
// now, when that is a later generation of the same monitor. It never stops
// an execution the record has not named (a name guessed from the id could
// be another monitor's); a generation that has not recorded its first
// check yet finds the record finished at that check and ends itself. An
// execution that has ended is not an error: the record is live, so its end
// was never recorded, and Terminate records it. stopped is the running
// execution this call stopped, "" for none.
func (a *API) stop(ctx context.Context, id, arn, reason string) (stopped string, err error) {
	for range maxStopHops {
		if arn == "" {
			// Start has not recorded the execution yet; it stops the
			// execution itself when it finds the record finished.
			return "", nil
		}
		err := a.Workflow.Stop(ctx, arn, TerminateError, reason)
		if err == nil {
			return arn, nil
		}
		if !IsKind(err, KindGone) && !IsKind(err, KindNotFound) {
			return "", err
		}
		if arn, err = a.laterExecution(ctx, id, arn); err != nil {
			return "", err
		}
	}
	return "", nil
}

// maxStopHops bounds how many generations stop follows while monitor's
// executions continue as new under it.
const maxStopHops = 4

// laterExecution returns the execution that the record of monitor id names
// now, when it is a later generation of the same run of id than ended
// (laterGeneration); "" otherwise.
func (a *API) laterExecution(ctx context.Context, id, ended string) (string, error) {
	rec, err := a.Store.Get(ctx, id)
	if IsKind(err, KindNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reload %s after its execution ended: %w", id, err)
	}
	cur := rec.ExecutionArn
	if cur == "" || cur == ended || rec.RuntimeStatus.Final() || !laterGeneration(id, cur, ended) {
		return "", nil
	}
	return cur, nil
}

// RaiseEvent stores an external event for the monitor's next check. data is
// optional JSON of at most MaxEventDataBytes.
func (a *API) RaiseEvent(ctx context.Context, id, name string, data []byte) error {
	const op = "monitor: raise event"
	var v validator
	v.check(ValidInstanceID(id), "id", instanceIDFieldProblem(id))
	for _, p := range EventNameProblems(name) {
		v.add("eventName", p)
	}
	if err := v.err(); err != nil {
		err.(*Error).Op = op
		return err
	}
	data = trimJSON(data)
	if len(data) > MaxEventDataBytes {
		return Errorf(KindTooLarge, op, "event data is %d bytes; the limit is %d", len(data), MaxEventDataBytes)
	}
	if len(data) > 0 && (!json.Valid(data) || !utf8.Valid(data)) {
		return &Error{Kind: KindInvalid, Op: op, Message: "invalid request",
			Fields: []FieldError{{Field: "body", Problem: "must be JSON in UTF-8 (or empty)"}}}
	}
	if name == EventSetInterval {
		if err := validateSetInterval(data, a.minInterval()); err != nil {
			err.(*Error).Op = op
			return err
		}
	} else if len(data) > 0 {
		// Data the checks do not read is stored as it is, but it must
		// not be ambiguous either.
		if err := repeatedKeys(op, data); err != nil {
			return err
		}
	}
	// The store refuses an event over MaxEventsPerMonitor in the same
	// write that appends it.
	ev := Event{Name: name, RaisedAt: a.now()}
	if len(data) > 0 {
		ev.Data = json.RawMessage(data)
	}
	if err := a.Store.AddEvent(ctx, id, ev); err != nil {
		if IsKind(err, KindGone) {
			// Named with how it ended, as terminate names it.
			if rec, gerr := a.Store.Get(ctx, id); gerr == nil && rec.RuntimeStatus.Final() {
				return WrapError(KindGone, op, err, fmt.Sprintf("monitor %q has already finished (%s)", id, rec.RuntimeStatus))
			}
		}
		return storeErr(op, id, err)
	}
	return nil
}

// setIntervalData is the data of a setInterval event: the polling interval
// from the next check on, with the limits of a start request's
// pollingIntervalSeconds.
type setIntervalData struct {
	PollingIntervalSeconds *int `json:"pollingIntervalSeconds"`
}

// validateSetInterval checks the data of a setInterval event, the well
// formed JSON data (or nothing), reporting every problem at once; floor
// is the deployment's shortest interval.
func validateSetInterval(data []byte, floor int) error {
	const example = `must be a JSON object such as {"pollingIntervalSeconds": 30}`
	if len(data) == 0 || data[0] != '{' {
		return &Error{Kind: KindInvalid, Message: "invalid request", Fields: []FieldError{{Field: "body", Problem: example}}}
	}
	var body setIntervalData
	d := decodeStrict(data, &body)
	var v validator
	switch n := body.PollingIntervalSeconds; {
	case n == nil:
		v.add("pollingIntervalSeconds", "is required")
	case !validInterval(*n):
		v.add("pollingIntervalSeconds", intervalProblem)
	default:
		v.check(*n >= floor, "pollingIntervalSeconds", floorProblem(floor))
	}
	return d.merge("", v.err())
}

// EventCapError is the error a Store's AddEvent returns for a live monitor
// that already holds MaxEventsPerMonitor events: KindConflict, which the
// API answers with 409. The monitor's next checks make room.
func EventCapError(op, id string) *Error {
	return Errorf(KindConflict, op, "monitor %q already holds %d events, the most it keeps until its next checks consume them", id, MaxEventsPerMonitor)
}

// Purge deletes the status record of a finished monitor. A live monitor is
// KindConflict: terminate it first. The delete is conditional on the record
// being the finished one read: should another purge (or the store's
// expiry) remove it and a start claim the id again in between, the new
// monitor is kept and Purge is KindConflict. Should the record read be
// gone when the delete comes, Purge succeeds: what it was asked for is
// done, whoever did it. That is also how a delete that the store applied
// and whose answer was lost ends, when the store's client sends it again
// (the AWS SDK's retry) and finds nothing to delete.
func (a *API) Purge(ctx context.Context, id string) error {
	const op = "monitor: purge"
	if !ValidInstanceID(id) {
		return invalidID(op, id)
	}
	rec, err := a.Store.Get(ctx, id)
	if err != nil {
		return storeErr(op, id, err)
	}
	if !rec.RuntimeStatus.Final() {
		return Errorf(KindConflict, op, "monitor %q is %s: terminate it first, then purge it", id, rec.RuntimeStatus)
	}
	if err := a.Store.DeleteFinished(ctx, id, rec.CreatedTime); err != nil {
		switch {
		case IsKind(err, KindConflict):
			return WrapError(KindConflict, op, err, fmt.Sprintf("monitor %q was purged and started again meanwhile: the new monitor is kept", id))
		case IsKind(err, KindNotFound):
			return nil
		}
		return storeErr(op, id, err)
	}
	return nil
}

// ExecutionEnd reports that a workflow execution ended in a way the workflow
// could not record itself: the state machine's RecordFailure state after a
// caught error, or a Step Functions status-change event (a stop from the
// console, an execution timeout).
type ExecutionEnd struct {
	// InstanceID is the monitor's id when the reporter knows it (the
	// RecordFailure payload, the execution input); otherwise it is derived
	// from the execution's name (see ExecutionName).
	InstanceID   string
	ExecutionArn string
	// Status is ExecutionFailed, ExecutionTimedOut or ExecutionAborted;
	// ExecutionSucceeded and non-terminal statuses are ignored.
	Status string
	Error  string
	Cause  string
	// At is when the execution stopped; zero means now.
	At time.Time
	// StartedAt is when the execution started; zero when unknown.
	StartedAt time.Time
	// MonitorStartedAt is when the monitor the execution runs started
	// (State.StartedAt, which every generation carries: its record's
	// CreatedTime), when the reporter knows it (the RecordFailure
	// payload, the execution input); zero otherwise.
	MonitorStartedAt time.Time
}

// clockSkew is how far the clocks that stamp a record's creation (the
// start function's) and its execution's start (Step Functions') may
// disagree. It tells an earlier monitor's execution only when nothing
// better is known: an execution end that carries the monitor's start
// (ExecutionEnd.MonitorStartedAt) is matched to the record exactly.
const clockSkew = time.Minute

// startedForRecord reports whether an execution of rec's id that started
// at started (zero when unknown) may be rec's own: one that started more
// than clockSkew before the record was created belongs to an earlier
// monitor of the same id, purged while its execution is still kept (the
// first execution's name is the instance id, with no run tag to tell them
// apart).
func startedForRecord(started time.Time, rec Record) bool {
	return started.IsZero() || !started.Before(rec.CreatedTime.Add(-clockSkew))
}

// RecordExecutionEnd finishes the monitor whose execution ended: ABORTED as
// Terminated, FAILED as Failed and TIMED_OUT as Failed with final status
// Timeout. An ABORTED end whose error is TerminateError was stopped by
// Terminate (or the same way from the console) and gets Terminate's
// detail, "terminated: {cause}"; any other stop is "the execution was
// stopped outside the monitor API". It reports whether it changed the record. An end that is not the
// monitor's current execution (a generation that continued as new), a
// monitor that has already finished or no longer exists, and a status that
// is not a failure are ignored without error, so that redelivered events
// are harmless.
//
// So is the end of an execution of an earlier monitor of the same id
// (finished, purged, and the id started again): with end.MonitorStartedAt,
// one whose monitor's start is not the record's CreatedTime (to the
// microsecond); without it, one that started more than clockSkew before
// the record was created (startedForRecord). Either way the Finish names
// the record read, so that a record replaced meanwhile is left alone.
func (a *API) RecordExecutionEnd(ctx context.Context, end ExecutionEnd) (bool, error) {
	const op = "monitor: record execution end"
	var rs RuntimeStatus
	var final, detail string
	byAPI := false
	if end.Status == ExecutionAborted && end.Error == "" && end.Cause == "" {
		end.Error, end.Cause = a.describeEnd(ctx, end.ExecutionArn)
	}
	switch end.Status {
	case ExecutionAborted:
		rs, final = RuntimeTerminated, FinalTerminated
		detail = "the execution was stopped outside the monitor API"
		if end.Error == TerminateError {
			// Stopped the way Terminate stops: record what Terminate
			// records, whichever of the two writes first. A reason is at
			// most MaxReasonLen characters of up to 4 bytes.
			byAPI = true
			detail = terminatedDetail(TruncateBytes(end.Cause, 4*MaxReasonLen))
		}
	case ExecutionFailed:
		rs, final = RuntimeFailed, FinalFailed
		detail = "the workflow failed"
	case ExecutionTimedOut:
		rs, final = RuntimeFailed, FinalTimeout
		detail = "the execution timed out"
	case ExecutionSucceeded, "RUNNING", "PENDING_REDRIVE", "":
		return false, nil
	default:
		return false, Errorf(KindInvalid, op, "unknown execution status %q", TruncateBytes(end.Status, 40))
	}
	switch {
	case byAPI:
	case end.Status == ExecutionAborted:
		if e := describeStop(end.Error, end.Cause); e != "" {
			detail += ": " + e
		}
	default:
		if e := describeFailure(end.Error, end.Cause); e != "" {
			detail += ": " + e
		}
	}
	rec, ok, err := a.recordFor(ctx, end)
	if err != nil || !ok {
		return false, err
	}
	id := rec.InstanceID
	log := a.logger().With("instanceId", id, "executionArn", end.ExecutionArn, "executionStatus", end.Status)
	if rec.RuntimeStatus.Final() {
		log.DebugContext(ctx, "execution end ignored: the monitor has already finished")
		return false, nil
	}
	switch {
	case !end.MonitorStartedAt.IsZero():
		if !startedAs(rec, end.MonitorStartedAt) {
			// An execution of an earlier monitor with the same id.
			log.InfoContext(ctx, "execution end ignored: the execution is another monitor's",
				"monitorStartedAt", end.MonitorStartedAt, "created", rec.CreatedTime)
			return false, nil
		}
	case !startedForRecord(end.StartedAt, rec):
		// An execution of an earlier monitor with the same id: the record's
		// first execution name carries no run tag to tell them apart.
		log.InfoContext(ctx, "execution end ignored: the execution started before the monitor", "started", end.StartedAt)
		return false, nil
	}
	if cur := rec.ExecutionArn; cur != "" && cur != end.ExecutionArn {
		if !laterGeneration(id, end.ExecutionArn, cur) {
			log.InfoContext(ctx, "execution end ignored: not the monitor's current execution", "current", cur)
			return false, nil
		}
	}
	at := end.At.UTC()
	if at.IsZero() {
		at = a.now()
	}
	out := a.output(rec, final, at)
	out.Detail = detail
	err = a.Store.Finish(ctx, id, Finish{RuntimeStatus: rs, Output: out, At: at, PurgeAt: at.Add(a.retention()), Created: rec.CreatedTime, FromRecord: true})
	switch {
	case err == nil:
		if end.Status == ExecutionAborted || end.Cause == "" {
			log.InfoContext(ctx, "execution end recorded", "runtimeStatus", rs, "error", end.Error, "detail", detail)
		} else {
			// The output names only the error (describeFailure): its
			// cause, the whole error text, is for operators.
			log.WarnContext(ctx, "execution end recorded", "runtimeStatus", rs, "error", end.Error,
				"cause", TruncateBytes(end.Cause, maxLoggedCause), "detail", detail)
		}
		return true, nil
	case IsKind(err, KindGone), IsKind(err, KindNotFound):
		return false, nil
	default:
		return false, storeErr(op, id, err)
	}
}

// describeEnd asks the workflow for the error and cause an execution was
// stopped with, for an event that carries neither: a stop by Terminate
// then records Terminate's detail, whichever write lands first. Without
// an EndDescriber, or when it fails, both are empty and the stop is
// recorded as one made outside the API.
func (a *API) describeEnd(ctx context.Context, executionArn string) (errorName, cause string) {
	d, ok := a.Workflow.(EndDescriber)
	if !ok {
		return "", ""
	}
	errorName, cause, err := d.DescribeEnd(ctx, executionArn)
	if err != nil {
		a.logger().WarnContext(ctx, "execution end: describe failed", "executionArn", executionArn, "err", err)
		return "", ""
	}
	return errorName, cause
}

// recordFor finds the record of the monitor whose execution ended. ok is
// false when there is none.
func (a *API) recordFor(ctx context.Context, end ExecutionEnd) (Record, bool, error) {
	const op = "monitor: record execution end"
	var ids []string
	if end.InstanceID != "" {
		ids = []string{end.InstanceID}
	} else {
		ids = instanceIDsFor(executionName(end.ExecutionArn))
	}
	var found []Record
	for _, id := range ids {
		if !ValidInstanceID(id) {
			continue
		}
		rec, err := a.Store.Get(ctx, id)
		if IsKind(err, KindNotFound) {
			continue
		}
		if err != nil {
			return Record{}, false, storeErr(op, id, err)
		}
		if rec.ExecutionArn == end.ExecutionArn {
			return rec, true, nil
		}
		found = append(found, rec)
	}
	if len(found) == 0 {
		// Its record was purged (an end delivered again after a restart
		// of the local runtime, or by EventBridge): as harmless as the
		// end of a monitor that has already finished.
		a.logger().DebugContext(ctx, "execution end ignored: no such monitor", "executionArn", end.ExecutionArn)
		return Record{}, false, nil
	}
	return found[0], true, nil
}

// describeStop turns the error and cause an execution was stopped with
// into a short text for the output's detail. They are the words of whoever
// stopped it (an operator from the console or the CLI), as Terminate's
// reason is the caller's. A Lambda error's cause is a JSON object whose
// errorMessage is used.
func describeStop(name, cause string) string {
	var lambdaErr struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(cause), &lambdaErr) == nil && lambdaErr.ErrorMessage != "" {
		cause = lambdaErr.ErrorMessage
	}
	cause = strings.Join(strings.Fields(cause), " ")
	switch {
	case name != "" && cause != "":
		return TruncateBytes(name, 80) + ": " + TruncateBytes(cause, 300)
	case name != "":
		return TruncateBytes(name, 80)
	default:
		return TruncateBytes(cause, 300)
	}
}

// describeFailure turns the error of a failed or timed-out execution into a
// short text for the output's detail, which every API caller reads: the
// error's name and, when it has a cause, internalFailure instead of it.
//
// The cause is not for callers. A task's error (TaskError) carries the
// whole error chain, which for a store or SDK failure names tables,
// request ids and the function's role and session; a States.* cause may
// quote the execution's input, with the target's header values. Errors
// that are the monitor's own (PermanentError.Input: a refused target, a
// repository that does not exist, a webhook that rejects the alert) never
// come this way: the tasks end those monitors themselves with the error's
// text as the output's detail (see Tasks.failOnInput). The cause is
// logged where it is recorded (RecordExecutionEnd), and stays whole in
// the execution's history.
func describeFailure(name, cause string) string {
	name = strings.Join(strings.Fields(name), " ")
	hasCause := strings.TrimSpace(cause) != ""
	switch {
	case name != "" && hasCause:
		return TruncateBytes(name, 80) + ": " + internalFailure
	case name != "":
		return TruncateBytes(name, 80)
	case hasCause:
		return internalFailure
	default:
		return ""
	}
}

// internalFailure stands for the cause of an execution's failure in what
// callers read (see describeFailure).
const internalFailure = "internal error (the cause is in the service's log)"

// maxLoggedCause bounds the cause of an execution's end in the log: Step
// Functions keeps up to 32,768 characters.
const maxLoggedCause = 8192

// output builds the output of a monitor that ends now without a check.
func (a *API) output(rec Record, final string, at time.Time) Output {
	out := Output{JobID: rec.Input.JobID, FinalStatus: final}
	if out.JobID == "" {
		out.JobID = rec.InstanceID
	}
	if cs := rec.CustomStatus; cs != nil {
		out.ChecksPerformed = cs.CheckCount
		out.OpenIssues = cs.OpenIssues
	}
	out.MonitoringDurationSeconds = durationSeconds(rec.CreatedTime, at)
	switch rec.Alert.Status {
	case AlertNone:
	case AlertSending:
		// The send's result is not known yet: the alert task's
		// CompleteAlert sets it when it comes (see Store.CompleteAlert);
		// after a crash or a send without an answer it stays unknown.
		out.AlertStatus = OutputAlertUnknown
	default:
		out.AlertStatus = string(rec.Alert.Status)
	}
	return out
}

// trimJSON trims JSON whitespace around b.
func trimJSON(b []byte) []byte {
	const ws = " \t\r\n"
	for len(b) > 0 && strings.IndexByte(ws, b[0]) >= 0 {
		b = b[1:]
	}
	for len(b) > 0 && strings.IndexByte(ws, b[len(b)-1]) >= 0 {
		b = b[:len(b)-1]
	}
	return b
}
