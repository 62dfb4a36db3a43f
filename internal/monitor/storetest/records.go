package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// race runs n copies of fn at once (released together) and returns their
// errors in index order.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

var createTests = []test{
	{"RoundTrip", func(t *testing.T, s monitor.Store) {
		for _, rec := range []monitor.Record{newRecord("plain", t0), fullRecord("full", t0)} {
			mustCreate(t, s, rec)
			wantRecord(t, "Get after Create("+rec.InstanceID+")", mustGet(t, s, rec.InstanceID), rec)
		}
	}},
	{"EventsKeepTheirCheck", func(t *testing.T, s monitor.Store) {
		// A record created with events keeps which check consumed each:
		// a retry of that check gets them again, and they are not
		// pending.
		rec := newRecord("m1", t0)
		done := event("done", `{"n":1}`, t0.Add(time.Second))
		done.ConsumedBy = 1
		rec.Events = []monitor.Event{done, event("new", "", t0.Add(2*time.Second))}
		mustCreate(t, s, rec)
		wantRecord(t, "Get after Create", mustGet(t, s, "m1"), rec)
		wantEvents(t, "ConsumeEvents(1)", mustConsume(t, s, "m1", 1), consumed(rec.Events, 1))
	}},
	{"Conflict", func(t *testing.T, s monitor.Store) {
		first := newRecord("m1", t0)
		mustCreate(t, s, first)
		second := fullRecord("m1", t0.Add(time.Hour))
		wantKind(t, "second Create", s.Create(ctx(t), second), monitor.KindConflict)
		wantRecord(t, "Get after conflicting Create", mustGet(t, s, "m1"), first)
	}},
	{"ConflictWithFinished", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		mustFinish(t, s, "m1", finish(monitor.RuntimeCompleted, monitor.FinalCompleted, t0.Add(time.Minute)))
		wantKind(t, "Create over a finished record", s.Create(ctx(t), newRecord("m1", t0.Add(time.Hour))), monitor.KindConflict)
	}},
	{"PastPurgeTime", func(t *testing.T, s monitor.Store) {
		// The store's clock (Now) is past the record's purge time. A store
		// that hides such a record until its backing service deletes it
		// must let its id be created again; one that keeps it until a
		// purge deletes it must after that purge.
		old := newRecord("m1", t0.Add(-3*time.Hour))
		mustCreate(t, s, old)
		f := finish(monitor.RuntimeCompleted, monitor.FinalCompleted, t0.Add(-2*time.Hour))
		f.PurgeAt = t0.Add(-time.Hour)
		mustFinish(t, s, "m1", f)
		_, err := s.Get(ctx(t), "m1")
		switch {
		case monitor.IsKind(err, monitor.KindNotFound):
		case err == nil:
			wantKind(t, "Create over a finished record not yet purged", s.Create(ctx(t), newRecord("m1", t0)), monitor.KindConflict)
			if err := s.DeleteFinished(ctx(t), "m1", old.CreatedTime); err != nil {
				t.Fatalf("DeleteFinished: %v", err)
			}
		default:
			t.Fatalf("Get of a record past its purge time: %v", err)
		}
		rec := fullRecord("m1", t0)
		if err := s.Create(ctx(t), rec); err != nil {
			t.Fatalf("Create of an id whose record is gone: %v", err)
		}
		wantRecord(t, "Get after Create over a purged record", mustGet(t, s, "m1"), rec)
	}},
	{"IDsAreDistinct", func(t *testing.T, s monitor.Store) {
		// Ids that share prefixes or differ only in case are different
		// monitors.
		ids := []string{"a", "A", "a-1", "a_1", "a-10", "a-1-g2"}
		for i, id := range ids {
			mustCreate(t, s, newRecord(id, t0.Add(time.Duration(i)*time.Second)))
		}
		for i, id := range ids {
			got := mustGet(t, s, id)
			if got.InstanceID != id {
				t.Errorf("Get(%q).InstanceID = %q", id, got.InstanceID)
			}
			wantTime(t, "Get("+id+").CreatedTime", got.CreatedTime, t0.Add(time.Duration(i)*time.Second))
		}
	}},
	{"ConcurrentTwo", func(t *testing.T, s monitor.Store) { concurrentCreates(t, s, 2) }},
	{"ConcurrentTwenty", func(t *testing.T, s monitor.Store) { concurrentCreates(t, s, 20) }},
}

