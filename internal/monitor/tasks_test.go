package monitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/checks"
	"github.com/stepmon/stepmon/internal/lambdaerr"
	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// countingSender records sends and fails the first failures of them.
type countingSender struct {
	mu       sync.Mutex
	sent     int
	attempts int
	failures []error
	last     monitor.Message // the last message sent
}

func (s *countingSender) Send(_ context.Context, _ monitor.Alert, msg monitor.Message) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if len(s.failures) > 0 {
		err := s.failures[0]
		s.failures = s.failures[1:]
		return "", err
	}
	s.sent++
	s.last = msg
	return "msg-1", nil
}

var tStart = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

type fixture struct {
	store  *memstore.Store
	clock  *fakeClock
	sender *countingSender
	tasks  *monitor.Tasks
	// onCheck, when set, sees every Check that run makes: its input
	// state, its result and the time it ran.
	onCheck func(in, out monitor.State, at time.Time)
}

func newFixture(t *testing.T, checker monitor.Checker) *fixture {
	t.Helper()
	f := &fixture{store: memstore.New(), clock: &fakeClock{now: tStart}, sender: &countingSender{}}
	if checker == nil {
		checker = checks.Simulated{}
	}
	f.tasks = &monitor.Tasks{
		Store:    f.store,
		Checkers: map[string]monitor.Checker{monitor.TargetSimulated: checker, monitor.TargetGitHub: checker},
		Senders:  map[string]monitor.Sender{monitor.ChannelWebhook: f.sender, monitor.ChannelSNS: f.sender},
		Clock:    f.clock,
		Sleep:    func(context.Context, time.Duration) error { return nil },
	}
	return f
}

// start claims a record and returns the execution input, as the start
// handler does.
func (f *fixture) start(t *testing.T, id string, spec monitor.Spec) monitor.State {
	t.Helper()
	return f.startAt(t, id, spec, tStart)
}

// startAt is start for a monitor started at at.
func (f *fixture) startAt(t *testing.T, id string, spec monitor.Spec, at time.Time) monitor.State {
	t.Helper()
	if spec.JobID == "" {
		spec.JobID = id
	}
	rec := monitor.Record{InstanceID: id, Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
		Input: spec, CreatedTime: at, LastUpdatedTime: at, ExpiresAt: spec.ExpiresAt(at)}
	if err := f.store.Create(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return monitor.State{InstanceID: id, StartedAt: at, ExpiresAt: spec.ExpiresAt(at), Spec: spec}
}

func simulatedSpec(after, interval, timeout int) monitor.Spec {
	return monitor.Spec{
		Target:                 monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: after, Outcome: monitor.StatusCompleted},
		PollingIntervalSeconds: interval,
		TimeoutSeconds:         timeout,
	}
}

// run drives the workflow as the state machine does, waiting on the fake
// clock, and returns the final state and the number of check invocations.
func (f *fixture) run(t *testing.T, s monitor.State) (monitor.State, int) {
	t.Helper()
	ctx := context.Background()
	started := f.clock.Now() // $$.Execution.StartTime
	for i := 1; i < 10_000; i++ {
		in := s
		var err error
		s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec", ExecutionStartTime: started})
		if err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		if f.onCheck != nil {
			f.onCheck(in, s, f.clock.Now())
		}
		c := s.Check
		switch {
		case c.ConditionMet:
			s, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
			if err != nil {
				t.Fatalf("alert: %v", err)
			}
			return s, i
		case c.Done, c.Expired:
			return s, i
		case c.Rollover:
			// ContinueAsNew: the next generation starts with a check, its
			// input the fields the state machine's ContinueAsNew passes.
			if want := monitor.ExecutionName(s.InstanceID, monitor.RunTagOf(s.StartedAt), c.NextGeneration); c.NextExecutionName != want {
				t.Fatalf("rollover names the next execution %q, want %q", c.NextExecutionName, want)
			}
			s = monitor.State{InstanceID: s.InstanceID, Generation: c.NextGeneration,
				StartedAt: s.StartedAt, ExpiresAt: s.ExpiresAt, Spec: s.Spec, Check: s.Check}
			started = f.clock.Now()
			continue
		}
		at, err := time.Parse(monitor.TimestampFormat, c.NextCheckAt)
		if err != nil {
			t.Fatalf("nextCheckAt %q: %v", c.NextCheckAt, err)
		}
		if at.After(s.ExpiresAt) {
			t.Fatalf("nextCheckAt %s is past the expiry %s", at, s.ExpiresAt)
		}
		wake := f.clock.Now().Add(time.Duration(c.WaitSeconds) * time.Second)
		if c.WaitSeconds < 1 || wake.Before(at) || wake.Sub(at) >= time.Second {
			t.Fatalf("waitSeconds %d from %s does not reach nextCheckAt %s", c.WaitSeconds, f.clock.Now(), at)
		}
		f.clock.Set(wake)
	}
	t.Fatal("the monitor never finished")
	return s, 0
}

func TestCheckSeedJobCompletesOnFourthCheck(t *testing.T) {
	f := newFixture(t, nil)
	s, invocations := f.run(t, f.start(t, "job1", simulatedSpec(4, 5, 30)))
	if invocations != 4 || !s.Check.Done || s.Check.Output == nil {
		t.Fatalf("after %d checks: %+v", invocations, s.Check)
	}
	out := *s.Check.Output
	want := monitor.Output{JobID: "job1", FinalStatus: monitor.FinalCompleted, ChecksPerformed: 4, MonitoringDurationSeconds: 15}
	if out.JobID != want.JobID || out.FinalStatus != want.FinalStatus || out.ChecksPerformed != want.ChecksPerformed || out.MonitoringDurationSeconds != want.MonitoringDurationSeconds {
		t.Errorf("output = %+v, want %+v", out, want)
	}
	rec, err := f.store.Get(context.Background(), "job1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.RuntimeStatus != monitor.RuntimeCompleted || rec.CustomStatus.CheckCount != 4 || rec.CustomStatus.Status != monitor.StatusCompleted {
		t.Errorf("record = %s %+v", rec.RuntimeStatus, rec.CustomStatus)
	}
	if rec.ExecutionArn != "arn:exec" {
		t.Errorf("executionArn = %q", rec.ExecutionArn)
	}
}

func TestCheckExpires(t *testing.T) {
	f := newFixture(t, nil)
	// Completes after 100 checks, but times out after 12 s at a 5 s interval:
	// checks at 0, 5, 10, then a last wait clipped to the expiry at 12.
	s, invocations := f.run(t, f.start(t, "slow", simulatedSpec(100, 5, 12)))
	if !s.Check.Expired || s.Check.Output.FinalStatus != monitor.FinalTimeout {
		t.Fatalf("check = %+v", s.Check)
	}
	if invocations != 4 || s.Check.Output.ChecksPerformed != 3 || s.Check.Output.MonitoringDurationSeconds != 12 {
		t.Errorf("invocations = %d, output = %+v", invocations, s.Check.Output)
	}
	rec, _ := f.store.Get(context.Background(), "slow")
	if rec.RuntimeStatus != monitor.RuntimeCompleted || rec.Output.FinalStatus != monitor.FinalTimeout {
		t.Errorf("record = %s %+v", rec.RuntimeStatus, rec.Output)
	}
}

func TestCheckBackoff(t *testing.T) {
	f := newFixture(t, nil)
	spec := simulatedSpec(5, 10, 3600)
	spec.Backoff = &monitor.Backoff{Multiplier: 2, MaxIntervalSeconds: 50}
	s := f.start(t, "backoff", spec)
	var intervals []int
	for i := 0; i < 4; i++ {
		var err error
		s, err = f.tasks.Check(context.Background(), monitor.TaskInput{State: s})
		if err != nil {
			t.Fatal(err)
		}
		intervals = append(intervals, s.Check.IntervalSeconds)
		if got := s.Check.WaitSeconds; got != s.Check.IntervalSeconds {
			t.Errorf("check %d waits %d s, interval %d", i+1, got, s.Check.IntervalSeconds)
		}
		f.clock.Set(f.clock.Now().Add(time.Duration(s.Check.WaitSeconds) * time.Second))
	}
	want := []int{10, 20, 40, 50}
	for i := range want {
		if intervals[i] != want[i] {
			t.Fatalf("intervals = %v, want %v", intervals, want)
		}
	}
}

// A deferred check (it asked nothing: another check's rate limit holds
// the API) keeps the monitor's job status and its interval, which the
// backoff grows again from the next check that asks; it counts as a check.
func TestCheckDeferredKeepsStatusAndInterval(t *testing.T) {
	ctx := context.Background()
	checker := monitor.CheckerFunc(func(_ context.Context, req monitor.CheckRequest) (monitor.Observation, error) {
		if req.Number == 2 || req.Number == 3 {
			return monitor.Observation{Status: monitor.StatusError, Deferred: true, Detail: "deferred"}, nil
		}
		return monitor.Observation{Status: monitor.StatusRunning, Detail: "running"}, nil
	})
	f := newFixture(t, checker)
	spec := simulatedSpec(100, 10, 86400)
	spec.Backoff = &monitor.Backoff{Multiplier: 2, MaxIntervalSeconds: 1000}
	s := f.start(t, "deferred", spec)
	var intervals []int
	var statuses []string
	for range 4 {
		var err error
		if s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s}); err != nil {
			t.Fatal(err)
		}
		rec, _ := f.store.Get(ctx, "deferred")
		intervals = append(intervals, s.Check.IntervalSeconds)
		statuses = append(statuses, rec.CustomStatus.Status)
		f.clock.Set(f.clock.Now().Add(time.Duration(s.Check.WaitSeconds) * time.Second))
	}
	if want := []int{10, 10, 10, 20}; !slices.Equal(intervals, want) {
		t.Errorf("intervals = %v, want %v", intervals, want)
	}
	if want := []string{monitor.StatusRunning, monitor.StatusRunning, monitor.StatusRunning, monitor.StatusRunning}; !slices.Equal(statuses, want) {
		t.Errorf("custom statuses = %v, want %v", statuses, want)
	}
	if s.Check.CheckCount != 4 {
		t.Errorf("check count = %d, want 4", s.Check.CheckCount)
	}

	// A setInterval event that a deferred check consumes sets the
	// interval all the same.
	data, _ := json.Marshal(map[string]int{"pollingIntervalSeconds": 300})
	f = newFixture(t, checker)
	s = f.start(t, "deferred-set", spec)
	for i := range 2 {
		if i == 1 {
			if err := f.store.AddEvent(ctx, "deferred-set", monitor.Event{Name: monitor.EventSetInterval, Data: data, RaisedAt: f.clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		if s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s}); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(f.clock.Now().Add(time.Duration(s.Check.WaitSeconds) * time.Second))
	}
	if s.Check.IntervalSeconds != 300 {
		t.Errorf("interval after a deferred check consumed setInterval 300 = %d, want 300", s.Check.IntervalSeconds)
	}
}

