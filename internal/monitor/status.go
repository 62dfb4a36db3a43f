package monitor

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// RuntimeStatus is a monitor's lifecycle state, named as in Durable
// Functions' status query API.
type RuntimeStatus string

// Runtime statuses. Pending and Running are live; the others are final.
const (
	RuntimePending    RuntimeStatus = "Pending"    // claimed, no check has run yet
	RuntimeRunning    RuntimeStatus = "Running"    // at least one check has run
	RuntimeCompleted  RuntimeStatus = "Completed"  // ended by its own logic: see Output.FinalStatus
	RuntimeFailed     RuntimeStatus = "Failed"     // the workflow failed or timed out
	RuntimeTerminated RuntimeStatus = "Terminated" // stopped by a terminate request or from the console
)

// Final reports whether s is a final (terminal) status.
func (s RuntimeStatus) Final() bool {
	return s == RuntimeCompleted || s == RuntimeFailed || s == RuntimeTerminated
}

// Valid reports whether s is one of the defined statuses.
func (s RuntimeStatus) Valid() bool {
	switch s {
	case RuntimePending, RuntimeRunning, RuntimeCompleted, RuntimeFailed, RuntimeTerminated:
		return true
	}
	return false
}

// Final statuses of a monitor's output.
const (
	FinalCompleted  = "Completed"  // the job completed
	FinalFailed     = "Failed"     // the job failed, or the monitor could not go on
	FinalTimeout    = "Timeout"    // the monitor expired before anything happened
	FinalAlerted    = "Alerted"    // the condition was met and the alert went out
	FinalTerminated = "Terminated" // someone stopped the monitor
)

// RuntimeStatusProblem is the problem of s, given as a runtime status to
// filter by, that is none. A final status that is no runtime status
// (Timeout, Alerted) is told apart: filtering by it is a likely mistake.
func RuntimeStatusProblem(s string) string {
	p := fmt.Sprintf("must be a comma-separated list of Pending, Running, Completed, Failed and Terminated, not %q", TruncateBytes(s, 40))
	if note := FinalStatusNote(s); note != "" {
		p += "; " + note
	}
	return p
}

// FinalStatusNote says, when s names a final status that is no runtime
// status (in any case), which runtime status its monitors have; "" for
// any other s.
func FinalStatusNote(s string) string {
	switch {
	case strings.EqualFold(s, FinalTimeout):
		return "Timeout is an output's final_status, not a runtime status: a monitor that timed out is Completed, or Failed when its Step Functions execution timed out"
	case strings.EqualFold(s, FinalAlerted):
		return "Alerted is an output's final_status, not a runtime status: a monitor that sent its alert is Completed"
	}
	return ""
}

// CustomStatus is what a monitor reports while it runs (snake_case, as in
// the seed). It is written after every check.
type CustomStatus struct {
	JobID         string    `json:"job_id"`
	Status        string    `json:"status"`
	CheckCount    int       `json:"check_count"`
	LastCheckTime time.Time `json:"last_check_time"`
	// NextCheckTime is zero once the monitor has decided to stop.
	NextCheckTime   time.Time `json:"next_check_time,omitzero"`
	IntervalSeconds int       `json:"interval_seconds,omitempty"`
	OpenIssues      *int      `json:"open_issues,omitempty"` // github targets
	Detail          string    `json:"detail,omitempty"`      // what the last check saw or why it could not
	LastEvent       string    `json:"last_event,omitempty"`  // the last external event consumed
	Generation      int       `json:"generation,omitempty"`  // continue-as-new generation
}

// Output is a finished monitor's result.
type Output struct {
	JobID                     string `json:"job_id"`
	FinalStatus               string `json:"final_status"`
	ChecksPerformed           int    `json:"checks_performed"`
	MonitoringDurationSeconds int64  `json:"monitoring_duration_seconds"`
	Detail                    string `json:"detail,omitempty"`
	OpenIssues                *int   `json:"open_issues,omitempty"`
	AlertStatus               string `json:"alert_status,omitempty"`
}