// concurrentCreates races n Creates of one id: exactly one wins, the others
// get KindConflict, and the stored record is the winner's.
func concurrentCreates(t *testing.T, s monitor.Store, n int) {
	recs := make([]monitor.Record, n)
	for i := range recs {
		recs[i] = newRecord("contested", t0.Add(time.Duration(i)*time.Second))
		recs[i].Input.JobID = fmt.Sprintf("job-%d", i)
	}
	errs := race(n, func(i int) error { return s.Create(ctx(t), recs[i]) })
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("Creates %d and %d both succeeded; want exactly one", winner, i)
			}
			winner = i
			continue
		}
		wantKind(t, fmt.Sprintf("Create %d", i), err, monitor.KindConflict)
	}
	if winner < 0 {
		t.Fatalf("none of %d concurrent Creates succeeded", n)
	}
	wantRecord(t, "stored record", mustGet(t, s, "contested"), recs[winner])
}

var getTests = []test{
	{"NotFound", func(t *testing.T, s monitor.Store) {
		_, err := s.Get(ctx(t), "missing")
		wantKind(t, "Get(missing)", err, monitor.KindNotFound)
	}},
	{"NotFoundAmongOthers", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("abc", t0))
		for _, id := range []string{"ab", "abcd", "ABC"} {
			_, err := s.Get(ctx(t), id)
			wantKind(t, "Get("+id+")", err, monitor.KindNotFound)
		}
	}},
	{"ReturnsCopies", func(t *testing.T, s monitor.Store) {
		rec := fullRecord("m1", t0)
		mustCreate(t, s, rec)
		// Changing what was passed in or handed out must not change
		// what is stored.
		rec.Input.Target.Headers["Authorization"] = "changed"
		rec.Input.Target.DoneValues[0] = "changed"
		*rec.CustomStatus.OpenIssues = 99
		got := mustGet(t, s, "m1")
		got.Input.Target.Headers["Accept"] = "changed"
		got.CustomStatus.Status = "changed"
		wantRecord(t, "Get after mutating copies", mustGet(t, s, "m1"), fullRecord("m1", t0))
	}},
	{"WritesKeepCopies", func(t *testing.T, s monitor.Store) {
		// Changing what was passed to AddEvent, RecordCheck or Finish
		// after the call returned must not change what is stored.
		mustCreate(t, s, newRecord("m1", t0))
		ev := event("a", `{"n":1}`, t0.Add(time.Second))
		mustAddEvent(t, s, "m1", ev)
		ev.Data[len(ev.Data)-2] = '2'
		wantEvents(t, "Get().Events after changing the added event's data", mustGet(t, s, "m1").Events,
			[]monitor.Event{event("a", `{"n":1}`, t0.Add(time.Second))})

		checkOpen := 3
		u := checkUpdate("m1", 1, t0.Add(2*time.Second))
		u.CustomStatus.OpenIssues = &checkOpen
		mustRecordCheck(t, s, "m1", u)
		checkOpen = 4
		if got := mustGet(t, s, "m1").CustomStatus.OpenIssues; got == nil || *got != 3 {
			t.Fatalf("CustomStatus.OpenIssues after changing the check's = %v, want 3", got)
		}

		outOpen, customOpen := 5, 6
		f := finish(monitor.RuntimeCompleted, monitor.FinalCompleted, t0.Add(3*time.Second))
		f.Output.OpenIssues = &outOpen
		cs := customStatus("m1", 2, t0.Add(3*time.Second))
		cs.OpenIssues = &customOpen
		f.CustomStatus = &cs
		mustFinish(t, s, "m1", f)
		outOpen, customOpen = 50, 60
		got := mustGet(t, s, "m1")
		if got.Output == nil || got.Output.OpenIssues == nil || *got.Output.OpenIssues != 5 {
			t.Fatalf("Output after changing the finish's = %+v, want open issues 5", got.Output)
		}
		if got.CustomStatus == nil || got.CustomStatus.OpenIssues == nil || *got.CustomStatus.OpenIssues != 6 {
			t.Fatalf("CustomStatus after changing the finish's = %+v, want open issues 6", got.CustomStatus)
		}
	}},
}

