package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

func event(name string, data string, at time.Time) monitor.Event {
	ev := monitor.Event{Name: name, RaisedAt: at}
	if data != "" {
		ev.Data = json.RawMessage(data)
	}
	return ev
}

func consumed(evs []monitor.Event, by int) []monitor.Event {
	out := make([]monitor.Event, len(evs))
	for i, ev := range evs {
		ev.ConsumedBy = by
		out[i] = ev
	}
	return out
}

// wantEvents fails t unless got and want hold the same events in order.
func wantEvents(t *testing.T, what string, got, want []monitor.Event) {
	t.Helper()
	g, w := norm(monitor.Record{Events: got}).Events, norm(monitor.Record{Events: want}).Events
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		t.Fatalf("%s: events differ\ngot  %s\nwant %s", what, gj, wj)
	}
}

func mustConsume(t *testing.T, s monitor.Store, id string, check int) []monitor.Event {
	t.Helper()
	evs, err := s.ConsumeEvents(ctx(t), id, time.Time{}, check)
	if err != nil {
		t.Fatalf("ConsumeEvents(%s, %d): %v", id, check, err)
	}
	return evs
}

var eventTests = []test{
	{"AddAndGet", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		evs := []monitor.Event{
			event(monitor.EventSetInterval, `{"pollingIntervalSeconds":10}`, t0.Add(time.Second)),
			event(monitor.EventCheckNow, "", t0.Add(2*time.Second)),
			event("custom", `{"nested":{"a":[1,2,"three"]},"s":"ünïcødé"}`, t0.Add(3*time.Second)),
		}
		for _, ev := range evs {
			mustAddEvent(t, s, "m1", ev)
		}
		got := mustGet(t, s, "m1")
		wantEvents(t, "Get().Events", got.Events, evs)
		if got.RuntimeStatus != monitor.RuntimePending {
			t.Errorf("status after AddEvent = %s, want Pending", got.RuntimeStatus)
		}
	}},
	{"AddIsUnconsumed", func(t *testing.T, s monitor.Store) {
		// An added event is pending whatever ConsumedBy it carries.
		mustCreate(t, s, newRecord("m1", t0))
		ev := event("a", "", t0.Add(time.Second))
		ev.ConsumedBy = 3
		mustAddEvent(t, s, "m1", ev)
		ev.ConsumedBy = 0
		wantEvents(t, "Get().Events", mustGet(t, s, "m1").Events, []monitor.Event{ev})
		wantEvents(t, "ConsumeEvents(1)", mustConsume(t, s, "m1", 1), consumed([]monitor.Event{ev}, 1))
	}},
	{"ConsumeIdempotent", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		a := event("a", `{"n":1}`, t0.Add(time.Second))
		b := event("b", "", t0.Add(2*time.Second))
		c := event("c", `"x"`, t0.Add(3*time.Second))
		mustAddEvent(t, s, "m1", a)
		mustAddEvent(t, s, "m1", b)

		wantEvents(t, "ConsumeEvents(1)", mustConsume(t, s, "m1", 1), consumed([]monitor.Event{a, b}, 1))
		wantEvents(t, "ConsumeEvents(1) again", mustConsume(t, s, "m1", 1), consumed([]monitor.Event{a, b}, 1))
		wantEvents(t, "Get().Events after check 1", mustGet(t, s, "m1").Events, consumed([]monitor.Event{a, b}, 1))

		mustAddEvent(t, s, "m1", c)
		wantEvents(t, "ConsumeEvents(2)", mustConsume(t, s, "m1", 2), consumed([]monitor.Event{c}, 2))
		wantEvents(t, "ConsumeEvents(2) again", mustConsume(t, s, "m1", 2), consumed([]monitor.Event{c}, 2))
		// Check 2 runs only after check 1 succeeded, so the write that
		// took c dropped what check 1 consumed.
		wantEvents(t, "Get().Events after check 2", mustGet(t, s, "m1").Events, consumed([]monitor.Event{c}, 2))
		if got := mustConsume(t, s, "m1", 3); len(got) != 0 {
			t.Fatalf("ConsumeEvents(3) with nothing pending = %v, want none", got)
		}
		// With nothing pending and room left, check 3 writes nothing:
		// what check 2 consumed stays until a check takes new events.
		wantEvents(t, "Get().Events at the end", mustGet(t, s, "m1").Events, consumed([]monitor.Event{c}, 2))
	}},
	{"RetryTakesNewEvents", func(t *testing.T, s monitor.Store) {
		// Events raised between two attempts of one check belong to it.
		mustCreate(t, s, newRecord("m1", t0))
		a := event("a", "", t0.Add(time.Second))
		b := event("b", "", t0.Add(2*time.Second))
		mustAddEvent(t, s, "m1", a)
		mustConsume(t, s, "m1", 1)
		mustAddEvent(t, s, "m1", b)
		wantEvents(t, "ConsumeEvents(1) retried", mustConsume(t, s, "m1", 1), consumed([]monitor.Event{a, b}, 1))
	}},
	{"Many", func(t *testing.T, s monitor.Store) {
		// More events than a store may mark in one write.
		mustCreate(t, s, newRecord("m1", t0))
		var evs []monitor.Event
		for i := range 60 {
			ev := event(fmt.Sprintf("e%02d", i), fmt.Sprintf(`{"i":%d}`, i), t0.Add(time.Duration(i)*time.Second))
			mustAddEvent(t, s, "m1", ev)
			evs = append(evs, ev)
		}
		wantEvents(t, "ConsumeEvents(1)", mustConsume(t, s, "m1", 1), consumed(evs, 1))
		wantEvents(t, "Get().Events", mustGet(t, s, "m1").Events, consumed(evs, 1))
	}},
	{"ConsumeNone", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		if got := mustConsume(t, s, "m1", 1); len(got) != 0 {
			t.Fatalf("ConsumeEvents without events = %v, want none", got)
		}
	}},
	{"CheckNumberNotPositive", func(t *testing.T, s monitor.Store) {
		// Checks are numbered from 1: ConsumeEvents of check 0 or below
		// is invalid and consumes nothing.
		mustCreate(t, s, newRecord("m1", t0))
		ev := event("a", "", t0.Add(time.Second))
		mustAddEvent(t, s, "m1", ev)
		for _, check := range []int{0, -1} {
			_, err := s.ConsumeEvents(ctx(t), "m1", time.Time{}, check)
			wantKind(t, fmt.Sprintf("ConsumeEvents(check %d)", check), err, monitor.KindInvalid)
		}
		wantEvents(t, "Get().Events", mustGet(t, s, "m1").Events, []monitor.Event{ev})
	}},
	{"NotFound", func(t *testing.T, s monitor.Store) {
		wantKind(t, "AddEvent(missing)", s.AddEvent(ctx(t), "missing", event("a", "", t0)), monitor.KindNotFound)
		_, err := s.ConsumeEvents(ctx(t), "missing", time.Time{}, 1)
		wantKind(t, "ConsumeEvents(missing)", err, monitor.KindNotFound)
	}},
	{"GoneWhenFinished", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		a := event("a", "", t0.Add(time.Second))
		b := event("b", "", t0.Add(2*time.Second))
		mustAddEvent(t, s, "m1", a)
		mustConsume(t, s, "m1", 1)
		mustAddEvent(t, s, "m1", b)
		mustFinish(t, s, "m1", finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Minute)))
		wantKind(t, "AddEvent on finished", s.AddEvent(ctx(t), "m1", event("c", "", t0.Add(2*time.Minute))), monitor.KindGone)
		// A finished record's events no longer change; a late check
		// still sees what it consumed.
		wantEvents(t, "ConsumeEvents(1) on finished", mustConsume(t, s, "m1", 1), consumed([]monitor.Event{a}, 1))
		if got := mustConsume(t, s, "m1", 2); len(got) != 0 {
			t.Fatalf("ConsumeEvents(2) on finished = %v, want none", got)
		}
		wantEvents(t, "Get().Events", mustGet(t, s, "m1").Events, []monitor.Event{consumed([]monitor.Event{a}, 1)[0], b})
	}},
	{"ConcurrentAdds", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		const n = 10
		errs := race(n, func(i int) error {
			return s.AddEvent(ctx(t), "m1", event(fmt.Sprintf("e%d", i), fmt.Sprintf(`{"i":%d}`, i), t0.Add(time.Second)))
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("AddEvent %d: %v", i, err)
			}
		}
		got := mustGet(t, s, "m1").Events
		seen := map[string]bool{}
		for _, ev := range got {
			seen[ev.Name] = true
		}
		if len(got) != n || len(seen) != n {
			t.Fatalf("after %d concurrent AddEvents: %d events (%d distinct), want %d", n, len(got), len(seen), n)
		}
	}},
	{"Cap", func(t *testing.T, s monitor.Store) {
		// A record holds at most MaxEventsPerMonitor events, those the
		// latest check consumed included.
		mustCreate(t, s, newRecord("m1", t0))
		for i := range monitor.MaxEventsPerMonitor {
			mustAddEvent(t, s, "m1", event(fmt.Sprintf("e%03d", i), "", t0.Add(time.Duration(i)*time.Millisecond)))
			if i == monitor.MaxEventsPerMonitor/2 {
				mustConsume(t, s, "m1", 1)
			}
		}
		err := s.AddEvent(ctx(t), "m1", event("over", "", t0.Add(time.Minute)))
		wantKind(t, "AddEvent over the cap", err, monitor.KindConflict)
		if got := len(mustGet(t, s, "m1").Events); got != monitor.MaxEventsPerMonitor {
			t.Fatalf("%d events stored, want %d", got, monitor.MaxEventsPerMonitor)
		}
		// A finished monitor is gone, full or not.
		mustFinish(t, s, "m1", finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Hour)))
		wantKind(t, "AddEvent on a full, finished monitor", s.AddEvent(ctx(t), "m1", event("late", "", t0.Add(time.Hour))), monitor.KindGone)
	}},
	{"CapUnderConcurrency", func(t *testing.T, s monitor.Store) {
		// The cap is part of the write: concurrent adds near it never
		// pass it.
		const room, n = 3, 12
		mustCreate(t, s, newRecord("m1", t0))
		for i := range monitor.MaxEventsPerMonitor - room {
			mustAddEvent(t, s, "m1", event(fmt.Sprintf("e%03d", i), "", t0))
		}
		errs := race(n, func(i int) error {
			return s.AddEvent(ctx(t), "m1", event(fmt.Sprintf("c%02d", i), "", t0.Add(time.Second)))
		})
		added := 0
		for i, err := range errs {
			switch {
			case err == nil:
				added++
			case monitor.IsKind(err, monitor.KindConflict):
			default:
				t.Fatalf("AddEvent %d: %v, want success or KindConflict", i, err)
			}
		}
		if added != room {
			t.Errorf("%d of %d concurrent AddEvents succeeded with room for %d", added, n, room)
		}
		if got := len(mustGet(t, s, "m1").Events); got != monitor.MaxEventsPerMonitor {
			t.Fatalf("%d events stored, want %d", got, monitor.MaxEventsPerMonitor)
		}
	}},
	{"ConcurrentConsumes", func(t *testing.T, s monitor.Store) {
		// Concurrent attempts of one check all see the same events; a
		// concurrent different check takes each event at most once.
		mustCreate(t, s, newRecord("m1", t0))
		for i := range 5 {
			mustAddEvent(t, s, "m1", event(fmt.Sprintf("e%d", i), "", t0.Add(time.Duration(i)*time.Second)))
		}
		var mu sync.Mutex
		results := map[int][][]monitor.Event{}
		errs := race(8, func(i int) error {
			check := 1 + i%2
			evs, err := s.ConsumeEvents(ctx(t), "m1", time.Time{}, check)
			mu.Lock()
			results[check] = append(results[check], evs)
			mu.Unlock()
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("ConsumeEvents %d: %v", i, err)
			}
		}
		final := mustGet(t, s, "m1").Events
		if len(final) != 5 {
			t.Fatalf("%d events stored, want 5", len(final))
		}
		for _, ev := range final {
			if ev.ConsumedBy != 1 && ev.ConsumedBy != 2 {
				t.Fatalf("event %s consumed by %d, want 1 or 2", ev.Name, ev.ConsumedBy)
			}
		}
		for check, rs := range results {
			var want []monitor.Event
			for _, ev := range final {
				if ev.ConsumedBy == check {
					want = append(want, ev)
				}
			}
			// Every attempt returns only events its check took.
			for _, got := range rs {
				for _, ev := range got {
					if ev.ConsumedBy != check {
						t.Fatalf("ConsumeEvents(%d) returned %s consumed by %d", check, ev.Name, ev.ConsumedBy)
					}
				}
			}
			wantEvents(t, fmt.Sprintf("ConsumeEvents(%d) after the race", check), mustConsume(t, s, "m1", check), want)
		}
	}},
	{"SameEventTwice", func(t *testing.T, s monitor.Store) {
		// An event belongs to the call that added it: two calls with
		// the same event store it twice.
		mustCreate(t, s, newRecord("m1", t0))
		ev := event("custom", `{"x":1}`, t0.Add(time.Second))
		mustAddEvent(t, s, "m1", ev)
		mustAddEvent(t, s, "m1", ev)
		rec := mustGet(t, s, "m1")
		wantEvents(t, "after two AddEvents of one event", rec.Events, []monitor.Event{ev, ev})
		if got := rec.Pending(); got != 2 {
			t.Fatalf("pending events = %d, want 2", got)
		}
	}},
}

