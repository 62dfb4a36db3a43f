package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/lambdaerr"
	"github.com/stepmon/stepmon/internal/monitor"
)

// Check refuses a state without an instance id, which names no monitor
// (a malformed execution input), with a *PermanentError that says so,
// instead of checking, or expiring, a monitor it cannot write to.
func TestCheckRefusesAStateWithoutInstanceID(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct {
		name string
		in   monitor.TaskInput
	}{
		{"empty input", monitor.TaskInput{}},
		{"a spec but no instance id", monitor.TaskInput{State: monitor.State{StartedAt: tStart, ExpiresAt: tStart.Add(time.Hour), Spec: simulatedSpec(3, 60, 3600)}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.tasks.Check(context.Background(), tt.in)
			var pe *monitor.PermanentError
			if !errors.As(err, &pe) || err != error(pe) || !strings.Contains(pe.Message, "no instanceId") {
				t.Errorf("err = %#v, want an unwrapped *monitor.PermanentError saying the state has no instanceId", err)
			}
		})
	}
}

// A check adds its retry count ($$.State.RetryCount) to the generation's
// retries, which bring the rollover closer; a negative count, which no
// state machine passes, adds nothing rather than pushing the rollover
// further away.
func TestCheckCountsOnlyNonNegativeRetries(t *testing.T) {
	for _, tt := range []struct {
		retryCount int
		want       int
	}{
		{0, 0},
		{2, 2},
		{-5, 0},
	} {
		t.Run(fmt.Sprintf("retry count %d", tt.retryCount), func(t *testing.T) {
			f := newFixture(t, nil)
			s, err := f.tasks.Check(context.Background(), monitor.TaskInput{State: f.start(t, "r", simulatedSpec(10, 60, 3600)), RetryCount: tt.retryCount})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Check.GenerationRetries; got != tt.want {
				t.Errorf("generation retries = %d, want %d", got, tt.want)
			}
		})
	}
}

// The alert task pauses between a run's send attempts, never after the
// last: the state machine's retry waits anyway, and a pause there (up to
// MaxAlertRetryAfter when the destination asked for it) only spends the
// function's time and can run it into its timeout.
func TestAlertDoesNotPauseAfterTheLastAttempt(t *testing.T) {
	asked := &monitor.TransientError{Message: "429", RetryAfter: 3 * time.Second}
	for _, tt := range []struct {
		name     string
		attempts int
		err      error
		want     []time.Duration
	}{
		{"one attempt", 1, errT(), nil},
		{"two attempts, Retry-After", 2, asked, []time.Duration{3 * time.Second}},
		{"three attempts", 3, errT(), []time.Duration{time.Second, 2 * time.Second}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, openIssues(5))
			var pauses []time.Duration
			f.tasks.Sleep = func(_ context.Context, d time.Duration) error { pauses = append(pauses, d); return nil }
			f.tasks.SendAttempts = tt.attempts
			for range 5 {
				f.sender.failures = append(f.sender.failures, tt.err)
			}
			s, err := f.tasks.Check(context.Background(), monitor.TaskInput{State: f.start(t, "p", githubSpec())})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.tasks.Alert(context.Background(), monitor.TaskInput{State: s})
			if lambdaerr.Name(err) != "TransientError" || f.sender.attempts != tt.attempts {
				t.Fatalf("err = %v after %d attempts, want a TransientError after %d", err, f.sender.attempts, tt.attempts)
			}
			if !slices.Equal(pauses, tt.want) {
				t.Errorf("pauses = %v, want %v", pauses, tt.want)
			}
		})
	}
}

