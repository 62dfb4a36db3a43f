package monitor_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/pagetoken"
)

const arnPrefix = "arn:aws:states:us-east-1:123456789012:execution:stepmon-monitor:"

var t0 = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// fakeWorkflow is an in-process monitor.Workflow that records its calls.
type fakeWorkflow struct {
	mu       sync.Mutex
	starts   []startCall
	stops    []stopCall
	startErr error
	// stopErr maps execution ARNs to the error Stop returns for them.
	stopErr map[string]error
	// onStart runs inside Start, before it returns.
	onStart func(name string)
	// onStop runs inside Stop, before it returns.
	onStop func(arn string)
}

type startCall struct {
	Name  string
	Input []byte
}

type stopCall struct{ Arn, Error, Cause string }

func (w *fakeWorkflow) Start(_ context.Context, name string, input []byte) (string, error) {
	w.mu.Lock()
	w.starts = append(w.starts, startCall{name, input})
	err, hook := w.startErr, w.onStart
	w.mu.Unlock()
	if hook != nil {
		hook(name)
	}
	if err != nil {
		return "", err
	}
	return arnPrefix + name, nil
}

func (w *fakeWorkflow) Stop(_ context.Context, arn, errorName, cause string) error {
	w.mu.Lock()
	w.stops = append(w.stops, stopCall{arn, errorName, cause})
	err, hook := w.stopErr[arn], w.onStop
	w.mu.Unlock()
	if hook != nil {
		hook(arn)
	}
	return err
}

type env struct {
	api   *monitor.API
	store *memstore.Store
	wf    *fakeWorkflow
	now   time.Time
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{store: memstore.New(), wf: &fakeWorkflow{}, now: t0}
	e.api = &monitor.API{Store: e.store, Workflow: e.wf, Retention: time.Hour, Logger: slog.New(slog.DiscardHandler),
		Clock: monitor.ClockFunc(func() time.Time { return e.now })}
	return e
}

func parse(t testing.TB, body string) monitor.StartRequest {
	t.Helper()
	req, err := monitor.ParseStartRequest([]byte(body))
	if err != nil {
		t.Fatalf("ParseStartRequest(%s): %v", body, err)
	}
	return req
}

// running starts a monitor and records a check, so that it is Running
// with checks check performed.
func (e *env) running(t testing.TB, id string, checks int) monitor.Record {
	t.Helper()
	rec, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"`+id+`","target":{"type":"simulated"},"pollingIntervalSeconds":10}`))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if checks > 0 {
		u := monitor.CheckUpdate{ExecutionArn: rec.ExecutionArn, At: e.now,
			CustomStatus: monitor.CustomStatus{JobID: id, Status: monitor.StatusRunning, CheckCount: checks, LastCheckTime: e.now}}
		if _, err := e.store.RecordCheck(context.Background(), id, u); err != nil {
			t.Fatalf("RecordCheck: %v", err)
		}
	}
	return e.get(t, id)
}

func (e *env) get(t testing.TB, id string) monitor.Record {
	t.Helper()
	rec, err := e.store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return rec
}

func wantKind(t testing.TB, err error, kind monitor.Kind) {
	t.Helper()
	if got := monitor.KindOf(err); got != kind {
		t.Fatalf("error kind = %q (%v), want %q", got, err, kind)
	}
}

func TestStart(t *testing.T) {
	e := newEnv(t)
	rec, err := e.api.Start(context.Background(), parse(t, `{"job_id":"my-job-123","polling_interval_seconds":10,"timeout_seconds":60}`))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(rec.InstanceID) {
		t.Errorf("generated id = %q, want 32 lowercase hex digits", rec.InstanceID)
	}
	if rec.ExecutionArn != arnPrefix+rec.InstanceID {
		t.Errorf("ExecutionArn = %q", rec.ExecutionArn)
	}
	stored := e.get(t, rec.InstanceID)
	if stored.RuntimeStatus != monitor.RuntimePending || stored.Name != "JobMonitor" ||
		stored.ExecutionArn != rec.ExecutionArn || !stored.ExpiresAt.Equal(t0.Add(time.Minute)) ||
		stored.Input.JobID != "my-job-123" || !stored.CreatedTime.Equal(t0) {
		t.Errorf("stored record = %+v", stored)
	}
	if len(e.wf.starts) != 1 || e.wf.starts[0].Name != rec.InstanceID {
		t.Fatalf("workflow starts = %+v, want one named %s", e.wf.starts, rec.InstanceID)
	}
	var st monitor.State
	if err := json.Unmarshal(e.wf.starts[0].Input, &st); err != nil {
		t.Fatalf("execution input: %v", err)
	}
	if st.InstanceID != rec.InstanceID || st.Generation != 0 || !st.StartedAt.Equal(t0) ||
		!st.ExpiresAt.Equal(t0.Add(time.Minute)) || st.Spec.PollingIntervalSeconds != 10 || st.Spec.JobID != "my-job-123" {
		t.Errorf("execution input = %+v", st)
	}
}

func TestStartJobIDDefaultsToInstanceID(t *testing.T) {
	e := newEnv(t)
	rec, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"abc","target":{"type":"simulated"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Input.JobID != "abc" || e.get(t, "abc").Input.JobID != "abc" {
		t.Errorf("JobID = %q, want the instance id", rec.Input.JobID)
	}
	if got := monitor.RetryAfterSeconds(rec.Input); got != monitor.DefaultIntervalSeconds {
		t.Errorf("RetryAfterSeconds = %d", got)
	}
}

// TestRecordRetryAfter: a status answer's Retry-After is the interval the
// monitor polls at now, as its last check recorded it, else the one it
// started with; 1 to 60 seconds.
func TestRecordRetryAfter(t *testing.T) {
	tests := []struct {
		name            string
		start, interval int // interval 0: no check yet
		want            int
	}{
		{"before the first check", 10, 0, 10},
		{"after a setInterval", 10, 25, 25},
		{"a backoff past the cap", 10, 600, 60},
		{"a start past the cap", 300, 0, 60},
		{"no interval", 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := monitor.Record{Input: monitor.Spec{PollingIntervalSeconds: tt.start}}
			if tt.interval > 0 {
				rec.CustomStatus = &monitor.CustomStatus{IntervalSeconds: tt.interval}
			}
			if got := rec.RetryAfterSeconds(); got != tt.want {
				t.Errorf("RetryAfterSeconds() = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestStartDuplicate: a start of a taken instance id with another body is
// 409; one that repeats the start of a monitor that runs (a client whose
// answer was lost sending it again) gets that monitor, as Step Functions
// answers a repeated StartExecution, and starts nothing. Once the monitor
// has finished, the same body is 409 too.
func TestStartDuplicate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	req := parse(t, `{"instanceId":"dup","target":{"type":"simulated"}}`)
	first, err := e.api.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.api.Start(ctx, req)
	if err != nil || again.InstanceID != "dup" || again.ExecutionArn != first.ExecutionArn || !again.CreatedTime.Equal(first.CreatedTime) {
		t.Errorf("repeated start = %+v, %v; want the first start's monitor", again, err)
	}
	_, err = e.api.Start(ctx, parse(t, `{"instanceId":"dup","target":{"type":"simulated"},"pollingIntervalSeconds":30}`))
	wantKind(t, err, monitor.KindConflict)
	if !strings.Contains(monitor.MessageOf(err), `"dup" already exists`) {
		t.Errorf("message = %q", monitor.MessageOf(err))
	}
	if len(e.wf.starts) != 1 {
		t.Errorf("workflow started %d times, want 1", len(e.wf.starts))
	}
	if _, err := e.api.Terminate(ctx, "dup", "done"); err != nil {
		t.Fatal(err)
	}
	_, err = e.api.Start(ctx, req)
	wantKind(t, err, monitor.KindConflict)
	// The 409 of a finished monitor's id says the id stays taken.
	if msg := monitor.MessageOf(err); !strings.Contains(msg, `"dup" already exists and has finished (Terminated); its id stays taken, even after a purge`) {
		t.Errorf("message = %q", msg)
	}
}

func TestStartWorkflowFailureReleasesClaim(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want monitor.Kind
	}{
		{"unavailable", monitor.Errorf(monitor.KindUnavailable, "sfn", "throttled"), monitor.KindUnavailable},
		{"internal", monitor.Errorf(monitor.KindInternal, "sfn", "access denied"), monitor.KindUnavailable},
		{"execution exists", monitor.Errorf(monitor.KindConflict, "sfn", "exists"), monitor.KindConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.wf.startErr = tc.err
			_, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"x1","target":{"type":"simulated"}}`))
			wantKind(t, err, tc.want)
			if strings.Contains(monitor.MessageOf(err), "access denied") {
				t.Errorf("message leaks the cause: %q", monitor.MessageOf(err))
			}
			if _, err := e.store.Get(context.Background(), "x1"); !monitor.IsKind(err, monitor.KindNotFound) {
				t.Errorf("claim left behind: Get = %v", err)
			}
			// The id can be used again.
			e.wf.startErr = nil
			if _, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"x1","target":{"type":"simulated"}}`)); err != nil {
				t.Errorf("restart: %v", err)
			}
		})
	}
}

// findingWorkflow is a fakeWorkflow that can look executions up by name.
type findingWorkflow struct {
	*fakeWorkflow
	started map[string]time.Time // executions that exist, by name
	// monitorStarted is the monitor's start their inputs name (none
	// when missing).
	monitorStarted map[string]time.Time
	err            error
	finds          *int
}

func (w findingWorkflow) FindExecution(_ context.Context, name string) (monitor.FoundExecution, bool, error) {
	*w.finds++
	if w.err != nil {
		return monitor.FoundExecution{}, false, w.err
	}
	at, ok := w.started[name]
	if !ok {
		return monitor.FoundExecution{}, false, nil
	}
	return monitor.FoundExecution{Arn: arnPrefix + name, StartedAt: at, MonitorStartedAt: w.monitorStarted[name]}, true, nil
}

// lostAnswerStore answers a Create as a store client does that sent it
// again after the first answer was lost (an SDK retry after a timeout or
// a 500 of a write that was applied): the retry meets the record the
// first attempt created.
type lostAnswerStore struct{ *memstore.Store }

func (s lostAnswerStore) Create(ctx context.Context, rec monitor.Record) error {
	if err := s.Store.Create(ctx, rec); err != nil {
		return err
	}
	return s.Store.Create(ctx, rec)
}

// A start whose claim was created although its store call reported a
// conflict (the retry of a create whose answer was lost) recognises its
// own claim and starts the monitor, rather than answering 409 "a start
// is in progress" for itself. Another start's claim of the same instant
// with another spec is still a conflict.
func TestStartRecognisesItsOwnClaim(t *testing.T) {
	body := `{"instanceId":"own","target":{"type":"simulated"},"pollingIntervalSeconds":7}`
	t.Run("own claim", func(t *testing.T) {
		e := newEnv(t)
		e.api.Store = lostAnswerStore{e.store}
		rec, err := e.api.Start(context.Background(), parse(t, body))
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		if got := e.get(t, "own"); len(e.wf.starts) != 1 || got.ExecutionArn != arnPrefix+"own" || rec.ExecutionArn != arnPrefix+"own" {
			t.Errorf("%d workflow starts, record %+v; want one start and the record with its execution", len(e.wf.starts), got)
		}
	})
	for _, tc := range []struct {
		name     string
		interval int
		created  time.Time
	}{
		{"another claim of the same instant", 8, t0},
		{"the same request claimed a second earlier", 7, t0.Add(-time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			spec := parse(t, body).Spec // as Start makes it
			spec.JobID, spec.PollingIntervalSeconds = "own", tc.interval
			claim := monitor.Record{InstanceID: "own", Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
				Input: spec, CreatedTime: tc.created, LastUpdatedTime: tc.created}
			if err := e.store.Create(context.Background(), claim); err != nil {
				t.Fatal(err)
			}
			_, err := e.api.Start(context.Background(), parse(t, body))
			wantKind(t, err, monitor.KindConflict)
			if len(e.wf.starts) != 0 {
				t.Errorf("%d workflow starts, want none", len(e.wf.starts))
			}
		})
	}
}

// A claim that a dead start left behind (Pending, no execution) is taken
// over by a later start of the id once it is StaleClaimAge old and the
// workflow has no execution of that name; otherwise the id stays taken.
func TestStartTakesOverAStaleClaim(t *testing.T) {
	old := t0.Add(-monitor.StaleClaimAge)
	for _, tc := range []struct {
		name        string
		created     time.Time
		noFinder    bool
		execution   bool          // the workflow has an execution of the id
		before      time.Duration // that execution started this long before the claim
		findErr     error         // FindExecution fails
		checked     bool          // the claim's record has moved on to Running
		wantTaken   bool          // the new start took the id over
		wantFinds   int
		wantExecOf  string // the ARN the old record ends with
		wantMessage string // of the 409; "" for the usual one
	}{
		{name: "stale, no execution", created: old, wantTaken: true, wantFinds: 1, wantExecOf: arnPrefix + "s1"},
		{name: "young", created: old.Add(time.Second), wantFinds: 0,
			wantMessage: `a start of instance id "s1" is in progress (claimed at 2026-01-02T14:59:06Z): the same start sent again in a few seconds, or GET of the id, answers with the monitor it starts; if that start failed, the id can be started again from 2026-01-02T15:04:06Z`},
		{name: "stale, execution runs", created: old, execution: true, wantFinds: 1, wantExecOf: arnPrefix + "s1"},
		{name: "stale, execution within the clock skew", created: old, execution: true, before: 30 * time.Second, wantFinds: 1, wantExecOf: arnPrefix + "s1"},
		{name: "stale, an earlier monitor's execution", created: old, execution: true, before: 2 * time.Minute,
			wantTaken: true, wantFinds: 1, wantExecOf: arnPrefix + "s1"},
		{name: "stale, look-up fails", created: old, findErr: monitor.Errorf(monitor.KindUnavailable, "sfn", "throttled"), wantFinds: 1},
		{name: "stale but checked", created: old, checked: true, wantFinds: 0},
		{name: "workflow cannot look up", created: old, noFinder: true, wantFinds: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			finds := 0
			fw := findingWorkflow{fakeWorkflow: e.wf, started: map[string]time.Time{}, err: tc.findErr, finds: &finds}
			if tc.execution {
				fw.started["s1"] = tc.created.Add(time.Second)
				if tc.before != 0 {
					fw.started["s1"] = tc.created.Add(-tc.before)
				}
			}
			if !tc.noFinder {
				e.api.Workflow = fw
			}
			spec := monitor.Spec{JobID: "s1", Target: monitor.Target{Type: monitor.TargetSimulated}}
			claim := monitor.Record{InstanceID: "s1", Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
				Input: spec, CreatedTime: tc.created, LastUpdatedTime: tc.created}
			if err := e.store.Create(context.Background(), claim); err != nil {
				t.Fatal(err)
			}
			if tc.checked {
				u := monitor.CheckUpdate{At: tc.created, CustomStatus: monitor.CustomStatus{JobID: "s1", Status: monitor.StatusRunning, CheckCount: 1}}
				if _, err := e.store.RecordCheck(context.Background(), "s1", u); err != nil {
					t.Fatal(err)
				}
			}
			rec, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"s1","target":{"type":"simulated"},"pollingIntervalSeconds":7}`))
			if finds != tc.wantFinds {
				t.Errorf("FindExecution called %d times, want %d", finds, tc.wantFinds)
			}
			got := e.get(t, "s1")
			if !tc.wantTaken {
				wantKind(t, err, monitor.KindConflict)
				wantMessage := tc.wantMessage
				if wantMessage == "" {
					wantMessage = `a monitor with instance id "s1" already exists`
				}
				if got := monitor.MessageOf(err); got != wantMessage {
					t.Errorf("message %q, want %q", got, wantMessage)
				}
				if len(e.wf.starts) != 0 || !got.CreatedTime.Equal(tc.created) {
					t.Errorf("%d workflow starts, record created %v; want none and the old claim kept", len(e.wf.starts), got.CreatedTime)
				}
				if got.ExecutionArn != tc.wantExecOf {
					t.Errorf("old record's execution = %q, want %q", got.ExecutionArn, tc.wantExecOf)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if len(e.wf.starts) != 1 || !rec.CreatedTime.Equal(t0) || !got.CreatedTime.Equal(t0) ||
				got.ExecutionArn != tc.wantExecOf || got.Input.PollingIntervalSeconds != 7 {
				t.Errorf("%d workflow starts, record %+v; want one start and the new claim with its execution", len(e.wf.starts), got)
			}
		})
	}
}

