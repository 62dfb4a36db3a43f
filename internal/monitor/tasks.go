package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/stepmon/stepmon/internal/deadline"
)

// MaxCheckDetail bounds a check's detail in bytes, as the custom status
// and the output record it. A checker's detail may quote what a target
// sent (a header, a value); a target must not be able to make a record
// too large for its store (a DynamoDB item holds 400 KB) or an output too
// large for the state machine (256 KiB).
const MaxCheckDetail = 1024

// Tasks holds the logic of the workflow's task states: Check and Alert.
// The check and alert Lambdas, and the local runtime, call these methods
// with the payload the state machine sends; both return the whole workflow
// state, which the state machine passes on.
type Tasks struct {
	Store Store
	// Checkers by target type (TargetGitHub, TargetHTTP, TargetSimulated).
	// A type with no checker, or a nil one, fails its checks with a
	// *PermanentError: this deployment cannot check such targets.
	Checkers map[string]Checker
	// Senders by alert channel (ChannelSNS, ChannelTwilio, ChannelWebhook).
	// A channel with no sender, or a nil one, fails its alerts with a
	// *PermanentError: this deployment cannot deliver them.
	Senders map[string]Sender
	Clock   Clock
	// Retention is how long a finished record is kept (PurgeAt).
	Retention time.Duration
	// SendAttempts is how many times Alert tries a transiently failing send
	// before it hands the retry to the state machine; 0 means 3.
	SendAttempts int
	// Sleep waits between send attempts; nil means a context-aware sleep.
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
	// AlertTopics are the SNS topics Alert publishes to; an alert to any
	// other topic fails permanently. nil allows every topic.
	AlertTopics *TopicAllowList

	// unrecorded are the sends this process made whose record the store
	// did not take (a store outage longer than recordSend's tries), by
	// unrecordedKey: the state machine's retry of the alert task, when it
	// runs in the same process, records the send instead of reporting
	// the alert "unknown". At most maxUnrecorded are kept, the oldest
	// dropped first: one whose task was not retried (the store came back
	// before the monitor's last write) is never taken.
	unrecordedMu sync.Mutex
	unrecorded   map[string]AlertResult
}

// maxUnrecorded bounds Tasks.unrecorded: past it the oldest send not
// recorded is forgotten, and a retry of its task reports it "unknown", as
// after a crash.
const maxUnrecorded = 1024

// unrecordedKey names the send of monitor s's alert claimed as attempt
// number claim.
func unrecordedKey(s State, claim int) string {
	return fmt.Sprintf("%s@%d#%d", s.InstanceID, s.StartedAt.UnixNano(), claim)
}

// rememberUnrecorded keeps res, a send the store did not record, for a
// retry of the task (see Tasks.unrecorded).
func (t *Tasks) rememberUnrecorded(s State, claim int, res AlertResult) {
	t.unrecordedMu.Lock()
	defer t.unrecordedMu.Unlock()
	if t.unrecorded == nil {
		t.unrecorded = map[string]AlertResult{}
	}
	if len(t.unrecorded) >= maxUnrecorded {
		oldest := ""
		for k, r := range t.unrecorded {
			if oldest == "" || r.At.Before(t.unrecorded[oldest].At) {
				oldest = k
			}
		}
		delete(t.unrecorded, oldest)
	}
	t.unrecorded[unrecordedKey(s, claim)] = res
}

// takeUnrecorded returns the send rememberUnrecorded kept for the claim,
// if any, and forgets it.
func (t *Tasks) takeUnrecorded(s State, claim int) (AlertResult, bool) {
	t.unrecordedMu.Lock()
	defer t.unrecordedMu.Unlock()
	k := unrecordedKey(s, claim)
	res, ok := t.unrecorded[k]
	delete(t.unrecorded, k)
	return res, ok
}

// TaskInput is the payload the state machine sends to the check and alert
// tasks: the workflow state, the ARN of the running execution and, for
// the check task, how many times the state machine has retried this
// invocation ($$.State.RetryCount: 0 on the first attempt). The alert task
// ignores RetryCount, which one earlier definition passed it (see
// AlertTransientRetries), and LogTaskErrors logs it for the check only.
type TaskInput struct {
	State        State  `json:"state"`
	ExecutionArn string `json:"executionArn"`
	RetryCount   int    `json:"retryCount,omitempty"`
	// ExecutionStartTime is when the execution running the task started
	// ($$.Execution.StartTime): the age of the generation, which
	// MaxGenerationAge bounds. Zero when the state machine does not pass
	// it.
	ExecutionStartTime time.Time `json:"executionStartTime,omitzero"`
	// RetryByWait tells the alert task that the state machine retries a
	// send whose own destination failed transiently by a Wait state
	// (State.AlertRetry), as statemachine.asl.json does; without it (a
	// definition from before that loop, which executions started before
	// an upgrade still run) the task returns a *TransientError for the
	// Alert state's Retry.
	RetryByWait bool `json:"retryByWait,omitempty"`
}

// DefaultRetention is how long finished monitors' records are kept.
const DefaultRetention = 7 * 24 * time.Hour

func (t *Tasks) now() time.Time {
	if t.Clock == nil {
		return stamp(time.Now())
	}
	return stamp(t.Clock.Now())
}

func (t *Tasks) logger() *slog.Logger {
	if t.Logger == nil {
		return slog.Default()
	}
	return t.Logger
}

func (t *Tasks) retention() time.Duration {
	if t.Retention <= 0 {
		return DefaultRetention
	}
	return t.Retention
}