// The alert task tells the state machine's last retry of it by the claims
// the earlier runs made (AlertTransientRetries runs of SendAttempts
// claims), counted once, at the run's first claim: the run's own claims
// never count. So a run after four full runs (12 claims) is not the last;
// one after five (15) is, and a destination that still fails transiently
// ends the monitor Failed. After five runs of which one was cut short
// (14 claims) the run is not taken for the last, as the rule says: a run
// cut short can make the last run come later (the execution then fails),
// never earlier.
func TestAlertLastRetryCountsTheEarlierRunsClaims(t *testing.T) {
	for _, tt := range []struct {
		name   string
		before int // claims of the earlier runs, each failed
		failed bool
	}{
		{"after four runs", 12, false},
		{"after five runs, one cut short", 14, false},
		{"after five runs", 15, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, openIssues(5))
			f.tasks.SendAttempts = 3
			s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "last", githubSpec())})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.before {
				if _, claimed, err := f.store.ClaimAlert(ctx, "last", s.StartedAt, monitor.ChannelWebhook, tStart); err != nil || !claimed {
					t.Fatalf("earlier claim %d: claimed %v, err %v", i+1, claimed, err)
				}
				if err := f.store.CompleteAlert(ctx, "last", monitor.AlertResult{Error: "HTTP 503", At: tStart, Created: s.StartedAt}); err != nil {
					t.Fatal(err)
				}
			}
			for range 3 {
				f.sender.failures = append(f.sender.failures, &monitor.TransientError{Message: "HTTP 503", Input: true})
			}
			got, err := f.tasks.Alert(ctx, monitor.TaskInput{State: s})
			rec, _ := f.store.Get(ctx, "last")
			if !tt.failed {
				if lambdaerr.Name(err) != "TransientError" || rec.RuntimeStatus.Final() {
					t.Errorf("err = %v, record %s; want a TransientError for the state machine and the monitor still running", err, rec.RuntimeStatus)
				}
				return
			}
			if err != nil || got.Check.Output == nil || got.Check.Output.FinalStatus != monitor.FinalFailed || rec.RuntimeStatus != monitor.RuntimeFailed {
				t.Errorf("err = %v, output %+v, record %s; want no error and the monitor Failed", err, got.Check.Output, rec.RuntimeStatus)
			}
		})
	}
}

// finishHook keeps the Finish writes the tasks make.
type finishHook struct {
	monitor.Store
	finishes []monitor.Finish
}

func (s *finishHook) Finish(ctx context.Context, id string, f monitor.Finish) error {
	s.finishes = append(s.finishes, f)
	return s.Store.Finish(ctx, id, f)
}