// A setInterval event sets the interval from then on, backoff or not: the
// backoff grows an interval up to its cap but never lowers one above it.
func TestCheckBackoffAfterSetInterval(t *testing.T) {
	tests := []struct {
		name string
		set  int // the setInterval event before the first check; 0 for none
		want []int
	}{
		{"no event", 0, []int{10, 20, 40}},
		{"below the cap", 300, []int{300, 600, 600}},
		{"above the cap", 3600, []int{3600, 3600, 3600}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, nil)
			spec := simulatedSpec(100, 10, 86400)
			spec.Backoff = &monitor.Backoff{Multiplier: 2, MaxIntervalSeconds: 600}
			s := f.start(t, "si", spec)
			if tt.set != 0 {
				data, _ := json.Marshal(map[string]int{"pollingIntervalSeconds": tt.set})
				if err := f.store.AddEvent(ctx, "si", monitor.Event{Name: monitor.EventSetInterval, Data: data, RaisedAt: tStart}); err != nil {
					t.Fatal(err)
				}
			}
			var waits []int
			for range tt.want {
				var err error
				s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s})
				if err != nil {
					t.Fatal(err)
				}
				waits = append(waits, s.Check.WaitSeconds)
				f.clock.Set(f.clock.Now().Add(time.Duration(s.Check.WaitSeconds) * time.Second))
			}
			if !slices.Equal(waits, tt.want) {
				t.Errorf("waits = %v, want %v", waits, tt.want)
			}
		})
	}
}

// A setInterval event's interval is read as the API validated it: a whole
// number written 30.0 or 3e1 (as Python's json.dumps writes a float),
// which the API accepts with 202, is applied, not dropped.
func TestCheckSetIntervalWrittenAsAFloat(t *testing.T) {
	for _, text := range []string{"30", "30.0", "3e1"} {
		ctx := context.Background()
		f := newFixture(t, nil)
		s := f.start(t, "si", simulatedSpec(100, 10, 86400))
		data := []byte(`{"pollingIntervalSeconds": ` + text + `}`)
		if err := (&monitor.API{Store: f.store, Workflow: &fakeWorkflow{}, Clock: f.clock}).RaiseEvent(ctx, "si", monitor.EventSetInterval, data); err != nil {
			t.Fatalf("%s: RaiseEvent: %v", text, err)
		}
		s, err := f.tasks.Check(ctx, monitor.TaskInput{State: s})
		if err != nil {
			t.Fatal(err)
		}
		if s.Check.WaitSeconds != 30 {
			t.Errorf("setInterval %s: the check waits %d s, want 30", text, s.Check.WaitSeconds)
		}
	}
}

// A retried check (same state in, as after a Lambda timeout) records the
// same check number: the count never goes back or jumps.
func TestCheckRetryIsIdempotent(t *testing.T) {
	f := newFixture(t, nil)
	s0 := f.start(t, "retry", simulatedSpec(4, 5, 60))
	ctx := context.Background()
	s1, err := f.tasks.Check(ctx, monitor.TaskInput{State: s0})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(tStart.Add(5 * time.Second))
	s2, err := f.tasks.Check(ctx, monitor.TaskInput{State: s1})
	if err != nil {
		t.Fatal(err)
	}
	// A late duplicate of check 1 arrives after check 2 was recorded.
	again, err := f.tasks.Check(ctx, monitor.TaskInput{State: s0})
	if err != nil {
		t.Fatal(err)
	}
	if again.Check.CheckCount != 1 {
		t.Errorf("retried check number = %d, want 1", again.Check.CheckCount)
	}
	rec, _ := f.store.Get(ctx, "retry")
	if rec.CustomStatus.CheckCount != s2.Check.CheckCount || rec.CustomStatus.CheckCount != 2 {
		t.Errorf("stored check_count = %d, want 2", rec.CustomStatus.CheckCount)
	}
}

func TestCheckEvents(t *testing.T) {
	ctx := context.Background()
	t.Run("complete", func(t *testing.T) {
		f := newFixture(t, nil)
		s := f.start(t, "ev", simulatedSpec(100, 5, 60))
		if err := f.store.AddEvent(ctx, "ev", monitor.Event{Name: monitor.EventComplete, RaisedAt: tStart}); err != nil {
			t.Fatal(err)
		}
		s, err := f.tasks.Check(ctx, monitor.TaskInput{State: s})
		if err != nil {
			t.Fatal(err)
		}
		if !s.Check.Done || s.Check.Output.FinalStatus != monitor.FinalCompleted || s.Check.Output.ChecksPerformed != 1 {
			t.Errorf("check = %+v output %+v", s.Check, s.Check.Output)
		}
	})
	t.Run("setInterval", func(t *testing.T) {
		f := newFixture(t, nil)
		s := f.start(t, "ev2", simulatedSpec(100, 5, 600))
		data, _ := json.Marshal(map[string]int{"pollingIntervalSeconds": 42})
		if err := f.store.AddEvent(ctx, "ev2", monitor.Event{Name: monitor.EventSetInterval, Data: data, RaisedAt: tStart}); err != nil {
			t.Fatal(err)
		}
		s, err := f.tasks.Check(ctx, monitor.TaskInput{State: s})
		if err != nil {
			t.Fatal(err)
		}
		if s.Check.IntervalSeconds != 42 || s.Check.WaitSeconds != 42 || s.Check.NextCheckAt != "2026-11-21T12:00:42Z" {
			t.Errorf("interval = %d, wait = %d, next = %s", s.Check.IntervalSeconds, s.Check.WaitSeconds, s.Check.NextCheckAt)
		}
		rec, _ := f.store.Get(ctx, "ev2")
		if rec.CustomStatus.LastEvent != monitor.EventSetInterval {
			t.Errorf("last_event = %q", rec.CustomStatus.LastEvent)
		}
		// The last event stays in the custom status until another one
		// arrives, not only for the check that consumed it.
		f.clock.Set(f.clock.Now().Add(time.Duration(s.Check.WaitSeconds) * time.Second))
		if s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s}); err != nil {
			t.Fatal(err)
		}
		rec, _ = f.store.Get(ctx, "ev2")
		if rec.CustomStatus.CheckCount != 2 || rec.CustomStatus.LastEvent != monitor.EventSetInterval {
			t.Errorf("after the next check: check_count %d, last_event %q; want 2, %q",
				rec.CustomStatus.CheckCount, rec.CustomStatus.LastEvent, monitor.EventSetInterval)
		}
	})
	t.Run("more than the cap over a life", func(t *testing.T) {
		// A monitor's record holds at most MaxEventsPerMonitor events,
		// but checks that consume events make room for more.
		f := newFixture(t, nil)
		s := f.start(t, "ev3", simulatedSpec(1000, 5, 3600))
		check := func() {
			t.Helper()
			var err error
			if s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s}); err != nil {
				t.Fatal(err)
			}
			f.clock.Set(f.clock.Now().Add(time.Duration(s.Check.WaitSeconds) * time.Second))
		}
		const perCheck = monitor.MaxEventsPerMonitor / 2
		for i := range 3 * monitor.MaxEventsPerMonitor {
			if err := f.store.AddEvent(ctx, "ev3", monitor.Event{Name: fmt.Sprintf("note%d", i), RaisedAt: f.clock.Now()}); err != nil {
				t.Fatalf("event %d: %v", i+1, err)
			}
			if i%perCheck == perCheck-1 {
				check()
				if rec, _ := f.store.Get(ctx, "ev3"); rec.CustomStatus.LastEvent != fmt.Sprintf("note%d", i) {
					t.Fatalf("after event %d: last_event %q", i+1, rec.CustomStatus.LastEvent)
				}
			}
		}
		if err := f.store.AddEvent(ctx, "ev3", monitor.Event{Name: monitor.EventComplete, RaisedAt: f.clock.Now()}); err != nil {
			t.Fatalf("complete: %v", err)
		}
		check()
		if !s.Check.Done || s.Check.Output.FinalStatus != monitor.FinalCompleted {
			t.Errorf("after complete: check %+v", s.Check)
		}
		if rec, _ := f.store.Get(ctx, "ev3"); rec.CustomStatus.LastEvent != monitor.EventComplete {
			t.Errorf("last_event = %q, want %q", rec.CustomStatus.LastEvent, monitor.EventComplete)
		}
	})
}

func TestCheckRollover(t *testing.T) {
	var checked []time.Time
	f := newFixture(t, nil)
	f.tasks.Checkers[monitor.TargetSimulated] = monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
		checked = append(checked, f.clock.Now())
		return monitor.Observation{Status: monitor.StatusRunning}, nil
	})
	ctx := context.Background()
	s := f.start(t, "long", simulatedSpec(monitor.MaxCompleteAfterChecks, 7, 100_000))
	s.Check.CheckCount = monitor.ChecksPerGeneration - 1
	s.Check.GenerationChecks = monitor.ChecksPerGeneration - 1
	s.Check.IntervalSeconds = 7

	// The generation's last check decides to wait, as every other does.
	s, err := f.tasks.Check(ctx, monitor.TaskInput{State: s})
	if err != nil {
		t.Fatal(err)
	}
	if s.Check.Rollover || s.Check.WaitSeconds != 7 || s.Check.GenerationChecks != monitor.ChecksPerGeneration {
		t.Fatalf("last check = %+v, want a 7 s wait and no rollover yet", s.Check)
	}
	// After the wait, the next Check continues as new without checking.
	f.clock.Set(tStart.Add(7 * time.Second))
	s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Check.Rollover || s.Check.NextGeneration != 1 || len(checked) != 1 || s.Check.CheckCount != monitor.ChecksPerGeneration {
		t.Fatalf("after the wait: %+v after %d checks, want a rollover to generation 1 and no check", s.Check, len(checked))
	}
	// The next generation checks at once, counting again, the total going
	// on.
	s.Generation = s.Check.NextGeneration
	s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s})
	if err != nil {
		t.Fatal(err)
	}
	if s.Check.Rollover || s.Check.GenerationChecks != 1 || s.Check.CheckCount != monitor.ChecksPerGeneration+1 || len(checked) != 2 {
		t.Errorf("after rollover: %+v after %d checks", s.Check, len(checked))
	}
	rec, _ := f.store.Get(ctx, "long")
	if rec.CustomStatus.Generation != 1 || rec.CustomStatus.CheckCount != monitor.ChecksPerGeneration+1 {
		t.Errorf("custom status = %+v", rec.CustomStatus)
	}
}

