package local

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// stoppedStore is an engine store whose executions ended ABORTED at the
// given stop dates, listed by the sweep; failList makes its listing fail.
type stoppedStore struct {
	endedStore
	stops    map[string]time.Time
	failList bool
}

func (s stoppedStore) ListExecutions(_ context.Context, in engine.ListExecutionsInput) ([]engine.Execution, string, error) {
	if s.failList {
		return nil, "", fmt.Errorf("database is locked")
	}
	if in.Status != engine.StatusAborted {
		return nil, "", nil
	}
	var out []engine.Execution
	for arn, at := range s.stops {
		out = append(out, engine.Execution{Arn: arn, Status: engine.StatusAborted, StopDate: at})
	}
	return out, "", nil
}

// writeMark writes a delivery mark file at path, as the notifier does.
// markingNotifier returns a notifier that delivers ends through funcs,
// lists them from store and keeps its delivery mark in the file at path.
func markingNotifier(path string, funcs interface {
	Invoke(context.Context, string, []byte) ([]byte, error)
}, store engine.Store) *notifier {
	n := newNotifier(funcs, StatusFunction, quietLogger())
	n.markPath = path
	n.store = store
	return n
}

func writeMark(t *testing.T, path string, at time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(at.UTC().Format(time.RFC3339Nano)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The start-up sweep delivers again only the ends at or after the
// delivery mark, and all of them when the mark is missing or unreadable:
// the ends before it were delivered when they happened.
func TestNotifierSweepStartsAtTheMark(t *testing.T) {
	for _, tt := range []struct {
		name string
		mark string // the file's text; "" for no file
		want []string
	}{
		{"mark", "-10m", []string{"no-stop-date", "recent"}},
		{"no mark", "", []string{"no-stop-date", "old", "recent"}},
		{"unreadable mark", "yesterday", []string{"no-stop-date", "old", "recent"}},
		// Written while the clock was ahead, since set back.
		{"mark in the future", "10m", []string{"no-stop-date", "old", "recent"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				now := time.Now()
				path := filepath.Join(t.TempDir(), DeliveryMarkFile)
				switch d, err := time.ParseDuration(tt.mark); {
				case tt.mark == "":
				case err == nil:
					writeMark(t, path, now.Add(d))
				default:
					os.WriteFile(path, []byte(tt.mark), 0o600)
				}
				f := newHeldFuncs()
				close(f.release)
				n := markingNotifier(path, f, stoppedStore{stops: map[string]time.Time{
					"old": now.Add(-time.Hour), "recent": now.Add(-time.Minute), "no-stop-date": {}}})
				n.start()
				defer n.stop()
				synctest.Wait()
				f.mu.Lock()
				got := slices.Sorted(func(yield func(string) bool) {
					for arn := range f.delivered {
						if !yield(arn) {
							return
						}
					}
				})
				f.mu.Unlock()
				if !slices.Equal(got, tt.want) {
					t.Errorf("delivered %v, want %v", got, tt.want)
				}
			})
		})
	}
}

// readMarkFile returns the mark in the file at path; zero if there is none.
func readMarkFile(t *testing.T, path string) time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return time.Time{}
	}
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("mark %q: %v", b, err)
	}
	return at
}

// The notifier writes the delivery mark, markMargin in the past, only
// while every end reported is delivered: not while one is being
// delivered, nor before the start-up sweep has queued everything; and
// when it stops idle.
func TestNotifierMarksOnlyWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), DeliveryMarkFile)
		f := newHeldFuncs()
		n := markingNotifier(path, f, stoppedStore{})
		n.start()
		defer n.stop()
		n.executionEnded(t.Context(), "held", engine.ExecutionUpdate{Status: engine.StatusAborted})
		time.Sleep(markInterval + time.Second)
		synctest.Wait()
		if at := readMarkFile(t, path); !at.IsZero() {
			t.Fatalf("mark %v written while an end was being delivered", at)
		}
		close(f.release)
		synctest.Wait()
		time.Sleep(markInterval)
		synctest.Wait()
		if at, want := readMarkFile(t, path), time.Now().Add(-markMargin-time.Second); !at.Equal(want) {
			t.Fatalf("mark %v, want %v (markMargin before the tick)", at, want)
		}
		time.Sleep(time.Second)
		n.stop()
		if at, want := readMarkFile(t, path), time.Now().Add(-markMargin); !at.Equal(want) {
			t.Errorf("mark at the stop %v, want %v", at, want)
		}
	})
}