// Check performs one check of the monitor and decides what the workflow does
// next: alert, finish, expire, or wait until NextCheckAt. Once a
// generation's estimated history (CheckResult.generationEvents, its checks
// and their retries) has reached GenerationEventBudget, or the generation
// is MaxGenerationAge old, the check after the next wait does not check:
// it decides to continue as new, and the new generation checks first
// thing.
// The custom status is written before it returns. Checking is idempotent
// per check number: a retried check writes the same number again, which the
// store ignores, and consumes the same external events. The retry count
// (in.RetryCount) only adds to the generation's estimate in the returned
// state; the rollover decision reads the estimate of the state the check
// was given, the same on every attempt. (Its age is read at each attempt:
// an attempt that checked and a retry that continues as new instead are
// harmless, since the next generation's first check has the same number.)
//
// Errors are returned as *TransientError (the state machine retries) or
// *PermanentError (the state machine records the failure and fails). A
// checker's permanent failure of the monitor's input is not returned: the
// monitor ends Failed (see failOnInput). Nor is the end of a monitor that
// has gone while its execution still ran (purged, and its id started
// again: the store's writes name the monitor's start, s.StartedAt): the
// state is done and the new monitor's record untouched (see gone).
func (t *Tasks) Check(ctx context.Context, in TaskInput) (State, error) {
	s := in.State
	if s.InstanceID == "" {
		return s, &PermanentError{Message: "check: the state has no instanceId"}
	}
	now := t.now()
	prev := s.Check
	next := CheckResult{
		CheckCount:        prev.CheckCount,
		GenerationChecks:  prev.GenerationChecks,
		GenerationRetries: prev.GenerationRetries,
		IntervalSeconds:   prev.IntervalSeconds,
		Memo:              prev.Memo,
		Status:            prev.Status,
		OpenIssues:        prev.OpenIssues,
	}
	if prev.Rollover {
		// The first check of a generation.
		next.GenerationChecks, next.GenerationRetries = 0, 0
	}
	jobID := s.Spec.JobID
	if jobID == "" {
		jobID = s.InstanceID
	}

	// The monitor checks only before it expires, as Durable Functions'
	// monitor loop does.
	if !now.Before(s.ExpiresAt) {
		return t.expire(ctx, s, jobID, next, now)
	}

	// A generation whose history has reached its budget continues as new
	// here, after the Wait state has waited for this check, instead of
	// right after its last one: the next generation starts with this
	// check, so the interval, the backoff and a rate limit's NotBefore
	// hold across the rollover.
	// A generation MaxGenerationAge old continues as new the same way,
	// long before Step Functions' one-year limit on an execution.
	if !prev.Rollover && (prev.generationEvents() >= GenerationEventBudget || generationAged(in, now)) {
		s.Check = rolloverOf(prev, s)
		return s, nil
	}

	n := prev.CheckCount + 1
	next.CheckCount = n
	next.GenerationChecks++
	next.GenerationRetries += max(in.RetryCount, 0)

	ev, err := t.consumeEvents(ctx, s, n)
	if IsKind(err, KindGone) || IsKind(err, KindNotFound) {
		return t.gone(ctx, s, jobID, "consume events", err, now), nil
	}
	if err != nil {
		return s, err
	}
	obs, pe, err := t.observe(ctx, s, n, ev.complete)
	if err != nil {
		return s, err
	}
	next.LastEvent = ev.last
	if pe != nil {
		next.Status = StatusError
		cs := t.customStatus(s, jobID, next, now)
		cs.Detail = TruncateBytes(pe.Message, MaxCheckDetail)
		cs.LastEvent = ev.last
		return t.failOnInput(ctx, s, jobID, fmt.Sprintf("check #%d: %s", n, pe.Message), "", &cs, n, now)
	}
	// The wait counts from the end of the check, as Durable Functions'
	// loop counts from its clock after the activity returned: a slow
	// target must not leave a next_check_time that has already passed.
	next = decide(s, next, obs, ev, now, t.now())
	cs := t.customStatus(s, jobID, next, now)
	cs.Detail = obs.Detail
	cs.LastEvent = ev.last
	return t.record(ctx, in, jobID, next, cs, now)
}

// expire ends the monitor of s, which has reached its ExpiresAt, without
// checking: Completed, with the final status Timeout. next is the result
// the check carries over.
//
// The final custom status is the last check's, as the store holds it
// (its job status, last_check_time, detail and last_event), without a
// next_check_time: no check ran now, and the output says Timeout. A
// monitor that expired before its first check keeps no custom status.
func (t *Tasks) expire(ctx context.Context, s State, jobID string, next CheckResult, now time.Time) (State, error) {
	next.Expired = true
	out := t.output(s, jobID, FinalTimeout, next.CheckCount, now)
	out.Detail = "the monitor expired"
	next.Output = &out
	rec, err := t.Store.Get(ctx, s.InstanceID)
	if IsKind(err, KindNotFound) {
		// Terminated and purged while the execution waited.
		return t.gone(ctx, s, jobID, "expire", err, now), nil
	}
	if err != nil {
		return s, TaskError(fmt.Errorf("check %s: expire: %w", s.InstanceID, err))
	}
	var cs *CustomStatus
	if rec.CustomStatus != nil && startedAs(rec, s.StartedAt) {
		last := *rec.CustomStatus
		last.NextCheckTime = time.Time{}
		cs = &last
	}
	if err := t.finish(ctx, s, RuntimeCompleted, out, cs, now); err != nil {
		return t.unfinished(ctx, s, jobID, err, now)
	}
	s.Check = next
	return s, nil
}

// checkEvents is what the external events that a check consumes ask for.
type checkEvents struct {
	complete bool   // an EventComplete: the job is done, without checking or alerting
	interval int    // the polling interval from this check on
	set      bool   // an EventSetInterval set interval
	last     string // the name of the latest event, of this check or before
}

// consumeEvents consumes the external events for check n of s. Without an
// EventSetInterval among them the interval is the spec's at the first
// check and NextInterval of the last interval after it (so an earlier
// setInterval's interval is what later checks work from). A KindGone
// error, the store's answer when the record is another monitor's, is
// returned as it is.
func (t *Tasks) consumeEvents(ctx context.Context, s State, n int) (checkEvents, error) {
	prev := s.Check
	events, err := t.Store.ConsumeEvents(ctx, s.InstanceID, s.StartedAt, n)
	if IsKind(err, KindGone) || IsKind(err, KindNotFound) {
		return checkEvents{}, err
	}
	if err != nil {
		return checkEvents{}, TaskError(fmt.Errorf("check %s: consume events: %w", s.InstanceID, err))
	}
	ce := checkEvents{interval: s.Spec.PollingIntervalSeconds, last: prev.LastEvent}
	if n > 1 && prev.IntervalSeconds > 0 {
		ce.interval = s.Spec.NextInterval(prev.IntervalSeconds)
	}
	for _, ev := range events {
		ce.last = ev.Name
		switch ev.Name {
		case EventComplete:
			ce.complete = true
		case EventSetInterval:
			if secs, ok := intervalFromEvent(ev); ok {
				ce.interval, ce.set = secs, true
			}
		}
	}
	return ce, nil
}

// observe runs check n of s with the target's checker; when complete (an
// EventComplete arrived) it does not, and observes the job completed. A
// checker's permanent failure of the monitor's input is returned as pe,
// with a nil error; other errors are task errors.
func (t *Tasks) observe(ctx context.Context, s State, n int, complete bool) (Observation, *PermanentError, error) {
	if complete {
		return Observation{Status: StatusCompleted, Done: true, Detail: "completed by an external event"}, nil, nil
	}
	checker := t.Checkers[s.Spec.Target.Type]
	if checker == nil {
		return Observation{}, nil, &PermanentError{Message: fmt.Sprintf("check %s: no checker for target type %q", s.InstanceID, s.Spec.Target.Type)}
	}
	obs, err := checker.Check(ctx, CheckRequest{InstanceID: s.InstanceID, Target: s.Spec.Target, Number: n, Memo: s.Check.Memo})
	if pe, ok := inputFailure(err); ok {
		return Observation{}, pe, nil
	}
	if err != nil {
		return Observation{}, nil, TaskError(fmt.Errorf("check %s #%d: %w", s.InstanceID, n, err))
	}
	obs.Detail = TruncateBytes(obs.Detail, MaxCheckDetail)
	return obs, nil, nil
}

