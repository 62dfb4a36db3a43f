package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// taskWrite is one of the writes a workflow task makes, naming the
// created time of the record it is for.
type taskWrite struct {
	name string
	// prepare brings the record of id to where the write applies.
	prepare func(t *testing.T, s monitor.Store, id string)
	write   func(t *testing.T, s monitor.Store, id string, created time.Time) error
}

// taskWrites are the writes of the Check and Alert tasks, and the
// SetExecution of a start (or of a mend of its claim), which names the
// claim it started the execution for.
var taskWrites = []taskWrite{
	{"SetExecution", nil, setExecution},
	{"SetExecutionAfterACheck", func(t *testing.T, s monitor.Store, id string) {
		// A check recorded later than the SetExecution's time: the
		// ARN is recorded without moving LastUpdatedTime back (DynamoDB
		// does that in a write of its own).
		mustRecordCheck(t, s, id, checkUpdate(id, 1, t0.Add(time.Minute)))
	}, setExecution},
	{"RecordCheck", nil, func(t *testing.T, s monitor.Store, id string, created time.Time) error {
		u := checkUpdate(id, 1, t0.Add(time.Second))
		u.Created = created
		applied, err := s.RecordCheck(ctx(t), id, u)
		if err == nil && !applied {
			return fmt.Errorf("not applied")
		}
		return err
	}},
	{"RecordCheckWhileRunning", func(t *testing.T, s monitor.Store, id string) {
		// Every check after the first finds the record Running.
		mustRecordCheck(t, s, id, checkUpdate(id, 1, t0.Add(time.Second)))
	}, func(t *testing.T, s monitor.Store, id string, created time.Time) error {
		u := checkUpdate(id, 2, t0.Add(2*time.Second))
		u.Created = created
		applied, err := s.RecordCheck(ctx(t), id, u)
		if err == nil && !applied {
			return fmt.Errorf("not applied")
		}
		return err
	}},
	{"Finish", nil, func(t *testing.T, s monitor.Store, id string, created time.Time) error {
		f := finish(monitor.RuntimeCompleted, monitor.FinalCompleted, t0.Add(time.Second))
		f.Created = created
		return s.Finish(ctx(t), id, f)
	}},
	{"ConsumeEvents", func(t *testing.T, s monitor.Store, id string) {
		mustAddEvent(t, s, id, event("a", `{"x":1}`, t0))
	}, func(t *testing.T, s monitor.Store, id string, created time.Time) error {
		evs, err := s.ConsumeEvents(ctx(t), id, created, 1)
		if err == nil && len(evs) != 1 {
			return fmt.Errorf("consumed %d events, want 1", len(evs))
		}
		return err
	}},
	{"ConsumeEventsWithNonePending", nil, func(t *testing.T, s monitor.Store, id string, created time.Time) error {
		_, err := s.ConsumeEvents(ctx(t), id, created, 1)
		return err
	}},
	{"ClaimAlert", nil, func(t *testing.T, s monitor.Store, id string, created time.Time) error {
		st, claimed, err := s.ClaimAlert(ctx(t), id, created, monitor.ChannelSNS, t0)
		if err != nil && st != (monitor.AlertState{}) {
			return fmt.Errorf("state %+v with the error %w, want the zero state", st, err)
		}
		if err == nil && !claimed {
			return fmt.Errorf("not claimed")
		}
		return err
	}},
	{"CompleteAlert", func(t *testing.T, s monitor.Store, id string) {
		if _, ok, err := s.ClaimAlert(ctx(t), id, time.Time{}, monitor.ChannelSNS, t0); err != nil || !ok {
			t.Fatalf("ClaimAlert = %v, %v; want a claim", ok, err)
		}
	}, func(t *testing.T, s monitor.Store, id string, created time.Time) error {
		return s.CompleteAlert(ctx(t), id, monitor.AlertResult{Sent: true, MessageID: "msg-1", At: t0.Add(time.Second), Created: created})
	}},
	{"CompleteAlertFailed", func(t *testing.T, s monitor.Store, id string) {
		if _, ok, err := s.ClaimAlert(ctx(t), id, time.Time{}, monitor.ChannelSNS, t0); err != nil || !ok {
			t.Fatalf("ClaimAlert = %v, %v; want a claim", ok, err)
		}
	}, func(t *testing.T, s monitor.Store, id string, created time.Time) error {
		return s.CompleteAlert(ctx(t), id, monitor.AlertResult{Error: "503", At: t0.Add(time.Second), Created: created})
	}},
	{"ScheduleAlert", func(t *testing.T, s monitor.Store, id string) {
		failAlert(t, s, id, "503", t0)
	}, func(t *testing.T, s monitor.Store, id string, created time.Time) error {
		at := t0.Add(time.Minute)
		if err := s.ScheduleAlert(ctx(t), id, created, at); err != nil {
			return err
		}
		if got := mustGet(t, s, id).Alert.RetryAt; !normTime(got).Equal(normTime(at)) {
			return fmt.Errorf("RetryAt = %v after the write, want %v", got, at)
		}
		return nil
	}},
}

