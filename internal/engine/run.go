package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
)

// Snapshot phases.
const (
	phaseEnter = "enter" // about to enter State with Input
	phaseWait  = "wait"  // inside a Wait state until WakeAt
	phaseTask  = "task"  // a task dispatched (dispatch again after a crash)
	phaseRetry = "retry" // a Task, Map or Parallel state waiting for its retry interval
	// phaseBranches: a Map or Parallel state running its iterations or
	// branches (run them again from the start after a crash).
	phaseBranches = "branches"
)

// snapshot is the durable run state of a top-level execution.
type snapshot struct {
	State     string `json:"state"`
	Phase     string `json:"phase"`
	Input     any    `json:"input"`
	Effective any    `json:"effective,omitempty"` // the Wait's or Map's effective input / the task's or Parallel's input
	// SameEffective records an Effective with the text of Input (a Wait
	// or Task without InputPath or Parameters), which encode writes only
	// once.
	SameEffective bool           `json:"sameEffective,omitempty"`
	Attempts      []int          `json:"attempts,omitempty"`
	Vars          map[string]any `json:"vars,omitempty"`
	Prev          int64          `json:"prev"`
	LastID        int64          `json:"lastId"`
	EnteredID     int64          `json:"enteredId,omitempty"`
	EnteredPrev   int64          `json:"enteredPrev,omitempty"`
	EnteredAt     time.Time      `json:"enteredAt"`
	WakeAt        time.Time      `json:"wakeAt"`
	// Run states of earlier versions may also hold taskStartedAt, when
	// the task in flight started. A task dispatched again after a
	// restart gets its whole limits anew (execTask), so nothing reads
	// it: decodeSnapshot ignores it.
}

// encode writes the snapshot as JSON that decodeSnapshot reads (the
// encoding/json shape of the struct), without reflection: it is written
// at every suspension point of every execution.
func (s *snapshot) encode() ([]byte, error) {
	return s.appendTo(make([]byte, 0, 1024))
}

// appendTo appends the encoding of encode to b.
func (s *snapshot) appendTo(b []byte) ([]byte, error) {
	b = append(b, `{"state":`...)
	b = appendJSONString(b, s.State)
	b = append(b, `,"phase":`...)
	b = appendJSONString(b, s.Phase)
	b = append(b, `,"input":`...)
	in := len(b)
	b, err := asl.AppendJSON(b, s.Input)
	if err != nil {
		return nil, fmt.Errorf("engine: encode run state: input: %w", err)
	}
	if s.Effective != nil {
		input := b[in:]
		b = append(b, `,"effective":`...)
		eff := len(b)
		if b, err = asl.AppendJSON(b, s.Effective); err != nil {
			return nil, fmt.Errorf("engine: encode run state: effective input: %w", err)
		}
		if string(b[eff:]) == string(input) {
			b = append(b[:eff-len(`,"effective":`)], `,"sameEffective":true`...)
		}
	}
	if len(s.Attempts) > 0 {
		b = append(b, `,"attempts":[`...)
		for i, n := range s.Attempts {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(n), 10)
		}
		b = append(b, ']')
	}
	if len(s.Vars) > 0 {
		b = append(b, `,"vars":`...)
		if b, err = asl.AppendJSON(b, s.Vars); err != nil {
			return nil, fmt.Errorf("engine: encode run state: variables: %w", err)
		}
	}
	b = append(b, `,"prev":`...)
	b = strconv.AppendInt(b, s.Prev, 10)
	b = append(b, `,"lastId":`...)
	b = strconv.AppendInt(b, s.LastID, 10)
	if s.EnteredID != 0 {
		b = append(b, `,"enteredId":`...)
		b = strconv.AppendInt(b, s.EnteredID, 10)
	}
	if s.EnteredPrev != 0 {
		b = append(b, `,"enteredPrev":`...)
		b = strconv.AppendInt(b, s.EnteredPrev, 10)
	}
	for _, t := range []struct {
		key string
		at  time.Time
	}{{`,"enteredAt":`, s.EnteredAt}, {`,"wakeAt":`, s.WakeAt}} {
		// time.Time's MarshalJSON, without its allocation.
		var err error
		if b, err = t.at.AppendText(append(append(b, t.key...), '"')); err != nil {
			return nil, fmt.Errorf("engine: encode run state: %w", err)
		}
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// runStateBufs recycles the buffers of encoded run states when the store
// copies them (Engine.reuse).
var runStateBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 2048)
	return &b
}}

// maxPooledRunState is the largest run-state buffer kept for reuse.
const maxPooledRunState = 64 << 10

