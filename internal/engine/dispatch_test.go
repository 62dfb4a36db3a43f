package engine_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
)

// handlerNamed returns a task handler that answers name, so that a test
// can tell which route Lookup chose.
func handlerNamed(name string) engine.TaskHandler {
	return func(context.Context, engine.TaskRequest) (any, error) { return name, nil }
}

// Lookup prefers an exact route to any prefix, and the longest prefix to
// shorter ones; the resource type and name come from the route when it
// sets them, or else from the ARN: the service and action of a Step
// Functions integration, or the service and the whole ARN of another.
func TestDispatcherLookup(t *testing.T) {
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::lambda:invoke", engine.Route{Handler: handlerNamed("exact")})
	d.HandlePrefix("arn:aws:states:::lambda:", engine.Route{Handler: handlerNamed("lambda prefix")})
	d.HandlePrefix("arn:aws:states:::", engine.Route{Handler: handlerNamed("states prefix")})
	d.HandlePrefix("arn:aws:lambda:", engine.Route{Handler: handlerNamed("function"), Legacy: true})
	d.Handle("arn:aws:states:::custom", engine.Route{Handler: handlerNamed("custom"), ResourceType: "mine", ResourceName: "own"})
	d.HandlePrefix("arn:aws:states:us-east-1:123456789012:activity:", engine.Route{Handler: handlerNamed("activity")})
	d.HandlePrefix("x:", engine.Route{Handler: handlerNamed("short")})
	tests := []struct {
		resource, handler, typ, name string
	}{
		{"arn:aws:states:::lambda:invoke", "exact", "lambda", "invoke"},
		{"arn:aws:states:::lambda:invoke.waitForTaskToken", "lambda prefix", "lambda", "invoke.waitForTaskToken"},
		{"arn:aws:states:::sqs:sendMessage", "states prefix", "sqs", "sendMessage"},
		{"arn:aws:states:::states:startExecution.sync:2", "states prefix", "states", "startExecution.sync:2"},
		{"arn:aws:lambda:us-east-1:123456789012:function:f", "function", "lambda", "arn:aws:lambda:us-east-1:123456789012:function:f"},
		{"arn:aws:states:::custom", "custom", "mine", "own"},
		{"arn:aws:states:us-east-1:123456789012:activity:a", "activity", "states", "arn:aws:states:us-east-1:123456789012:activity:a"},
		{"x:y:z", "short", "z", "x:y:z"},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			r, err := d.Lookup(tt.resource)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if got, _ := r.Handler(context.Background(), engine.TaskRequest{}); got != tt.handler {
				t.Errorf("route handler = %v, want %q", got, tt.handler)
			}
			if r.ResourceType != tt.typ || r.ResourceName != tt.name {
				t.Errorf("resource type, name = %q, %q; want %q, %q", r.ResourceType, r.ResourceName, tt.typ, tt.name)
			}
		})
	}
	if _, err := d.Lookup("arn:aws:sns:us-east-1:123456789012:topic"); !errors.Is(err, engine.ErrNoHandler) {
		t.Errorf("Lookup of an unrouted resource error = %v, want ErrNoHandler", err)
	}
	var none *engine.Dispatcher
	if _, err := none.Lookup("arn:aws:states:::lambda:invoke"); !errors.Is(err, engine.ErrNoHandler) {
		t.Errorf("Lookup on a nil dispatcher error = %v, want ErrNoHandler", err)
	}
}

// Lookup picks the longest of many matching prefixes, however the
// dispatcher happens to iterate them.
func TestDispatcherLookupLongestPrefix(t *testing.T) {
	const resource = "arn:aws:states:::lambda:invoke"
	d := engine.NewDispatcher()
	for i := 1; i <= len(resource); i++ {
		d.HandlePrefix(resource[:i], engine.Route{Handler: handlerNamed(resource[:i])})
	}
	for range 10 {
		r, err := d.Lookup(resource + ".waitForTaskToken")
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		if got, _ := r.Handler(context.Background(), engine.TaskRequest{}); got != resource {
			t.Fatalf("route of prefix %v chosen, want the longest, %q", got, resource)
		}
	}
}
