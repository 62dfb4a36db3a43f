package sqlitestore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// benchRunState is about the size of a monitor's run-state snapshot.
var benchRunState = []byte(`{"state":"Wait","input":{"job_id":"job-000000","check_count":12,"status":"Running",` +
	`"nextCheckAt":"2025-01-02T03:04:05Z","expiresAt":"2025-01-02T04:04:05Z"},"retries":{}}`)

// createBenchExecutions creates n RUNNING executions with a run state
// through Commit, from 256 concurrent callers.
func createBenchExecutions(tb testing.TB, s *sqlitestore.EngineStore, n int) []string {
	tb.Helper()
	ctx := context.Background()
	if err := s.CreateStateMachine(ctx, engine.StateMachine{Arn: testSM, Name: "sm", Definition: "{}", CreatedAt: testT0}); err != nil {
		tb.Fatalf("CreateStateMachine: %v", err)
	}
	arns := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 256)
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				name := fmt.Sprintf("m-%06d", i)
				arns[i] = testExec + name
				err := s.Commit(ctx, engine.Transition{ExecutionArn: arns[i],
					Create: &engine.Execution{Name: name, StateMachineArn: testSM, Input: `{"job_id":"x"}`, StartDate: testT0.Add(time.Duration(i) * time.Millisecond)},
					Events: []engine.Event{{ID: 1, Type: "ExecutionStarted", Timestamp: testT0,
						Details: engine.EventDetails{Input: map[string]any{"job_id": "x"}, RoleArn: "r"}}},
					RunState: benchRunState, WakeAt: testT0.Add(time.Duration(i%3600) * time.Second)})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatalf("create: %v", err)
	}
	return arns
}

// BenchmarkEngineCommit measures group-commit throughput: callers
// concurrent goroutines, each owning one execution, commit the
// Transition a monitor commits at a Wait (two events, run state, timer).
func BenchmarkEngineCommit(b *testing.B) {
	for _, callers := range []int{1, 16, 256, 1024, 10000} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			s := openEngineStore(b, filepath.Join(b.TempDir(), "stepmon.db"))
			arns := createBenchExecutions(b, s, callers)
			ctx := context.Background()
			var done atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			b.ResetTimer()
			start := time.Now()
			for c := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := int64(1)
					for done.Add(1) <= int64(b.N) {
						ev := []engine.Event{
							{ID: id + 1, PreviousEventID: id, Type: "ChoiceStateExited", Timestamp: testT0,
								Details: engine.EventDetails{Name: "Evaluate", Output: map[string]any{"check_count": float64(id)}}},
							{ID: id + 2, PreviousEventID: id + 1, Type: "WaitStateEntered", Timestamp: testT0,
								Details: engine.EventDetails{Name: "Wait", Input: map[string]any{"check_count": float64(id)}}},
						}
						id += 2
						err := s.Commit(ctx, engine.Transition{ExecutionArn: arns[c], ExpectRunning: true, Events: ev,
							RunState: benchRunState, WakeAt: testT0.Add(time.Duration(id) * time.Second)})
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatalf("Commit: %v", err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commits/s")
		})
	}
}

// BenchmarkEngineListPending measures ListPending over 100,000 RUNNING
// executions waiting on timers (what Engine.Recover reads at start-up).
func BenchmarkEngineListPending(b *testing.B) {
	const n = 100_000
	s := openEngineStore(b, filepath.Join(b.TempDir(), "stepmon.db"))
	start := time.Now()
	createBenchExecutions(b, s, n)
	b.Logf("created %d executions through Commit in %v (%.0f creates/s)", n, time.Since(start), n/time.Since(start).Seconds())
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		count := 0
		err := s.ListPending(ctx, func(p engine.Pending) error {
			if !strings.HasPrefix(p.ExecutionArn, testExec) || p.WakeAt.IsZero() {
				return fmt.Errorf("bad entry %+v", p)
			}
			count++
			return nil
		})
		if err != nil || count != n {
			b.Fatalf("ListPending: %d entries, %v; want %d", count, err, n)
		}
	}
}

