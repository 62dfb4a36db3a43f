package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
)

// execTask runs a Task state. At the top level the dispatch is a
// suspension point: the run state is committed before the handler runs
// (so a crash re-dispatches it) and retry intervals are durable timers.
func (sr *stateRun) execTask(ctx context.Context, s *asl.TaskState, res *snapshot) (any, string, *asl.Error, bool) {
	attempts := make([]int, len(s.Retry))
	var input any
	phase := "schedule"
	if res != nil {
		copy(attempts, res.Attempts)
		for _, n := range attempts {
			sr.retryCount += n
		}
		input = res.Effective
		// A task in flight at a crash (phaseTask) is dispatched again
		// with its whole TimeoutSeconds and HeartbeatSeconds, counted from
		// now: the time the runtime was down is not the task's.
		phase = res.Phase
	}
	// evaluate: the attempt starts by evaluating its input (Parameters or
	// Arguments), as the first attempt and every retry do.
	evaluate := res == nil || phase == phaseRetry
	var (
		route              Route
		timeout, heartbeat time.Duration
		evPrefix, resource string
		routed, resolved   bool
	)
	for {
		var err *asl.Error
		if !routed {
			// Before the input is evaluated: a resource the runtime
			// cannot run is the failure, not (say) the $$.Task.Token its
			// Parameters name.
			if route, err = sr.taskRoute(s); err == nil {
				routed = true
			}
		}
		if evaluate && err == nil {
			if input, err = sr.taskInput(); err != nil {
				if !reportedResultError(err) {
					return nil, "", err, false
				}
				// Its Retry and Catch see the failure; the attempt
				// dispatched nothing, so no TaskScheduled or TaskFailed.
				err = sr.failed(err)
			}
			phase = "schedule"
		}
		evaluate = true
		if err == nil && !resolved {
			var terr *asl.Error
			if timeout, heartbeat, terr = sr.taskTimeouts(s); terr != nil {
				return nil, "", terr, false
			}
			evPrefix, resource = "Task", route.ResourceName
			switch {
			case route.Legacy:
				evPrefix, resource = "LambdaFunction", s.Resource
			case isActivity(s.Resource):
				// A handler answering an activity stands in for its
				// worker: the events are an activity's, as on AWS.
				evPrefix, resource = "Activity", s.Resource
			}
			resolved = true
		}
		if err == nil {
			var (
				out  any
				next string
				done bool
			)
			out, next, err, done = sr.attemptTask(ctx, s, route, input, attempts, phase, timeout, heartbeat, evPrefix, resource)
			if done {
				return out, next, err, false
			}
		}
		if herr := sr.t.historyFull(); herr != nil {
			return nil, "", herr, false
		}
		if d, ok := sr.retry(err, attempts); ok {
			if sr.t.top {
				snap := sr.snapshot(phaseRetry)
				snap.Effective, snap.Attempts = input, attempts
				snap.WakeAt = sr.t.x.wakeAt(sr.t.x.e.clock.Now().Add(d))
				if cerr := sr.t.x.suspend(ctx, snap); cerr != nil {
					return nil, "", errAborted, false
				}
				return nil, "", nil, true
			}
			if serr := sr.t.x.sleepUntil(ctx, sr.t.x.e.clock.Now().Add(d)); serr != nil {
				return nil, "", serr, false
			}
			continue
		}
		out, next, caught, cerr := sr.catch(err)
		if cerr != nil {
			return nil, "", cerr, false
		}
		if caught {
			return out, next, nil, false
		}
		return nil, "", err, false
	}
}

