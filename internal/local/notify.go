package local

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
)

// notifyingStore is the engine's store with a hook on commits that end an
// execution: the local stand-in for the EventBridge rule on "Step
// Functions Execution Status Change".
type notifyingStore struct {
	engine.Store
	notify func(ctx context.Context, arn string, u engine.ExecutionUpdate)
}

// CopiesTransitions implements engine.TransitionCopier for the wrapped
// store: the notifications read only t.Update.
func (s *notifyingStore) CopiesTransitions() bool {
	c, ok := s.Store.(engine.TransitionCopier)
	return ok && c.CopiesTransitions()
}

// Commit implements engine.Store.
func (s *notifyingStore) Commit(ctx context.Context, t engine.Transition) error {
	if err := s.Store.Commit(ctx, t); err != nil {
		return err
	}
	if t.Update != nil && t.Update.Status != engine.StatusRunning {
		s.notify(ctx, t.ExecutionArn, *t.Update)
	}
	return nil
}

// notified lists the statuses the status function acts on (it ignores the
// others): the rule on AWS matches the same ones.
var notified = map[engine.ExecutionStatus]bool{
	engine.StatusFailed:   true,
	engine.StatusTimedOut: true,
	engine.StatusAborted:  true,
}

// notifier delivers execution status changes to the status function, in
// the background, retrying failed deliveries like EventBridge does.
type notifier struct {
	invoke          invokeFunc
	function        string
	store           engine.Store
	stateMachineArn string
	log             *slog.Logger

	// The notices waiting for a worker, in order, and their ARNs: an
	// execution's end waits at most once, however often it is reported,
	// and a burst of ends (CompleteDeletion failing every waiting
	// monitor) costs a slice entry each, not a goroutine. The ends that
	// the start-up sweep found wait apart (swept), at most sweptMax of
	// them, behind the ends reported live (ready) and the due retries:
	// the sweep can find every ended execution the retention period
	// keeps, and an end reported now must not wait for all of them.
	mu     sync.Mutex
	ready  []notice
	swept  []notice
	queued map[string]queue // the ARNs in ready, swept and retrying
	wake   chan struct{}    // a notice is ready (capacity 1)
	room   chan struct{}    // swept has room again (capacity 1)
	// The notices whose delivery failed, by ARN, each with the time of
	// its next attempt, and the last failure.
	retrying map[string]retry
	lastErr  string
	// loudInFlight counts the notices being delivered that had failed
	// retryLoudAfter times or more: /healthz counts them as undelivered
	// until they go through.
	loudInFlight int
	// inFlight counts the notices being delivered; sweepDone is set once
	// the start-up sweep has queued every end it looks for. Both tell
	// whether every end reported so far is delivered (idle).
	inFlight  int
	sweepDone bool
	// flying holds the stop dates of the notices being delivered, by
	// attempt (notice.flight, numbered by flights); sweepFrom is the
	// delivery mark the start-up sweep starts from (zero for none).
	flying    map[uint64]time.Time
	flights   uint64
	sweepFrom time.Time
	markPath  string // the delivery mark's file (see mark); "" for none
	// commitsWaiting counts the engine's commits that the store failed
	// and that wait to be tried again (engine.StoreHealth); nil for none.
	// An end among them is reported only once its commit goes through,
	// however long after its stop date (see mark).
	commitsWaiting func() int

	wg   sync.WaitGroup
	quit chan struct{}
	once sync.Once
	// ctx is the sweep's and the deliveries', cancelled by stop.
	ctx    context.Context
	cancel context.CancelFunc
}

func newNotifier(funcs interface {
	Invoke(context.Context, string, []byte) ([]byte, error)
}, function string, log *slog.Logger) *notifier {
	ctx, cancel := context.WithCancel(context.Background())
	return &notifier{invoke: funcs.Invoke, function: function, log: log, ctx: ctx, cancel: cancel,
		queued: map[string]queue{}, wake: make(chan struct{}, 1), room: make(chan struct{}, 1), retrying: map[string]retry{}, quit: make(chan struct{}),
		flying: map[uint64]time.Time{}}
}

// notice is a queued status change: the execution's ARN and, when it was
// read as the execution ended, its record, for an execution deleted
// since with its state machine (DeleteStateMachine).
type notice struct {
	arn string
	rec *engine.Execution
	// stop is the execution's stop date (zero when unknown), which holds
	// back the retention sweep while the end is undelivered
	// (deliveredBefore); flight numbers an attempt in flying.
	stop   time.Time
	flight uint64

	tries int           // failed deliveries so far
	delay time.Duration // before the next attempt, after a failure
}

