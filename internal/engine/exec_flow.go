package engine

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
)

// execPass runs a Pass state.
func (sr *stateRun) execPass(s *asl.PassState) (any, string, *asl.Error) {
	if s.JSONata() {
		out, err := sr.finish(sr.raw, false)
		if err != nil {
			return nil, "", err
		}
		return out, sr.next(), sr.exit(out)
	}
	eff, err := sr.effectiveInput()
	if err != nil {
		return nil, "", err
	}
	result := eff
	if s.HasResult {
		result = s.Result
	} else if result, err = sr.parameters(eff); err != nil {
		return nil, "", err
	}
	out, err := sr.finish(result, false)
	if err != nil {
		return nil, "", err
	}
	return out, sr.next(), sr.exit(out)
}

// execChoice runs a Choice state.
func (sr *stateRun) execChoice(s *asl.ChoiceState) (any, string, *asl.Error) {
	eff, err := sr.effectiveInput()
	if err != nil {
		return nil, "", err
	}
	sc := sr.scope(eff)
	var rule *asl.ChoiceRule
	for _, r := range s.Choices {
		ok, e := r.Eval(sc)
		if e != nil {
			return nil, "", sr.evalErr(e)
		}
		if ok {
			rule = r
			break
		}
	}
	next := s.Default
	if rule != nil {
		next = rule.Next
	}
	if next == "" {
		return nil, "", sr.evalErr(asl.Errorf(asl.ErrNoChoiceMatched, "No Choice Rule matched and no Default is specified"))
	}
	if err := sr.assign(s.Assign, sc); err != nil {
		return nil, "", err
	}
	out := eff
	if s.JSONata() {
		output := s.Output
		if rule != nil {
			if err := sr.assign(rule.Assign, sc); err != nil {
				return nil, "", err
			}
			if rule.Output != nil {
				output = rule.Output
			}
		}
		if output != nil {
			v, e := output.Eval(sc)
			if e != nil {
				return nil, "", sr.evalErr(e)
			}
			out = v
		}
	} else {
		if rule != nil {
			if err := sr.assign(rule.Assign, sc); err != nil {
				return nil, "", err
			}
		}
		if out, err = sr.outputPath(eff); err != nil {
			return nil, "", err
		}
	}
	return out, next, sr.exit(out)
}

// execSucceed runs a Succeed state.
func (sr *stateRun) execSucceed(s *asl.SucceedState) (any, *asl.Error) {
	var out any
	if s.JSONata() {
		v, err := sr.finish(sr.raw, false)
		if err != nil {
			return nil, err
		}
		out = v
	} else {
		eff, err := sr.effectiveInput()
		if err != nil {
			return nil, err
		}
		if out, err = sr.outputPath(eff); err != nil {
			return nil, err
		}
	}
	return out, sr.exit(out)
}

// execFail runs a Fail state: it returns the state's error.
func (sr *stateRun) execFail(s *asl.FailState) *asl.Error {
	name, cause, hasCause, err := s.Eval(sr.scope(sr.raw))
	if err != nil {
		return sr.evalErr(err)
	}
	return &asl.Error{Name: name, Cause: cause, HasCause: hasCause}
}

// execWait runs a Wait state. At the top level a wait into the future
// suspends the execution (a durable timer); inside Map and Parallel it
// sleeps on the clock.
func (sr *stateRun) execWait(ctx context.Context, s *asl.WaitState, res *snapshot) (any, string, *asl.Error, bool) {
	var eff any
	if res != nil {
		eff = res.Effective
	} else {
		var err *asl.Error
		if eff, err = sr.effectiveInput(); err != nil {
			return nil, "", err, false
		}
		until, err := sr.waitUntil(s, eff)
		if err != nil {
			return nil, "", err, false
		}
		if until.After(sr.t.x.e.clock.Now()) {
			if sr.t.top {
				snap := sr.snapshot(phaseWait)
				snap.Effective, snap.WakeAt = eff, sr.t.x.wakeAt(until)
				if cerr := sr.t.x.suspend(ctx, snap); cerr != nil {
					return nil, "", errAborted, false
				}
				return nil, "", nil, true
			}
			if e := sr.t.x.sleepUntil(ctx, until); e != nil {
				return nil, "", e, false
			}
		}
	}
	var out any
	var err *asl.Error
	if s.JSONata() {
		out, err = sr.finish(sr.raw, false)
	} else if err = sr.assign(s.Assign, sr.scope(eff)); err == nil {
		out, err = sr.outputPath(eff)
	}
	if err != nil {
		return nil, "", err, false
	}
	return out, sr.next(), sr.exit(out), false
}

