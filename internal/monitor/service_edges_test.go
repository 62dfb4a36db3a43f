package monitor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// TestRecordExecutionEndHidesCauseWithoutName pins that a failed or
// timed-out end that carries a cause but no error name shows
// internalFailure in the output's detail, never the cause. The detail is
// what GET /monitors/{id} shows every caller, and a cause may quote the
// execution's input (the target's header values) or name tables, roles
// and sessions.
func TestRecordExecutionEndHidesCauseWithoutName(t *testing.T) {
	const secret = "Authorization: Bearer SECRET"
	const hidden = "internal error (the cause is in the service's log)"
	for _, tc := range []struct {
		name       string
		status     string
		cause      string
		wantFinal  string
		wantDetail string
	}{
		{"failed", "FAILED", secret, monitor.FinalFailed, "the workflow failed: " + hidden},
		{"timed out", "TIMED_OUT", secret, monitor.FinalTimeout, "the execution timed out: " + hidden},
		{"failed, a blank cause", "FAILED", " \t ", monitor.FinalFailed, "the workflow failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.running(t, "m", 1)
			applied, err := e.api.RecordExecutionEnd(context.Background(), monitor.ExecutionEnd{
				ExecutionArn: arnPrefix + "m", Status: tc.status, At: t0.Add(time.Minute), Cause: tc.cause})
			if err != nil || !applied {
				t.Fatalf("RecordExecutionEnd = %v, %v; want true, nil", applied, err)
			}
			out := e.get(t, "m").Output
			if out == nil {
				t.Fatal("got no output, want one")
			}
			if out.FinalStatus != tc.wantFinal || out.Detail != tc.wantDetail {
				t.Errorf("got final %q, detail %q; want %q, %q", out.FinalStatus, out.Detail, tc.wantFinal, tc.wantDetail)
			}
			if strings.Contains(out.Detail, "SECRET") {
				t.Errorf("detail %q shows the cause", out.Detail)
			}
		})
	}
}

// TestRecordExecutionEndCutsALongStopCause pins that a stop with the error
// Terminated (from the console or the CLI, which allow a cause of 32 KB)
// records at most 4*MaxReasonLen bytes of its cause in the detail, as a
// reason the API accepts can be no longer: the detail is stored in the
// record and sent in every answer about it.
func TestRecordExecutionEndCutsALongStopCause(t *testing.T) {
	e := newEnv(t)
	e.running(t, "m", 1)
	applied, err := e.api.RecordExecutionEnd(context.Background(), monitor.ExecutionEnd{
		ExecutionArn: arnPrefix + "m", Status: "ABORTED", Error: monitor.TerminateError,
		Cause: strings.Repeat("a", 5000), At: t0.Add(time.Minute)})
	if err != nil || !applied {
		t.Fatalf("RecordExecutionEnd = %v, %v; want true, nil", applied, err)
	}
	want := "terminated: " + strings.Repeat("a", 4*monitor.MaxReasonLen-len("…")) + "…"
	if out := e.get(t, "m").Output; out == nil || out.Detail != want {
		t.Errorf("got output %+v, want a detail of %d bytes", out, len(want))
	}
}

// finishHookStore is a memstore.Store that runs beforeFinish once, inside
// the first Finish and before it is applied: what happens to the record
// between a caller's read and its write.
type finishHookStore struct {
	*memstore.Store
	beforeFinish func()
}

func (s *finishHookStore) Finish(ctx context.Context, id string, f monitor.Finish) error {
	if hook := s.beforeFinish; hook != nil {
		s.beforeFinish = nil
		hook()
	}
	return s.Store.Finish(ctx, id, f)
}

// other returns a copy of e's API that writes to the memstore directly,
// for what another request does while the one under test runs.
func (e *env) other() *monitor.API {
	other := *e.api
	other.Store = e.store
	return &other
}