// attemptTask runs one attempt of a Task state whose input is evaluated:
// it dispatches the task (phase "schedule" emits its Scheduled and
// Started events and, at the top level, commits it in flight; a task
// resumed in flight is dispatched again without them) and processes its
// result. It returns the state's output, next state and error when the
// attempt ends the state (done), else the failure Retry and Catch are to
// see.
func (sr *stateRun) attemptTask(ctx context.Context, s *asl.TaskState, route Route, input any, attempts []int, phase string,
	timeout, heartbeat time.Duration, evPrefix, resource string) (any, string, *asl.Error, bool) {
	var scheduled *deferredCommit
	if phase == "schedule" {
		sr.t.emit(evPrefix+"Scheduled", EventDetails{Extra: &EventExtra{Resource: resource, ResourceType: route.ResourceType,
			Region: sr.t.x.e.region, Parameters: input, TimeoutInSeconds: int64(timeout / time.Second),
			HeartbeatSeconds: int64(heartbeat / time.Second)}})
		sr.t.emit(evPrefix+"Started", EventDetails{Extra: &EventExtra{Resource: resource, ResourceType: route.ResourceType}})
		if herr := sr.t.historyFull(); herr != nil {
			return nil, "", herr, true // dispatch no task the history does not show
		}
		if sr.t.top {
			snap := sr.snapshot(phaseTask)
			snap.Effective, snap.Attempts = input, attempts
			if sr.t.x.taskEnded.Load() {
				// The end of an earlier task is not committed yet: a
				// crash during this one must not repeat that one too.
				if _, err := sr.t.x.commitKeeping(ctx, snap, nil, false, 0); err != nil {
					return nil, "", errAborted, true
				}
			} else {
				scheduled = sr.t.x.commitAfter(ctx, snap, taskCommitDelay, 0)
			}
		}
	}
	debug := sr.t.x.e.debugging(ctx)
	var began time.Time
	if debug {
		began = time.Now()
	}
	result, err := sr.invoke(ctx, route, s, input, timeout, heartbeat)
	if debug {
		errName := ""
		if err != nil {
			errName = err.Name
		}
		sr.debugTask(ctx, s.Resource, input, time.Since(began), errName)
	}
	if scheduled != nil && !scheduled.settle() {
		return nil, "", errAborted, true
	}
	if sr.t.top {
		// After settle: the deferred commit, which would clear it, is
		// over, and the task's end is emitted after this.
		sr.t.x.taskEnded.Store(true)
	}
	if ctx.Err() != nil {
		return nil, "", errAborted, true
	}
	if err == errTimedOut { // the execution's deadline, not the task's
		return nil, "", err, true
	}
	if err == nil && sr.t.exceedsPayload(result) {
		result, err = nil, dataLimit(sr.b.Name)
	}
	if err == nil {
		sr.t.emit(evPrefix+"Succeeded", EventDetails{Output: result, Extra: &EventExtra{Resource: resource, ResourceType: route.ResourceType}})
		out, next, ferr, reported := sr.complete(result)
		if reported == nil {
			return out, next, ferr, true
		}
		return nil, "", reported, false
	}
	failType := evPrefix + "Failed"
	if err.Name == asl.ErrTimeout || err.Name == asl.ErrHeartbeatTimeout {
		failType = evPrefix + "TimedOut"
	}
	sr.t.emit(failType, EventDetails{Extra: &EventExtra{Resource: resource, ResourceType: route.ResourceType},
		Error: err.Name, HasError: true, Cause: err.Cause, HasCause: err.HasCause})
	return nil, "", err, false
}

// taskInput evaluates the task's input for an attempt: the effective
// input through Parameters (or Arguments). Each attempt evaluates it
// again, as Step Functions does, so $$.State.RetryCount in Parameters
// counts the retries.
func (sr *stateRun) taskInput() (any, *asl.Error) {
	eff, err := sr.effectiveInput()
	if err != nil {
		return nil, err
	}
	input, err := sr.parameters(eff)
	if err != nil {
		return nil, err
	}
	if sr.t.exceedsPayload(input) {
		return nil, dataLimit(sr.b.Name)
	}
	return input, nil
}

// taskRoute finds the route of a Task's Resource. A resource this
// runtime cannot run fails the attempt with States.TaskFailed, which
// names what is missing: on AWS the resource would run, and its failures
// are task failures, so Retry and Catch see this one as they would see
// those (States.Runtime, which they cannot match, would leave a Catch
// path impossible to test). The attempt dispatched nothing: no
// TaskScheduled or TaskFailed event, as for a Parameters failure.
func (sr *stateRun) taskRoute(s *asl.TaskState) (Route, *asl.Error) {
	if strings.HasSuffix(s.Resource, waitForTaskTokenSuffix) {
		return Route{}, sr.evalErr(asl.Errorf(asl.ErrTaskFailed,
			"The resource '%s' waits for a task token: .waitForTaskToken callbacks are not supported locally", s.Resource))
	}
	route, err := sr.t.x.e.disp.Lookup(s.Resource)
	if err == nil {
		return route, nil
	}
	if isActivity(s.Resource) {
		return Route{}, sr.evalErr(asl.Errorf(asl.ErrTaskFailed,
			"The resource '%s' is an activity: activities are not supported locally", s.Resource))
	}
	return Route{}, sr.evalErr(asl.Errorf(asl.ErrTaskFailed, "The local runtime has no integration for %s", s.Resource))
}

// waitForTaskTokenSuffix marks a service integration that waits for
// SendTaskSuccess or SendTaskFailure with the task token.
const waitForTaskTokenSuffix = ".waitForTaskToken"

// isActivity reports whether a Resource is an activity's ARN
// (arn:PARTITION:states:REGION:ACCOUNT:activity:NAME).
// It allocates nothing: every Task state's run asks it.
func isActivity(resource string) bool {
	var f [7]string
	rest := resource
	for i := range len(f) - 1 {
		var ok bool
		if f[i], rest, ok = strings.Cut(rest, ":"); !ok {
			return false
		}
	}
	f[6] = rest
	return f[0] == "arn" && f[2] == "states" && f[5] == "activity" && !strings.Contains(rest, ":")
}