// A monitor with the longest interval and timeout checks about once a day
// for a year, far fewer checks than a generation's history budget. Its
// generations still continue as new long before Step Functions fails an
// execution that has run for a year (States.Timeout).
func TestLongMonitorContinuesAsNewByAge(t *testing.T) {
	f := newFixture(t, nil)
	s := f.start(t, "year", simulatedSpec(monitor.MaxCompleteAfterChecks, monitor.MaxIntervalSeconds, monitor.MaxTimeoutSeconds))
	first, last := map[int]time.Time{}, map[int]time.Time{}
	f.onCheck = func(in, _ monitor.State, at time.Time) {
		if _, ok := first[in.Generation]; !ok {
			first[in.Generation] = at
		}
		last[in.Generation] = at
	}
	s, _ = f.run(t, s)
	if !s.Check.Expired {
		t.Fatalf("final check = %+v, want the expiry", s.Check)
	}
	if s.Generation == 0 {
		t.Errorf("the expiry check ran in generation 0, %v after the start", f.clock.Now().Sub(tStart))
	}
	// Generation 0's execution started with the monitor; a later one at
	// its first check.
	first[0] = tStart
	const limit = 305 * 24 * time.Hour // two months short of a year
	for gen := range last {
		if d := last[gen].Sub(first[gen]); d > limit {
			t.Errorf("generation %d ran for %v, more than %v", gen, d, limit)
		}
	}
}

// Without the execution's start time (a definition that does not pass
// $$.Execution.StartTime) generation 0 ages from the monitor's start and
// a later generation does not age: it must not continue as new at every
// check.
func TestAgeWithoutExecutionStartTime(t *testing.T) {
	f := newFixture(t, nil)
	s := f.start(t, "old", simulatedSpec(monitor.MaxCompleteAfterChecks, 60, monitor.MaxTimeoutSeconds))
	s.Check.CheckCount, s.Check.GenerationChecks = 40, 10
	ctx := context.Background()
	f.clock.Set(tStart.Add(monitor.MaxGenerationAge - time.Minute))
	s, err := f.tasks.Check(ctx, monitor.TaskInput{State: s})
	if err != nil {
		t.Fatal(err)
	}
	if s.Check.Rollover || s.Check.CheckCount != 41 {
		t.Fatalf("check before the age = %+v, want a check", s.Check)
	}
	f.clock.Set(tStart.Add(monitor.MaxGenerationAge))
	s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Check.Rollover || s.Check.NextGeneration != 1 || s.Check.CheckCount != 41 || s.Check.NextExecutionName != monitor.ExecutionName("old", monitor.RunTagOf(tStart), 1) {
		t.Fatalf("check at the age = %+v; want a rollover to generation 1", s.Check)
	}
	s = monitor.State{InstanceID: s.InstanceID, Generation: 1, StartedAt: s.StartedAt, ExpiresAt: s.ExpiresAt, Spec: s.Spec, Check: s.Check}
	for want := 42; want <= 43; want++ {
		if s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s}); err != nil {
			t.Fatal(err)
		}
		if s.Check.Rollover || s.Check.CheckCount != want || s.Check.NextExecutionName != "" {
			t.Fatalf("check of generation 1 = %+v, want check %d", s.Check, want)
		}
	}
}

// A generation continues as new when its estimated history reaches the
// budget: after ChecksPerGeneration checks when no check was retried,
// sooner when retries (3 history events each) add up, so that even checks
// retried all 20 times keep the history far below Step Functions' 25,000
// events.
func TestRolloverCountsRetries(t *testing.T) {
	tests := []struct {
		name    string
		retries func(check int) int // $$.State.RetryCount of the check's last attempt
		want    int                 // checks before the rollover
	}{
		{"no retries", func(int) int { return 0 }, monitor.ChecksPerGeneration},
		// 1,000 × 9 + 60 events: the budget is reached 6 checks sooner.
		{"one check retried 20 times", func(n int) int { return map[bool]int{true: 20}[n == 500] }, 994},
		// 12 events a check.
		{"every check retried once", func(int) int { return 1 }, 750},
		// 69 events a check: 131 checks make 9,039.
		{"every check retried 20 times", func(int) int { return 20 }, 131},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.tasks.Checkers[monitor.TargetSimulated] = monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
				return monitor.Observation{Status: monitor.StatusRunning}, nil
			})
			ctx := context.Background()
			s := f.start(t, "budget", simulatedSpec(monitor.MaxCompleteAfterChecks, 5, 10_000_000))
			events := 0 // the generation's history so far, as Step Functions counts it
			for n := 1; ; n++ {
				if n > 2*monitor.ChecksPerGeneration {
					t.Fatalf("no rollover after %d checks", n-1)
				}
				r := tt.retries(n)
				var err error
				if s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s, RetryCount: r}); err != nil {
					t.Fatal(err)
				}
				if s.Check.Rollover {
					if got := s.Check.GenerationChecks; got != tt.want {
						t.Errorf("rollover after %d checks, want %d", got, tt.want)
					}
					if s.Check.CheckCount != n-1 {
						t.Errorf("the rollover's Check checked: check count %d, want %d", s.Check.CheckCount, n-1)
					}
					break
				}
				events += monitor.EventsPerCheck + monitor.EventsPerRetry*r
				if s.Check.GenerationChecks != n {
					t.Fatalf("check %d: generation checks %d", n, s.Check.GenerationChecks)
				}
				f.clock.Set(f.clock.Now().Add(time.Duration(s.Check.WaitSeconds) * time.Second))
			}
			if events >= 25_000/2 {
				t.Errorf("the generation's checks made about %d history events, want far below 25,000", events)
			}
			// The next generation starts counting afresh.
			s.Generation = s.Check.NextGeneration
			s, err := f.tasks.Check(ctx, monitor.TaskInput{State: s, RetryCount: 2})
			if err != nil {
				t.Fatal(err)
			}
			if s.Check.Rollover || s.Check.GenerationChecks != 1 || s.Check.GenerationRetries != 2 {
				t.Errorf("first check of the next generation: %+v, want 1 check and 2 retries", s.Check)
			}
		})
	}
}

// The polling interval, the backoff and a rate limit's NotBefore hold
// across a continue-as-new as between any two checks.
func TestRolloverKeepsTheInterval(t *testing.T) {
	tests := []struct {
		name      string
		backoff   *monitor.Backoff
		notBefore time.Duration // after the check, 0 for none
		want      []time.Duration
	}{
		{"interval", nil, 0, []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second}},
		{"backoff", &monitor.Backoff{Multiplier: 2, MaxIntervalSeconds: 1000}, 0,
			[]time.Duration{20 * time.Second, 40 * time.Second, 80 * time.Second}},
		{"not before", nil, time.Minute, []time.Duration{time.Minute, time.Minute, time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var checked []time.Time
			f := newFixture(t, nil)
			f.tasks.Checkers[monitor.TargetSimulated] = monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
				now := f.clock.Now()
				checked = append(checked, now)
				obs := monitor.Observation{Status: monitor.StatusRunning}
				if len(checked) == 4 {
					obs = monitor.Observation{Status: monitor.StatusCompleted, Done: true}
				}
				if tt.notBefore > 0 {
					obs.NotBefore = now.Add(tt.notBefore)
				}
				return obs, nil
			})
			spec := simulatedSpec(monitor.MaxCompleteAfterChecks, 10, 100_000)
			spec.Backoff = tt.backoff
			s := f.start(t, "r", spec)
			// The first of the four checks is the generation's last but one.
			s.Check.CheckCount = monitor.ChecksPerGeneration - 2
			s.Check.GenerationChecks = monitor.ChecksPerGeneration - 2
			s.Check.IntervalSeconds = 10
			s, _ = f.run(t, s)
			if !s.Check.Done || len(checked) != 4 || s.Generation != 1 {
				t.Fatalf("%d checks, generation %d, check %+v", len(checked), s.Generation, s.Check)
			}
			for i, want := range tt.want {
				if got := checked[i+1].Sub(checked[i]); got != want {
					t.Errorf("check %d to %d: %s, want %s", i+1, i+2, got, want)
				}
			}
		})
	}
}

func TestCheckAfterTerminateStops(t *testing.T) {
	f := newFixture(t, nil)
	s := f.start(t, "term", simulatedSpec(10, 5, 60))
	ctx := context.Background()
	err := f.store.Finish(ctx, "term", monitor.Finish{RuntimeStatus: monitor.RuntimeTerminated,
		Output: monitor.Output{JobID: "term", FinalStatus: monitor.FinalTerminated}, At: tStart})
	if err != nil {
		t.Fatal(err)
	}
	s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Check.Done || s.Check.Output == nil || s.Check.Output.FinalStatus != monitor.FinalTerminated {
		t.Errorf("check = %+v", s.Check)
	}
}

func TestCheckErrorsKeepTheirNames(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"transient", &monitor.TransientError{Message: "target busy"}, "TransientError"},
		{"permanent", &monitor.PermanentError{Message: "repo not found"}, "PermanentError"},
		{"unavailable kind", monitor.Errorf(monitor.KindUnavailable, "x", "down"), "TransientError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
				return monitor.Observation{}, tt.err
			}))
			_, err := f.tasks.Check(context.Background(), monitor.TaskInput{State: f.start(t, "e", simulatedSpec(1, 5, 60))})
			if got := lambdaerr.Name(err); got != tt.want {
				t.Errorf("error name = %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

// A target type or alert channel with no checker or sender, or with a nil
// one, is a *PermanentError of the deployment (not of the monitor's input),
// and nothing panics.
func TestMissingCheckerOrSender(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		checkers map[string]monitor.Checker
		senders  map[string]monitor.Sender
		want     string
	}{
		{"no checker", map[string]monitor.Checker{}, nil, "no checker for target type"},
		{"nil checker", map[string]monitor.Checker{monitor.TargetGitHub: nil}, nil, "no checker for target type"},
		{"no sender", nil, map[string]monitor.Sender{}, "webhook channel is not configured"},
		{"nil sender", nil, map[string]monitor.Sender{monitor.ChannelWebhook: nil}, "webhook channel is not configured"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, openIssues(5))
			s := f.start(t, "m", githubSpec())
			var err error
			if tt.checkers != nil {
				f.tasks.Checkers = tt.checkers
				_, err = f.tasks.Check(ctx, monitor.TaskInput{State: s})
			} else {
				f.tasks.Senders = tt.senders
				if s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s}); err != nil || !s.Check.ConditionMet {
					t.Fatalf("check: %v %+v", err, s.Check)
				}
				_, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
			}
			var pe *monitor.PermanentError
			if !errors.As(err, &pe) || pe.Input || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %#v, want a *monitor.PermanentError of the deployment saying %q", err, tt.want)
			}
		})
	}
}