// TestRecordExecutionEndLeavesAMonitorStartedMeanwhile pins that the end
// of an execution whose monitor was terminated, purged and started again
// between the end's read of the record and its write does not finish the
// new monitor: the write names the record read (its created time), and
// the new monitor of the same id is someone else's, still running.
func TestRecordExecutionEndLeavesAMonitorStartedMeanwhile(t *testing.T) {
	e := newEnv(t)
	e.running(t, "m", 3)
	var restarted monitor.Record
	e.api.Store = &finishHookStore{Store: e.store, beforeFinish: func() {
		ctx := context.Background()
		other := e.other()
		if _, err := other.Terminate(ctx, "m", "done"); err != nil {
			t.Fatalf("the other Terminate: %v", err)
		}
		if err := other.Purge(ctx, "m"); err != nil {
			t.Fatalf("Purge: %v", err)
		}
		e.now = t0.Add(time.Hour)
		var err error
		if restarted, err = other.Start(ctx, parse(t, `{"instanceId":"m","target":{"type":"simulated"},"pollingIntervalSeconds":10}`)); err != nil {
			t.Fatalf("the new Start: %v", err)
		}
	}}
	applied, err := e.api.RecordExecutionEnd(context.Background(), monitor.ExecutionEnd{
		ExecutionArn: arnPrefix + "m", Status: "FAILED", Error: "States.Runtime", At: t0.Add(time.Minute)})
	if err != nil || applied {
		t.Errorf("RecordExecutionEnd = %v, %v; want false, nil", applied, err)
	}
	got := e.get(t, "m")
	if got.RuntimeStatus.Final() || !got.CreatedTime.Equal(restarted.CreatedTime) || got.Output != nil {
		t.Errorf("got record %s created %v with output %+v; want the new monitor, created %v, unfinished",
			got.RuntimeStatus, got.CreatedTime, got.Output, restarted.CreatedTime)
	}
}

// TestRecordExecutionEndFinishedMeanwhile pins that an end whose record
// finished (a terminate won the race) or was purged between its read and
// its write is ignored without error: the status-change handler would
// otherwise fail and retry the event until it lands in the dead-letter
// queue, though redelivered and concurrent ends are meant to be harmless.
// What finished the record first is kept.
func TestRecordExecutionEndFinishedMeanwhile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		purge  bool
		wantNF bool // the record is gone
	}{
		{name: "terminated meanwhile"},
		{name: "terminated and purged meanwhile", purge: true, wantNF: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.running(t, "m", 3)
			e.api.Store = &finishHookStore{Store: e.store, beforeFinish: func() {
				other := e.other()
				if _, err := other.Terminate(context.Background(), "m", "by hand"); err != nil {
					t.Fatalf("the other Terminate: %v", err)
				}
				if tc.purge {
					if err := other.Purge(context.Background(), "m"); err != nil {
						t.Fatalf("Purge: %v", err)
					}
				}
			}}
			applied, err := e.api.RecordExecutionEnd(context.Background(), monitor.ExecutionEnd{
				ExecutionArn: arnPrefix + "m", Status: "FAILED", Error: "States.Runtime", At: t0.Add(time.Minute)})
			if err != nil || applied {
				t.Errorf("RecordExecutionEnd = %v, %v; want false, nil", applied, err)
			}
			got, gerr := e.store.Get(context.Background(), "m")
			if tc.wantNF {
				if !monitor.IsKind(gerr, monitor.KindNotFound) {
					t.Errorf("got Get = %+v, %v; want not found", got, gerr)
				}
				return
			}
			if gerr != nil || got.Output == nil || got.Output.Detail != "terminated: by hand" {
				t.Errorf("got record %+v (%v), want the terminate's output, detail %q", got, gerr, "terminated: by hand")
			}
		})
	}
}

