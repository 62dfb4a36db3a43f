package lambdainvoke

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
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
				r := newTestRegistry(t)
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
				out, err := r.Invoker()(ctx, engine.Invocation{FunctionName: "waiter", Payload: []byte(`{}`)})
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
	r := newTestRegistry(t)
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
	go func() { _, _ = r.Invoker()(ctx, engine.Invocation{FunctionName: "waiter", Payload: []byte(`{}`)}) }()
	<-started
	stop() // the execution's stop: the handler runs on
	select {
	case <-returned:
		t.Fatal("the handler returned at its execution's stop")
	case <-time.After(50 * time.Millisecond):
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel() // no time to finish
	if !r.Close(cancelled, 5*time.Second) {
		t.Fatal("Close: the handler did not return")
	}
	select {
	case <-returned:
	default:
		t.Fatal("Close returned before the handler")
	}
}

// TestCloseLetsHandlersFinish: Close lets a handler that outlived its
// execution's stop (an alert being sent after a terminate) finish until
// its context is done, and only then cancels the handler.
func TestCloseLetsHandlersFinish(t *testing.T) {
	for _, tc := range []struct {
		name       string
		finishes   bool // the handler finishes within the drain time
		wantCancel bool // the handler saw its context cancelled
	}{
		{"finishes in the drain time", true, false},
		{"runs past the drain time", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newTestRegistry(t)
				release := make(chan struct{})
				var sawCancel atomic.Bool
				r.Register("alert", func(ctx context.Context, _ struct{}) (string, error) {
					select {
					case <-release:
						return "sent", nil
					case <-ctx.Done():
						sawCancel.Store(true)
						return "", ctx.Err()
					}
				})
				ctx, stop := context.WithCancel(context.Background())
				go func() { _, _ = r.Invoker()(ctx, engine.Invocation{FunctionName: "alert", Payload: []byte(`{}`)}) }()
				synctest.Wait()
				stop() // the monitor is terminated: the alert is still being sent

				drain, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				closed := make(chan bool, 1)
				go func() { closed <- r.Close(drain, 5*time.Second) }()
				time.Sleep(5 * time.Second)
				synctest.Wait()
				if sawCancel.Load() {
					t.Fatal("Close cancelled the handler before the drain time was over")
				}
				if tc.finishes {
					close(release)
				}
				if ok := <-closed; !ok {
					t.Error("Close: the handler did not return")
				}
				if got := sawCancel.Load(); got != tc.wantCancel {
					t.Errorf("the handler saw its context cancelled: %v, want %v", got, tc.wantCancel)
				}
			})
		})
	}
}

// TestFunctionTimeout: a function's handler gets a context that ends at its
// timeout, or at the task's deadline when that comes first; an invocation
// still running at the function's timeout fails the task with
// Sandbox.Timedout and Lambda's message, even when its handler ignores its
// context and the task has no TimeoutSeconds.
func TestFunctionTimeout(t *testing.T) {
	t.Run("hung handler", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			r := newTestRegistry(t)
			r.RegisterWithOptions("hangs", func(ctx context.Context) error {
				<-release // ignores ctx
				return nil
			}, Options{Timeout: 3 * time.Second})
			start := time.Now()
			_, err := engine.LambdaInvoke(r.Invoker())(context.Background(),
				engine.TaskRequest{Resource: engine.LambdaInvokeResource, Input: map[string]any{"FunctionName": "hangs"}})
			var te *engine.TaskError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *engine.TaskError", err)
			}
			want := regexp.MustCompile(`^\{"errorMessage":"RequestId: [0-9a-f-]{36} Error: Task timed out after 3.00 seconds","errorType":"Sandbox.Timedout"\}$`)
			if te.Name != "Sandbox.Timedout" || !want.MatchString(te.Cause) {
				t.Errorf("Error %q, Cause %s; want Sandbox.Timedout, %s", te.Name, te.Cause, want)
			}
			if d := time.Since(start); d != 3*time.Second {
				t.Errorf("the task failed after %v, want 3s", d)
			}
		})
	})
	for _, tc := range []struct {
		name         string
		taskDeadline time.Duration // 0: none
		want         time.Duration
	}{
		{"no task deadline", 0, 15 * time.Second},
		{"a later task deadline", 100 * time.Second, 15 * time.Second},
		{"an earlier task deadline", 10 * time.Second, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newTestRegistry(t)
				var left time.Duration
				var has bool
				r.RegisterWithOptions("f", func(ctx context.Context) error {
					var d time.Time
					d, has = ctx.Deadline()
					left = time.Until(d)
					return nil
				}, Options{Timeout: 15 * time.Second})
				ctx := context.Background()
				if tc.taskDeadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.taskDeadline)
					defer cancel()
				}
				if _, err := r.Invoker()(ctx, engine.Invocation{FunctionName: "f", Payload: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
				if !has || left != tc.want {
					t.Errorf("the handler's context has a deadline: %v, %v ahead; want %v", has, left, tc.want)
				}
			})
		})
	}
}

