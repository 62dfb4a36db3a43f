package engine_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/engine"
)

// Causes and error names are recorded at most as long as AWS's API allows
// them (32,768 and 256 characters): a task that fails with a cause of
// megabytes records, and ends its execution with, the first 32,768
// characters of it, cut at a character boundary.
func TestCauseAndErrorLimits(t *testing.T) {
	cause := "é" + strings.Repeat("x", 3<<20)
	name := strings.Repeat("E", 1000)
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::huge", engine.Route{Handler: func(context.Context, engine.TaskRequest) (any, error) {
		return nil, &engine.TaskError{Name: name, Cause: cause}
	}})
	eng := newEngine(t, engine.Options{Dispatcher: d})
	sm := create(t, eng, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::huge", "End": true}}}`)
	x := run(t, eng, sm.Arn, "x", `{}`)
	wantCause := "é" + strings.Repeat("x", 32767)
	wantName := strings.Repeat("E", 256)
	if x.Status != engine.StatusFailed || x.Error != wantName || x.Cause != wantCause {
		t.Errorf("execution %s, error of %d characters, cause of %d; want FAILED, 256 and 32768",
			x.Status, utf8.RuneCountInString(x.Error), utf8.RuneCountInString(x.Cause))
	}
	seen := 0
	for _, ev := range history(t, eng, x.Arn) {
		if ev.Type != "TaskFailed" && ev.Type != "ExecutionFailed" {
			continue
		}
		seen++
		if ev.Details.Error != wantName || ev.Details.Cause != wantCause {
			t.Errorf("%s: error of %d characters, cause of %d (%d bytes); want 256 and 32768", ev.Type,
				utf8.RuneCountInString(ev.Details.Error), utf8.RuneCountInString(ev.Details.Cause), len(ev.Details.Cause))
		}
	}
	if seen != 2 {
		t.Errorf("history has %d TaskFailed and ExecutionFailed events, want one of each", seen)
	}
}