// MendClaim links an execution only to the claim it read: a claim that
// has moved on since (finished, or released and the id claimed again by
// another start) is kept as it is, its status and output, and only a
// finished claim, which names no execution, is told its execution.
func TestMendClaimOfARecordThatMovedOn(t *testing.T) {
	spec := monitor.Spec{JobID: "m1", Target: monitor.Target{Type: monitor.TargetSimulated}}
	old := monitor.Record{InstanceID: "m1", Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
		Input: spec, CreatedTime: t0, LastUpdatedTime: t0}
	for _, tc := range []struct {
		name string
		// moveOn brings the record of the id to where it is when
		// MendClaim records the execution.
		moveOn func(t *testing.T, s *memstore.Store)
		// wantArn is the execution the record names after the mend.
		wantArn string
	}{
		{"claimed again", func(t *testing.T, s *memstore.Store) {
			if err := s.ReleaseClaim(context.Background(), "m1", t0); err != nil {
				t.Fatal(err)
			}
			again := old
			again.CreatedTime, again.LastUpdatedTime = t0.Add(time.Minute), t0.Add(time.Minute)
			if err := s.Create(context.Background(), again); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"finished", func(t *testing.T, s *memstore.Store) {
			f := monitor.Finish{RuntimeStatus: monitor.RuntimeTerminated, At: t0.Add(time.Minute),
				Output: monitor.Output{FinalStatus: monitor.FinalTerminated}}
			if err := s.Finish(context.Background(), "m1", f); err != nil {
				t.Fatal(err)
			}
		}, arnPrefix + "m1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := memstore.New()
			if err := s.Create(context.Background(), old); err != nil {
				t.Fatal(err)
			}
			tc.moveOn(t, s)
			before, err := s.Get(context.Background(), "m1")
			if err != nil {
				t.Fatal(err)
			}
			finds := 0
			// The execution of the old claim, started a second after it.
			fw := findingWorkflow{fakeWorkflow: &fakeWorkflow{}, started: map[string]time.Time{"m1": t0.Add(time.Second)}, finds: &finds}
			mended, err := monitor.MendClaim(context.Background(), s, fw, old)
			if err != nil || mended != monitor.ClaimKept {
				t.Errorf("MendClaim = %v, %v; want ClaimKept (%v)", mended, err, monitor.ClaimKept)
			}
			before.ExecutionArn = tc.wantArn
			if got, err := s.Get(context.Background(), "m1"); err != nil || !reflect.DeepEqual(got, before) {
				t.Errorf("record after MendClaim: %+v, %v; want %+v", got, err, before)
			}
		})
	}
}

// MendClaim links a claim to the execution of its name when the
// execution's input names the claim's start, and releases it when the
// input names another monitor's start, however close the execution's
// start time is to the claim (an id purged and started again within
// clockSkew); without a start in the input, the start times decide.
func TestMendClaimByTheMonitorsStart(t *testing.T) {
	old := monitor.Record{InstanceID: "m1", RuntimeStatus: monitor.RuntimePending, CreatedTime: t0, LastUpdatedTime: t0, ExpiresAt: t0.Add(time.Hour)}
	tests := []struct {
		name           string
		started        time.Time // the execution's start
		monitorStarted time.Time // the monitor's start its input names
		want           monitor.ClaimMended
	}{
		{"its own", t0.Add(time.Second), t0, monitor.ClaimLinked},
		{"an earlier monitor's, within the skew", t0.Add(-20 * time.Second), t0.Add(-20 * time.Second), monitor.ClaimReleased},
		{"an earlier monitor's, started after the claim by the clocks", t0.Add(time.Second), t0.Add(-time.Second), monitor.ClaimReleased},
		{"no start in the input, within the skew", t0.Add(-20 * time.Second), time.Time{}, monitor.ClaimLinked},
		{"no start in the input, long before", t0.Add(-10 * time.Minute), time.Time{}, monitor.ClaimReleased},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memstore.New()
			if err := s.Create(context.Background(), old); err != nil {
				t.Fatal(err)
			}
			finds := 0
			fw := findingWorkflow{fakeWorkflow: &fakeWorkflow{}, started: map[string]time.Time{"m1": tt.started},
				monitorStarted: map[string]time.Time{"m1": tt.monitorStarted}, finds: &finds}
			mended, err := monitor.MendClaim(context.Background(), s, fw, old)
			if err != nil || mended != tt.want {
				t.Errorf("MendClaim = %v, %v; want %v", mended, err, tt.want)
			}
		})
	}
}

// MonitorStartOf reads the monitor's start from an execution input, and
// is zero for an input that names none that parses.
func TestMonitorStartOf(t *testing.T) {
	for in, want := range map[string]time.Time{
		`{"instanceId":"m1","startedAt":"2026-01-02T15:04:05.123456Z"}`: time.Date(2026, 1, 2, 15, 4, 5, 123456000, time.UTC),
		`{"startedAt":"2026-01-02T16:04:05+01:00"}`:                     time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
		`{"instanceId":"m1"}`:                                           {},
		`{"startedAt":"yesterday"}`:                                     {},
		`{"startedAt":17}`:                                              {},
		`[1]`:                                                           {},
		``:                                                              {},
	} {
		if got := monitor.MonitorStartOf(in); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("MonitorStartOf(%s) = %v, want %v in UTC", in, got, want)
		}
	}
}

