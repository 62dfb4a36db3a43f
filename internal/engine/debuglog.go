package engine

import (
	"context"
	"log/slog"
	"time"
)

// The engine's Debug lines follow an execution through its suspension
// points, a few lines per monitor check, never per Pass or Choice state:
//
//	engine: execution runs      it starts, or resumes (a timer fired, a restart)
//	engine: task                a Task's attempt returned: how long it took, its error's name
//	engine: timer armed         it suspends until a Wait or a retry interval ends
//	engine: execution ended     its status and how long it ran
//
// None of them carries an input, an output or an error's cause, which may
// hold a monitor's secrets (header values, webhook URLs). They carry an
// error's name: the monitor machine's are names of its own, but a machine
// created through the Step Functions API can take one from its data (a
// Fail state's ErrorPath). Each call site checks debugging first: at Info
// they cost that check.

// debugging reports whether the engine's logger takes Debug lines.
func (e *Engine) debugging(ctx context.Context) bool {
	return e.log.Enabled(ctx, slog.LevelDebug)
}

// debugRuns logs that x runs from snap: started, or resumed after the
// timer of snap.WakeAt fired (late by how much) or after a restart.
func (x *execution) debugRuns(ctx context.Context, snap *snapshot) {
	attrs := []slog.Attr{slog.String("execution", x.rec.Arn), slog.String("state", snap.State)}
	if snap.Phase != "" && snap.Phase != phaseEnter {
		attrs = append(attrs, slog.String("phase", snap.Phase))
	}
	if !snap.WakeAt.IsZero() {
		attrs = append(attrs, slog.Time("timerDue", snap.WakeAt),
			slog.Duration("late", x.e.clock.Now().Sub(snap.WakeAt).Round(time.Microsecond)))
	}
	x.e.log.LogAttrs(ctx, slog.LevelDebug, "engine: execution runs", attrs...)
}

// debugTask logs an attempt of a Task state on resource that returned
// after took, with the name of its error, if any. For lambda:invoke, the
// function is the FunctionName of the task's input (only that of it).
func (sr *stateRun) debugTask(ctx context.Context, resource string, input any, took time.Duration, errName string) {
	attrs := []slog.Attr{slog.String("execution", sr.t.x.rec.Arn), slog.String("state", sr.b.Name),
		slog.String("resource", resource)}
	if m, ok := input.(map[string]any); ok {
		if fn, ok := m["FunctionName"].(string); ok {
			attrs = append(attrs, slog.String("function", fn))
		}
	}
	attrs = append(attrs, slog.Duration("took", took.Round(time.Microsecond)))
	if sr.retryCount > 0 {
		attrs = append(attrs, slog.Int("retry", sr.retryCount))
	}
	if errName != "" {
		attrs = append(attrs, slog.String("error", errName))
	}
	sr.t.x.e.log.LogAttrs(ctx, slog.LevelDebug, "engine: task", attrs...)
}

// debugTimer logs the durable timer a suspension of x in snap armed, if
// any.
func (x *execution) debugTimer(ctx context.Context, snap *snapshot) {
	if snap.WakeAt.IsZero() {
		return
	}
	x.e.log.LogAttrs(ctx, slog.LevelDebug, "engine: timer armed", slog.String("execution", x.rec.Arn),
		slog.String("state", snap.State), slog.String("phase", snap.Phase), slog.Time("due", snap.WakeAt),
		slog.Duration("in", snap.WakeAt.Sub(x.e.clock.Now()).Round(time.Millisecond)))
}

// debugEnded logs the end of x with status u.Status, the error's name if
// it failed, and how long it ran.
func (x *execution) debugEnded(ctx context.Context, u *ExecutionUpdate) {
	attrs := []slog.Attr{slog.String("execution", x.rec.Arn), slog.String("status", string(u.Status))}
	if u.Error != "" {
		attrs = append(attrs, slog.String("error", u.Error))
	}
	if !x.rec.StartDate.IsZero() {
		attrs = append(attrs, slog.Duration("ran", u.StopDate.Sub(x.rec.StartDate).Round(time.Millisecond)))
	}
	x.e.log.LogAttrs(ctx, slog.LevelDebug, "engine: execution ended", attrs...)
}
