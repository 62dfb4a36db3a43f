package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

var errLocked = errors.New("database is locked (5) (SQLITE_BUSY)")

// readFailStore fails the reads of execution x that fail picks while
// failing is set, and serves garbage as x's run state when garbage is,
// and as every state machine's definition while badDefinition is.
// created, if set, is called after the commit that creates x.
type readFailStore struct {
	Store
	mu            sync.Mutex
	failing       bool
	fail          string // "GetRunState" or "GetExecution"
	garbage       bool
	badDefinition bool
	created       func()
}

func (s *readFailStore) setBadDefinition(on bool) {
	s.mu.Lock()
	s.badDefinition = on
	s.mu.Unlock()
}

func (s *readFailStore) spoil(sm StateMachine, err error) (StateMachine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.badDefinition {
		sm.Definition = `{"StartAt":"W","States":{"W":{"Type":"Wait2"}}}`
	}
	return sm, err
}

func (s *readFailStore) GetStateMachine(ctx context.Context, arn string) (StateMachine, error) {
	return s.spoil(s.Store.GetStateMachine(ctx, arn))
}

func (s *readFailStore) GetStateMachineRevision(ctx context.Context, arn string, rev int) (StateMachine, error) {
	return s.spoil(s.Store.GetStateMachineRevision(ctx, arn, rev))
}

func (s *readFailStore) fails(method, arn string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failing && s.fail == method && strings.HasSuffix(arn, ":x")
}

func (s *readFailStore) setFailing(on bool) {
	s.mu.Lock()
	s.failing = on
	s.mu.Unlock()
}

func (s *readFailStore) GetRunState(ctx context.Context, arn string) ([]byte, time.Time, error) {
	if s.fails("GetRunState", arn) {
		return nil, time.Time{}, errLocked
	}
	raw, at, err := s.Store.GetRunState(ctx, arn)
	if err == nil && s.garbage && strings.HasSuffix(arn, ":x") {
		raw = []byte(`{"state":`)
	}
	return raw, at, err
}

func (s *readFailStore) GetExecution(ctx context.Context, arn string) (Execution, error) {
	if s.fails("GetExecution", arn) {
		return Execution{}, errLocked
	}
	return s.Store.GetExecution(ctx, arn)
}

func (s *readFailStore) Commit(ctx context.Context, t Transition) error {
	err := s.Store.Commit(ctx, t)
	if err == nil && t.Create != nil && t.Create.Name == "x" && s.created != nil {
		s.created()
	}
	return err
}