// A monitor that expires ends with the last check's custom status as its
// record holds it. Should its id name a new monitor by then (terminated,
// purged and started again while the old execution waited), the record
// and its custom status are the new monitor's: the old monitor's finish
// must not carry them as its own.
func TestExpireTakesNoCustomStatusOfANewMonitor(t *testing.T) {
	const id = "x"
	ctx := context.Background()
	f := newFixture(t, nil)
	old := checkTimes(t, f, f.start(t, id, simulatedSpec(100, 5, 60)), 1)
	fresh := f.restart(t, id, old.Spec)
	f.clock.Set(fresh.CreatedTime)
	if _, err := f.tasks.Check(ctx, monitor.TaskInput{State: monitor.State{InstanceID: id, StartedAt: fresh.CreatedTime,
		ExpiresAt: fresh.ExpiresAt, Spec: old.Spec}, ExecutionArn: "arn:exec:new"}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := f.store.Get(ctx, id); rec.CustomStatus == nil {
		t.Fatal("the new monitor's check left no custom status")
	}
	hook := &finishHook{Store: f.store}
	f.tasks.Store = hook
	got, err := f.tasks.Check(ctx, monitor.TaskInput{State: old, ExecutionArn: "arn:exec"})
	if err != nil || !got.Check.Expired {
		t.Fatalf("the old monitor's check: %+v, err %v; want it expired", got.Check, err)
	}
	if len(hook.finishes) != 1 {
		t.Fatalf("finishes = %d, want 1", len(hook.finishes))
	}
	if cs := hook.finishes[0].CustomStatus; cs != nil {
		t.Errorf("the old monitor's finish carries custom status %+v, want none: it is the new monitor's", cs)
	}
}

// purgeMidCheck finishes and purges a monitor's record as the step named
// purgeAt of a check begins: a terminate and a purge while the check ran.
// At "reload" the terminate comes before the check's record, which it
// keeps from applying, and the purge after it, before the check reads
// the record again.
type purgeMidCheck struct {
	monitor.Store
	purgeAt string // "events", "record" or "reload"
}

func (s *purgeMidCheck) purge(ctx context.Context, id string) error {
	rec, err := s.terminate(ctx, id)
	if err != nil {
		return err
	}
	return s.Store.DeleteFinished(ctx, id, rec.CreatedTime)
}

func (s *purgeMidCheck) terminate(ctx context.Context, id string) (monitor.Record, error) {
	rec, err := s.Store.Get(ctx, id)
	if err != nil {
		return rec, err
	}
	return rec, s.Store.Finish(ctx, id, monitor.Finish{RuntimeStatus: monitor.RuntimeTerminated, At: rec.CreatedTime.Add(time.Second),
		Output: monitor.Output{FinalStatus: monitor.FinalTerminated}})
}

func (s *purgeMidCheck) ConsumeEvents(ctx context.Context, id string, created time.Time, check int) ([]monitor.Event, error) {
	if s.purgeAt == "events" {
		if err := s.purge(ctx, id); err != nil {
			return nil, err
		}
	}
	return s.Store.ConsumeEvents(ctx, id, created, check)
}

func (s *purgeMidCheck) RecordCheck(ctx context.Context, id string, u monitor.CheckUpdate) (bool, error) {
	switch s.purgeAt {
	case "record":
		if err := s.purge(ctx, id); err != nil {
			return false, err
		}
	case "reload":
		rec, err := s.terminate(ctx, id)
		if err != nil {
			return false, err
		}
		applied, err := s.Store.RecordCheck(ctx, id, u)
		if err != nil || applied {
			return applied, fmt.Errorf("RecordCheck of a terminated monitor: applied %t, %v; want not applied", applied, err)
		}
		return false, s.Store.DeleteFinished(ctx, id, rec.CreatedTime)
	}
	return s.Store.RecordCheck(ctx, id, u)
}

// A check whose monitor is terminated and purged while it runs ends its
// execution quietly, its output saying the record was purged: it failed
// with "record check: monitor not found", logged at ERROR and counted by
// the check function's Errors alarm, for a terminate and a purge.
func TestCheckOfAPurgedMonitor(t *testing.T) {
	for _, at := range []string{"events", "record", "reload"} {
		t.Run(at, func(t *testing.T) {
			f := newFixture(t, nil)
			s := f.start(t, "p", simulatedSpec(100, 5, 60))
			f.tasks.Store = &purgeMidCheck{Store: f.store, purgeAt: at}
			got, err := f.tasks.Check(context.Background(), monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
			if err != nil {
				t.Fatalf("Check: %v; want no error", err)
			}
			if !got.Check.Done || got.Check.Output == nil || got.Check.Output.FinalStatus != monitor.FinalTerminated ||
				got.Check.Output.Detail != "the monitor's record was purged" {
				t.Errorf("Check = %+v (output %+v); want done, Terminated, the record purged", got.Check, got.Check.Output)
			}
			if _, err := f.store.Get(context.Background(), "p"); !monitor.IsKind(err, monitor.KindNotFound) {
				t.Errorf("the record after the check: %v; want it still purged", err)
			}
		})
	}
}

// A check that finds its monitor expired when the monitor was terminated
// and purged while its execution waited ends quietly as purged, as the
// check of a purged monitor does at its other steps, not with a
// PermanentError from the expiry's read.
func TestExpireOfAPurgedMonitor(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	s := f.start(t, "p", simulatedSpec(100, 5, 60))
	if err := f.store.Finish(ctx, "p", monitor.Finish{RuntimeStatus: monitor.RuntimeTerminated, At: tStart.Add(time.Second),
		Output: monitor.Output{FinalStatus: monitor.FinalTerminated}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteFinished(ctx, "p", tStart); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(s.ExpiresAt.Add(time.Second))
	got, err := f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
	if err != nil {
		t.Fatalf("Check: %v; want no error", err)
	}
	if !got.Check.Done || got.Check.Output == nil || got.Check.Output.Detail != "the monitor's record was purged" {
		t.Errorf("Check = %+v (output %+v); want done, the record purged", got.Check, got.Check.Output)
	}
}