var setExecutionTests = []test{
	{"Sets", func(t *testing.T, s monitor.Store) {
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		arn := "arn:aws:states:us-east-1:123456789012:execution:stepmon:m1"
		at := t0.Add(2 * time.Second)
		if err := s.SetExecution(ctx(t), "m1", time.Time{}, arn, at); err != nil {
			t.Fatalf("SetExecution: %v", err)
		}
		rec.ExecutionArn, rec.LastUpdatedTime = arn, at
		wantRecord(t, "Get after SetExecution", mustGet(t, s, "m1"), rec)
	}},
	{"Replaces", func(t *testing.T, s monitor.Store) {
		// Continue-as-new starts a new execution for the same monitor.
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		mustRecordCheck(t, s, "m1", checkUpdate("m1", 1, t0.Add(time.Second)))
		arn := "arn:aws:states:us-east-1:123456789012:execution:stepmon:m1-g1"
		if err := s.SetExecution(ctx(t), "m1", time.Time{}, arn, t0.Add(time.Minute)); err != nil {
			t.Fatalf("SetExecution: %v", err)
		}
		got := mustGet(t, s, "m1")
		if got.ExecutionArn != arn || got.RuntimeStatus != monitor.RuntimeRunning || got.CustomStatus == nil || got.CustomStatus.CheckCount != 1 {
			t.Fatalf("after SetExecution: arn %q status %s custom %+v; want %q, Running, check 1", got.ExecutionArn, got.RuntimeStatus, got.CustomStatus, arn)
		}
	}},
	{"KeepsLaterUpdateTime", func(t *testing.T, s monitor.Store) {
		// Start records the execution with the time it claimed the id,
		// after the first check may have recorded a later time: the
		// record keeps the later one, and still gets the ARN.
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		arn := "arn:aws:states:us-east-1:123456789012:execution:stepmon:m1"
		checked := t0.Add(5 * time.Second)
		mustRecordCheck(t, s, "m1", checkUpdate("m1", 1, checked))
		// Earlier by a millisecond, a second and a day: a store that
		// compares its stored form must compare it as time.
		for _, d := range []time.Duration{ms, time.Second, 24 * time.Hour} {
			if err := s.SetExecution(ctx(t), "m1", time.Time{}, arn, checked.Add(-d)); err != nil {
				t.Fatalf("SetExecution(%v earlier): %v", d, err)
			}
			got := mustGet(t, s, "m1")
			if got.ExecutionArn != arn {
				t.Fatalf("ExecutionArn = %q, want %q", got.ExecutionArn, arn)
			}
			wantTime(t, fmt.Sprintf("LastUpdatedTime after SetExecution %v earlier than the check", d), got.LastUpdatedTime, checked)
		}
		// A later time still moves it forward: by a millisecond, to a
		// whole minute (no fraction at all) and to a far year.
		for _, later := range []time.Time{checked.Add(ms), time.Date(2025, 3, 14, 15, 10, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)} {
			if err := s.SetExecution(ctx(t), "m1", time.Time{}, arn, later); err != nil {
				t.Fatalf("SetExecution(%v): %v", later, err)
			}
			wantTime(t, "LastUpdatedTime after a later SetExecution", mustGet(t, s, "m1").LastUpdatedTime, later)
		}
	}},
	{"ZeroTimeKeepsUpdateTime", func(t *testing.T, s monitor.Store) {
		// The zero time is never later than the stored one: only the
		// ARN changes (a store that stores the zero time as NULL must
		// not compare it as SQL does, to NULL).
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		arn := "arn:aws:states:us-east-1:123456789012:execution:stepmon:m1"
		if err := s.SetExecution(ctx(t), "m1", time.Time{}, arn, time.Time{}); err != nil {
			t.Fatalf("SetExecution(zero time): %v", err)
		}
		rec.ExecutionArn = arn
		wantRecord(t, "Get after SetExecution with the zero time", mustGet(t, s, "m1"), rec)
	}},
	{"NotFound", func(t *testing.T, s monitor.Store) {
		wantKind(t, "SetExecution(missing)", s.SetExecution(ctx(t), "missing", time.Time{}, "arn:x", t0), monitor.KindNotFound)
	}},
	{"GoneWhenFinished", func(t *testing.T, s monitor.Store) {
		rec := newRecord("m1", t0)
		rec.ExecutionArn = "arn:first"
		mustCreate(t, s, rec)
		mustFinish(t, s, "m1", finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Second)))
		before := mustGet(t, s, "m1")
		wantKind(t, "SetExecution on finished", s.SetExecution(ctx(t), "m1", time.Time{}, "arn:late", t0.Add(time.Minute)), monitor.KindGone)
		wantRecord(t, "Get after refused SetExecution", mustGet(t, s, "m1"), before)
	}},
	{"FinishedWithoutExecutionTakesArn", func(t *testing.T, s monitor.Store) {
		// Terminated while its start was under way: the start's
		// SetExecution is refused (the start stops the execution),
		// and the record names the execution all the same, nothing
		// else of it changed.
		for _, created := range []time.Time{{}, t0} {
			mustCreate(t, s, newRecord("m1", t0))
			mustFinish(t, s, "m1", finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Second)))
			want := mustGet(t, s, "m1")
			arn := "arn:aws:states:us-east-1:123456789012:execution:stepmon:m1"
			wantKind(t, "SetExecution on a finished record without one", s.SetExecution(ctx(t), "m1", created, arn, t0.Add(time.Minute)), monitor.KindGone)
			want.ExecutionArn = arn
			wantRecord(t, "Get after SetExecution on a finished record without one", mustGet(t, s, "m1"), want)
			if err := s.DeleteFinished(ctx(t), "m1", t0); err != nil {
				t.Fatalf("DeleteFinished: %v", err)
			}
		}
	}},
	{"FinishedWithAnEmptyExecutionTakesArn", func(t *testing.T, s monitor.Store) {
		// An execution recorded as "" names none: the finished record
		// takes the ARN as one that never had one does.
		mustCreate(t, s, newRecord("m1", t0))
		if err := s.SetExecution(ctx(t), "m1", t0, "", t0); err != nil {
			t.Fatalf("SetExecution(empty): %v", err)
		}
		mustFinish(t, s, "m1", finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Second)))
		arn := "arn:aws:states:us-east-1:123456789012:execution:stepmon:m1"
		wantKind(t, "SetExecution on a finished record with an empty one", s.SetExecution(ctx(t), "m1", t0, arn, t0.Add(time.Minute)), monitor.KindGone)
		if got := mustGet(t, s, "m1"); got.ExecutionArn != arn {
			t.Errorf("ExecutionArn = %q, want %q", got.ExecutionArn, arn)
		}
	}},
}