// BenchmarkEngineResumeReads makes the two reads of an execution's resume
// from the store (GetRunState, GetExecution) for executions picked at
// random among 40,000 running ones, from 2 goroutines per core.
func BenchmarkEngineResumeReads(b *testing.B) {
	const n = 40_000
	s := openEngineStore(b, filepath.Join(b.TempDir(), "stepmon.db"))
	arns := createBenchExecutions(b, s, n)
	ctx := context.Background()
	b.SetParallelism(2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 1))
		for pb.Next() {
			arn := arns[r.IntN(n)]
			run, _, err := s.GetRunState(ctx, arn)
			if err != nil || len(run) == 0 {
				b.Fatalf("GetRunState(%s): %d bytes, %v", arn, len(run), err)
			}
			if x, err := s.GetExecution(ctx, arn); err != nil || x.Arn != arn {
				b.Fatalf("GetExecution(%s): %+v, %v", arn, x, err)
			}
		}
	})
}

// BenchmarkEngineGetHistory reads a page of 1,000 events of a monitor's
// execution that committed 1,000 checks of eight events each, from the
// start and from the end (GetExecutionHistory with reverseOrder).
func BenchmarkEngineGetHistory(b *testing.B) {
	s := openEngineStore(b, filepath.Join(b.TempDir(), "stepmon.db"))
	arn := createBenchExecutions(b, s, 1)[0]
	ctx := context.Background()
	state := func(n int) map[string]any {
		return map[string]any{"instanceId": "m1", "expiresAt": "2026-12-04T08:55:35Z", "generation": 0.0,
			"check": map[string]any{"checkCount": float64(n), "status": "Running", "waitSeconds": 1.0, "done": false,
				"nextCheckAt": "2026-12-03T08:55:36Z", "conditionMet": false, "expired": false},
			"spec": map[string]any{"jobId": "m1", "pollingIntervalSeconds": 1.0, "timeoutSeconds": 86400.0,
				"target": map[string]any{"type": "http", "url": "http://127.0.0.1:8080/job/m1", "statusPath": "$.status",
					"doneValues": []any{"Completed"}, "failedValues": []any{"Failed"}, "method": "GET"}}}
	}
	id := int64(1)
	for n := range 1000 {
		in, out := state(n), state(n+1)
		var evs []engine.Event
		for _, e := range []struct {
			typ, name string
			in, out   any
		}{
			{"TaskStateEntered", "Check", in, nil}, {"TaskScheduled", "", nil, nil}, {"TaskStarted", "", nil, nil},
			{"TaskSucceeded", "", nil, map[string]any{"Payload": out, "StatusCode": 200.0}},
			{"TaskStateExited", "Check", nil, out}, {"ChoiceStateEntered", "Evaluate", out, nil},
			{"ChoiceStateExited", "Evaluate", nil, out}, {"WaitStateEntered", "Wait", out, nil},
		} {
			id++
			evs = append(evs, engine.Event{ID: id, PreviousEventID: id - 1, Type: e.typ, Timestamp: testT0.Add(time.Duration(id) * time.Millisecond),
				Details: engine.EventDetails{Name: e.name, Input: e.in, Output: e.out}})
		}
		if err := s.Commit(ctx, engine.Transition{ExecutionArn: arn, ExpectRunning: true, Events: evs,
			RunState: benchRunState, WakeAt: testT0.Add(time.Duration(n) * time.Second)}); err != nil {
			b.Fatalf("Commit: %v", err)
		}
	}
	for _, reverse := range []bool{false, true} {
		b.Run(fmt.Sprintf("reverse=%v", reverse), func(b *testing.B) {
			for b.Loop() {
				evs, _, err := s.GetHistory(ctx, arn, engine.HistoryInput{MaxResults: 1000, ReverseOrder: reverse})
				if err != nil || len(evs) != 1000 {
					b.Fatalf("GetHistory: %d events, %v; want 1000", len(evs), err)
				}
			}
			b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