// decide returns next with what the check that started at now and ended at
// end found (obs), and what the workflow does next: alert (ConditionMet),
// finish (Done), or wait until NextCheckAt, the interval of ev from end
// unless obs asks for later, and never after the monitor expires. A
// monitor that an EventComplete finished (ev.complete) does not alert:
// nothing observed the job's end or the alert's condition, and whoever
// raised the event knows already.
func decide(s State, next CheckResult, obs Observation, ev checkEvents, now, end time.Time) CheckResult {
	interval := ev.interval
	if obs.Deferred && !ev.set && next.IntervalSeconds > 0 {
		// Nothing was asked: a backoff does not grow.
		interval = next.IntervalSeconds
	}
	if !obs.Deferred || next.Status == "" {
		next.Status = obs.Status
	}
	next.CheckedAt = now
	if obs.OpenIssues != nil {
		next.OpenIssues = obs.OpenIssues
	}
	if obs.Memo != nil {
		next.Memo = obs.Memo
	}
	next.IntervalSeconds = interval

	switch {
	case ev.complete:
		next.Done = true
	case obs.Done && s.Spec.Alert != nil:
		// A job monitor with an alert tells someone how the job ended.
		next.ConditionMet = true
	case obs.Done:
		next.Done = true
	case obs.ConditionMet && s.Spec.Alert != nil:
		next.ConditionMet = true
	case obs.ConditionMet:
		next.Done = true
	default:
		at := end.Add(time.Duration(interval) * time.Second)
		if obs.NotBefore.After(at) {
			at = obs.NotBefore
		}
		if at.After(s.ExpiresAt) {
			at = s.ExpiresAt
		}
		next.NextCheckAt = FormatTimestamp(at)
		next.WaitSeconds = waitSeconds(end, at)
	}
	if next.ConditionMet {
		// Only the alert reads it; the state is in every history event.
		next.Detail = obs.Detail
	}
	return next
}

// record writes the custom status cs of the check that decided next and,
// when next is done, finishes the monitor with cs.Detail as the output's
// detail. It returns the state for the state machine.
func (t *Tasks) record(ctx context.Context, in TaskInput, jobID string, next CheckResult, cs CustomStatus, now time.Time) (State, error) {
	s, n := in.State, next.CheckCount
	applied, err := t.Store.RecordCheck(ctx, s.InstanceID, CheckUpdate{CustomStatus: cs, ExecutionArn: in.ExecutionArn, At: now, Created: s.StartedAt, ExpiresAt: s.ExpiresAt})
	if IsKind(err, KindGone) || IsKind(err, KindNotFound) {
		return t.gone(ctx, s, jobID, fmt.Sprintf("record check #%d", n), err, now), nil
	}
	if err != nil {
		return s, TaskError(fmt.Errorf("check %s #%d: record: %w", s.InstanceID, n, err))
	}
	if !applied {
		// The monitor finished meanwhile (a terminate): stop here with
		// the recorded output. Or a later check or attempt is recorded
		// (this attempt outlived its timeout: its result is dropped), or
		// an attempt that names no execution repeats a recorded check:
		// carry on. A re-run of the recorded check by its execution
		// applies (Store.RecordCheck): the last attempt wins.
		rec, err := t.Store.Get(ctx, s.InstanceID)
		if IsKind(err, KindNotFound) {
			// Finished (a terminate) and purged since the write.
			return t.gone(ctx, s, jobID, fmt.Sprintf("reload after check #%d", n), err, now), nil
		}
		if err != nil {
			return s, TaskError(fmt.Errorf("check %s #%d: reload: %w", s.InstanceID, n, err))
		}
		if !startedAs(rec, s.StartedAt) {
			// Purged and started again since the write.
			return t.gone(ctx, s, jobID, fmt.Sprintf("reload after check #%d", n), nil, now), nil
		}
		if rec.RuntimeStatus.Final() {
			prevCount := s.Check.CheckCount
			next = CheckResult{CheckCount: prevCount, Done: true, Status: rec.RuntimeStatus.String(), Output: rec.Output}
			if next.Output == nil {
				out := t.output(s, jobID, string(rec.RuntimeStatus), prevCount, now)
				next.Output = &out
			}
			s.Check = next
			return s, nil
		}
	}
	if next.Done {
		out := t.output(s, jobID, finalStatusOf(next.Status), n, now)
		out.Detail = cs.Detail
		out.OpenIssues = next.OpenIssues
		next.Output = &out
		// With the custom status of this attempt: a retried check whose
		// first attempt recorded another status decides on what it saw.
		if err := t.finish(ctx, s, RuntimeCompleted, out, &cs, now); err != nil {
			return t.unfinished(ctx, s, jobID, err, now)
		}
	}
	s.Check = next
	return s, nil
}

// failOnInput ends a monitor whose check or alert failed for good because
// of the monitor's own input (see PermanentError.Input): the record is
// Failed with detail as the output's detail, cs as the last custom status
// when not nil, and the state is done, so that the execution ends through
// the state machine's Finish state with the output, as for a job that
// failed, and no task error reaches Step Functions' metrics.
func (t *Tasks) failOnInput(ctx context.Context, s State, jobID, detail, alertStatus string, cs *CustomStatus, checks int, now time.Time) (State, error) {
	out := t.output(s, jobID, FinalFailed, checks, now)
	out.Detail = TruncateBytes(detail, MaxCheckDetail)
	out.AlertStatus = alertStatus
	out.OpenIssues = s.Check.OpenIssues
	if err := t.finish(ctx, s, RuntimeFailed, out, cs, now); err != nil {
		return t.unfinished(ctx, s, jobID, err, now)
	}
	logged := out.Detail
	if s.Spec.Alert != nil {
		logged = redactDestination(*s.Spec.Alert, logged) // the output keeps it: the caller gave it
	}
	t.logger().InfoContext(ctx, "monitor failed on its input", "instanceId", s.InstanceID, "detail", logged)
	s.Check.CheckCount = checks
	s.Check.Output = &out
	s.Check.Done = true
	s.Check.ConditionMet, s.Check.Expired, s.Check.Rollover = false, false, false
	return s, nil
}

// gone is the end of a task of s whose monitor has gone: the record of
// its instance id is another monitor's (the write named s.StartedAt and
// the store answered err, KindGone; nil when a read told), one started
// after this monitor was finished and purged, or there is none (err is
// KindNotFound): the monitor was purged once finished, while this task
// ran. This execution was stopped with the terminate that finished it
// (its task outlived the stop) or is left behind; either way it must not
// touch another monitor's record, nor fail (an error logged and counted
// by the function's Errors alarm for a terminate and a purge): the state
// is done, with an output that says why, and the execution ends through
// the Finish state.
func (t *Tasks) gone(ctx context.Context, s State, jobID, step string, err error, now time.Time) State {
	msg, detail := "task ended: the monitor has gone and its instance id names another monitor",
		"the monitor's record was purged and its instance id started again"
	if IsKind(err, KindNotFound) {
		msg, detail = "task ended: the monitor's record is gone (purged once it finished)",
			"the monitor's record was purged"
	}
	t.logger().InfoContext(ctx, msg, "instanceId", s.InstanceID, "startedAt", s.StartedAt, "step", step, "err", err)
	out := t.output(s, jobID, FinalTerminated, s.Check.CheckCount, now)
	out.Detail = detail
	s.Check = CheckResult{CheckCount: s.Check.CheckCount, Done: true, Status: string(RuntimeTerminated), Output: &out}
	return s
}

// startedAs reports whether rec is the record of the monitor that started
// at startedAt (State.StartedAt, its CreatedTime), to the microsecond:
// the precision of the API's times (stamp) and of the coarsest store.
// The zero time names any record of the id.
func startedAs(rec Record, startedAt time.Time) bool {
	return startedAt.IsZero() || rec.CreatedTime.Truncate(time.Microsecond).Equal(startedAt.Truncate(time.Microsecond))
}