// Record is a monitor's status record, the answer to GET /monitors/{id}.
type Record struct {
	InstanceID      string        `json:"instanceId"`
	Name            string        `json:"name"` // the kind of monitor, e.g. "JobMonitor"
	RuntimeStatus   RuntimeStatus `json:"runtimeStatus"`
	Input           Spec          `json:"input"`
	CustomStatus    *CustomStatus `json:"customStatus"`
	Output          *Output       `json:"output"`
	CreatedTime     time.Time     `json:"createdTime"`
	LastUpdatedTime time.Time     `json:"lastUpdatedTime"`
	ExecutionArn    string        `json:"executionArn,omitempty"`
	ExpiresAt       time.Time     `json:"expiresAt"`
	// Alert is the state of the monitor's one alert.
	Alert AlertState `json:"alert,omitzero"`
	// Events raised on the monitor, oldest first.
	Events []Event `json:"events,omitempty"`
	// PendingEvents is how many events are pending on a record read
	// without its events (a listed one); see Pending.
	PendingEvents int `json:"-"`
	// PurgeAt is when a finished record may be deleted by the store's
	// retention (DynamoDB TTL); zero while the monitor runs.
	PurgeAt time.Time `json:"-"`
}

// Clone returns a deep copy of r: the copy shares no pointer, slice or map
// with r.
func (r Record) Clone() Record {
	c := r
	c.Input = r.Input.clone()
	if r.CustomStatus != nil {
		cs := *r.CustomStatus
		cs.OpenIssues = cloneInt(cs.OpenIssues)
		c.CustomStatus = &cs
	}
	if r.Output != nil {
		o := *r.Output
		o.OpenIssues = cloneInt(o.OpenIssues)
		c.Output = &o
	}
	if r.Events != nil {
		c.Events = make([]Event, len(r.Events))
		for i, ev := range r.Events {
			ev.Data = bytes.Clone(ev.Data)
			c.Events[i] = ev
		}
	}
	return c
}

// clone returns a deep copy of s.
func (s Spec) clone() Spec {
	c := s
	c.Target.Headers = maps.Clone(s.Target.Headers)
	c.Target.DoneValues = slices.Clone(s.Target.DoneValues)
	c.Target.FailedValues = slices.Clone(s.Target.FailedValues)
	c.Target.RunningValues = slices.Clone(s.Target.RunningValues)
	if s.Backoff != nil {
		b := *s.Backoff
		c.Backoff = &b
	}
	if s.Alert != nil {
		a := *s.Alert
		c.Alert = &a
	}
	return c
}

func cloneInt(p *int) *int {
	if p == nil {
		return nil
	}
	n := *p
	return &n
}

// Pending returns how many of the record's events no check has consumed
// yet: counted from Events when the record was read with them, else
// PendingEvents.
func (r Record) Pending() int {
	if r.Events == nil {
		return r.PendingEvents
	}
	n := 0
	for _, ev := range r.Events {
		if ev.ConsumedBy == 0 {
			n++
		}
	}
	return n
}

// NameFor returns the monitor name that the status API reports for a spec.
func NameFor(s Spec) string {
	switch s.Target.Type {
	case TargetGitHub:
		return "GitHubIssuesMonitor"
	case TargetHTTP:
		return "HTTPJobMonitor"
	default:
		return "JobMonitor"
	}
}

// Event is an external event raised on a monitor through
// POST /monitors/{id}/raiseEvent/{name}. The next check consumes it.
type Event struct {
	Name       string          `json:"name"`
	Data       json.RawMessage `json:"data,omitempty"`
	RaisedAt   time.Time       `json:"raisedAt"`
	ConsumedBy int             `json:"consumedBy,omitempty"` // the check that consumed it; 0 while pending
}

// ConsumeEvents returns a live record's event list after check consumes
// its events, and whether it differs from evs: pending events are marked
// as consumed by check and, when some were or the list is full
// (MaxEventsPerMonitor), events consumed by earlier checks are dropped.
// It is the rule Store.ConsumeEvents follows; evs is not modified.
func ConsumeEvents(evs []Event, check int) ([]Event, bool) {
	next, _, changed := ConsumeEventsKept(evs, check)
	return next, changed
}