// queue says where a queued notice waits.
type queue uint8

const (
	inReady queue = iota + 1
	inSwept
	inRetrying
)

// sweptMax is how many of the ends the start-up sweep found wait in
// memory at most; the sweep waits for room beyond that.
const sweptMax = 4096

// retry is a notice waiting for its next attempt.
type retry struct {
	nt notice
	at time.Time
}

// A failed delivery is tried again after retryFirstDelay, then twice as
// long each time up to retryMaxDelay, until it goes through or the
// notifier stops (EventBridge retries for 24 hours): a status store
// outage longer than a few seconds (a full disk) must not leave a
// monitor's record Running until the next start. The notices waiting for
// a retry leave the workers free for the others. After retryLoudAfter
// failures the notice is logged as an error and /healthz counts it.
const (
	retryFirstDelay = 200 * time.Millisecond
	retryMaxDelay   = 30 * time.Second
	retryLoudAfter  = 6
)

// deliverTimeout bounds one delivery attempt: the read of the execution
// and the status function's invocation. A stop cancels it sooner.
const deliverTimeout = 2 * time.Minute

// executionEnded queues the notification of an execution's end. ctx is
// the commit's: it bounds the read of the execution.
func (n *notifier) executionEnded(ctx context.Context, arn string, u engine.ExecutionUpdate) {
	if !notified[u.Status] || !n.ours(arn) {
		return
	}
	// The record as it ended (a failure, rare): the execution is gone
	// when the deletion of its state machine made it fail.
	nt := notice{arn: arn, stop: u.StopDate}
	if x, err := n.store.GetExecution(ctx, arn); err == nil {
		nt.rec = &x
	}
	n.push(nt)
}

// push queues nt for the workers, ahead of the ends the sweep found,
// unless its execution's end is queued already. An end the sweep queued
// moves ahead (its entry in swept is skipped). It never blocks.
func (n *notifier) push(nt notice) {
	n.mu.Lock()
	if q, ok := n.queued[nt.arn]; ok && q != inSwept {
		n.mu.Unlock()
		return
	}
	n.queued[nt.arn] = inReady
	n.ready = append(n.ready, nt)
	n.mu.Unlock()
	n.signal()
}

// pushSwept queues the end of an execution the sweep found, behind the
// others, unless it is queued already. It waits while sweptMax ends of
// the sweep wait already; false if ctx ended first.
func (n *notifier) pushSwept(ctx context.Context, nt notice) bool {
	for {
		n.mu.Lock()
		if _, ok := n.queued[nt.arn]; ok {
			n.mu.Unlock()
			return true
		}
		if len(n.swept) < sweptMax {
			n.queued[nt.arn] = inSwept
			n.swept = append(n.swept, nt)
			n.mu.Unlock()
			n.signal()
			return true
		}
		n.mu.Unlock()
		select {
		case <-n.room:
		case <-ctx.Done():
			return false
		}
	}
}

// signal wakes a waiting worker, if one waits.
func (n *notifier) signal() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// pop takes the first notice reported live, if any, else the retry due
// first if it is due at now, else the first end the sweep found. When it
// has none to give it returns the time the next retry falls due (zero if
// none waits).
func (n *notifier) pop(now time.Time) (_ notice, ok bool, next time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	nt, ok, next := n.take(now)
	if ok {
		n.inFlight++
		n.flights++
		nt.flight = n.flights
		n.flying[nt.flight] = nt.stop
	}
	return nt, ok, next
}

// take is pop's choice of the next notice, which it removes from its
// queue; n.mu is held.
func (n *notifier) take(now time.Time) (_ notice, ok bool, next time.Time) {
	if len(n.ready) > 0 {
		nt := n.ready[0]
		n.ready = shift(n.ready)
		n.signalIfQueued()
		delete(n.queued, nt.arn)
		return nt, true, time.Time{}
	}
	var first retry
	for _, r := range n.retrying {
		if first.nt.arn == "" || r.at.Before(first.at) {
			first = r
		}
	}
	if first.nt.arn != "" && !first.at.After(now) {
		delete(n.retrying, first.nt.arn)
		delete(n.queued, first.nt.arn)
		if first.nt.tries >= retryLoudAfter {
			n.loudInFlight++
		}
		n.signalIfQueued()
		return first.nt, true, time.Time{}
	}
	for len(n.swept) > 0 {
		nt := n.swept[0]
		n.swept = shift(n.swept)
		select {
		case n.room <- struct{}{}:
		default:
		}
		if n.queued[nt.arn] != inSwept {
			continue // reported live since, and queued in ready
		}
		n.signalIfQueued()
		delete(n.queued, nt.arn)
		return nt, true, time.Time{}
	}
	return notice{}, false, first.at
}