// execution is the in-memory state of one running top-level execution.
type execution struct {
	e         *Engine
	rec       Execution
	sm        StateMachine
	m         *asl.Machine
	life      *machineLife // whether the state machine is being deleted
	input     any          // nil until parsed from rec.Input (see executionInput)
	inputOnce sync.Once
	startTime string
	vars      *asl.Vars

	// cancel ends the execution's run while it is live (Engine.live).
	cancel context.CancelFunc
	// evalDeadline is the execution's deadline as a time of the wall
	// clock, set once per run by resume (zero without a deadline): a
	// JSONata evaluation still running then ends (asl.Scope.Deadline),
	// and the execution times out (evalErr).
	evalDeadline time.Time

	mu     sync.Mutex
	events []Event // the current chunk of buffered events
	full   [][]Event
	count  int // buffered events in full and events
	lastID int64
	// maxEvents bounds the history: the engine's for a STANDARD
	// execution, none for an EXPRESS one.
	maxEvents int64
	// historyFull is set when the history has reached maxEvents but for
	// the event that ends the execution (emit): the execution runs no
	// further and fails (errHistoryFull).
	historyFull atomic.Bool
	// taskEnded is set when a top-level task attempt ends, and cleared
	// by a commit of every buffered event: while it is set, the end of a
	// task may be in the buffer only, and the next task is not
	// dispatched before a commit (see taskCommitDelay).
	taskEnded atomic.Bool
}

// firstEventChunk and eventChunk are the first and the largest capacity
// of a chunk of buffered events: chunks are never grown, so buffering an
// event never copies the others.
const (
	firstEventChunk = 16
	eventChunk      = 256
)

// eventChunks recycles first chunks of committed events when the store
// copies them (Engine.reuse): most commits fit in one, and a busy
// runtime commits thousands of times a second.
var eventChunks = sync.Pool{New: func() any {
	c := make([]Event, 0, firstEventChunk)
	return &c
}}

// recycleEvents returns evs, a committed first chunk, to eventChunks.
func recycleEvents(evs []Event) {
	if cap(evs) != firstEventChunk {
		return
	}
	evs = evs[:cap(evs)]
	clear(evs) // the events' values are left to the collector
	evs = evs[:0]
	eventChunks.Put(&evs)
}

func (e *Engine) newExecution(rec Execution, sm StateMachine, m *asl.Machine, input any) *execution {
	x := &execution{e: e, rec: rec, sm: sm, m: m, life: e.life(rec.StateMachineArn), input: input, startTime: isoTime(rec.StartDate),
		maxEvents: e.maxEvents}
	if sm.Type == "EXPRESS" {
		// Step Functions does not bound an Express execution's history
		// (its quotas list the history size as unlimited, and it records
		// none); this engine records it, and bounds it on its own.
		x.maxEvents = e.maxExpressEvents
	}
	return x
}

