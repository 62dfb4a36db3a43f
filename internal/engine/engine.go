package engine

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/gopool"
)

// Options configure an Engine. Zero fields take the documented defaults.
type Options struct {
	Store      Store       // default: NewMemStore()
	Clock      Clock       // default: RealClock{}
	Dispatcher *Dispatcher // default: an empty dispatcher (states:startExecution is always routed)
	Region     string      // default: us-east-1
	AccountID  string      // default: 123456789012
	// RoleArn is the execution role shown in ExecutionStarted events and
	// in $$.Execution.RoleArn when a state machine has none.
	RoleArn string
	// CheckpointEvents is how many buffered history events a busy
	// execution (one that neither waits nor runs tasks) accumulates before
	// it commits a checkpoint; default 1000.
	CheckpointEvents int
	// ResidentWindow: a top-level execution that suspends in a Wait or a
	// retry interval ending at most this far ahead keeps its decoded run
	// state in memory, so that its wake-up does not read it back from the
	// Store. Default 30 s; negative disables it. Executions waiting longer
	// cost only their timer-heap entry.
	ResidentWindow time.Duration
	// ResidentMax bounds how many executions are kept resident with their
	// run state decoded; default 10,000, negative none.
	ResidentMax int
	// ResidentEncodedMax bounds how many more executions, beyond
	// ResidentMax, are kept resident with their run state encoded, as the
	// store holds it (a monitor's is about 800 bytes): their wake-up
	// decodes it but reads nothing from the Store. Beyond both they
	// resume from the Store. Default 100,000; negative none.
	ResidentEncodedMax int
	// MaxRunning bounds how many executions woken by their timers run at
	// once; default 512. Further due executions wait in the timer queue,
	// holding no goroutine, so that an overloaded engine works through a
	// bounded set instead of thousands at a time (each then waiting at
	// the store behind all the others) and new executions started through
	// the API are not queued behind them. An execution gives its slot back
	// when it suspends or ends, or after runSlotHold: one blocked on a slow
	// task does not hold back the rest for longer than that.
	MaxRunning int
	// MaxHistoryEvents is the most events an execution's history holds,
	// Step Functions' quota: default 25,000. An execution whose history
	// reaches it fails as on AWS: its last event, event MaxHistoryEvents,
	// is ExecutionFailed with States.Runtime. Map iterations and
	// Parallel branches count, as on AWS; a DISTRIBUTED Map's child
	// workflows, which are not in the history, do not.
	MaxHistoryEvents int
	// MaxExpressHistoryEvents is the most events an EXPRESS execution's
	// history holds: default DefaultMaxExpressHistoryEvents, negative none. AWS records no
	// history of EXPRESS executions and bounds them only by their five
	// minutes; this engine records one, which that bounds in memory and
	// on disk. An execution that reaches it fails as at
	// MaxHistoryEvents, with a cause naming this limit.
	MaxExpressHistoryEvents int
	Logger                  *slog.Logger // default: slog.Default()
	// EvalJournal, when set, records which executions are in the middle
	// of a JSONata evaluation, and Recover fails those found so at
	// InterruptedEvalLimit consecutive abrupt ends of the process
	// instead of resuming them. The caller closes it after the engine.
	// Nil records nothing and resumes every execution.
	EvalJournal *EvalJournal

	// waking, when set, is called by the timer loop as it starts to
	// resume a due execution, before the execution counts as running.
	// Tests use it to hold the loop there.
	waking func()
	// returning, when set, is called on an execution's goroutine once
	// its run returns, while the execution is still live. Tests use it
	// to hold the goroutine there.
	returning func()
	// entering, when set, is called with a state's name as an execution
	// enters it, on the goroutine that runs the state. Tests use it to
	// make a run panic there.
	entering func(state string)
	// jumping, when set, is called by the timer loop on a virtual clock
	// after it has read its earliest timer and before it may jump the
	// clock. Tests use it to arm a timer in between.
	jumping func()
	// mapConcurrency, when positive, replaces the ceilings on the
	// iterations of a Map state that run at once (inlineMapConcurrency,
	// distributedMapConcurrency) with inline and distributed. Tests lower
	// them.
	mapConcurrency [2]int
}