// A start whose workflow call failed, although the execution did start
// and its first check recorded it, answers with the running monitor
// rather than deleting its record.
func TestStartFailedButTheExecutionRuns(t *testing.T) {
	e := newEnv(t)
	e.wf.startErr = monitor.Errorf(monitor.KindUnavailable, "sfn", "timed out")
	e.wf.onStart = func(name string) {
		u := monitor.CheckUpdate{ExecutionArn: arnPrefix + name, At: t0,
			CustomStatus: monitor.CustomStatus{JobID: name, Status: monitor.StatusRunning, CheckCount: 1, LastCheckTime: t0}}
		if _, err := e.store.RecordCheck(context.Background(), name, u); err != nil {
			t.Errorf("RecordCheck: %v", err)
		}
	}
	rec, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"lost","target":{"type":"simulated"}}`))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if rec.ExecutionArn != arnPrefix+"lost" || rec.RuntimeStatus != monitor.RuntimeRunning {
		t.Errorf("answer %+v, want the running monitor", rec)
	}
	if got := e.get(t, "lost"); got.ExecutionArn != arnPrefix+"lost" {
		t.Errorf("stored record %+v, want it kept with its execution", got)
	}
}

func TestStartTerminatedWhileStarting(t *testing.T) {
	e := newEnv(t)
	e.wf.onStart = func(name string) {
		if _, err := e.api.Terminate(context.Background(), name, "changed my mind"); err != nil {
			t.Errorf("Terminate: %v", err)
		}
	}
	rec, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"racy","target":{"type":"simulated"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if rec.RuntimeStatus != monitor.RuntimeTerminated {
		t.Errorf("status = %s, want Terminated", rec.RuntimeStatus)
	}
	// The record names the execution that was started for it, as the
	// record of a monitor terminated while it ran does.
	if rec.ExecutionArn != arnPrefix+"racy" {
		t.Errorf("answer names execution %q, want %q", rec.ExecutionArn, arnPrefix+"racy")
	}
	if got := e.get(t, "racy"); got.ExecutionArn != arnPrefix+"racy" || got.RuntimeStatus != monitor.RuntimeTerminated {
		t.Errorf("stored record %+v, want it Terminated naming the execution", got)
	}
	// Stopped with the terminate's reason, as a terminate of a running
	// monitor stops its execution.
	if len(e.wf.stops) != 1 || e.wf.stops[0].Arn != arnPrefix+"racy" || e.wf.stops[0].Cause != "changed my mind" {
		t.Errorf("stops = %+v, want the new execution stopped with the reason", e.wf.stops)
	}
}

// A start that fails (its execution's name is taken, or Step Functions
// is unavailable) while a terminate finishes its claim leaves nothing:
// the monitor never ran, and its claim, terminated, would otherwise stay
// as a finished monitor that no start of the id could replace until it
// was purged.
func TestStartFailedAndTerminatedWhileStarting(t *testing.T) {
	for _, startErr := range []error{
		monitor.Errorf(monitor.KindConflict, "sfn", "ExecutionAlreadyExists"),
		monitor.Errorf(monitor.KindUnavailable, "sfn", "throttled"),
	} {
		t.Run(string(monitor.KindOf(startErr)), func(t *testing.T) {
			e := newEnv(t)
			e.wf.startErr = startErr
			terminated := false
			e.wf.onStart = func(name string) {
				_, err := e.api.Terminate(context.Background(), name, "changed my mind")
				terminated = err == nil
			}
			_, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"racy","target":{"type":"simulated"}}`))
			if !monitor.IsKind(err, monitor.KindOf(startErr)) {
				t.Errorf("Start: %v; want %s", err, monitor.KindOf(startErr))
			}
			if !terminated {
				t.Fatal("the terminate during the start failed")
			}
			if got, err := e.store.Get(context.Background(), "racy"); !monitor.IsKind(err, monitor.KindNotFound) {
				t.Errorf("record after the failed start: %+v, %v; want none", got, err)
			}
		})
	}
}