// TestTerminateRecordedThenPurgedWithoutAnExecution pins that a terminate
// that recorded the termination itself, though it stopped nothing (the
// start had not recorded its execution yet), answers the termination when
// the record is purged before its re-read, rather than 410 "already
// finished": it is the request that finished the monitor.
func TestTerminateRecordedThenPurgedWithoutAnExecution(t *testing.T) {
	e := newEnv(t)
	var rec monitor.Record
	var terr error
	e.wf.onStart = func(name string) {
		other := *e.api
		other.Store = purgingStore{e.store}
		rec, terr = other.Terminate(context.Background(), name, "not needed")
	}
	_, _ = e.api.Start(context.Background(), parse(t, `{"instanceId":"p1","target":{"type":"simulated"}}`))
	if terr != nil {
		t.Fatalf("Terminate = %v, want success", terr)
	}
	if rec.RuntimeStatus != monitor.RuntimeTerminated || rec.Output == nil || rec.Output.Detail != "terminated: not needed" {
		t.Errorf("got %s with output %+v; want Terminated, detail %q", rec.RuntimeStatus, rec.Output, "terminated: not needed")
	}
}

// TestTerminateExecutionAlreadyGone pins that a terminate whose stop finds
// no such execution (its history has expired, or the local runtime's
// retention has passed) or one that has ended still finishes the record,
// rather than answering 500: otherwise such a monitor could never be
// terminated.
func TestTerminateExecutionAlreadyGone(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind monitor.Kind
	}{
		{"not found", monitor.KindNotFound},
		{"ended", monitor.KindGone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.running(t, "m", 2)
			e.wf.stopErr = map[string]error{arnPrefix + "m": monitor.Errorf(tc.kind, "sfn", "no such execution")}
			rec, err := e.api.Terminate(context.Background(), "m", "r")
			if err != nil {
				t.Fatalf("Terminate = %v, want success", err)
			}
			for _, got := range []monitor.Record{rec, e.get(t, "m")} {
				if got.RuntimeStatus != monitor.RuntimeTerminated || got.Output == nil || got.Output.Detail != "terminated: r" {
					t.Errorf("got %s with output %+v; want Terminated, detail %q", got.RuntimeStatus, got.Output, "terminated: r")
				}
			}
		})
	}
}

// conflictingReleaseStore is a memstore.Store whose ReleaseClaim always
// answers that the record is not the claim.
type conflictingReleaseStore struct{ *memstore.Store }

func (s conflictingReleaseStore) ReleaseClaim(_ context.Context, id string, created time.Time) error {
	return monitor.NotTheClaim("test: release claim", id, created)
}