// executionInput returns $$.Execution.Input.
func (x *execution) executionInput() any {
	x.inputOnce.Do(func() {
		if x.input == nil {
			v, err := asl.ParseJSON([]byte(x.rec.Input))
			if err != nil {
				v = map[string]any{}
			}
			x.input = v
		}
	})
	return x.input
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// thread is one sequence of states: the top level, a Parallel branch or
// a Map iteration.
type thread struct {
	x      *execution
	m      *asl.Machine
	vars   *asl.Vars
	prev   int64
	top    bool
	silent bool // DISTRIBUTED map iterations: events are not in the parent history
	// ids numbers the events of a silent thread that belongs to a
	// DISTRIBUTED Map's child workflow as the child's own history would
	// (its ExecutionStarted is 1), for the event ids errors quote ("entered
	// at the event id #2"); shared by the child's threads. Nil: a silent
	// emit returns 0.
	ids    *atomic.Int64
	cur    stateRun
	ctxFn  func() map[string]any      // cur.contextObject, bound once
	ctxVal func([]string) (any, bool) // cur.contextValue, bound once
	sizes  asl.SizeMemo               // the payload sizes measured last
}

func (t *thread) emit(typ string, d EventDetails) int64 {
	if t.silent {
		if t.ids != nil {
			return t.ids.Add(1)
		}
		return 0
	}
	x := t.x
	d.Error, d.Cause = clipError(d.Error), clipCause(d.Cause)
	now := x.e.clock.Now()
	x.mu.Lock()
	if x.lastID+1 >= x.maxEvents && !endsExecution(typ) {
		// The last event the history has room for is the one that ends
		// the execution: its failure (resume).
		x.historyFull.Store(true)
		x.mu.Unlock()
		return 0
	}
	x.lastID++
	id := x.lastID
	if len(x.events) == cap(x.events) {
		// Chunks start small (a monitor's cycle emits a handful of
		// events) and grow to eventChunk for busy executions.
		if c := cap(x.events); c > 0 {
			x.full = append(x.full, x.events)
			x.events = make([]Event, 0, min(2*c, eventChunk))
		} else if x.e.reuse {
			x.events = *eventChunks.Get().(*[]Event)
		} else {
			x.events = make([]Event, 0, firstEventChunk)
		}
	}
	x.events = append(x.events, Event{ID: id, PreviousEventID: t.prev, Type: typ, Timestamp: now, Details: d})
	x.count++
	x.mu.Unlock()
	t.prev = id
	return id
}

// AWS's limits on the error name and the cause of a failure, in
// characters, in every event and result that records them
// (ExecutionFailedEventDetails, TaskFailedEventDetails, DescribeExecution
// and the others).
const (
	maxErrorLen = 256
	maxCauseLen = 32768
)

// clipError and clipCause cut an error name and a cause to AWS's
// limits, so that a failure with a cause of megabytes is not stored and
// returned whole.
func clipError(s string) string { return clip(s, maxErrorLen) }
func clipCause(s string) string { return clip(s, maxCauseLen) }

// clip returns s cut to at most n characters (code points), at a
// character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// endsExecution reports whether an event of type typ ends an execution.
func endsExecution(typ string) bool {
	switch typ {
	case "ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted":
		return true
	}
	return false
}

// resume runs a top-level execution from a snapshot until it suspends or
// finishes.
func (x *execution) resume(ctx context.Context, snap *snapshot) {
	x.vars = asl.NewVars(snap.Vars)
	x.evalDeadline = time.Time{}
	if d := x.deadline(); !d.IsZero() {
		// The time left on the engine's clock, from now on the wall
		// clock, as a task's time limit counts it (invoke).
		x.evalDeadline = time.Now().Add(d.Sub(x.e.clock.Now()))
	}
	if x.e.debugging(ctx) {
		x.debugRuns(ctx, snap)
	}
	t := &thread{x: x, m: x.m, vars: x.vars, top: true, prev: snap.Prev}
	out, ferr, suspended := t.run(ctx, snap)
	if suspended || ctx.Err() != nil {
		return
	}
	var u *ExecutionUpdate
	now := x.e.clock.Now().UTC()
	if ferr == errDeleted {
		ferr = deletedError(x.sm)
	}
	if x.historyFull.Load() {
		// Whatever the states did after the history filled up (their
		// events were not recorded), the execution fails at the limit,
		// after the last event recorded.
		ferr = historyFullError(x.maxEvents)
		if x.sm.Type == "EXPRESS" {
			ferr = expressHistoryFullError(x.maxEvents)
		}
		x.mu.Lock()
		t.prev = x.lastID
		x.mu.Unlock()
	}
	if ferr == nil && x.timedOut() {
		ferr = errTimedOut // the last state ended after the deadline
	}
	if ferr == nil {
		if t.exceedsPayload(out) {
			ferr = dataLimit(t.cur.b.Name)
		} else {
			t.emit("ExecutionSucceeded", EventDetails{Output: out})
			u = &ExecutionUpdate{Status: StatusSucceeded, Output: asl.Text(out), HasOutput: true, StopDate: now}
		}
	}
	if ferr == errTimedOut {
		// The deadline is not a consequence of the last event: AWS gives
		// ExecutionTimedOut no previous event (previousEventId 0).
		t.prev = 0
		t.emit("ExecutionTimedOut", EventDetails{Error: asl.ErrTimeout, HasError: true})
		u = &ExecutionUpdate{Status: StatusTimedOut, Error: asl.ErrTimeout, StopDate: now}
		ferr = nil
	}
	if ferr != nil {
		t.emit("ExecutionFailed", EventDetails{Error: ferr.Name, HasError: ferr.Name != "", Cause: ferr.Cause, HasCause: ferr.HasCause})
		u = &ExecutionUpdate{Status: StatusFailed, Error: clipError(ferr.Name), Cause: clipCause(ferr.Cause), StopDate: now}
	}
	if err := x.commit(ctx, nil, u); err != nil && !errors.Is(err, ErrExecutionNotRunning) {
		if ctx.Err() != nil {
			// Stopped (or the engine closed) between the last step and
			// this commit: the stop's own end is recorded, as for a
			// stop during a step.
			x.e.log.Debug("engine: finish crossed by a stop", "execution", x.rec.Arn, "err", err)
		} else {
			x.e.log.Error("engine: finish", "execution", x.rec.Arn, "err", err)
		}
	} else if err == nil && x.e.debugging(ctx) {
		x.debugEnded(ctx, u)
	}
	x.e.finished(x.rec.Arn)
	if x.life.deleting.Load() {
		x.e.executionEnded(x.rec.StateMachineArn)
	}
}

// maxPayload is AWS's limit on state inputs and outputs (256 KiB).
const maxPayload = 256 * 1024

// dataLimit is the error of a state whose input, output or task result
// exceeds maxPayload, as AWS words it.
func dataLimit(state string) *asl.Error {
	return &asl.Error{Name: asl.ErrDataLimitExceeded, HasCause: true,
		Cause: fmt.Sprintf("The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit.", state)}
}

// quoted returns the JSON text of a value an error's cause or name
// quotes, cut to its first maxPayload bytes: a value a JSONata expression
// or a descendant query built may take gigabytes of text. The name and
// the cause are cut shorter still when recorded.
func quoted(v any) string {
	text, _ := asl.TextUpTo(v, maxPayload)
	return text
}

// exceedsPayload reports whether v's JSON text is longer than maxPayload.
// The thread remembers the sizes it measured, so the state a Choice or a
// Wait passes on, or a task's parameters hold, is not measured again.
func (t *thread) exceedsPayload(v any) bool {
	return t.sizes.Exceeds(v, maxPayload) && asl.TextLonger(v, maxPayload)
}

var (
	errAborted  = &asl.Error{Name: "States.Aborted"}
	errTimedOut = &asl.Error{Name: asl.ErrTimeout}
	// errHistoryFull ends an execution whose history has reached the
	// engine's maxEvents (execution.historyFull); resume records it as
	// historyFullError.
	errHistoryFull = &asl.Error{Name: asl.ErrRuntime}
)

// defaultMaxHistoryEvents is Step Functions' quota on the events of an
// execution's history (Options.MaxHistoryEvents).
const defaultMaxHistoryEvents = 25000

// historyFullError is the failure of an execution whose history reached
// limit events, as AWS reports it.
func historyFullError(limit int64) *asl.Error {
	return &asl.Error{Name: asl.ErrRuntime, HasCause: true,
		Cause: fmt.Sprintf("The execution reached the maximum number of history events (%d).", limit)}
}

// DefaultMaxExpressHistoryEvents bounds an EXPRESS execution's history
// (Options.MaxExpressHistoryEvents), which AWS does not record. Ten
// times the STANDARD quota: an INLINE Map over every item a 256 KiB input
// can list in practice, or five minutes of a state every few
// milliseconds, stays below it. The events of a running Map state are
// buffered in memory (about 500 bytes each), so it also bounds that
// buffer to about 125 MB.
const DefaultMaxExpressHistoryEvents = 250000

// expressHistoryFullError is the failure of an EXPRESS execution whose
// history reached the engine's limit, limit.
func expressHistoryFullError(limit int64) *asl.Error {
	return &asl.Error{Name: asl.ErrRuntime, HasCause: true,
		Cause: fmt.Sprintf("The execution reached the maximum number of history events (%d) that this local runtime records for an EXPRESS execution. "+
			"AWS records no EXPRESS history and has no such limit; raise it with stepmon serve --express-max-events (engine.Options.MaxExpressHistoryEvents).", limit)}
}

// deadline is when the execution times out (the definition's
// TimeoutSeconds, and at most ExpressMaxDuration for an EXPRESS
// execution, as on AWS); zero when it has none.
func (x *execution) deadline() time.Time {
	limit := time.Duration(0)
	if x.m.TimeoutSeconds > 0 && x.m.TimeoutSeconds <= maxTimeoutSeconds {
		// No deadline within the Duration range (292 years) is none at
		// all: the product would overflow into the past.
		limit = time.Duration(x.m.TimeoutSeconds) * time.Second
	}
	if x.sm.Type == "EXPRESS" && (limit == 0 || limit > ExpressMaxDuration) {
		limit = ExpressMaxDuration
	}
	if limit == 0 {
		return time.Time{}
	}
	return x.rec.StartDate.Add(limit)
}

// ExpressMaxDuration is the longest an EXPRESS execution runs: Step
// Functions ends it then with ExecutionTimedOut (status TIMED_OUT),
// whatever its definition's TimeoutSeconds.
const ExpressMaxDuration = 5 * time.Minute

// maxTimeoutSeconds is the largest TimeoutSeconds a time.Duration holds.
const maxTimeoutSeconds = int64(math.MaxInt64 / time.Second)

// wakeAt caps a wake-up time at the execution's deadline.
func (x *execution) wakeAt(t time.Time) time.Time {
	if d := x.deadline(); !d.IsZero() && d.Before(t) {
		return d
	}
	return t
}

// timedOut reports whether the execution's deadline has passed.
func (x *execution) timedOut() bool {
	d := x.deadline()
	return !d.IsZero() && !x.e.clock.Now().Before(d)
}

// sleepUntil sleeps on the clock until t, for waits and retry intervals
// inside Map and Parallel states, which run in memory. It returns
// errTimedOut when the execution's deadline comes first, errAborted when
// ctx ends first.
func (x *execution) sleepUntil(ctx context.Context, t time.Time) *asl.Error {
	capped := x.wakeAt(t)
	if err := x.e.clock.SleepUntil(ctx, capped); err != nil {
		return errAborted
	}
	if capped.Before(t) || x.timedOut() {
		return errTimedOut
	}
	return nil
}

// interrupted reports whether err ends the whole execution (a stop, the
// execution's timeout) rather than a state: Retry and Catch do not see
// it, and the states it passes through record no failure.
func interrupted(err *asl.Error) bool {
	return err == errAborted || err == errTimedOut || err == errDeleted || err == errHistoryFull
}

// historyFull returns errHistoryFull when the execution's history has
// reached its limit: the thread is to stop before it does anything more
// (dispatch a task, retry, suspend, enter a state).
func (t *thread) historyFull() *asl.Error {
	if t.x.historyFull.Load() {
		return errHistoryFull
	}
	return nil
}

// run executes states from the snapshot (top level) until an end state.
func (t *thread) run(ctx context.Context, snap *snapshot) (any, *asl.Error, bool) {
	if t.ctxFn == nil {
		t.ctxFn, t.ctxVal = t.cur.contextObject, t.cur.contextValue
	}
	cur, input := snap.State, snap.Input
	res := snap
	if res.Phase == phaseEnter || res.Phase == "" {
		res = nil
	}
	for {
		if ctx.Err() != nil {
			return nil, errAborted, false
		}
		if t.x.life.deleting.Load() {
			// The state machine is being deleted: its executions fail
			// at their next state transition, as on AWS.
			return nil, errDeleted, false
		}
		st, ok := t.m.States[cur]
		if !ok {
			return nil, asl.Errorf(asl.ErrRuntime, "state %q does not exist", cur), false
		}
		if t.x.timedOut() {
			return nil, errTimedOut, false
		}
		if err := t.historyFull(); err != nil {
			return nil, err, false
		}
		if t.top && res == nil && t.pending() >= t.x.e.ckpt {
			if err := t.x.commit(ctx, &snapshot{State: cur, Phase: phaseEnter, Input: input, Prev: t.prev}, nil); err != nil {
				return nil, errAborted, false
			}
		}
		// The thread's stateRun is reused from state to state: the hot
		// Pass/Choice path allocates no per-state bookkeeping.
		t.cur = stateRun{t: t, st: st, b: st.Base(), raw: input, ctxFn: t.ctxFn, ctxVal: t.ctxVal, ctx: ctx}
		sr := &t.cur
		out, next, err, susp := sr.exec(ctx, res)
		res = nil
		if susp {
			return nil, nil, true
		}
		if err != nil {
			return nil, err, false
		}
		if next == "" {
			return out, nil, false
		}
		cur, input = next, out
	}
}

func (t *thread) pending() int {
	t.x.mu.Lock()
	defer t.x.mu.Unlock()
	return t.x.count
}

// runSub runs a nested thread (branch or iteration) to its end. Its
// events follow t's last one, and t's next follows the sub-thread's last.
// mu, when not nil, guards t.prev from the other sub-threads of t that
// run at the same time (a Parallel state's branches).
func (t *thread) runSub(ctx context.Context, m *asl.Machine, input any, silent bool, mu *sync.Mutex) (any, *asl.Error) {
	if mu != nil {
		mu.Lock()
	}
	sub := &thread{x: t.x, m: m, vars: t.vars.Child(), prev: t.prev, silent: silent || t.silent, ids: t.ids}
	if mu != nil {
		mu.Unlock()
	}
	out, err, _ := sub.run(ctx, &snapshot{State: m.StartAt, Phase: phaseEnter, Input: input})
	sub.vars.Release()
	if !sub.silent {
		if mu != nil {
			mu.Lock()
			defer mu.Unlock()
		}
		t.prev = sub.prev
	}
	return out, err
}

// stateRun is one visit of a state.
type stateRun struct {
	t           *thread
	st          asl.State
	b           *asl.BaseState
	raw         any // the state input
	enteredID   int64
	enteredPrev int64
	enteredAt   time.Time
	retryCount  int
	// completedBy is the event that completed a Map state's attempt
	// when that is not the thread's last (MapRunSucceeded), for its
	// MapStateSucceeded to follow; 0 when none.
	completedBy int64
	mapItem     map[string]any // $$.Map while evaluating ItemSelector
	assigned    map[string]any // pending variable assignments
	sc          asl.Scope      // reused by scope
	ctxFn       func() map[string]any
	ctxVal      func([]string) (any, bool)

	// ctx is the execution's context: an expression's evaluation ends
	// when it does (a stop, the engine's shutdown).
	ctx context.Context
}

func (sr *stateRun) enter() {
	if h := sr.t.x.e.entering; h != nil {
		h(sr.b.Name)
	}
	sr.enteredPrev = sr.t.prev
	sr.enteredAt = sr.t.x.e.clock.Now()
	sr.enteredID = sr.t.emit(sr.b.Type+"StateEntered", EventDetails{Name: sr.b.Name, Input: sr.raw})
}

// restore continues a state from a snapshot instead of entering it.
func (sr *stateRun) restore(s *snapshot) {
	sr.enteredID, sr.enteredPrev, sr.enteredAt = s.EnteredID, s.EnteredPrev, s.EnteredAt
}

func (sr *stateRun) snapshot(phase string) *snapshot {
	return &snapshot{State: sr.b.Name, Phase: phase, Input: sr.raw, Prev: sr.t.prev,
		EnteredID: sr.enteredID, EnteredPrev: sr.enteredPrev, EnteredAt: sr.enteredAt}
}

// contextObject builds $$ for this state.
func (sr *stateRun) contextObject() map[string]any {
	x := sr.t.x
	state := map[string]any{"Name": sr.b.Name, "EnteredTime": isoTime(sr.enteredAt)}
	if sr.b.Type == asl.TypeTask {
		state["RetryCount"] = float64(sr.retryCount)
	}
	c := map[string]any{
		"Execution": map[string]any{"Id": x.rec.Arn, "Input": x.executionInput(), "Name": x.rec.Name,
			"RoleArn": x.sm.RoleArn, "StartTime": x.startTime, "RedriveCount": 0.0},
		"StateMachine": map[string]any{"Id": x.sm.Arn, "Name": x.sm.Name},
		"State":        state,
	}
	if sr.mapItem != nil {
		c["Map"] = map[string]any{"Item": sr.mapItem}
	}
	return c
}

// contextValue answers the paths into $$ that a state reads most, such as
// the monitor's "executionArn.$": "$$.Execution.Id" and "retryCount.$":
// "$$.State.RetryCount", with the value
// contextObject would hold there, without building the object (about
// 4 % of the bytes a check allocated). Other paths build it.
func (sr *stateRun) contextValue(names []string) (any, bool) {
	if len(names) != 2 {
		return nil, false
	}
	x := sr.t.x
	switch names[0] {
	case "Execution":
		switch names[1] {
		case "Id":
			return x.rec.Arn, true
		case "Name":
			return x.rec.Name, true
		case "RoleArn":
			return x.sm.RoleArn, true
		case "StartTime":
			return x.startTime, true
		}
	case "StateMachine":
		switch names[1] {
		case "Id":
			return x.sm.Arn, true
		case "Name":
			return x.sm.Name, true
		}
	case "State":
		switch names[1] {
		case "Name":
			return sr.b.Name, true
		case "EnteredTime":
			return isoTime(sr.enteredAt), true
		case "RetryCount":
			if sr.b.Type == asl.TypeTask {
				return float64(sr.retryCount), true
			}
		}
	}
	return nil, false
}

// scope returns an expression scope with $ = input.
//
// The returned scope is reused by the next call: callers use one scope at
// a time.
func (sr *stateRun) scope(input any) *asl.Scope {
	if sr.ctxFn == nil {
		sr.ctxFn, sr.ctxVal = sr.contextObject, sr.contextValue
	}
	sr.sc = asl.Scope{Input: input, ContextFunc: sr.ctxFn, ContextValue: sr.ctxVal, Vars: sr.t.vars, Now: sr.t.x.e.now, Ctx: sr.ctx,
		Deadline: sr.t.x.evalDeadline}
	if sr.t.x.e.journal != nil && sr.b.JSONata() {
		sr.sc.Watch = sr // see evalwatch.go
	}
	return &sr.sc
}

// evalErr turns an evaluation failure into the error AWS reports, with
// the "An error occurred while executing the state" prefix. Past the
// execution's deadline, which ends a JSONata evaluation in progress, it
// is errTimedOut: the execution times out there, as it would at its next
// transition, and neither Retry nor Catch sees it.
func (sr *stateRun) evalErr(err error) *asl.Error {
	if d := sr.t.x.evalDeadline; !d.IsZero() && !time.Now().Before(d) {
		return errTimedOut
	}
	if e := sr.sc.Err(); e != nil {
		err = e // a path that could not be evaluated, not one that selected nothing
	}
	var ae *asl.Error
	if !errors.As(err, &ae) {
		ae = &asl.Error{Name: asl.ErrRuntime, Cause: err.Error(), HasCause: true}
	}
	out := *ae
	out.Cause = fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). %s", sr.b.Name, sr.enteredID, ae.Cause)
	out.HasCause = true
	return &out
}