// signalIfQueued lets the other worker take the next notice, if one is
// queued; n.mu is held.
func (n *notifier) signalIfQueued() {
	if len(n.ready) > 0 || len(n.swept) > 0 {
		n.signal()
	}
}

// shift removes the first notice of q.
func shift(q []notice) []notice {
	q[0] = notice{}
	if len(q) == 1 {
		return nil // let a burst's backing array go
	}
	return q[1:]
}

// delivered ends the attempt of nt, a notice that had failed tries times
// before it and now went through.
func (n *notifier) delivered(tries int, nt notice) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.inFlight--
	delete(n.flying, nt.flight)
	if tries >= retryLoudAfter {
		n.loudInFlight--
	}
}

// later ends the failed attempt of nt, which had failed tries times
// before it, and queues nt again for an attempt after its delay, unless
// its execution's end is queued already (from the sweep).
func (n *notifier) later(tries int, nt notice, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.inFlight--
	delete(n.flying, nt.flight)
	if tries >= retryLoudAfter {
		n.loudInFlight--
	}
	n.lastErr = err.Error()
	if _, ok := n.queued[nt.arn]; ok {
		return
	}
	n.queued[nt.arn] = inRetrying
	n.retrying[nt.arn] = retry{nt: nt, at: time.Now().Add(nt.delay)}
}

// undelivered returns how many notices failed retryLoudAfter times or
// more and wait for a retry or are being retried, and the last delivery
// error.
func (n *notifier) undelivered() (int, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.loudInFlight
	for _, r := range n.retrying {
		if r.nt.tries >= retryLoudAfter {
			c++
		}
	}
	if c == 0 {
		return 0, ""
	}
	return c, n.lastErr
}

// deliveredBefore returns a time before which every execution of the
// monitor state machine that ended had its end delivered, as far as the
// notifier can tell, and false when there is no such bound (every end
// reported so far is delivered): the retention sweep deletes none of the
// executions that ended at or after it. An end whose execution is gone
// counts as delivered (deliverOnce), so an end the sweep deleted before
// its delivery went through left its monitor Running for good. Until the
// start-up sweep has queued the ends it looks for, the bound is the
// delivery mark it starts from (the zero time when there is none: then
// nothing may go); after it, the earliest stop date of the ends queued,
// waiting for a retry or being delivered (the zero time when one of
// them has none).
func (n *notifier) deliveredBefore() (time.Time, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.sweepDone {
		return n.sweepFrom, true
	}
	var first time.Time
	bounded := false
	earliest := func(t time.Time) {
		if !bounded || t.Before(first) {
			first, bounded = t, true
		}
	}
	for _, q := range [][]notice{n.ready, n.swept} {
		for _, nt := range q {
			earliest(nt.stop)
		}
	}
	for _, r := range n.retrying {
		earliest(r.nt.stop)
	}
	for _, stop := range n.flying {
		earliest(stop)
	}
	return first, bounded
}

// settle waits until no end reported live waits or is being delivered,
// or ctx is done: at a shutdown, after the engine's Close (no end comes
// after it), so that the ends of its last moments are delivered and the
// delivery mark written, as they were while the Lambda handlers' close
// waited before the notifier stopped. Ends waiting for a retry after a
// failure, and those the start-up sweep found, are left to the next start.
func (n *notifier) settle(ctx context.Context) {
	for {
		n.mu.Lock()
		busy := len(n.ready) > 0 || n.inFlight > 0
		n.mu.Unlock()
		if !busy {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(settlePoll):
		}
	}
}

// settlePoll is how often settle looks whether the deliveries are done.
const settlePoll = 5 * time.Millisecond