// A check that fails for good on the monitor's own input ends that monitor
// Failed and returns no error: Step Functions sees a successful check, so
// the functions' error alarms and the failed-execution alarm see faults of
// the deployment only. A permanent failure that is not the input's stays
// an error for the state machine (TestCheckErrorsKeepTheirNames).
func TestCheckInputFailureEndsTheMonitor(t *testing.T) {
	ctx := context.Background()
	calls := 0
	f := newFixture(t, monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
		calls++
		if calls == 1 {
			return monitor.Observation{Status: monitor.StatusRunning, Detail: "12 open"}, nil
		}
		return monitor.Observation{}, monitor.InputError("github: repository a/b not found or private")
	}))
	s := f.start(t, "typo", simulatedSpec(5, 60, 3600))
	s, err := f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
	if err != nil || s.Check.Done {
		t.Fatalf("check 1: %v %+v", err, s.Check)
	}
	f.clock.Set(tStart.Add(time.Minute))
	s, err = f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
	if err != nil {
		t.Fatalf("check 2: err = %v (%s), want the failure as data", err, lambdaerr.Name(err))
	}
	out := s.Check.Output
	if !s.Check.Done || out == nil || out.FinalStatus != monitor.FinalFailed || out.ChecksPerformed != 2 ||
		out.Detail != "check #2: github: repository a/b not found or private" {
		t.Fatalf("check 2: %+v, output %+v", s.Check, out)
	}
	rec, err := f.store.Get(ctx, "typo")
	if err != nil {
		t.Fatal(err)
	}
	if rec.RuntimeStatus != monitor.RuntimeFailed || rec.Output == nil || rec.Output.Detail != out.Detail {
		t.Errorf("record: %s, output %+v", rec.RuntimeStatus, rec.Output)
	}
	if cs := rec.CustomStatus; cs == nil || cs.Status != monitor.StatusError || cs.CheckCount != 2 || !strings.Contains(cs.Detail, "not found") {
		t.Errorf("custom status = %+v, want the failed check", rec.CustomStatus)
	}
}

// An alert its destination rejects for good (a webhook answering 404, a
// phone number that is not one) ends the monitor Failed with the alert's
// outcome, without an error for the state machine; a sender's permanent
// fault of the deployment stays an error ("permanent failure is not
// retried" in TestAlertRetriesTransientFailures).
func TestAlertRejectedEndsTheMonitor(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, openIssues(5))
	f.sender.failures = []error{monitor.InputError("alerts: webhook hooks.example.com answered HTTP 404: no such hook")}
	s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "hook", githubSpec())})
	if err != nil || !s.Check.ConditionMet {
		t.Fatalf("check: %v %+v", err, s.Check)
	}
	s, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
	if err != nil {
		t.Fatalf("alert: err = %v, want the failure as data", err)
	}
	out := s.Check.Output
	if !s.Check.Done || s.Check.ConditionMet || out == nil || out.FinalStatus != monitor.FinalFailed || out.AlertStatus != "failed" ||
		!strings.Contains(out.Detail, "answered HTTP 404") || f.sender.attempts != 1 {
		t.Fatalf("alert: %+v, output %+v after %d attempts", s.Check, out, f.sender.attempts)
	}
	rec, err := f.store.Get(ctx, "hook")
	if err != nil {
		t.Fatal(err)
	}
	if rec.RuntimeStatus != monitor.RuntimeFailed || rec.Alert.Status != monitor.AlertFailed || rec.Output == nil || rec.Output.AlertStatus != "failed" {
		t.Errorf("record: %s, alert %+v, output %+v", rec.RuntimeStatus, rec.Alert, rec.Output)
	}
}

// A check retried after its first attempt recorded a status (its answer
// was lost) may see the job finished: the record finishes with what the
// retry saw, not with the first attempt's Running status and next check.
func TestRetriedCheckFinishesWithItsOwnStatus(t *testing.T) {
	ctx := context.Background()
	attempt := 0
	f := newFixture(t, monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
		attempt++
		if attempt == 1 {
			return monitor.Observation{Status: monitor.StatusRunning, Detail: "job is Running"}, nil
		}
		return monitor.Observation{Status: monitor.StatusCompleted, Done: true, Detail: "job is Completed"}, nil
	}))
	s := f.start(t, "j", simulatedSpec(4, 5, 300))
	if _, err := f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec"}); err != nil {
		t.Fatal(err)
	}
	// The same check again, as Step Functions retries it.
	s, err := f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec", RetryCount: 1})
	if err != nil || !s.Check.Done {
		t.Fatalf("retry: %v %+v", err, s.Check)
	}
	rec, err := f.store.Get(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	if rec.RuntimeStatus != monitor.RuntimeCompleted || rec.CustomStatus == nil || rec.CustomStatus.Status != monitor.StatusCompleted ||
		rec.CustomStatus.Detail != "job is Completed" || !rec.CustomStatus.NextCheckTime.IsZero() {
		t.Errorf("record %s, custom status %+v; want Completed as the retry saw it", rec.RuntimeStatus, rec.CustomStatus)
	}
}

// Check n run again by its execution (after a crash between the record
// and the engine's commit, or a retry after a lost answer) observes the
// target anew and decides on that: the record shows the last attempt's
// status, detail and next check time, and counts the check once.
func TestRerunCheckRecordsTheLastAttempt(t *testing.T) {
	ctx := context.Background()
	attempt := 0
	f := newFixture(t, monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
		attempt++
		if attempt == 1 {
			return monitor.Observation{Status: monitor.StatusError, Detail: "HTTP 503"}, nil
		}
		return monitor.Observation{Status: monitor.StatusRunning, Detail: "job is Running"}, nil
	}))
	s := f.start(t, "rerun", simulatedSpec(4, 5, 300))
	if _, err := f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(tStart.Add(7 * time.Second))
	next, err := f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec"})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := f.store.Get(ctx, "rerun")
	if err != nil {
		t.Fatal(err)
	}
	cs := rec.CustomStatus
	if cs == nil || cs.CheckCount != 1 || cs.Status != monitor.StatusRunning || cs.Detail != "job is Running" ||
		monitor.FormatTimestamp(cs.NextCheckTime) != next.Check.NextCheckAt {
		t.Errorf("custom status %+v; want check 1 as the re-run saw it: Running, no detail, next check at %s", cs, next.Check.NextCheckAt)
	}
}

// The same for a retry that meets the alert condition where the recorded
// attempt did not: the monitor's final record shows the check the alert
// reports, its open issues and time, and no next check.
func TestRetriedCheckThatMeetsTheConditionIsTheOneRecorded(t *testing.T) {
	ctx := context.Background()
	attempt := 0
	f := newFixture(t, monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
		attempt++
		n := 2
		if attempt > 1 {
			n = 5
		}
		return monitor.Observation{Status: monitor.StatusRunning, OpenIssues: &n, ConditionMet: n >= 3, Detail: fmt.Sprintf("%d open", n)}, nil
	}))
	s := f.start(t, "gh", githubSpec())
	if _, err := f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(tStart.Add(30 * time.Second))
	s, err := f.tasks.Check(ctx, monitor.TaskInput{State: s, ExecutionArn: "arn:exec", RetryCount: 1})
	if err != nil || !s.Check.ConditionMet {
		t.Fatalf("retry: %v %+v", err, s.Check)
	}
	if _, err := f.tasks.Alert(ctx, monitor.TaskInput{State: s}); err != nil {
		t.Fatal(err)
	}
	rec, err := f.store.Get(ctx, "gh")
	if err != nil {
		t.Fatal(err)
	}
	cs := rec.CustomStatus
	if cs == nil || cs.OpenIssues == nil || *cs.OpenIssues != 5 || cs.Detail != "5 open" || !cs.NextCheckTime.IsZero() ||
		!cs.LastCheckTime.Equal(f.sender.last.Data.ObservedAt) {
		t.Errorf("custom status %+v, alert observed at %s; want the retry's check: 5 open, its time, no next check",
			cs, f.sender.last.Data.ObservedAt)
	}
}

func githubSpec() monitor.Spec {
	return monitor.Spec{
		Target:                 monitor.Target{Type: monitor.TargetGitHub, Repo: "a/b", MinOpenIssues: 3},
		PollingIntervalSeconds: 60,
		TimeoutSeconds:         3600,
		Alert:                  &monitor.Alert{WebhookURL: "https://hooks.example.com/x"},
	}
}

// openIssues is a checker whose repository gains an issue per check.
func openIssues(start int) monitor.Checker {
	return monitor.CheckerFunc(func(_ context.Context, req monitor.CheckRequest) (monitor.Observation, error) {
		n := start + req.Number - 1
		return monitor.Observation{Status: monitor.StatusRunning, OpenIssues: &n, ConditionMet: n >= req.Target.MinOpenIssues}, nil
	})
}

func TestAlertSentOnceAndFinishes(t *testing.T) {
	f := newFixture(t, openIssues(1))
	s, invocations := f.run(t, f.start(t, "gh", githubSpec()))
	if invocations != 3 {
		t.Errorf("checks = %d, want 3 (1, 2, then 3 open issues)", invocations)
	}
	if f.sender.sent != 1 || s.Check.Output.FinalStatus != monitor.FinalAlerted || s.Check.Output.AlertStatus != "sent" {
		t.Fatalf("sent = %d, output = %+v", f.sender.sent, s.Check.Output)
	}
	// Step Functions retries the Alert task (say its response was lost):
	// nothing is sent again.
	for i := 0; i < 3; i++ {
		again, err := f.tasks.Alert(context.Background(), monitor.TaskInput{State: s})
		if err != nil {
			t.Fatal(err)
		}
		if again.Check.Output.AlertStatus != "sent" {
			t.Errorf("retry %d: alert status %q", i, again.Check.Output.AlertStatus)
		}
	}
	if f.sender.sent != 1 {
		t.Errorf("sent %d times, want once", f.sender.sent)
	}
	rec, _ := f.store.Get(context.Background(), "gh")
	if rec.Alert.Status != monitor.AlertSent || rec.Output.FinalStatus != monitor.FinalAlerted {
		t.Errorf("record alert = %+v, output = %+v", rec.Alert, rec.Output)
	}
}

func TestAlertRetriesTransientFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("recovers within the attempts", func(t *testing.T) {
		f := newFixture(t, openIssues(5))
		f.sender.failures = []error{&monitor.TransientError{Message: "503"}, &monitor.TransientError{Message: "timeout"}}
		s, _ := f.run(t, f.start(t, "flaky", githubSpec()))
		if f.sender.sent != 1 || f.sender.attempts != 3 || s.Check.Output.AlertStatus != "sent" {
			t.Errorf("sent %d in %d attempts, output %+v", f.sender.sent, f.sender.attempts, s.Check.Output)
		}
		rec, _ := f.store.Get(ctx, "flaky")
		if rec.Alert.Attempts != 3 {
			t.Errorf("recorded attempts = %d, want 3", rec.Alert.Attempts)
		}
	})
	t.Run("hands the retry to the state machine", func(t *testing.T) {
		f := newFixture(t, openIssues(5))
		f.sender.failures = []error{errT(), errT(), errT(), errT()}
		s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "down", githubSpec())})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
		if lambdaerr.Name(err) != "TransientError" {
			t.Fatalf("err = %v, want a TransientError", err)
		}
		rec, _ := f.store.Get(ctx, "down")
		if rec.Alert.Status != monitor.AlertFailed || rec.Alert.LastError == "" {
			t.Errorf("alert state = %+v, want failed with the error", rec.Alert)
		}
		// The state machine's retry: the provider is back.
		s, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
		if err != nil || f.sender.sent != 1 || s.Check.Output.AlertStatus != "sent" {
			t.Errorf("retry: err %v, sent %d", err, f.sender.sent)
		}
	})
	t.Run("permanent failure is not retried", func(t *testing.T) {
		f := newFixture(t, openIssues(5))
		f.sender.failures = []error{&monitor.PermanentError{Message: "invalid number"}}
		s, _ := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "bad", githubSpec())})
		_, err := f.tasks.Alert(ctx, monitor.TaskInput{State: s})
		var pe *monitor.PermanentError
		if !errors.As(err, &pe) || f.sender.attempts != 1 {
			t.Errorf("err = %v after %d attempts, want a PermanentError after 1", err, f.sender.attempts)
		}
	})
}