var recordCheckTests = []test{
	{"Sequences", testRecordCheckSequences},
	{"PendingToRunning", func(t *testing.T, s monitor.Store) {
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		u := checkUpdate("m1", 1, t0.Add(5*time.Second))
		u.ExecutionArn = "arn:aws:states:us-east-1:123456789012:execution:stepmon:m1"
		if !mustRecordCheck(t, s, "m1", u) {
			t.Fatal("RecordCheck(1) on a Pending record: applied=false, want true")
		}
		cs := u.CustomStatus
		rec.RuntimeStatus, rec.CustomStatus, rec.LastUpdatedTime, rec.ExecutionArn = monitor.RuntimeRunning, &cs, u.At, u.ExecutionArn
		wantRecord(t, "Get after first check", mustGet(t, s, "m1"), rec)
	}},
	{"EmptyArnKeepsArn", func(t *testing.T, s monitor.Store) {
		rec := newRecord("m1", t0)
		rec.ExecutionArn = "arn:first"
		mustCreate(t, s, rec)
		mustRecordCheck(t, s, "m1", checkUpdate("m1", 1, t0.Add(time.Second)))
		if got := mustGet(t, s, "m1").ExecutionArn; got != "arn:first" {
			t.Fatalf("ExecutionArn after a check without one = %q, want %q", got, "arn:first")
		}
	}},
	{"CountFromCreate", func(t *testing.T, s monitor.Store) {
		// A record created with a custom status (continue-as-new
		// bookkeeping, imports) starts from its check count.
		rec := fullRecord("m1", t0)
		rec.CustomStatus.CheckCount = 2
		mustCreate(t, s, rec)
		if mustRecordCheck(t, s, "m1", checkUpdate("m1", 2, t0.Add(time.Second))) {
			t.Error("RecordCheck(2) over a created count of 2: applied, want not applied")
		}
		if !mustRecordCheck(t, s, "m1", checkUpdate("m1", 3, t0.Add(time.Second))) {
			t.Error("RecordCheck(3) over a created count of 2: not applied, want applied")
		}
	}},
	{"ZeroOnFresh", func(t *testing.T, s monitor.Store) {
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		if mustRecordCheck(t, s, "m1", checkUpdate("m1", 0, t0.Add(time.Second))) {
			t.Error("RecordCheck(0) on a fresh record: applied, want not applied (0 is not greater than 0)")
		}
		wantRecord(t, "Get after RecordCheck(0)", mustGet(t, s, "m1"), rec)
	}},
	{"ZeroFromTheExecution", func(t *testing.T, s monitor.Store) {
		// Check 0 is no check, so it is no re-run either: not even from
		// the execution the record names, later than its last write.
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		arn := "arn:aws:states:us-east-1:123456789012:execution:stepmon:m1"
		if err := s.SetExecution(ctx(t), "m1", time.Time{}, arn, t0.Add(time.Second)); err != nil {
			t.Fatalf("SetExecution: %v", err)
		}
		rec.ExecutionArn, rec.LastUpdatedTime = arn, t0.Add(time.Second)
		u := checkUpdate("m1", 0, t0.Add(2*time.Second))
		u.ExecutionArn = arn
		if mustRecordCheck(t, s, "m1", u) {
			t.Error("RecordCheck(0) from the record's execution: applied, want not applied")
		}
		wantRecord(t, "Get after RecordCheck(0)", mustGet(t, s, "m1"), rec)
	}},
	{"FinishedUntouched", func(t *testing.T, s monitor.Store) {
		for _, st := range []monitor.RuntimeStatus{monitor.RuntimeCompleted, monitor.RuntimeFailed, monitor.RuntimeTerminated} {
			id := "m-" + string(st)
			mustCreate(t, s, newRecord(id, t0))
			mustRecordCheck(t, s, id, checkUpdate(id, 1, t0.Add(time.Second)))
			mustFinish(t, s, id, finish(st, string(st), t0.Add(2*time.Second)))
			before := mustGet(t, s, id)
			applied, err := s.RecordCheck(ctx(t), id, checkUpdate(id, 2, t0.Add(3*time.Second)))
			if err != nil || applied {
				t.Fatalf("RecordCheck on %s record = %v, %v; want false, nil", st, applied, err)
			}
			wantRecord(t, "Get after RecordCheck on "+string(st), mustGet(t, s, id), before)
		}
	}},
	{"RerunOverwrites", func(t *testing.T, s monitor.Store) {
		// Check n run again by the same execution (after a crash, or a
		// retry after a lost answer) observed the target anew, and the
		// workflow goes on with that attempt's result: the record takes
		// it, with the same check count.
		const arn = "arn:aws:states:us-east-1:123456789012:execution:stepmon:m1"
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		first := checkUpdate("m1", 1, t0.Add(time.Second))
		first.ExecutionArn = arn
		mustRecordCheck(t, s, "m1", first)
		rerun := checkUpdate("m1", 1, t0.Add(3*time.Second))
		rerun.ExecutionArn = arn
		rerun.CustomStatus.Status, rerun.CustomStatus.Detail = monitor.StatusError, "HTTP 503"
		if !mustRecordCheck(t, s, "m1", rerun) {
			t.Fatal("RecordCheck(1) again by the same execution: applied=false, want true")
		}
		cs := rerun.CustomStatus
		rec.RuntimeStatus, rec.CustomStatus, rec.LastUpdatedTime, rec.ExecutionArn = monitor.RuntimeRunning, &cs, rerun.At, arn
		wantRecord(t, "Get after the re-run", mustGet(t, s, "m1"), rec)

		// One that started at the very time of the stored write applies
		// too ("no earlier than").
		same := checkUpdate("m1", 1, rerun.At)
		same.ExecutionArn = arn
		same.CustomStatus.Status, same.CustomStatus.Detail = monitor.StatusError, "HTTP 502"
		if !mustRecordCheck(t, s, "m1", same) {
			t.Fatal("RecordCheck(1) again at the stored write's time: applied=false, want true")
		}
		cs = same.CustomStatus
		rec.CustomStatus = &cs
		wantRecord(t, "Get after the re-run at the same time", mustGet(t, s, "m1"), rec)

		// An attempt that started before the stored one (it outlived
		// its timeout), another execution's check of that number, and
		// one that names no execution do not apply.
		early := checkUpdate("m1", 1, t0.Add(2*time.Second))
		early.ExecutionArn = arn
		other := checkUpdate("m1", 1, t0.Add(4*time.Second))
		other.ExecutionArn = arn + "-other"
		for name, u := range map[string]monitor.CheckUpdate{"an earlier attempt": early, "another execution": other,
			"no execution": checkUpdate("m1", 1, t0.Add(4*time.Second))} {
			if mustRecordCheck(t, s, "m1", u) {
				t.Errorf("RecordCheck(1) of %s: applied, want not applied", name)
			}
			wantRecord(t, "Get after RecordCheck(1) of "+name, mustGet(t, s, "m1"), rec)
		}

		// Nor does a re-run once the record is final.
		mustFinish(t, s, "m1", finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(5*time.Second)))
		before := mustGet(t, s, "m1")
		late := checkUpdate("m1", 1, t0.Add(6*time.Second))
		late.ExecutionArn = arn
		if applied, err := s.RecordCheck(ctx(t), "m1", late); err != nil || applied {
			t.Fatalf("RecordCheck(1) again on a finished record = %v, %v; want false, nil", applied, err)
		}
		wantRecord(t, "Get after a re-run on a finished record", mustGet(t, s, "m1"), before)
	}},
	{"NotFound", func(t *testing.T, s monitor.Store) {
		_, err := s.RecordCheck(ctx(t), "missing", checkUpdate("missing", 1, t0))
		wantKind(t, "RecordCheck(missing)", err, monitor.KindNotFound)
	}},
	{"ConcurrentOutOfOrder", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		const n = 20
		// Check numbers 1..n in a scrambled order, all at once.
		errs := race(n, func(i int) error {
			k := (i*7)%n + 1
			_, err := s.RecordCheck(ctx(t), "m1", checkUpdate("m1", k, t0.Add(time.Duration(k)*time.Second)))
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("RecordCheck %d: %v", i, err)
			}
		}
		got := mustGet(t, s, "m1")
		if got.CustomStatus == nil || got.CustomStatus.CheckCount != n {
			t.Fatalf("check count after %d concurrent checks = %+v, want %d", n, got.CustomStatus, n)
		}
		if want := fmt.Sprintf("check %d", n); got.CustomStatus.Detail != want {
			t.Errorf("custom status detail = %q, want %q (the status of check %d)", got.CustomStatus.Detail, want, n)
		}
		wantTime(t, "LastUpdatedTime", got.LastUpdatedTime, t0.Add(n*time.Second))
	}},
	{"ConcurrentSameNumber", func(t *testing.T, s monitor.Store) {
		// A check retried while its first attempt is still writing: one
		// write applies.
		mustCreate(t, s, newRecord("m1", t0))
		var mu sync.Mutex
		applied := 0
		errs := race(10, func(i int) error {
			ok, err := s.RecordCheck(ctx(t), "m1", checkUpdate("m1", 5, t0.Add(time.Second)))
			if ok {
				mu.Lock()
				applied++
				mu.Unlock()
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("RecordCheck %d: %v", i, err)
			}
		}
		if applied != 1 {
			t.Fatalf("%d of 10 concurrent RecordCheck(5) applied, want exactly 1", applied)
		}
	}},
}

