package engine

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/stepmon/stepmon/internal/asl"
)

// execParallel runs a Parallel state: every branch on the same input,
// the result is the array of the branch outputs. res is the run state
// it resumes from at the top level (see commitRunning and recoverFrom).
func (sr *stateRun) execParallel(ctx context.Context, s *asl.ParallelState, res *snapshot) (any, string, *asl.Error, bool) {
	attempts := make([]int, len(s.Retry))
	var input any
	if res != nil {
		copy(attempts, res.Attempts)
		input = res.Effective
	}
	for input == nil {
		eff, err := sr.effectiveInput()
		if err != nil {
			return nil, "", err, false
		}
		if input, err = sr.parameters(eff); err == nil {
			break
		}
		if !reportedResultError(err) {
			return nil, "", err, false
		}
		// Its Retry and Catch see the failure. No branch started, so no
		// ParallelStateStarted or ParallelStateFailed; a retry at the
		// top level commits no input (nil), so that it evaluates the
		// Parameters again when it resumes.
		out, next, retried, ferr, suspended := sr.recoverFrom(ctx, sr.failed(err), nil, attempts, "")
		if !retried {
			return out, next, ferr, suspended
		}
	}
	concurrent := false
	for _, b := range s.Branches {
		concurrent = concurrent || blocks(b)
	}
	return sr.runAttempts(ctx, input, attempts, "Parallel", EventDetails{}, func(ctx context.Context) ([]any, *asl.Error, *asl.Error) {
		results := make([]any, len(s.Branches))
		var prevMu sync.Mutex // branches that run at once share sr.t.prev
		berr := sr.forEach(ctx, len(s.Branches), 0, concurrent, func(ctx context.Context, i int) *asl.Error {
			out, e := sr.t.runSub(ctx, s.Branches[i], input, false, &prevMu)
			results[i] = out
			return e
		})
		if ctx.Err() != nil {
			return nil, nil, errAborted
		}
		return results, berr, nil
	})
}

// runAttempts runs the attempts of a Map or Parallel state (kind) on its
// effective input eff, with its Retry counters attempts: for each, the
// running commit at the top level (commitRunning), the Started event
// (with started), once (the iterations or branches: their results, or the
// failure Retry and Catch are to see, or an error that fails the state as
// it is), then the state's success path, or Retry and Catch (recoverFrom).
func (sr *stateRun) runAttempts(ctx context.Context, eff any, attempts []int, kind string, started EventDetails,
	once func(ctx context.Context) (results []any, failure, ferr *asl.Error)) (any, string, *asl.Error, bool) {
	for {
		running := sr.commitRunning(ctx, eff, attempts)
		sr.t.emit(kind+"StateStarted", started)
		sr.completedBy = 0
		results, failure, ferr := once(ctx)
		// Settled before the state's success path: its Assign writes the
		// variables the running commit encodes.
		if running != nil && !running.settle() {
			return nil, "", errAborted, false
		}
		if ferr != nil {
			return nil, "", ferr, false
		}
		failedEvent := kind + "StateFailed"
		if failure == nil && sr.t.exceedsPayload(results) {
			// The collected results are the state's result, held to
			// the payload quota before ResultSelector and ResultPath
			// as a task's result is.
			failure = dataLimit(sr.b.Name)
		}
		if failure == nil {
			sr.emitSucceeded(kind)
			out, next, ferr, reported := sr.complete(results)
			if reported == nil {
				return out, next, ferr, false
			}
			// Its branches or iterations succeeded, so no StateFailed
			// event follows.
			failure, failedEvent = reported, ""
		}
		out, next, retried, ferr, susp := sr.recoverFrom(ctx, failure, eff, attempts, failedEvent)
		if !retried {
			return out, next, ferr, susp
		}
	}
}

// emitSucceeded emits the StateSucceeded event of a Map or Parallel state
// (kind) whose iterations or branches all succeeded, chained as AWS's
// histories chain it: it follows the event that completed them (the last
// branch's or MapIterationSucceeded, or MapRunSucceeded), and the state's
// next event (StateExited) follows the same event it does, or for a Map
// Run the MapRunStarted.
func (sr *stateRun) emitSucceeded(kind string) {
	chain := sr.t.prev
	if sr.completedBy != 0 {
		sr.t.prev = sr.completedBy
	}
	sr.t.emit(kind+"StateSucceeded", EventDetails{})
	sr.t.prev, sr.completedBy = chain, 0
}