// rolloverOf returns the decision to continue the generation of s as new:
// the last check's result, carried whole to the next generation, whose
// first check then runs at once, and the name of its execution.
func rolloverOf(last CheckResult, s State) CheckResult {
	last.Rollover = true
	last.NextGeneration = s.Generation + 1
	last.NextExecutionName = ExecutionName(s.InstanceID, RunTagOf(s.StartedAt), last.NextGeneration)
	last.ConditionMet, last.Done, last.Expired = false, false, false
	last.Output = nil
	return last
}

// generationAged reports whether the execution running the task is
// MaxGenerationAge old at now. Without its start time (a definition that
// does not pass it) only generation 0 has an age: its execution started
// with the monitor.
func generationAged(in TaskInput, now time.Time) bool {
	started := in.ExecutionStartTime
	if started.IsZero() && in.State.Generation == 0 {
		started = in.State.StartedAt
	}
	return !started.IsZero() && now.Sub(started) >= MaxGenerationAge
}

// waitSeconds is the Wait state's wait from the end of a check at now to
// the next check at at: whole seconds rounded up, so a check never runs
// early, and at least 1, so a monitor never spins. It counts from the end
// of the check, as Durable Functions' monitor loop does (CurrentUtcDateTime
// after the activity, plus the interval): a monitor keeps the phase it
// started with, shifted only by slow checks, and one that fell behind does
// not fire catch-up checks.
func waitSeconds(now, at time.Time) int {
	secs := int((at.Sub(now) + time.Second - 1) / time.Second)
	return max(secs, 1)
}

// finalStatusOf maps a job status to a final status.
func finalStatusOf(status string) string {
	if status == StatusFailed {
		return FinalFailed
	}
	return FinalCompleted
}

func (s RuntimeStatus) String() string { return string(s) }

// intervalFromEvent reads a setInterval event's interval with the
// decoder the API validated it with (a whole number written 30.0 is 30).
func intervalFromEvent(ev Event) (int, bool) {
	var body setIntervalData
	if d := decodeStrict(ev.Data, &body); len(d.problems) > 0 || body.PollingIntervalSeconds == nil {
		return 0, false
	}
	if n := *body.PollingIntervalSeconds; validInterval(n) {
		return n, true
	}
	return 0, false
}

func (t *Tasks) customStatus(s State, jobID string, c CheckResult, now time.Time) CustomStatus {
	cs := CustomStatus{
		JobID:           jobID,
		Status:          c.Status,
		CheckCount:      c.CheckCount,
		LastCheckTime:   now,
		IntervalSeconds: c.IntervalSeconds,
		OpenIssues:      c.OpenIssues,
		Generation:      s.Generation,
	}
	if c.NextCheckAt != "" {
		cs.NextCheckTime, _ = time.Parse(TimestampFormat, c.NextCheckAt)
	}
	return cs
}

func (t *Tasks) output(s State, jobID, final string, checks int, now time.Time) Output {
	started := s.StartedAt
	if started.IsZero() {
		started = now
	}
	return Output{
		JobID:                     jobID,
		FinalStatus:               final,
		ChecksPerformed:           checks,
		MonitoringDurationSeconds: durationSeconds(started, now),
	}
}

// durationSeconds is an output's monitoring_duration_seconds: from to to,
// rounded to the second, never negative.
func durationSeconds(from, to time.Time) int64 {
	return max(int64(to.Sub(from).Round(time.Second)/time.Second), 0)
}

// finish records the end of the monitor of s; a monitor already finished
// (terminated meanwhile), or gone (its id names another monitor now), is
// not an error. One whose record was purged meanwhile (terminated, then
// purged) is a *purgedError, which unfinished turns into gone's state.
func (t *Tasks) finish(ctx context.Context, s State, rs RuntimeStatus, out Output, cs *CustomStatus, now time.Time) error {
	id := s.InstanceID
	err := t.Store.Finish(ctx, id, Finish{RuntimeStatus: rs, Output: out, At: now, PurgeAt: now.Add(t.retention()), CustomStatus: cs, Created: s.StartedAt})
	switch {
	case err == nil, IsKind(err, KindGone):
		return nil
	case IsKind(err, KindNotFound):
		return &purgedError{err}
	}
	return TaskError(fmt.Errorf("finish %s: %w", id, err))
}

// purgedError is finish's error for a record purged before the finish.
type purgedError struct{ err error }

func (e *purgedError) Error() string { return e.err.Error() }

// unfinished returns what a task whose finish failed with err returns:
// for a record purged meanwhile the state gone gives (the task ends
// quietly, as a check's record or an alert's claim that finds no record
// does: the user who purged it no longer asks), else err.
func (t *Tasks) unfinished(ctx context.Context, s State, jobID string, err error, now time.Time) (State, error) {
	if pe, ok := err.(*purgedError); ok {
		return t.gone(ctx, s, jobID, "finish", pe.err, now), nil
	}
	return s, err
}

// AlertTransientRetries is how many times the state machine retries the
// alert task when the alert's own destination fails transiently. The
// current definition retries by a Wait (TaskInput.RetryByWait), and the
// task counts those retries in State.AlertRetry. A definition from before
// it retries the task's *TransientError with the Alert state's Retry
// (MaxAttempts, the same number, which the current definition keeps for
// the deployment's transient failures). The task tells its last attempt by
// the claims the store counts (AlertState.Attempts), not by
// $$.State.RetryCount, which also counts retries for Lambda's own errors
// (throttling) that never ran the task: a run of the task claims at most
// SendAttempts times, and each run that ends with a TransientError, or
// with a Lambda timeout, is one of that Retry's, so a run that finds
// SendAttempts*AlertTransientRetries claims before its own is that
// Retry's last attempt or later. A send still failing transiently at the
// monitor's own destination on that run ends the monitor Failed instead of
// failing the execution. A run cut short claims fewer times, which can
// only make that run come later (the execution then fails instead), never
// earlier.
const AlertTransientRetries = 5