// waitUntil computes when a Wait state ends. Like AWS, it considers a
// timestamp up to the second and drops its fraction.
func (sr *stateRun) waitUntil(s *asl.WaitState, eff any) (time.Time, *asl.Error) {
	now := sr.t.x.e.clock.Now()
	sc := sr.scope(eff)
	switch {
	case s.Seconds != nil:
		v, err := s.Seconds.Eval(sc)
		if err != nil {
			return time.Time{}, sr.evalErr(err)
		}
		f, ok := v.(float64)
		if !ok || f < 0 || f != math.Trunc(f) {
			return time.Time{}, sr.evalErr(&asl.Error{Name: asl.ErrQueryEvaluationError, HasCause: true, Evaluation: true, Location: "Seconds",
				Cause: "The Seconds field must be a non-negative integer: " + quoted(v)})
		}
		if f > asl.MaxSeconds {
			return time.Time{}, sr.evalErr(&asl.Error{Name: asl.ErrQueryEvaluationError, HasCause: true, Evaluation: true, Location: "Seconds",
				Cause: fmt.Sprintf("The Seconds field must be at most %d: %s", asl.MaxSeconds, quoted(v))})
		}
		return now.Add(secondsDuration(f)), nil
	case s.Timestamp != nil:
		v, err := s.Timestamp.Eval(sc)
		if err != nil {
			return time.Time{}, sr.evalErr(err)
		}
		str, _ := v.(string)
		t, perr := asl.ParseTimestamp(str)
		if perr != nil {
			return time.Time{}, sr.evalErr(&asl.Error{Name: asl.ErrQueryEvaluationError, HasCause: true, Evaluation: true, Location: "Timestamp",
				Cause: "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: " + textOrString(v)})
		}
		return t.Truncate(time.Second), nil
	case s.SecondsPath != nil:
		v, ok := s.SecondsPath.Eval(sc)
		if !ok {
			return time.Time{}, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The SecondsPath parameter does not reference an input value: %s", s.SecondsPath))
		}
		f, isNum := v.(float64)
		if !isNum || f != math.Trunc(f) {
			return time.Time{}, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The SecondsPath parameter cannot be parsed as a long value: %s == %s", s.SecondsPath, textOrString(v)))
		}
		if f < 0 {
			return time.Time{}, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The SecondsPath parameter references a negative value: %s == %s", s.SecondsPath, textOrString(v)))
		}
		if f > asl.MaxSeconds {
			return time.Time{}, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The SecondsPath parameter references a value above the maximum of %d: %s == %s", asl.MaxSeconds, s.SecondsPath, textOrString(v)))
		}
		return now.Add(secondsDuration(f)), nil
	case s.TimestampPath != nil:
		v, ok := s.TimestampPath.Eval(sc)
		if !ok {
			return time.Time{}, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The TimestampPath parameter does not reference an input value: %s", s.TimestampPath))
		}
		str, _ := v.(string)
		t, err := asl.ParseTimestamp(str)
		if err != nil {
			return time.Time{}, sr.evalErr(asl.Errorf(asl.ErrRuntime, "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s", s.TimestampPath, textOrString(v)))
		}
		return t.Truncate(time.Second), nil
	}
	return now, nil
}

// textOrString renders a value in a message: strings bare, others as JSON.
func textOrString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return quoted(v)
}
