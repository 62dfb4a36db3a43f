package main

import (
	"context"
	"testing"
)

// run builds the start function's handler, and a missing setting fails
// the function's start-up with a message naming the function and what is
// missing, before it serves an invocation.
func TestRunRefusesMissingSettings(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"TABLE_NAME": "monitors"}[k]
	}
	err := run(context.Background(), getenv)
	if want := "start: TABLE_NAME and STATE_MACHINE_ARN must be set"; err == nil || err.Error() != want {
		t.Fatalf("run = %v, want %q", err, want)
	}
}