// ours reports whether arn is an execution of the monitor state machine.
func (n *notifier) ours(arn string) bool {
	// arn:aws:states:REGION:ACCOUNT:execution:NAME:EXEC
	sm := strings.Replace(n.stateMachineArn, ":stateMachine:", ":execution:", 1) + ":"
	return n.stateMachineArn == "" || strings.HasPrefix(arn, sm)
}

// start starts the workers that deliver the notices, the sweep that
// queues the ends a crash or a shutdown left undelivered, and the
// delivery mark's writer.
func (n *notifier) start() {
	mark := n.readMark()
	n.mu.Lock()
	n.sweepFrom = mark
	n.mu.Unlock()
	for range 2 {
		n.wg.Add(1)
		go n.run()
	}
	n.wg.Go(func() { n.sweep(n.ctx) })
	if n.markPath != "" {
		n.wg.Go(n.markEvery)
	}
}

// stop ends the workers, the sweep and the mark's writer and waits for
// them, before the stores they read close. When every end was delivered,
// it writes the delivery mark: after a graceful stop the next start's
// sweep looks only at the ends of the last markMargin.
func (n *notifier) stop() {
	n.once.Do(func() {
		close(n.quit)
		n.cancel()
	})
	n.wg.Wait()
	n.mark(time.Now())
}

