package lambdainvoke

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// Close with no handler running returns at once, true, even with no time
// left to wait.
func TestCloseWithNothingRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newTestRegistry(t)
		r.Register("idle", func(context.Context, struct{}) (string, error) { return "", nil })
		if _, err := r.Invoker()(t.Context(), engine.Invocation{FunctionName: "idle", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		if !r.Close(cancelled, time.Minute) {
			t.Error("Close with no handler running = false, want true")
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Close with no handler running took %v, want no wait", d)
		}
	})
}

// Close waits for every handler still running, not for the first of them
// to return.
func TestCloseWaitsForEveryHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newTestRegistry(t)
		release := map[string]chan struct{}{"first": make(chan struct{}), "second": make(chan struct{})}
		for name, ch := range release {
			r.Register(name, func(context.Context, struct{}) (string, error) {
				<-ch // ignores its context
				return "", nil
			})
			go func() {
				_, _ = r.Invoker()(context.Background(), engine.Invocation{FunctionName: name, Payload: []byte(`{}`)})
			}()
		}
		synctest.Wait()
		closed := make(chan bool, 1)
		go func() { closed <- r.Close(context.Background(), time.Minute) }()
		synctest.Wait() // Close waits
		close(release["first"])
		synctest.Wait()
		select {
		case ok := <-closed:
			t.Fatalf("Close returned %v while the second handler still ran", ok)
		default:
		}
		close(release["second"])
		if !<-closed {
			t.Error("Close = false, want true once both handlers returned")
		}
	})
}

// An invocation after Close fails with ErrClosed and runs no handler: it
// would have run on, unwatched, into the stores its caller closes next
// (the notifier's deliveries to the status function did, during a
// shutdown).
func TestInvokeAfterClose(t *testing.T) {
	r := newTestRegistry(t)
	ran := false
	r.RegisterWithOptions("late", func(context.Context, struct{}) (string, error) { ran = true; return "", nil }, Options{Timeout: time.Minute})
	r.Register("untimed", func(context.Context, struct{}) (string, error) { ran = true; return "", nil })
	r.Close(t.Context(), time.Second)
	for _, name := range []string{"late", "untimed"} {
		if _, err := r.Invoke(t.Context(), name, []byte(`{}`)); !errors.Is(err, ErrClosed) {
			t.Errorf("Invoke %s after Close: %v, want ErrClosed", name, err)
		}
		if _, err := r.Invoker()(t.Context(), engine.Invocation{FunctionName: name, Payload: []byte(`{}`)}); !errors.Is(err, ErrClosed) {
			t.Errorf("Invoker %s after Close: %v, want ErrClosed", name, err)
		}
	}
	if ran {
		t.Error("a handler ran after Close")
	}
}

// Close waits for a handler that Invoke runs on its caller's goroutine (a
// function with no timeout) as for the others: it was not counted.
func TestCloseWaitsForDirectInvoke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newTestRegistry(t)
		release := make(chan struct{})
		r.Register("direct", func(context.Context, struct{}) (string, error) { <-release; return "", nil })
		go func() { _, _ = r.Invoke(context.Background(), "direct", []byte(`{}`)) }()
		synctest.Wait()
		closed := make(chan bool, 1)
		go func() { closed <- r.Close(context.Background(), time.Minute) }()
		synctest.Wait()
		select {
		case ok := <-closed:
			t.Fatalf("Close returned %v while the handler still ran", ok)
		default:
		}
		close(release)
		if !<-closed {
			t.Error("Close = false, want true: the handler returned")
		}
	})
}
