package monitor_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
)

// ctxMarker marks the context a test runs a task with.
type ctxMarker struct{}

// ctxRecorder is a slog handler that notes, for each record, its message
// and whether it was logged with the marked context.
type ctxRecorder struct {
	mu      *sync.Mutex
	records *[]string // messages logged without the marked context
	total   *int
}

func (h ctxRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h ctxRecorder) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.total++
	if ctx.Value(ctxMarker{}) == nil {
		*h.records = append(*h.records, r.Message)
	}
	return nil
}
func (h ctxRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h ctxRecorder) WithGroup(string) slog.Handler      { return h }

// TestTaskLogsCarryTheContext: the lines of a check and of an alert's
// failed sends, its retry by a wait, its refusal and its unknown outcome
// are logged with the task's context, which on Lambda carries the
// invocation's request id into the line (lambdaenv.NewLogger). (The
// rarer lines, of store failures while recording a send, log with the
// context too; this test does not reach them.)
func TestTaskLogsCarryTheContext(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failures []error
	}{
		{"retried by a wait", []error{
			&monitor.TransientError{Message: "HTTP 503", Input: true},
			&monitor.TransientError{Message: "HTTP 503", Input: true},
			&monitor.TransientError{Message: "HTTP 503", Input: true}}},
		{"refused", []error{&monitor.PermanentError{Message: "HTTP 404", Input: true}}},
		{"outcome unknown", []error{&monitor.OutcomeUnknownError{Message: "no answer within 10s"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, openIssues(5))
			var mu sync.Mutex
			var without []string
			total := 0
			f.tasks.Logger = slog.New(ctxRecorder{mu: &mu, records: &without, total: &total})
			f.tasks.SendAttempts = 3
			f.sender.failures = tt.failures
			ctx := context.WithValue(context.Background(), ctxMarker{}, true)
			s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "m", githubSpec())})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.tasks.Alert(ctx, monitor.TaskInput{State: s, RetryByWait: true}); err != nil {
				t.Fatal(err)
			}
			if total == 0 || len(without) > 0 {
				t.Errorf("%d lines logged, these without the task's context: %q", total, without)
			}
		})
	}
}