func (n *notifier) run() {
	defer n.wg.Done()
	for {
		select {
		case <-n.quit:
			return
		default:
		}
		nt, ok, next := n.pop(time.Now())
		if ok {
			n.deliver(nt)
			continue
		}
		var due <-chan time.Time
		var t *time.Timer
		if !next.IsZero() {
			t = time.NewTimer(time.Until(next))
			due = t.C
		}
		select {
		case <-n.quit:
		case <-n.wake:
		case <-due:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// deliver sends one status change event; a failed delivery is queued
// again for a retry after a delay (see retryFirstDelay).
func (n *notifier) deliver(nt notice) {
	ctx, cancel := context.WithTimeout(n.ctx, deliverTimeout)
	err := n.deliverOnce(ctx, nt)
	cancel()
	tries := nt.tries
	if err == nil {
		n.delivered(tries, nt)
		if tries >= retryLoudAfter {
			n.log.Info("execution status change delivered", "executionArn", nt.arn, "attempts", tries+1)
		}
		return
	}
	nt.tries++
	nt.delay = min(max(2*nt.delay, retryFirstDelay), retryMaxDelay)
	if nt.tries == retryLoudAfter {
		n.log.Error("execution status change not delivered: retrying until it is", "executionArn", nt.arn,
			"attempts", nt.tries, "retryEvery", retryMaxDelay, "err", err)
	}
	n.later(tries, nt, err)
}

func (n *notifier) deliverOnce(ctx context.Context, nt notice) error {
	x, err := n.store.GetExecution(ctx, nt.arn)
	switch {
	case errors.Is(err, engine.ErrExecutionDoesNotExist) && nt.rec != nil:
		x = *nt.rec // deleted with its state machine
	case errors.Is(err, engine.ErrExecutionDoesNotExist):
		return nil
	case err != nil:
		return err
	}
	if !notified[x.Status] {
		return nil
	}
	detail := apigw.ExecutionStatusChange{
		ExecutionArn:    x.Arn,
		StateMachineArn: x.StateMachineArn,
		Name:            x.Name,
		Status:          string(x.Status),
		StartDate:       x.StartDate.UnixMilli(),
		StopDate:        x.StopDate.UnixMilli(),
		Input:           x.Input,
		Error:           x.Error,
		Cause:           x.Cause,
	}
	ev := events.EventBridgeEvent{
		Version:    "0",
		ID:         asl.NewUUID(),
		DetailType: apigw.StatusChangeDetailType,
		Source:     apigw.StatusChangeSource,
		AccountID:  localAccount,
		Time:       x.StopDate.UTC(),
		Region:     localRegion,
		Resources:  []string{x.Arn},
		Detail:     marshal(detail),
	}
	_, err = n.invoke(ctx, n.function, marshal(ev))
	return err
}

// sweep delivers the status changes of the executions that ended FAILED,
// TIMED_OUT or ABORTED, for those whose notification a crash or a stop
// interrupted (the status function ignores ends already recorded): those
// that ended at or after the delivery mark (see mark), or all of them
// when there is none.
func (n *notifier) sweep(ctx context.Context) {
	n.mu.Lock()
	since := n.sweepFrom
	n.mu.Unlock()
	skipped, complete := 0, true
	defer func() {
		if skipped > 0 {
			n.log.Debug("status change sweep: ends delivered before the mark skipped", "skipped", skipped, "mark", since)
		}
	}()
	for status := range notified {
		tok := ""
		for {
			page, next, err := n.store.ListExecutions(ctx, engine.ListExecutionsInput{
				StateMachineArn: n.stateMachineArn, Status: status, MaxResults: 1000, NextToken: tok})
			if ctx.Err() != nil {
				return // stopped
			}
			if err != nil {
				n.log.Warn("status change sweep", "status", status, "err", err)
				complete = false // no delivery mark until the next start's sweep
				break
			}
			for _, x := range page {
				if !x.StopDate.IsZero() && x.StopDate.Before(since) {
					skipped++
					continue
				}
				if !n.pushSwept(ctx, notice{arn: x.Arn, stop: x.StopDate}) {
					return // stopped
				}
			}
			select {
			case <-n.quit:
				return
			default:
			}
			if next == "" {
				break
			}
			tok = next
		}
	}
	if complete {
		n.mu.Lock()
		n.sweepDone = true
		n.mu.Unlock()
	}
}

// The delivery mark is a time T in a file of the data directory
// (DeliveryMarkFile): every execution that ended before T had its end
// delivered, so the start-up sweep skips those (after a graceful stop
// or a crash, an ever longer list of terminated monitors that
// --retention keeps would otherwise be delivered again at every start).
// The notifier writes it, every markInterval and when it stops, only
// while it is idle: the start-up sweep done, no notice queued, being
// delivered or waiting for a retry. An end is committed, then reported
// (executionEnded); T is markMargin before the instant the notifier was
// found idle, so an end committed but not yet reported then, whose stop
// date comes before its commit, is after T. A commit the store fails is
// retried for as long as the store fails it (a full disk, a locked
// database), longer than markMargin after the end's stop date: while one
// waits, the notifier is not idle (an end is reported inside the commit
// that goes through, before the commit stops counting as waiting). A mark
// lost or never written only makes the sweep look at more ends.
const (
	markInterval = time.Minute
	markMargin   = 5 * time.Minute
)

// DeliveryMarkFile is the name of the notifier's delivery mark under
// Config.DataDir.
const DeliveryMarkFile = "status-changes-delivered"

// idle reports whether every end reported so far is delivered and no
// commit that may hold one waits for the store.
func (n *notifier) idle() bool {
	if n.commitsWaiting != nil && n.commitsWaiting() > 0 {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sweepDone && len(n.ready) == 0 && len(n.swept) == 0 && len(n.retrying) == 0 && n.inFlight == 0
}

// markEvery writes the delivery mark every markInterval until stop.
func (n *notifier) markEvery() {
	t := time.NewTicker(markInterval)
	defer t.Stop()
	for {
		select {
		case <-n.quit:
			return
		case now := <-t.C:
			n.mark(now)
		}
	}
}

// mark writes the delivery mark markMargin before now, if the notifier is
// idle now. The file is replaced whole (a temporary file renamed over
// it); a failure is logged and costs only a longer sweep at the next
// start.
func (n *notifier) mark(now time.Time) {
	if n.markPath == "" || !n.idle() {
		return
	}
	at := now.Add(-markMargin).UTC().Format(time.RFC3339Nano)
	tmp := n.markPath + ".tmp"
	err := os.WriteFile(tmp, []byte(at+"\n"), 0o600)
	if err == nil {
		err = os.Rename(tmp, n.markPath)
	}
	if err != nil {
		n.log.Warn("status change delivery mark not written: the next start looks at more ended executions", "err", err)
	}
}

// readMark returns the delivery mark, or the zero time (sweep everything)
// when there is none, it cannot be read or it is later than now.
func (n *notifier) readMark() time.Time {
	if n.markPath == "" {
		return time.Time{}
	}
	b, err := os.ReadFile(n.markPath)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			n.log.Warn("status change delivery mark unreadable: every ended execution is looked at", "err", err)
		}
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	if err != nil {
		n.log.Warn("status change delivery mark unreadable: every ended execution is looked at", "err", err)
		return time.Time{}
	}
	if now := time.Now(); t.After(now) {
		// Written while the clock was ahead (since set back): it would
		// skip ends that were not delivered.
		n.log.Warn("status change delivery mark is in the future: every ended execution is looked at", "mark", t, "now", now)
		return time.Time{}
	}
	return t
}