// ownerTests hold the writes of a task to the monitor it runs for, and
// of a start to the claim it made: the record of the id with the created
// time the write names. A task of an earlier monitor of the id, finished
// and purged before the id was started again, and a start (or a mend) of
// a claim released before the id was claimed again, must find the new
// record gone and change nothing.
var ownerTests = []test{
	{"OtherMonitorIsGone", func(t *testing.T, s monitor.Store) {
		for i, w := range taskWrites {
			id := fmt.Sprintf("m%d", i)
			mustCreate(t, s, newRecord(id, t0))
			if w.prepare != nil {
				w.prepare(t, s, id)
			}
			before := mustGet(t, s, id)
			// The earlier monitor started a second, or a millisecond,
			// before this one: both differ at every store's precision.
			for _, old := range []time.Time{t0.Add(-time.Second), t0.Add(-ms)} {
				err := w.write(t, s, id, old)
				wantKind(t, w.name+" naming an earlier monitor", err, monitor.KindGone)
				wantRecord(t, "record after "+w.name+" naming an earlier monitor", mustGet(t, s, id), before)
			}
		}
	}},
	{"OwnMonitorApplies", func(t *testing.T, s monitor.Store) {
		// With the created time as Create was given it (finer than the
		// store may keep), as Get returns it, or zero (any record).
		for i, w := range taskWrites {
			for j, how := range []string{"as created", "as read", "zero"} {
				id := fmt.Sprintf("m%d-%d", i, j)
				rec := newRecord(id, t0)
				mustCreate(t, s, rec)
				if w.prepare != nil {
					w.prepare(t, s, id)
				}
				created := rec.CreatedTime
				switch how {
				case "as read":
					created = mustGet(t, s, id).CreatedTime
				case "zero":
					created = time.Time{}
				}
				if err := w.write(t, s, id, created); err != nil {
					t.Errorf("%s naming its own monitor (created time %s): %v", w.name, how, err)
				}
			}
		}
	}},
	{"FinishedOtherMonitorIsGone", func(t *testing.T, s monitor.Store) {
		// A finished record of another monitor is gone too, not the
		// finished record that RecordCheck, ConsumeEvents and ClaimAlert
		// answer without an error: the task must not take its output
		// or alert state for its own.
		for i, w := range taskWrites {
			id := fmt.Sprintf("m%d", i)
			mustCreate(t, s, newRecord(id, t0))
			if w.prepare != nil {
				w.prepare(t, s, id)
			}
			f := finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Second))
			f.Output.AlertStatus = monitor.OutputAlertUnknown
			mustFinish(t, s, id, f)
			before := mustGet(t, s, id)
			err := w.write(t, s, id, t0.Add(-time.Second))
			wantKind(t, w.name+" of a finished record naming an earlier monitor", err, monitor.KindGone)
			wantRecord(t, "record after "+w.name+" naming an earlier monitor", mustGet(t, s, id), before)
		}
	}},
	{"NotFound", func(t *testing.T, s monitor.Store) {
		for _, w := range taskWrites {
			wantKind(t, w.name+" of a missing record", w.write(t, s, "missing", t0), monitor.KindNotFound)
		}
	}},
}

// setExecution records an execution for the record of id created at
// created, and checks that an answer without an error recorded it.
func setExecution(t *testing.T, s monitor.Store, id string, created time.Time) error {
	arn := "arn:aws:states:us-east-1:123456789012:execution:sm:" + id
	if err := s.SetExecution(ctx(t), id, created, arn, t0.Add(time.Second)); err != nil {
		return err
	}
	if got := mustGet(t, s, id).ExecutionArn; got != arn {
		return fmt.Errorf("execution %q recorded, want %q", got, arn)
	}
	return nil
}