// failed records a state failure: an EvaluationFailed event for JSONata
// evaluation errors. It returns err.
func (sr *stateRun) failed(err *asl.Error) *asl.Error {
	if err.Evaluation {
		saved := sr.t.prev
		// AWS chains an EvaluationFailed event to the event before the
		// state was entered, except in a Wait state (to its entry).
		sr.t.prev = sr.enteredPrev
		if sr.b.Type == asl.TypeWait {
			sr.t.prev = sr.enteredID
		}
		sr.t.emit("EvaluationFailed", EventDetails{Error: err.Name, Cause: err.Cause, Name: sr.b.Name, Extra: &EventExtra{Location: err.Location}})
		if sr.t.silent {
			sr.t.prev = saved
		}
		err.Evaluation = false
	}
	return err
}

// effectiveInput applies InputPath (JSONPath states).
func (sr *stateRun) effectiveInput() (any, *asl.Error) {
	b := sr.b
	if b.JSONata() {
		return sr.raw, nil
	}
	if b.InputPathNull {
		return map[string]any{}, nil
	}
	if b.InputPath == nil || b.InputPath.IsRoot() {
		return sr.raw, nil
	}
	v, ok := b.InputPath.Eval(sr.scope(sr.raw))
	if !ok {
		return nil, sr.evalErr(asl.Errorf(asl.ErrRuntime, "Invalid path '%s' : No results for path: %s", b.InputPath, b.InputPath.NormalizedString()))
	}
	return v, nil
}

