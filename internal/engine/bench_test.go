package engine_test

import (
	"context"
	"fmt"
	"os"
	"strings"
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

// BenchmarkMonitorCycle measures one monitor poll through the durable
// path: a Task (committed before dispatch), a Choice and a Wait that
// suspends the execution (snapshot committed, timer armed, execution
// reloaded from the store when due), on the virtual clock and the
// in-memory store. Each op is one cycle; any -benchtime works.
func BenchmarkMonitorCycle(b *testing.B) {
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::check", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
		m := req.Input.(map[string]any)
		n := m["n"].(float64) + 1
		return map[string]any{"n": n, "max": m["max"], "done": n >= m["max"].(float64)}, nil
	}})
	eng := engine.New(engine.Options{Dispatcher: d, Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	defer eng.Close()
	ctx := context.Background()
	sm, err := eng.CreateStateMachine(ctx, "monitor", `{"StartAt": "Check", "States": {
		"Check": {"Type": "Task", "Resource": "arn:aws:states:::check", "Next": "Evaluate"},
		"Evaluate": {"Type": "Choice", "Choices": [{"Variable": "$.done", "BooleanEquals": true, "Next": "Finish"}], "Default": "Wait"},
		"Wait": {"Type": "Wait", "Seconds": 1, "Next": "Check"},
		"Finish": {"Type": "Succeed"}}}`, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	// An execution's history holds at most 25,000 events, about 8 per
	// cycle: the cycles run in executions of at most 2,000 each.
	const perExecution = 2000
	for i, left := 0, b.N; left > 0; i, left = i+1, left-perExecution {
		x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("m%d", i), fmt.Sprintf(`{"n": 0, "max": %d}`, min(left, perExecution)))
		if err != nil {
			b.Fatal(err)
		}
		done, err := eng.Wait(ctx, x.Arn)
		if err != nil || done.Status != engine.StatusSucceeded {
			b.Fatalf("%v %+v", err, done)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cycles/s")
}

// BenchmarkParallelTasks measures a Parallel state of eight branches,
// each a Task that returns at once, on the wall clock and on the virtual
// clock: the path by which branches start, end and are counted as work
// in progress. Each op is one execution.
func BenchmarkParallelTasks(b *testing.B) {
	for _, c := range []struct {
		name  string
		clock engine.Clock
	}{{"RealClock", engine.RealClock{}}, {"VirtualClock", engine.NewVirtualClock(time.Unix(0, 0))}} {
		b.Run(c.name, func(b *testing.B) {
			d := engine.NewDispatcher()
			d.Handle("arn:aws:states:::echo", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
				return req.Input, nil
			}})
			eng := engine.New(engine.Options{Dispatcher: d, Clock: c.clock})
			defer eng.Close()
			branches := make([]string, 8)
			for i := range branches {
				branches[i] = fmt.Sprintf(`{"StartAt": "T%d", "States": {"T%[1]d": {"Type": "Task", "Resource": "arn:aws:states:::echo", "End": true}}}`, i)
			}
			def := `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [` +
				strings.Join(branches, ", ") + `]}}}`
			runBench(b, eng, def, `{}`)
		})
	}
}

// BenchmarkMapWaits measures a Map state of 100 iterations that each wait
// a second on the virtual clock. Each op is one execution.
func BenchmarkMapWaits(b *testing.B) {
	eng := engine.New(engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	defer eng.Close()
	items := "[" + strings.Repeat("1,", 99) + "1]"
	runBench(b, eng, `{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor":
		{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}}}}}`, items)
}

// runBench runs b.N executions of def on input, one after another.
func runBench(b *testing.B, eng *engine.Engine, def, input string) {
	b.Helper()
	ctx := context.Background()
	sm, err := eng.CreateStateMachine(ctx, "bench", def, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("x%d", i), input)
		if err != nil {
			b.Fatal(err)
		}
		done, err := eng.Wait(ctx, x.Arn)
		if err != nil || done.Status != engine.StatusSucceeded {
			b.Fatalf("execution %s: %v %+v", x.Arn, err, done)
		}
	}
}

// jsonataLoopDefinition is loopDefinition in JSONata: one evaluation per
// state, two per iteration.
const jsonataLoopDefinition = `{"QueryLanguage": "JSONata", "StartAt": "Count", "States": {
	"Count": {"Type": "Pass", "Output": "{% {'i': $states.input.i + 1, 'n': $states.input.n} %}", "Next": "More"},
	"More": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.i < $states.input.n %}", "Next": "Count"}], "Default": "Done"},
	"Done": {"Type": "Succeed"}}}`

// BenchmarkEvalJournal measures what the evaluation journal costs: the
// counting loop in JSONPath (no evaluation to record) and in JSONata (one
// evaluation per state transition), without and with a journal. Each op
// is one state transition, one JSONata evaluation in the JSONata loop.
func BenchmarkEvalJournal(b *testing.B) {
	for _, lang := range []string{"JSONPath", "JSONata"} {
		for _, journal := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/journal=%v", lang, journal), func(b *testing.B) {
				o := engine.Options{Clock: engine.NewVirtualClock(time.Unix(0, 0)), CheckpointEvents: 1 << 30}
				if journal {
					j, err := engine.OpenEvalJournal(b.TempDir() + "/evaluations.journal")
					if err != nil {
						b.Fatal(err)
					}
					defer j.Close()
					o.EvalJournal = j
				}
				eng := engine.New(o)
				defer eng.Close()
				def := jsonataLoopDefinition
				if lang == "JSONPath" {
					def = loopDefinition(b)
				}
				ctx := context.Background()
				sm, err := eng.CreateStateMachine(ctx, "loop", def, "")
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i, transitions := 0, 0; transitions < b.N; i++ {
					n := min(1000, (b.N-transitions+1)/2)
					x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("x%d", i), fmt.Sprintf(`{"i":0,"n":%d}`, n))
					if err != nil {
						b.Fatal(err)
					}
					if done, err := eng.Wait(ctx, x.Arn); err != nil || done.Status != engine.StatusSucceeded {
						b.Fatalf("execution %s: %v %+v", x.Arn, err, done)
					}
					transitions += 2*n + 1
				}
			})
		}
	}
}
