package monitor

import (
	"context"
	"time"
)

// Store persists monitors' status records. It is the one contract shared by
// the DynamoDB store (AWS) and the SQLite store (local); both run the
// conformance suite in package storetest.
//
// Every method is safe for concurrent use by many goroutines and processes.
// Errors are *Error values with these kinds:
//   - KindNotFound: no record with that instance id;
//   - KindConflict: Create of an id that exists; DeleteFinished or
//     ReleaseClaim of a record that is not the one named;
//   - KindGone: a change to a record that has already finished, and a
//     write of a workflow task, or SetExecution, to a record of the id
//     that is not its monitor's (see below);
//   - KindUnavailable: a transient failure of the backing service (retry),
//     and a call whose context ended (cancelled, or past its deadline)
//     before the store answered;
//   - KindTooLarge: a write that would take a record past the backing
//     service's size limit (DynamoDB's 400 KB item; SQLite has none that
//     a record reaches). Callers keep records far below it: a spec of at
//     most MaxBodyBytes, at most MaxEventsPerMonitor events of
//     MaxEventDataBytes, a check detail of MaxCheckDetail;
//   - anything else is KindInternal.
//
// A method never returns a nil error for a record that does not exist.
//
// A record is one monitor's: its instance id and its CreatedTime, the
// monitor's start, which every execution of the monitor carries
// (State.StartedAt). The writes of the workflow's tasks (RecordCheck,
// Finish, ConsumeEvents, ClaimAlert, CompleteAlert, ScheduleAlert), and
// SetExecution, which links an execution to the claim it was started for,
// name the created time of the record they are for, and apply only to the
// record of the id with that CreatedTime (to the store's precision), as a
// condition of the same write: a task of a monitor that was finished and
// purged, whose instance id was then started again (its check outlived
// the terminate), must not change the new monitor's record, nor may an
// execution started for a claim that was released be recorded in a newer
// claim of the id. To a record of the id with another CreatedTime such a
// write changes nothing and returns KindGone (NotTheMonitor), whatever
// the method returns for a finished record: the monitor it was for has
// gone. A zero created time names any record of the id, the behaviour of
// executions whose state carries no start time.
type Store interface {
	// Create stores a new record. It is the atomic claim of rec.InstanceID:
	// of two concurrent Creates of one id, exactly one succeeds and the
	// other gets KindConflict. An id whose record Get no longer finds (a
	// store may hide a record past its purge time until its backing
	// service deletes it) can be created again.
	Create(ctx context.Context, rec Record) error

	// Get returns the record with the given instance id.
	Get(ctx context.Context, id string) (Record, error)

	// SetExecution records, in the record created at created (KindGone
	// for another, like a task's write), the ARN of the execution now
	// running the monitor (after StartExecution) and moves
	// LastUpdatedTime to at unless it is later already: the execution's
	// first check may have recorded its status, with a later time, before
	// the caller records the execution. It fails with KindGone when the
	// record has finished; a finished record that names no execution
	// (terminated while its start was under way) takes the ARN all the
	// same, and keeps its LastUpdatedTime, so that it names the execution
	// the start then stops, or that ended itself on finding the monitor
	// terminated. The condition on created is what keeps a start,
	// or a mend of a claim, from linking its execution to a newer claim
	// of the id made after the one it started for was released.
	SetExecution(ctx context.Context, id string, created time.Time, executionArn string, at time.Time) error

	// RecordCheck stores the custom status of check number
	// u.CustomStatus.CheckCount, in the record created at u.Created
	// (KindGone for another), and moves a Pending record to Running. It
	// is monotonic: it applies only when that number is greater than the
	// stored check count, so a retried or late check never moves the count
	// backwards, or when it equals the stored count for a re-run of that
	// check (see CheckApplies): the last attempt wins, as its result is
	// the one the workflow goes on with, and the count stays. applied
	// reports whether it did. On a finished record it returns
	// applied=false and no error.
	RecordCheck(ctx context.Context, id string, u CheckUpdate) (applied bool, err error)

	// Finish moves a live record, the one created at f.Created, to a
	// final status with its output and purge time. The first Finish wins;
	// a later one returns KindGone and changes nothing, as does one for a
	// record created at another time. The record keeps its custom status, or takes
	// f.CustomStatus, without a NextCheckTime: a finished monitor checks
	// no more, however it ended (terminated, stopped from outside, failed).
	//
	// An output whose alert_status is OutputAlertUnknown (built while the
	// alert was being sent) is stored with the send's result instead,
	// "sent" or "failed", when the stored alert status is already AlertSent
	// or AlertFailed: the CompleteAlert of that send landed between the
	// caller's read and the Finish, and no later write would correct it.
	// This is part of the same write or, where the backing service cannot
	// read and write in one, of a second one conditional on the output
	// being unchanged in the record that Finish wrote, the one created at
	// the time it read (see CompleteAlert). With f.FromRecord the output's
	// checks_performed and alert_status are the record's at the write
	// (Output.WithRecord), in the same write or in later ones conditional
	// on the output and the alert status being those they saw.
	Finish(ctx context.Context, id string, f Finish) error

	// AddEvent appends an external event. KindGone when finished;
	// KindConflict when the record already holds MaxEventsPerMonitor
	// events, pending and consumed ones that ConsumeEvents has not
	// dropped yet (see EventCapError). The cap is part of the write: of
	// concurrent AddEvents, no more succeed than there is room for.
	//
	// Each call stores its event once. Two calls store two events, also
	// of the same name, data and time; and where the store's client sends
	// a write again when the backing service applied it and the answer
	// was lost (the DynamoDB store's SDK retries), the call still stores
	// one and succeeds, even if its event filled the record or the
	// monitor has finished since.
	AddEvent(ctx context.Context, id string, ev Event) error

	// ConsumeEvents marks every pending event of the record created at
	// created (KindGone for another) as consumed by check number check
	// and returns, oldest first, all events consumed by that check,
	// including those an earlier attempt of the same check consumed, so
	// that a retried check sees the same events. On a finished record it
	// marks nothing, drops nothing and returns what that check consumed
	// before.
	//
	// Check number check runs only after check-1 has succeeded, so events
	// consumed by earlier checks are no longer needed: ConsumeEvents
	// drops them in the write that marks pending events, and, when
	// nothing is pending, in a write of its own only if the record is
	// full (MaxEventsPerMonitor events), so that a check without events
	// writes nothing unless the record needs the room. The cap thus
	// bounds what a record holds, not what a monitor receives in its
	// life. Events consumed by check itself, or by a later check, are
	// kept.
	ConsumeEvents(ctx context.Context, id string, created time.Time, check int) ([]Event, error)

	// ClaimAlert claims the right to send the monitor's alert on channel,
	// in the record created at created (KindGone for another, with the
	// zero AlertState: that record's alert is not the caller's). It
	// succeeds (claimed=true) only when the record is live and the
	// alert status is AlertNone or AlertFailed, moving it to AlertSending,
	// counting the attempt and clearing RetryAt; it returns the state
	// after the call either way. On a finished record (terminated while its alert was due) it
	// claims nothing and returns no error.
	//
	// A claim is the call's, not its arguments': of two calls, even with
	// the same arguments (the alert task run twice at once, whose clocks
	// may agree), at most one claims. And a call's own claim is claimed:
	// where the store's client sends a write again when the backing
	// service applied it and the answer was lost (the DynamoDB store's
	// SDK retries), the call still reports claimed=true, with the state
	// its write left, not the claim it meets. The caller takes a refused
	// claim of a sending alert for another call's, alive or dead mid-send,
	// and sends nothing.
	ClaimAlert(ctx context.Context, id string, created time.Time, channel string, at time.Time) (state AlertState, claimed bool, err error)

	// CompleteAlert records the result of the claimed send in the record
	// created at res.Created (KindGone for another, KindNotFound when
	// there is none: purged during the send): AlertSent or
	// AlertFailed with the error. It fails with KindConflict unless the
	// alert status is AlertSending. On a record that finished during the
	// send (a terminate), whose output's alert_status therefore reads
	// OutputAlertUnknown, it also sets that to "sent" or "failed", in the
	// same write or, where the backing service cannot, in a second one
	// conditional on the output being unchanged in the record that
	// CompleteAlert wrote, the one created at the time it read: never in
	// a newer record of the id.
	CompleteAlert(ctx context.Context, id string, res AlertResult) error

	// ScheduleAlert records at as the time the monitor's failed alert
	// will be sent again (AlertState.RetryAt), in the record created at
	// created (KindGone for another, KindNotFound when there is none). It
	// writes only a live record whose alert status is AlertFailed; on
	// any other it does nothing and returns no error: the alert was
	// claimed again, or the monitor ended, since the caller's send
	// failed.
	ScheduleAlert(ctx context.Context, id string, created, at time.Time) error

	// List returns records matching q, newest first, a page at a time: at
	// most q.PageSize() records, and a continuation token unless the page
	// is the last. A page may hold fewer records than the page size, even
	// none, and still have a token: a store may bound the work of one call
	// (the DynamoDB store stops reading after a few thousand records that
	// a status filter rejects), so only a page without a token ends the
	// list. A bad continuation token is KindInvalid.
	List(ctx context.Context, q ListQuery) (ListPage, error)

	// DeleteFinished removes the record id and everything stored with it,
	// only while it is finished (Completed, Failed or Terminated) and has
	// the CreatedTime created (to the store's precision): the check and
	// the delete are one write. It is how a purge deletes the finished
	// record it read, without ever deleting a live monitor, nor a newer
	// record of the id that a start created after another purge (or the
	// store's expiry) removed the one read. Anything else is KindConflict
	// and changes nothing; no record is KindNotFound.
	DeleteFinished(ctx context.Context, id string, created time.Time) error

	// ReleaseClaim deletes the record id with everything stored with it
	// only while it is the unstarted claim created at created: Pending,
	// with no execution recorded, and with that CreatedTime (to the
	// store's precision). It
	// is how a start gives up its own claim, and how a later start takes
	// over a claim that a dead start left behind, without ever deleting a
	// monitor whose execution runs or a newer claim of the id. Anything
	// else is KindConflict and changes nothing; no record is KindNotFound.
	ReleaseClaim(ctx context.Context, id string, created time.Time) error
}

