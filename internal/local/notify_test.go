package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/testtool"
)

// endedStore is an engine store whose executions have all ended ABORTED.
type endedStore struct {
	engine.Store
}

func (endedStore) GetExecution(_ context.Context, arn string) (engine.Execution, error) {
	return engine.Execution{Arn: arn, Name: arn, Status: engine.StatusAborted}, nil
}

func (endedStore) ListExecutions(context.Context, engine.ListExecutionsInput) ([]engine.Execution, string, error) {
	return nil, "", nil
}

// heldFuncs is a status function that takes the notices only once
// released, and counts each execution's deliveries.
type heldFuncs struct {
	release chan struct{}

	mu        sync.Mutex
	delivered map[string]int
}

// newHeldFuncs returns a heldFuncs holding every delivery until its
// release channel is closed.
func newHeldFuncs() *heldFuncs {
	return &heldFuncs{release: make(chan struct{}), delivered: map[string]int{}}
}

func (f *heldFuncs) Invoke(ctx context.Context, _ string, payload []byte) ([]byte, error) {
	<-f.release
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Resources) != 1 {
		return nil, fmt.Errorf("status change event %s: %v", payload, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered[ev.Resources[0]]++
	return []byte(`{}`), nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// manyEnded is an engine store that lists pages of 1,000 ABORTED
// executions, as the start-up sweep finds them after a long retention
// period.
type manyEnded struct {
	endedStore
	pages int
}

func (s manyEnded) ListExecutions(_ context.Context, in engine.ListExecutionsInput) ([]engine.Execution, string, error) {
	if in.Status != engine.StatusAborted {
		return nil, "", nil
	}
	p, _ := strconv.Atoi(in.NextToken)
	out := make([]engine.Execution, 1000)
	for i := range out {
		out[i] = engine.Execution{Arn: fmt.Sprintf("old-%d-%d", p, i), Status: engine.StatusAborted}
	}
	if p+1 == s.pages {
		return out, "", nil
	}
	return out, strconv.Itoa(p + 1), nil
}

// The start-up sweep keeps at most sweptMax of the ends it finds in
// memory while the status function takes them: it waits for room for
// the rest, and every one of them is delivered in the end.
func TestNotifierSweepIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const pages = 12
		f := newHeldFuncs()
		n := newNotifier(f, StatusFunction, quietLogger())
		n.store = manyEnded{pages: pages}
		n.start()
		defer n.stop()
		synctest.Wait()
		n.mu.Lock()
		got := len(n.ready) + len(n.swept)
		n.mu.Unlock()
		if got > sweptMax {
			t.Errorf("%d ends found by the sweep, the status function busy: %d queued in memory, want at most %d", pages*1000, got, sweptMax)
		}
		close(f.release)
		synctest.Wait()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.delivered) != pages*1000 {
			t.Errorf("%d distinct ends delivered, want %d", len(f.delivered), pages*1000)
		}
	})
}

// An execution that ends while the sweep's backlog waits is delivered
// ahead of that backlog, right after the notices the workers hold.
func TestNotifierLiveEndGoesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &gatedFuncs{first: make(chan struct{}), rest: make(chan struct{}), delivered: map[string]int{}}
		n := newNotifier(f, StatusFunction, quietLogger())
		n.store = manyEnded{pages: 3}
		n.start()
		defer n.stop()
		synctest.Wait() // each of the two workers holds an end of the sweep
		n.executionEnded(t.Context(), "live", engine.ExecutionUpdate{Status: engine.StatusAborted})
		n.executionEnded(t.Context(), "old-2-500", engine.ExecutionUpdate{Status: engine.StatusAborted}) // swept already
		close(f.first)
		synctest.Wait() // each worker took its next end, and holds it
		f.mu.Lock()
		next := slices.Clone(f.entered[2:])
		f.mu.Unlock()
		slices.Sort(next)
		if want := []string{"live", "old-2-500"}; !slices.Equal(next, want) {
			t.Errorf("after the two ends held, the workers took %v, want %v: the ends reported live before the sweep's", next, want)
		}
		close(f.rest)
		synctest.Wait()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, arn := range []string{"live", "old-2-500"} {
			if f.delivered[arn] != 1 {
				t.Errorf("%s delivered %d times, want once", arn, f.delivered[arn])
			}
		}
	})
}

// gatedFuncs is a status function that records the order in which the
// workers hand it ends, holds the first two until first is closed and
// the others until rest is.
type gatedFuncs struct {
	first, rest chan struct{}

	mu        sync.Mutex
	entered   []string
	delivered map[string]int
}