func errT() error { return &monitor.TransientError{Message: "503"} }

// keySender records the IdempotencyKey of every message it is given to
// send, and fails while failures lasts.
type keySender struct {
	keys     []string
	failures int
}

func (s *keySender) Send(_ context.Context, _ monitor.Alert, msg monitor.Message) (string, error) {
	s.keys = append(s.keys, msg.IdempotencyKey)
	if s.failures > 0 {
		s.failures--
		return "", errT()
	}
	return "msg-1", nil
}

// An alert's idempotency key names the monitor's run: the same on every
// attempt, on the state machine's retries of the alert task and in
// every continue-as-new generation of one monitor, another for a later
// monitor of the same instance id (it was the bare instance id, so that
// a receiver dropping repeated keys dropped the later monitor's alert).
func TestAlertIdempotencyKeyNamesTheRun(t *testing.T) {
	ctx := context.Background()
	alertKeys := func(t *testing.T, at time.Time, generation, failures int) []string {
		t.Helper()
		f := newFixture(t, openIssues(5))
		ks := &keySender{failures: failures}
		f.tasks.Senders[monitor.ChannelWebhook] = ks
		s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.startAt(t, "nightly", githubSpec(), at)})
		if err != nil || !s.Check.ConditionMet {
			t.Fatalf("check: %v %+v", err, s.Check)
		}
		s.Generation = generation
		for range 3 { // the state machine's retries, until one is sent
			if _, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s}); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("alert: %v", err)
		}
		return ks.keys
	}
	first := alertKeys(t, tStart, 0, 4) // 3 attempts, then the retry's second
	want := monitor.AlertKey("nightly", tStart)
	if len(first) != 5 {
		t.Fatalf("keys %q, want 5 attempts", first)
	}
	for _, k := range first {
		if k != want {
			t.Errorf("keys %q, want each %q", first, want)
			break
		}
	}
	if got := alertKeys(t, tStart, 7, 0); len(got) != 1 || got[0] != want {
		t.Errorf("generation 7 of the same monitor: keys %q, want [%q]", got, want)
	}
	again := tStart.Add(91 * 24 * time.Hour).Add(123 * time.Microsecond)
	if got := alertKeys(t, again, 0, 0); len(got) != 1 || got[0] == want || got[0] != monitor.AlertKey("nightly", again) {
		t.Errorf("a later monitor of the same id: keys %q, want [%q], not %q", got, monitor.AlertKey("nightly", again), want)
	}
}

// preparingSender is a monitor.Preparer over a countingSender: Prepare
// notes the alert's state in the store when it runs and fails while
// prepareFailures lasts.
type preparingSender struct {
	*countingSender
	store           monitor.Store
	id              string
	prepareFailures int
	seen            []monitor.AlertStatus // the alert status at each Prepare
}

func (p *preparingSender) Prepare(ctx context.Context, _ monitor.Alert) monitor.Sender {
	rec, _ := p.store.Get(ctx, p.id)
	p.seen = append(p.seen, rec.Alert.Status)
	if p.prepareFailures > 0 {
		p.prepareFailures--
		return failedPreparation{}
	}
	return p.countingSender
}

// failedPreparation is the Sender a failed preparation returns.
type failedPreparation struct{}

func (failedPreparation) Send(context.Context, monitor.Alert, monitor.Message) (string, error) {
	return "", &monitor.TransientError{Message: "read credentials: deadline exceeded"}
}

// An alert's ObservedAt is the time of the check that met the condition,
// the custom status's last check time, on every attempt of the alert
// task, however late it runs. A state written before checks kept their
// time has the alert's time instead.
func TestAlertObservedAtIsTheLastCheckTime(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, openIssues(5))
	s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "obs", githubSpec()), ExecutionArn: "arn:exec"})
	if err != nil || !s.Check.ConditionMet {
		t.Fatalf("check: %v %+v", err, s.Check)
	}
	rec, _ := f.store.Get(ctx, "obs")
	checkedAt := rec.CustomStatus.LastCheckTime
	if !checkedAt.Equal(tStart) {
		t.Fatalf("last check time %s, want %s", checkedAt, tStart)
	}
	f.sender.failures = []error{errT(), errT(), errT()} // the first task fails; the state machine retries it
	for i, delay := range []time.Duration{time.Minute, 3 * time.Minute} {
		f.clock.Set(tStart.Add(delay))
		f.tasks.Alert(ctx, monitor.TaskInput{State: s})
		if got := f.sender.last.Data.ObservedAt; i == 1 && !got.Equal(checkedAt) {
			t.Errorf("ObservedAt = %s, want the last check's time %s", got, checkedAt)
		}
	}

	// A state from before CheckedAt.
	old := s
	old.InstanceID = "old"
	old.Check.CheckedAt = time.Time{}
	f2 := newFixture(t, openIssues(5))
	f2.start(t, "old", githubSpec())
	f2.clock.Set(tStart.Add(time.Minute))
	if _, err := f2.tasks.Alert(ctx, monitor.TaskInput{State: old}); err != nil {
		t.Fatal(err)
	}
	if got := f2.sender.last.Data.ObservedAt; !got.Equal(tStart.Add(time.Minute)) {
		t.Errorf("old state: ObservedAt = %s, want the alert's time %s", got, tStart.Add(time.Minute))
	}
}

// A sender's preparation (reading credentials, which may stall) runs
// before the alert is claimed, never while the claim says "sending"; a
// failed one is recorded as a failed send and tried again, and a retried
// task whose alert was sent does not need it to succeed.
func TestAlertPreparesBeforeTheClaim(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, openIssues(5))
	p := &preparingSender{countingSender: f.sender, store: f.store, id: "prep", prepareFailures: 3}
	f.tasks.Senders[monitor.ChannelWebhook] = p
	s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "prep", githubSpec())})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
	if lambdaerr.Name(err) != "TransientError" || f.sender.attempts != 0 {
		t.Fatalf("err = %v after %d sends, want a TransientError after none", err, f.sender.attempts)
	}
	rec, _ := f.store.Get(ctx, "prep")
	if rec.Alert.Status != monitor.AlertFailed || !strings.Contains(rec.Alert.LastError, "read credentials") {
		t.Errorf("alert state = %+v, want failed with the preparation's error", rec.Alert)
	}
	// The state machine's retry: the preparation works.
	s, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
	if err != nil || f.sender.sent != 1 || s.Check.Output.AlertStatus != "sent" {
		t.Fatalf("retry: err %v, sent %d", err, f.sender.sent)
	}
	// A retry after the send, with the preparation failing again.
	p.prepareFailures = 1
	s, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
	if err != nil || f.sender.sent != 1 || s.Check.Output.AlertStatus != "sent" {
		t.Errorf("retry after the send: err %v, sent %d, output %+v", err, f.sender.sent, s.Check.Output)
	}
	for i, st := range p.seen {
		if st == monitor.AlertSending {
			t.Errorf("Prepare %d ran while the alert was claimed", i)
		}
	}
	if len(p.seen) != 5 {
		t.Errorf("Prepare ran %d times, want 5 (3 attempts, a retry, a retry after the send)", len(p.seen))
	}
}

// A crash between the claim and the record leaves the alert "sending": it
// is never sent again, and the outcome is reported as unknown.
func TestAlertInterruptedSendIsNotRepeated(t *testing.T) {
	f := newFixture(t, openIssues(5))
	ctx := context.Background()
	s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "crash", githubSpec())})
	if err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := f.store.ClaimAlert(ctx, "crash", time.Time{}, monitor.ChannelWebhook, tStart); err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	s, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
	if err != nil {
		t.Fatal(err)
	}
	if f.sender.attempts != 0 || s.Check.Output.AlertStatus != "unknown" {
		t.Errorf("attempts = %d, alert status %q", f.sender.attempts, s.Check.Output.AlertStatus)
	}
}

// A send whose outcome the sender cannot tell (no answer after the request
// was written) is not tried again, neither within the task nor on the
// state machine's retry: the claim stays "sending" and the outcome is
// reported as unknown, with the error in the output's detail.
func TestAlertUnknownOutcomeIsNotResent(t *testing.T) {
	f := newFixture(t, openIssues(5))
	ctx := context.Background()
	f.sender.failures = []error{&monitor.OutcomeUnknownError{Message: "no answer within 10s"}}
	s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "late", githubSpec())})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the task, then a retry of it
		got, err := f.tasks.Alert(ctx, monitor.TaskInput{State: s})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		if got.Check.Output.AlertStatus != "unknown" {
			t.Errorf("run %d: alert status %q, want unknown", i, got.Check.Output.AlertStatus)
		}
	}
	if f.sender.attempts != 1 {
		t.Errorf("send attempts = %d, want 1", f.sender.attempts)
	}
	rec, _ := f.store.Get(ctx, "late")
	if rec.Alert.Status != monitor.AlertSending || rec.Alert.Attempts != 1 {
		t.Errorf("alert state = %+v, want sending after 1 attempt", rec.Alert)
	}
	if rec.Output == nil || !strings.Contains(rec.Output.Detail, "no answer within 10s") {
		t.Errorf("output = %+v, want the error in the detail", rec.Output)
	}
}

// An unknown outcome is logged at ERROR when the deployment's provider
// did not answer (SNS, Twilio: the operators' alarm counts ERROR lines),
// at WARN when the caller's own webhook did not.
func TestAlertUnknownOutcomeLogLevel(t *testing.T) {
	for _, tt := range []struct {
		name  string
		alert monitor.Alert
		level string
	}{
		{"webhook", monitor.Alert{WebhookURL: "https://hooks.example.com/x"}, "WARN"},
		{"sns topic", monitor.Alert{TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts"}, "ERROR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, openIssues(5))
			var log bytes.Buffer
			f.tasks.Logger = slog.New(slog.NewJSONHandler(&log, nil))
			f.sender.failures = []error{&monitor.OutcomeUnknownError{Message: "no answer within 15s"}}
			spec := githubSpec()
			spec.Alert = &tt.alert
			ctx := context.Background()
			s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "late", spec)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.tasks.Alert(ctx, monitor.TaskInput{State: s, RetryByWait: true}); err != nil {
				t.Fatal(err)
			}
			want := `"level":"` + tt.level + `","msg":"alert outcome unknown; not sending again"`
			if !strings.Contains(log.String(), want) {
				t.Errorf("log %s, want %s", log.String(), want)
			}
		})
	}
}

