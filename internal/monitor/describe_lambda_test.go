package monitor

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/lambdainvoke"
)

// TestDescribeFailureOfPanic: a function that panics locally is described
// in a monitor's output as on AWS, by the error's name: neither the panic
// value nor the goroutine dump (which holds the host's file paths).
func TestDescribeFailureOfPanic(t *testing.T) {
	r := lambdainvoke.NewRegistry()
	r.Register("check", func(ctx context.Context) error {
		m := nilMap()
		m["x"] = 1 // panics: assignment to entry in nil map
		return nil
	})
	_, err := engine.LambdaInvoke(r.Invoker())(context.Background(),
		engine.TaskRequest{Resource: engine.LambdaInvokeResource, Input: map[string]any{"FunctionName": "check"}})
	var te *engine.TaskError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *engine.TaskError", err)
	}
	got := describeFailure(te.Name, te.Cause)
	if want := "plainError: " + internalFailure; got != want {
		t.Errorf("describeFailure = %q, want %q", got, want)
	}
	if strings.Contains(got, "goroutine") || strings.Contains(got, "nil map") {
		t.Errorf("describeFailure = %q holds the panic value or the goroutine dump", got)
	}
}

// nilMap returns a map a handler cannot write to.
func nilMap() map[string]int { return nil }