var alertTests = []test{
	{"Lifecycle", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		at1, at2, at3 := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)

		st, ok, err := s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelSNS, at1)
		if err != nil || !ok {
			t.Fatalf("first ClaimAlert = %v, %v; want claimed", ok, err)
		}
		wantAlert(t, "after first claim", st, monitor.AlertState{Status: monitor.AlertSending, Channel: monitor.ChannelSNS, Attempts: 1, ClaimedAt: at1})

		st, ok, err = s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelSNS, at2)
		if err != nil || ok {
			t.Fatalf("ClaimAlert while sending = %v, %v; want not claimed, no error", ok, err)
		}
		wantAlert(t, "refused claim while sending", st, monitor.AlertState{Status: monitor.AlertSending, Channel: monitor.ChannelSNS, Attempts: 1, ClaimedAt: at1})

		if err := s.CompleteAlert(ctx(t), "m1", monitor.AlertResult{Error: "throttled", At: at2}); err != nil {
			t.Fatalf("CompleteAlert(failed): %v", err)
		}
		got := mustGet(t, s, "m1").Alert
		if got.Status != monitor.AlertFailed || got.LastError != "throttled" || got.Attempts != 1 {
			t.Fatalf("after a failed send: %+v, want failed, lastError throttled, 1 attempt", got)
		}

		st, ok, err = s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelTwilio, at3)
		if err != nil || !ok {
			t.Fatalf("ClaimAlert after a failure = %v, %v; want claimed", ok, err)
		}
		if st.Status != monitor.AlertSending || st.Attempts != 2 || st.Channel != monitor.ChannelTwilio {
			t.Fatalf("after the second claim: %+v, want sending, 2 attempts, channel twilio", st)
		}
		wantTime(t, "ClaimedAt", st.ClaimedAt, at3)

		if err := s.CompleteAlert(ctx(t), "m1", monitor.AlertResult{Sent: true, MessageID: "msg-123", At: at3.Add(time.Second)}); err != nil {
			t.Fatalf("CompleteAlert(sent): %v", err)
		}
		got = mustGet(t, s, "m1").Alert
		if got.Status != monitor.AlertSent || got.MessageID != "msg-123" || got.Attempts != 2 || got.Channel != monitor.ChannelTwilio {
			t.Fatalf("after the send: %+v, want sent, msg-123, 2 attempts, twilio", got)
		}
		wantTime(t, "SentAt", got.SentAt, at3.Add(time.Second))

		st, ok, err = s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelSNS, at3.Add(time.Minute))
		if err != nil || ok {
			t.Fatalf("ClaimAlert after sent = %v, %v; want not claimed, no error", ok, err)
		}
		if st.Status != monitor.AlertSent || st.Attempts != 2 || st.MessageID != "msg-123" {
			t.Fatalf("state returned by a refused claim: %+v, want the sent state", st)
		}
		wantKind(t, "CompleteAlert after sent", s.CompleteAlert(ctx(t), "m1", monitor.AlertResult{Sent: true, MessageID: "again", At: at3}), monitor.KindConflict)
		if got := mustGet(t, s, "m1").Alert.MessageID; got != "msg-123" {
			t.Fatalf("MessageID after a refused CompleteAlert = %q, want msg-123", got)
		}
	}},
	{"FailureReplacesLastError", func(t *testing.T, s monitor.Store) {
		// A failed send records its own error, also an empty one: the
		// DynamoDB store kept the error of the attempt before.
		mustCreate(t, s, newRecord("m1", t0))
		for i, msg := range []string{"boom", ""} {
			if _, ok, err := s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelWebhook, t0.Add(time.Duration(i)*time.Second)); err != nil || !ok {
				t.Fatalf("ClaimAlert %d = %v, %v", i+1, ok, err)
			}
			if err := s.CompleteAlert(ctx(t), "m1", monitor.AlertResult{Error: msg, At: t0}); err != nil {
				t.Fatalf("CompleteAlert(%q): %v", msg, err)
			}
			if got := mustGet(t, s, "m1").Alert; got.Status != monitor.AlertFailed || got.LastError != msg {
				t.Fatalf("after a failure with error %q: %+v", msg, got)
			}
		}
	}},
	{"CompleteWithoutClaim", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		wantKind(t, "CompleteAlert without a claim", s.CompleteAlert(ctx(t), "m1", monitor.AlertResult{Sent: true, At: t0}), monitor.KindConflict)
		if got := mustGet(t, s, "m1").Alert; got != (monitor.AlertState{}) {
			t.Fatalf("alert after a refused CompleteAlert = %+v, want none", got)
		}
	}},
	{"CompleteAfterFailed", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		if _, ok, err := s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelWebhook, t0); err != nil || !ok {
			t.Fatalf("ClaimAlert = %v, %v", ok, err)
		}
		if err := s.CompleteAlert(ctx(t), "m1", monitor.AlertResult{Error: "HTTP 500", At: t0}); err != nil {
			t.Fatalf("CompleteAlert: %v", err)
		}
		wantKind(t, "second CompleteAlert", s.CompleteAlert(ctx(t), "m1", monitor.AlertResult{Sent: true, At: t0}), monitor.KindConflict)
	}},
	{"NotFound", func(t *testing.T, s monitor.Store) {
		_, _, err := s.ClaimAlert(ctx(t), "missing", time.Time{}, monitor.ChannelSNS, t0)
		wantKind(t, "ClaimAlert(missing)", err, monitor.KindNotFound)
		wantKind(t, "CompleteAlert(missing)", s.CompleteAlert(ctx(t), "missing", monitor.AlertResult{Sent: true, At: t0}), monitor.KindNotFound)
		wantKind(t, "ScheduleAlert(missing)", s.ScheduleAlert(ctx(t), "missing", time.Time{}, t0), monitor.KindNotFound)
	}},
	{"ScheduleAlert", func(t *testing.T, s monitor.Store) {
		// The time of the next attempt is kept while the alert has
		// failed, replaced by a later schedule, and cleared by a claim.
		mustCreate(t, s, newRecord("m1", t0))
		if err := s.ScheduleAlert(ctx(t), "m1", time.Time{}, t0.Add(time.Minute)); err != nil {
			t.Fatalf("ScheduleAlert with no alert attempted: %v", err)
		}
		wantAlert(t, "schedule with no alert attempted", mustGet(t, s, "m1").Alert, monitor.AlertState{})

		failAlert(t, s, "m1", "HTTP 503", t0)
		failed := mustGet(t, s, "m1").Alert
		for _, at := range []time.Time{t0.Add(5*time.Second + 250*time.Millisecond), t0.Add(40 * time.Second)} {
			if err := s.ScheduleAlert(ctx(t), "m1", time.Time{}, at); err != nil {
				t.Fatalf("ScheduleAlert(%v): %v", at, err)
			}
			want := failed
			want.RetryAt = at
			wantAlert(t, "after ScheduleAlert", mustGet(t, s, "m1").Alert, want)
		}

		st, ok, err := s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelWebhook, t0.Add(41*time.Second))
		if err != nil || !ok {
			t.Fatalf("ClaimAlert = %v, %v; want a claim", ok, err)
		}
		if !st.RetryAt.IsZero() {
			t.Errorf("ClaimAlert's state has RetryAt %v, want none", st.RetryAt)
		}
		if got := mustGet(t, s, "m1").Alert.RetryAt; !got.IsZero() {
			t.Errorf("RetryAt after a claim = %v, want none", got)
		}
		if err := s.ScheduleAlert(ctx(t), "m1", time.Time{}, t0.Add(time.Hour)); err != nil {
			t.Fatalf("ScheduleAlert while sending: %v", err)
		}
		if got := mustGet(t, s, "m1").Alert; !got.RetryAt.IsZero() || got.Status != monitor.AlertSending {
			t.Errorf("after ScheduleAlert while sending: alert %+v, want sending with no RetryAt", got)
		}
	}},
	{"ScheduleAlertAfterFinish", func(t *testing.T, s monitor.Store) {
		// A terminate may end the monitor between the failed send and
		// the schedule: nothing is written, and no error returned.
		mustCreate(t, s, newRecord("m1", t0))
		failAlert(t, s, "m1", "HTTP 503", t0)
		if err := s.ScheduleAlert(ctx(t), "m1", time.Time{}, t0.Add(10*time.Second)); err != nil {
			t.Fatalf("ScheduleAlert: %v", err)
		}
		mustFinish(t, s, "m1", finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Second)))
		before := mustGet(t, s, "m1")
		if err := s.ScheduleAlert(ctx(t), "m1", time.Time{}, t0.Add(time.Minute)); err != nil {
			t.Fatalf("ScheduleAlert on a finished record: %v", err)
		}
		wantRecord(t, "record after ScheduleAlert on a finished record", mustGet(t, s, "m1"), before)
	}},
	{"CompleteAfterFinish", func(t *testing.T, s monitor.Store) {
		// A terminate may finish the monitor while its alert is in
		// flight; the send's result is still recorded.
		mustCreate(t, s, newRecord("m1", t0))
		if _, ok, err := s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelSNS, t0); err != nil || !ok {
			t.Fatalf("ClaimAlert = %v, %v", ok, err)
		}
		mustFinish(t, s, "m1", finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Second)))
		if err := s.CompleteAlert(ctx(t), "m1", monitor.AlertResult{Sent: true, MessageID: "m", At: t0.Add(2 * time.Second)}); err != nil {
			t.Fatalf("CompleteAlert on a finished record: %v", err)
		}
		got := mustGet(t, s, "m1")
		if got.Alert.Status != monitor.AlertSent || got.RuntimeStatus != monitor.RuntimeTerminated {
			t.Fatalf("got alert %s status %s, want sent and Terminated", got.Alert.Status, got.RuntimeStatus)
		}
	}},
	{"CompleteAfterFinishSetsTheOutput", func(t *testing.T, s monitor.Store) {
		// A terminate during the send writes the output's alert_status
		// "unknown"; the send's result then replaces it, and only that.
		tests := []struct {
			name   string
			before string // the output's alert_status after the terminate
			sent   bool
			want   string
		}{
			{"sent", monitor.OutputAlertUnknown, true, "sent"},
			{"failed", monitor.OutputAlertUnknown, false, "failed"},
			{"no alert status", "", true, ""},
			{"another alert status", "cancelled", true, "cancelled"},
		}
		for i, tt := range tests {
			id := fmt.Sprintf("m%d", i)
			mustCreate(t, s, newRecord(id, t0))
			if _, ok, err := s.ClaimAlert(ctx(t), id, time.Time{}, monitor.ChannelSNS, t0); err != nil || !ok {
				t.Fatalf("%s: ClaimAlert = %v, %v", tt.name, ok, err)
			}
			f := finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Second))
			f.Output.AlertStatus = tt.before
			mustFinish(t, s, id, f)
			res := monitor.AlertResult{Sent: tt.sent, At: t0.Add(2 * time.Second)}
			if !tt.sent {
				res.Error = "HTTP 500"
			}
			if err := s.CompleteAlert(ctx(t), id, res); err != nil {
				t.Fatalf("%s: CompleteAlert on a finished record: %v", tt.name, err)
			}
			got := mustGet(t, s, id)
			want := f.Output
			want.AlertStatus = tt.want
			if got.Output == nil || !reflect.DeepEqual(*got.Output, want) {
				t.Errorf("%s: output = %+v, want %+v", tt.name, got.Output, want)
			}
		}
	}},
	{"FinishAfterCompleteKeepsTheResult", func(t *testing.T, s monitor.Store) {
		// A terminate reads the alert as sending and builds an output
		// whose alert_status is "unknown"; when the send's result is
		// recorded before its Finish, the Finish stores the result
		// instead, and only for "unknown".
		tests := []struct {
			name     string
			complete bool // CompleteAlert before the Finish
			sent     bool
			output   string // the output's alert_status that Finish writes
			want     string
		}{
			{"sent", true, true, monitor.OutputAlertUnknown, "sent"},
			{"failed", true, false, monitor.OutputAlertUnknown, "failed"},
			{"still sending", false, true, monitor.OutputAlertUnknown, monitor.OutputAlertUnknown},
			{"no alert status", true, true, "", ""},
			{"another alert status", true, true, "cancelled", "cancelled"},
		}
		for i, tt := range tests {
			id := fmt.Sprintf("m%d", i)
			mustCreate(t, s, newRecord(id, t0))
			if _, ok, err := s.ClaimAlert(ctx(t), id, time.Time{}, monitor.ChannelSNS, t0); err != nil || !ok {
				t.Fatalf("%s: ClaimAlert = %v, %v", tt.name, ok, err)
			}
			if tt.complete {
				res := monitor.AlertResult{Sent: tt.sent, At: t0.Add(time.Second)}
				if !tt.sent {
					res.Error = "HTTP 500"
				}
				if err := s.CompleteAlert(ctx(t), id, res); err != nil {
					t.Fatalf("%s: CompleteAlert on a live record: %v", tt.name, err)
				}
			}
			f := finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(2*time.Second))
			f.Output.AlertStatus = tt.output
			mustFinish(t, s, id, f)
			got := mustGet(t, s, id)
			want := f.Output
			want.AlertStatus = tt.want
			if got.Output == nil || !reflect.DeepEqual(*got.Output, want) {
				t.Errorf("%s: output = %+v, want %+v", tt.name, got.Output, want)
			}
		}
	}},
	{"FinishFromRecord", func(t *testing.T, s monitor.Store) {
		// A terminate builds its output from a read; a check and the
		// alert task may record themselves before its Finish lands.
		// With FromRecord the output counts the checks and says what
		// became of the alert as the record does at the Finish, and a
		// send still in flight then sets its result.
		tests := []struct {
			name     string
			claim    bool   // the alert claimed before the Finish
			complete string // "sent" or "failed": its result recorded before the Finish
			after    string // "sent": its result recorded after the Finish
			want     string // the output's alert_status
		}{
			{"no alert", false, "", "", ""},
			{"being sent", true, "", "", monitor.OutputAlertUnknown},
			{"being sent, then sent", true, "", "sent", "sent"},
			{"sent", true, "sent", "", "sent"},
			{"failed", true, "failed", "", "failed"},
		}
		for i, tt := range tests {
			id := fmt.Sprintf("m%d", i)
			mustCreate(t, s, newRecord(id, t0))
			// The read saw two checks; a third was recorded since. Every
			// other monitor counts open issues (a GitHub one's), 5, 6,
			// then 7; the others count none.
			issues := i%2 == 0
			for n := 1; n <= 3; n++ {
				u := checkUpdate(id, n, t0.Add(time.Duration(n)*time.Second))
				if issues {
					u.CustomStatus.OpenIssues = ptr(n + 4)
				}
				if _, err := s.RecordCheck(ctx(t), id, u); err != nil {
					t.Fatalf("%s: RecordCheck %d: %v", tt.name, n, err)
				}
			}
			if tt.claim {
				if _, ok, err := s.ClaimAlert(ctx(t), id, time.Time{}, monitor.ChannelSNS, t0); err != nil || !ok {
					t.Fatalf("%s: ClaimAlert = %v, %v", tt.name, ok, err)
				}
			}
			if tt.complete != "" {
				res := monitor.AlertResult{Sent: tt.complete == "sent", At: t0.Add(4 * time.Second)}
				if !res.Sent {
					res.Error = "HTTP 500"
				}
				if err := s.CompleteAlert(ctx(t), id, res); err != nil {
					t.Fatalf("%s: CompleteAlert: %v", tt.name, err)
				}
			}
			f := finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(5*time.Second))
			f.Output.ChecksPerformed, f.Output.AlertStatus, f.FromRecord = 2, "", true
			if issues {
				f.Output.OpenIssues = ptr(6)
			}
			mustFinish(t, s, id, f)
			if tt.after != "" {
				if err := s.CompleteAlert(ctx(t), id, monitor.AlertResult{Sent: true, At: t0.Add(6 * time.Second)}); err != nil {
					t.Fatalf("%s: CompleteAlert after the Finish: %v", tt.name, err)
				}
			}
			got := mustGet(t, s, id)
			want := f.Output
			want.ChecksPerformed, want.AlertStatus = 3, tt.want
			if issues {
				want.OpenIssues = ptr(7)
			}
			if got.Output == nil || !reflect.DeepEqual(*got.Output, want) {
				t.Errorf("%s: output = %+v, want %+v", tt.name, got.Output, want)
			}
		}
	}},
	{"FinishFromRecordRaces", func(t *testing.T, s monitor.Store) {
		// A terminate's Finish racing the alert task's CompleteAlert and
		// a check's RecordCheck: whichever lands first, the output ends
		// saying what the record says (the send's result, the checks
		// counted), never the alert as not attempted or a check fewer.
		for i := range 20 {
			id := fmt.Sprintf("r%d", i)
			mustCreate(t, s, newRecord(id, t0))
			for n := 1; n <= 2; n++ {
				if _, err := s.RecordCheck(ctx(t), id, checkUpdate(id, n, t0.Add(time.Duration(n)*time.Second))); err != nil {
					t.Fatalf("RecordCheck %d: %v", n, err)
				}
			}
			if _, ok, err := s.ClaimAlert(ctx(t), id, time.Time{}, monitor.ChannelSNS, t0); err != nil || !ok {
				t.Fatalf("ClaimAlert = %v, %v", ok, err)
			}
			f := finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(5*time.Second))
			f.Output.ChecksPerformed, f.Output.AlertStatus, f.FromRecord = 2, "", true
			var wg sync.WaitGroup
			wg.Go(func() {
				if err := s.Finish(ctx(t), id, f); err != nil {
					t.Errorf("%s: Finish: %v", id, err)
				}
			})
			wg.Go(func() {
				if err := s.CompleteAlert(ctx(t), id, monitor.AlertResult{Sent: true, At: t0.Add(4 * time.Second)}); err != nil {
					t.Errorf("%s: CompleteAlert: %v", id, err)
				}
			})
			wg.Go(func() {
				if _, err := s.RecordCheck(ctx(t), id, checkUpdate(id, 3, t0.Add(3*time.Second))); err != nil {
					t.Errorf("%s: RecordCheck 3: %v", id, err)
				}
			})
			wg.Wait()
			got := mustGet(t, s, id)
			if got.Output == nil || got.CustomStatus == nil {
				t.Fatalf("%s: output %+v, custom status %+v", id, got.Output, got.CustomStatus)
			}
			if got.Output.AlertStatus != "sent" || got.Output.ChecksPerformed != got.CustomStatus.CheckCount {
				t.Errorf("%s: output alert_status %q, checks_performed %d; want sent and the custom status's %d checks",
					id, got.Output.AlertStatus, got.Output.ChecksPerformed, got.CustomStatus.CheckCount)
			}
		}
	}},
	{"NoClaimAfterFinish", func(t *testing.T, s monitor.Store) {
		// A monitor terminated while its alert task runs (or retries
		// after a failed send) sends nothing more.
		for _, failedFirst := range []bool{false, true} {
			id := fmt.Sprintf("m-%t", failedFirst)
			mustCreate(t, s, newRecord(id, t0))
			want := monitor.AlertState{}
			if failedFirst {
				if _, ok, err := s.ClaimAlert(ctx(t), id, time.Time{}, monitor.ChannelSNS, t0); err != nil || !ok {
					t.Fatalf("ClaimAlert = %v, %v", ok, err)
				}
				if err := s.CompleteAlert(ctx(t), id, monitor.AlertResult{Error: "HTTP 503", At: t0}); err != nil {
					t.Fatalf("CompleteAlert: %v", err)
				}
				want = mustGet(t, s, id).Alert
			}
			mustFinish(t, s, id, finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Second)))
			st, ok, err := s.ClaimAlert(ctx(t), id, time.Time{}, monitor.ChannelSNS, t0.Add(2*time.Second))
			if err != nil || ok {
				t.Fatalf("ClaimAlert on a terminated record (failed first: %t) = %v, %v; want not claimed, no error", failedFirst, ok, err)
			}
			wantAlert(t, "state returned by a refused claim", st, want)
			wantAlert(t, "stored state after a refused claim", mustGet(t, s, id).Alert, want)
		}
	}},
	{"ClaimIsTheCalls", func(t *testing.T, s monitor.Store) {
		// A claim belongs to the call that made it, not to its
		// arguments: a second call with the same ones (the alert task
		// run again while the first still runs) is refused.
		mustCreate(t, s, newRecord("m1", t0))
		created := mustGet(t, s, "m1").CreatedTime
		for i, want := range []bool{true, false} {
			st, ok, err := s.ClaimAlert(ctx(t), "m1", created, monitor.ChannelSNS, t0.Add(time.Second))
			if err != nil || ok != want {
				t.Fatalf("ClaimAlert %d = %v, %v; want claimed %v", i+1, ok, err, want)
			}
			wantAlert(t, fmt.Sprintf("ClaimAlert %d", i+1), st, monitor.AlertState{Status: monitor.AlertSending, Channel: monitor.ChannelSNS, Attempts: 1, ClaimedAt: t0.Add(time.Second)})
		}
	}},
	{"ConcurrentClaims", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		const n = 20
		var mu sync.Mutex
		claimed := 0
		errs := race(n, func(i int) error {
			st, ok, err := s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelSNS, t0.Add(time.Duration(i)*time.Millisecond))
			if err == nil && st.Status != monitor.AlertSending {
				return fmt.Errorf("claim %d returned state %q, want sending", i, st.Status)
			}
			if ok {
				mu.Lock()
				claimed++
				mu.Unlock()
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("ClaimAlert %d: %v", i, err)
			}
		}
		if claimed != 1 {
			t.Fatalf("%d of %d concurrent claims won, want exactly 1", claimed, n)
		}
		if got := mustGet(t, s, "m1").Alert; got.Attempts != 1 || got.Status != monitor.AlertSending {
			t.Fatalf("alert after the race = %+v, want sending with 1 attempt", got)
		}
	}},
	{"ConcurrentClaimsAfterFailure", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		if _, ok, err := s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelSNS, t0); err != nil || !ok {
			t.Fatalf("ClaimAlert = %v, %v", ok, err)
		}
		if err := s.CompleteAlert(ctx(t), "m1", monitor.AlertResult{Error: "boom", At: t0}); err != nil {
			t.Fatalf("CompleteAlert: %v", err)
		}
		var mu sync.Mutex
		claimed := 0
		errs := race(10, func(i int) error {
			_, ok, err := s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelSNS, t0.Add(time.Second))
			if ok {
				mu.Lock()
				claimed++
				mu.Unlock()
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("ClaimAlert %d: %v", i, err)
			}
		}
		if claimed != 1 {
			t.Fatalf("%d of 10 concurrent re-claims won, want exactly 1", claimed)
		}
		if got := mustGet(t, s, "m1").Alert.Attempts; got != 2 {
			t.Fatalf("attempts = %d, want 2", got)
		}
	}},
}