// A monitor terminated while its alert is due, before the alert task runs
// or while it waits to retry a failed send, sends nothing more.
func TestAlertAfterTerminateIsNotSent(t *testing.T) {
	for _, tc := range []struct {
		name         string
		failures     []error // sends that fail before the terminate
		wantAttempts int
	}{
		{"terminated before the task", nil, 0},
		{"terminated while retrying", []error{errT()}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, openIssues(5))
			ctx := context.Background()
			s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "term", githubSpec())})
			if err != nil || !s.Check.ConditionMet {
				t.Fatalf("check: %v, condition met %t", err, s.Check.ConditionMet)
			}
			terminate := func() {
				if err := f.store.Finish(ctx, "term", monitor.Finish{RuntimeStatus: monitor.RuntimeTerminated,
					Output: monitor.Output{FinalStatus: monitor.FinalTerminated}, At: tStart}); err != nil {
					t.Fatal(err)
				}
			}
			if len(tc.failures) == 0 {
				terminate()
			} else {
				f.sender.failures = tc.failures
				f.tasks.Sleep = func(context.Context, time.Duration) error { terminate(); return nil }
			}
			s, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
			if err != nil {
				t.Fatal(err)
			}
			if f.sender.sent != 0 || f.sender.attempts != tc.wantAttempts || s.Check.Output.AlertStatus != "cancelled" {
				t.Errorf("sent %d in %d attempts, alert status %q; want none sent in %d, cancelled",
					f.sender.sent, f.sender.attempts, s.Check.Output.AlertStatus, tc.wantAttempts)
			}
			if rec, _ := f.store.Get(ctx, "term"); rec.RuntimeStatus != monitor.RuntimeTerminated || rec.Alert.Status == monitor.AlertSent {
				t.Errorf("record %s with alert %q, want Terminated and not sent", rec.RuntimeStatus, rec.Alert.Status)
			}
		})
	}
}

// alertAfter runs job42, an HTTP job monitor on url whose check observes
// obs, with a webhook alert of message, and returns the one alert sent.
func alertAfter(t *testing.T, obs monitor.Observation, url, message string) monitor.Message {
	t.Helper()
	f := newFixture(t, nil)
	f.tasks.Checkers[monitor.TargetHTTP] = monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
		return obs, nil
	})
	spec := monitor.Spec{
		JobID:                  "job42",
		Target:                 monitor.Target{Type: monitor.TargetHTTP, URL: url},
		PollingIntervalSeconds: 60, TimeoutSeconds: 3600,
		Alert: &monitor.Alert{WebhookURL: "https://hooks.example.com/x", Message: message},
	}
	f.run(t, f.start(t, "job42", spec))
	if f.sender.sent != 1 {
		t.Fatalf("sent %d alerts, want 1", f.sender.sent)
	}
	return f.sender.last
}

// A template that fails with the alert's data (here one a start accepted
// before templates lost time.Time's methods) sends the default message and
// says so in the log, naming the monitor and the error.
func TestAlertTemplateFallbackIsLogged(t *testing.T) {
	f := newFixture(t, nil)
	var logged bytes.Buffer
	f.tasks.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	spec := simulatedSpec(1, 60, 3600)
	spec.Alert = &monitor.Alert{WebhookURL: "https://hooks.example.com/x", Message: `at {{.ObservedAt.Format "15:04"}}`}
	f.run(t, f.start(t, "fmt", spec))
	if f.sender.sent != 1 || f.sender.last.Text != "JobMonitor fmt: job fmt is Completed." {
		t.Fatalf("sent %d alerts, the last %q; want the default message", f.sender.sent, f.sender.last.Text)
	}
	if out := logged.String(); !strings.Contains(out, "default message") || !strings.Contains(out, "instanceId=fmt") || !strings.Contains(out, "Format") {
		t.Errorf("log = %q, want a warning naming the monitor and the template's error", out)
	}
}

// Each failed send is logged at WARN with its attempt number, the
// webhook redacted as the API shows it even should a sender's error
// quote the URL whole, and no phone number.
// A monitor terminated and purged while its alert is being sent (its
// record said alert_status unknown, a finished monitor, so a client purged
// it) leaves nothing to record the send's result in: that is no ERROR to
// log. The task's error, if any, is the record's absence, as for any task
// of a purged monitor; the execution is stopped and takes no result.
func TestPurgeDuringAlertSend(t *testing.T) {
	for _, tt := range []struct {
		name        string
		sendErr     error
		purgedFirst bool // terminated and purged before the alert task claims
	}{
		{"sent", nil, false},
		{"failed", errT(), false},
		{"purged before the claim", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, openIssues(5))
			var logged bytes.Buffer
			f.tasks.Logger = slog.New(slog.NewTextHandler(&logged, nil))
			api := &monitor.API{Store: f.store, Workflow: &fakeWorkflow{}, Clock: f.clock}
			sender := &terminatingSender{api: api, id: "gp", err: tt.sendErr, purge: true}
			f.tasks.Senders[monitor.ChannelWebhook] = sender
			s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "gp", githubSpec()), ExecutionArn: "arn:exec"})
			if err != nil || !s.Check.ConditionMet {
				t.Fatalf("check: %v, condition met %t", err, s.Check.ConditionMet)
			}
			if tt.purgedFirst {
				if _, err := api.Terminate(ctx, "gp", "stop it"); err != nil {
					t.Fatal(err)
				}
				if err := api.Purge(ctx, "gp"); err != nil {
					t.Fatal(err)
				}
			}
			// The task ends quietly, its output saying why (it failed,
			// a function error on AWS, when the finish or the claim
			// found no record).
			got, err := f.tasks.Alert(ctx, monitor.TaskInput{State: s})
			if err != nil {
				t.Fatalf("alert: %v, want the task to end without an error", err)
			}
			if out := got.Check.Output; !got.Check.Done || out == nil || out.Detail != "the monitor's record was purged" {
				t.Errorf("alert's state: done %t, output %+v; want done, detail \"the monitor's record was purged\"", got.Check.Done, out)
			}
			if tt.purgedFirst && sender.sent != 0 {
				t.Errorf("sent %d alerts for a monitor purged before its alert", sender.sent)
			}
			if _, err := f.store.Get(ctx, "gp"); !monitor.IsKind(err, monitor.KindNotFound) {
				t.Fatalf("record after the purge: %v, want not found", err)
			}
			if strings.Contains(logged.String(), "level=ERROR") {
				t.Errorf("an ERROR for a monitor purged by its user:\n%s", logged.String())
			}
		})
	}
}

func TestAlertFailedSendIsLogged(t *testing.T) {
	const hook = "https://user:pw@hooks.example.com/services/T0/KEY?sig=abc"
	for _, alert := range []monitor.Alert{{WebhookURL: hook}, {Phone: "+14255550100"}} {
		f := newFixture(t, nil)
		var logged bytes.Buffer
		f.tasks.Logger = slog.New(slog.NewTextHandler(&logged, nil))
		f.sender.failures = []error{&monitor.TransientError{Message: "POST " + alert.WebhookURL + ": HTTP 503"}, errT()}
		if alert.Phone != "" {
			// Twilio's and SNS's messages may quote the number.
			f.sender.failures[0] = &monitor.TransientError{Message: "twilio: HTTP 503: Invalid 'To' Phone Number: " + alert.Phone + " (14255550100)"}
		}
		spec := simulatedSpec(1, 60, 3600)
		spec.Alert = &alert
		f.run(t, f.start(t, "logged", spec))
		out := logged.String()
		channel := alert.ChannelOf()
		for i, want := range []string{
			`level=WARN msg="alert send failed" instanceId=logged channel=` + channel + ` attempt=1`,
			`level=WARN msg="alert send failed" instanceId=logged channel=` + channel + ` attempt=2`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: log line %d missing: %q\n%s", channel, i+1, want, out)
			}
		}
		if alert.WebhookURL != "" && !strings.Contains(out, `to=https://(redacted)@hooks.example.com/(redacted) err="POST https://(redacted)@hooks.example.com/(redacted): HTTP 503"`) {
			t.Errorf("the webhook is not shown redacted:\n%s", out)
		}
		for _, secret := range []string{"KEY", "sig=abc", "pw@", "4255550100"} {
			if strings.Contains(out, secret) {
				t.Errorf("the log shows %q:\n%s", secret, out)
			}
		}
	}
}

// A send's error that quotes the alert's phone number (Twilio's and SNS's
// may) reaches the task's error, which the operators' log and the
// execution's history keep, without it.
func TestAlertTaskErrorHidesThePhone(t *testing.T) {
	f := newFixture(t, nil)
	quoting := &monitor.TransientError{Message: "twilio: HTTP 503: cannot reach +14255550100"}
	f.sender.failures = []error{quoting, quoting, quoting}
	spec := simulatedSpec(1, 60, 3600)
	spec.Alert = &monitor.Alert{Phone: "+14255550100"}
	s, err := f.tasks.Check(context.Background(), monitor.TaskInput{State: f.start(t, "ph", spec)})
	if err != nil || !s.Check.ConditionMet {
		t.Fatalf("check: %v", err)
	}
	_, err = f.tasks.Alert(context.Background(), monitor.TaskInput{State: s})
	if err == nil || !strings.Contains(err.Error(), "cannot reach (phone)") || strings.Contains(err.Error(), "4255550100") {
		t.Errorf("alert task's error %v, want the send's error without the number", err)
	}

	// A number the provider refuses fails the monitor on its input: the
	// output keeps the message, which its caller reads, and the log line
	// does not.
	f = newFixture(t, nil)
	var logged bytes.Buffer
	f.tasks.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	f.sender.failures = []error{monitor.InputError("twilio: HTTP 400, error 21211: Invalid 'To' Phone Number: +1 425-555-0100")}
	s, err = f.tasks.Check(context.Background(), monitor.TaskInput{State: f.start(t, "ph", spec)})
	if err != nil || !s.Check.ConditionMet {
		t.Fatalf("check: %v", err)
	}
	out, err := f.tasks.Alert(context.Background(), monitor.TaskInput{State: s})
	if err != nil || out.Check.Output == nil || !strings.Contains(out.Check.Output.Detail, "+1 425-555-0100") {
		t.Fatalf("alert: %v, output %+v; want the monitor failed with the provider's message", err, out.Check.Output)
	}
	if !strings.Contains(logged.String(), "monitor failed on its input") || strings.Contains(logged.String(), "555-0100") {
		t.Errorf("log shows the number:\n%s", logged.String())
	}
}

