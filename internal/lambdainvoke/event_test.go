package lambdainvoke

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/testtool"
)

// ctxKey is a context key of the engine's, which handlers see.
type ctxKey struct{}

// An Event invocation runs detached from its task: with the values of the
// engine's context (not its cancellation), without the client context
// (Lambda passes one to synchronous invocations only), until Close cancels
// it; its failure reaches the registry's log. A synchronous invocation's
// handler sees the engine's values too.
func TestEventInvocationDetached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs testtool.SyncBuffer
		r := newTestRegistry(t)
		r.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		type seen struct {
			value  any
			client lambdacontext.ClientContext
		}
		seenc := make(chan seen, 2)
		r.Register("ev", func(ctx context.Context, _ struct{}) (string, error) {
			lc, _ := lambdacontext.FromContext(ctx)
			seenc <- seen{ctx.Value(ctxKey{}), lc.ClientContext}
			if _, ok := ctx.Deadline(); ok {
				return "sync", nil
			}
			<-ctx.Done()
			return "", errors.New("stopped before its end")
		})
		ctx, stop := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "engine's"))
		inv := engine.Invocation{FunctionName: "ev", Payload: []byte(`{}`), Type: engine.InvokeEvent,
			ClientContext: []byte(`{"custom":{"k":"v"}}`)}
		if out, err := r.Invoker()(ctx, inv); err != nil || out != nil {
			t.Fatalf("Event invocation: %s, %v; want no result and no error", out, err)
		}
		got := <-seenc
		if got.value != "engine's" || len(got.client.Custom) != 0 {
			t.Errorf("the Event handler saw the value %v and client context %+v; want the engine's value and no client context", got.value, got.client)
		}
		stop() // the task's execution stops: the Event invocation runs on
		synctest.Wait()
		if strings.Contains(logs.String(), "event invocation failed") {
			t.Fatalf("the Event invocation ended at its execution's stop: %s", logs.String())
		}

		// A synchronous one, with a deadline, sees the values as well.
		sctx, cancel := context.WithTimeout(context.WithValue(context.Background(), ctxKey{}, "engine's"), time.Minute)
		defer cancel()
		if out, err := r.Invoker()(sctx, engine.Invocation{FunctionName: "ev", Payload: []byte(`{}`)}); err != nil || string(out) != `"sync"` {
			t.Fatalf("synchronous invocation: %s, %v", out, err)
		}
		if got := <-seenc; got.value != "engine's" {
			t.Errorf("the synchronous handler saw the value %v, want the engine's", got.value)
		}

		cancelled, cancelNow := context.WithCancel(context.Background())
		cancelNow()
		if !r.Close(cancelled, 5*time.Second) {
			t.Fatal("Close: the Event invocation did not end")
		}
		if l := logs.String(); !strings.Contains(l, "event invocation failed") || !strings.Contains(l, "function=ev") ||
			!strings.Contains(l, "stopped before its end") {
			t.Errorf("the log after Close = %q, want the Event invocation's failure", l)
		}
	})
}
