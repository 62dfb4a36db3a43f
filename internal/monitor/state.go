package monitor

import (
	"math"
	"time"
	"unicode/utf8"
)

// State is the workflow's data: the execution input, and what the check and
// alert tasks return (the state machine passes it through whole). It
// carries everything a continue-as-new generation needs.
type State struct {
	InstanceID string `json:"instanceId"`
	// Generation counts continue-as-new executions: 0 for the first, whose
	// name is the instance id; n for the nth continuation (see
	// ExecutionName).
	Generation int `json:"generation"`
	// StartedAt is when the monitor (not this generation) started. It
	// also gives the run tag of the monitor's continuations (RunTagOf).
	StartedAt time.Time `json:"startedAt"`
	// ExpiresAt is absolute, so it survives continue-as-new.
	ExpiresAt time.Time   `json:"expiresAt"`
	Spec      Spec        `json:"spec"`
	Check     CheckResult `json:"check"`
	// AlertRetry is set by an alert task whose send the state machine is
	// to retry after a wait; nil otherwise (see AlertRetry).
	AlertRetry *AlertRetry `json:"alertRetry,omitempty"`
}

// CheckResult is what the last check decided. The state machine's Choice
// state reads its booleans; its Wait state reads WaitSeconds.
type CheckResult struct {
	// CheckCount is the number of checks performed so far, across
	// generations; 0 before the first.
	CheckCount int `json:"checkCount"`
	// GenerationChecks counts the checks of the current generation.
	GenerationChecks int `json:"generationChecks"`
	// GenerationRetries counts the retries of the current generation's
	// checks (the state machine's $$.State.RetryCount of each check's last
	// attempt): each adds history events, so they bring the rollover
	// forward (see generationEvents).
	GenerationRetries int    `json:"generationRetries,omitempty"`
	Status            string `json:"status,omitempty"`
	ConditionMet      bool   `json:"conditionMet"`
	Done              bool   `json:"done"`
	Expired           bool   `json:"expired"`
	// Rollover continues the execution as a new generation. It is set by a
	// Check invoked after the wait that follows a generation's last check;
	// that invocation does not check, and the next generation's first
	// Check does.
	Rollover bool `json:"rollover"`
	// NextGeneration is the generation to continue as when Rollover is set.
	NextGeneration int `json:"nextGeneration"`
	// NextExecutionName is the name of that generation's execution, set
	// with Rollover (ExecutionName): the state machine's ContinueAsNew
	// names the execution it starts with it. Only the rollover's result
	// carries it, not every event of every check.
	NextExecutionName string `json:"nextExecutionName,omitempty"`
	// NextCheckAt is when the next check is due: RFC 3339 UTC with whole
	// seconds ("2006-01-02T15:04:05Z"), rounded up, never after ExpiresAt;
	// empty when the monitor stops. It is what the custom status shows.
	NextCheckAt string `json:"nextCheckAt,omitempty"`
	// WaitSeconds is how long the Wait state waits before the next check
	// (its SecondsPath): from the check's time to when the next one is due
	// (NextCheckAt before its rounding up), rounded up, at least 1. A relative wait keeps each monitor's phase within the
	// second, where a timestamp wait (whole seconds on AWS) would wake
	// every monitor with the same interval at the same instant (see the
	// README's design notes).
	WaitSeconds     int  `json:"waitSeconds,omitempty"`
	IntervalSeconds int  `json:"intervalSeconds,omitempty"`
	OpenIssues      *int `json:"openIssues,omitempty"`
	// LastEvent is the name of the last external event a check consumed,
	// shown in the custom status until another one arrives.
	LastEvent string `json:"lastEvent,omitempty"`
	// Detail is what the check that met the condition saw, its custom
	// status's detail (at most MaxCheckDetail bytes): the alert records it
	// with the monitor's end and cuts it to MaxAlertDetail for the
	// message. Other checks leave it empty: the state is in every history
	// event of a check.
	Detail string `json:"detail,omitempty"`
	// CheckedAt is when the last check ran, its custom status's
	// last_check_time: the alert's ObservedAt. Zero in a state written
	// before it was kept.
	CheckedAt time.Time `json:"checkedAt,omitzero"`
	// Memo is the checker's memo (an ETag) for the next check.
	Memo []byte `json:"memo,omitempty"`
	// Output is set when the monitor finishes.
	Output *Output `json:"output,omitempty"`
}

// AlertRetry is what the alert task returns, in State.AlertRetry, when
// the alert's own destination (a caller's webhook) failed transiently and
// the state machine is to run the task again after a wait: its Choice
// after Alert (AlertOutcome) goes to a Wait (AlertRetryWait) that reads
// WaitSeconds, and from there back to Alert. A retry so costs nothing
// while it waits and is not a function error, as a destination its
// caller chose should not set off the operators' alarms (see
// Tasks.Alert).
type AlertRetry struct {
	// Retries counts the retries so far, this one included: the task
	// that finds AlertTransientRetries of them ends the monitor Failed if
	// the destination still fails.
	Retries int `json:"retries"`
	// WaitSeconds is how long the state machine waits before the retry.
	WaitSeconds int `json:"waitSeconds"`
}

