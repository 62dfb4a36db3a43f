package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// flakyStore fails the Commits that fail picks (n counts every Commit
// call from 1) with an I/O error, writing nothing.
type flakyStore struct {
	Store
	mu    sync.Mutex
	n     int
	fail  func(n int, t Transition) bool
	calls []int // the numbers of the failed calls
}

var errDiskFull = errors.New("database or disk is full")

func (s *flakyStore) Commit(ctx context.Context, t Transition) error {
	s.mu.Lock()
	s.n++
	n := s.n
	failed := s.fail(n, t)
	if failed {
		s.calls = append(s.calls, n)
	}
	s.mu.Unlock()
	if failed {
		return errDiskFull
	}
	return s.Store.Commit(ctx, t)
}

// A commit the store fails for its own reasons (a full disk) is tried
// again until it succeeds: the execution goes on, with each event stored
// once, instead of ending with States.Aborted.
func TestCommitRetriesStoreFailures(t *testing.T) {
	const def = `{"StartAt":"Count","States":{
		"Count":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},"Next":"Enough"},
		"Enough":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThanEquals":3,"Next":"Done"}],"Default":"Pause"},
		"Pause":{"Type":"Wait","Seconds":5,"Next":"Count"},
		"Done":{"Type":"Succeed"}}}`
	finishing := func(t Transition) bool { return t.Update != nil && t.Update.Status == StatusSucceeded }
	suspending := func(t Transition) bool { return !t.WakeAt.IsZero() }
	tests := []struct {
		name string
		fail func(n int, t Transition) bool
		// failures is how many commits fail.
		failures int
	}{
		{"no failure", func(int, Transition) bool { return false }, 0},
		{"a wait's commit fails twice", func(n int, t Transition) bool { return suspending(t) && n <= 3 }, 2},
		{"the final commit fails five times", func(n int, t Transition) bool { return finishing(t) && n <= 8 }, 5},
	}
	var wantHist []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				var logs bytes.Buffer
				var logMu sync.Mutex
				store := &flakyStore{Store: NewMemStore(), fail: tt.fail}
				eng := New(Options{Store: store, Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))})
				defer eng.Close()
				sm, err := eng.CreateStateMachine(ctx, "m", def, "")
				if err != nil {
					t.Fatal(err)
				}
				x, err := eng.StartExecution(ctx, sm.Arn, "x", `{"n":0}`)
				if err != nil {
					t.Fatal(err)
				}
				if x, err = eng.Wait(ctx, x.Arn); err != nil || x.Status != StatusSucceeded {
					t.Fatalf("execution = %+v, %v", x, err)
				}
				if len(store.calls) != tt.failures {
					t.Errorf("%d commits failed, want %d", len(store.calls), tt.failures)
				}
				hist, err := eng.History(ctx, x.Arn)
				if err != nil {
					t.Fatal(err)
				}
				var types []string
				for i, ev := range hist {
					if ev.ID != int64(i+1) {
						t.Fatalf("event %d has id %d: history %v", i+1, ev.ID, hist)
					}
					types = append(types, ev.Type)
				}
				if wantHist == nil {
					wantHist = types // the run without failures
				} else if !slices.Equal(types, wantHist) {
					t.Errorf("history = %v, want %v", types, wantHist)
				}
				logMu.Lock()
				defer logMu.Unlock()
				if got := strings.Contains(logs.String(), "retrying"); got != (tt.failures > 0) {
					t.Errorf("retry logged = %v, want %v; log:\n%s", got, tt.failures > 0, logs.String())
				}
			})
		})
	}
}

// When the store fails every commit for a while, the engine logs one
// line, not one per execution, and one when commits go through again.
func TestCommitFailuresLoggedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var logs bytes.Buffer
		var logMu sync.Mutex
		start := time.Now()
		store := &flakyStore{Store: NewMemStore(), fail: func(_ int, t Transition) bool {
			return !t.WakeAt.IsZero() && time.Since(start) < 3*time.Second
		}}
		eng := New(Options{Store: store, Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))})
		defer eng.Close()
		sm, err := eng.CreateStateMachine(ctx, "m", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		var arns []string
		for i := range 20 {
			x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("x%d", i), `{}`)
			if err != nil {
				t.Fatal(err)
			}
			arns = append(arns, x.Arn)
		}
		for _, arn := range arns {
			if x, err := eng.Wait(ctx, arn); err != nil || x.Status != StatusSucceeded {
				t.Fatalf("execution = %+v, %v", x, err)
			}
		}
		logMu.Lock()
		defer logMu.Unlock()
		out := logs.String()
		if n := strings.Count(out, "failed to commit"); n != 1 {
			t.Errorf("%d lines about failed commits, want 1:\n%s", n, out)
		}
		if n := strings.Count(out, "accepts commits again"); n != 1 {
			t.Errorf("%d lines about the recovery, want 1:\n%s", n, out)
		}
		if len(store.calls) < 20 {
			t.Errorf("%d failed commits, want at least one per execution", len(store.calls))
		}
	})
}