// Alert sends the monitor's alert at most once and finishes the monitor.
// The send is claimed in the store before it happens and recorded after:
// a retried task finds the alert sent and only finishes; a send that a
// crash interrupted, or whose outcome the sender could not tell
// (*OutcomeUnknownError: no answer after the request was written), is
// never repeated (its outcome is reported as "unknown"); a monitor
// terminated before the claim sends nothing ("cancelled"). A send that
// fails transiently is tried SendAttempts times, 1 s, 2 s... apart or, when
// the destination asked for longer (TransientError.RetryAfter, at most
// MaxAlertRetryAfter), that long apart. When the alert's own destination
// still fails (a caller's webhook) and the state machine retries by a
// Wait (in.RetryByWait), the task returns normally with State.AlertRetry
// set, and a pause its destination asked for longer than
// MaxAlertRunPause is not made in the run but by that Wait; otherwise the
// failure is returned as *TransientError for
// the state machine's Retry. A pause that would leave less
// than an attempt's time (alertAttemptReserve) before ctx's deadline is
// not made: without RetryByWait the run's remaining attempts are then
// counted without a send (forgoAttempts) and the error says why, and that the destination asked
// for more than the remaining retries can wait, when it did. A
// send its destination refuses for good (a *PermanentError of the
// monitor's input), or that still fails transiently at the monitor's own
// destination on the state machine's last attempt for it (a
// *TransientError of the input, see AlertTransientRetries), ends the
// monitor Failed with the alert "failed". The operators' alarms count
// function errors, and with RetryByWait a caller's destination sets off
// none.
func (t *Tasks) Alert(ctx context.Context, in TaskInput) (State, error) {
	s := in.State
	retried := 0 // the retries by wait before this run
	if s.AlertRetry != nil {
		retried = s.AlertRetry.Retries
	}
	s.AlertRetry = nil
	prep, err := t.prepareAlert(ctx, s)
	if err != nil {
		return s, err
	}
	alert, channel, sender, jobID, msg := prep.alert, prep.channel, prep.sender, prep.jobID, prep.msg

	attempts := t.SendAttempts
	if attempts <= 0 {
		attempts = 3
	}
	budget, _ := timeLeft(ctx) // a run's time, as later runs have it too
	var lastErr error
	tried := 0 // the sends of this run
	alertStatus, detail := "", ""
	claimedBefore := -1 // the claims of earlier runs, at this run's first claim
	for attempt := 1; alertStatus == "" && attempt <= attempts; attempt++ {
		send := sender
		if p, ok := sender.(Preparer); ok {
			send = p.Prepare(ctx, alert) // before the claim
		}
		now := t.now()
		st, claimed, err := t.Store.ClaimAlert(ctx, s.InstanceID, s.StartedAt, channel, now)
		if IsKind(err, KindGone) {
			// The id names another monitor now: this one was finished
			// and purged while its alert was due.
			alertStatus = "cancelled"
			break
		}
		if IsKind(err, KindNotFound) {
			// Terminated and purged while its alert was due.
			return t.gone(ctx, s, jobID, "claim the alert", err, now), nil
		}
		if err != nil {
			return s, TaskError(fmt.Errorf("alert %s: claim: %w", s.InstanceID, err))
		}
		if claimed && claimedBefore < 0 {
			claimedBefore = st.Attempts - 1
		}
		if !claimed {
			alertStatus, detail, err = t.claimedBefore(ctx, s, st, channel)
			if err != nil {
				return s, err
			}
			break
		}
		tried++
		id, sendErr := send.Send(ctx, alert, msg)
		var unknown *OutcomeUnknownError
		if errors.As(sendErr, &unknown) {
			// The provider may have accepted it: as after a crash
			// mid-send, the claim stays "sending" so that nothing sends
			// it again, and the outcome is reported as unknown.
			// The deployment's provider (SNS, Twilio) not answering is
			// the operators' to see (an ERROR line, which the stack's
			// AlertErrorLinesAlarm counts); a caller's own webhook not
			// answering is that caller's.
			level := slog.LevelError
			if channel == ChannelWebhook {
				level = slog.LevelWarn
			}
			t.logger().Log(ctx, level, "alert outcome unknown; not sending again", "instanceId", s.InstanceID, "channel", channel,
				"err", redactDestination(alert, sendErr.Error()))
			alertStatus = "unknown"
			detail = fmt.Sprintf("%s send: %v", channel, sendErr)
			break
		}
		res := AlertResult{Sent: sendErr == nil, MessageID: id, At: t.now(), Created: s.StartedAt}
		if sendErr != nil {
			res.Error = sendErr.Error()
			t.logFailedSend(ctx, s.InstanceID, alert, st.Attempts, sendErr)
		}
		if sendErr == nil {
			switch err := t.recordSend(ctx, s.InstanceID, st.Attempts, res); {
			case IsKind(err, KindGone), IsKind(err, KindNotFound):
				// The monitor was terminated and purged during the send
				// (KindGone: and its id started again), its record with
				// it: its user no longer asks for the outcome.
				t.logger().InfoContext(ctx, "alert sent after its monitor was purged", "instanceId", s.InstanceID)
			case err != nil:
				// Sent but not recorded: the claim stays "sending", so a
				// retry will not send again; one in this process records
				// the send.
				t.logger().ErrorContext(ctx, "alert sent but not recorded", "instanceId", s.InstanceID, "err", err)
				t.rememberUnrecorded(s, st.Attempts, res)
			}
			alertStatus = "sent"
			break
		}
		if err := t.recordSend(ctx, s.InstanceID, st.Attempts, res); err != nil {
			if IsKind(err, KindGone) || IsKind(err, KindNotFound) {
				// Terminated and purged (and perhaps started again)
				// during the send: no monitor is left to send for.
				alertStatus, detail = string(AlertFailed), fmt.Sprintf("%s send: %v", channel, sendErr)
				break
			}
			return s, TaskError(fmt.Errorf("alert %s: record failure: %w", s.InstanceID, err))
		}
		lastErr = sendErr
		if pe, ok := inputFailure(sendErr); ok {
			detail := fmt.Sprintf("alert not sent (%s): %s", channel, pe.Message)
			return t.failOnInput(ctx, s, jobID, detail, "failed", t.conditionStatus(s, jobID), s.Check.CheckCount, t.now())
		}
		var pe *PermanentError
		if errors.As(sendErr, &pe) || (KindOf(sendErr) != KindUnavailable && KindOf(sendErr) != KindRateLimited && !isTransient(sendErr)) {
			// The deployment's fault: the error goes to the operators'
			// log and the execution's history, without the number.
			return s, &PermanentError{Message: fmt.Sprintf("alert %s: %s send failed: %s", s.InstanceID, channel, redactDestination(alert, sendErr.Error()))}
		}
		if attempt < attempts {
			pause, asked := sendPause(attempt, sendErr)
			byWait := in.RetryByWait && inputTransient(sendErr) // the state machine waits for this run
			if byWait && pause > max(backoffPause(attempt), MaxAlertRunPause) {
				// The destination asked for a long wait: the state
				// machine's Wait makes it, where the function would be
				// billed for it. A short one is made here, and the run
				// sends again.
				lastErr = askedToWait(sendErr, asked)
				break
			}
			if left, ok := timeLeft(ctx); ok && left < pause+alertAttemptReserve {
				// The pause does not fit in this run: its remaining
				// attempts are forgone, not sent early.
				if byWait {
					break // the state machine's Wait makes the pause
				}
				lastErr = waitTooLong(sendErr, asked, left, budget, claimedBefore/attempts)
				t.forgoAttempts(ctx, s, channel, attempts-attempt, lastErr)
				break
			}
			if err := t.sleep(ctx, pause); err != nil {
				return s, &TransientError{Message: fmt.Sprintf("alert %s: %v", s.InstanceID, err)}
			}
		}
	}
	if alertStatus == "" {
		return t.alertNotSent(ctx, s, in.RetryByWait, notSent{channel: channel, jobID: jobID, alert: alert, lastErr: lastErr,
			retried: retried, tried: tried, claimedBefore: claimedBefore, attempts: attempts})
	}
	return t.alertEnded(ctx, s, jobID, alertStatus, detail)
}

