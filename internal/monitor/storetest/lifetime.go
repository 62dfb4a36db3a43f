package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// bigData is event data of monitor.MaxEventDataBytes, the most an event
// carries.
var bigData = `"` + strings.Repeat("x", monitor.MaxEventDataBytes-2) + `"`

// addEvents adds n events named prefix000, prefix001, ... and returns them.
func addEvents(t *testing.T, s monitor.Store, id, prefix string, n int, data string) []monitor.Event {
	t.Helper()
	evs := make([]monitor.Event, n)
	for i := range evs {
		evs[i] = event(fmt.Sprintf("%s%03d", prefix, i), data, t0.Add(time.Duration(i)*ms))
		mustAddEvent(t, s, id, evs[i])
	}
	return evs
}

// lifetimeTests show that MaxEventsPerMonitor bounds what a record holds
// at a time, not what a monitor receives in its life: a check that
// consumes events drops those consumed by earlier checks, which run only
// after those checks succeeded.
var lifetimeTests = []test{
	{"MoreThanTheCap", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		const perCheck = 40
		for check := 1; check <= 3*monitor.MaxEventsPerMonitor/perCheck; check++ {
			evs := addEvents(t, s, "m1", fmt.Sprintf("c%02d-", check), perCheck, fmt.Sprintf(`{"check":%d}`, check))
			wantEvents(t, fmt.Sprintf("ConsumeEvents(%d)", check), mustConsume(t, s, "m1", check), consumed(evs, check))
			wantEvents(t, fmt.Sprintf("ConsumeEvents(%d) retried", check), mustConsume(t, s, "m1", check), consumed(evs, check))
			wantEvents(t, fmt.Sprintf("Get().Events after check %d", check), mustGet(t, s, "m1").Events, consumed(evs, check))
		}
	}},
	{"FullRecordMakesRoom", func(t *testing.T, s monitor.Store) {
		// A check that consumed a full record's worth keeps them for
		// its retries; the next check frees the room even though
		// nothing is pending.
		mustCreate(t, s, newRecord("m1", t0))
		evs := addEvents(t, s, "m1", "a", monitor.MaxEventsPerMonitor, bigData)
		wantEvents(t, "ConsumeEvents(1)", mustConsume(t, s, "m1", 1), consumed(evs, 1))
		wantKind(t, "AddEvent after check 1 took a full record", s.AddEvent(ctx(t), "m1", event("over", "", t0)), monitor.KindConflict)
		wantEvents(t, "ConsumeEvents(1) retried", mustConsume(t, s, "m1", 1), consumed(evs, 1))
		if got := mustConsume(t, s, "m1", 2); len(got) != 0 {
			t.Fatalf("ConsumeEvents(2) with nothing pending = %d events, want none", len(got))
		}
		if got := mustGet(t, s, "m1").Events; len(got) != 0 {
			t.Fatalf("after check 2: %d events stored, want none", len(got))
		}
		if got := mustConsume(t, s, "m1", 2); len(got) != 0 {
			t.Fatalf("ConsumeEvents(2) retried = %d events, want none", len(got))
		}
		evs = addEvents(t, s, "m1", "b", monitor.MaxEventsPerMonitor, bigData)
		wantKind(t, "AddEvent over the cap again", s.AddEvent(ctx(t), "m1", event("over", "", t0)), monitor.KindConflict)
		// A retry of check 2 takes what was raised since its first attempt.
		wantEvents(t, "ConsumeEvents(2) retried after adds", mustConsume(t, s, "m1", 2), consumed(evs, 2))
		if got := mustConsume(t, s, "m1", 3); len(got) != 0 {
			t.Fatalf("ConsumeEvents(3) = %d events, want none", len(got))
		}
		mustAddEvent(t, s, "m1", event("after", "", t0))
		wantEvents(t, "ConsumeEvents(4)", mustConsume(t, s, "m1", 4), consumed([]monitor.Event{event("after", "", t0)}, 4))
	}},
	{"RetryAfterPruning", func(t *testing.T, s monitor.Store) {
		mustCreate(t, s, newRecord("m1", t0))
		a := event("a", `{"n":1}`, t0.Add(time.Second))
		b := event("b", "", t0.Add(2*time.Second))
		c := event("c", `[1]`, t0.Add(3*time.Second))
		d := event("d", "", t0.Add(4*time.Second))
		mustAddEvent(t, s, "m1", a)
		wantEvents(t, "ConsumeEvents(1)", mustConsume(t, s, "m1", 1), consumed([]monitor.Event{a}, 1))
		mustAddEvent(t, s, "m1", b)
		wantEvents(t, "ConsumeEvents(2)", mustConsume(t, s, "m1", 2), consumed([]monitor.Event{b}, 2))
		wantEvents(t, "Get().Events after check 2", mustGet(t, s, "m1").Events, consumed([]monitor.Event{b}, 2))
		// A retry of check 2 still sees b, and takes c raised meanwhile.
		mustAddEvent(t, s, "m1", c)
		wantEvents(t, "ConsumeEvents(2) retried", mustConsume(t, s, "m1", 2), consumed([]monitor.Event{b, c}, 2))
		wantEvents(t, "ConsumeEvents(2) retried again", mustConsume(t, s, "m1", 2), consumed([]monitor.Event{b, c}, 2))
		mustAddEvent(t, s, "m1", d)
		wantEvents(t, "ConsumeEvents(3)", mustConsume(t, s, "m1", 3), consumed([]monitor.Event{d}, 3))
		wantEvents(t, "ConsumeEvents(3) retried", mustConsume(t, s, "m1", 3), consumed([]monitor.Event{d}, 3))
		wantEvents(t, "Get().Events after check 3", mustGet(t, s, "m1").Events, consumed([]monitor.Event{d}, 3))
	}},
	{"AddsRaceAPruningCheck", func(t *testing.T, s monitor.Store) {
		// Adds race the attempts of a check that drops what the check
		// before consumed: no add passes the cap or is lost, every
		// event goes to exactly one check, and every attempt sees only
		// events of its check.
		const old, adds, attempts = 90, 20, 4
		mustCreate(t, s, newRecord("m1", t0))
		addEvents(t, s, "m1", "old", old, "")
		mustConsume(t, s, "m1", 1)

		var mu sync.Mutex
		var returned [][]monitor.Event
		added := map[string]bool{}
		errs := race(adds+attempts, func(i int) error {
			if i < attempts {
				evs, err := s.ConsumeEvents(ctx(t), "m1", time.Time{}, 2)
				mu.Lock()
				returned = append(returned, evs)
				mu.Unlock()
				return err
			}
			name := fmt.Sprintf("new%02d", i-attempts)
			err := s.AddEvent(ctx(t), "m1", event(name, fmt.Sprintf(`{"i":%d}`, i), t0.Add(time.Second)))
			if err == nil {
				mu.Lock()
				added[name] = true
				mu.Unlock()
			}
			return err
		})
		for i, err := range errs {
			if i < attempts && err != nil {
				t.Fatalf("ConsumeEvents attempt %d: %v", i, err)
			}
			if i >= attempts && err != nil && !monitor.IsKind(err, monitor.KindConflict) {
				t.Fatalf("AddEvent %d: %v, want success or KindConflict", i-attempts, err)
			}
		}
		if len(added) < monitor.MaxEventsPerMonitor-old {
			t.Errorf("%d of %d AddEvents succeeded with room for at least %d", len(added), adds, monitor.MaxEventsPerMonitor-old)
		}
		stored := mustGet(t, s, "m1").Events
		if len(stored) > monitor.MaxEventsPerMonitor {
			t.Fatalf("%d events stored, more than the cap %d", len(stored), monitor.MaxEventsPerMonitor)
		}
		byCheck2 := map[string]bool{}
		for _, ev := range mustConsume(t, s, "m1", 2) {
			if ev.ConsumedBy != 2 || !added[ev.Name] {
				t.Fatalf("ConsumeEvents(2) after the race returned %s consumed by %d", ev.Name, ev.ConsumedBy)
			}
			byCheck2[ev.Name] = true
		}
		for _, evs := range returned {
			for _, ev := range evs {
				if ev.ConsumedBy != 2 || !byCheck2[ev.Name] {
					t.Fatalf("an attempt of check 2 returned %s consumed by %d, not among check 2's events", ev.Name, ev.ConsumedBy)
				}
			}
		}
		byCheck3 := map[string]bool{}
		for _, ev := range mustConsume(t, s, "m1", 3) {
			if ev.ConsumedBy != 3 || byCheck2[ev.Name] || byCheck3[ev.Name] {
				t.Fatalf("ConsumeEvents(3) returned %s consumed by %d, taken before", ev.Name, ev.ConsumedBy)
			}
			byCheck3[ev.Name] = true
		}
		for name := range added {
			if !byCheck2[name] && !byCheck3[name] {
				t.Errorf("added event %s was consumed by neither check 2 nor check 3", name)
			}
		}
		if n := len(byCheck2) + len(byCheck3); n != len(added) {
			t.Errorf("checks 2 and 3 took %d events, want the %d added", n, len(added))
		}
	}},
}