// Close ends a commit that is being retried: the execution stays RUNNING
// in the store, at its last committed state, for the next engine.
func TestCloseEndsCommitRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := &flakyStore{Store: NewMemStore(), fail: func(n int, t Transition) bool { return !t.WakeAt.IsZero() }}
		eng := New(Options{Store: store, Logger: slog.New(slog.DiscardHandler)})
		sm, err := eng.CreateStateMachine(ctx, "m", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute) // attempts at 0, 0.1, 0.3, 0.7, ... s
		synctest.Wait()
		if err := eng.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if n := len(store.calls); n < 5 {
			t.Errorf("%d attempts in a minute, want more", n)
		}
		got, err := store.GetExecution(ctx, x.Arn)
		if err != nil || got.Status != StatusRunning {
			t.Fatalf("stored execution = %+v, %v; want RUNNING", got, err)
		}
		if last, err := store.LastEventID(ctx, x.Arn); err != nil || last != 1 {
			t.Errorf("last stored event = %d, %v; want 1 (ExecutionStarted)", last, err)
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// StoreHealth counts the executions waiting for a store that fails their
// commits and names its failure, and is clear again once they went
// through.
func TestStoreHealthWhileCommitsFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		down := true // read under store.mu, as fail is called
		store := &flakyStore{Store: NewMemStore(), fail: func(_ int, t Transition) bool {
			return !t.WakeAt.IsZero() && down
		}}
		eng := New(Options{Store: store, Logger: slog.New(slog.DiscardHandler)})
		defer eng.Close()
		if h := eng.StoreHealth(); h != (StoreHealth{}) {
			t.Fatalf("StoreHealth before any commit = %+v, want zero", h)
		}
		sm, err := eng.CreateStateMachine(ctx, "m", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}`, "")
		if err != nil {
			t.Fatal(err)
		}
		var arns []string
		for i := range 3 {
			x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("x%d", i), `{}`)
			if err != nil {
				t.Fatal(err)
			}
			arns = append(arns, x.Arn)
		}
		synctest.Wait() // every execution met the failing store and sleeps before trying again
		h := eng.StoreHealth()
		if h.CommitsWaiting != 3 || !strings.Contains(h.LastError, errDiskFull.Error()) {
			t.Errorf("StoreHealth while the store fails = %+v, want 3 commits waiting and %q", h, errDiskFull)
		}
		store.mu.Lock()
		down = false
		store.mu.Unlock()
		for _, arn := range arns {
			if x, err := eng.Wait(ctx, arn); err != nil || x.Status != StatusSucceeded {
				t.Fatalf("execution = %+v, %v", x, err)
			}
		}
		if h := eng.StoreHealth(); h != (StoreHealth{}) {
			t.Errorf("StoreHealth after the store recovered = %+v, want zero", h)
		}
	})
}

// closeAtFinish is a store whose commit of an execution's success closes
// the engine first, which cancels the execution's run, and fails as a
// cancelled commit does: the cancellation (a stop's, or a shutdown's)
// lands between the last step and the commit of its end.
type closeAtFinish struct {
	Store
	eng    func() *Engine
	closed chan struct{}
}

func (s *closeAtFinish) Commit(ctx context.Context, t Transition) error {
	if t.Update != nil && t.Update.Status == StatusSucceeded {
		go func() {
			s.eng().Close()
			close(s.closed)
		}()
		<-ctx.Done()
		return fmt.Errorf("commit %s: %w", t.ExecutionArn, ctx.Err())
	}
	return s.Store.Commit(ctx, t)
}

// A run cancelled between its last step and the commit of its end (a
// stop or a shutdown crossing it) logs nothing worse than DEBUG: it
// logged "engine: finish ... context canceled" at ERROR, an operator's
// line for an ordinary race (a terminate as a monitor ends).
func TestCancelCrossingTheFinishLogsNoError(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	var logMu sync.Mutex
	var eng *Engine
	store := &closeAtFinish{Store: NewMemStore(), eng: func() *Engine { return eng }, closed: make(chan struct{})}
	eng = New(Options{Store: store, Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))})
	sm, err := eng.CreateStateMachine(ctx, "m", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-store.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the execution never committed its end")
	}
	time.Sleep(200 * time.Millisecond) // the run's goroutine logs after its commit fails
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("an ERROR for a cancellation crossing the finish:\n%s", logs.String())
	}
}