// TestStartFailedAndTheRecordMovedOn pins what a start whose workflow call
// failed answers when its claim could not be released: only a record with
// an execution that still runs is the start's success (the execution
// started after all). A claim with no execution (another start's, or one
// that never ran) or a record that has finished meanwhile is not: the
// start fails, rather than answering 201 for an execution that never ran
// or has already ended.
func TestStartFailedAndTheRecordMovedOn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *env)
	}{
		{
			name: "a claim without an execution",
			setup: func(t *testing.T, e *env) {
				e.api.Store = conflictingReleaseStore{e.store}
			},
		},
		{
			name: "started, then terminated",
			setup: func(t *testing.T, e *env) {
				e.wf.onStart = func(name string) {
					u := monitor.CheckUpdate{ExecutionArn: arnPrefix + name, At: t0,
						CustomStatus: monitor.CustomStatus{JobID: name, Status: monitor.StatusRunning, CheckCount: 1, LastCheckTime: t0}}
					if _, err := e.store.RecordCheck(context.Background(), name, u); err != nil {
						t.Errorf("RecordCheck: %v", err)
					}
					if _, err := e.other().Terminate(context.Background(), name, "x"); err != nil {
						t.Errorf("Terminate: %v", err)
					}
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.wf.startErr = monitor.Errorf(monitor.KindUnavailable, "sfn", "throttled")
			tc.setup(t, e)
			rec, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"s1","target":{"type":"simulated"}}`))
			if err == nil {
				t.Fatalf("got Start = %s, %q, nil; want an error", rec.RuntimeStatus, rec.ExecutionArn)
			}
			wantKind(t, err, monitor.KindUnavailable)
		})
	}
}

// TestStartCallerGoneWithAnUnwrappedError pins that a start whose caller
// went away looks for the execution before releasing its claim even when
// the workflow's error does not say so (an SDK error that does not wrap
// context.Canceled): the execution may have started, and releasing the
// claim would leave it running with no record.
func TestStartCallerGoneWithAnUnwrappedError(t *testing.T) {
	e := newEnv(t)
	finds := 0
	e.api.Workflow = findingWorkflow{fakeWorkflow: e.wf, started: map[string]time.Time{"c1": t0}, finds: &finds}
	e.api.Store = ctxStore{e.store}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.wf.startErr = errors.New("request send failed")
	e.wf.onStart = func(string) { cancel() }
	rec, err := e.api.Start(ctx, parse(t, `{"instanceId":"c1","target":{"type":"simulated"}}`))
	if err != nil {
		t.Fatalf("Start = %v, want the execution found", err)
	}
	if rec.ExecutionArn != arnPrefix+"c1" {
		t.Errorf("got answer ARN %q, want %q", rec.ExecutionArn, arnPrefix+"c1")
	}
	if got := e.get(t, "c1"); got.ExecutionArn != arnPrefix+"c1" {
		t.Errorf("got stored ARN %q, want %q", got.ExecutionArn, arnPrefix+"c1")
	}
	if finds != 1 {
		t.Errorf("got %d FindExecution calls, want 1", finds)
	}
}

// legacy stores a running record of id, as monitors started before
// HasGenerationSuffix was enforced may still hold, whose execution is
// arnPrefix+id.
func (e *env) legacy(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	if err := e.store.Create(ctx, monitor.Record{InstanceID: id, RuntimeStatus: monitor.RuntimePending,
		CreatedTime: t0, LastUpdatedTime: t0, Input: monitor.Spec{JobID: id}}); err != nil {
		t.Fatalf("Create(%s): %v", id, err)
	}
	recordCheck(t, e, id, 1, arnPrefix+id)
}

// TestRecordExecutionEndPicksTheRightRecord pins which record an
// execution's end finishes when its name could belong to several
// monitors (a name ending in "-g{n}" is also a legacy instance id): the
// record that names the execution, else the most likely candidate, and
// always the instance id the end carries. Any other pick finishes a
// monitor whose execution still runs, and leaves the ended one running.
func TestRecordExecutionEndPicksTheRightRecord(t *testing.T) {
	for _, tc := range []struct {
		name     string
		legacy   string // a legacy record, besides the monitor "x"
		pending  bool   // "x" has not recorded its execution
		end      monitor.ExecutionEnd
		finished string // the record the end finishes
		running  string // the record it leaves running
	}{
		{
			name:     "the record that names the execution",
			legacy:   "x-g040506-g1",
			end:      monitor.ExecutionEnd{ExecutionArn: arnPrefix + "x-g040506-g1", Status: "FAILED"},
			finished: "x-g040506-g1", running: "x",
		},
		{
			name:     "the tagged name's id before a legacy untagged one",
			legacy:   "x-g040506",
			end:      monitor.ExecutionEnd{ExecutionArn: arnPrefix + "x-g040506-g1", Status: "FAILED"},
			finished: "x", running: "x-g040506",
		},
		{
			name:     "the end's instance id, whatever the execution's name",
			legacy:   "y",
			pending:  true,
			end:      monitor.ExecutionEnd{InstanceID: "x", ExecutionArn: arnPrefix + "y", Status: "FAILED"},
			finished: "x", running: "y",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.pending {
				if err := e.store.Create(context.Background(), monitor.Record{InstanceID: "x", RuntimeStatus: monitor.RuntimePending,
					CreatedTime: t0, LastUpdatedTime: t0, Input: monitor.Spec{JobID: "x"}}); err != nil {
					t.Fatal(err)
				}
			} else {
				e.running(t, "x", 1)
			}
			e.legacy(t, tc.legacy)
			applied, err := e.api.RecordExecutionEnd(context.Background(), tc.end)
			if err != nil || !applied {
				t.Fatalf("RecordExecutionEnd = %v, %v; want true, nil", applied, err)
			}
			if got := e.get(t, tc.finished).RuntimeStatus; got != monitor.RuntimeFailed {
				t.Errorf("got %s %s, want %s", tc.finished, got, monitor.RuntimeFailed)
			}
			if got := e.get(t, tc.running).RuntimeStatus; got.Final() {
				t.Errorf("got %s %s, want it still running", tc.running, got)
			}
		})
	}
}

// TestRaiseEventDataLimit pins the bound on an event's data: exactly
// MaxEventDataBytes is accepted, one byte more is KindTooLarge and stores
// nothing.
func TestRaiseEventDataLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int
		want  monitor.Kind
		wantN int
	}{
		{"at the limit", monitor.MaxEventDataBytes, "", 1},
		{"one byte over", monitor.MaxEventDataBytes + 1, monitor.KindTooLarge, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.running(t, "r1", 1)
			data := []byte(`"` + strings.Repeat("a", tc.size-2) + `"`)
			err := e.api.RaiseEvent(context.Background(), "r1", "ping", data)
			if got := monitor.KindOf(err); got != tc.want {
				t.Errorf("got RaiseEvent of %d bytes = %v, want kind %q", len(data), err, tc.want)
			}
			if n := len(e.get(t, "r1").Events); n != tc.wantN {
				t.Errorf("got %d events stored, want %d", n, tc.wantN)
			}
		})
	}
}

// TestListContinuationTokenLimit pins the bound on a List continuation
// token: MaxContinuationToken characters pass the query's checks, one
// more is a problem with the field continuationToken.
func TestListContinuationTokenLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		want []string
	}{
		{"at the limit", monitor.MaxContinuationToken, nil},
		{"one over", monitor.MaxContinuationToken + 1, []string{"continuationToken"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range (monitor.ListQuery{ContinuationToken: strings.Repeat("a", tc.size)}).Problems() {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got problems with %q, want %q", got, tc.want)
			}
		})
	}
}

// invalidListStore is a memstore.Store whose List refuses the query as
// invalid, as a store does with a cursor it cannot read.
type invalidListStore struct{ *memstore.Store }

func (invalidListStore) List(context.Context, monitor.ListQuery) (monitor.ListPage, error) {
	return monitor.ListPage{}, monitor.Errorf(monitor.KindInvalid, "test: list", "unreadable cursor")
}

// TestListStoreRefusesTheToken pins that a query the store refuses as
// invalid is answered as a bad continuation token, naming the field
// continuationToken, so that the caller knows to start again without it.
func TestListStoreRefusesTheToken(t *testing.T) {
	e := newEnv(t)
	e.api.Store = invalidListStore{e.store}
	_, err := e.api.List(context.Background(), monitor.ListQuery{})
	var me *monitor.Error
	if !errors.As(err, &me) || me.Kind != monitor.KindInvalid {
		t.Fatalf("got List = %v, want a KindInvalid *monitor.Error", err)
	}
	if len(me.Fields) != 1 || me.Fields[0].Field != "continuationToken" {
		t.Errorf("got fields %+v, want one for continuationToken", me.Fields)
	}
}

// TestRecordExecutionEndOfAPurgedMonitorIsQuiet: the end of a monitor
// whose record was purged (delivered again after a restart of the local
// runtime) is ignored without a log line at info: it is as harmless as the
// end of a monitor that has already finished.
func TestRecordExecutionEndOfAPurgedMonitorIsQuiet(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	e.api.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	applied, err := e.api.RecordExecutionEnd(context.Background(), monitor.ExecutionEnd{
		ExecutionArn: arnPrefix + "gone", Status: "ABORTED", At: t0.Add(time.Minute)})
	if err != nil || applied {
		t.Fatalf("RecordExecutionEnd = %v, %v; want not applied, no error", applied, err)
	}
	if logs.Len() > 0 {
		t.Errorf("logged at info or above:\n%s", logs.String())
	}
}