// A store read that fails while an execution resumes (the store is
// locked, an I/O error) does not lose the execution's timer: the resume
// is tried again, waiting longer each time, and StoreHealth counts it
// meanwhile. Once the store serves the reads again, the execution goes
// on, and StoreHealth no longer counts it, though it waits again.
func TestResumeRetriesStoreReads(t *testing.T) {
	const wait10 = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"W2"},"W2":{"Type":"Wait","Seconds":3600,"Next":"D"},"D":{"Type":"Succeed"}}}`
	tests := []struct {
		name string
		fail string
		// atStart: the reads fail from x's creation on, and another
		// execution is stopped then, so that the start reads x's record
		// again before it runs it (spawn). Otherwise they fail once x
		// waits, and its wake-up meets them.
		atStart bool
	}{
		{"wake-up: run state", "GetRunState", false},
		{"wake-up: execution record", "GetExecution", false},
		{"start after a stop: execution record", "GetExecution", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				store := &readFailStore{Store: NewMemStore(), fail: tt.fail}
				eng := New(Options{Store: store, ResidentWindow: -1})
				defer eng.Close()
				sm, err := eng.CreateStateMachine(ctx, "m", wait10, "")
				if err != nil {
					t.Fatal(err)
				}
				if tt.atStart {
					y, err := eng.StartExecution(ctx, sm.Arn, "y", `{}`)
					if err != nil {
						t.Fatal(err)
					}
					synctest.Wait()
					store.created = func() {
						store.setFailing(true)
						if _, err := eng.StopExecution(ctx, y.Arn, "", ""); err != nil {
							t.Errorf("StopExecution: %v", err)
						}
					}
				}
				x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
				if err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				store.setFailing(true)
				time.Sleep(time.Minute)
				synctest.Wait()
				if h := eng.StoreHealth(); h.ResumesWaiting != 1 || h.LastError != errLocked.Error() {
					t.Errorf("StoreHealth while the reads fail = %+v, want 1 resume waiting, error %q", h, errLocked)
				}
				store.setFailing(false)
				time.Sleep(time.Minute)
				synctest.Wait()
				got, err := eng.DescribeExecution(ctx, x.Arn)
				if err != nil || got.Status != StatusRunning {
					t.Errorf("a minute after the reads work again: %s, %v; want RUNNING (in its second wait)", got.Status, err)
				}
				if h := eng.StoreHealth(); h != (StoreHealth{}) {
					t.Errorf("StoreHealth once the reads work, the execution waiting again = %+v, want none waiting", h)
				}
				time.Sleep(time.Hour)
				synctest.Wait()
				got, err = eng.DescribeExecution(ctx, x.Arn)
				if err != nil || got.Status != StatusSucceeded {
					t.Errorf("an hour later: %s, %v; want SUCCEEDED", got.Status, err)
				}
				if h := eng.StoreHealth(); h != (StoreHealth{}) {
					t.Errorf("StoreHealth once the execution ended = %+v, want none waiting", h)
				}
			})
		})
	}
}

// An execution stopped while the store fails its resumes is no longer
// counted by StoreHealth: it will not resume, so nothing waits.
func TestStopWhileResumeRetriesClearsStoreHealth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := &readFailStore{Store: NewMemStore(), fail: "GetRunState"}
		eng := New(Options{Store: store, ResidentWindow: -1})
		defer eng.Close()
		x := startWaiting(t, eng)
		synctest.Wait()
		store.setFailing(true)
		time.Sleep(time.Minute)
		synctest.Wait()
		if h := eng.StoreHealth(); h.ResumesWaiting != 1 {
			t.Fatalf("StoreHealth while the reads fail = %+v, want 1 resume waiting", h)
		}
		if _, err := eng.StopExecution(ctx, x.Arn, "", ""); err != nil {
			t.Fatalf("StopExecution: %v", err)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if h := eng.StoreHealth(); h != (StoreHealth{}) {
			t.Errorf("StoreHealth once the execution was stopped = %+v, want none waiting", h)
		}
	})
}

// An execution whose state machine definition no longer parses when it
// resumes (a version of stepmon that validates definitions differently
// runs on the data directory) stays RUNNING: its resume is tried again,
// waiting longer each time, and StoreHealth counts it meanwhile, so
// that /healthz shows it. Once the definition parses again (the version
// that wrote it is back), the execution goes on.
func TestResumeOfUnparsableDefinitionRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := &readFailStore{Store: NewMemStore()}
		eng1 := New(Options{Store: store, ResidentWindow: -1})
		x := startWaiting(t, eng1)
		synctest.Wait()
		eng1.Close()
		store.setBadDefinition(true)
		eng := New(Options{Store: store, ResidentWindow: -1})
		defer eng.Close()
		if n, err := eng.Recover(ctx); err != nil || n != 1 {
			t.Fatalf("Recover = %d, %v; want 1 execution", n, err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		got, err := eng.DescribeExecution(ctx, x.Arn)
		if err != nil || got.Status != StatusRunning {
			t.Errorf("while its definition does not parse: %s %s, %v; want RUNNING", got.Status, got.Error, err)
		}
		if h := eng.StoreHealth(); h.ResumesWaiting != 1 || !strings.Contains(h.LastError, "Wait2") {
			t.Errorf("StoreHealth while the definition does not parse = %+v, want 1 resume waiting, the parse error", h)
		}
		store.setBadDefinition(false)
		time.Sleep(time.Minute)
		synctest.Wait()
		got, err = eng.DescribeExecution(ctx, x.Arn)
		if err != nil || got.Status != StatusSucceeded {
			t.Errorf("a minute after the definition parses again: %s, %v; want SUCCEEDED", got.Status, err)
		}
		if h := eng.StoreHealth(); h != (StoreHealth{}) {
			t.Errorf("StoreHealth once it resumed = %+v, want none waiting", h)
		}
	})
}

// An execution whose stored run state cannot be decoded fails with
// States.Runtime when it falls due, rather than stay RUNNING unseen.
func TestResumeOfUndecodableRunStateFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := &readFailStore{Store: NewMemStore(), garbage: true}
		eng := New(Options{Store: store, ResidentWindow: -1})
		defer eng.Close()
		x := startWaiting(t, eng)
		time.Sleep(time.Minute)
		synctest.Wait()
		got, err := eng.DescribeExecution(ctx, x.Arn)
		if err != nil || got.Status != StatusFailed || got.Error != "States.Runtime" {
			t.Fatalf("execution = %s %s, %v; want FAILED States.Runtime", got.Status, got.Error, err)
		}
		hist, err := eng.History(ctx, x.Arn)
		if err != nil {
			t.Fatal(err)
		}
		if last := hist[len(hist)-1]; last.Type != "ExecutionFailed" || last.ID != int64(len(hist)) {
			t.Errorf("last event = %d %s of %d, want ExecutionFailed last", last.ID, last.Type, len(hist))
		}
		if h := eng.StoreHealth(); h != (StoreHealth{}) {
			t.Errorf("StoreHealth = %+v, want none waiting", h)
		}
	})
}

// startWaiting starts on eng an execution that waits 10 s and then ends.
func startWaiting(t *testing.T, eng *Engine) Execution {
	t.Helper()
	ctx := context.Background()
	sm, err := eng.CreateStateMachine(ctx, "m", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"End":true}}}`, "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := eng.StartExecution(ctx, sm.Arn, "x", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
