package main

import (
	"testing"
	"time"
)

// Each minute's line describes only the checks since the previous one.
func TestBenchTargetSinceMark(t *testing.T) {
	tgt := newBenchTarget(time.Second)
	t0 := time.Unix(1000, 0)
	m := benchMark{at: t0}
	add := func(lates ...time.Duration) {
		tgt.mu.Lock()
		tgt.late = append(tgt.late, lates...)
		tgt.checks += len(lates)
		tgt.mu.Unlock()
	}
	ms := time.Millisecond
	add(5*ms, 1*ms, 3*ms, 2*ms)
	m, line := tgt.sinceMark(m, t0.Add(2*time.Second), 2*ms)
	if want := "2.0 checks/s, p50 2ms, p99 3ms, 0.500 ms of CPU per check"; line != want {
		t.Errorf("first minute: %q, want %q", line, want)
	}
	add(100*ms, 300*ms)
	m, line = tgt.sinceMark(m, t0.Add(4*time.Second), 5*ms)
	if want := "1.0 checks/s, p50 100ms, p99 100ms, 1.500 ms of CPU per check"; line != want {
		t.Errorf("second minute: %q, want %q", line, want)
	}
	if _, line = tgt.sinceMark(m, t0.Add(5*time.Second), 6*ms); line != "0.0 checks/s, p50 0s, p99 0s" {
		t.Errorf("a minute without checks: %q", line)
	}
}
