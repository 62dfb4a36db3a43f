package engine_test

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// BenchmarkPassChoiceLoop measures state transitions per second in memory:
// each op is one state transition. Run with -cpu 1 for the single-core
// figure.
func BenchmarkPassChoiceLoop(b *testing.B) {
	const perExecution = 1000 // iterations per execution = 2000 transitions
	eng := engine.New(engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0)), CheckpointEvents: 1 << 30})
	defer eng.Close()
	ctx := context.Background()
	sm, err := eng.CreateStateMachine(ctx, "loop", loopDefinition(b), "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	transitions := 0
	for i := 0; transitions < b.N; i++ {
		n := min(perExecution, (b.N-transitions+1)/2)
		x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("x%d", i), fmt.Sprintf(`{"i":0,"n":%d}`, n))
		if err != nil {
			b.Fatal(err)
		}
		done, err := eng.Wait(ctx, x.Arn)
		if err != nil || done.Status != engine.StatusSucceeded {
			b.Fatalf("execution %s: %v %+v", x.Arn, err, done)
		}
		transitions += 2*n + 1
	}
	b.ReportMetric(float64(transitions)/time.Since(start).Seconds(), "transitions/s")
	// Per second of CPU used by the process: stable when other processes
	// compete for the cores.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(transitions)/cpu.Seconds(), "transitions/cpu-s")
	}
}

// cpuTime returns the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loopDefinition is testdata/loop.asl.json: it counts $.i up to $.n with
// a Pass and a Choice state, two state transitions per iteration.
// scripts/bench-moto.sh runs the same file on moto.
func loopDefinition(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("testdata/loop.asl.json")
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