// ConsumeEventsKept is ConsumeEvents that also tells, for a store that
// keeps more with each event than an Event holds, where each event of
// the list it returns was in evs: next[j] is evs[kept[j]], marked as
// consumed by check if it was pending. When the list does not change it
// returns evs, no positions and false.
func ConsumeEventsKept(evs []Event, check int) (next []Event, kept []int, changed bool) {
	marked := false
	for i, ev := range evs {
		if ev.ConsumedBy == 0 {
			ev.ConsumedBy, marked = check, true
		} else if ev.ConsumedBy < check && ev.ConsumedBy > 0 {
			continue // consumed by an earlier check: dropped, if anything changes
		}
		next, kept = append(next, ev), append(kept, i)
	}
	if !marked && (len(next) == len(evs) || len(evs) < MaxEventsPerMonitor) {
		return evs, nil, false
	}
	return next, kept, true
}

// ConsumedBy returns the events of evs that check consumed, with their
// data copied.
func ConsumedBy(evs []Event, check int) []Event {
	var out []Event
	for _, ev := range evs {
		if ev.ConsumedBy == check {
			ev.Data = slices.Clone(ev.Data)
			out = append(out, ev)
		}
	}
	return out
}

// Event names a check understands. Any other name is recorded in the
// custom status's last_event and otherwise ignored.
const (
	EventComplete    = "complete"    // finish now with final status Completed
	EventSetInterval = "setInterval" // data {"pollingIntervalSeconds": n}
	EventCheckNow    = "checkNow"    // informational; the check already ran
)

// AlertState tracks a monitor's alert: claimed before it is sent, recorded
// after, so that it goes out at most once.
type AlertState struct {
	Status    AlertStatus `json:"status,omitempty"`
	Channel   string      `json:"channel,omitempty"`
	Attempts  int         `json:"attempts,omitempty"`
	ClaimedAt time.Time   `json:"claimedAt,omitzero"`
	SentAt    time.Time   `json:"sentAt,omitzero"`
	MessageID string      `json:"messageId,omitempty"`
	LastError string      `json:"lastError,omitempty"`
	// RetryAt is when a failed alert is sent again, as the alert task
	// last planned it (Store.ScheduleAlert); zero when no retry is
	// planned. A claim clears it. It is not cleared when the monitor
	// ends: it means something only while the monitor runs and the
	// status is AlertFailed.
	RetryAt time.Time `json:"retryAt,omitzero"`
}

// AlertStatus is the state of a monitor's alert.
type AlertStatus string

// Alert statuses. A claim moves "" or failed to sending; the sender's
// result moves sending to sent or failed. A record left in sending by a
// crash is never sent again (at most once) and is reported as unknown.
const (
	AlertNone    AlertStatus = ""
	AlertSending AlertStatus = "sending"
	AlertSent    AlertStatus = "sent"
	AlertFailed  AlertStatus = "failed"
)

// CheckUpdate is what RecordCheck writes after a check.
type CheckUpdate struct {
	CustomStatus CustomStatus
	ExecutionArn string
	At           time.Time
	// Created is the CreatedTime of the record the check is for (the
	// monitor's start, State.StartedAt); zero for any record of the id
	// (see Store).
	Created time.Time
	// ExpiresAt is the monitor's expiry (State.ExpiresAt); zero when not
	// known. A store that purges records by a time set at Create
	// (DynamoDB's TTL) sets it from this on a record written before it
	// did, so that such a record whose end is never recorded goes too.
	ExpiresAt time.Time
}

// CheckApplies reports whether RecordCheck applies u to a live record
// holding check count n, written at lastUpdated by the execution
// executionArn: when u's check number is greater than n, or when it is
// n again from the same execution (u.ExecutionArn, not empty) and u's
// attempt started no earlier than the stored write. That is check n run
// again: after a crash of the local runtime between the record and the
// engine's commit of the task's result, or, on AWS, a retry of the Check
// state after a lost answer. The re-run observed the target anew, and
// its result, not the first attempt's, is the one the workflow goes on
// with. An attempt that started before the stored one outlived its
// timeout: its result was dropped. Stores whose write is a conditional
// update state the same condition in their own terms.
func CheckApplies(u CheckUpdate, n int, executionArn string, lastUpdated time.Time) bool {
	m := u.CustomStatus.CheckCount
	return m > n || m > 0 && m == n && u.ExecutionArn != "" && u.ExecutionArn == executionArn && !u.At.Before(lastUpdated)
}