// failingFuncs is a status function whose store is down.
type failingFuncs struct{}

func (failingFuncs) Invoke(context.Context, string, []byte) ([]byte, error) {
	return nil, errors.New("status store: database or disk is full")
}

// An end waiting for a retry of its delivery keeps the mark where it was,
// at the ticks and at the stop: marked, it would be skipped at the next
// start, and its monitor's record would stay Running.
func TestNotifierNoMarkWhileRetrying(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), DeliveryMarkFile)
		n := markingNotifier(path, failingFuncs{}, stoppedStore{})
		n.start()
		n.executionEnded(t.Context(), "failing", engine.ExecutionUpdate{Status: engine.StatusAborted})
		time.Sleep(3 * markInterval)
		synctest.Wait()
		n.stop()
		if at := readMarkFile(t, path); !at.IsZero() {
			t.Errorf("mark %v written while an end waited for a retry", at)
		}
	})
}

// While the engine's store fails commits, an end may wait in one of them
// for longer than markMargin past its stop date, unreported: no mark is
// written, at the ticks or at a stop, until the commits go through. (A
// mark written during a long outage skipped, at the next start, the end
// whose commit went through and whose delivery the stop cut short: its
// monitor's record said Running for good.)
func TestNotifierNoMarkWhileCommitsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), DeliveryMarkFile)
		f := newHeldFuncs()
		close(f.release)
		var waiting atomic.Int64
		waiting.Store(3)
		n := markingNotifier(path, f, stoppedStore{})
		n.commitsWaiting = func() int { return int(waiting.Load()) }
		n.start()
		defer n.stop()
		time.Sleep(markMargin + 2*markInterval)
		synctest.Wait()
		if at := readMarkFile(t, path); !at.IsZero() {
			t.Fatalf("mark %v written while the engine's commits waited", at)
		}
		waiting.Store(0)
		time.Sleep(markInterval)
		synctest.Wait()
		if at, want := readMarkFile(t, path), time.Now().Add(-markMargin); !at.Equal(want) {
			t.Fatalf("mark %v once the commits went through, want %v", at, want)
		}
		waiting.Store(1)
		time.Sleep(time.Second)
		n.stop()
		if at, want := readMarkFile(t, path), time.Now().Add(-markMargin-time.Second); !at.Equal(want) {
			t.Errorf("mark %v after a stop while a commit waited, want the last tick's %v", at, want)
		}
	})
}

// A sweep whose listing failed may have missed ends: no mark is written
// until a later start's sweep has listed them all.
func TestNotifierNoMarkAfterFailedSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), DeliveryMarkFile)
		f := newHeldFuncs()
		close(f.release)
		n := markingNotifier(path, f, stoppedStore{failList: true})
		n.start()
		time.Sleep(2 * markInterval)
		synctest.Wait()
		n.stop()
		if at := readMarkFile(t, path); !at.IsZero() {
			t.Errorf("mark %v written after a failed sweep", at)
		}
	})
}