func (f *gatedFuncs) Invoke(ctx context.Context, _ string, payload []byte) ([]byte, error) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Resources) != 1 {
		return nil, fmt.Errorf("status change event %s: %v", payload, err)
	}
	f.mu.Lock()
	f.entered = append(f.entered, ev.Resources[0])
	gate := f.rest
	if len(f.entered) <= 2 {
		gate = f.first
	}
	f.mu.Unlock()
	<-gate
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered[ev.Resources[0]]++
	return []byte(`{}`), nil
}

// A burst of ends far larger than the workers can deliver at once (the
// deletion of the state machine failing every waiting monitor) waits in
// the notifier's queue, not in a goroutine per notice, and every one of
// them is delivered once the status function takes them.
func TestNotifierBurstIsQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newHeldFuncs()
		n := newNotifier(f, StatusFunction, quietLogger())
		n.store = endedStore{}
		n.start()
		defer n.stop()
		synctest.Wait()
		before := runtime.NumGoroutine()
		const ends = 10000
		for i := range ends {
			n.executionEnded(t.Context(), fmt.Sprintf("x-%d", i), engine.ExecutionUpdate{Status: engine.StatusAborted})
		}
		synctest.Wait()
		if got := runtime.NumGoroutine() - before; got > 10 {
			t.Errorf("%d ends waiting for delivery: %d more goroutines, want a handful at most", ends, got)
		}
		close(f.release)
		synctest.Wait()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.delivered) != ends {
			t.Errorf("%d distinct ends delivered, want %d", len(f.delivered), ends)
		}
	})
}

// An execution's end reported again while it waits for a worker is
// delivered once.
func TestNotifierDeliversRepeatedEndOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newHeldFuncs()
		n := newNotifier(f, StatusFunction, quietLogger())
		n.store = endedStore{}
		n.start()
		defer n.stop()
		// The two workers take these two, and wait for the release.
		n.executionEnded(t.Context(), "a", engine.ExecutionUpdate{Status: engine.StatusAborted})
		n.executionEnded(t.Context(), "b", engine.ExecutionUpdate{Status: engine.StatusAborted})
		synctest.Wait()
		n.executionEnded(t.Context(), "x", engine.ExecutionUpdate{Status: engine.StatusAborted})
		n.executionEnded(t.Context(), "x", engine.ExecutionUpdate{Status: engine.StatusAborted})
		close(f.release)
		synctest.Wait()
		f.mu.Lock()
		defer f.mu.Unlock()
		if got := f.delivered["x"]; got != 1 {
			t.Errorf("an end reported twice while queued: delivered %d times, want once", got)
		}
	})
}

// outageFuncs is a status function whose store is down until a time.
type outageFuncs struct {
	until time.Time
	calls atomic.Int32
	ok    atomic.Int32
}

func (f *outageFuncs) Invoke(context.Context, string, []byte) ([]byte, error) {
	f.calls.Add(1)
	if time.Now().Before(f.until) {
		return nil, errors.New("TransientError: database or disk is full (13)")
	}
	f.ok.Add(1)
	return []byte(`{}`), nil
}