// TestInvocationType: an Event invocation answers 202 at once and runs the
// handler on its own, whose error does not reach the task, and Close waits
// for it; a DryRun one answers 204 without running the handler, or that
// the function does not exist, as a RequestResponse one does; any other
// InvocationType is refused.
func TestInvocationType(t *testing.T) {
	r := newTestRegistry(t)
	release := make(chan struct{})
	ran := make(chan struct{}, 1)
	r.Register("f", func(ctx context.Context) (string, error) {
		ran <- struct{}{}
		<-release
		return "", errors.New("fails")
	})
	task := func(input map[string]any) (any, error) {
		return engine.LambdaInvoke(r.Invoker())(context.Background(),
			engine.TaskRequest{Resource: engine.LambdaInvokeResource, Input: input})
	}
	status := func(out any) (any, any) {
		m, _ := out.(map[string]any)
		return m["StatusCode"], m["Payload"]
	}

	out, err := task(map[string]any{"FunctionName": "f", "InvocationType": "Event"})
	if err != nil {
		t.Fatalf("Event: the task failed: %v", err)
	}
	if code, payload := status(out); code != 202.0 || payload != "" {
		t.Errorf("Event: StatusCode %v, Payload %#v; want 202, empty", code, payload)
	}
	<-ran // the handler runs after the task's answer
	closed := make(chan bool, 1)
	go func() { closed <- r.Close(context.Background(), time.Second) }()
	select {
	case <-closed:
		t.Fatal("Close returned while the Event invocation ran")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if !<-closed {
		t.Error("Close: the Event invocation did not return")
	}

	r = NewRegistry()
	var calls atomic.Int32
	r.Register("f", func(ctx context.Context) error { calls.Add(1); return nil })
	out, err = task(map[string]any{"FunctionName": "f", "InvocationType": "DryRun"})
	if err != nil {
		t.Fatalf("DryRun: %v", err)
	}
	if code, payload := status(out); code != 204.0 || payload != "" {
		t.Errorf("DryRun: StatusCode %v, Payload %#v; want 204, empty", code, payload)
	}
	if calls.Load() != 0 {
		t.Error("DryRun ran the handler")
	}
	const notFoundCause = "Function not found: missing (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException)"
	for _, typ := range []string{"DryRun", "Event", "RequestResponse"} {
		_, err = task(map[string]any{"FunctionName": "missing", "InvocationType": typ})
		var te *engine.TaskError
		if !errors.As(err, &te) || te.Name != "Lambda.ResourceNotFoundException" || te.Cause != notFoundCause {
			t.Errorf("%s of a missing function: err = %v, want Lambda.ResourceNotFoundException: %s", typ, err, notFoundCause)
		}
	}
	for _, typ := range []any{"event", "Async", 1.0} {
		_, err = task(map[string]any{"FunctionName": "f", "InvocationType": typ})
		var te *engine.TaskError
		if !errors.As(err, &te) || te.Name != "Lambda.InvalidParameterValueException" {
			t.Errorf("InvocationType %v: err = %v, want Lambda.InvalidParameterValueException", typ, err)
		}
	}
	if calls.Load() != 0 {
		t.Error("a refused invocation ran the handler")
	}
}

// TestInvokeTimeoutEdges: with a function timeout, an invocation whose
// caller cancels it returns then, even if its handler ignores its context
// (Close waits for the handler); a result that arrives at the timeout is
// discarded, and the invocation fails with Sandbox.Timedout.
func TestInvokeTimeoutEdges(t *testing.T) {
	t.Run("caller cancels", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			r := newTestRegistry(t)
			r.RegisterWithOptions("hangs", func(ctx context.Context) error {
				<-release // ignores ctx
				return nil
			}, Options{Timeout: 15 * time.Second})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(time.Second, cancel)
			start := time.Now()
			_, err := r.Invoke(ctx, "hangs", []byte(`{}`))
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d != time.Second {
				t.Errorf("Invoke returned after %v, want 1s (the cancellation)", d)
			}
			closed := make(chan bool)
			go func() { closed <- r.Close(context.Background(), time.Minute) }()
			synctest.Wait()
			select {
			case <-closed:
				t.Fatal("Close returned while the handler ran")
			default:
			}
			close(release)
			if !<-closed {
				t.Error("Close = false, want true once the handler returned")
			}
		})
	})
	t.Run("result at the timeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			r := newTestRegistry(t)
			r.RegisterWithOptions("late", func(ctx context.Context) (string, error) {
				time.Sleep(3 * time.Second) // ignores ctx, returns at the timeout
				return "late", nil
			}, Options{Timeout: 3 * time.Second})
			// The handler's answer and the timeout arrive at the same
			// instant; which one invoke sees first varies, so try often.
			for i := range 50 {
				out, err := r.Invoke(context.Background(), "late", []byte(`{}`))
				var fe *FunctionError
				if !errors.As(err, &fe) || fe.ErrorType != TimedOutError {
					t.Fatalf("attempt %d: Invoke = %s, %v; want a %s FunctionError", i, out, err, TimedOutError)
				}
			}
		})
	})
}

// A Close that gives up on a handler ignoring its context leaves nothing
// of its own behind waiting for that handler.
func TestCloseGivingUpLeavesNoWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newTestRegistry(t)
		hold := make(chan struct{})
		r.Register("stuck", func(context.Context, struct{}) (string, error) {
			<-hold // ignores its context
			return "", nil
		})
		go func() {
			_, _ = r.Invoker()(t.Context(), engine.Invocation{FunctionName: "stuck", Payload: []byte(`{}`)})
		}()
		synctest.Wait()
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if r.Close(cancelled, time.Second) {
			t.Fatal("Close reported that the stuck handler returned")
		}
		synctest.Wait()
		buf := make([]byte, 1<<20)
		if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "lambdainvoke.(*Registry).Close") {
			t.Errorf("a goroutine of Close still runs after it returned:\n%s", stacks)
		}
		close(hold)
	})
}

// newTestRegistry returns a registry that is closed when t ends, which
// ends the goroutines it keeps for its handlers (a synctest bubble ends
// only once every goroutine in it has).
func newTestRegistry(t *testing.T) *Registry {
	r := NewRegistry()
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r.Close(ctx, 0)
	})
	return r
}