// preparedAlert is what every send of a run of the alert task sends, and
// through which sender.
type preparedAlert struct {
	alert   Alert
	channel string
	sender  Sender
	jobID   string // the monitor's job id, or its instance id
	msg     Message
}

// prepareAlert checks that the monitor's alert can be sent here (it has
// one, its channel is configured, its SNS topic is allowed: a
// *PermanentError otherwise) and renders its message, keyed for
// idempotency by the monitor's start. A template that fails is logged and
// the default message sent.
func (t *Tasks) prepareAlert(ctx context.Context, s State) (preparedAlert, error) {
	if s.Spec.Alert == nil {
		return preparedAlert{}, &PermanentError{Message: fmt.Sprintf("alert %s: the monitor has no alert", s.InstanceID)}
	}
	p := preparedAlert{alert: *s.Spec.Alert, jobID: s.Spec.JobID}
	p.channel = p.alert.ChannelOf()
	if p.sender = t.Senders[p.channel]; p.sender == nil {
		return preparedAlert{}, &PermanentError{Message: fmt.Sprintf("alert %s: the %s channel is not configured", s.InstanceID, p.channel)}
	}
	if p.alert.TopicArn != "" && !t.AlertTopics.Allows(p.alert.TopicArn) {
		return preparedAlert{}, &PermanentError{Message: fmt.Sprintf("alert %s: topic %s %s", s.InstanceID, p.alert.TopicArn, topicNotAllowed)}
	}
	if p.jobID == "" {
		p.jobID = s.InstanceID
	}
	var err error
	if p.msg, err = renderMessage(p.alert, t.alertData(s, p.jobID)); err != nil {
		t.logger().WarnContext(ctx, "alert message template failed; sending the default message", "instanceId", s.InstanceID, "err", err)
	}
	p.msg.IdempotencyKey = AlertKey(s.InstanceID, s.StartedAt)
	return p, nil
}

// claimedBefore returns the outcome of an alert whose claim was taken
// before this attempt (st, as ClaimAlert returned it unclaimed): "sent",
// "cancelled" (the monitor was terminated while its alert was due), or
// "unknown" with its detail (an attempt ended mid-send). An attempt of
// this process that sent and could not record it is recorded now, "sent".
func (t *Tasks) claimedBefore(ctx context.Context, s State, st AlertState, channel string) (alertStatus, detail string, err error) {
	switch st.Status {
	case AlertSent:
		return "sent", "", nil
	case AlertSending:
		// An earlier attempt ended mid-send, or sent and could not
		// record it. This process knows which, if it was this
		// process's own attempt.
		res, ok := t.takeUnrecorded(s, st.Attempts)
		if !ok {
			return "unknown", fmt.Sprintf("%s send: an earlier attempt ended before its outcome was recorded (the process stopped, "+
				"or the store failed): the alert may or may not have gone out, and is not sent again", channel), nil
		}
		if err := t.recordSend(ctx, s.InstanceID, st.Attempts, res); err != nil && !IsKind(err, KindGone) && !IsKind(err, KindNotFound) {
			t.rememberUnrecorded(s, st.Attempts, res)
			return "", "", TaskError(fmt.Errorf("alert %s: record the send: %w", s.InstanceID, err))
		}
		t.logger().InfoContext(ctx, "alert sent by an earlier attempt, recorded now", "instanceId", s.InstanceID)
		return "sent", "", nil
	default: // the monitor was terminated while its alert was due
		return "cancelled", "", nil
	}
}

// notSent is what an alert run that sent nothing leaves for alertNotSent.
type notSent struct {
	channel, jobID string
	alert          Alert
	lastErr        error // the last send's failure
	retried        int   // the retries by wait before this run
	tried          int   // this run's sends
	claimedBefore  int   // the claims of earlier runs, at this run's first claim (-1: none claimed)
	attempts       int   // the sends a run makes at most
}

// alertNotSent ends an alert run whose sends all failed transiently:
// with a retry by the state machine's Wait when retryByWait and the
// monitor's own destination failed, the monitor Failed when that
// destination has failed past the retries, else a *TransientError for
// the state machine's Retry.
func (t *Tasks) alertNotSent(ctx context.Context, s State, retryByWait bool, n notSent) (State, error) {
	channel, jobID, lastErr, retried := n.channel, n.jobID, n.lastErr, n.retried
	if retryByWait && inputTransient(lastErr) {
		if retried >= AlertTransientRetries {
			detail := fmt.Sprintf("alert not sent (%s), still failing after %d retries: %v", channel, retried, lastErr)
			return t.failOnInput(ctx, s, jobID, detail, "failed", t.conditionStatus(s, jobID), s.Check.CheckCount, t.now())
		}
		wait := alertRetryWait(retried, askedRetryAfter(lastErr), rand.N[time.Duration])
		s.AlertRetry = &AlertRetry{Retries: retried + 1, WaitSeconds: int((wait + time.Second - 1) / time.Second)}
		t.logger().InfoContext(ctx, "alert not sent; retrying after a wait", "instanceId", s.InstanceID, "channel", channel,
			"retry", s.AlertRetry.Retries, "waitSeconds", s.AlertRetry.WaitSeconds)
		t.scheduleAlert(ctx, s, t.now().Add(time.Duration(s.AlertRetry.WaitSeconds)*time.Second))
		return s, nil
	}
	if inputTransient(lastErr) && n.claimedBefore >= n.attempts*AlertTransientRetries {
		// The state machine will not retry again, and what fails is the
		// caller's own destination: the monitor's outcome, not a fault
		// of the service.
		detail := fmt.Sprintf("alert not sent (%s), still failing after the state machine's %d retries: %v", channel, AlertTransientRetries, lastErr)
		return t.failOnInput(ctx, s, jobID, detail, "failed", t.conditionStatus(s, jobID), s.Check.CheckCount, t.now())
	}
	return s, &TransientError{Message: fmt.Sprintf("alert %s: %s send failed after %d attempts: %s", s.InstanceID, channel, n.tried,
		redactDestination(n.alert, fmt.Sprint(lastErr)))}
}

// alertEnded finishes the monitor once its alert has an outcome
// (alertStatus: "sent", "unknown", "cancelled" or "failed", detail what
// the output adds): its output, final status (Alerted, or the job's end
// when that is what the alert was for) and record.
func (t *Tasks) alertEnded(ctx context.Context, s State, jobID string, alertStatus, detail string) (State, error) {
	final := FinalAlerted
	if s.Check.Status == StatusCompleted || s.Check.Status == StatusFailed {
		final = finalStatusOf(s.Check.Status)
	}
	now := t.now()
	out := t.output(s, jobID, final, s.Check.CheckCount, now)
	out.AlertStatus = alertStatus
	out.Detail = alertOutputDetail(s.Check.Detail, detail)
	out.OpenIssues = s.Check.OpenIssues
	if err := t.finish(ctx, s, RuntimeCompleted, out, t.conditionStatus(s, jobID), now); err != nil {
		return t.unfinished(ctx, s, jobID, err, now)
	}
	s.Check.Output = &out
	s.Check.Done = true
	s.Check.ConditionMet = false
	return s, nil
}

