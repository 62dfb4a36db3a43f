package engine

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"
)

// storeWaits stores executions suspended in a Wait until the given
// times, the way a crashed process leaves them, and returns their ARNs.
func storeWaits(tb testing.TB, s Store, started time.Time, wakes []time.Time) []string {
	tb.Helper()
	ctx := context.Background()
	sm := StateMachine{Arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m", Name: "m",
		Definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}`, CreatedAt: started}
	if err := s.CreateStateMachine(ctx, sm); err != nil {
		tb.Fatal(err)
	}
	events := func(runnable bool) []Event {
		if runnable {
			return []Event{{ID: 1, Type: "ExecutionStarted", Timestamp: started}}
		}
		return []Event{{ID: 1, Type: "ExecutionStarted", Timestamp: started}, {ID: 2, Type: "WaitStateEntered", Timestamp: started, Details: EventDetails{Name: "W"}}}
	}
	arns := make([]string, len(wakes))
	for i, wake := range wakes {
		arns[i] = fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:m:e%d", i)
		snap := &snapshot{State: "W", Phase: phaseWait, Input: map[string]any{}, LastID: 2, WakeAt: wake}
		if wake.IsZero() {
			// Runnable at once: about to enter the Wait.
			snap = &snapshot{State: "W", Phase: phaseEnter, Input: map[string]any{}, LastID: 1, Prev: 1}
		}
		run, err := snap.encode()
		if err != nil {
			tb.Fatal(err)
		}
		err = s.Commit(ctx, Transition{ExecutionArn: arns[i],
			Create:   &Execution{Name: fmt.Sprintf("e%d", i), StateMachineArn: sm.Arn, Input: "{}", StartDate: started, Revision: 1},
			Events:   events(wake.IsZero()),
			RunState: run, WakeAt: wake})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return arns
}

// After a restart, the waits that fell due while the process was down end
// in their order and with their spacing (gaps up to OverdueGap),
// compressed into OverdueWindow when they spread over more, rather than
// all at once: monitors that count their next wait from the end of a
// check keep their phases, even beside a wait overdue for much longer.
// Waits not yet due end on time.
func TestRecoverSpreadsOverdueWaits(t *testing.T) {
	// runnable stands for an execution runnable at once (no wake-up
	// time), which enters its 5 s Wait at the restart.
	const runnable = time.Duration(math.MinInt64)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	for _, tc := range []struct {
		name string
		due  []time.Duration // wake-up times, from now
		want []time.Duration // when the waits end, from now
	}{
		{"spacing kept", []time.Duration{sec(-40), sec(-39.5), sec(-39.25), sec(-38.5), sec(-38)},
			[]time.Duration{0, sec(0.5), sec(0.75), sec(1.5), sec(2)}},
		{"compressed into the window", []time.Duration{sec(-100), sec(-99), sec(-98), sec(-97), sec(-96), sec(-95), sec(-94), sec(-93), sec(-92), sec(-91), sec(-90), sec(-89), sec(-88), sec(-87), sec(-86), sec(-85), sec(-84), sec(-83), sec(-82), sec(-81), sec(-80)},
			[]time.Duration{0, sec(0.5), sec(1), sec(1.5), sec(2), sec(2.5), sec(3), sec(3.5), sec(4), sec(4.5), sec(5), sec(5.5), sec(6), sec(6.5), sec(7), sec(7.5), sec(8), sec(8.5), sec(9), sec(9.5), OverdueWindow}},
		{"long gaps shortened", []time.Duration{sec(-100), sec(-90), sec(-80), sec(-60)},
			[]time.Duration{0, sec(1), sec(2), sec(3)}},
		{"a fleet beside one wait overdue for long", []time.Duration{sec(-3600), sec(-5), sec(-4.75), sec(-4.5), sec(-4.25)},
			[]time.Duration{0, sec(1), sec(1.25), sec(1.5), sec(1.75)}},
		{"not yet due unchanged", []time.Duration{sec(-30), sec(-29), sec(3)},
			[]time.Duration{0, sec(1), sec(3)}},
		{"beside an execution runnable at once", []time.Duration{runnable, sec(-40), sec(-39.5)},
			[]time.Duration{sec(5), 0, sec(0.5)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			store := NewMemStore()
			wakes := make([]time.Time, len(tc.due))
			for i, d := range tc.due {
				if d != runnable {
					wakes[i] = now.Add(d)
				}
			}
			arns := storeWaits(t, store, now.Add(-time.Hour), wakes)
			e := New(Options{Clock: NewVirtualClock(now), Store: store})
			defer e.Close()
			if n, err := e.Recover(ctx); err != nil || n != len(arns) {
				t.Fatalf("Recover = %d, %v; want %d", n, err, len(arns))
			}
			for i, arn := range arns {
				x, err := e.Wait(ctx, arn)
				if err != nil {
					t.Fatal(err)
				}
				if got := x.StopDate.Sub(now); got != tc.want[i] {
					t.Errorf("wait %d due at now%+v ended at now%+v, want now%+v", i, tc.due[i], got, tc.want[i])
				}
			}
		})
	}
}