// An execution that ends outside the workflow (a stop) while the status
// store is down, for longer than a few retries, still has its end
// delivered once the store is back, at most retryMaxDelay later; until
// then /healthz counts it as undelivered.
func TestNotifierRetriesUntilDelivered(t *testing.T) {
	for _, outage := range []time.Duration{12 * time.Second, 10 * time.Minute} {
		t.Run(outage.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				store := engine.NewMemStore()
				eng := engine.New(engine.Options{Store: store})
				defer eng.Close()
				sm, err := eng.CreateStateMachine(ctx, StateMachineName, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"Next":"D"},"D":{"Type":"Succeed"}}}`, "")
				if err != nil {
					t.Fatal(err)
				}
				x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
				if err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				if _, err := eng.StopExecution(ctx, x.Arn, "", ""); err != nil {
					t.Fatal(err)
				}
				f := &outageFuncs{until: time.Now().Add(outage)}
				logs := &testtool.SyncBuffer{}
				n := newNotifier(f, StatusFunction, slog.New(slog.NewJSONHandler(logs, nil)))
				n.store, n.stateMachineArn = store, sm.Arn
				n.start()
				defer n.stop()
				n.executionEnded(t.Context(), x.Arn, engine.ExecutionUpdate{Status: engine.StatusAborted})

				time.Sleep(outage - time.Second)
				synctest.Wait()
				if got, err := n.undelivered(); got != 1 || !strings.Contains(err, "disk is full") {
					t.Errorf("during the outage, after %d attempts: undelivered %d, %q; want 1, the outage's error", f.calls.Load(), got, err)
				}
				time.Sleep(time.Second + retryMaxDelay)
				synctest.Wait()
				if f.ok.Load() != 1 {
					t.Fatalf("ABORTED end delivered %d times %s after the outage ended (%d attempts), want once", f.ok.Load(), retryMaxDelay, f.calls.Load())
				}
				if got, err := n.undelivered(); got != 0 || err != "" {
					t.Errorf("once delivered: undelivered %d, %q; want 0", got, err)
				}
				// The log says so once when the end has failed
				// retryLoudAfter times, and once when it went through.
				type record struct {
					Level, Msg string
					Attempts   int
				}
				var said []record
				for line := range strings.Lines(logs.String()) {
					var rec record
					if err := json.Unmarshal([]byte(line), &rec); err != nil {
						t.Fatalf("log line %q: %v", line, err)
					}
					said = append(said, rec)
				}
				if len(said) != 2 ||
					said[0] != (record{"ERROR", "execution status change not delivered: retrying until it is", retryLoudAfter}) ||
					said[1].Level != "INFO" || said[1].Msg != "execution status change delivered" || said[1].Attempts <= retryLoudAfter {
					t.Errorf("logged %+v; want the error after %d attempts, then the delivery after more", said, retryLoudAfter)
				}
			})
		})
	}
}

// stuckFuncs is a status function that fails its first fails calls and
// holds the next ones until released, as a status store that stopped
// answering holds them up to its busy timeout.
type stuckFuncs struct {
	fails   int32
	release chan struct{}
	calls   atomic.Int32
}

func (f *stuckFuncs) Invoke(context.Context, string, []byte) ([]byte, error) {
	if f.calls.Add(1) <= f.fails {
		return nil, errors.New("TransientError: database is locked (5)")
	}
	<-f.release
	return []byte(`{}`), nil
}

// An end that failed six deliveries counts as undelivered in /healthz
// while it is being tried again, not only while it waits for the try.
func TestNotifierCountsRetryInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &stuckFuncs{fails: retryLoudAfter, release: make(chan struct{})}
		n := newNotifier(f, StatusFunction, quietLogger())
		n.store = endedStore{}
		n.start()
		defer n.stop()
		n.executionEnded(t.Context(), "x", engine.ExecutionUpdate{Status: engine.StatusAborted})
		for f.calls.Load() <= retryLoudAfter {
			time.Sleep(retryMaxDelay)
			synctest.Wait()
		}
		if got, err := n.undelivered(); got != 1 || !strings.Contains(err, "locked") {
			t.Errorf("attempt %d in flight after %d failures: undelivered %d, %q; want 1, the last failure", f.calls.Load(), retryLoudAfter, got, err)
		}
		close(f.release)
		synctest.Wait()
		if got, err := n.undelivered(); got != 0 || err != "" {
			t.Errorf("once delivered: undelivered %d, %q; want 0", got, err)
		}
	})
}

// listBlockedStore is an engine store whose ListExecutions waits for its
// context to end, as a query on a store that stopped answering does.
type listBlockedStore struct {
	engine.Store
	listing, returned atomic.Bool
}

func (s *listBlockedStore) ListExecutions(ctx context.Context, _ engine.ListExecutionsInput) ([]engine.Execution, string, error) {
	s.listing.Store(true)
	<-ctx.Done()
	s.returned.Store(true)
	return nil, "", ctx.Err()
}

// stop ends the start-up sweep of the ends left undelivered and waits for
// it: the runtime closes the store the sweep reads right after.
func TestNotifierStopEndsSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &listBlockedStore{}
		n := newNotifier(&outageFuncs{}, StatusFunction, quietLogger())
		n.store = store
		n.start()
		synctest.Wait()
		if !store.listing.Load() {
			t.Fatal("the sweep did not list the executions")
		}
		n.stop()
		if !store.returned.Load() {
			t.Error("stop returned while the sweep still listed the executions")
		}
	})
}

// getBlockedStore is an engine store whose GetExecution waits for its
// context to end, as a read of a store that stopped answering does.
type getBlockedStore struct {
	engine.Store
	reading, returned atomic.Bool
}

func (s *getBlockedStore) GetExecution(ctx context.Context, _ string) (engine.Execution, error) {
	s.reading.Store(true)
	<-ctx.Done()
	s.returned.Store(true)
	return engine.Execution{}, ctx.Err()
}

func (s *getBlockedStore) ListExecutions(context.Context, engine.ListExecutionsInput) ([]engine.Execution, string, error) {
	return nil, "", nil
}

// A stuck read of the store does not hold up a stop: the delivery's read
// ends with the notifier, and the read of an execution as it ends with
// the commit's context.
func TestNotifierStuckReadEnds(t *testing.T) {
	t.Run("delivery", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := &getBlockedStore{}
			n := newNotifier(&outageFuncs{}, StatusFunction, quietLogger())
			n.store = store
			n.start()
			n.push(notice{arn: "arn:x"})
			synctest.Wait()
			if !store.reading.Load() {
				t.Fatal("the delivery did not read the execution")
			}
			n.stop()
			if !store.returned.Load() {
				t.Error("stop returned while the delivery still read the execution")
			}
		})
	})
	t.Run("commit", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := &getBlockedStore{}
			n := newNotifier(&outageFuncs{}, StatusFunction, quietLogger())
			n.store = store
			n.stateMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:sm"
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() {
				n.executionEnded(ctx, "arn:aws:states:us-east-1:123456789012:execution:sm:x", engine.ExecutionUpdate{Status: engine.StatusAborted})
				close(done)
			}()
			synctest.Wait()
			if !store.reading.Load() {
				t.Fatal("executionEnded did not read the execution")
			}
			cancel()
			<-done
			if !store.returned.Load() {
				t.Error("executionEnded returned while its read went on")
			}
			n.stop()
		})
	})
}

// Only the ends the EventBridge rule matches are queued: a SUCCEEDED or
// RUNNING update, or an execution of another state machine, is not
// delivered.
func TestNotifierQueuesOnlyMatchedEnds(t *testing.T) {
	const sm = "arn:aws:states:us-east-1:000000000000:stateMachine:stepmon-monitor"
	const ours = "arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor:m-1"
	tests := []struct {
		name   string
		arn    string
		status engine.ExecutionStatus
		queued bool
	}{
		{"failed", ours, engine.StatusFailed, true},
		{"timed out", ours, engine.StatusTimedOut, true},
		{"aborted", ours, engine.StatusAborted, true},
		{"succeeded", ours, engine.StatusSucceeded, false},
		{"running", ours, engine.StatusRunning, false},
		{"another machine's", "arn:aws:states:us-east-1:000000000000:execution:other:m-1", engine.StatusFailed, false},
		{"a machine whose name extends ours", "arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor-2:m-1", engine.StatusFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNotifier(newHeldFuncs(), StatusFunction, quietLogger())
			n.store, n.stateMachineArn = endedStore{}, sm
			n.executionEnded(context.Background(), tt.arn, engine.ExecutionUpdate{Status: tt.status})
			if _, queued := n.queued[tt.arn]; queued != tt.queued || (len(n.ready) == 1) != tt.queued {
				t.Errorf("queued %v (%d ready), want %v", queued, len(n.ready), tt.queued)
			}
		})
	}
}

// The retries due are taken earliest first, and a failed delivery of an
// end that the sweep has queued meanwhile is not queued for a retry too:
// it goes once, from the sweep's queue.
func TestNotifierRetryOrder(t *testing.T) {
	n := newNotifier(newHeldFuncs(), StatusFunction, quietLogger())
	now := time.Now()
	for i, at := range []time.Time{now.Add(-time.Second), now.Add(-3 * time.Second), now.Add(-2 * time.Second), now.Add(time.Hour)} {
		arn := fmt.Sprintf("x-%d", i)
		n.retrying[arn] = retry{nt: notice{arn: arn}, at: at}
		n.queued[arn] = inRetrying
	}
	var got []string
	for {
		nt, ok, next := n.take(now)
		if !ok {
			if !next.Equal(now.Add(time.Hour)) {
				t.Errorf("next retry at %v, want the one an hour away", next)
			}
			break
		}
		got = append(got, nt.arn)
	}
	if want := []string{"x-1", "x-2", "x-0"}; !slices.Equal(got, want) {
		t.Errorf("retries taken %q, want %q (earliest first, none before its time)", got, want)
	}

	swept := notice{arn: "swept"}
	n.queued[swept.arn] = inSwept
	n.swept = append(n.swept, swept)
	n.inFlight = 1
	n.later(0, notice{arn: swept.arn, tries: 1, delay: time.Second}, errors.New("unavailable"))
	if _, ok := n.retrying[swept.arn]; ok || n.queued[swept.arn] != inSwept {
		t.Errorf("a failed delivery of an end the sweep queued: retrying %v, queued %v; want it left to the sweep's queue", n.retrying[swept.arn], n.queued[swept.arn])
	}
}