// MaxAlertRetryAfter bounds how long the alert task waits, before it
// sends again, for a destination that asked it to (an HTTP Retry-After,
// TransientError.RetryAfter): a longer wait counts as this long.
const MaxAlertRetryAfter = 5 * time.Minute

// MaxAlertRunPause is the longest wait a destination asks for
// (TransientError.RetryAfter) that the alert task makes between two sends
// of one run when the state machine retries by a Wait
// (TaskInput.RetryByWait); a longer one ends the run's sends, and the
// state machine's AlertRetryWait waits it out, costing nothing, before
// the next run.
const MaxAlertRunPause = 10 * time.Second

// alertAttemptReserve is the time a pause between send attempts must
// leave before the run's deadline (the function's timeout) for the attempt
// after it: a send (15 s at most), a secret's read, the claim, the
// record of its result and the final write.
const alertAttemptReserve = 30 * time.Second

// The alert task's retries: the Alert state's Retry for TransientError
// (statemachine.asl.json) makes its retry number k (from 0) of the task at
// most min(AlertRetryInterval * AlertRetryBackoff^k, AlertRetryMaxDelay)
// after the run it retries (IntervalSeconds, BackoffRate,
// MaxDelaySeconds), and with its full jitter possibly at once; a retry by
// a Wait (State.AlertRetry) waits between half and all of the same
// (alertRetryWait).
const (
	AlertRetryInterval = 5 * time.Second
	AlertRetryBackoff  = 2
	AlertRetryMaxDelay = 120 * time.Second
)

// inputTransient reports whether err is a transient failure of the
// alert's own destination (TransientError.Input): a caller's webhook
// answering 503 or a name that does not resolve.
func inputTransient(err error) bool {
	var te *TransientError
	return errors.As(err, &te) && te.Input
}

// backoffPause is the alert task's own pause after its failed send
// attempt number attempt (from 1) of a run: 1 s, 2 s, 4 s...
func backoffPause(attempt int) time.Duration {
	return time.Duration(1<<(attempt-1)) * time.Second
}

// alertRetryWait returns how long the state machine waits (State.AlertRetry)
// before its retry number retried+1 of the alert task: AlertRetryInterval
// doubled at each retry before it (AlertRetryBackoff), at most
// AlertRetryMaxDelay, less a random part of
// up to half of it (jitter(n) returns a random duration in [0, n)), so
// that alerts due together do not all retry together; or, when longer,
// what the destination asked for (a Retry-After), at most
// MaxAlertRetryAfter.
func alertRetryWait(retried int, asked time.Duration, jitter func(time.Duration) time.Duration) time.Duration {
	d := AlertRetryInterval
	for range retried {
		if d >= AlertRetryMaxDelay {
			break
		}
		d *= AlertRetryBackoff
	}
	d = min(d, AlertRetryMaxDelay)
	d -= jitter(d/2 + 1)
	return max(d, min(asked, MaxAlertRetryAfter))
}

// askedToWait returns sendErr, a transient failure whose destination
// asked to be left alone for asked (a Retry-After), saying so: the error
// a run that leaves that wait to the state machine ends with.
func askedToWait(sendErr error, asked time.Duration) error {
	te := transientCopy(sendErr)
	te.Message += fmt.Sprintf("; the destination asked to wait %v (Retry-After)", asked)
	if asked > MaxAlertRetryAfter {
		te.Message += fmt.Sprintf(", of which an alert waits %v", MaxAlertRetryAfter)
	}
	return te
}

// transientCopy returns a copy of the *TransientError in err's chain, for
// a message to be added to it; one with err's text when there is none.
func transientCopy(err error) *TransientError {
	var te *TransientError
	if errors.As(err, &te) {
		c := *te
		return &c
	}
	return &TransientError{Message: err.Error()}
}

// sendPause returns how long the alert task waits after the failed send
// attempt number attempt (from 1) of a run, sendErr, before the next: 1 s,
// 2 s, 4 s... or, when longer, what the destination asked for
// (TransientError.RetryAfter, at most MaxAlertRetryAfter), which it
// returns as asked, uncapped.
func sendPause(attempt int, sendErr error) (pause, asked time.Duration) {
	asked = askedRetryAfter(sendErr)
	return max(backoffPause(attempt), min(asked, MaxAlertRetryAfter)), asked
}

// askedRetryAfter returns how long the destination of err, a failed send, asked
// to be left alone (TransientError.RetryAfter); 0 when it did not ask.
func askedRetryAfter(err error) time.Duration {
	var te *TransientError
	if errors.As(err, &te) && te.RetryAfter > 0 {
		return te.RetryAfter
	}
	return 0
}

// timeLeft returns the time until ctx's deadline; ok is false when it has
// none.
func timeLeft(ctx context.Context) (left time.Duration, ok bool) {
	end, ok := ctx.Deadline()
	if !ok {
		return 0, false
	}
	return time.Until(end), true
}

// waitTooLong returns sendErr, a transient failure after which the pause
// the run would make (asked, what the destination asked for, if anything)
// does not fit in the left that the run has, with that said: the error
// the forgone attempts record and the run returns. When asked is more
// than the state machine's remaining retries of the task, after run
// number done (from 0), can wait at most (their longest delays, and
// budget, a run's time, less the reserve of its last attempt, in each),
// it says that too.
func waitTooLong(sendErr error, asked, left, budget time.Duration, done int) error {
	te := transientCopy(sendErr)
	left = max(left, 0).Round(time.Second)
	if asked <= 0 {
		te.Message += fmt.Sprintf("; no further attempt in this run: %v left", left)
		return te
	}
	te.Message += fmt.Sprintf("; not sent again in this run: the destination asked to wait %v (Retry-After), %v left", asked, left)
	cover := time.Duration(0)
	delay := AlertRetryInterval
	for k := 0; k < AlertTransientRetries; k++ {
		if k >= done {
			cover += min(delay, AlertRetryMaxDelay) + max(budget-alertAttemptReserve, 0)
		}
		delay *= AlertRetryBackoff
	}
	if asked > cover {
		te.Message += fmt.Sprintf("; the state machine's %d remaining retries wait %v at most, too little for it", max(AlertTransientRetries-done, 0), cover.Round(time.Second))
	}
	return te
}

// forgoAttempts counts n attempts of the alert of s that this run does not
// make, so that each run of the task still claims SendAttempts times and
// the state machine's last retry is told by the claims
// (AlertTransientRetries): each is claimed and recorded as failed with
// reason, sending nothing. It stops at the first claim it does not get,
// or a write that fails, which it logs: the run ends with a
// *TransientError either way.
func (t *Tasks) forgoAttempts(ctx context.Context, s State, channel string, n int, reason error) {
	for range n {
		st, claimed, err := t.Store.ClaimAlert(ctx, s.InstanceID, s.StartedAt, channel, t.now())
		if err != nil || !claimed {
			if err != nil && !IsKind(err, KindGone) {
				t.logger().WarnContext(ctx, "counting a forgone alert attempt failed", "instanceId", s.InstanceID, "err", err)
			}
			return
		}
		res := AlertResult{Error: reason.Error(), At: t.now(), Created: s.StartedAt}
		if err := t.recordSend(ctx, s.InstanceID, st.Attempts, res); err != nil {
			if !IsKind(err, KindGone) && !IsKind(err, KindNotFound) {
				t.logger().ErrorContext(ctx, "recording a forgone alert attempt failed", "instanceId", s.InstanceID, "err", err)
			}
			return
		}
	}
}