// parameters applies Parameters (JSONPath) or Arguments (JSONata).
func (sr *stateRun) parameters(eff any) (any, *asl.Error) {
	tmpl := sr.b.Parameters
	if sr.b.JSONata() {
		tmpl = sr.b.Arguments
	}
	if tmpl == nil {
		return eff, nil
	}
	v, err := tmpl.Eval(sr.scope(eff))
	if err != nil {
		return nil, sr.evalErr(err)
	}
	return v, nil
}

// assign evaluates Assign into sr.assigned (applied by exit).
func (sr *stateRun) assign(tmpl *asl.Template, sc *asl.Scope) *asl.Error {
	if tmpl == nil {
		return nil
	}
	v, err := tmpl.Eval(sc)
	if err != nil {
		return sr.evalErr(err)
	}
	m, _ := v.(map[string]any)
	if sr.assigned == nil {
		sr.assigned = make(map[string]any, len(m))
	}
	for k, x := range m {
		sr.assigned[k] = x
	}
	return nil
}

// finish turns the state's result into its output: ResultSelector,
// Assign, ResultPath and OutputPath (JSONPath), or Assign and Output
// (JSONata). useResultSelector is false for Pass.
func (sr *stateRun) finish(result any, useResultSelector bool) (any, *asl.Error) {
	v, err := sr.applyResult(result, useResultSelector)
	if err != nil {
		return nil, err
	}
	return sr.output(v)
}

