package engine

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"runtime/debug"
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
	inflight  atomic.Int64
	vclock    *VirtualClock // the clock, if virtual: the timer loop jumps it
	resumeSem chan struct{} // bounds concurrent loads of due executions
	runSlots  chan struct{} // bounds running timer-woken executions (Options.MaxRunning)
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
// its history is not bounded. The API reads the type too
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
	return m, nil
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

// Recover re-arms every execution the store holds as RUNNING with a run
// state: waits and retry intervals continue at their wake-up time, tasks
// that were in flight are dispatched again, busy executions continue
// from their last checkpoint. With an EvalJournal, the executions that
// were in the middle of a JSONata evaluation at InterruptedEvalLimit
// consecutive abrupt ends of the process fail instead (failInterrupted).
// Wake-ups that fell due while the process was down end within
// OverdueWindow, in their order and spacing (see spreadOverdue). It
// returns how many executions it re-armed. Call it once at start-up,
// before starting new executions.
func (e *Engine) Recover(ctx context.Context) (int, error) {
	// Executions of machines being deleted fail at their next transition.
	deleting, err := e.recoverDeletions(ctx)
	if err != nil {
		return 0, fmt.Errorf("engine: recover: %w", err)
	}
	if err := e.failInterrupted(ctx); err != nil {
		return 0, fmt.Errorf("engine: recover: %w", err)
	}
	n := 0
	var batch []timerEntry
	err = e.store.ListPending(ctx, func(p Pending) error {
		batch = append(batch, timerEntry{at: wakeOf(p.WakeAt), arn: p.ExecutionArn, from: noWake})
		n++
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("engine: recover: %w", err)
	}
	spreadOverdue(batch, clockOf(e.clock.Now()), OverdueWindow, OverdueGap)
	e.mu.Lock()
	for _, t := range batch {
		if q, ok := e.queued[t.arn]; !ok || t.at < q {
			e.queued[t.arn] = t.at
			e.timers = append(e.timers, t)
		}
	}
	heap.Init(&e.timers)
	e.armed.Add(1)
	e.mu.Unlock()
	e.poke()
	// Finish the deletions whose last execution ended before the restart.
	for _, arn := range deleting {
		if err := e.finishDeletion(ctx, arn); err != nil {
			return n, fmt.Errorf("engine: recover: %w", err)
		}
	}
	return n, nil
}

// OverdueWindow is the longest span over which Recover spreads the
// wake-ups that fell due while the process was down.
//
// Ten seconds: a monitor counts its next wait from the end of its check,
// so waking every overdue execution at once would bunch the monitors for
// good, a fleet that was spread over its interval now checking in one
// burst each cycle. Keeping the overdue wake-ups' spacing keeps their
// phases exactly for intervals up to the window, the short ones where a
// burst costs most (4,000 monitors every second are near what one
// machine runs on time, docs/benchmarks-local.md), and still spreads
// longer ones over ten seconds rather than none. It delays no overdue
// wake-up by more than that.
const OverdueWindow = 10 * time.Second

// OverdueGap is the longest gap between two consecutive overdue wake-ups
// that spreadOverdue keeps: a longer one separates groups (a wake-up
// overdue long before the others, a fleet of another interval), and
// keeping it would push the later group late, or, once scaled into the
// window, squeeze it together.
const OverdueGap = time.Second

// spreadOverdue moves the wake-ups in ts that fell due before now (not
// the zero wake-ups of executions runnable at once) to now plus their
// distance from the earliest of them, in their order: each gap between
// two consecutive ones is kept up to gap, and the whole scaled down when
// it spans more than window, so that the last one ends at now+window.
// Their order and spacing are kept, as if the process had been down no
// longer than until the first; the others are left as they are.
func spreadOverdue(ts []timerEntry, now wakeTime, window, gap time.Duration) {
	zero := wakeOf(time.Time{})
	var due []int
	for i, t := range ts {
		if t.at != zero && t.at <= now {
			due = append(due, i)
		}
	}
	if len(due) == 0 {
		return
	}
	slices.SortStableFunc(due, func(a, b int) int { return cmp.Compare(ts[a].at, ts[b].at) })
	// delay[k] is the distance of the k-th overdue wake-up from the first,
	// each gap capped.
	delay := make([]wakeTime, len(due))
	maxGap := wakeTime(gap.Microseconds())
	for k := 1; k < len(due); k++ {
		delay[k] = delay[k-1] + min(ts[due[k]].at-ts[due[k-1]].at, maxGap)
	}
	scale := 1.0
	if span, w := float64(delay[len(due)-1]), float64(window.Microseconds()); span > w {
		scale = w / span
	}
	for k, i := range due {
		ts[i].at = now + wakeTime(float64(delay[k])*scale)
	}
}

// schedule arms the timer of an execution. An execution armed already
// keeps the earlier of its two times: a wake-up early is harmless (the
// resume finds the wait not over and arms it again), a late one is not.
func (e *Engine) schedule(arn string, at time.Time) {
	e.scheduleRelative(arn, at, time.Time{})
}

// scheduleRelative is schedule for a wake-up that is a duration from the
// clock's reading from (a Wait of Seconds, a retry interval), rather than
// a wall-clock time. Should the clock go back past from (a step of the
// wall clock, as NTP makes on a machine whose clock ran ahead), the timer
// loop re-bases the wake-up on the clock as it reads then: the wait
// lasts its whole duration again from there, instead of the duration
// plus the size of the step.
func (e *Engine) scheduleRelative(arn string, at, from time.Time) {
	e.arm(arn, at, from, false)
}

// arm is scheduleRelative for a wake-up that, if rebased, stands for
// one the timer loop brought forward (rebaseLocked): its resume does not
// wait for the stored wake-up time either.
func (e *Engine) arm(arn string, at, from time.Time, rebased bool) {
	w, f := wakeOf(at), noWake
	if !from.IsZero() {
		f = clockOf(from)
	}
	e.mu.Lock()
	if q, ok := e.queued[arn]; !ok || w < q {
		e.queued[arn] = w
		delete(e.rebased, arn)
		heap.Push(&e.timers, timerEntry{at: w, arn: arn, from: f})
		e.armed.Add(1)
	}
	if rebased { // the timer armed is at or before at
		e.rebased[arn] = true
	}
	e.mu.Unlock()
	e.poke()
}

// rebaseLocked brings forward the timers armed relative to a clock
// reading later than now (scheduleRelative): the clock went back since.
// e.mu is held.
func (e *Engine) rebaseLocked(now time.Time) {
	moved := false
	n := clockOf(now)
	for i := range e.timers {
		t := &e.timers[i]
		if t.from == noWake || t.from <= n {
			continue
		}
		if q, ok := e.queued[t.arn]; !ok || q != t.at {
			continue // stale
		}
		at := n + (t.at - t.from)
		if at >= t.at {
			continue
		}
		t.at, t.from = at, n
		e.queued[t.arn] = at
		e.rebased[t.arn] = true
		moved = true
	}
	if moved {
		heap.Init(&e.timers)
	}
}

// idle ends a unit of work in progress (e.inflight); the timer loop
// looks again when none is left.
func (e *Engine) idle() {
	if e.inflight.Add(-1) == 0 {
		e.poke()
	}
}

// working starts a unit of work in progress again (e.inflight). The
// count is back at zero if the run the goroutine belongs to ended
// meanwhile (a task abandoned at a time limit): the timer loop looks
// again then.
func (e *Engine) working() {
	if e.inflight.Add(1) == 0 {
		e.poke()
	}
}

func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// timerEntry is all the memory a waiting execution uses in the engine,
// with its twin in Engine.queued.
type timerEntry struct {
	at  wakeTime
	arn string
	// from is the clock's reading that at is relative to, noWake for a
	// wall-clock time (scheduleRelative).
	from wakeTime
}

// wakeTime is a time in Unix microseconds. A waiting execution holds two
// or three of them, so they take 8 bytes each rather than a time.Time's
// 24: about 45 bytes less per waiting monitor (docs/benchmarks-local.md).
// Microseconds reach far beyond any wake-up (nanoseconds would stop at
// 2262, short of a retry interval's saturated Duration).
type wakeTime int64

// noWake is a timerEntry's from when its wake-up is a wall-clock time.
const noWake wakeTime = math.MinInt64

// wakeOf converts a wake-up time, rounded up to the microsecond: a timer
// falls due when the clock, rounded down (clockOf), has reached it, so
// never before its time.
func wakeOf(t time.Time) wakeTime {
	w := wakeTime(t.UnixMicro())
	if t.Nanosecond()%1000 != 0 {
		w++
	}
	return w
}

// clockOf converts a clock reading, rounded down to the microsecond.
func clockOf(t time.Time) wakeTime { return wakeTime(t.UnixMicro()) }

// time converts a wakeTime back.
func (w wakeTime) time() time.Time { return time.UnixMicro(int64(w)) }

// timerHeap orders timer entries by wake-up time (container/heap).
type timerHeap []timerEntry

// Len, Less, Swap, Push and Pop implement heap.Interface.

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// wallClockRecheck bounds how long a sleep lasts before the clock is
// read again. Wake-up times are wall-clock times, but a Go timer counts
// the monotonic clock, which stands still while the machine is suspended
// (a laptop's lid closed) and ignores steps of the wall clock: without
// the bound, a monitor waiting an hour would wake an hour plus the time
// the laptop slept. Reading the clock once a second costs nothing.
const wallClockRecheck = time.Second

// timerLoop is the engine's single timer: it resumes executions whose
// wake-up time has come. With a virtual clock it jumps the clock whenever
// no work is in progress (e.inflight), to the earliest of the next timer
// and the wake-up times of the goroutines sleeping on the clock (see
// VirtualClock.jump).
func (e *Engine) timerLoop() {
	defer close(e.loopDone)
	virtual := e.vclock != nil
	var tm *time.Timer
	var last time.Time // the clock's last reading
	for {
		e.mu.Lock()
		now := e.clock.Now().Round(0) // compare wall-clock times (wallClockRecheck)
		if now.Before(last) {
			e.rebaseLocked(now) // the clock went back
		}
		last = now
		n := clockOf(now)
		var due []timerEntry
		for len(e.timers) > 0 {
			t := e.timers[0]
			if q, ok := e.queued[t.arn]; !ok || q != t.at {
				heap.Pop(&e.timers) // stale
				continue
			}
			if t.at > n {
				break
			}
			heap.Pop(&e.timers)
			delete(e.queued, t.arn)
			due = append(due, t)
		}
		var next time.Time
		if len(e.timers) > 0 {
			next = e.timers[0].at.time()
		}
		armed := e.armed.Load()
		e.mu.Unlock()
		for i, t := range due {
			e.dueBacklog.Store(int64(len(due) - i))
			release, ok := e.runSlot()
			if !ok {
				return // closed; the store keeps the rest for Recover
			}
			select {
			case <-e.draining:
				release()
				return // the store keeps the timers for Recover
			default:
			}
			if !virtual { // a virtual clock's jumps are no lateness
				e.late.observe(t.at.time(), e.clock.Now())
			}
			arn := t.arn
			if e.waking != nil {
				e.waking()
			}
			e.inflight.Add(1)
			e.resumeSem <- struct{}{}
			e.runs.Go(func() {
				defer func() {
					<-e.resumeSem
					e.idle()
				}()
				e.resumeFromStore(arn, release)
			})
		}
		if len(due) > 0 {
			e.dueBacklog.Store(0)
			continue
		}
		if virtual && e.jumping != nil {
			e.jumping()
		}
		// A timer armed since next was read (by work that has gone idle
		// since) makes jump look again rather than move past it.
		if virtual && e.inflight.Load() == 0 && e.vclock.jump(next, func() bool { return e.armed.Load() != armed }) {
			continue
		}
		var timerC <-chan time.Time
		if !next.IsZero() && !virtual {
			d := min(next.Sub(now), wallClockRecheck)
			if tm == nil {
				tm = time.NewTimer(d)
			} else {
				tm.Reset(d)
			}
			timerC = tm.C
		}
		select {
		case <-e.ctx.Done():
			return
		case <-e.draining:
			return
		case <-e.wake:
		case <-timerC:
		}
		if tm != nil && !tm.Stop() {
			select {
			case <-tm.C:
			default:
			}
		}
	}
}

// runSlotHold is the longest a timer-woken execution counts against
// Options.MaxRunning.
const runSlotHold = time.Second

// runSlot waits for one of the MaxRunning slots of timer-woken
// executions; false once the engine is closed. The slot is freed by
// release or after runSlotHold, whichever comes first.
func (e *Engine) runSlot() (release func(), ok bool) {
	select {
	case e.runSlots <- struct{}{}:
	case <-e.ctx.Done():
		return nil, false
	}
	var once sync.Once
	free := func() { once.Do(func() { <-e.runSlots }) }
	t := time.AfterFunc(runSlotHold, free)
	return func() {
		t.Stop()
		free()
	}, true
}

// resumeFromStore continues a due execution from its resident run state
// (see keepResident) or else from the one in the store. It calls done
// when the execution's goroutine returns, or at once when it starts
// none.
func (e *Engine) resumeFromStore(arn string, done func()) {
	stops := e.stops.Load()
	spawned := false
	defer func() {
		if !spawned {
			done()
		}
	}()
	e.mu.Lock()
	_, busy := e.live[arn]
	// A timer brought forward after the clock went back is due now,
	// whatever the stored wake-up time says.
	rebased := e.rebased[arn]
	delete(e.rebased, arn)
	var r *resident
	if busy {
		// The execution suspended and its timer fell due before its
		// goroutine returned: resume it once that goroutine is done, or
		// the wake-up would be lost; a rebased one stays rebased.
		e.rerun[arn] = e.rerun[arn] || rebased
	} else if r = e.resident[arn]; r != nil {
		if wakeAt := r.wakeAt; wakeAt.After(e.clock.Now()) && !rebased {
			// Woken early: the entry stays for the wake-up on time.
			e.mu.Unlock()
			e.schedule(arn, wakeAt)
			return
		}
		e.unresidentLocked(arn)
	}
	e.mu.Unlock()
	if busy {
		return
	}
	if r != nil {
		snap := r.snap
		if snap == nil {
			var err error
			if snap, err = decodeSnapshot(r.run); err != nil {
				e.resumeBroken(arn, err)
				return
			}
		}
		e.residentHits.Add(1)
		x := e.newExecution(r.rec, r.sm, r.m, r.input)
		x.lastID = snap.LastID
		spawned = true
		e.spawn(x, snap, stops, done)
		return
	}
	ctx := e.ctx
	raw, wakeAt, err := e.store.GetRunState(ctx, arn)
	if err != nil {
		// A stale timer entry of an execution that ended, or that was
		// deleted with its state machine since.
		if !errors.Is(err, ErrExecutionNotRunning) && !errors.Is(err, ErrExecutionDoesNotExist) {
			e.resumeFailed(arn, err)
		} else {
			e.mu.Lock()
			e.resumedLocked(arn)
			e.mu.Unlock()
		}
		return
	}
	if wakeAt.After(e.clock.Now()) && !rebased {
		// Woken early (a stale timer entry): a wait never ends before its time.
		e.schedule(arn, wakeAt)
		return
	}
	snap, err := decodeSnapshot(raw)
	if err != nil {
		e.resumeBroken(arn, err)
		return
	}
	rec, err := e.store.GetExecution(ctx, arn)
	if err != nil {
		e.resumeFailed(arn, err)
		return
	}
	var sm StateMachine
	var m *asl.Machine
	if c, ok := e.machines.Load(machineKey(rec.StateMachineArn, rec.Revision)); ok {
		sm, m = c.(*machineEntry).sm, c.(*machineEntry).m
	} else {
		// Read-held while the revision is read and its parse cached: a
		// deletion of the machine (finishDeletion forgets its parses)
		// comes before the read or after the parse is cached, never in
		// between, where a machine created again under the same name
		// would find the deleted one's parse under its revision.
		e.delMu.RLock()
		sm, err = e.executionMachine(ctx, rec)
		if err == nil {
			m, err = e.machine(sm)
		}
		e.delMu.RUnlock()
		if err != nil {
			// A read the store failed, or a definition this version
			// does not take (one that validates differently): the
			// execution stays RUNNING, its resume is tried again (for
			// a store that answers, a version that takes it), and
			// StoreHealth shows it.
			e.resumeFailed(arn, err)
			return
		}
	}
	x := e.newExecution(rec, sm, m, nil) // the input is parsed if $$ needs it
	x.lastID = snap.LastID
	spawned = true
	e.spawn(x, snap, stops, done)
}

// executionMachine returns the state machine revision an execution runs:
// the one it started on, even if the machine has been updated since. An
// execution whose revision the store does not know (a record from before
// the store kept revisions) runs the current one.
func (e *Engine) executionMachine(ctx context.Context, rec Execution) (StateMachine, error) {
	if rec.Revision > 0 {
		sm, err := e.store.GetStateMachineRevision(ctx, rec.StateMachineArn, rec.Revision)
		if !errors.Is(err, ErrStateMachineDoesNotExist) {
			return sm, err
		}
	}
	return e.store.GetStateMachine(ctx, rec.StateMachineArn)
}

// StateMachineForExecution returns the state machine revision an
// execution runs (DescribeStateMachineForExecution).
func (e *Engine) StateMachineForExecution(ctx context.Context, executionArn string) (StateMachine, error) {
	rec, err := e.store.GetExecution(ctx, executionArn)
	if err != nil {
		return StateMachine{}, fmt.Errorf("engine: describe state machine for execution: %w", err)
	}
	sm, err := e.executionMachine(ctx, rec)
	if err != nil {
		return StateMachine{}, fmt.Errorf("engine: describe state machine for execution %s: %w", executionArn, err)
	}
	return sm, nil
}

// resumeFailed handles a store read of resumeFromStore or spawn that
// failed. Once the engine's context is done (Close, as when the process
// shuts down), that is how a resume in flight ends, not a failure: the
// execution stays RUNNING in the store for Recover, and it is logged at
// Debug. The engine's context decides rather than the error, which a
// store need not wrap as context.Canceled (an interrupted SQLite query is
// not). Otherwise the store failed for its own reasons (a locked
// database, an I/O error): the execution's timer is armed again, waiting
// twice as long each time up to commitRetryMax, as storeCommit does, and
// StoreHealth counts it until a resume gets through. Nothing else would
// ever wake it. The execution's state machine definition that does not
// parse is handled alike: the version of stepmon that wrote it may run
// again (a downgrade), and the execution should then go on.
func (e *Engine) resumeFailed(arn string, err error) {
	if e.ctx.Err() != nil {
		e.log.Debug("engine: resume", "execution", arn, "err", err)
		return
	}
	e.mu.Lock()
	d, again := e.resumeRetry[arn]
	if again {
		d = min(2*d, commitRetryMax)
	} else {
		d = commitRetryFirst
	}
	e.resumeRetry[arn] = d
	waiting := len(e.resumeRetry)
	e.mu.Unlock()
	e.lastResumeErr.Store(err.Error())
	e.logResumeFailure(arn, waiting, err)
	e.schedule(arn, e.clock.Now().Add(d))
}

// resumedLocked forgets the failed resumes of an execution that resumed,
// ended or no longer exists. e.mu is held.
func (e *Engine) resumedLocked(arn string) {
	if _, ok := e.resumeRetry[arn]; !ok {
		return
	}
	delete(e.resumeRetry, arn)
	if len(e.resumeRetry) == 0 {
		e.log.Info("engine: the store serves resumes again")
	}
}

// logResumeFailure logs a failed resume, with the number of resumes
// waiting, unless another was logged less than commitFailLogGap ago:
// when the store fails, every execution that falls due meets it.
func (e *Engine) logResumeFailure(arn string, waiting int, err error) {
	now := time.Now().UnixNano()
	last := e.resumeFailLogged.Load()
	if now-last < int64(commitFailLogGap) || !e.resumeFailLogged.CompareAndSwap(last, now) {
		return
	}
	e.log.Error("engine: resume", "execution", arn, "retrying", true,
		"resumesWaiting", waiting, "retryingUpTo", commitRetryMax, "err", err)
}

// resumeBroken fails an execution whose stored run state cannot be
// decoded: no later attempt reads it better, and an execution left
// RUNNING without a timer would hang unseen. It fails with
// States.Runtime, as from outside (StopExecution).
func (e *Engine) resumeBroken(arn string, err error) {
	e.log.Error("engine: resume: the execution cannot be resumed; it fails", "execution", arn, "err", err)
	e.failBroken(arn, "The execution's state cannot be read: "+err.Error())
}

// executionPanicked fails an execution whose run panicked, r being what
// it panicked with (a defect of the engine, or of a handler's caller):
// the process goes on serving the others, where ending it would resume
// the execution, and panic again, at every start. The panic is logged
// with its stack.
func (e *Engine) executionPanicked(arn string, r any) {
	e.log.Error("engine: the execution's run panicked; it fails", "execution", arn, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	e.failBroken(arn, fmt.Sprintf("The engine failed while running the execution: %v", r))
}

// failBroken ends the RUNNING execution arn as FAILED with States.Runtime
// and cause, from outside its run (as StopExecution does).
func (e *Engine) failBroken(arn, cause string) {
	rec, ferr := e.endExecution(e.ctx, arn, StatusFailed, "ExecutionFailed", asl.ErrRuntime, cause)
	switch {
	case ferr == nil:
		e.executionEnded(rec.StateMachineArn)
	case errors.Is(ferr, ErrExecutionNotRunning) || errors.Is(ferr, ErrExecutionDoesNotExist):
		e.mu.Lock()
		e.resumedLocked(arn)
		e.mu.Unlock()
	default:
		e.resumeFailed(arn, ferr)
	}
}

// failLevel is the level of a failed store access of the engine's own:
// Error, or Debug once the engine is closing (see resumeFailed).
func (e *Engine) failLevel() slog.Level {
	if e.ctx.Err() != nil {
		return slog.LevelDebug
	}
	return slog.LevelError
}