// The history budget of a generation. Step Functions fails an execution
// whose history reaches 25,000 events, and no Retry or Catch can handle
// that, so each execution continues as a new one (a generation) long
// before. A poll adds EventsPerCheck history events: TaskStateEntered,
// TaskScheduled, TaskStarted, TaskSucceeded and TaskStateExited for Check,
// ChoiceStateEntered and ChoiceStateExited for Evaluate, WaitStateEntered
// and WaitStateExited for Wait. Each retry of a task adds EventsPerRetry:
// the failure (TaskFailed or TaskTimedOut), TaskScheduled and TaskStarted.
//
// A generation continues as new once its estimate (generationEvents)
// reaches GenerationEventBudget: after ChecksPerGeneration checks when no
// check was retried, sooner when retries add up. The worst case stays far
// below the limit: an estimate just short of the budget (8,997: it grows in
// threes), one more check retried 56 times, all the Check task's retriers
// allow (177 events), then the rollover: ExecutionStarted, a Check that
// does not check, retried 56 times too (173), Evaluate (2), ContinueAsNew
// with its 8 retries (at most 6 + 24) and ExecutionSucceeded: about 9,381
// events.
// An alert and the failure record instead of the rollover add a little
// more: about 10,100 events when all three tasks use every retry and the
// alert runs 1 + AlertTransientRetries times (its retries by a Wait),
// under the 10,500 TestAlertRetriesKeepHistoryBudget allows.
//
// The retries reach Check as $$.State.RetryCount in its payload, which
// Step Functions (and the local engine) evaluate again for each attempt.
const (
	// EventsPerCheck is the history events of a poll.
	EventsPerCheck = 9
	// EventsPerRetry is the history events of a task's retry.
	EventsPerRetry = 3
	// ChecksPerGeneration is how many checks a generation performs when
	// none is retried.
	ChecksPerGeneration = 1000
	// GenerationEventBudget is the estimated history, in events, after
	// which a generation continues as new.
	GenerationEventBudget = ChecksPerGeneration * EventsPerCheck
)

// MaxThrottleRetrySeconds bounds the waits of the Check, Alert and
// RecordFailure tasks' retries of Lambda throttling
// (Lambda.TooManyRequestsException in statemachine.asl.json), in seconds,
// before full jitter draws each wait between 0 and its bound: throttling
// that lasts longer than this fails the monitors whose tasks it hits.
const MaxThrottleRetrySeconds = 60 * 60

// MaxGenerationAge is how old a generation may grow before it continues as
// new, whatever its history. Step Functions fails a STANDARD execution
// that runs for a year (States.Timeout, no Retry or Catch handles it), and
// a monitor may run for MaxTimeoutSeconds, a year: with a long interval
// (fewer than ChecksPerGeneration checks in a year) the history budget
// alone would keep it in one execution to the end. A generation this old
// continues as new after its next wait, at most MaxIntervalSeconds (or a
// rate limit's reset) later, which leaves every execution about two
// months short of the year.
const MaxGenerationAge = 300 * 24 * time.Hour

// generationEvents estimates the history events that the checks of the
// current generation have added: EventsPerCheck a check and EventsPerRetry
// a retry.
func (c CheckResult) generationEvents() int {
	return c.GenerationChecks*EventsPerCheck + c.GenerationRetries*EventsPerRetry
}

// TimestampFormat is the format of NextCheckAt: what a Wait state's
// TimestampPath accepts on AWS and in LocalStack alike.
const TimestampFormat = "2006-01-02T15:04:05Z"

// FormatTimestamp formats t as NextCheckAt, rounded up to a whole second so
// that a check never runs before its time.
func FormatTimestamp(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() != 0 {
		t = t.Truncate(time.Second).Add(time.Second)
	}
	return t.Format(TimestampFormat)
}

// NextInterval returns the polling interval after a check other than the
// first (whatever it found: the backoff grows after Unknown and Error too),
// given the current interval: the spec's interval, or with
// backoff the current one times the multiplier, capped at
// MaxIntervalSeconds. The product is rounded up to a whole second after
// its floating-point error is rounded away (100 × 1.1 is 110, not the 111
// that 110.00000000000001 would round up to). A current interval already
// above the cap (set by a setInterval event, which holds from then on) is
// kept: the backoff neither lowers it to the cap nor grows it.
func (s Spec) NextInterval(current int) int {
	if current <= 0 || s.Backoff == nil {
		if current <= 0 {
			return s.PollingIntervalSeconds
		}
		return current
	}
	if current >= s.Backoff.MaxIntervalSeconds {
		return current
	}
	// Round to a millionth of a second first: far coarser than a
	// float64's error on these magnitudes (the product is at most
	// 86,400 × 10 seconds, and 1e6 times that is far below 2^53), far
	// finer than the step of any multiplier a spec is likely to give. A
	// multiplier whose excess over 1 times current is under half a
	// millionth (1.000000001 at 100 s) does not grow the interval.
	next := math.Ceil(math.Round(float64(current)*s.Backoff.Multiplier*1e6) / 1e6)
	if next > float64(s.Backoff.MaxIntervalSeconds) {
		return s.Backoff.MaxIntervalSeconds
	}
	return int(next)
}

// MaxAlertDetail bounds an alert's .Detail in bytes: an alert needs the
// gist of what the check saw, not a whole answer (an SMS holds 1,600
// characters in all).
const MaxAlertDetail = 300

// alertDetail cuts detail to MaxAlertDetail bytes.
func alertDetail(detail string) string { return TruncateBytes(detail, MaxAlertDetail) }

// TruncateBytes cuts s to at most n bytes, "…" included, on a character
// boundary, with "…" marking the cut.
func TruncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n-len("…"), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