// applyResult is the part of finish whose errors the state reports, to
// its own Retry and Catch in a Task, Map or Parallel state (see
// reportedResultError): ResultSelector, Assign and ResultPath (JSONPath),
// or Assign (JSONata). It returns what output turns into the state's
// output: the state output before OutputPath, or the result.
func (sr *stateRun) applyResult(result any, useResultSelector bool) (any, *asl.Error) {
	b := sr.b
	if b.JSONata() {
		sc := sr.scope(sr.raw)
		sc.Result, sc.HasResult = result, true
		if err := sr.assign(b.Assign, sc); err != nil {
			return nil, err
		}
		return result, nil
	}
	if useResultSelector && b.ResultSelector != nil {
		v, err := b.ResultSelector.Eval(sr.scope(result))
		if err != nil {
			return nil, sr.evalErr(err)
		}
		result = v
	}
	if err := sr.assign(b.Assign, sr.scope(result)); err != nil {
		return nil, err
	}
	return sr.resultPath(b.ResultPath, b.ResultPathNull, result)
}

// output is the rest of finish after applyResult: OutputPath (JSONPath)
// or Output (JSONata, where v is the result). Its errors fail the state
// as they are: LocalStack, whose behaviour follows AWS's, evaluates a
// JSONata Output outside Retry and Catch.
func (sr *stateRun) output(v any) (any, *asl.Error) {
	b := sr.b
	if !b.JSONata() {
		return sr.outputPath(v)
	}
	if b.Output == nil {
		return v, nil
	}
	sc := sr.scope(sr.raw)
	sc.Result, sc.HasResult = v, true
	out, err := b.Output.Eval(sc)
	if err != nil {
		return nil, sr.evalErr(err)
	}
	return out, nil
}