// Engine runs executions. Create it with New, stop it with Close.
type Engine struct {
	store     Store
	clock     Clock
	now       func() time.Time // clock.Now, bound once for expression scopes
	disp      *Dispatcher
	region    string
	account   string
	roleArn   string
	ckpt      int
	maxEvents int64 // Options.MaxHistoryEvents
	log       *slog.Logger
	journal   *EvalJournal // Options.EvalJournal
	machines  sync.Map     // arn + "#" + revision -> *machineEntry
	// lives holds the machineLife of state machines (ARN ->
	// *machineLife), shared by their executions.
	lives sync.Map
	// delMu orders the deletion of state machines against starts of
	// executions and creations of machines: DeleteStateMachine and
	// finishDeletion hold it, the others read-hold it (see delete.go).
	delMu sync.RWMutex
	// reuse: the store copies what it commits (TransitionCopier), so
	// the first chunks of events go back to eventChunks and the run
	// states' buffers to runStateBufs.
	reuse bool
	// mapCeil holds the most iterations of an INLINE and of a
	// DISTRIBUTED Map state that run at once (stateRun.mapConcurrency).
	mapCeil [2]int
	// maxExpressEvents is Options.MaxExpressHistoryEvents
	// (math.MaxInt64: none).
	maxExpressEvents int64
	// tasks runs the handlers of tasks with a time limit
	// (stateRun.invoke) on goroutines that keep their grown stacks.
	tasks *gopool.Pool

	residentWindow     time.Duration
	residentMax        int
	residentEncodedMax int
	residentHits       atomic.Int64 // resumes that skipped the store (tests)

	// Commits the store failed and that are waiting to be retried
	// (storeCommit), and when that was last logged (Unix nanoseconds).
	commitsRetrying  atomic.Int64
	commitFailLogged atomic.Int64
	// outageFrom is when the first of the commits retrying failed: the
	// start of the store's outage. outageMu orders the outage's start
	// and end (commitRetrying, commitRetried).
	outageMu      sync.Mutex
	outageFrom    time.Time
	lastCommitErr atomic.Value // string: the store's last Commit failure (StoreHealth)
	// The store's last failure of a resume's reads (resumeFailed; the
	// resumes waiting are resumeRetry's), and when one was last logged
	// (Unix nanoseconds).
	lastResumeErr    atomic.Value // string
	resumeFailLogged atomic.Int64

	mu     sync.Mutex
	timers timerHeap
	// queued holds the wake-up time of each execution's live heap
	// entry. An entry that does not match it (a later one superseded by
	// an earlier, one of an execution that ended) is stale: the timer
	// loop drops it.
	queued map[string]wakeTime
	live   map[string]*execution // running executions' goroutines (see execution.cancel)
	// rerun marks live executions whose timer fell due before their
	// goroutine returned; the goroutine re-arms them when it does, as
	// rebased if the value is true (the wake-up that fell due was).
	rerun map[string]bool
	// resumeRetry holds the executions whose resume the store failed
	// (resumeFailed), each with the wait before its next attempt.
	resumeRetry map[string]time.Duration
	// rebased marks executions whose timer the timer loop brought
	// forward after the clock went back (scheduleRelative): their resume
	// does not wait for the stored wake-up time.
	rebased map[string]bool
	// resident holds the run state of executions suspended until a near
	// wake-up (see keepResident); nil once the engine is closed.
	// residentEncoded of them hold it encoded.
	resident        map[string]*resident
	residentEncoded int
	waiters         map[string][]waiter
	wake            chan struct{}

	// histLocks order history writes per execution: an execution's own
	// commits share its stripe, StopExecution takes it exclusively so that
	// the id it reads and the event it appends cannot interleave with a
	// commit of the running execution.
	histLocks [64]sync.RWMutex
	// stops counts the StopExecution calls that committed; it changes
	// under mu. A run state read before a stop may be stale: spawn checks
	// the execution's status again when the count has changed since.
	stops atomic.Uint64

	// late measures how late due executions get their run slot;
	// dueBacklog counts those that fell due and wait for one.
	late       *lateness
	dueBacklog atomic.Int64

	// inflight counts the work in progress: executions' goroutines that
	// run, and wake-ups the timer loop is starting. A goroutine blocked in
	// the virtual clock's SleepUntil, or a Map or Parallel state's waiting
	// for its iterations or branches, does not count (see forEach).
	inflight atomic.Int64
	// tasksRunning counts the Task states' handlers running now, those
	// that outlived their time limit included (TimerStats.Tasks).
	tasksRunning atomic.Int64
	vclock       *VirtualClock // the clock, if virtual: the timer loop jumps it
	resumeSem    chan struct{} // bounds concurrent loads of due executions
	runSlots     chan struct{} // bounds running timer-woken executions (Options.MaxRunning)
	// runs runs executions' runs and resumes on goroutines that keep
	// their grown stacks: a run goes deep into the store and the task
	// handlers (SQLite's transpiled C keeps large frames), and a fresh
	// goroutine's stack copying was about 5 % of the engine's CPU at
	// thousands of runs a second.
	runs     *gopool.Pool
	ctx      context.Context
	cancel   context.CancelFunc
	loopDone chan struct{}
	// draining is closed by Drain: the timer loop wakes no execution
	// any more.
	draining  chan struct{}
	drainOnce sync.Once
	waking    func()             // Options.waking
	returning func()             // Options.returning
	entering  func(state string) // Options.entering
	jumping   func()             // Options.jumping
	// armed counts the timers pushed on the heap; it changes under mu.
	// The timer loop jumps a virtual clock only if it has not changed
	// since it read its earliest timer (VirtualClock.jump).
	armed atomic.Uint64
}

