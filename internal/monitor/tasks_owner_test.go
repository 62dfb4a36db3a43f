package monitor_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/checks"
	"github.com/stepmon/stepmon/internal/monitor"
)

// hookChecker runs during, when set, after each check, before the check
// returns: what happens while the check is in flight.
type hookChecker struct {
	monitor.Checker
	during func()
}

func (c *hookChecker) Check(ctx context.Context, req monitor.CheckRequest) (monitor.Observation, error) {
	obs, err := c.Checker.Check(ctx, req)
	if c.during != nil {
		c.during()
	}
	return obs, err
}

// hookSender runs during, when set, in each send, which then answers
// err.
type hookSender struct {
	during func()
	err    error
	sent   int
}

func (s *hookSender) Send(context.Context, monitor.Alert, monitor.Message) (string, error) {
	if s.during != nil {
		s.during()
	}
	if s.err != nil {
		return "", s.err
	}
	s.sent++
	return "msg-1", nil
}

// restart does what a user does to start id again while a task of its
// monitor is in flight: terminate (the record finishes; stopping the
// execution does not stop the task), purge, and start a new monitor of
// id an hour later. It returns the new monitor's record as the start
// left it.
func (f *fixture) restart(t *testing.T, id string, spec monitor.Spec) monitor.Record {
	t.Helper()
	ctx := context.Background()
	old, err := f.store.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !old.RuntimeStatus.Final() {
		if err := f.store.Finish(ctx, id, monitor.Finish{RuntimeStatus: monitor.RuntimeTerminated,
			Output: monitor.Output{JobID: id, FinalStatus: monitor.FinalTerminated}, At: tStart}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.store.DeleteFinished(ctx, id, old.CreatedTime); err != nil {
		t.Fatal(err)
	}
	created := tStart.Add(time.Hour)
	if spec.JobID == "" {
		spec.JobID = id
	}
	rec := monitor.Record{InstanceID: id, Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
		Input: spec, CreatedTime: created, LastUpdatedTime: created, ExpiresAt: spec.ExpiresAt(created)}
	if err := f.store.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := f.store.AddEvent(ctx, id, monitor.Event{Name: "note", Data: []byte(`{"new":true}`), RaisedAt: created}); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestOldExecutionLeavesTheNewMonitorAlone: a task of a monitor that was
// terminated, purged and started again (the same instance id) while the
// task ran writes nothing to the new monitor's record (no check count,
// no finish, no alert claim or result, no event consumed) and ends its
// execution quietly: no error, a done state.
func TestOldExecutionLeavesTheNewMonitorAlone(t *testing.T) {
	const id = "x"
	for _, tc := range []struct {
		name string
		// run runs the old monitor's task, calling restart at the
		// moment the case is about, and returns its result.
		run func(t *testing.T, f *fixture, restart func()) (monitor.State, error)
	}{
		{"check in flight, job running", func(t *testing.T, f *fixture, restart func()) (monitor.State, error) {
			hc := &hookChecker{Checker: checks.Simulated{}}
			f.tasks.Checkers[monitor.TargetSimulated] = hc
			s := checkTimes(t, f, f.start(t, id, simulatedSpec(10, 5, 600)), 2)
			hc.during = restart
			return f.tasks.Check(context.Background(), monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
		}},
		{"check in flight, job done", func(t *testing.T, f *fixture, restart func()) (monitor.State, error) {
			hc := &hookChecker{Checker: checks.Simulated{}}
			f.tasks.Checkers[monitor.TargetSimulated] = hc
			s := checkTimes(t, f, f.start(t, id, simulatedSpec(3, 5, 600)), 2)
			hc.during = restart
			return f.tasks.Check(context.Background(), monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
		}},
		{"check retried after the restart", func(t *testing.T, f *fixture, _ func()) (monitor.State, error) {
			f.tasks.Checkers[monitor.TargetSimulated] = checks.Simulated{}
			s := checkTimes(t, f, f.start(t, id, simulatedSpec(10, 5, 600)), 2)
			return s, nil // restarted before the next check: see below
		}},
		{"check meets the condition in flight", func(t *testing.T, f *fixture, restart func()) (monitor.State, error) {
			hc := &hookChecker{Checker: openIssues(1)}
			f.tasks.Checkers[monitor.TargetGitHub] = hc
			s := checkTimes(t, f, f.start(t, id, githubSpec()), 2)
			hc.during = restart
			return f.tasks.Check(context.Background(), monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
		}},
		{"alert after the restart", func(t *testing.T, f *fixture, restart func()) (monitor.State, error) {
			s := conditionMet(t, f, id)
			restart()
			return f.tasks.Alert(context.Background(), monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
		}},
		{"alert sent in flight", func(t *testing.T, f *fixture, restart func()) (monitor.State, error) {
			hs := &hookSender{during: restart}
			f.tasks.Senders[monitor.ChannelWebhook] = hs
			s := conditionMet(t, f, id)
			st, err := f.tasks.Alert(context.Background(), monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
			if hs.sent != 1 {
				t.Errorf("sent %d alerts, want 1 (claimed before the restart)", hs.sent)
			}
			return st, err
		}},
		{"alert refused in flight", func(t *testing.T, f *fixture, restart func()) (monitor.State, error) {
			hs := &hookSender{during: restart, err: &monitor.PermanentError{Message: "webhook: 404", Input: true}}
			f.tasks.Senders[monitor.ChannelWebhook] = hs
			s := conditionMet(t, f, id)
			return f.tasks.Alert(context.Background(), monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
		}},
		{"alert failing transiently in flight", func(t *testing.T, f *fixture, restart func()) (monitor.State, error) {
			hs := &hookSender{during: restart, err: &monitor.TransientError{Message: "webhook: 503"}}
			f.tasks.Senders[monitor.ChannelWebhook] = hs
			s := conditionMet(t, f, id)
			return f.tasks.Alert(context.Background(), monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, openIssues(1))
			var fresh monitor.Record
			restarted := false
			restart := func() {
				if restarted {
					return
				}
				restarted = true
				rec, err := f.store.Get(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				fresh = f.restart(t, id, rec.Input)
			}
			s, err := tc.run(t, f, restart)
			if !restarted {
				// A task that starts after the restart: the next check.
				if err != nil {
					t.Fatal(err)
				}
				restart()
				s, err = f.tasks.Check(context.Background(), monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
			}
			if err != nil {
				t.Fatalf("the old monitor's task failed: %v", err)
			}
			if !s.Check.Done || s.Check.ConditionMet || s.Check.Output == nil {
				t.Errorf("the old monitor's task returned %+v; want done, with an output", s.Check)
			}
			got, err := f.store.Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, fresh) {
				t.Errorf("the new monitor's record changed:\ngot  %+v\nwant %+v", got, fresh)
			}
		})
	}
}

// conditionMet starts a monitor of id on a repository that reaches the
// alert's threshold at the third check, runs them, and returns the state
// the Alert task is given.
func conditionMet(t *testing.T, f *fixture, id string) monitor.State {
	t.Helper()
	s := checkTimes(t, f, f.start(t, id, githubSpec()), 3)
	if !s.Check.ConditionMet {
		t.Fatalf("the third check did not meet the condition: %+v", s.Check)
	}
	return s
}

// checkTimes runs n checks of s, as the workflow does, and returns the
// state after the last.
func checkTimes(t *testing.T, f *fixture, s monitor.State, n int) monitor.State {
	t.Helper()
	for i := range n {
		var err error
		s, err = f.tasks.Check(context.Background(), monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
		if err != nil {
			t.Fatalf("check %d: %v", i+1, err)
		}
		if s.Check.Done {
			t.Fatalf("check %d: done already", i+1)
		}
		f.clock.Set(f.clock.Now().Add(time.Duration(s.Check.WaitSeconds) * time.Second))
	}
	return s
}

// recordCheckHook runs after, when set, after each RecordCheck, before
// the task reads the record again.
type recordCheckHook struct {
	monitor.Store
	after func()
}

func (s *recordCheckHook) RecordCheck(ctx context.Context, id string, u monitor.CheckUpdate) (bool, error) {
	applied, err := s.Store.RecordCheck(ctx, id, u)
	if s.after != nil {
		s.after()
	}
	return applied, err
}

// A check whose monitor was terminated while it ran finds its write not
// applied and reads the record again to end with its output. Should the
// monitor have been purged meanwhile, and a new monitor of the id have
// finished already, the check must not take the new monitor's output
// for its own.
func TestOldCheckDoesNotTakeTheNewMonitorsOutput(t *testing.T) {
	const id = "x"
	f := newFixture(t, nil)
	s := checkTimes(t, f, f.start(t, id, simulatedSpec(10, 5, 600)), 2)
	ctx := context.Background()
	if err := f.store.Finish(ctx, id, monitor.Finish{RuntimeStatus: monitor.RuntimeTerminated,
		Output: monitor.Output{JobID: id, FinalStatus: monitor.FinalTerminated}, At: tStart}); err != nil {
		t.Fatal(err)
	}
	f.tasks.Store = &recordCheckHook{Store: f.store, after: func() {
		fresh := f.restart(t, id, s.Spec)
		if err := f.store.Finish(ctx, id, monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: fresh.CreatedTime,
			Output: monitor.Output{JobID: id, FinalStatus: monitor.FinalCompleted, Detail: "the new monitor's"}}); err != nil {
			t.Fatal(err)
		}
	}}
	got, err := f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if o := got.Check.Output; !got.Check.Done || o == nil || o.Detail == "the new monitor's" || o.FinalStatus != monitor.FinalTerminated {
		t.Errorf("the old monitor's check ended with %+v, output %+v; want done with an output of its own", got.Check, o)
	}
}