// complete processes the successful result of a Task, Map or Parallel
// state (ResultSelector, ResultPath, Assign, then its output): the output,
// the next state and the error that ends the state (an output's failure,
// or the exit's). When the processing fails with an error the state
// reports, that failure is returned as reported instead, for the state's
// Retry and Catch to see, after its EvaluationFailed event (JSONata).
func (sr *stateRun) complete(result any) (out any, next string, ferr, reported *asl.Error) {
	v, err := sr.applyResult(result, true)
	if err == nil {
		out, oerr := sr.output(v)
		if oerr != nil {
			return nil, "", oerr, nil
		}
		return out, sr.next(), sr.exit(out), nil
	}
	if !reportedResultError(err) {
		return nil, "", err, nil
	}
	reported = sr.failed(err)
	sr.assigned = nil
	return nil, "", nil, reported
}

// reportedResultError reports whether an error of applyResult goes
// through the state's Retry and Catch: the ASL spec lists
// States.ResultPathMatchFailure among the errors a state reports, and a
// JSONata Assign's States.QueryEvaluationError is one too. A
// States.Runtime (a ResultSelector or Assign path that selects nothing)
// and States.DataLimitExceeded fail the execution, as they do anywhere
// else, and an interruption (the execution's deadline reached during
// an evaluation) ends it.
func reportedResultError(err *asl.Error) bool {
	return err.Name != asl.ErrRuntime && err.Name != asl.ErrDataLimitExceeded && !interrupted(err)
}

func (sr *stateRun) resultPath(p *asl.Path, null bool, result any) (any, *asl.Error) {
	switch {
	case null:
		return sr.raw, nil
	case p == nil || p.IsRoot():
		return result, nil
	}
	out, err := p.Set(sr.raw, result)
	if err != nil {
		return nil, sr.evalErr(asl.Errorf(asl.ErrResultPathMatchFailure, "Unable to apply ResultPath '%s' to input '%s'", p, asl.Text(sr.raw)))
	}
	return out, nil
}