// The errors of the Store contract that every implementation returns, so
// that their kinds and wording are the same whatever the backing service.

// NotFoundError is KindNotFound: no record with instance id id.
func NotFoundError(op, id string) *Error {
	return Errorf(KindNotFound, op, "monitor %s not found", id)
}

// FinishedError is KindGone: a change to the record of id, which has
// already finished with status.
func FinishedError(op, id string, status RuntimeStatus) *Error {
	return Errorf(KindGone, op, "monitor %s has finished (%s)", id, status)
}

// NotTheMonitor is the KindGone error of a task's write to the record of
// id when that record was not created at created: the monitor the write
// was for has gone (finished and purged), and the id names another.
func NotTheMonitor(op, id string, created time.Time) *Error {
	return Errorf(KindGone, op, "monitor %s started at %s has gone: the record of that id is another monitor's", id, created.UTC().Format(time.RFC3339Nano))
}

// NotFinalError is KindInvalid: Finish with a status that is not final.
func NotFinalError(op string, status RuntimeStatus) *Error {
	return Errorf(KindInvalid, op, "%q is not a final status", status)
}

// AlertNotSendingError is KindConflict: CompleteAlert of a record whose
// alert status is status, not AlertSending.
func AlertNotSendingError(op, id string, status AlertStatus) *Error {
	return Errorf(KindConflict, op, "alert of monitor %s is %q, not sending", id, status)
}

// NotTheClaim is the KindConflict error of a ReleaseClaim of id when the
// record is not the unstarted claim created at created.
func NotTheClaim(op, id string, created time.Time) error {
	return Errorf(KindConflict, op, "monitor %s is not the unstarted claim created at %s", id, created.UTC().Format(time.RFC3339Nano))
}

// NotTheFinished is the KindConflict error of a DeleteFinished of id when
// the record is not the finished one created at created.
func NotTheFinished(op, id string, created time.Time) error {
	return Errorf(KindConflict, op, "monitor %s is not the finished record created at %s", id, created.UTC().Format(time.RFC3339Nano))
}