// alertOutputDetail is the output's detail of a monitor that finished on
// its alert: the detail of the check that met the alert's condition, as
// every finished monitor's output has its last check's, followed by what
// became of the send (send), when the alert status alone does not say
// (an unknown outcome).
func alertOutputDetail(check, send string) string {
	switch {
	case check == "":
		return send
	case send == "":
		return check
	}
	return check + "; " + send
}

// logFailedSend logs, at WARN, the failed attempt number attempt
// (AlertState.Attempts, counted over the state machine's retries) to
// send the alert of monitor id, with where it went and why it failed.
// The senders' errors name a webhook by its host only (they are the
// alert's lastError, which the API shows); the webhook URL, should it
// appear whole, is redacted as the API shows it (RedactWebhookURL), and
// a phone number is not logged (redactDestination).
func (t *Tasks) logFailedSend(ctx context.Context, id string, alert Alert, attempt int, err error) {
	reason := redactDestination(alert, err.Error())
	to := alert.TopicArn
	if alert.WebhookURL != "" {
		to = RedactWebhookURL(alert.WebhookURL)
	}
	args := []any{"instanceId", id, "channel", alert.ChannelOf(), "attempt", attempt}
	if to != "" {
		args = append(args, "to", to)
	}
	t.logger().WarnContext(ctx, "alert send failed", append(args, "err", reason)...)
}

// recordAttempts is how many times Alert tries to record the outcome of
// a send.
const recordAttempts = 4

// recordReserve is the time recordSend leaves before the context's
// deadline (the function's timeout): for the task's last write, a failed
// monitor's Finish, and its answer.
const recordReserve = 5 * time.Second

// recordSend records res, the outcome of the send claimed as attempt
// number claim (AlertState.Attempts after its ClaimAlert): sent, or
// failed and known not to have gone out. It tries the store
// recordAttempts times with backoff: until it is recorded the claim says
// "sending", which no later attempt may take, so that giving up at the
// first store error would leave a failed alert reported "unknown" and
// never sent, and a sent one reported "unknown" too. The tries stop
// recordReserve before ctx's deadline, and no pause starts that would end
// past it: on Lambda that deadline is the function's timeout, past which
// nothing runs.
//
// A write whose answer was lost may have been applied (by this loop or by
// the store client's own retries); the write that follows is then refused
// with KindConflict, the alert being "sent" or "failed" already. A
// conflict is therefore checked against the record: the alert in res's
// state with this claim's attempt number means the outcome is recorded,
// and is success. Any other state (the claim is no longer this send's) is
// returned as a *TransientError: the state machine's retry claims anew
// and finds the alert as it is, sent or failed or being sent. KindGone
// (the record is another monitor's, see Store) and KindNotFound (purged)
// are returned at once, as they are.
func (t *Tasks) recordSend(ctx context.Context, id string, claim int, res AlertResult) error {
	ctx, cancel := deadline.Reserve(ctx, recordReserve)
	defer cancel()
	var err error
	for i := range recordAttempts {
		if i > 0 {
			pause := time.Duration(1<<(i-1)) * time.Second
			if end, ok := ctx.Deadline(); ok && time.Until(end) < pause {
				return err
			}
			if serr := t.sleep(ctx, pause); serr != nil {
				return err
			}
		}
		err = t.Store.CompleteAlert(ctx, id, res)
		if err == nil || IsKind(err, KindGone) || IsKind(err, KindNotFound) {
			return err
		}
		if IsKind(err, KindConflict) {
			return t.recordedOutcome(ctx, id, claim, res.Sent, err)
		}
		t.logger().WarnContext(ctx, "recording an alert send failed; trying again", "instanceId", id, "sent", res.Sent, "err", err)
	}
	return err
}

// scheduleAlert records in the status record when the state machine's
// Wait will have the alert task send s's failed alert again, for the
// monitor's status to show. It is what the status shows, not what the
// retry depends on: a write that fails is logged and the retry goes on.
func (t *Tasks) scheduleAlert(ctx context.Context, s State, at time.Time) {
	ctx, cancel := deadline.Reserve(ctx, recordReserve)
	defer cancel()
	if err := t.Store.ScheduleAlert(ctx, s.InstanceID, s.StartedAt, at); err != nil && !IsKind(err, KindGone) && !IsKind(err, KindNotFound) {
		t.logger().WarnContext(ctx, "recording when the alert is retried failed; the status will not show it", "instanceId", s.InstanceID, "err", err)
	}
}

// recordedOutcome tells whether conflict, CompleteAlert's refusal to
// record the outcome of claim (sent, or failed), is that outcome already
// recorded: nil if so, else a *TransientError.
func (t *Tasks) recordedOutcome(ctx context.Context, id string, claim int, sent bool, conflict error) error {
	rec, err := t.Store.Get(ctx, id)
	if err != nil {
		return &TransientError{Message: fmt.Sprintf("%v; reading the record: %v", conflict, err)}
	}
	want := AlertFailed
	if sent {
		want = AlertSent
	}
	if rec.Alert.Status == want && rec.Alert.Attempts == claim {
		return nil
	}
	return &TransientError{Message: fmt.Sprintf("%v (attempt %d, this send's is %d)", conflict, rec.Alert.Attempts, claim)}
}

// conditionStatus is the custom status of the check that met the alert
// condition, rebuilt from the state for the monitor's final record: a
// retried check may have met the condition where the attempt the store
// recorded (the same check number, whose answer was lost) did not. Nil
// for a state written before the state kept the check's time.
func (t *Tasks) conditionStatus(s State, jobID string) *CustomStatus {
	if s.Check.CheckedAt.IsZero() {
		return nil
	}
	cs := t.customStatus(s, jobID, s.Check, s.Check.CheckedAt)
	cs.Detail = s.Check.Detail
	cs.LastEvent = s.Check.LastEvent
	return &cs
}

func isTransient(err error) bool {
	var te *TransientError
	return errors.As(err, &te)
}

func (t *Tasks) sleep(ctx context.Context, d time.Duration) error {
	if t.Sleep != nil {
		return t.Sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func (t *Tasks) alertData(s State, jobID string) AlertData {
	d := AlertData{
		InstanceID: s.InstanceID,
		JobID:      jobID,
		Name:       NameFor(s.Spec),
		Status:     s.Check.Status,
		Detail:     alertDetail(s.Check.Detail),
		CheckCount: s.Check.CheckCount,
		ObservedAt: s.Check.CheckedAt,
	}
	if d.ObservedAt.IsZero() { // a state from before CheckedAt
		d.ObservedAt = t.now()
	}
	switch s.Spec.Target.Type {
	case TargetGitHub:
		d.Target = s.Spec.Target.Repo
		d.Threshold = s.Spec.Target.MinOpenIssues
		if s.Check.OpenIssues != nil {
			d.OpenIssues = *s.Check.OpenIssues
		}
	case TargetHTTP:
		// As statuses show it: the query may hold a token.
		d.Target = RedactURL(s.Spec.Target.URL)
	default:
		d.Target = "job " + jobID
	}
	return d
}