// An alert shows an HTTP target's URL as statuses do, without its query:
// the receivers of an alert need not see a token in the URL.
func TestAlertRedactsTargetURL(t *testing.T) {
	url := "https://jobs.example.com/jobs/42?token=s3cret#frag"
	msg := alertAfter(t, monitor.Observation{Status: monitor.StatusCompleted, Done: true}, url, "{{.Target}} is {{.Status}}")
	if want := monitor.RedactURL(url); msg.Data.Target != want || !strings.Contains(msg.Text, want) {
		t.Errorf("alert target %q, text %q; want %q", msg.Data.Target, msg.Text, want)
	}
	if strings.Contains(msg.Text+msg.Subject+msg.Data.Target, "s3cret") {
		t.Errorf("alert shows the URL's query: %+v", msg)
	}
}

func TestJobMonitorWithAlertReportsJobOutcome(t *testing.T) {
	f := newFixture(t, nil)
	spec := simulatedSpec(2, 5, 60)
	spec.Target.Outcome = monitor.StatusFailed
	spec.Alert = &monitor.Alert{WebhookURL: "https://hooks.example.com/x"}
	s, _ := f.run(t, f.start(t, "jobalert", spec))
	if f.sender.sent != 1 || s.Check.Output.FinalStatus != monitor.FinalFailed || s.Check.Output.ChecksPerformed != 2 {
		t.Errorf("sent %d, output %+v", f.sender.sent, s.Check.Output)
	}
}

// An alert's template sees the last check's detail, cut to
// monitor.MaxAlertDetail bytes in the state the workflow carries.
func TestAlertShowsCheckDetail(t *testing.T) {
	for _, tc := range []struct{ name, detail, want string }{
		{"short", "job state Failed: disk full", "job job42 Failed: [job state Failed: disk full]"},
		{"long", strings.Repeat("x", 1000), "job job42 Failed: [" + strings.Repeat("x", monitor.MaxAlertDetail-len("…")) + "…]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := alertAfter(t, monitor.Observation{Status: monitor.StatusFailed, Done: true, Detail: tc.detail},
				"https://jobs.example.com/jobs/42", "job {{.JobID}} {{.Status}}: [{{.Detail}}]")
			if got := msg.Text; got != tc.want {
				t.Errorf("alert text = %q, want %q", got, tc.want)
			}
			if got := msg.Data.Detail; !strings.Contains(tc.want, "["+got+"]") {
				t.Errorf("alert data detail = %q", got)
			}
		})
	}
}

// A monitor that finished on its alert has the detail of the check that
// ended it in its output, as every other finished monitor has its last
// check's, followed, when the send's outcome is unknown, by the send's
// error.
func TestAlertedOutputHasTheCheckDetail(t *testing.T) {
	const checkDetail = `status "FAILED"`
	for _, tc := range []struct {
		name    string
		failure error
		want    string
	}{
		{"sent", nil, checkDetail},
		{"unknown", &monitor.OutcomeUnknownError{Message: "no answer within 10s"}, checkDetail + "; webhook send: no answer within 10s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
				return monitor.Observation{Status: monitor.StatusFailed, Done: true, Detail: checkDetail}, nil
			}))
			if tc.failure != nil {
				f.sender.failures = []error{tc.failure}
			}
			spec := simulatedSpec(1, 5, 60)
			spec.Alert = &monitor.Alert{WebhookURL: "https://hooks.example.com/x"}
			s, _ := f.run(t, f.start(t, "job7", spec))
			if out := s.Check.Output; out == nil || out.Detail != tc.want {
				t.Fatalf("output = %+v, want detail %q", out, tc.want)
			}
			rec, _ := f.store.Get(context.Background(), "job7")
			if rec.Output == nil || rec.Output.Detail != tc.want {
				t.Errorf("recorded output = %+v, want detail %q", rec.Output, tc.want)
			}
		})
	}
}

// The alert's text for a webhook, a Slack message, has the data's values
// escaped as Slack asks, so that a target's answer quoted in .Detail
// cannot notify a channel or disguise a link; the template's own text is
// the owner's and stays as written. The SMS and topic text, and the data,
// keep the values as they are.
func TestAlertWebhookTextEscapesTheData(t *testing.T) {
	const detail = `status "<!channel> & <https://evil.example|click>"`
	f := newFixture(t, monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
		return monitor.Observation{Status: monitor.StatusFailed, Done: true, Detail: detail}, nil
	}))
	spec := simulatedSpec(1, 5, 60)
	spec.JobID = "a<b>&c"
	spec.Alert = &monitor.Alert{WebhookURL: "https://hooks.example.com/x", Message: "<!here> {{.JobID}}: {{.Detail}} &amp; {{printf \"%s\" .Status}}"}
	f.run(t, f.start(t, "job7", spec))
	msg := f.sender.last
	if want := "<!here> a<b>&c: " + detail + " &amp; Failed"; msg.Text != want {
		t.Errorf("text = %q, want %q", msg.Text, want)
	}
	want := "<!here> a&lt;b&gt;&amp;c: status \"&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;\" &amp; Failed"
	if msg.WebhookText != want {
		t.Errorf("webhook text = %q, want %q", msg.WebhookText, want)
	}
	if msg.Data.Detail != detail || msg.Data.JobID != "a<b>&c" {
		t.Errorf("data = %+v, want the values as they are", msg.Data)
	}
}

// A check's detail is cut to MaxCheckDetail before it is recorded or put
// in the output: a job API answering with a 450 KiB Content-Type made a
// custom status too large for a DynamoDB item (the monitor failed on AWS
// only) and an output past Step Functions' 256 KiB payload limit.
func TestCheckDetailIsBounded(t *testing.T) {
	huge := strings.Repeat("é", 230_000)
	for _, obs := range []monitor.Observation{{Status: monitor.StatusRunning, Detail: huge}, {Status: monitor.StatusFailed, Done: true, Detail: huge}} {
		f := newFixture(t, monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) { return obs, nil }))
		f.tasks.Checkers[monitor.TargetHTTP] = f.tasks.Checkers[monitor.TargetSimulated]
		spec := monitor.Spec{Target: monitor.Target{Type: monitor.TargetHTTP, URL: "https://jobs.example.com/jobs/7"}, PollingIntervalSeconds: 60, TimeoutSeconds: 3600}
		s, err := f.tasks.Check(context.Background(), monitor.TaskInput{State: f.start(t, "job7", spec)})
		if err != nil {
			t.Fatal(err)
		}
		want := monitor.TruncateBytes(huge, monitor.MaxCheckDetail)
		rec, err := f.store.Get(context.Background(), "job7")
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.CustomStatus.Detail; got != want {
			t.Errorf("%s: recorded detail is %d bytes, want %d", obs.Status, len(got), len(want))
		}
		if out := s.Check.Output; out != nil && out.Detail != want {
			t.Errorf("%s: output detail is %d bytes, want %d", obs.Status, len(out.Detail), len(want))
		}
	}
}

// A check that does not lead to an alert keeps no detail in the state,
// which every history event of a check carries.
func TestOnlyTheAlertingCheckKeepsItsDetail(t *testing.T) {
	running := monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
		return monitor.Observation{Status: monitor.StatusRunning, Detail: "job state Running: 40 % done"}, nil
	})
	f := newFixture(t, nil)
	f.tasks.Checkers[monitor.TargetHTTP] = running
	spec := monitor.Spec{Target: monitor.Target{Type: monitor.TargetHTTP, URL: "https://jobs.example.com/jobs/7"},
		PollingIntervalSeconds: 60, TimeoutSeconds: 3600, Alert: &monitor.Alert{WebhookURL: "https://hooks.example.com/x"}}
	s, err := f.tasks.Check(context.Background(), monitor.TaskInput{State: f.start(t, "job7", spec)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Check.ConditionMet || s.Check.Detail != "" {
		t.Errorf("state after a running check: conditionMet %v, detail %q; want no detail", s.Check.ConditionMet, s.Check.Detail)
	}
}

// The times a start and a check record have microsecond precision, so one
// instant reads the same in createdTime, lastUpdatedTime and the custom
// status's last_check_time, whatever the store keeps.
func TestRecordedTimesAreMicroseconds(t *testing.T) {
	f := newFixture(t, nil)
	f.clock.now = tStart.Add(123_456_789 * time.Nanosecond)
	want := tStart.Add(123_456 * time.Microsecond)
	api := &monitor.API{Store: f.store, Workflow: &fakeWorkflow{}, Clock: f.clock}
	rec, err := api.Start(context.Background(), monitor.StartRequest{InstanceID: "us",
		Spec: monitor.Spec{Target: monitor.Target{Type: monitor.TargetSimulated}, PollingIntervalSeconds: 5, TimeoutSeconds: 60}})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.CreatedTime.Equal(want) {
		t.Errorf("createdTime %v, want %v", rec.CreatedTime, want)
	}
	if _, err := f.tasks.Check(context.Background(), monitor.TaskInput{State: monitor.State{InstanceID: "us", StartedAt: rec.CreatedTime,
		ExpiresAt: rec.ExpiresAt, Spec: rec.Input}, ExecutionArn: "arn:exec"}); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.Get(context.Background(), "us")
	if err != nil {
		t.Fatal(err)
	}
	if got.CustomStatus == nil || !got.CustomStatus.LastCheckTime.Equal(want) || !got.LastUpdatedTime.Equal(want) {
		t.Errorf("after the check: lastUpdatedTime %v, custom status %+v; want both at %v", got.LastUpdatedTime, got.CustomStatus, want)
	}
}

// The wait after a check counts from the end of the check, as Durable
// Functions' loop counts from its clock after the activity: a slow target
// leaves a next_check_time in the future, not one already past when the
// Wait state begins. last_check_time stays the check's start; the expiry
// and a rate limit's reset still bound the next check.
func TestCheckWaitCountsFromTheEndOfTheCheck(t *testing.T) {
	tests := []struct {
		name      string
		takes     time.Duration // how long the check takes
		notBefore time.Duration // the observation's NotBefore after the start; 0 for none
		timeout   int
		wantNext  time.Duration // next_check_time after the start
		wantWait  int
	}{
		{"instant", 0, 0, 3600, 5 * time.Second, 5},
		{"slow", 20 * time.Second, 0, 3600, 25 * time.Second, 5},
		{"a fraction rounds up", 1500 * time.Millisecond, 0, 3600, 7 * time.Second, 5}, // due at 6.5 s
		{"rate limit reset later", 20 * time.Second, 60 * time.Second, 3600, 60 * time.Second, 40},
		{"rate limit reset sooner", 20 * time.Second, 10 * time.Second, 3600, 25 * time.Second, 5},
		{"capped at the expiry", 20 * time.Second, 0, 22, 22 * time.Second, 2},
		{"ends past the expiry", 30 * time.Second, 0, 22, 22 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			var f *fixture
			f = newFixture(t, monitor.CheckerFunc(func(context.Context, monitor.CheckRequest) (monitor.Observation, error) {
				obs := monitor.Observation{Status: monitor.StatusRunning}
				if tt.notBefore > 0 {
					obs.NotBefore = tStart.Add(tt.notBefore)
				}
				f.clock.Set(f.clock.Now().Add(tt.takes))
				return obs, nil
			}))
			s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "slow", simulatedSpec(100, 5, tt.timeout))})
			if err != nil {
				t.Fatal(err)
			}
			if want := monitor.FormatTimestamp(tStart.Add(tt.wantNext)); s.Check.NextCheckAt != want || s.Check.WaitSeconds != tt.wantWait {
				t.Errorf("nextCheckAt %s, waitSeconds %d; want %s, %d", s.Check.NextCheckAt, s.Check.WaitSeconds, want, tt.wantWait)
			}
			rec, err := f.store.Get(ctx, "slow")
			if err != nil {
				t.Fatal(err)
			}
			cs := rec.CustomStatus
			if !cs.LastCheckTime.Equal(tStart) || !cs.NextCheckTime.Equal(tStart.Add(tt.wantNext)) {
				t.Errorf("last_check_time %s, next_check_time %s; want %s, %s",
					cs.LastCheckTime.Format(time.RFC3339Nano), cs.NextCheckTime.Format(time.RFC3339Nano),
					tStart.Format(time.RFC3339Nano), tStart.Add(tt.wantNext).Format(time.RFC3339Nano))
			}
		})
	}
}