// A restart after a graceful stop does not deliver again the end of a
// monitor terminated and purged before it (with the default retention,
// a week of them at every start).
func TestRestartDoesNotRedeliverEnds(t *testing.T) {
	dir := t.TempDir()
	rt := newTestRuntimeWith(t, Config{DataDir: dir})
	base := rt.URL()
	a := call(t, http.MethodPost, base+"/monitors",
		`{"instanceId":"swept","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":3600,"timeoutSeconds":7200}`)
	wantStatus(t, a, http.StatusAccepted, "start")
	wantStatus(t, call(t, http.MethodPost, base+"/monitors/swept/terminate?reason=done", ""), http.StatusAccepted, "terminate")
	wantStatus(t, call(t, http.MethodDelete, base+"/monitors/swept", ""), http.StatusOK, "purge")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	// The stop marked its deliveries, markMargin in the past: the
	// restart comes later than that, when the end is before the mark.
	mark := filepath.Join(dir, DeliveryMarkFile)
	if at := readMarkFile(t, mark); at.IsZero() || time.Since(at) < markMargin {
		t.Fatalf("mark after the stop: %v, want one %v ago", at, markMargin)
	}
	writeMark(t, mark, time.Now())
	delivered := make(chan string, 16)
	rt2 := newTestRuntimeThen(t, Config{DataDir: dir}, func(rt *Runtime) {
		invoke := rt.notifier.invoke
		rt.notifier.invoke = func(ctx context.Context, fn string, payload []byte) ([]byte, error) {
			delivered <- string(payload)
			return invoke(ctx, fn, payload)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !rt2.notifier.idle() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !rt2.notifier.idle() {
		t.Fatal("the restarted runtime's sweep did not finish")
	}
	select {
	case ev := <-delivered:
		t.Errorf("the restart delivered an end again: %.300s", ev)
	default:
	}
}

// deliveredBefore bounds the retention sweep: before the start-up sweep
// has queued the undelivered ends, by the delivery mark (nothing at all
// without one); after it, by the earliest stop of the ends queued, being
// delivered or waiting for a retry; not at all when every end is
// delivered.
func TestNotifierDeliveredBefore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		path := filepath.Join(t.TempDir(), DeliveryMarkFile)
		mark := t0.Add(-time.Hour).UTC()
		writeMark(t, path, mark)
		f := newHeldFuncs()
		listed := make(chan struct{})
		n := markingNotifier(path, f, gatedStore{stoppedStore: stoppedStore{}, gate: listed})
		n.start()
		defer n.stop()
		synctest.Wait() // the sweep waits for its listing
		if at, bounded := n.deliveredBefore(); !bounded || !at.Equal(mark) {
			t.Errorf("during the start-up sweep: %v, %t; want the mark %v", at, bounded, mark)
		}
		close(listed)
		synctest.Wait()
		if at, bounded := n.deliveredBefore(); bounded {
			t.Errorf("with every end delivered: %v, want no bound", at)
		}
		n.executionEnded(t.Context(), "late", engine.ExecutionUpdate{Status: engine.StatusAborted, StopDate: t0.Add(-time.Minute)})
		n.executionEnded(t.Context(), "later", engine.ExecutionUpdate{Status: engine.StatusAborted, StopDate: t0})
		synctest.Wait() // one being delivered, held; the other queued
		if at, bounded := n.deliveredBefore(); !bounded || !at.Equal(t0.Add(-time.Minute)) {
			t.Errorf("with two ends undelivered: %v, %t; want the earlier's stop %v", at, bounded, t0.Add(-time.Minute))
		}
		close(f.release)
		synctest.Wait()
		if at, bounded := n.deliveredBefore(); bounded {
			t.Errorf("once both were delivered: %v, want no bound", at)
		}
	})
}

// gatedStore is a stoppedStore whose listing waits for gate.
type gatedStore struct {
	stoppedStore
	gate chan struct{}
}

func (s gatedStore) ListExecutions(ctx context.Context, in engine.ListExecutionsInput) ([]engine.Execution, string, error) {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	return s.stoppedStore.ListExecutions(ctx, in)
}

// At a shutdown the ends being delivered go through before the notifier
// stops, so that the delivery mark is written (stopped at once, a
// delivery in flight was cut short and no mark written: the next start
// looked at every end again); settle gives up when its context ends.
func TestNotifierSettlesBeforeStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), DeliveryMarkFile)
		f := newHeldFuncs()
		n := markingNotifier(path, f, stoppedStore{})
		n.start()
		n.executionEnded(t.Context(), "ending", engine.ExecutionUpdate{Status: engine.StatusAborted, StopDate: time.Now()})
		synctest.Wait() // being delivered, held

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		n.settle(ctx) // the delivery is still held: settle gives up
		if ctx.Err() == nil {
			t.Fatal("settle returned with a delivery in flight before its context ended")
		}
		go func() {
			time.Sleep(time.Minute)
			close(f.release)
		}()
		n.settle(t.Context())
		n.stop()
		if f.delivered["ending"] != 1 {
			t.Errorf("the end was delivered %d times, want once", f.delivered["ending"])
		}
		if at := readMarkFile(t, path); at.IsZero() {
			t.Error("no delivery mark after a stop that followed settle")
		}
	})
}
