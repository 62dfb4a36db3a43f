package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// endedTests hold stores to what a call whose context has ended (the
// client left, the server shuts down, the deadline passed) may answer: it
// may succeed (a store that never waits need not look at its context), or
// fail with KindUnavailable, as a call that could not be completed; it is
// never KindInternal, which the API logs as a bug and answers with 500.
var endedTests = []test{
	{"Cancelled", func(t *testing.T, s monitor.Store) {
		ended, cancel := context.WithCancel(ctx(t))
		cancel()
		testEndedContext(t, s, ended)
	}},
	{"DeadlinePassed", func(t *testing.T, s monitor.Store) {
		ended, cancel := context.WithDeadline(ctx(t), time.Now().Add(-time.Second))
		defer cancel()
		testEndedContext(t, s, ended)
	}},
}

func testEndedContext(t *testing.T, s monitor.Store, ended context.Context) {
	mustCreate(t, s, newRecord("m1", t0))
	for _, tc := range []struct {
		op   string
		call func() error
	}{
		{"Create", func() error { return s.Create(ended, newRecord("m2", t0)) }},
		{"Get", func() error { _, err := s.Get(ended, "m1"); return err }},
		{"SetExecution", func() error { return s.SetExecution(ended, "m1", time.Time{}, "arn:x", t0) }},
		{"RecordCheck", func() error { _, err := s.RecordCheck(ended, "m1", checkUpdate("m1", 1, t0)); return err }},
		{"AddEvent", func() error { return s.AddEvent(ended, "m1", event("a", `{"x":1}`, t0)) }},
		{"ConsumeEvents", func() error { _, err := s.ConsumeEvents(ended, "m1", time.Time{}, 1); return err }},
		{"ClaimAlert", func() error { _, _, err := s.ClaimAlert(ended, "m1", time.Time{}, monitor.ChannelSNS, t0); return err }},
		{"List", func() error { _, err := s.List(ended, monitor.ListQuery{}); return err }},
		{"Finish", func() error {
			return s.Finish(ended, "m1", finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Second)))
		}},
	} {
		if err := tc.call(); err != nil && !monitor.IsKind(err, monitor.KindUnavailable) {
			t.Errorf("%s with an ended context: kind %s (%v); want success or %s", tc.op, monitor.KindOf(err), err, monitor.KindUnavailable)
		}
	}
}