// New returns a running engine; its timer loop runs until Close.
func New(o Options) *Engine {
	if o.Store == nil {
		o.Store = NewMemStore()
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Dispatcher == nil {
		o.Dispatcher = NewDispatcher()
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.AccountID == "" {
		o.AccountID = "123456789012"
	}
	if o.RoleArn == "" {
		o.RoleArn = "arn:aws:iam::" + o.AccountID + ":role/stepmon-execution"
	}
	if o.CheckpointEvents <= 0 {
		o.CheckpointEvents = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ResidentWindow == 0 {
		o.ResidentWindow = 30 * time.Second
	}
	switch {
	case o.ResidentMax == 0:
		o.ResidentMax = 10000
	case o.ResidentMax < 0:
		o.ResidentMax = 0
	}
	switch {
	case o.ResidentEncodedMax == 0:
		o.ResidentEncodedMax = 100000
	case o.ResidentEncodedMax < 0:
		o.ResidentEncodedMax = 0
	}
	if o.MaxRunning <= 0 {
		o.MaxRunning = 512
	}
	if o.MaxHistoryEvents <= 0 {
		o.MaxHistoryEvents = defaultMaxHistoryEvents
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{
		store: o.Store, clock: o.Clock, disp: o.Dispatcher, region: o.Region, account: o.AccountID,
		roleArn: o.RoleArn, ckpt: o.CheckpointEvents, maxEvents: int64(o.MaxHistoryEvents), log: o.Logger, journal: o.EvalJournal,
		residentWindow: o.ResidentWindow, residentMax: o.ResidentMax, residentEncodedMax: o.ResidentEncodedMax,
		resident: map[string]*resident{},
		queued:   map[string]wakeTime{}, live: map[string]*execution{}, rerun: map[string]bool{}, resumeRetry: map[string]time.Duration{}, rebased: map[string]bool{}, waiters: map[string][]waiter{},
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, loopDone: make(chan struct{}), draining: make(chan struct{}), waking: o.waking, returning: o.returning, jumping: o.jumping, entering: o.entering,
		resumeSem: make(chan struct{}, 256), runSlots: make(chan struct{}, o.MaxRunning),
		tasks: gopool.New(taskGoroutineIdle), runs: gopool.New(runGoroutineIdle),
	}
	switch {
	case o.MaxExpressHistoryEvents == 0:
		e.maxExpressEvents = DefaultMaxExpressHistoryEvents
	case o.MaxExpressHistoryEvents < 0:
		e.maxExpressEvents = math.MaxInt64
	default:
		e.maxExpressEvents = int64(o.MaxExpressHistoryEvents)
	}
	e.mapCeil = [2]int{inlineMapConcurrency, distributedMapConcurrency}
	for i, n := range o.mapConcurrency {
		if n > 0 {
			e.mapCeil[i] = n
		}
	}
	if c, ok := o.Store.(TransitionCopier); ok {
		e.reuse = c.CopiesTransitions()
	}
	e.now = e.clock.Now
	if vc, ok := o.Clock.(*VirtualClock); ok {
		e.vclock = vc
		vc.attach(&e.inflight, e.poke)
	}
	e.late = newLateness(latenessWindow, o.Clock.Now(), o.Logger)
	registerStates(e)
	go e.timerLoop()
	if e.vclock == nil {
		go e.heartbeat()
	}
	return e
}

// heartbeat notes every beatEvery that the process runs, until the engine
// closes, so that a gap in the notes tells a pause of the process (the
// machine slept, SIGSTOP) from a loop kept busy: the timers that fell due
// in a pause resume late by it, not for want of CPU (lateness).
func (e *Engine) heartbeat() {
	t := time.NewTicker(beatEvery)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
			e.late.heartbeat(e.clock.Now().Round(0))
		}
	}
}

// drainPoll is how often Drain looks whether the executions have
// suspended.
const drainPoll = 5 * time.Millisecond

// Drain prepares a Close that cuts no work short: the timer loop wakes no
// execution any more, and Drain waits until every execution running now
// has reached its next suspension point (a Wait, a retry's interval, a
// wait for a child execution, or its end) and committed it, or until ctx
// is done. It reports whether they all had. A task running now finishes
// and its result is recorded, instead of being cancelled by Close and run
// again after a restart. Executions started meanwhile run too; the
// executions whose timers fall due resume at the next start (Recover).
// On a VirtualClock, Drain goes on jumping the clock for the waits and
// retry intervals inside Map and Parallel states, which end as they would
// in real time. Call Close after it.
func (e *Engine) Drain(ctx context.Context) bool {
	e.drainOnce.Do(func() { close(e.draining) })
	e.poke()
	// Once the loop has returned, every execution it woke is counted in
	// inflight: a count read before could miss one it was starting.
	select {
	case <-e.loopDone:
	case <-ctx.Done():
		return false
	}
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for !e.settled() {
		if e.vclock != nil && e.vclock.jump(time.Time{}, nil) {
			continue // waits inside Map and Parallel states go on
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// settled reports whether no execution runs, none sleeping on a virtual
// clock either.
func (e *Engine) settled() bool {
	if e.vclock != nil {
		return e.vclock.settled()
	}
	return e.inflight.Load() == 0
}

// Close stops the timer loop and cancels running executions' in-memory
// work, and ends the goroutines the engine keeps for task handlers once
// they are idle. Committed state stays in the Store for Recover.
func (e *Engine) Close() error {
	e.cancel()
	<-e.loopDone
	e.runs.Close()
	e.tasks.Close()
	if e.vclock != nil {
		e.vclock.detach(&e.inflight)
	}
	e.mu.Lock()
	e.resident, e.residentEncoded = nil, 0
	e.mu.Unlock()
	return nil
}

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

// Clock returns the engine's clock.
func (e *Engine) Clock() Clock { return e.clock }

// Dispatcher returns the engine's task dispatcher.
func (e *Engine) Dispatcher() *Dispatcher { return e.disp }

// maxNameLen is the longest state machine or execution name, in
// characters.
const maxNameLen = 80

// ValidName reports whether name is a state machine or execution name
// AWS accepts: 1 to 80 characters, none of them whitespace, brackets,
// wildcards, control characters (U+0000-001F, U+007F-009F), U+FFFE,
// U+FFFF or one of " # % \ ^ | ~ ` $ & , ; : /. Dots, and letters beyond
// ASCII, are allowed.
func ValidName(name string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameLen {
		return false
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF ||
			strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return false
		}
	}
	return true
}

// StateMachineArn returns the ARN of a state machine name.
func (e *Engine) StateMachineArn(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", e.region, e.account, name)
}

// CreateStateMachine validates the definition and stores a STANDARD state
// machine. Validation problems are returned as asl.ValidationErrors.
func (e *Engine) CreateStateMachine(ctx context.Context, name, definition, roleArn string) (StateMachine, error) {
	return e.CreateStateMachineOfType(ctx, name, "STANDARD", definition, roleArn)
}

// CreateStateMachineOfType is CreateStateMachine for a type, STANDARD or
// EXPRESS. The engine runs both alike but for two limits of AWS's: an
// EXPRESS execution times out after ExpressMaxDuration at the latest, and
// its history is held not to STANDARD's 25,000 events but to
// Options.MaxExpressHistoryEvents. The API reads the type too
// (StartSyncExecution takes EXPRESS machines only).
func (e *Engine) CreateStateMachineOfType(ctx context.Context, name, typ, definition, roleArn string) (StateMachine, error) {
	return e.CreateStateMachineFrom(ctx, StateMachine{Name: name, Type: typ, Definition: definition, RoleArn: roleArn})
}

// CreateStateMachineFrom is CreateStateMachineOfType for the name, type,
// definition and role of spec, with its tags and configuration stored in
// the same step (see StateMachine.Tags and StateMachine.Config). The
// engine sets the rest: ARN, status, revision and dates.
func (e *Engine) CreateStateMachineFrom(ctx context.Context, spec StateMachine) (StateMachine, error) {
	name, typ, definition, roleArn := spec.Name, spec.Type, spec.Definition, spec.RoleArn
	if !ValidName(name) {
		return StateMachine{}, fmt.Errorf("engine: create state machine: %w %q", ErrInvalidName, name)
	}
	if typ != "STANDARD" && typ != "EXPRESS" {
		return StateMachine{}, fmt.Errorf("engine: create state machine %s: type %q is not STANDARD or EXPRESS", name, typ)
	}
	if _, err := asl.Parse([]byte(definition)); err != nil {
		return StateMachine{}, fmt.Errorf("engine: create state machine %s: %w", name, err)
	}
	if roleArn == "" {
		roleArn = e.roleArn
	}
	now := e.clock.Now().UTC()
	sm := StateMachine{Arn: e.StateMachineArn(name), Name: name, Definition: definition, RoleArn: roleArn,
		Type: typ, CreatedAt: now, UpdatedAt: now, Tags: spec.Tags, Config: spec.Config}
	e.delMu.RLock()
	err := e.store.CreateStateMachine(ctx, sm)
	if errors.Is(err, ErrStateMachineAlreadyExists) {
		// A machine being deleted still holds its name: AWS answers
		// StateMachineDeleting.
		if old, gerr := e.store.GetStateMachine(ctx, sm.Arn); gerr == nil && old.Status == StateMachineDeleting {
			err = ErrStateMachineDeleting
		}
	}
	e.delMu.RUnlock()
	if err != nil {
		return StateMachine{}, fmt.Errorf("engine: create state machine %s: %w", name, err)
	}
	return e.store.GetStateMachine(ctx, sm.Arn)
}

// machineEntry is a cached state machine revision and its parse.
type machineEntry struct {
	sm StateMachine
	m  *asl.Machine
}

func machineKey(arn string, revision int) string { return arn + "#" + strconv.Itoa(revision) }

// machine returns the parsed definition of a state machine revision.
func (e *Engine) machine(sm StateMachine) (*asl.Machine, error) {
	key := machineKey(sm.Arn, sm.Revision)
	if c, ok := e.machines.Load(key); ok && c.(*machineEntry).sm.CreatedAt.Equal(sm.CreatedAt) {
		// (A machine deleted and created again under the same name has
		// revision 1 again; finishDeletion forgets the old one's entries
		// and the creation date tells them apart besides.)
		return c.(*machineEntry).m, nil
	}
	m, err := asl.Parse([]byte(sm.Definition))
	if err != nil {
		return nil, fmt.Errorf("engine: parse %s: %w", sm.Arn, err)
	}
	e.machines.Store(key, &machineEntry{sm: sm, m: m})
	e.forgetRevisionsBefore(sm.Arn, sm.Revision-cachedRevisions+1)
	return m, nil
}

// cachedRevisions is how many of a state machine's latest revisions the
// engine keeps parsed from one parse to the next: a machine updated
// thousands of times (a definition edited and run in a loop) would
// otherwise keep a parse of each. An execution of an older revision
// still running parses it again at its resumes (machine), and its parse
// stays until the next parse of a newer one.
const cachedRevisions = 8

// forgetRevisionsBefore drops the parses of arn's revisions older than
// revision. Parses are rare (a revision's first execution, a resume
// after a restart), so the walk over the cache is too.
func (e *Engine) forgetRevisionsBefore(arn string, revision int) {
	if revision <= 1 {
		return
	}
	e.machines.Range(func(k, v any) bool {
		if c := v.(*machineEntry); c.sm.Arn == arn && c.sm.Revision < revision {
			e.machines.CompareAndDelete(k, v)
		}
		return true
	})
}

// StartExecution starts an execution of a state machine. An empty name
// gets a generated one. Starting again with the name of a RUNNING
// execution of a STANDARD machine and the same input returns that
// execution (AWS's idempotent StartExecution); otherwise a used name
// fails with ErrExecutionAlreadyExists.
func (e *Engine) StartExecution(ctx context.Context, stateMachineArn, name, input string) (Execution, error) {
	x, err := e.startExecution(ctx, stateMachineArn, name, input, "")
	if err != nil {
		return Execution{}, err
	}
	return x, nil
}

// startExecution is StartExecution for a parent execution (or none). With
// ErrExecutionAlreadyExists it returns the execution that exists, when
// it could read it.
func (e *Engine) startExecution(ctx context.Context, smArn, name, input, parent string) (Execution, error) {
	// Read-held until the execution is committed: a deletion of the
	// machine either sees it running or comes first (finishDeletion).
	e.delMu.RLock()
	defer e.delMu.RUnlock()
	sm, err := e.store.GetStateMachine(ctx, smArn)
	if err != nil {
		return Execution{}, fmt.Errorf("engine: start execution: %w", err)
	}
	if sm.Status == StateMachineDeleting {
		return Execution{}, fmt.Errorf("engine: start execution: %s: %w", smArn, ErrStateMachineDeleting)
	}
	m, err := e.machine(sm)
	if err != nil {
		return Execution{}, err
	}
	if name == "" {
		name = asl.NewUUID()
	}
	if !ValidName(name) {
		return Execution{}, fmt.Errorf("engine: start execution: %w %q", ErrInvalidName, name)
	}
	if input == "" {
		input = "{}"
	}
	inVal, err := asl.ParseJSON([]byte(input))
	if err != nil {
		return Execution{}, fmt.Errorf("engine: start execution: %w: %w", ErrInvalidInput, err)
	}
	arn := fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", e.region, e.account, sm.Name, name)
	now := e.clock.Now().UTC()
	rec := Execution{Arn: arn, Name: name, StateMachineArn: sm.Arn, Status: StatusRunning, Input: input,
		StartDate: now, ParentArn: parent, Revision: sm.Revision}
	x := e.newExecution(rec, sm, m, inVal)
	started := Event{ID: 1, Type: "ExecutionStarted", Timestamp: now,
		Details: EventDetails{Input: inVal, RoleArn: sm.RoleArn, Extra: &EventExtra{StateMachineArn: sm.Arn}}}
	x.lastID = 1
	snap := &snapshot{State: m.StartAt, Phase: phaseEnter, Input: inVal, LastID: 1}
	stops := e.stops.Load()
	run, err := snap.encode()
	if err != nil {
		return Execution{}, err
	}
	err = e.store.Commit(ctx, Transition{ExecutionArn: arn, Create: &rec, Events: []Event{started}, RunState: run})
	if errors.Is(err, ErrExecutionAlreadyExists) {
		old, gerr := e.store.GetExecution(ctx, arn)
		// Idempotent on STANDARD machines only, as on AWS. An EXPRESS
		// start always starts a new execution there (its ARN is unique);
		// here names are unique on every machine, so it is refused.
		if gerr == nil && old.Status == StatusRunning && old.Input == input && sm.Type != "EXPRESS" {
			return old, nil
		}
		return old, fmt.Errorf("engine: start execution %s: %w", name, err)
	}
	if err != nil {
		return Execution{}, fmt.Errorf("engine: start execution %s: %w", name, err)
	}
	e.spawn(x, snap, stops, nil)
	return rec, nil
}

// spawn runs an execution from a snapshot on a worker goroutine, which
// calls done (if not nil) when it returns; done is called at once when
// the execution is running already or no longer running. stops is
// e.stops as it was before the snapshot was read.
func (e *Engine) spawn(x *execution, snap *snapshot, stops uint64, done func()) {
	if done == nil {
		done = func() {}
	}
	ctx, cancel := context.WithCancel(e.ctx)
	e.mu.Lock()
	for e.stops.Load() != stops {
		// An execution was stopped since the snapshot was read, perhaps
		// this one: StopExecution found it not live, so only the stored
		// status says whether the snapshot is stale.
		stops = e.stops.Load()
		e.mu.Unlock()
		rec, err := e.store.GetExecution(ctx, x.rec.Arn)
		if err != nil || rec.Status != StatusRunning {
			if err != nil {
				e.resumeFailed(x.rec.Arn, err)
			}
			cancel()
			done()
			return
		}
		e.mu.Lock()
	}
	if _, busy := e.live[x.rec.Arn]; busy {
		// The goroutine of this execution has not returned yet, or
		// that of another one with the same ARN: one that failed as
		// its state machine was deleted, which freed the name. Run from
		// the store once it has returned (as resumeFromStore does), or
		// a new execution would never run.
		rebased := e.rerun[x.rec.Arn] // a rebased rerun stays rebased
		e.rerun[x.rec.Arn] = rebased
		e.mu.Unlock()
		cancel()
		done()
		return
	}
	x.cancel = cancel
	e.live[x.rec.Arn] = x
	e.resumedLocked(x.rec.Arn)
	e.mu.Unlock()
	e.inflight.Add(1)
	e.runs.Go(func() {
		defer func() {
			done()
			cancel()
			e.mu.Lock()
			delete(e.live, x.rec.Arn)
			rebased, again := e.rerun[x.rec.Arn]
			delete(e.rerun, x.rec.Arn)
			e.mu.Unlock()
			if again {
				e.arm(x.rec.Arn, time.Time{}, time.Time{}, rebased) // due now
			}
			e.idle()
		}()
		defer func() {
			if r := recover(); r != nil {
				e.executionPanicked(x.rec.Arn, r)
			}
		}()
		x.resume(ctx, snap)
		if e.returning != nil {
			e.returning()
		}
	})
}

// StopExecution aborts a RUNNING execution (ExecutionAborted with the
// given error and cause, which may be empty).
//
// The events a running execution has emitted but not committed yet (the
// states it passed since its last suspension point, a task it runs) are
// committed before ExecutionAborted, so that the history shows where the
// execution stood; whatever it does afterwards is never committed.
func (e *Engine) StopExecution(ctx context.Context, arn, errName, cause string) (Execution, error) {
	rec, err := e.endExecution(ctx, arn, StatusAborted, "ExecutionAborted", errName, cause)
	if err != nil {
		return Execution{}, fmt.Errorf("engine: stop %s: %w", arn, err)
	}
	e.executionEnded(rec.StateMachineArn)
	return rec, nil
}

// endExecution ends a RUNNING execution from outside (StopExecution,
// CompleteDeletion) with a terminal status, its event and the given
// error and cause, and returns the execution as it was just before its
// state machine, if being deleted, was deleted.
func (e *Engine) endExecution(ctx context.Context, arn string, status ExecutionStatus, eventType, errName, cause string) (Execution, error) {
	lock := e.histLock(arn)
	lock.Lock()
	last, err := e.store.LastEventID(ctx, arn)
	if err != nil {
		lock.Unlock()
		return Execution{}, err
	}
	// As it was, for the answer when the execution is deleted with its
	// state machine before it can be read again (see below).
	before, err := e.store.GetExecution(ctx, arn)
	if err != nil {
		lock.Unlock()
		return Execution{}, err
	}
	e.mu.Lock()
	x := e.live[arn]
	e.mu.Unlock()
	var evs []Event
	if x != nil {
		evs = x.uncommitted(last)
	}
	now := e.clock.Now().UTC()
	errName, cause = clipError(errName), clipCause(cause)
	// The end comes from outside the execution: AWS gives its event no
	// previous event (previousEventId 0), as it does a timeout's.
	evs = append(evs, Event{ID: last + int64(len(evs)) + 1, Type: eventType, Timestamp: now,
		Details: EventDetails{Error: errName, HasError: errName != "", Cause: cause, HasCause: cause != ""}})
	err = e.store.Commit(ctx, Transition{ExecutionArn: arn, ExpectRunning: true, Events: evs,
		Update: &ExecutionUpdate{Status: status, Error: errName, Cause: cause, StopDate: now}})
	lock.Unlock()
	// Whatever the commit's outcome, the execution no longer resumes from
	// memory: a live one is cancelled (so it keeps nothing resident, see
	// keepResident), a suspended one loses its resident run state and
	// reads the stored one, which says whether it still runs.
	e.mu.Lock()
	if err == nil {
		e.stops.Add(1)
		if x, ok := e.live[arn]; ok {
			x.cancel()
		}
	}
	e.unresidentLocked(arn)
	e.mu.Unlock()
	if err != nil {
		return Execution{}, err
	}
	e.finished(arn)
	got, err := e.store.GetExecution(ctx, arn)
	if errors.Is(err, ErrExecutionDoesNotExist) {
		// Its state machine was being deleted and the last of its other
		// executions ended meanwhile: the deletion took this one along.
		// It ended as committed.
		before.Status, before.StopDate, before.Error, before.Cause = status, now, errName, cause
		return before, nil
	}
	return got, err
}

// histLock returns the lock that orders arn's history writes.
func (e *Engine) histLock(arn string) *sync.RWMutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(arn))
	return &e.histLocks[h.Sum32()%uint32(len(e.histLocks))]
}

// DescribeExecution returns the stored execution record.
func (e *Engine) DescribeExecution(ctx context.Context, arn string) (Execution, error) {
	x, err := e.store.GetExecution(ctx, arn)
	if err != nil {
		return Execution{}, fmt.Errorf("engine: describe %s: %w", arn, err)
	}
	return x, nil
}

// History returns the whole history of an execution.
func (e *Engine) History(ctx context.Context, arn string) ([]Event, error) {
	var all []Event
	tok := ""
	for {
		page, next, err := e.store.GetHistory(ctx, arn, HistoryInput{MaxResults: 1000, NextToken: tok})
		if err != nil {
			return nil, fmt.Errorf("engine: history %s: %w", arn, err)
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		tok = next
	}
}

// Wait blocks until the execution is no longer RUNNING and returns it.
func (e *Engine) Wait(ctx context.Context, arn string) (Execution, error) {
	return e.wait(ctx, arn, false)
}

// waiter is a goroutine blocked in wait: finished closes ch when the
// execution ends, after counting the goroutine as work in progress
// again if counted.
type waiter struct {
	ch      chan struct{}
	counted bool
}

// wait is Wait. A counted caller is work in progress (e.inflight) when
// it calls and when it returns, but not while it blocks; the execution's
// end counts it again (finished) before the execution's own goroutine
// gives up its count, so the timer loop cannot find the engine idle
// between the two and jump a virtual clock past the caller's next state.
func (e *Engine) wait(ctx context.Context, arn string, counted bool) (Execution, error) {
	for {
		ch := make(chan struct{})
		e.mu.Lock()
		e.waiters[arn] = append(e.waiters[arn], waiter{ch: ch, counted: counted})
		e.mu.Unlock()
		x, err := e.store.GetExecution(ctx, arn)
		blocked := false
		if err == nil && x.Status == StatusRunning {
			if counted {
				e.idle()
			}
			select {
			case <-ch:
				continue // finished counted this goroutine again
			case <-ctx.Done():
				blocked, err = true, ctx.Err()
			}
		}
		// Whatever ends the call (the execution's end, ctx, an unknown
		// ARN), its channel does not outlive it.
		e.mu.Lock()
		dropped := e.dropWaiterLocked(arn, ch)
		e.mu.Unlock()
		if counted {
			switch {
			case blocked && dropped:
				e.working() // uncounted since it blocked
			case !blocked && !dropped:
				e.idle() // finished counted it once more
			}
		}
		if err != nil {
			return Execution{}, fmt.Errorf("engine: wait %s: %w", arn, err)
		}
		return x, nil
	}
}

// dropWaiterLocked removes ch from the waiters of arn and reports
// whether it was there still (finished took it and closed it otherwise).
// e.mu is held.
func (e *Engine) dropWaiterLocked(arn string, ch chan struct{}) bool {
	ws := e.waiters[arn]
	i := slices.IndexFunc(ws, func(w waiter) bool { return w.ch == ch })
	if i < 0 {
		return false
	}
	if ws = slices.Delete(ws, i, i+1); len(ws) == 0 {
		delete(e.waiters, arn)
	} else {
		e.waiters[arn] = ws
	}
	return true
}

// finished wakes the waiters of an execution that ended, and makes a
// heap entry it left (one of a wait it was stopped in) stale, so that it
// wakes no later execution of the same ARN.
func (e *Engine) finished(arn string) {
	e.mu.Lock()
	ws := e.waiters[arn]
	delete(e.waiters, arn)
	delete(e.queued, arn)
	delete(e.rebased, arn)
	e.resumedLocked(arn)
	e.mu.Unlock()
	for _, w := range ws {
		if w.counted {
			e.working()
		}
		close(w.ch)
	}
}
