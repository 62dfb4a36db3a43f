package engine

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// populate stores n executions suspended in a Wait an hour from now, the
// way a crashed process leaves them.
func populate(tb testing.TB, s Store, n int) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	sm := StateMachine{Arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m", Name: "m",
		Definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`, CreatedAt: now}
	if err := s.CreateStateMachine(ctx, sm); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		arn := fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:m:e%d", i)
		snap := &snapshot{State: "W", Phase: phaseWait, Input: map[string]any{}, LastID: 2, WakeAt: now.Add(time.Hour)}
		run, err := snap.encode()
		if err != nil {
			tb.Fatal(err)
		}
		err = s.Commit(ctx, Transition{ExecutionArn: arn,
			Create:   &Execution{Name: fmt.Sprintf("e%d", i), StateMachineArn: sm.Arn, Input: "{}", StartDate: now, Revision: 1},
			Events:   []Event{{ID: 1, Type: "ExecutionStarted", Timestamp: now}, {ID: 2, Type: "WaitStateEntered", Timestamp: now, Details: EventDetails{Name: "W"}}},
			RunState: run, WakeAt: snap.WakeAt})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestRecoverHoldsLittlePerExecution re-arms 20,000 waiting executions and
// checks what the engine itself keeps per execution: a timer-heap entry,
// nothing else (no goroutine, no loaded snapshot).
func TestRecoverHoldsLittlePerExecution(t *testing.T) {
	const n = 20000
	store := NewMemStore()
	populate(t, store, n)
	goroutines := runtime.NumGoroutine()
	before := heapInUse()
	eng := New(Options{Store: store})
	defer eng.Close()
	got, err := eng.Recover(context.Background())
	if err != nil || got != n {
		t.Fatalf("Recover = %d, %v; want %d", got, err, n)
	}
	per := float64(heapInUse()-before) / n
	if per > 512 {
		t.Errorf("engine memory per waiting execution = %.0f bytes, want <= 512", per)
	}
	if g := runtime.NumGoroutine() - goroutines; g > 2 {
		t.Errorf("%d goroutines added for %d waiting executions, want only the timer loop", g, n)
	}
	t.Logf("engine memory per waiting execution: %.0f bytes", per)
}

// BenchmarkRecover100k measures re-arming 100,000 waiting executions
// from the in-memory store (the engine's share of a restart).
func BenchmarkRecover100k(b *testing.B) {
	const n = 100000
	store := NewMemStore()
	populate(b, store, n)
	b.ResetTimer()
	for range b.N {
		eng := New(Options{Store: store})
		start := time.Now()
		if got, err := eng.Recover(context.Background()); err != nil || got != n {
			b.Fatalf("Recover = %d, %v", got, err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/recover")
		_ = eng.Close()
	}
}