// A start whose claim was terminated, purged and the id claimed again by
// another start while its execution was starting leaves the new claim
// alone: the execution is not recorded in it, and is stopped, since no
// record is its monitor's any more; the answer is not the new claim.
func TestStartTerminatedPurgedAndClaimedAgainWhileStarting(t *testing.T) {
	e := newEnv(t)
	other := t0.Add(time.Second)
	e.wf.onStart = func(name string) {
		ctx := context.Background()
		if _, err := e.api.Terminate(ctx, name, "changed my mind"); err != nil {
			t.Errorf("Terminate: %v", err)
		}
		if err := e.api.Purge(ctx, name); err != nil {
			t.Errorf("Purge: %v", err)
		}
		spec := monitor.Spec{JobID: name, Target: monitor.Target{Type: monitor.TargetSimulated}}
		claim := monitor.Record{InstanceID: name, Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
			Input: spec, CreatedTime: other, LastUpdatedTime: other}
		if err := e.store.Create(ctx, claim); err != nil {
			t.Errorf("Create: %v", err)
		}
	}
	rec, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"racy","target":{"type":"simulated"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !rec.CreatedTime.Equal(t0) {
		t.Errorf("answer created at %v, want this start's claim (%v), not the other", rec.CreatedTime, t0)
	}
	if got := e.get(t, "racy"); got.ExecutionArn != "" || got.RuntimeStatus != monitor.RuntimePending || !got.CreatedTime.Equal(other) {
		t.Errorf("other claim after the start: %+v; want it Pending with no execution", got)
	}
	if len(e.wf.stops) != 1 || e.wf.stops[0].Arn != arnPrefix+"racy" {
		t.Errorf("stops = %+v, want the start's execution stopped", e.wf.stops)
	}
}

func TestStartAfterTheFirstCheck(t *testing.T) {
	// The execution's first check records its status before Start
	// records the execution: lastUpdatedTime stays the check's time.
	e := newEnv(t)
	checked := t0.Add(2 * time.Second)
	e.wf.onStart = func(name string) {
		u := monitor.CheckUpdate{ExecutionArn: arnPrefix + name, At: checked,
			CustomStatus: monitor.CustomStatus{JobID: name, Status: monitor.StatusRunning, CheckCount: 1, LastCheckTime: checked}}
		if _, err := e.store.RecordCheck(context.Background(), name, u); err != nil {
			t.Errorf("RecordCheck: %v", err)
		}
	}
	if _, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"quick","target":{"type":"simulated"}}`)); err != nil {
		t.Fatal(err)
	}
	got, err := e.api.Get(context.Background(), "quick")
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastUpdatedTime.Equal(checked) || got.ExecutionArn != arnPrefix+"quick" {
		t.Errorf("lastUpdatedTime %v, executionArn %q; want the first check's time %v and the execution",
			got.LastUpdatedTime, got.ExecutionArn, checked)
	}
}

func TestGet(t *testing.T) {
	e := newEnv(t)
	e.running(t, "g1", 2)
	rec, err := e.api.Get(context.Background(), "g1")
	if err != nil || rec.CustomStatus.CheckCount != 2 {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	_, err = e.api.Get(context.Background(), "nope")
	wantKind(t, err, monitor.KindNotFound)
	if got := monitor.MessageOf(err); got != `no monitor with instance id "nope"` {
		t.Errorf("message = %q", got)
	}
	_, err = e.api.Get(context.Background(), "bad id!")
	wantKind(t, err, monitor.KindInvalid)
}

func TestList(t *testing.T) {
	e := newEnv(t)
	for i, id := range []string{"a", "b", "c"} {
		e.now = t0.Add(time.Duration(i) * time.Minute)
		e.running(t, id, 0)
	}
	page, err := e.api.List(context.Background(), monitor.ListQuery{Top: 2})
	if err != nil || len(page.Records) != 2 || page.ContinuationToken == "" || page.Records[0].InstanceID != "c" {
		t.Fatalf("List = %+v, %v", page, err)
	}
	issued := page.ContinuationToken
	page, err = e.api.List(context.Background(), monitor.ListQuery{Top: 2, ContinuationToken: issued})
	if err != nil || len(page.Records) != 1 || page.Records[0].InstanceID != "a" {
		t.Fatalf("List page 2 = %+v, %v", page, err)
	}
	// Another instance with the same key (another Lambda) takes the token.
	same := *e.api
	same.TokenKey = nil
	if page, err := same.List(context.Background(), monitor.ListQuery{Top: 2, ContinuationToken: issued}); err != nil || len(page.Records) != 1 {
		t.Fatalf("List page 2 on another instance = %+v, %v", page, err)
	}
	storePage, err := e.store.List(context.Background(), monitor.ListQuery{Top: 2})
	if err != nil {
		t.Fatal(err)
	}
	storeTok := storePage.ContinuationToken
	// The seal of a real token on a position edited to another record.
	seal := issued[strings.LastIndexByte(issued, '.'):]
	pos, _ := base64.RawURLEncoding.DecodeString(storeTok)
	edited := base64.RawURLEncoding.EncodeToString(bytes.Replace(pos, []byte(`"i":"b"`), []byte(`"i":"c"`), 1)) + seal
	other := *e.api
	other.TokenKey = []byte("another deployment")
	otherPage, err := other.List(context.Background(), monitor.ListQuery{Top: 2})
	if err != nil {
		t.Fatal(err)
	}
	otherKey := otherPage.ContinuationToken
	if otherKey == issued {
		t.Fatalf("tokens under two keys are the same: %s", issued)
	}

	for _, tc := range []struct {
		name  string
		q     monitor.ListQuery
		field string
	}{
		{"bad status", monitor.ListQuery{RuntimeStatus: []monitor.RuntimeStatus{"Sleeping"}}, "runtimeStatus"},
		{"top too big", monitor.ListQuery{Top: 1001}, "top"},
		{"negative top", monitor.ListQuery{Top: -1}, "top"},
		{"from after to", monitor.ListQuery{CreatedFrom: t0, CreatedTo: t0.Add(-time.Second)}, "createdTimeFrom"},
		// In UTC this is year 10000, which the DynamoDB store's string keys
		// sort before 2026: it answered an upper bound with nothing.
		{"to past year 9999", monitor.ListQuery{CreatedTo: time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("EST", -5*3600))}, "createdTimeTo"},
		{"from past year 9999", monitor.ListQuery{CreatedFrom: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "createdTimeFrom"},
		{"long token", monitor.ListQuery{ContinuationToken: strings.Repeat("x", 5000)}, "continuationToken"},
		{"foreign token", monitor.ListQuery{ContinuationToken: "not-a-token!"}, "continuationToken"},
		{"forged token", monitor.ListQuery{ContinuationToken: base64.RawURLEncoding.EncodeToString([]byte(`{"c":1,"i":"x"}`))}, "continuationToken"},
		{"forged token, standard base64", monitor.ListQuery{ContinuationToken: base64.StdEncoding.EncodeToString([]byte(`{"c":1,"i":"x"}`))}, "continuationToken"},
		{"store's token without its seal", monitor.ListQuery{ContinuationToken: storeTok}, "continuationToken"},
		{"edited position", monitor.ListQuery{ContinuationToken: edited}, "continuationToken"},
		{"edited seal", monitor.ListQuery{ContinuationToken: issued[:len(issued)-1] + flip(issued[len(issued)-1])}, "continuationToken"},
		{"seal only", monitor.ListQuery{ContinuationToken: issued[strings.LastIndexByte(issued, '.'):]}, "continuationToken"},
		{"another key's token", monitor.ListQuery{ContinuationToken: otherKey}, "continuationToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.api.List(context.Background(), tc.q)
			wantKind(t, err, monitor.KindInvalid)
			if !strings.Contains(monitor.MessageOf(err), tc.field) {
				t.Errorf("message %q does not name %s", monitor.MessageOf(err), tc.field)
			}
		})
	}
}

// TestListTokenOfAnotherQuery: a continuation token continues only the
// query it was issued for. With other filters it is 400, not a position
// in another list that would silently skip that list's newer records.
// The page size and the order or repetition of statuses are not part of
// the query.
func TestListTokenOfAnotherQuery(t *testing.T) {
	e := newEnv(t)
	e.api.TokenKey = []byte("test key")
	for i := range 10 {
		e.now = t0.Add(time.Duration(i) * time.Minute)
		id := fmt.Sprintf("m%d", i)
		e.running(t, id, 1)
		if i%2 == 0 {
			if _, err := e.api.Terminate(context.Background(), id, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	running, terminated := monitor.RuntimeRunning, monitor.RuntimeTerminated
	issuedFor := monitor.ListQuery{RuntimeStatus: []monitor.RuntimeStatus{terminated, running}, CreatedFrom: t0.Add(time.Minute), CreatedTo: t0.Add(9 * time.Minute), Top: 1}
	page, err := e.api.List(context.Background(), issuedFor)
	if err != nil || page.ContinuationToken == "" {
		t.Fatalf("List = %+v, %v; want a page and a token", page, err)
	}
	tok := page.ContinuationToken
	with := func(q monitor.ListQuery) monitor.ListQuery { q.ContinuationToken = tok; return q }

	for _, tc := range []struct {
		name string
		q    monitor.ListQuery
	}{
		{"same query", with(issuedFor)},
		{"another page size", with(monitor.ListQuery{RuntimeStatus: issuedFor.RuntimeStatus, CreatedFrom: issuedFor.CreatedFrom, CreatedTo: issuedFor.CreatedTo, Top: 5})},
		{"statuses reordered and repeated", with(monitor.ListQuery{RuntimeStatus: []monitor.RuntimeStatus{running, terminated, running},
			CreatedFrom: issuedFor.CreatedFrom, CreatedTo: issuedFor.CreatedTo, Top: 1})},
		{"same times in another zone", with(monitor.ListQuery{RuntimeStatus: issuedFor.RuntimeStatus,
			CreatedFrom: issuedFor.CreatedFrom.In(time.FixedZone("CET", 3600)), CreatedTo: issuedFor.CreatedTo, Top: 1})},
	} {
		t.Run("accepted/"+tc.name, func(t *testing.T) {
			page, err := e.api.List(context.Background(), tc.q)
			if err != nil || len(page.Records) == 0 || page.Records[0].InstanceID != "m7" {
				t.Fatalf("List = %+v, %v; want the next page, from m7", page, err)
			}
		})
	}

	// A token sealed before tokens were tied to their query.
	storePage, err := e.store.List(context.Background(), monitor.ListQuery{Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	unscoped := pagetoken.New(e.api.TokenKey).Seal("", storePage.ContinuationToken)
	for _, tc := range []struct {
		name string
		q    monitor.ListQuery
	}{
		{"another status", with(monitor.ListQuery{RuntimeStatus: []monitor.RuntimeStatus{running}, CreatedFrom: issuedFor.CreatedFrom, CreatedTo: issuedFor.CreatedTo})},
		{"no status filter", with(monitor.ListQuery{CreatedFrom: issuedFor.CreatedFrom, CreatedTo: issuedFor.CreatedTo})},
		{"another createdTimeFrom", with(monitor.ListQuery{RuntimeStatus: issuedFor.RuntimeStatus, CreatedFrom: t0, CreatedTo: issuedFor.CreatedTo})},
		{"no createdTimeTo", with(monitor.ListQuery{RuntimeStatus: issuedFor.RuntimeStatus, CreatedFrom: issuedFor.CreatedFrom})},
		{"no filters", with(monitor.ListQuery{})},
		{"an unscoped token", monitor.ListQuery{ContinuationToken: unscoped}},
	} {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			_, err := e.api.List(context.Background(), tc.q)
			wantKind(t, err, monitor.KindInvalid)
			if msg := monitor.MessageOf(err); !strings.Contains(msg, "continuationToken") || !strings.Contains(msg, "query") {
				t.Errorf("message %q does not say the token is not of this query", msg)
			}
		})
	}
}

// flip returns a base64url digit other than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestTerminate(t *testing.T) {
	e := newEnv(t)
	e.running(t, "t1", 3)
	// 90.6 s: rounded, as the check and alert tasks round the duration
	// of a monitor they finish (Terminate truncated it to 90).
	e.now = t0.Add(90*time.Second + 600*time.Millisecond)
	rec, err := e.api.Terminate(context.Background(), "t1", "no longer needed")
	if err != nil {
		t.Fatal(err)
	}
	want := stopCall{arnPrefix + "t1", monitor.TerminateError, "no longer needed"}
	if len(e.wf.stops) != 1 || e.wf.stops[0] != want {
		t.Errorf("stops = %+v, want %+v", e.wf.stops, want)
	}
	if rec.RuntimeStatus != monitor.RuntimeTerminated || rec.Output == nil {
		t.Fatalf("record = %+v", rec)
	}
	wantOut := monitor.Output{JobID: "t1", FinalStatus: monitor.FinalTerminated, ChecksPerformed: 3,
		MonitoringDurationSeconds: 91, Detail: "terminated: no longer needed"}
	if got := *rec.Output; got.JobID != wantOut.JobID || got.FinalStatus != wantOut.FinalStatus ||
		got.ChecksPerformed != wantOut.ChecksPerformed || got.MonitoringDurationSeconds != wantOut.MonitoringDurationSeconds ||
		got.Detail != wantOut.Detail {
		t.Errorf("output = %+v, want %+v", got, wantOut)
	}

	_, err = e.api.Terminate(context.Background(), "t1", "")
	wantKind(t, err, monitor.KindGone)
	_, err = e.api.Terminate(context.Background(), "nope", "")
	wantKind(t, err, monitor.KindNotFound)
	_, err = e.api.Terminate(context.Background(), "t1", strings.Repeat("r", 257))
	wantKind(t, err, monitor.KindInvalid)
	if len(e.wf.stops) != 1 {
		t.Errorf("stops after refused terminates = %d, want 1", len(e.wf.stops))
	}
}

// A terminate reason becomes the output's detail: control characters,
// line breaks and bidirectional formatting characters are refused, with a
// problem that names reason.
func TestTerminateReasonWithoutControlCharacters(t *testing.T) {
	for _, reason := range []string{"a\x00b", "\x1b[31mred", "two\nlines", "cr\r", "tab\there", "del\x7f", "nel\u0085", "ls\u2028", "ps\u2029", "bad utf-8 \xff", "rlo\u202egnp.exe", "rli\u2067x", "rlm\u200f", "alm\u061c"} {
		e := newEnv(t)
		e.running(t, "t1", 1)
		_, err := e.api.Terminate(context.Background(), "t1", reason)
		want := []monitor.FieldError{{Field: "reason", Problem: "must be UTF-8 text of at most 256 characters, without control characters, line breaks or bidirectional formatting characters"}}
		var me *monitor.Error
		if !errors.As(err, &me) || me.Kind != monitor.KindInvalid || !slices.Equal(me.Fields, want) {
			t.Errorf("Terminate(%q) = %v; want invalid with fields %q", reason, err, want)
		}
		if len(e.wf.stops) != 0 || e.get(t, "t1").RuntimeStatus != monitor.RuntimeRunning {
			t.Errorf("Terminate(%q): %d stops, status %s; want nothing changed", reason, len(e.wf.stops), e.get(t, "t1").RuntimeStatus)
		}
	}
	// Other text is fine, spaces and non-ASCII letters included.
	e := newEnv(t)
	e.running(t, "t1", 1)
	if rec, err := e.api.Terminate(context.Background(), "t1", "  plus de besoin — déplacé  "); err != nil || rec.Output.Detail != "terminated:   plus de besoin — déplacé  " {
		t.Errorf("Terminate = %+v, %v", rec.Output, err)
	}
}

// TestTerminateRacesExecutionEnd delivers the execution's ABORTED end
// (as EventBridge would) at both points of Terminate: inside the stop,
// before Terminate writes, and after Terminate has written. The record
// must say what an API terminate says whichever write wins.
func TestTerminateRacesExecutionEnd(t *testing.T) {
	for _, tc := range []struct {
		name, reason, want string
		// endInsideStop delivers the end before Stop returns.
		endInsideStop bool
	}{
		{name: "end first, with a reason", reason: "no longer needed", want: "terminated: no longer needed", endInsideStop: true},
		{name: "end first, without a reason", reason: "", want: "terminated", endInsideStop: true},
		{name: "terminate first", reason: "r1", want: "terminated: r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.running(t, "race", 2)
			var end monitor.ExecutionEnd
			e.wf.onStop = func(arn string) {
				// What the status-change event of this stop carries.
				s := e.wf.stops[len(e.wf.stops)-1]
				end = monitor.ExecutionEnd{ExecutionArn: arn, Status: monitor.ExecutionAborted, Error: s.Error, Cause: s.Cause, At: e.now}
				if !tc.endInsideStop {
					return
				}
				applied, err := e.api.RecordExecutionEnd(context.Background(), end)
				if err != nil || !applied {
					t.Errorf("RecordExecutionEnd inside the stop = %v, %v; want applied", applied, err)
				}
			}
			rec, err := e.api.Terminate(context.Background(), "race", tc.reason)
			if err != nil {
				t.Fatalf("Terminate: %v", err)
			}
			if !tc.endInsideStop {
				if applied, err := e.api.RecordExecutionEnd(context.Background(), end); err != nil || applied {
					t.Errorf("RecordExecutionEnd after Terminate = %v, %v; want ignored", applied, err)
				}
			}
			for _, got := range []monitor.Record{rec, e.get(t, "race")} {
				if got.RuntimeStatus != monitor.RuntimeTerminated || got.Output == nil || got.Output.Detail != tc.want ||
					got.Output.FinalStatus != monitor.FinalTerminated || got.Output.ChecksPerformed != 2 {
					t.Errorf("record = %s, output %+v; want Terminated, detail %q after 2 checks", got.RuntimeStatus, got.Output, tc.want)
				}
			}
		})
	}
}

// TestTerminateLosesTheRace finishes the monitor while a terminate is
// between its stop and its write, as a concurrent terminate or the
// monitor's own end would: only the request whose termination the record
// holds is told it was accepted, or a retry of it (the same reason); any
// other request is KindGone (410), as it would be had it come a moment
// later.
func TestTerminateLosesTheRace(t *testing.T) {
	const reason = "r1"
	for _, tc := range []struct {
		name string
		// meanwhile finishes monitor "race" inside the stop of the
		// terminate with reason r1.
		meanwhile func(t *testing.T, e *env)
		wantErr   monitor.Kind // "" for accepted
		want      string       // the record's output detail at the end
	}{
		{
			name: "another reason first",
			meanwhile: func(t *testing.T, e *env) {
				if rec, err := e.api.Terminate(context.Background(), "race", "r2"); err != nil || rec.Output.Detail != "terminated: r2" {
					t.Errorf("Terminate(r2) = %+v, %v; want accepted", rec.Output, err)
				}
			},
			wantErr: monitor.KindGone, want: "terminated: r2",
		},
		{
			name: "no reason first",
			meanwhile: func(t *testing.T, e *env) {
				if _, err := e.api.Terminate(context.Background(), "race", ""); err != nil {
					t.Errorf("Terminate() = %v; want accepted", err)
				}
			},
			wantErr: monitor.KindGone, want: "terminated",
		},
		{
			name: "the same reason first",
			meanwhile: func(t *testing.T, e *env) {
				if _, err := e.api.Terminate(context.Background(), "race", reason); err != nil {
					t.Errorf("Terminate(%s) = %v; want accepted", reason, err)
				}
			},
			want: "terminated: " + reason,
		},
		{
			name: "stopped outside the API first",
			meanwhile: func(t *testing.T, e *env) {
				end := monitor.ExecutionEnd{ExecutionArn: arnPrefix + "race", Status: monitor.ExecutionAborted, Error: "States.Stopped", Cause: reason, At: e.now}
				if applied, err := e.api.RecordExecutionEnd(context.Background(), end); err != nil || !applied {
					t.Errorf("RecordExecutionEnd = %v, %v; want applied", applied, err)
				}
			},
			wantErr: monitor.KindGone, want: "the execution was stopped outside the monitor API: States.Stopped: " + reason,
		},
		{
			name: "completed first",
			meanwhile: func(t *testing.T, e *env) {
				f := monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: e.now,
					Output: monitor.Output{JobID: "race", FinalStatus: monitor.FinalCompleted, Detail: "terminated: " + reason}}
				if err := e.store.Finish(context.Background(), "race", f); err != nil {
					t.Errorf("Finish: %v", err)
				}
			},
			wantErr: monitor.KindGone, want: "terminated: " + reason,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.running(t, "race", 2)
			once := false
			e.wf.onStop = func(string) {
				if !once {
					once = true
					tc.meanwhile(t, e)
				}
			}
			rec, err := e.api.Terminate(context.Background(), "race", reason)
			if tc.wantErr != "" {
				wantKind(t, err, tc.wantErr)
			} else if err != nil || rec.Output == nil || rec.Output.Detail != tc.want {
				t.Errorf("Terminate(%s) = %+v, %v; want accepted with detail %q", reason, rec.Output, err, tc.want)
			}
			if got := e.get(t, "race"); got.Output == nil || got.Output.Detail != tc.want {
				t.Errorf("record output %+v, want detail %q", got.Output, tc.want)
			}
		})
	}
}

// TestTerminateAfterPurgeAndRestart: the monitor a terminate read
// completes, is purged and its id started again while the terminate stops
// the old execution. The terminate must leave the new monitor alone
// (neither finish its record nor stop its execution).
func TestTerminateAfterPurgeAndRestart(t *testing.T) {
	e := newEnv(t)
	e.running(t, "race", 2)
	var fresh monitor.Record
	e.wf.onStop = func(arn string) {
		if arn != arnPrefix+"race" {
			return
		}
		ctx := context.Background()
		old := e.get(t, "race")
		f := monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: e.now,
			Output: monitor.Output{JobID: "race", FinalStatus: monitor.FinalCompleted}}
		if err := e.store.Finish(ctx, "race", f); err != nil {
			t.Fatalf("Finish: %v", err)
		}
		if err := e.store.DeleteFinished(ctx, "race", old.CreatedTime); err != nil {
			t.Fatalf("DeleteFinished: %v", err)
		}
		e.now = e.now.Add(time.Second)
		fresh = e.running(t, "race", 0)
	}
	rec, err := e.api.Terminate(context.Background(), "race", "r1")
	// As when the record is purged without a new start: this request
	// stopped the old execution, so it is told it terminated the monitor,
	// as the record it read.
	if err != nil || rec.RuntimeStatus != monitor.RuntimeTerminated || rec.CreatedTime.Equal(fresh.CreatedTime) {
		t.Errorf("Terminate = %s created %v, %v; want the old monitor terminated", rec.RuntimeStatus, rec.CreatedTime, err)
	}
	got := e.get(t, "race")
	if !got.CreatedTime.Equal(fresh.CreatedTime) || got.RuntimeStatus.Final() {
		t.Errorf("the new monitor's record: created %v, %s; want created %v and still live", got.CreatedTime, got.RuntimeStatus, fresh.CreatedTime)
	}
	for _, s := range e.wf.stops {
		if s.Arn != arnPrefix+"race" {
			t.Errorf("stopped %s: only the old execution %s may be stopped", s.Arn, arnPrefix+"race")
		}
	}
}

func TestTerminateStopFails(t *testing.T) {
	e := newEnv(t)
	e.running(t, "t2", 1)
	e.wf.stopErr = map[string]error{arnPrefix + "t2": monitor.Errorf(monitor.KindUnavailable, "sfn", "throttled")}
	_, err := e.api.Terminate(context.Background(), "t2", "")
	wantKind(t, err, monitor.KindUnavailable)
	if got := e.get(t, "t2").RuntimeStatus; got != monitor.RuntimeRunning {
		t.Errorf("status after a failed stop = %s, want Running", got)
	}
}

func TestTerminateAfterContinueAsNew(t *testing.T) {
	gone := monitor.Errorf(monitor.KindGone, "sfn", "ended")
	tests := []struct {
		name string
		// setup runs after monitor "t3" has recorded one check in
		// generation 0, whose execution has ended (continued as new).
		setup     func(t *testing.T, e *env)
		wantStops []string
	}{
		{
			name: "next generation recorded meanwhile",
			setup: func(t *testing.T, e *env) {
				// Generation 1 records its first check while the stop of
				// generation 0 is under way.
				e.wf.onStop = func(arn string) {
					if arn != arnPrefix+"t3" {
						return
					}
					u := monitor.CheckUpdate{ExecutionArn: arnPrefix + "t3-g1", At: e.now,
						CustomStatus: monitor.CustomStatus{JobID: "t3", CheckCount: 2, Generation: 1}}
					if _, err := e.store.RecordCheck(context.Background(), "t3", u); err != nil {
						t.Errorf("RecordCheck: %v", err)
					}
				}
			},
			wantStops: []string{"t3", "t3-g1"},
		},
		{
			name: "next generation recorded after the stop looked for it",
			setup: func(t *testing.T, e *env) {
				// Generation 1 records its first check after the stop
				// of generation 0 read the record (still naming
				// generation 0) and before the terminate's Finish: it
				// was left running, to wait out its interval and check
				// once more.
				e.api.Store = &afterGets{Store: e.store, n: 2, fn: func() {
					u := monitor.CheckUpdate{ExecutionArn: arnPrefix + "t3-g1", At: e.now,
						CustomStatus: monitor.CustomStatus{JobID: "t3", CheckCount: 2, Generation: 1}}
					if _, err := e.store.RecordCheck(context.Background(), "t3", u); err != nil {
						t.Errorf("RecordCheck: %v", err)
					}
				}}
			},
			wantStops: []string{"t3", "t3-g1"},
		},
		{
			name: "next generation not recorded yet",
			// Nothing names generation 1: it is not stopped by a guess;
			// its first check finds the record terminated and ends it.
			wantStops: []string{"t3"},
		},
		{
			name: "another monitor holds the next generation's name",
			setup: func(t *testing.T, e *env) {
				// A monitor created before ids ending in -g{n} were
				// refused.
				rec := e.get(t, "t3")
				rec.InstanceID, rec.ExecutionArn = "t3-g1", arnPrefix+"t3-g1"
				if err := e.store.Create(context.Background(), rec); err != nil {
					t.Fatal(err)
				}
			},
			wantStops: []string{"t3"},
		},
		{
			name: "record names an older generation",
			setup: func(t *testing.T, e *env) {
				e.wf.onStop = func(arn string) {
					if arn != arnPrefix+"t3" {
						return
					}
					// Not a later generation: never followed.
					u := monitor.CheckUpdate{ExecutionArn: arnPrefix + "other", At: e.now,
						CustomStatus: monitor.CustomStatus{JobID: "t3", CheckCount: 2}}
					if _, err := e.store.RecordCheck(context.Background(), "t3", u); err != nil {
						t.Errorf("RecordCheck: %v", err)
					}
				}
			},
			wantStops: []string{"t3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.running(t, "t3", 1)
			e.wf.stopErr = map[string]error{arnPrefix + "t3": gone}
			if tt.setup != nil {
				tt.setup(t, e)
			}
			rec, err := e.api.Terminate(context.Background(), "t3", "")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range e.wf.stops {
				got = append(got, strings.TrimPrefix(s.Arn, arnPrefix))
			}
			if strings.Join(got, ",") != strings.Join(tt.wantStops, ",") {
				t.Errorf("stopped %v, want %v", got, tt.wantStops)
			}
			if rec.RuntimeStatus != monitor.RuntimeTerminated {
				t.Errorf("status = %s, want Terminated", rec.RuntimeStatus)
			}
		})
	}
}

func TestStartRefusesGenerationSuffix(t *testing.T) {
	e := newEnv(t)
	// ParseStartRequest refuses the id too; Start checks it for callers
	// that build a StartRequest themselves.
	req := monitor.StartRequest{InstanceID: "abc-g1", Spec: parse(t, `{"target":{"type":"simulated"}}`).Spec}
	_, err := e.api.Start(context.Background(), req)
	wantKind(t, err, monitor.KindInvalid)
	if msg := monitor.MessageOf(err); !strings.Contains(msg, "instanceId must not end in -g followed by digits") {
		t.Errorf("message = %q", msg)
	}
	if len(e.wf.starts) != 0 {
		t.Errorf("workflow started: %+v", e.wf.starts)
	}
	if _, err := e.store.Get(context.Background(), "abc-g1"); !monitor.IsKind(err, monitor.KindNotFound) {
		t.Errorf("Get after a refused start: %v, want not found", err)
	}
}

// setInterval's data is checked like a start request's
// pollingIntervalSeconds, every problem listed in fields.
func TestRaiseEventSetIntervalData(t *testing.T) {
	body := func(p string) []monitor.FieldError { return []monitor.FieldError{{Field: "body", Problem: p}} }
	interval := func(p string) []monitor.FieldError {
		return []monitor.FieldError{{Field: "pollingIntervalSeconds", Problem: p}}
	}
	const object = `must be a JSON object such as {"pollingIntervalSeconds": 30}`
	for _, tc := range []struct {
		name, data string
		want       []monitor.FieldError // nil: accepted
	}{
		{"one second", `{"pollingIntervalSeconds": 1}`, nil},
		{"one day", `{"pollingIntervalSeconds": 86400}`, nil},
		{"zero", `{"pollingIntervalSeconds": 0}`, interval("must be between 1 and 86400 seconds")},
		{"over a day", `{"pollingIntervalSeconds": 100000}`, interval("must be between 1 and 86400 seconds")},
		{"negative", `{"pollingIntervalSeconds": -5}`, interval("must be between 1 and 86400 seconds")},
		{"string", `{"pollingIntervalSeconds": "x"}`, interval(`must be a whole number, not the string "x"`)},
		{"fraction", `{"pollingIntervalSeconds": 1.5}`, interval("must be a whole number, not 1.5")},
		{"null", `{"pollingIntervalSeconds": null}`, interval("is required")},
		{"empty object", `{}`, interval("is required")},
		{"unknown field too", `{"interval": 5, "pollingIntervalSeconds": 0}`, []monitor.FieldError{
			{Field: "interval", Problem: "is not a known field"},
			{Field: "pollingIntervalSeconds", Problem: "must be between 1 and 86400 seconds"}}},
		{"miscased", `{"PollingIntervalSeconds": 30}`, []monitor.FieldError{
			{Field: "PollingIntervalSeconds", Problem: "is not a known field (did you mean pollingIntervalSeconds? field names are case-sensitive)"},
			{Field: "pollingIntervalSeconds", Problem: "is required"}}},
		{"twice", `{"pollingIntervalSeconds": 30, "pollingIntervalSeconds": 0}`, interval("is given more than once")},
		{"bare string", `"x"`, body(object)},
		{"bare number", `30`, body(object)},
		{"no body", ``, body(object)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRaiseEvent(t, monitor.EventSetInterval, []byte(tc.data), tc.want)
		})
	}
}

// wantRaiseEvent raises event name with data on a running monitor and
// checks that it is stored (want nil) or refused as invalid with exactly
// the fields of want, storing nothing.
func wantRaiseEvent(t *testing.T, name string, data []byte, want []monitor.FieldError) {
	t.Helper()
	e := newEnv(t)
	e.running(t, "r1", 1)
	err := e.api.RaiseEvent(context.Background(), "r1", name, data)
	n := len(e.get(t, "r1").Events)
	if want == nil {
		if err != nil || n != 1 {
			t.Fatalf("RaiseEvent = %v, %d events; want accepted", err, n)
		}
		return
	}
	var me *monitor.Error
	if !errors.As(err, &me) || me.Kind != monitor.KindInvalid || !slices.Equal(me.Fields, want) {
		t.Fatalf("RaiseEvent = %#v; want invalid with fields %q", err, want)
	}
	if n != 0 {
		t.Errorf("%d events stored, want none", n)
	}
}

// Event data of any name may not repeat a key in one object, at any depth.
func TestRaiseEventDuplicateKeys(t *testing.T) {
	for _, tc := range []struct{ data, field string }{
		{`{"a":1,"a":2}`, "a"},
		{`{"a":{"b":1,"c":[],"b":2}}`, "a.b"},
		{`[1,{"b":{"a":1,"c":[],"a":2}}]`, "[1].b.a"},
	} {
		e := newEnv(t)
		e.running(t, "r1", 1)
		err := e.api.RaiseEvent(context.Background(), "r1", "note", []byte(tc.data))
		want := []monitor.FieldError{{Field: tc.field, Problem: "is given more than once"}}
		var me *monitor.Error
		if !errors.As(err, &me) || me.Kind != monitor.KindInvalid || !slices.Equal(me.Fields, want) {
			t.Errorf("RaiseEvent(%s) = %v; want invalid with fields %q", tc.data, err, want)
		}
		if n := len(e.get(t, "r1").Events); n != 0 {
			t.Errorf("RaiseEvent(%s): %d events stored, want none", tc.data, n)
		}
	}
	// Equal keys in different objects are fine.
	e := newEnv(t)
	e.running(t, "r1", 1)
	if err := e.api.RaiseEvent(context.Background(), "r1", "note", []byte(`{"a":{"a":1},"b":[{"a":1},{"a":2}]}`)); err != nil {
		t.Errorf("RaiseEvent: %v", err)
	}
}

func TestRaiseEvent(t *testing.T) {
	e := newEnv(t)
	e.running(t, "r1", 1)
	if err := e.api.RaiseEvent(context.Background(), "r1", "setInterval", []byte(` {"pollingIntervalSeconds": 30} `)); err != nil {
		t.Fatal(err)
	}
	if err := e.api.RaiseEvent(context.Background(), "r1", "complete", nil); err != nil {
		t.Fatal(err)
	}
	evs := e.get(t, "r1").Events
	if len(evs) != 2 || evs[0].Name != "setInterval" || compact(evs[0].Data) != `{"pollingIntervalSeconds":30}` ||
		len(evs[1].Data) != 0 || !evs[1].RaisedAt.Equal(t0) {
		t.Errorf("events = %+v", evs)
	}
	for _, tc := range []struct {
		name, id, event, data string
		want                  monitor.Kind
	}{
		{"bad name", "r1", "no spaces", "", monitor.KindInvalid},
		{"long name", "r1", strings.Repeat("e", 65), "", monitor.KindInvalid},
		{"bad id", "r/1", "complete", "", monitor.KindInvalid},
		{"bad json", "r1", "complete", "{nope", monitor.KindInvalid},
		// JSON is UTF-8 (RFC 8259); the DynamoDB store rewrote the byte.
		{"not UTF-8", "r1", "note", "\"a\xffb\"", monitor.KindInvalid},
		{"key twice", "r1", "note", `{"a":1,"a":2}`, monitor.KindInvalid},
		{"key twice deeper", "r1", "note", `[{"b":{"a":1,"c":[],"a":2}}]`, monitor.KindInvalid},
		{"too large", "r1", "complete", `"` + strings.Repeat("x", monitor.MaxEventDataBytes) + `"`, monitor.KindTooLarge},
		{"unknown", "nope", "complete", "", monitor.KindNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantKind(t, e.api.RaiseEvent(context.Background(), tc.id, tc.event, []byte(tc.data)), tc.want)
		})
	}
	if n := len(e.get(t, "r1").Events); n != 2 {
		t.Errorf("%d events stored after refused ones, want 2", n)
	}
	// A monitor keeps a bounded number of events.
	for i := 2; i < monitor.MaxEventsPerMonitor; i++ {
		if err := e.api.RaiseEvent(context.Background(), "r1", "checkNow", nil); err != nil {
			t.Fatalf("event %d: %v", i+1, err)
		}
	}
	full := e.api.RaiseEvent(context.Background(), "r1", "checkNow", nil)
	wantKind(t, full, monitor.KindConflict)
	if want := `monitor "r1" already holds 100 events`; !strings.HasPrefix(monitor.MessageOf(full), want) {
		t.Errorf("message %q, want it to start %q", monitor.MessageOf(full), want)
	}
	if n := len(e.get(t, "r1").Events); n != monitor.MaxEventsPerMonitor {
		t.Errorf("%d events stored, want %d", n, monitor.MaxEventsPerMonitor)
	}
	if _, err := e.api.Terminate(context.Background(), "r1", ""); err != nil {
		t.Fatal(err)
	}
	gone := e.api.RaiseEvent(context.Background(), "r1", "complete", nil)
	wantKind(t, gone, monitor.KindGone)
	// Named with how it ended, as a terminate's answer names it.
	if want := `monitor "r1" has already finished (Terminated)`; monitor.MessageOf(gone) != want {
		t.Errorf("message %q, want %q", monitor.MessageOf(gone), want)
	}
}

func TestPurge(t *testing.T) {
	e := newEnv(t)
	e.running(t, "p1", 1)
	err := e.api.Purge(context.Background(), "p1")
	wantKind(t, err, monitor.KindConflict)
	if !strings.Contains(monitor.MessageOf(err), "terminate it first") {
		t.Errorf("message = %q", monitor.MessageOf(err))
	}
	if _, err := e.api.Terminate(context.Background(), "p1", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.api.Purge(context.Background(), "p1"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.api.Purge(context.Background(), "p1"), monitor.KindNotFound)
	wantKind(t, e.api.Purge(context.Background(), ""), monitor.KindInvalid)
}

// racyStore runs afterGet once, right after a Get: what another request
// did between a read and the write that follows it.
type racyStore struct {
	monitor.Store
	afterGet func()
}

func (r *racyStore) Get(ctx context.Context, id string) (monitor.Record, error) {
	rec, err := r.Store.Get(ctx, id)
	if f := r.afterGet; f != nil {
		r.afterGet = nil
		f()
	}
	return rec, err
}

// TestPurgeKeepsAMonitorStartedMeanwhile: a purge that read a finished
// record deletes that record only. When another purge deleted it and a
// start claimed the id again in between, the new monitor is kept and the
// purge is a conflict.
func TestPurgeKeepsAMonitorStartedMeanwhile(t *testing.T) {
	e := newEnv(t)
	e.running(t, "p1", 1)
	if _, err := e.api.Terminate(context.Background(), "p1", ""); err != nil {
		t.Fatal(err)
	}
	var restarted monitor.Record
	e.api.Store = &racyStore{Store: e.store, afterGet: func() {
		other := *e.api
		other.Store = e.store
		if err := other.Purge(context.Background(), "p1"); err != nil {
			t.Fatalf("the other Purge: %v", err)
		}
		e.now = e.now.Add(time.Minute)
		restarted = e.running(t, "p1", 1)
	}}
	err := e.api.Purge(context.Background(), "p1")
	wantKind(t, err, monitor.KindConflict)
	if got := e.get(t, "p1"); got.RuntimeStatus != monitor.RuntimeRunning || !got.CreatedTime.Equal(restarted.CreatedTime) {
		t.Errorf("record after the purge = %s created %v; want the monitor started meanwhile, Running, created %v",
			got.RuntimeStatus, got.CreatedTime, restarted.CreatedTime)
	}
}

// A purge whose finished record is gone when its delete comes (another
// purge's, or its own delete applied with the answer lost and sent again)
// has what it asked for: it succeeds.
func TestPurgeOfARecordGoneMeanwhile(t *testing.T) {
	e := newEnv(t)
	e.running(t, "p1", 1)
	if _, err := e.api.Terminate(context.Background(), "p1", ""); err != nil {
		t.Fatal(err)
	}
	e.api.Store = &racyStore{Store: e.store, afterGet: func() {
		other := *e.api
		other.Store = e.store
		if err := other.Purge(context.Background(), "p1"); err != nil {
			t.Fatalf("the other Purge: %v", err)
		}
	}}
	if err := e.api.Purge(context.Background(), "p1"); err != nil {
		t.Errorf("Purge = %v, want success", err)
	}
	wantKind(t, e.api.Purge(context.Background(), "p1"), monitor.KindNotFound)
}

func TestRecordExecutionEnd(t *testing.T) {
	stop := t0.Add(2 * time.Minute)
	for _, tc := range []struct {
		name string
		// setup prepares the store; the monitor "m" runs generation 0
		// with 4 checks unless setup changes that.
		setup       func(t *testing.T, e *env)
		end         monitor.ExecutionEnd
		wantApplied bool
		wantStatus  monitor.RuntimeStatus
		wantFinal   string
		wantDetail  string
	}{
		{
			name:        "aborted from the console",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m", Status: "ABORTED", At: stop},
			wantApplied: true, wantStatus: monitor.RuntimeTerminated, wantFinal: monitor.FinalTerminated,
			wantDetail: "the execution was stopped outside the monitor API",
		},
		{
			name:        "aborted from the console with an error and cause",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m", Status: "ABORTED", At: stop, Error: "Manual", Cause: "cleanup"},
			wantApplied: true, wantStatus: monitor.RuntimeTerminated, wantFinal: monitor.FinalTerminated,
			wantDetail: "the execution was stopped outside the monitor API: Manual: cleanup",
		},
		{
			name:        "aborted by the API's stop, with a reason",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m", Status: "ABORTED", At: stop, Error: monitor.TerminateError, Cause: "no  longer needed"},
			wantApplied: true, wantStatus: monitor.RuntimeTerminated, wantFinal: monitor.FinalTerminated,
			wantDetail: "terminated: no  longer needed",
		},
		{
			// The API refuses such a reason; a stop from the CLI with
			// the error Terminated can still give one.
			name:        "aborted with the error Terminated and control characters in the cause",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m", Status: "ABORTED", At: stop, Error: monitor.TerminateError, Cause: "no\tlonger\x1b[2J\r\nneeded\u2028"},
			wantApplied: true, wantStatus: monitor.RuntimeTerminated, wantFinal: monitor.FinalTerminated,
			wantDetail: "terminated: no longer [2J  needed ",
		},
		{
			name:        "aborted by the API's stop, without a reason",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m", Status: "ABORTED", At: stop, Error: monitor.TerminateError},
			wantApplied: true, wantStatus: monitor.RuntimeTerminated, wantFinal: monitor.FinalTerminated,
			wantDetail: "terminated",
		},
		{
			name:        "failed with the error name Terminated is a failure",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m", Status: "FAILED", At: stop, Error: monitor.TerminateError, Cause: "x"},
			wantApplied: true, wantStatus: monitor.RuntimeFailed, wantFinal: monitor.FinalFailed,
			wantDetail: "the workflow failed: Terminated: internal error (the cause is in the service's log)",
		},
		{
			name: "failed, from RecordFailure",
			end: monitor.ExecutionEnd{InstanceID: "m", ExecutionArn: arnPrefix + "m", Status: "FAILED", At: stop,
				Error: "PermanentError", Cause: `{"errorMessage":"check m #5: no checker","errorType":"PermanentError"}`},
			wantApplied: true, wantStatus: monitor.RuntimeFailed, wantFinal: monitor.FinalFailed,
			wantDetail: "the workflow failed: PermanentError: internal error (the cause is in the service's log)",
		},
		{
			name:        "timed out",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m", Status: "TIMED_OUT", At: stop},
			wantApplied: true, wantStatus: monitor.RuntimeFailed, wantFinal: monitor.FinalTimeout,
			wantDetail: "the execution timed out",
		},
		{
			name:        "succeeded is not ours to record",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m", Status: "SUCCEEDED"},
			wantApplied: false, wantStatus: monitor.RuntimeRunning,
		},
		{
			name: "old generation ignored",
			setup: func(t *testing.T, e *env) {
				recordCheck(t, e, "m", 5, arnPrefix+"m-g2")
			},
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m-g1", Status: "ABORTED"},
			wantApplied: false, wantStatus: monitor.RuntimeRunning,
		},
		{
			name:        "next generation before its first check",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m-g1", Status: "FAILED", Error: "States.Runtime"},
			wantApplied: true, wantStatus: monitor.RuntimeFailed, wantFinal: monitor.FinalFailed,
			wantDetail: "the workflow failed: States.Runtime",
		},
		{
			name:        "next tagged generation before its first check",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m-g040506-g1", Status: "FAILED", Error: "States.Runtime"},
			wantApplied: true, wantStatus: monitor.RuntimeFailed, wantFinal: monitor.FinalFailed,
			wantDetail: "the workflow failed: States.Runtime",
		},
		{
			name: "old tagged generation ignored",
			setup: func(t *testing.T, e *env) {
				recordCheck(t, e, "m", 5, arnPrefix+"m-g040506-g2")
			},
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m-g040506-g1", Status: "ABORTED"},
			wantApplied: false, wantStatus: monitor.RuntimeRunning,
		},
		{
			// A later generation of an earlier monitor with the same id
			// (its names are taken 90 days) is not this monitor's.
			name: "earlier monitor's generation ignored",
			setup: func(t *testing.T, e *env) {
				recordCheck(t, e, "m", 5, arnPrefix+"m-g040506-g1")
			},
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m-g999999-g7", Status: "TIMED_OUT"},
			wantApplied: false, wantStatus: monitor.RuntimeRunning,
		},
		{
			// While this monitor runs its first execution, whose name has
			// no run tag to compare, an earlier monitor's end still shows
			// by its start: before this monitor was created (t0).
			name:        "earlier monitor's generation ignored during the first execution",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m-g999999-g7", Status: "ABORTED", StartedAt: t0.Add(-48 * time.Hour)},
			wantApplied: false, wantStatus: monitor.RuntimeRunning,
		},
		{
			// Within a minute of the creation, clocks may disagree.
			name:        "an execution started just before the record counts",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m", Status: "FAILED", StartedAt: t0.Add(-time.Second)},
			wantApplied: true, wantStatus: monitor.RuntimeFailed, wantFinal: monitor.FinalFailed,
			wantDetail: "the workflow failed",
		},
		{
			// The reporter knows the monitor's start (the RecordFailure
			// payload, the execution input): an earlier monitor of the
			// id is told exactly, however close its start.
			name: "earlier monitor's execution ignored by the monitor's start",
			end: monitor.ExecutionEnd{InstanceID: "m", ExecutionArn: arnPrefix + "m", Status: "FAILED",
				StartedAt: t0.Add(-10 * time.Second), MonitorStartedAt: t0.Add(-10 * time.Second)},
			wantApplied: false, wantStatus: monitor.RuntimeRunning,
		},
		{
			name: "the monitor's own start counts",
			end: monitor.ExecutionEnd{InstanceID: "m", ExecutionArn: arnPrefix + "m", Status: "FAILED",
				StartedAt: t0, MonitorStartedAt: t0},
			wantApplied: true, wantStatus: monitor.RuntimeFailed, wantFinal: monitor.FinalFailed,
			wantDetail: "the workflow failed",
		},
		{
			// Beyond the skew a clock is wrong, not the execution: the
			// monitor's start, which the execution carries, decides.
			name: "the monitor's own start counts whatever the execution's start",
			end: monitor.ExecutionEnd{InstanceID: "m", ExecutionArn: arnPrefix + "m", Status: "FAILED",
				StartedAt: t0.Add(-time.Hour), MonitorStartedAt: t0},
			wantApplied: true, wantStatus: monitor.RuntimeFailed, wantFinal: monitor.FinalFailed,
			wantDetail: "the workflow failed",
		},
		{
			name: "finished monitor ignored",
			setup: func(t *testing.T, e *env) {
				if _, err := e.api.Terminate(context.Background(), "m", ""); err != nil {
					t.Fatal(err)
				}
			},
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "m", Status: "ABORTED"},
			wantApplied: false, wantStatus: monitor.RuntimeTerminated, wantFinal: monitor.FinalTerminated,
			wantDetail: "terminated",
		},
		{
			name:        "unknown monitor ignored",
			end:         monitor.ExecutionEnd{ExecutionArn: arnPrefix + "gone-g3", Status: "FAILED"},
			wantApplied: false, wantStatus: monitor.RuntimeRunning,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.running(t, "m", 4)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			e.now = t0.Add(time.Hour)
			applied, err := e.api.RecordExecutionEnd(context.Background(), tc.end)
			if err != nil {
				t.Fatal(err)
			}
			if applied != tc.wantApplied {
				t.Errorf("applied = %v, want %v", applied, tc.wantApplied)
			}
			rec := e.get(t, "m")
			if rec.RuntimeStatus != tc.wantStatus {
				t.Errorf("status = %s, want %s", rec.RuntimeStatus, tc.wantStatus)
			}
			if tc.wantFinal == "" {
				return
			}
			if rec.Output == nil || rec.Output.FinalStatus != tc.wantFinal || rec.Output.Detail != tc.wantDetail {
				t.Fatalf("output = %+v, want final %s, detail %q", rec.Output, tc.wantFinal, tc.wantDetail)
			}
			if tc.wantApplied {
				wantDur := int64(2 * 60)
				if tc.end.At.IsZero() {
					wantDur = 3600
				}
				if rec.Output.ChecksPerformed != 4 || rec.Output.MonitoringDurationSeconds != wantDur || rec.Output.JobID != "m" {
					t.Errorf("output = %+v, want 4 checks over %d s", rec.Output, wantDur)
				}
			}
		})
	}
}

// describingWorkflow is a fakeWorkflow that can tell how an execution
// ended (monitor.EndDescriber), from the stops it recorded.
type describingWorkflow struct {
	*fakeWorkflow
	err error
}

func (w describingWorkflow) DescribeEnd(_ context.Context, arn string) (string, string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return "", "", w.err
	}
	for _, s := range slices.Backward(w.stops) {
		if s.Arn == arn {
			return s.Error, s.Cause, nil
		}
	}
	return "", "", nil
}

// A status-change event that does not carry the stop's error and cause
// still records Terminate's detail when it is the first write: the
// workflow is asked how the execution ended. When it cannot say, the
// stop is recorded as one made outside the API, and the terminate, whose
// reason the record does not hold, is told the monitor has finished.
func TestExecutionEndWithoutErrorAsksTheWorkflow(t *testing.T) {
	for _, tc := range []struct {
		name        string
		describeErr error
		want        string
		wantErr     monitor.Kind
	}{
		{"described", nil, "terminated: no longer needed", ""},
		{"describe fails", errors.New("throttled"), "the execution was stopped outside the monitor API", monitor.KindGone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.running(t, "bare", 2)
			e.api.Workflow = describingWorkflow{fakeWorkflow: e.wf, err: tc.describeErr}
			e.wf.onStop = func(arn string) {
				// The event arrives, without error and cause, before
				// Terminate writes the record.
				end := monitor.ExecutionEnd{ExecutionArn: arn, Status: monitor.ExecutionAborted, At: e.now}
				if applied, err := e.api.RecordExecutionEnd(context.Background(), end); err != nil || !applied {
					t.Errorf("RecordExecutionEnd = %v, %v; want applied", applied, err)
				}
			}
			_, err := e.api.Terminate(context.Background(), "bare", "no longer needed")
			if tc.wantErr != "" {
				wantKind(t, err, tc.wantErr)
			} else if err != nil {
				t.Fatalf("Terminate: %v", err)
			}
			if got := e.get(t, "bare"); got.Output == nil || got.Output.Detail != tc.want {
				t.Errorf("output %+v, want detail %q", got.Output, tc.want)
			}
		})
	}
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

func recordCheck(t *testing.T, e *env, id string, n int, arn string) {
	t.Helper()
	u := monitor.CheckUpdate{ExecutionArn: arn, At: e.now,
		CustomStatus: monitor.CustomStatus{JobID: id, Status: monitor.StatusRunning, CheckCount: n, LastCheckTime: e.now}}
	if _, err := e.store.RecordCheck(context.Background(), id, u); err != nil {
		t.Fatal(err)
	}
}

func TestRecordExecutionEndNameMapping(t *testing.T) {
	e := newEnv(t)
	// "job-g1" is an instance id that looks like a generation name, of a
	// monitor created before Start refused such ids.
	e.running(t, "job", 1)
	legacy := e.get(t, "job")
	legacy.InstanceID, legacy.ExecutionArn = "job-g1", arnPrefix+"job-g1"
	if err := e.store.Create(context.Background(), legacy); err != nil {
		t.Fatal(err)
	}
	applied, err := e.api.RecordExecutionEnd(context.Background(),
		monitor.ExecutionEnd{ExecutionArn: arnPrefix + "job-g1", Status: "ABORTED"})
	if err != nil || !applied {
		t.Fatalf("RecordExecutionEnd = %v, %v", applied, err)
	}
	if got := e.get(t, "job-g1").RuntimeStatus; got != monitor.RuntimeTerminated {
		t.Errorf("job-g1 = %s, want Terminated (its own execution ended)", got)
	}
	if got := e.get(t, "job").RuntimeStatus; got != monitor.RuntimeRunning {
		t.Errorf("job = %s, want Running", got)
	}
	// Generation 3 of "job": only the split name matches.
	applied, err = e.api.RecordExecutionEnd(context.Background(),
		monitor.ExecutionEnd{ExecutionArn: arnPrefix + "job-g3", Status: "TIMED_OUT"})
	if err != nil || !applied {
		t.Fatalf("RecordExecutionEnd(job-g3) = %v, %v", applied, err)
	}
	if rec := e.get(t, "job"); rec.RuntimeStatus != monitor.RuntimeFailed || rec.Output.FinalStatus != monitor.FinalTimeout {
		t.Errorf("job = %s %+v, want Failed/Timeout", rec.RuntimeStatus, rec.Output)
	}
	_, err = e.api.RecordExecutionEnd(context.Background(), monitor.ExecutionEnd{ExecutionArn: arnPrefix + "job", Status: "EXPLODED"})
	wantKind(t, err, monitor.KindInvalid)
}

// TestTerminateAfterACheck: a check that records itself while the
// terminate stops the execution is counted in the output, which then
// agrees with the custom status.
func TestTerminateAfterACheck(t *testing.T) {
	e := newEnv(t)
	e.running(t, "late", 2)
	e.wf.onStop = func(string) {
		u := monitor.CheckUpdate{ExecutionArn: arnPrefix + "late", At: e.now,
			CustomStatus: monitor.CustomStatus{JobID: "late", Status: monitor.StatusRunning, CheckCount: 3, LastCheckTime: e.now}}
		if _, err := e.store.RecordCheck(context.Background(), "late", u); err != nil {
			t.Errorf("RecordCheck: %v", err)
		}
	}
	rec, err := e.api.Terminate(context.Background(), "late", "r")
	if err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	if rec.Output == nil || rec.Output.ChecksPerformed != 3 || rec.CustomStatus == nil || rec.CustomStatus.CheckCount != 3 {
		t.Errorf("record: custom status %+v, output %+v; want 3 checks in both", rec.CustomStatus, rec.Output)
	}
}

// TestTerminateAfterTheLastRead: a check and the alert task that record
// themselves after the terminate's last read, before its Finish, are in
// the output (it said a check fewer than the custom status, and no
// alert where the alert went out).
func TestTerminateAfterTheLastRead(t *testing.T) {
	e := newEnv(t)
	e.running(t, "late", 2)
	// Gets: the terminate's first read, and its read after the stop.
	e.api.Store = &afterGets{Store: e.store, n: 2, fn: func() {
		ctx := context.Background()
		u := monitor.CheckUpdate{ExecutionArn: arnPrefix + "late", At: e.now,
			CustomStatus: monitor.CustomStatus{JobID: "late", Status: monitor.StatusRunning, CheckCount: 3, LastCheckTime: e.now}}
		if _, err := e.store.RecordCheck(ctx, "late", u); err != nil {
			t.Errorf("RecordCheck: %v", err)
		}
		if _, ok, err := e.store.ClaimAlert(ctx, "late", time.Time{}, monitor.ChannelWebhook, e.now); err != nil || !ok {
			t.Errorf("ClaimAlert = %v, %v", ok, err)
		}
		if err := e.store.CompleteAlert(ctx, "late", monitor.AlertResult{Sent: true, At: e.now}); err != nil {
			t.Errorf("CompleteAlert: %v", err)
		}
	}}
	if _, err := e.api.Terminate(context.Background(), "late", "r"); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	rec := e.get(t, "late")
	if rec.Output == nil || rec.Output.ChecksPerformed != 3 || rec.Output.AlertStatus != "sent" {
		t.Errorf("output %+v; want 3 checks, alert_status sent", rec.Output)
	}
}

// purgingStore purges a record as soon as it is finished, as a client
// that purges right after a terminate would.
type purgingStore struct{ *memstore.Store }

func (s purgingStore) Finish(ctx context.Context, id string, f monitor.Finish) error {
	if err := s.Store.Finish(ctx, id, f); err != nil {
		return err
	}
	rec, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	return s.DeleteFinished(ctx, id, rec.CreatedTime)
}

// TestTerminatePurgedMeanwhile: a record purged between a terminate's
// stop and its answer is not "no such monitor". The request that stopped
// the running execution is told that it terminated the monitor, whether
// it or the execution's end recorded it; one that found the execution
// ended already is Gone.
func TestTerminatePurgedMeanwhile(t *testing.T) {
	t.Run("recorded by this request", func(t *testing.T) {
		e := newEnv(t)
		e.running(t, "p1", 2)
		e.api.Store = purgingStore{e.store}
		rec, err := e.api.Terminate(context.Background(), "p1", "r")
		if err != nil {
			t.Fatalf("Terminate: %v", err)
		}
		if rec.RuntimeStatus != monitor.RuntimeTerminated || rec.Output == nil || rec.Output.Detail != "terminated: r" || rec.Output.ChecksPerformed != 2 {
			t.Errorf("record = %s, output %+v; want Terminated with its output", rec.RuntimeStatus, rec.Output)
		}
	})
	t.Run("recorded by the execution's end", func(t *testing.T) {
		e := newEnv(t)
		e.running(t, "p2", 2)
		e.wf.onStop = func(arn string) {
			end := monitor.ExecutionEnd{ExecutionArn: arn, Status: monitor.ExecutionAborted, Error: monitor.TerminateError, Cause: "r", At: e.now}
			if _, err := e.api.RecordExecutionEnd(context.Background(), end); err != nil {
				t.Errorf("RecordExecutionEnd: %v", err)
			}
			if err := e.api.Purge(context.Background(), "p2"); err != nil {
				t.Errorf("Purge: %v", err)
			}
		}
		rec, err := e.api.Terminate(context.Background(), "p2", "r")
		if err != nil {
			t.Fatalf("Terminate: %v", err)
		}
		if rec.RuntimeStatus != monitor.RuntimeTerminated || rec.Output == nil || rec.Output.Detail != "terminated: r" {
			t.Errorf("record = %s, output %+v; want Terminated with its output", rec.RuntimeStatus, rec.Output)
		}
	})
	t.Run("recorded by the execution's end, purged after the write", func(t *testing.T) {
		e := newEnv(t)
		e.running(t, "p3", 2)
		e.api.Store = purgingAfterGoneStore{e.store}
		e.wf.onStop = func(arn string) {
			end := monitor.ExecutionEnd{ExecutionArn: arn, Status: monitor.ExecutionAborted, Error: monitor.TerminateError, Cause: "r", At: e.now}
			if _, err := e.api.RecordExecutionEnd(context.Background(), end); err != nil {
				t.Errorf("RecordExecutionEnd: %v", err)
			}
		}
		rec, err := e.api.Terminate(context.Background(), "p3", "r")
		if err != nil {
			t.Fatalf("Terminate: %v", err)
		}
		if rec.RuntimeStatus != monitor.RuntimeTerminated || rec.Output == nil || rec.Output.Detail != "terminated: r" {
			t.Errorf("record = %s, output %+v; want Terminated with its output", rec.RuntimeStatus, rec.Output)
		}
	})
	t.Run("the execution had ended", func(t *testing.T) {
		e := newEnv(t)
		e.running(t, "p4", 2)
		e.wf.stopErr = map[string]error{arnPrefix + "p4": monitor.Errorf(monitor.KindGone, "sfn", "ended")}
		e.wf.onStop = func(arn string) {
			f := monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: e.now,
				Output: monitor.Output{JobID: "p4", FinalStatus: monitor.FinalCompleted}}
			if err := e.store.Finish(context.Background(), "p4", f); err != nil {
				t.Errorf("Finish: %v", err)
			}
			if err := e.api.Purge(context.Background(), "p4"); err != nil {
				t.Errorf("Purge: %v", err)
			}
		}
		_, err := e.api.Terminate(context.Background(), "p4", "r")
		wantKind(t, err, monitor.KindGone)
	})
}

// purgingAfterGoneStore purges a record that a Finish finds finished
// already, as a purge arriving just after that write would.
type purgingAfterGoneStore struct{ *memstore.Store }

func (s purgingAfterGoneStore) Finish(ctx context.Context, id string, f monitor.Finish) error {
	err := s.Store.Finish(ctx, id, f)
	if monitor.IsKind(err, monitor.KindGone) {
		rec, gerr := s.Get(ctx, id)
		if gerr != nil {
			return gerr
		}
		if derr := s.DeleteFinished(ctx, id, rec.CreatedTime); derr != nil {
			return derr
		}
	}
	return err
}

// TestTerminateWhileStartRecordsTheExecution: a terminate that read the
// record before Start recorded its execution stops the execution Start
// recorded meanwhile, so that it does not run on after the 202.
func TestTerminateWhileStartRecordsTheExecution(t *testing.T) {
	e := newEnv(t)
	claimed := monitor.Record{InstanceID: "s1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending, CreatedTime: e.now,
		Input: parse(t, `{"instanceId":"s1","target":{"type":"simulated"}}`).Spec}
	if err := e.store.Create(context.Background(), claimed); err != nil {
		t.Fatal(err)
	}
	// Start records the execution while the terminate's (no-op) stop runs.
	e.api.Store = &setExecutionOnGet{Store: e.store, arn: arnPrefix + "s1"}
	if _, err := e.api.Terminate(context.Background(), "s1", "r"); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	if len(e.wf.stops) != 1 || e.wf.stops[0].Arn != arnPrefix+"s1" {
		t.Errorf("stops = %+v, want the execution Start recorded", e.wf.stops)
	}
}

// afterGets runs fn once, after its n-th Get.
type afterGets struct {
	monitor.Store
	n  int
	fn func()
}

func (s *afterGets) Get(ctx context.Context, id string) (monitor.Record, error) {
	rec, err := s.Store.Get(ctx, id)
	if s.n--; s.n == 0 {
		s.fn()
	}
	return rec, err
}

// setExecutionOnGet records an execution for its record after the first
// Get, as a Start in progress would.
type setExecutionOnGet struct {
	*memstore.Store
	arn  string
	done bool
}

func (s *setExecutionOnGet) Get(ctx context.Context, id string) (monitor.Record, error) {
	rec, err := s.Store.Get(ctx, id)
	if err == nil && !s.done {
		s.done = true
		if err := s.SetExecution(ctx, id, rec.CreatedTime, s.arn, rec.CreatedTime); err != nil {
			return rec, err
		}
	}
	return rec, err
}

// A start whose caller went away while the workflow was starting the
// execution cannot tell whether it started: when the workflow finds the
// execution of the id, the record is kept with it instead of the claim
// being released (which would leave the execution without a record and
// the id taken).
// ctxStore is a store whose SetExecution fails once its context has
// ended, as the SQLite and DynamoDB stores do.
type ctxStore struct{ monitor.Store }

func (s ctxStore) SetExecution(ctx context.Context, id string, created time.Time, arn string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Store.SetExecution(ctx, id, created, arn, at)
}

func TestStartCancelledButTheExecutionStarted(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		execution bool
		at        time.Time // when the execution found started
		wantKept  bool
	}{
		{name: "cancelled, execution started", err: context.Canceled, execution: true, at: t0, wantKept: true},
		{name: "deadline, execution started", err: context.DeadlineExceeded, execution: true, at: t0, wantKept: true},
		{name: "cancelled, no execution", err: context.Canceled},
		{name: "cancelled, an older execution of the name", err: context.Canceled, execution: true, at: t0.Add(-time.Hour)},
		{name: "refused", err: errors.New("throttled"), execution: true, at: t0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			finds := 0
			fw := findingWorkflow{fakeWorkflow: e.wf, started: map[string]time.Time{}, finds: &finds}
			if tc.execution {
				fw.started["c1"] = tc.at
			}
			e.api.Workflow = fw
			e.api.Store = ctxStore{e.store}
			ctx, cancel := context.WithCancel(context.Background())
			e.wf.startErr = monitor.WrapError(monitor.KindUnavailable, "sfn", tc.err, "no answer")
			e.wf.onStart = func(string) {
				if errors.Is(tc.err, context.Canceled) {
					cancel()
				}
			}
			defer cancel()
			rec, err := e.api.Start(ctx, parse(t, `{"instanceId":"c1","target":{"type":"simulated"}}`))
			got, gerr := e.store.Get(context.Background(), "c1")
			if !tc.wantKept {
				wantKind(t, err, monitor.KindUnavailable)
				if !monitor.IsKind(gerr, monitor.KindNotFound) {
					t.Errorf("claim left behind: Get = %+v, %v", got, gerr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if rec.ExecutionArn != arnPrefix+"c1" {
				t.Errorf("answer %+v, want the execution %s", rec, arnPrefix+"c1")
			}
			if gerr != nil || got.ExecutionArn != arnPrefix+"c1" {
				t.Errorf("stored record %+v (%v), want it kept with its execution", got, gerr)
			}
		})
	}
}
