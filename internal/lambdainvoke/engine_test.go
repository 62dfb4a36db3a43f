package lambdainvoke

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// TestInvokerOutlivesTheStop: a handler runs on when its execution is
// stopped (its context is cancelled), as a Lambda function does on AWS;
// it keeps the task's deadline, and without one ends StopGrace after the
// stop.
func TestInvokerOutlivesTheStop(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Duration // 0: none
		wantEnd  time.Duration // after the start; the stop comes at 1 s
	}{
		{"with a deadline", 10 * time.Second, 10 * time.Second},
		{"without one", 0, time.Second + StopGrace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				r := NewRegistry()
				r.Register("waiter", func(ctx context.Context, _ struct{}) (string, error) {
					<-ctx.Done()
					return time.Since(start).String(), nil
				})
				ctx, stop := context.WithCancel(context.Background())
				if tc.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.deadline)
					defer cancel()
				}
				go func() {
					time.Sleep(time.Second)
					stop()
				}()
				out, err := r.Invoker()(ctx, "waiter", []byte(`{}`))
				if err != nil {
					t.Fatalf("invoke: %v", err)
				}
				if want := `"` + tc.wantEnd.String() + `"`; string(out) != want {
					t.Errorf("the handler's context ended %s after the start, want %s", out, want)
				}
			})
		})
	}
}

// TestCloseEndsDetachedHandlers: a handler that outlives its execution's
// stop is ended by Close, which waits for it to return, so that the
// runtime closes its stores after the last handler used them.
func TestCloseEndsDetachedHandlers(t *testing.T) {
	r := NewRegistry()
	returned := make(chan struct{})
	started := make(chan struct{})
	r.Register("waiter", func(ctx context.Context, _ struct{}) (string, error) {
		close(started)
		<-ctx.Done()
		close(returned)
		return "", ctx.Err()
	})
	ctx, stop := context.WithTimeout(context.Background(), time.Hour)
	defer stop()
	go func() { _, _ = r.Invoker()(ctx, "waiter", []byte(`{}`)) }()
	<-started
	stop() // the execution's stop: the handler runs on
	select {
	case <-returned:
		t.Fatal("the handler returned at its execution's stop")
	case <-time.After(50 * time.Millisecond):
	}
	if !r.Close(5 * time.Second) {
		t.Fatal("Close: the handler did not return")
	}
	select {
	case <-returned:
	default:
		t.Fatal("Close returned before the handler")
	}
}