// OutputAlertUnknown is an output's alert_status when nobody can tell
// whether the alert went out: a send without an answer, or a monitor that
// ended while its alert was being sent (until the send's result is
// recorded, see Store.CompleteAlert).
const OutputAlertUnknown = "unknown"

// CompletedAlertStatus is the output alert_status that the result res of
// a send records: "sent" or "failed".
func CompletedAlertStatus(res AlertResult) string {
	if res.Sent {
		return string(AlertSent)
	}
	return string(AlertFailed)
}

// Finish is what ends a monitor.
type Finish struct {
	RuntimeStatus RuntimeStatus
	Output        Output
	At            time.Time
	PurgeAt       time.Time
	// CustomStatus, when set, replaces the stored one in the same write.
	CustomStatus *CustomStatus
	// Created is the CreatedTime of the record to finish; zero for any
	// record of the id (see Store).
	Created time.Time
	// FromRecord makes the output's checks_performed, open_issues and
	// alert_status the record's as the write finds it (Output.WithRecord),
	// not as the caller read it. A terminate's or an execution end's output is built
	// from a read, and a check or an alert task may record itself between
	// that read and the Finish: the output said one check fewer than the
	// custom status, or no alert where the alert went out.
	FromRecord bool
}

// WithRecord returns o with its checks_performed, open_issues and
// alert_status those of a record whose custom status is cs (nil before
// the first check) and whose alert has status alert: AlertSent and
// AlertFailed as they are, AlertSending as OutputAlertUnknown (its result
// not known yet; CompleteAlert sets it), and no alert leaves o's (see
// Finish.FromRecord).
func (o Output) WithRecord(cs *CustomStatus, alert AlertStatus) Output {
	o.ChecksPerformed, o.OpenIssues = 0, nil
	if cs != nil {
		o.ChecksPerformed, o.OpenIssues = cs.CheckCount, cloneInt(cs.OpenIssues)
	}
	switch alert {
	case AlertSending:
		o.AlertStatus = OutputAlertUnknown
	case AlertSent, AlertFailed:
		o.AlertStatus = string(alert)
	}
	return o
}

// AlertResult is the outcome of one send attempt.
type AlertResult struct {
	Sent      bool
	MessageID string
	Error     string
	At        time.Time
	// Created is the CreatedTime of the record whose alert was sent;
	// zero for any record of the id (see Store).
	Created time.Time
}

// ListQuery selects status records. Zero fields do not filter.
type ListQuery struct {
	RuntimeStatus     []RuntimeStatus
	CreatedFrom       time.Time // inclusive
	CreatedTo         time.Time // exclusive
	Top               int       // page size; 0 means DefaultPageSize
	ContinuationToken string
}

// Page sizes for List.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ListPage is one page of List results, newest first.
type ListPage struct {
	Records []Record `json:"records"`
	// ContinuationToken is "" on the last page.
	ContinuationToken string `json:"continuationToken,omitempty"`
}

// PageSize returns the page size q asks for: Top, DefaultPageSize when Top
// is zero or less, at most MaxPageSize.
func (q ListQuery) PageSize() int {
	switch {
	case q.Top <= 0:
		return DefaultPageSize
	case q.Top > MaxPageSize:
		return MaxPageSize
	}
	return q.Top
}

// EncodeToken turns a store's paging position into an opaque continuation
// token (base64url of its JSON).
func EncodeToken(position any) string {
	b, _ := json.Marshal(position)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeToken reads a token made by EncodeToken into position. Only tokens
// EncodeToken would produce for the decoded position are accepted, so a
// token is opaque to callers and cannot be edited.
func DecodeToken(token string, position any) error {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return fmt.Errorf("malformed continuation token: %w", err)
	}
	if err := json.Unmarshal(b, position); err != nil {
		return fmt.Errorf("malformed continuation token: %w", err)
	}
	if EncodeToken(position) != token {
		return errors.New("malformed continuation token")
	}
	return nil
}