// wantAlert compares alert states, times to the millisecond.
func wantAlert(t *testing.T, what string, got, want monitor.AlertState) {
	t.Helper()
	g, w := got, want
	g.ClaimedAt, g.SentAt, g.RetryAt = normTime(g.ClaimedAt), normTime(g.SentAt), normTime(g.RetryAt)
	w.ClaimedAt, w.SentAt, w.RetryAt = normTime(w.ClaimedAt), normTime(w.SentAt), normTime(w.RetryAt)
	if g != w {
		t.Fatalf("%s: alert = %+v, want %+v", what, got, want)
	}
	wantTime(t, what+": ClaimedAt", got.ClaimedAt, want.ClaimedAt)
	wantTime(t, what+": RetryAt", got.RetryAt, want.RetryAt)
}

// failAlert claims the alert of id and records its send failed with
// detail, at.
func failAlert(t *testing.T, s monitor.Store, id, detail string, at time.Time) {
	t.Helper()
	if _, ok, err := s.ClaimAlert(ctx(t), id, time.Time{}, monitor.ChannelWebhook, at); err != nil || !ok {
		t.Fatalf("ClaimAlert = %v, %v; want a claim", ok, err)
	}
	if err := s.CompleteAlert(ctx(t), id, monitor.AlertResult{Error: detail, At: at}); err != nil {
		t.Fatalf("CompleteAlert(failed): %v", err)
	}
}