// commitRunning arranges, for a top-level Map or Parallel state about to
// run its iterations or branches, the commit of the run state "running
// this state" (phaseBranches: its effective input eff and its retry
// counters) with the events buffered up to here, once it has run for
// taskCommitDelay, as a task in flight does. A crash after that commit
// runs the state again from here, not from the previous commit, which
// may lie before tasks that have ended since. The events the state
// emits meanwhile stay buffered for its next commit. A state that ends
// sooner settles the commit away: it costs none. Nil below the top level.
func (sr *stateRun) commitRunning(ctx context.Context, eff any, attempts []int) *deferredCommit {
	if !sr.t.top {
		return nil
	}
	snap := sr.snapshot(phaseBranches)
	snap.Effective, snap.Attempts = eff, slices.Clone(attempts)
	x := sr.t.x
	x.mu.Lock()
	upTo := x.lastID
	x.mu.Unlock()
	return x.commitAfter(ctx, snap, taskCommitDelay, upTo)
}

// recoverFrom applies Retry and Catch to a failed Map or Parallel state
// whose effective input (a Parallel's after Parameters) is eff. A
// top-level state suspends for its retry interval, as a Task does: it
// commits its retry counters and wake-up time (suspended). Below the top
// level, where Map and Parallel run in memory, it sleeps on the clock
// (retried). failedEvent, unless "", is emitted before Catch.
func (sr *stateRun) recoverFrom(ctx context.Context, err *asl.Error, eff any, attempts []int, failedEvent string) (out any, next string, retried bool, ferr *asl.Error, suspended bool) {
	if interrupted(err) {
		return nil, "", false, err, false
	}
	if herr := sr.t.historyFull(); herr != nil {
		return nil, "", false, herr, false
	}
	if d, ok := sr.retry(err, attempts); ok {
		x := sr.t.x
		if sr.t.top {
			snap := sr.snapshot(phaseRetry)
			snap.Effective, snap.Attempts = eff, attempts
			snap.WakeAt = x.wakeAt(x.e.clock.Now().Add(d))
			if cerr := x.suspend(ctx, snap); cerr != nil {
				return nil, "", false, errAborted, false
			}
			return nil, "", false, nil, true
		}
		if serr := x.sleepUntil(ctx, x.e.clock.Now().Add(d)); serr != nil {
			return nil, "", false, serr, false
		}
		return nil, "", true, nil, false
	}
	if failedEvent != "" {
		sr.t.emit(failedEvent, EventDetails{})
	}
	out, next, caught, cerr := sr.catch(err)
	if cerr != nil {
		return nil, "", false, cerr, false
	}
	if caught {
		return out, next, false, nil, false
	}
	return nil, "", false, err, false
}

// blocks reports whether a nested machine may wait on time or tasks, in
// which case its iterations or branches run concurrently.
func blocks(m *asl.Machine) bool {
	return m.Any(func(st asl.State) bool {
		switch st.(type) {
		case *asl.TaskState, *asl.WaitState:
			return true
		}
		return false
	})
}

// panicCause begins the cause of the failure guard makes of a panic: a
// DISTRIBUTED Map passes it on as it is, not as its Map Run's failure,
// which a tolerated failure count or a Catch would take for a child's.
const panicCause = "The engine failed while running the state"

// panicked reports whether err is the failure guard made of a panic.
func panicked(err *asl.Error) bool {
	return err.Name == asl.ErrRuntime && strings.HasPrefix(err.Cause, panicCause+" '")
}