// testRecordCheckSequences applies check numbers in order and checks which
// apply and where the count ends.
func testRecordCheckSequences(t *testing.T, s monitor.Store) {
	type step struct {
		n       int
		applied bool
	}
	cases := []struct {
		name  string
		steps []step
		want  int
	}{
		{"InOrder", []step{{1, true}, {2, true}, {3, true}}, 3},
		{"Repeated", []step{{1, true}, {1, false}, {2, true}, {2, false}}, 2},
		{"Late", []step{{1, true}, {3, true}, {2, false}}, 3},
		{"Backwards", []step{{5, true}, {4, false}, {1, false}}, 5},
		{"Gap", []step{{2, true}, {7, true}, {6, false}, {8, true}}, 8},
	}
	for i, tc := range cases {
		id := fmt.Sprintf("seq-%d", i)
		mustCreate(t, s, newRecord(id, t0))
		var last monitor.CheckUpdate
		for j, st := range tc.steps {
			u := checkUpdate(id, st.n, t0.Add(time.Duration(j+1)*time.Second))
			if got := mustRecordCheck(t, s, id, u); got != st.applied {
				t.Errorf("%s: step %d RecordCheck(%d) applied = %v, want %v", tc.name, j, st.n, got, st.applied)
			}
			if st.applied {
				last = u
			}
		}
		got := mustGet(t, s, id)
		if got.RuntimeStatus != monitor.RuntimeRunning {
			t.Errorf("%s: status = %s, want Running", tc.name, got.RuntimeStatus)
		}
		if got.CustomStatus == nil || got.CustomStatus.CheckCount != tc.want {
			t.Errorf("%s: check count = %+v, want %d", tc.name, got.CustomStatus, tc.want)
			continue
		}
		want := newRecord(id, t0)
		cs := last.CustomStatus
		want.RuntimeStatus, want.CustomStatus, want.LastUpdatedTime = monitor.RuntimeRunning, &cs, last.At
		wantRecord(t, tc.name, got, want)
	}
}