func (sr *stateRun) outputPath(v any) (any, *asl.Error) {
	b := sr.b
	if b.OutputPathNull {
		return map[string]any{}, nil
	}
	if b.OutputPath == nil || b.OutputPath.IsRoot() {
		return v, nil
	}
	out, ok := b.OutputPath.Eval(sr.scope(v))
	if !ok {
		return nil, sr.evalErr(asl.Errorf(asl.ErrRuntime, "Invalid path '%s' : No results for path: %s", b.OutputPath, b.OutputPath.NormalizedString()))
	}
	return out, nil
}

// exit applies pending assignments and emits the Exited event.
func (sr *stateRun) exit(output any) *asl.Error {
	if sr.t.exceedsPayload(output) {
		return dataLimit(sr.b.Name)
	}
	d := EventDetails{Name: sr.b.Name, Output: output}
	if sr.assigned != nil {
		if err := sr.t.vars.Assign(sr.b.Name, sr.assigned); err != nil {
			return err
		}
		d.AssignedVariables = make(map[string]string, len(sr.assigned))
		for k, v := range sr.assigned {
			d.AssignedVariables[k] = asl.Text(v) // at most asl.MaxVariableSize bytes
		}
	}
	sr.t.emit(sr.b.Type+"StateExited", d)
	return nil
}

// retry decides whether an error is retried: it returns the delay and
// updates attempts (one counter per retrier).
func (sr *stateRun) retry(err *asl.Error, attempts []int) (time.Duration, bool) {
	for i, r := range sr.b.Retry {
		if !r.Matches(err.Name) {
			continue
		}
		if attempts[i] >= r.MaxAttempts {
			return 0, false
		}
		d := r.IntervalSeconds * math.Pow(r.BackoffRate, float64(attempts[i]))
		if r.MaxDelaySeconds > 0 && d > r.MaxDelaySeconds {
			d = r.MaxDelaySeconds
		}
		if r.JitterStrategy == "FULL" {
			d = rand.Float64() * d
		}
		attempts[i]++
		sr.retryCount++
		return secondsDuration(d), true
	}
	return 0, false
}

// secondsDuration converts seconds to a Duration, saturating at the
// longest one (about 292 years) rather than wrapping around to a negative
// one: a retry interval of a large BackoffRate to a high power, a Wait of
// 1e12 seconds.
func secondsDuration(f float64) time.Duration {
	if f*float64(time.Second) >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(f * float64(time.Second))
}

// catch looks for a catcher; on a match it emits the Exited event and
// returns the output and the next state.
func (sr *stateRun) catch(err *asl.Error) (any, string, bool, *asl.Error) {
	for _, c := range sr.b.Catch {
		if !c.Matches(err.Name) {
			continue
		}
		errOut := map[string]any{"Error": err.Name}
		if err.HasCause {
			errOut["Cause"] = err.Cause
		} else {
			errOut["Cause"] = ""
		}
		sr.assigned = nil
		var out any
		if sr.b.JSONata() {
			sc := sr.scope(sr.raw)
			sc.ErrorOutput, sc.HasErrorOutput = errOut, true
			if e := sr.assign(c.Assign, sc); e != nil {
				return nil, "", false, e
			}
			out = errOut
			if c.Output != nil {
				v, e := c.Output.Eval(sc)
				if e != nil {
					return nil, "", false, sr.evalErr(e)
				}
				out = v
			}
		} else {
			if e := sr.assign(c.Assign, sr.scope(errOut)); e != nil {
				return nil, "", false, e
			}
			v, e := sr.resultPath(c.ResultPath, c.ResultPathNull, errOut)
			if e != nil {
				return nil, "", false, e
			}
			out = v
		}
		if e := sr.exit(out); e != nil {
			return nil, "", false, e
		}
		return out, c.Next, true, nil
	}
	return nil, "", false, nil
}

// next returns the state's successor ("" at the end).
func (sr *stateRun) next() string {
	if sr.b.End {
		return ""
	}
	return sr.b.Next
}

// exec runs the state. res is the snapshot when the state is resumed.
func (sr *stateRun) exec(ctx context.Context, res *snapshot) (out any, next string, err *asl.Error, suspended bool) {
	if res != nil {
		sr.restore(res)
	} else {
		sr.enter()
		if err := sr.t.historyFull(); err != nil {
			return nil, "", err, false
		}
	}
	switch s := sr.st.(type) {
	case *asl.PassState:
		out, next, err = sr.execPass(s)
	case *asl.ChoiceState:
		out, next, err = sr.execChoice(s)
	case *asl.SucceedState:
		out, err = sr.execSucceed(s)
	case *asl.FailState:
		err = sr.execFail(s)
	case *asl.WaitState:
		out, next, err, suspended = sr.execWait(ctx, s, res)
	case *asl.TaskState:
		out, next, err, suspended = sr.execTask(ctx, s, res)
	case *asl.ParallelState:
		out, next, err, suspended = sr.execParallel(ctx, s, res)
	case *asl.MapState:
		out, next, err, suspended = sr.execMap(ctx, s, res)
	default:
		err = asl.Errorf(asl.ErrRuntime, "unsupported state type %s", sr.b.Type)
	}
	if err != nil {
		return nil, "", sr.failed(err), false
	}
	return out, next, nil, suspended
}