// guard runs fn for iteration or branch i, and turns a panic in it (a
// defect of the engine) into its Map or Parallel state's States.Runtime
// failure, logged with its stack, instead of ending the process, which
// would resume the execution, and panic again, at every start.
func (sr *stateRun) guard(ctx context.Context, i int, fn func(ctx context.Context, i int) *asl.Error) (err *asl.Error) {
	defer func() {
		if r := recover(); r != nil {
			x := sr.t.x
			x.e.log.Error("engine: a Map iteration or a Parallel branch panicked; the state fails", "execution", x.rec.Arn,
				"state", sr.b.Name, "index", i, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = &asl.Error{Name: asl.ErrRuntime, HasCause: true, Cause: fmt.Sprintf("%s '%s': %v", panicCause, sr.b.Name, r)}
		}
	}()
	return fn(ctx, i)
}

// forEach runs fn for 0..n-1, stopping at the first error. Sequentially
// when !concurrent (deterministic event order), else on at most limit
// (0: n) goroutines at a time, each taking the next index when
// it is done with one; the first error cancels the context of the
// others, as AWS stops the other branches or iterations.
//
// The goroutines count as work in progress (Engine.inflight) and the
// waiting caller does not: when they all sleep on a virtual clock, the
// engine jumps it. The last one to return hands its count back to the
// caller, so that the count never drops to zero in between.
func (sr *stateRun) forEach(ctx context.Context, n, limit int, concurrent bool, fn func(ctx context.Context, i int) *asl.Error) *asl.Error {
	if !concurrent {
		for i := range n {
			if err := sr.guard(ctx, i, fn); err != nil {
				return err
			}
		}
		return nil
	}
	if n == 0 {
		return nil
	}
	if limit <= 0 || limit > n {
		limit = n
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e := sr.t.x.e
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first *asl.Error
		next  int
		alive atomic.Int64
	)
	alive.Store(int64(limit))
	e.inflight.Add(int64(limit))
	wg.Add(limit)
	for range limit {
		go func() {
			defer wg.Done()
			defer func() {
				if alive.Add(-1) > 0 {
					e.idle()
				}
			}()
			for {
				mu.Lock()
				if first != nil || next == n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := sr.guard(cctx, i, fn); err != nil {
					mu.Lock()
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
	e.idle()
	wg.Wait()
	return first
}

// execMap runs a Map state. res is the run state it resumes from at the
// top level (see commitRunning and recoverFrom).
func (sr *stateRun) execMap(ctx context.Context, s *asl.MapState, res *snapshot) (any, string, *asl.Error, bool) {
	attempts := make([]int, len(s.Retry))
	var eff any
	if res != nil {
		copy(attempts, res.Attempts)
		eff = res.Effective
	}
	if eff == nil {
		var err *asl.Error
		if eff, err = sr.effectiveInput(); err != nil {
			return nil, "", err, false
		}
	}
	if s.ItemReader != nil || s.ResultWriter != nil {
		name, field := asl.ErrItemReaderFailed, "ItemReader"
		if s.ItemReader == nil {
			name, field = asl.ErrResultWriterFailed, "ResultWriter"
		}
		return nil, "", &asl.Error{Name: name, HasCause: true,
			Cause: fmt.Sprintf("The Map state '%s' uses %s, which this engine does not support (it reads and writes no S3 objects).", s.Name, field)}, false
	}
	items, err := sr.mapItems(s, eff)
	if interrupted(err) {
		return nil, "", err, false
	}
	if err != nil {
		err = sr.failed(err)
		sr.t.emit("MapStateFailed", EventDetails{})
		return nil, "", err, false
	}
	if items, err = sr.batch(s, eff, items); err != nil {
		return nil, "", err, false
	}
	maxConc, err := sr.mapInt(s.MaxConcurrency, s.MaxConcurrencyPath, "MaxConcurrency", eff, false)
	if err != nil {
		return nil, "", err, false
	}
	if maxConc < 0 {
		// A literal is checked at parse time; a path or a JSONata
		// expression is checked here.
		name := "MaxConcurrency"
		if s.MaxConcurrencyPath != nil {
			name = "MaxConcurrencyPath"
		}
		return nil, "", sr.evalErr(asl.Errorf(asl.ErrRuntime, "The %s field refers to value %s which is not a valid non-negative integer", name, strconv.Quote(textOrString(maxConc)))), false
	}
	return sr.runAttempts(ctx, eff, attempts, "Map", EventDetails{Extra: &EventExtra{Length: len(items)}},
		func(ctx context.Context) ([]any, *asl.Error, *asl.Error) {
			return sr.runMapOnce(ctx, s, eff, items, sr.mapConcurrency(s, maxConc))
		})
}

// The most iterations of a Map state that run at once, as on AWS: an
// INLINE Map runs up to 40 concurrent iterations, and a DISTRIBUTED one
// up to 10,000 child workflows when MaxConcurrency is 0 (unset).
const (
	inlineMapConcurrency      = 40
	distributedMapConcurrency = 10000
)

// mapConcurrency returns how many iterations of s run at once given its
// MaxConcurrency maxConc (0: as many as the mode allows): at most the
// engine's ceiling for the mode, so that a Map over a large array does
// not start a goroutine per item.
func (sr *stateRun) mapConcurrency(s *asl.MapState, maxConc float64) int {
	ceil := sr.t.x.e.mapCeil[0]
	if s.Distributed() {
		ceil = sr.t.x.e.mapCeil[1]
	}
	if maxConc <= 0 || maxConc > float64(ceil) {
		return ceil
	}
	return int(maxConc)
}

// runMapOnce runs the iterations of one attempt of a Map state. It
// returns their results, or the failure Retry and Catch are to see, or an
// error that fails the state as it is; runAttempts ends the state.
func (sr *stateRun) runMapOnce(ctx context.Context, s *asl.MapState, eff any, items []any, maxConc int) (results []any, failure, ferr *asl.Error) {
	tolCount, err := sr.mapInt(s.ToleratedFailureCount, s.ToleratedFailureCountPath, "ToleratedFailureCount", eff, false)
	if err != nil {
		return nil, nil, err
	}
	tolPct, err := sr.mapInt(s.ToleratedFailurePercentage, s.ToleratedFailurePercentagePath, "ToleratedFailurePercentage", eff, true)
	if err != nil {
		return nil, nil, err
	}
	if tolPct < 0 || tolPct > 100 {
		return nil, nil, sr.evalErr(asl.Errorf(asl.ErrRuntime, "ToleratedFailurePercentage must be between 0 and 100."))
	}
	dist := s.Distributed()
	x := sr.t.x
	if dist {
		runID := asl.NewUUID()
		label := s.Label
		if label != "" {
			label += ":"
		}
		arn := fmt.Sprintf("arn:aws:states:%s:%s:mapRun:%s/%s:%s%s", x.e.region, x.e.account, x.sm.Name, s.Name, label, runID)
		sr.t.emit("MapRunStarted", EventDetails{Extra: &EventExtra{MapRunArn: arn}})
	}
	results = make([]any, len(items))
	var (
		mu       sync.Mutex
		failures int
		// startPrev is the event the next iteration's MapIterationStarted
		// follows: the Map's last event until an iteration ends, then
		// the last event of the iteration that ended last before its
		// MapIterationSucceeded or MapIterationFailed, as AWS's
		// histories chain them (the next iteration continues from where
		// the one before it stopped).
		startPrev = sr.t.prev
	)
	// tolerated reports whether the failures so far stay within every
	// threshold the state specifies: exceeding either fails the Map Run,
	// as on AWS. Without a threshold no failure is tolerated.
	countSet := s.ToleratedFailureCount != nil || s.ToleratedFailureCountPath != nil
	pctSet := s.ToleratedFailurePercentage != nil || s.ToleratedFailurePercentagePath != nil
	tolerated := func() bool {
		if !dist || (!countSet && !pctSet) {
			return false
		}
		if countSet && float64(failures) > tolCount {
			return false
		}
		if pctSet && (len(items) == 0 || float64(failures)*100/float64(len(items)) > tolPct) {
			return false
		}
		return true
	}
	iterErr := sr.forEach(ctx, len(items), maxConc, blocks(s.Processor), func(ctx context.Context, i int) *asl.Error {
		input, e := sr.mapIterationInput(s, eff, i, items[i])
		if e != nil {
			return e
		}
		vars := sr.t.vars
		if dist {
			// A distributed map's child workflow sees no variable of
			// the outer scopes.
			vars = asl.NewVars(nil)
		}
		mu.Lock()
		it := &thread{x: x, m: s.Processor, vars: vars, prev: startPrev, silent: dist || sr.t.silent, ids: sr.t.ids}
		if dist {
			// No event of the child's own, nor of the history it is in.
			it.ids = nil
		}
		mu.Unlock()
		it.emit("MapIterationStarted", EventDetails{Name: s.Name, Extra: &EventExtra{Index: i}})
		if dist {
			// A child workflow of its own, whose history starts with
			// its ExecutionStarted (event 1).
			it.ids = new(atomic.Int64)
			it.ids.Store(1)
		}
		out, ierr := it.runSub(ctx, s.Processor, input, dist, nil)
		if ierr != nil {
			if interrupted(ierr) {
				return ierr
			}
			last := it.prev
			it.emit("MapIterationFailed", EventDetails{Name: s.Name, Extra: &EventExtra{Index: i}})
			mu.Lock()
			failures++
			results[i] = map[string]any{"Error": ierr.Name, "Cause": ierr.Cause}
			ok := tolerated()
			if !it.silent {
				// What follows a failed iteration (MapStateFailed, the
				// Map's next attempt) follows the iteration's last
				// event, not its MapIterationFailed.
				sr.t.prev, startPrev = last, last
			}
			mu.Unlock()
			if ok {
				return nil
			}
			return ierr
		}
		results[i] = out
		last := it.prev
		it.emit("MapIterationSucceeded", EventDetails{Name: s.Name, Extra: &EventExtra{Index: i}})
		mu.Lock()
		if !it.silent {
			// The Map's own next event (MapStateSucceeded) follows
			// the MapIterationSucceeded; the next iteration follows
			// this one's last event.
			sr.t.prev, startPrev = it.prev, last
		}
		mu.Unlock()
		return nil
	})
	if ctx.Err() != nil {
		return nil, nil, errAborted
	}
	if iterErr != nil {
		if dist && !interrupted(iterErr) && !panicked(iterErr) {
			iterErr = &asl.Error{Name: asl.ErrExceedToleratedFailureThreshold, HasCause: true,
				Cause: "The specified tolerated failure threshold was exceeded"}
			sr.t.emit("MapRunFailed", EventDetails{Error: iterErr.Name, HasError: true, Cause: iterErr.Cause, HasCause: true})
		}
		return nil, iterErr, nil
	}
	if dist {
		// MapStateSucceeded follows MapRunSucceeded; the events after
		// it follow MapRunStarted (see runAttempts).
		chain := sr.t.prev
		sr.completedBy = sr.t.emit("MapRunSucceeded", EventDetails{})
		sr.t.prev = chain
	}
	return results, nil, nil
}

// mapItems selects the array a Map state iterates over.
func (sr *stateRun) mapItems(s *asl.MapState, eff any) ([]any, *asl.Error) {
	var v any
	switch {
	case s.Items != nil && s.Items.JX != nil:
		x, err := s.Items.Eval(sr.scope(eff))
		if err != nil {
			return nil, sr.evalErr(err)
		}
		arr, ok := x.([]any)
		if !ok {
			return nil, sr.evalErr(&asl.Error{Name: asl.ErrQueryEvaluationError, HasCause: true, Evaluation: true, Location: "Items",
				Cause: fmt.Sprintf("The JSONata expression '%s' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '%s' for value: %s", s.Items.JX, asl.TypeName(x), quoted(x))})
		}
		return arr, nil
	case s.ItemsTemplate != nil:
		x, err := s.ItemsTemplate.Eval(sr.scope(eff))
		if err != nil {
			return nil, sr.evalErr(err)
		}
		v = x
	case s.ItemsPath != nil:
		x, ok := s.ItemsPath.Eval(sr.scope(eff))
		if !ok {
			return nil, sr.evalErr(asl.Errorf(asl.ErrRuntime, "Invalid path '%s' : No results for path: %s", s.ItemsPath, s.ItemsPath.NormalizedString()))
		}
		v = x
	default:
		v = eff
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, sr.evalErr(&asl.Error{Name: asl.ErrQueryEvaluationError, HasCause: true, Evaluation: true,
			Cause: "Map state input must be an array but was: " + quoted(v)})
	}
	return arr, nil
}

// mapIterationInput applies ItemSelector (or the legacy Parameters) to
// one item, with $$.Map.Item set.
func (sr *stateRun) mapIterationInput(s *asl.MapState, eff any, i int, item any) (any, *asl.Error) {
	if s.ItemSelector == nil {
		return item, nil
	}
	sub := *sr
	sub.ctxFn, sub.ctxVal = nil, nil // bind $$ to the copy, which has $$.Map
	sub.mapItem = map[string]any{"Index": float64(i), "Value": item}
	sc := sub.scope(eff)
	if s.JSONata() {
		sc = sub.scope(sr.raw)
	}
	v, err := s.ItemSelector.Eval(sc)
	if err != nil {
		return nil, sr.evalErr(err)
	}
	return v, nil
}

// mapInt resolves MaxConcurrency(Path) and the tolerated failure fields.
func (sr *stateRun) mapInt(f *asl.Field, p *asl.Path, name string, eff any, isFloat bool) (float64, *asl.Error) {
	var v any
	switch {
	case f != nil:
		x, err := f.Eval(sr.scope(eff))
		if err != nil {
			return 0, sr.evalErr(err)
		}
		v = x
	case p != nil:
		x, ok := p.Eval(sr.scope(eff))
		if !ok {
			return 0, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The %sPath field refers to a value that does not exist: %s", name, p))
		}
		v = x
	default:
		return 0, nil
	}
	n, ok := v.(float64)
	if str, isStr := v.(string); isStr {
		if f, err := strconv.ParseFloat(strings.TrimSpace(str), 64); err == nil {
			n, ok = f, true
		}
	}
	kind := "integer"
	if isFloat {
		kind = "float"
	}
	// NaN and the infinities ("NaN", "Infinity" as strings) are no
	// number a field may hold: NaN would pass every range check.
	if !ok || math.IsNaN(n) || math.IsInf(n, 0) || (!isFloat && n != math.Trunc(n)) {
		if p == nil {
			return 0, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The %s field refers to value %s which is not a valid %s", name, strconv.Quote(textOrString(v)), kind))
		}
		return 0, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The %sPath field refers to value %s which is not a valid %s: %s", name, strconv.Quote(textOrString(v)), kind, p))
	}
	return n, nil
}

// batch groups the items as ItemBatcher asks: each iteration receives
// {"Items": [...], "BatchInput": ...}. MaxInputBytesPerBatch is not
// enforced. Only a DISTRIBUTED map has an ItemBatcher.
func (sr *stateRun) batch(s *asl.MapState, eff any, items []any) ([]any, *asl.Error) {
	b := s.ItemBatcher
	if b == nil {
		return items, nil
	}
	size := len(items)
	if b.MaxItemsPerBatch != nil || b.MaxItemsPerBatchPath != nil {
		n, err := sr.mapInt(b.MaxItemsPerBatch, b.MaxItemsPerBatchPath, "MaxItemsPerBatch", eff, false)
		if err != nil {
			return nil, err
		}
		if n < 1 {
			// A literal is checked at parse time; a path or a JSONata
			// expression is checked here.
			if b.MaxItemsPerBatchPath != nil {
				return nil, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The MaxItemsPerBatchPath field refers to value %s which is not a valid integer: %s", strconv.Quote(asl.Text(n)), b.MaxItemsPerBatchPath))
			}
			return nil, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The MaxItemsPerBatch field refers to value %s which is not a valid integer", strconv.Quote(asl.Text(n))))
		}
		// No batch holds more than all the items: a larger size
		// (1e19) is all of them in one, not an int that overflows.
		size = int(min(n, float64(len(items))))
	}
	var batchInput any
	hasInput := b.BatchInput != nil
	if hasInput {
		v, err := b.BatchInput.Eval(sr.scope(eff))
		if err != nil {
			return nil, sr.evalErr(err)
		}
		batchInput = v
	}
	var out []any
	for i := 0; i < len(items); i += max(size, 1) {
		batch := map[string]any{"Items": append([]any{}, items[i:min(i+size, len(items))]...)}
		if hasInput {
			batch["BatchInput"] = batchInput
		}
		out = append(out, batch)
	}
	return out, nil
}
