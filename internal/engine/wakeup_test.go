package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// skewClock is the wall clock plus an offset that the store moves forward
// at every suspension, so that a wait is already due when the execution
// that committed it has not yet returned: the case of a loaded machine
// whose commits take longer than a short wait.
type skewClock struct{ offset atomic.Int64 }

func (c *skewClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *skewClock) SleepUntil(ctx context.Context, t time.Time) error {
	return engine.RealClock{}.SleepUntil(ctx, t.Add(-time.Duration(c.offset.Load())))
}

type skewStore struct {
	engine.Store
	clock *skewClock
}

func (s skewStore) Commit(ctx context.Context, t engine.Transition) error {
	err := s.Store.Commit(ctx, t)
	if !t.WakeAt.IsZero() {
		s.clock.offset.Add(int64(2 * time.Second))
	}
	return err
}

// A wait that falls due while its execution is still winding down must
// not be lost: every execution finishes.
func TestWaitDueBeforeExecutionReturns(t *testing.T) {
	const def = `{"StartAt":"Count","States":{
		"Count":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},"Next":"Enough"},
		"Enough":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThanEquals":20,"Next":"Done"}],"Default":"Pause"},
		"Pause":{"Type":"Wait","Seconds":1,"Next":"Count"},
		"Done":{"Type":"Succeed"}}}`
	clock := &skewClock{}
	eng := newEngine(t, engine.Options{Clock: clock, Store: skewStore{Store: engine.NewMemStore(), clock: clock}})
	sm := create(t, eng, def)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 50 {
		x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("loop-%d", i), `{"n":0}`)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := eng.Wait(ctx, x.Arn)
			if err != nil {
				t.Errorf("%s never finished: %v", x.Name, err)
				return
			}
			if done.Status != engine.StatusSucceeded || done.Output != `{"n":20}` {
				t.Errorf("%s: %s %s", x.Name, done.Status, done.Output)
			}
		}()
	}
	wg.Wait()
}

// A wait ends when the wall clock reaches its end, even if the clock
// jumped there (a laptop resumed after an hour asleep) while the engine's
// timer was set for the whole wait.
func TestWaitFollowsTheWallClock(t *testing.T) {
	clock := &engine.OffsetClock{}
	store := engine.NewMemStore()
	eng := newEngine(t, engine.Options{Clock: clock, Store: store})
	sm := create(t, eng, `{"StartAt":"Pause","States":{"Pause":{"Type":"Wait","Seconds":3600,"End":true}}}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	x, err := eng.StartExecution(ctx, sm.Arn, "sleeper", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	waitForTimer(t, store, x.Arn) // the timer is set for an hour
	clock.Step(time.Hour + time.Second)
	if x, err = eng.Wait(ctx, x.Arn); err != nil || x.Status != engine.StatusSucceeded {
		t.Fatalf("execution = %+v, %v; want SUCCEEDED soon after the clock passed the wait's end", x, err)
	}
}