// An expired monitor's final custom status is its last check's: the job
// status, last_check_time, detail and last_event that check recorded, with
// no next_check_time. The output says Timeout. A monitor that expired
// before its first check keeps no custom status.
func TestExpiredMonitorKeepsTheLastCheck(t *testing.T) {
	tests := []struct {
		name       string
		firstAfter time.Duration // when the first check runs after the start
		want       *monitor.CustomStatus
	}{
		{"after two checks", 0, &monitor.CustomStatus{JobID: "exp", Status: monitor.StatusRunning, CheckCount: 2,
			LastCheckTime: tStart.Add(20 * time.Second), IntervalSeconds: 20, Detail: "check 2 saw the job running", LastEvent: "note"}},
		{"before the first check", 30 * time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, monitor.CheckerFunc(func(_ context.Context, req monitor.CheckRequest) (monitor.Observation, error) {
				return monitor.Observation{Status: monitor.StatusRunning, Detail: fmt.Sprintf("check %d saw the job running", req.Number)}, nil
			}))
			s := f.start(t, "exp", simulatedSpec(100, 20, 30))
			if err := f.store.AddEvent(ctx, "exp", monitor.Event{Name: "note", RaisedAt: tStart}); err != nil {
				t.Fatal(err)
			}
			f.clock.Set(tStart.Add(tt.firstAfter))
			s, _ = f.run(t, s)
			if !s.Check.Expired {
				t.Fatalf("check = %+v, want expired", s.Check)
			}
			rec, err := f.store.Get(ctx, "exp")
			if err != nil {
				t.Fatal(err)
			}
			if rec.Output == nil || rec.Output.FinalStatus != monitor.FinalTimeout {
				t.Errorf("output = %+v, want final status %s", rec.Output, monitor.FinalTimeout)
			}
			got, _ := json.Marshal(rec.CustomStatus)
			want, _ := json.Marshal(tt.want)
			if string(got) != string(want) {
				t.Errorf("custom status = %s\nwant %s", got, want)
			}
		})
	}
}

// A complete event finishes a monitor Completed without its alert, for
// any target: nothing observed the job's end or the alert's condition (a
// GitHub monitor's threshold alert would claim a count never reached). A
// check that observes the end or the condition itself still alerts.
func TestCompleteEventDoesNotAlert(t *testing.T) {
	httpJob := monitor.CheckerFunc(func(_ context.Context, req monitor.CheckRequest) (monitor.Observation, error) {
		if req.Number >= 3 {
			return monitor.Observation{Status: monitor.StatusCompleted, Done: true, Detail: "job state Completed"}, nil
		}
		return monitor.Observation{Status: monitor.StatusRunning}, nil
	})
	simulated := simulatedSpec(3, 60, 3600)
	simulated.Alert = &monitor.Alert{WebhookURL: "https://hooks.example.com/x"}
	httpSpec := monitor.Spec{
		Target:                 monitor.Target{Type: monitor.TargetHTTP, URL: "https://jobs.example.com/jobs/42"},
		PollingIntervalSeconds: 60, TimeoutSeconds: 3600,
		Alert: &monitor.Alert{Phone: "+14255550100"},
	}
	tests := []struct {
		name        string
		spec        monitor.Spec
		event       bool // raise complete after the first check
		wantChecks  int
		wantFinal   string
		wantAlert   string // output.alert_status
		wantSent    int
		wantStatus  string // the final custom status's job status
		wantDetail  string
		wantPending monitor.AlertStatus
	}{
		{"github, complete event", githubSpec(), true, 2, monitor.FinalCompleted, "", 0, monitor.StatusCompleted, "completed by an external event", monitor.AlertNone},
		{"simulated job, complete event", simulated, true, 2, monitor.FinalCompleted, "", 0, monitor.StatusCompleted, "completed by an external event", monitor.AlertNone},
		{"http job, complete event", httpSpec, true, 2, monitor.FinalCompleted, "", 0, monitor.StatusCompleted, "completed by an external event", monitor.AlertNone},
		{"github, threshold reached", githubSpec(), false, 3, monitor.FinalAlerted, "sent", 1, monitor.StatusRunning, "", monitor.AlertSent},
		{"simulated job, job completed", simulated, false, 3, monitor.FinalCompleted, "sent", 1, monitor.StatusCompleted, "simulated job Completed on check 3", monitor.AlertSent},
		{"http job, job completed", httpSpec, false, 3, monitor.FinalCompleted, "sent", 1, monitor.StatusCompleted, "job state Completed", monitor.AlertSent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, openIssues(1))
			f.tasks.Checkers[monitor.TargetSimulated] = checks.Simulated{}
			f.tasks.Checkers[monitor.TargetHTTP] = httpJob
			if tt.event {
				f.onCheck = func(in, _ monitor.State, at time.Time) {
					if in.Check.CheckCount == 0 {
						if err := f.store.AddEvent(ctx, "c", monitor.Event{Name: monitor.EventComplete, RaisedAt: at}); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			s, invocations := f.run(t, f.start(t, "c", tt.spec))
			out := s.Check.Output
			if invocations != tt.wantChecks || out == nil || out.FinalStatus != tt.wantFinal || out.AlertStatus != tt.wantAlert || f.sender.sent != tt.wantSent {
				t.Fatalf("%d checks, output %+v, %d sent; want %d checks, final status %q, alert status %q, %d sent",
					invocations, out, f.sender.sent, tt.wantChecks, tt.wantFinal, tt.wantAlert, tt.wantSent)
			}
			rec, err := f.store.Get(ctx, "c")
			if err != nil {
				t.Fatal(err)
			}
			if rec.RuntimeStatus != monitor.RuntimeCompleted || rec.Output.FinalStatus != tt.wantFinal || rec.Output.AlertStatus != tt.wantAlert || rec.Alert.Status != tt.wantPending {
				t.Errorf("record %s, output %+v, alert %q; want Completed, final status %q, alert status %q, alert %q",
					rec.RuntimeStatus, rec.Output, rec.Alert.Status, tt.wantFinal, tt.wantAlert, tt.wantPending)
			}
			cs := rec.CustomStatus
			if cs == nil || cs.Status != tt.wantStatus || cs.Detail != tt.wantDetail || !cs.NextCheckTime.IsZero() {
				t.Errorf("custom status %+v; want status %q, detail %q, no next_check_time", cs, tt.wantStatus, tt.wantDetail)
			}
		})
	}
}

// terminatingSender terminates the monitor through the API while it sends,
// and purges it too when purge is set, then answers with err (nil: sent).
type terminatingSender struct {
	api   *monitor.API
	id    string
	err   error
	purge bool
	sent  int
}

func (s *terminatingSender) Send(ctx context.Context, _ monitor.Alert, _ monitor.Message) (string, error) {
	if _, err := s.api.Terminate(ctx, s.id, "stop it"); err != nil {
		return "", fmt.Errorf("terminate: %w", err)
	}
	if s.purge {
		if err := s.api.Purge(ctx, s.id); err != nil {
			return "", fmt.Errorf("purge: %w", err)
		}
	}
	if s.err != nil {
		return "", s.err
	}
	s.sent++
	return "msg-1", nil
}

// A monitor terminated while its alert is being sent ends Terminated
// with an output alert_status that tells what became of the alert: the
// send's result once the alert task records it, unknown when nobody can
// tell. It never stays "sending", which is not an output's value.
func TestTerminateDuringAlertSend(t *testing.T) {
	tests := []struct {
		name      string
		sendErr   error
		wantAlert monitor.AlertStatus // the record's alert.status
		wantOut   string              // the record's output.alert_status
	}{
		{"sent", nil, monitor.AlertSent, "sent"},
		{"failed", errT(), monitor.AlertFailed, "failed"},
		{"outcome unknown", &monitor.OutcomeUnknownError{Message: "no answer within 10s"}, monitor.AlertSending, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, openIssues(5))
			api := &monitor.API{Store: f.store, Workflow: &fakeWorkflow{}, Clock: f.clock}
			sender := &terminatingSender{api: api, id: "gt", err: tt.sendErr}
			f.tasks.Senders[monitor.ChannelWebhook] = sender
			s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "gt", githubSpec()), ExecutionArn: "arn:exec"})
			if err != nil || !s.Check.ConditionMet {
				t.Fatalf("check: %v, condition met %t", err, s.Check.ConditionMet)
			}
			if _, err := f.tasks.Alert(ctx, monitor.TaskInput{State: s}); err != nil {
				t.Fatal(err)
			}
			rec, err := f.store.Get(ctx, "gt")
			if err != nil {
				t.Fatal(err)
			}
			if rec.RuntimeStatus != monitor.RuntimeTerminated || rec.Output == nil || rec.Output.FinalStatus != monitor.FinalTerminated {
				t.Fatalf("record %s, output %+v; want Terminated", rec.RuntimeStatus, rec.Output)
			}
			if rec.Alert.Status != tt.wantAlert || rec.Output.AlertStatus != tt.wantOut {
				t.Errorf("alert.status %q, output.alert_status %q; want %q, %q", rec.Alert.Status, rec.Output.AlertStatus, tt.wantAlert, tt.wantOut)
			}
		})
	}
}