var finishTests = []test{
	// A finished record keeps the custom status it had, or the one the
	// finish carries, without a next_check_time: no check follows.
	{"Statuses", func(t *testing.T, s monitor.Store) {
		cases := []struct {
			status  monitor.RuntimeStatus
			final   string
			running bool // a check has run before the finish
			custom  bool // the finish carries a custom status
			next    bool // the finish's custom status names a next check
		}{
			{monitor.RuntimeCompleted, monitor.FinalCompleted, true, false, false},
			{monitor.RuntimeCompleted, monitor.FinalAlerted, true, true, false},
			{monitor.RuntimeCompleted, monitor.FinalTimeout, false, true, false},
			{monitor.RuntimeFailed, monitor.FinalFailed, true, false, false},
			{monitor.RuntimeFailed, monitor.FinalFailed, true, true, true},
			{monitor.RuntimeTerminated, monitor.FinalTerminated, false, false, false},
			{monitor.RuntimeTerminated, monitor.FinalTerminated, true, false, false},
			{monitor.RuntimeTerminated, monitor.FinalTerminated, true, true, false},
		}
		for i, tc := range cases {
			id := fmt.Sprintf("m%d", i)
			want := newRecord(id, t0)
			mustCreate(t, s, want)
			if tc.running {
				u := checkUpdate(id, 1, t0.Add(time.Second))
				mustRecordCheck(t, s, id, u)
				cs := u.CustomStatus
				cs.NextCheckTime = time.Time{}
				want.RuntimeStatus, want.CustomStatus = monitor.RuntimeRunning, &cs
			}
			f := finish(tc.status, tc.final, t0.Add(time.Minute))
			if tc.custom {
				cs := customStatus(id, 2, t0.Add(50*time.Second))
				cs.Status = tc.final
				if !tc.next {
					cs.NextCheckTime = time.Time{}
				}
				f.CustomStatus = &cs
				stored := cs
				stored.NextCheckTime = time.Time{}
				want.CustomStatus = &stored
			}
			mustFinish(t, s, id, f)
			out := f.Output
			want.RuntimeStatus, want.Output, want.LastUpdatedTime, want.PurgeAt = tc.status, &out, f.At, f.PurgeAt
			wantRecord(t, fmt.Sprintf("case %d (%s/%s)", i, tc.status, tc.final), mustGet(t, s, id), want)
		}
	}},
	{"FirstWins", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		mustFinish(t, s, "m1", finish(monitor.RuntimeCompleted, monitor.FinalCompleted, t0.Add(time.Minute)))
		first := mustGet(t, s, "m1")
		for _, st := range []monitor.RuntimeStatus{monitor.RuntimeTerminated, monitor.RuntimeFailed, monitor.RuntimeCompleted} {
			f := finish(st, string(st), t0.Add(time.Hour))
			f.Output.Detail = "second"
			wantKind(t, "second Finish("+string(st)+")", s.Finish(ctx(t), "m1", f), monitor.KindGone)
		}
		wantRecord(t, "Get after refused Finishes", mustGet(t, s, "m1"), first)
	}},
	{"NotFound", func(t *testing.T, s monitor.Store) {
		wantKind(t, "Finish(missing)", s.Finish(ctx(t), "missing", finish(monitor.RuntimeCompleted, monitor.FinalCompleted, t0)), monitor.KindNotFound)
	}},
	{"NotFinal", func(t *testing.T, s monitor.Store) {
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		// A caller's bug: refused, whatever the kind.
		for _, st := range []monitor.RuntimeStatus{monitor.RuntimePending, monitor.RuntimeRunning, "Bogus", ""} {
			if err := s.Finish(ctx(t), "m1", finish(st, "x", t0)); err == nil {
				t.Errorf("Finish(%q) = nil, want an error", st)
			}
		}
		wantRecord(t, "Get after invalid Finishes", mustGet(t, s, "m1"), rec)
	}},
	{"Concurrent", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		statuses := []monitor.RuntimeStatus{monitor.RuntimeCompleted, monitor.RuntimeFailed, monitor.RuntimeTerminated}
		const n = 12
		errs := race(n, func(i int) error {
			f := finish(statuses[i%3], string(statuses[i%3]), t0.Add(time.Minute))
			f.Output.Detail = fmt.Sprintf("finish %d", i)
			return s.Finish(ctx(t), "m1", f)
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("Finishes %d and %d both succeeded", winner, i)
				}
				winner = i
				continue
			}
			wantKind(t, fmt.Sprintf("Finish %d", i), err, monitor.KindGone)
		}
		if winner < 0 {
			t.Fatal("no concurrent Finish succeeded")
		}
		got := mustGet(t, s, "m1")
		if got.RuntimeStatus != statuses[winner%3] || got.Output == nil || got.Output.Detail != fmt.Sprintf("finish %d", winner) {
			t.Fatalf("stored %s %+v, want the winner's (finish %d)", got.RuntimeStatus, got.Output, winner)
		}
	}},
	{"PurgeAt", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		if got := mustGet(t, s, "m1").PurgeAt; !got.IsZero() {
			t.Fatalf("PurgeAt of a live record = %v, want zero", got)
		}
		f := finish(monitor.RuntimeCompleted, monitor.FinalCompleted, t0.Add(time.Minute))
		f.PurgeAt = t0.Add(90 * 24 * time.Hour)
		mustFinish(t, s, "m1", f)
		wantTime(t, "PurgeAt", mustGet(t, s, "m1").PurgeAt, f.PurgeAt)
	}},
	{"ZeroPurgeAt", func(t *testing.T, s monitor.Store) {
		// Keep-forever: a finish without a purge time.
		mustCreate(t, s, newRecord("m1", t0))
		f := finish(monitor.RuntimeFailed, monitor.FinalFailed, t0.Add(time.Minute))
		f.PurgeAt = time.Time{}
		mustFinish(t, s, "m1", f)
		if got := mustGet(t, s, "m1").PurgeAt; !got.IsZero() {
			t.Fatalf("PurgeAt = %v, want zero", got)
		}
	}},
}