// taskTimeouts resolves TimeoutSeconds(Path) and HeartbeatSeconds(Path)
// from the state input (before InputPath), as AWS documents them.
func (sr *stateRun) taskTimeouts(s *asl.TaskState) (time.Duration, time.Duration, *asl.Error) {
	get := func(f *asl.Field, p *asl.Path, name string) (time.Duration, *asl.Error) {
		var v any
		switch {
		case f != nil:
			x, err := f.Eval(sr.scope(sr.raw))
			if err != nil {
				return 0, sr.evalErr(err)
			}
			v = x
		case p != nil:
			x, ok := p.Eval(sr.scope(sr.raw))
			if !ok {
				return 0, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The %sPath parameter does not reference an input value: %s", name, p))
			}
			v = x
		default:
			return 0, nil
		}
		n, ok := v.(float64)
		if !ok || n < 1 || n != math.Trunc(n) {
			return 0, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The %s value must be a positive integer: %s", name, quoted(v)))
		}
		if n > asl.MaxSeconds {
			// The literal's limit, which a path or an expression is held
			// to as a Wait's SecondsPath is: a larger value would not fit
			// a Duration (1e10 s wraps around to no limit at all).
			return 0, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The %s value must be at most %d: %s", name, asl.MaxSeconds, quoted(v)))
		}
		return secondsDuration(n), nil
	}
	timeout, err := get(s.TimeoutSeconds, s.TimeoutSecondsPath, "TimeoutSeconds")
	if err != nil {
		return 0, 0, err
	}
	heartbeat, err := get(s.HeartbeatSeconds, s.HeartbeatSecondsPath, "HeartbeatSeconds")
	return timeout, heartbeat, err
}

// invoke calls the handler with the task's time limits. Without a
// heartbeat channel for handlers, HeartbeatSeconds bounds the whole call
// (States.HeartbeatTimeout) like TimeoutSeconds does (States.Timeout);
// the execution's deadline bounds it too (errTimedOut). A bounded call
// ends at its limit even if the handler ignores its context: the handler
// is left to return on its own and its result is discarded, as AWS
// discards the result of a task that has timed out.
func (sr *stateRun) invoke(ctx context.Context, route Route, s *asl.TaskState, input any, timeout, heartbeat time.Duration) (any, *asl.Error) {
	full, limitName := timeout, asl.ErrTimeout
	if heartbeat > 0 && (full == 0 || heartbeat < full) {
		full, limitName = heartbeat, asl.ErrHeartbeatTimeout
	}
	limit := full
	x := sr.t.x
	deadline := false
	if d := x.deadline(); !d.IsZero() {
		left := d.Sub(x.e.clock.Now())
		if left <= 0 {
			return nil, errTimedOut
		}
		if full == 0 || left < limit {
			limit, deadline = left, true
		}
	}
	if ctx.Err() != nil {
		return nil, errAborted // stopped: dispatch nothing more
	}
	req := TaskRequest{Resource: s.Resource, Input: input, ExecutionArn: x.rec.Arn, StateName: sr.b.Name, Attempt: sr.retryCount, Clock: x.e.clock}
	x.e.tasksRunning.Add(1)
	if limit <= 0 {
		defer x.e.tasksRunning.Add(-1)
		return callHandler(ctx, route.Handler, req)
	}
	hctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	type reply struct {
		v   any
		err *asl.Error
	}
	done := make(chan reply, 1)
	x.e.tasks.Go(func() {
		v, err := callHandler(hctx, route.Handler, req)
		x.e.tasksRunning.Add(-1) // a handler that outlived its limit counted till now
		done <- reply{v, err}
	})
	var r reply
	select {
	case r = <-done:
		if hctx.Err() == nil || ctx.Err() != nil {
			return r.v, r.err
		}
		// It returned at the limit: too late, whatever it returned.
	case <-hctx.Done():
		if ctx.Err() != nil {
			return nil, errAborted
		}
	}
	if deadline {
		return nil, errTimedOut
	}
	return nil, &asl.Error{Name: limitName, HasCause: true, Cause: fmt.Sprintf("The task did not complete within %v.", full)}
}

// taskGoroutineIdle is how long a goroutine that ran a task's handler
// waits for another before it ends (Engine.tasks).
const taskGoroutineIdle = 10 * time.Second

// runGoroutineIdle is how long a goroutine that ran an execution's run
// waits for another before it ends (Engine.runs).
const runGoroutineIdle = 5 * time.Second

// callHandler runs a task handler and turns its error, or its panic, into
// the error Retry and Catch see.
func callHandler(ctx context.Context, h TaskHandler, req TaskRequest) (result any, aerr *asl.Error) {
	defer func() {
		if r := recover(); r != nil {
			result, aerr = nil, &asl.Error{Name: asl.ErrTaskFailed, Cause: fmt.Sprintf("the task handler panicked: %v", r), HasCause: true}
		}
	}()
	v, err := h(ctx, req)
	if err == nil {
		return v, nil
	}
	var te *TaskError
	if errors.As(err, &te) {
		return nil, &asl.Error{Name: te.Name, Cause: te.Cause, HasCause: true}
	}
	return nil, &asl.Error{Name: asl.ErrTaskFailed, Cause: err.Error(), HasCause: true}
}
