package local

import (
	"context"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/monitor"
)

// retentionSweepEvery is how often the runtime deletes what its retention
// period has passed.
const retentionSweepEvery = time.Minute

// retentionBatch bounds the executions (or status records) one purge
// transaction deletes, and retentionPause separates two of them, so that
// a large backlog (a first start after a long time) never holds the write
// lock for long: a transaction of 100 executions takes 3–5 ms
// (BenchmarkPurgeClosedExecutions), so the engine's commits find the lock
// free about nine times in ten while a backlog drains at up to 2,000
// executions a second on an idle machine (300–600 a second were measured
// beside about 500 monitors on 1–2 s intervals, whose history is spread
// through the table).
const (
	retentionBatch = 100
	retentionPause = 50 * time.Millisecond
)

// expiringStore is a status store that deletes expired records itself
// (the SQLite store). A DynamoDB table does it with its TTL, whose time is
// set when a monitor finishes, as on AWS.
type expiringStore interface {
	PurgeExpired(ctx context.Context, now time.Time, batch int) (int, error)
	// RetimePurge sets the purge time of finished records after the
	// instance id after to their finish time plus retention, a batch at a
	// time, and returns how many it changed and the last of them.
	RetimePurge(ctx context.Context, retention time.Duration, after string, batch int) (int, string, error)
}

// apiExecutionRetention is how long the closed executions of the STANDARD
// state machines created through the Step Functions API are kept: Step
// Functions keeps a closed STANDARD execution, and its name, for 90 days.
const apiExecutionRetention = 90 * 24 * time.Hour

// retention returns how long finished monitors are kept.
func (r *Runtime) retention() time.Duration {
	if r.cfg.Retention > 0 {
		return r.cfg.Retention
	}
	return monitor.DefaultRetention
}

// sweepRetention deletes, at start and then every retentionSweepEvery,
// the status records of finished monitors whose purge time has passed,
// the executions that ended more than the retention period ago, with
// their history, and the outbox's alerts sent before that, until quit is
// closed. At start it first re-times the
// records' purge to the current period (retimePurge). Without it both databases would
// grow by every check ever made (about 3 KB of history each).
func (r *Runtime) sweepRetention(quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	select {
	case <-quit: // shut down before it started
		return
	default:
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-quit
		cancel()
	}()
	if err := r.retimePurge(ctx); err != nil && ctx.Err() == nil {
		r.rlog.Warn("retention: re-time finished monitors", "err", err)
	}
	t := time.NewTicker(retentionSweepEvery)
	defer t.Stop()
	for {
		began := time.Now()
		records, executions, err := r.purgeExpired(ctx, began)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			r.rlog.Warn("retention: purge", "err", err)
		case records+executions > 0:
			r.rlog.Info("retention: deleted finished monitors and closed executions", "statusRecords", records, "executions", executions,
				"retention", r.retention())
		}
		lines, err := r.trimOutbox(began)
		switch {
		case err != nil && ctx.Err() == nil:
			r.rlog.Warn("retention: trim the alert outbox", "err", err)
		case lines > 0:
			r.rlog.Info("retention: dropped old alerts from the outbox", "lines", lines, "retention", r.retention())
		}
		r.rlog.Debug("retention: swept", "statusRecords", records, "executions", executions, "outboxLines", lines,
			"before", began.Add(-r.retention()).UTC(), "took", time.Since(began).Round(time.Microsecond))
		select {
		case <-quit:
			return
		case <-t.C:
		}
	}
}

// trimOutbox drops the alerts sent more than the retention period before
// now from the outbox file (alerts.Outbox.Trim), and returns how many.
func (r *Runtime) trimOutbox(now time.Time) (int, error) {
	if r.outbox == nil {
		return 0, nil
	}
	return r.outbox.Trim(now.Add(-r.retention()))
}

// retimePurge applies the retention period to the status records of
// monitors that finished under another one (a restart with a changed
// --retention), so that records and executions go at the same time: the
// executions' purge reads the period when it runs, a record's purge time
// was set when it finished.
func (r *Runtime) retimePurge(ctx context.Context) error {
	s, ok := r.statusStore.(expiringStore)
	if !ok {
		return nil
	}
	after := ""
	n, err := drain(ctx, func() (int, error) {
		changed, last, err := s.RetimePurge(ctx, r.retention(), after, retentionBatch)
		after = last
		return changed, err
	})
	if n > 0 {
		r.rlog.Info("retention: re-timed the purge of finished monitors", "statusRecords", n, "retention", r.retention())
	}
	return err
}

// purgeExpired deletes what the retention periods have passed at now (the
// monitors', and each state machine's for its executions:
// executionRetention) and returns how many status records and executions
// it deleted. Each machine's purge reads only that machine's closed
// executions. The monitor state machine's keeps those that ended at or
// after the notifier's deliveredBefore, past their period if need be.
func (r *Runtime) purgeExpired(ctx context.Context, now time.Time) (records, executions int, err error) {
	if s, ok := r.statusStore.(expiringStore); ok {
		if records, err = drain(ctx, func() (int, error) { return s.PurgeExpired(ctx, now, retentionBatch) }); err != nil {
			return records, 0, err
		}
	}
	err = engine.EachStateMachine(ctx, r.engineStore, func(sm engine.StateMachine) error {
		before := now.Add(-r.executionRetention(sm))
		if sm.Arn == r.smArn && r.notifier != nil {
			// Not the executions whose ends the status function has not
			// taken yet: their monitors would stay Running.
			if delivered, bounded := r.notifier.deliveredBefore(); bounded && !delivered.After(before) {
				if delivered.IsZero() {
					return nil
				}
				before = delivered.Add(-time.Nanosecond)
			}
		}
		n, err := drain(ctx, func() (int, error) {
			return r.engineStore.PurgeClosedExecutions(ctx, sm.Arn, before, retentionBatch)
		})
		executions += n
		return err
	})
	return records, executions, err
}

// executionRetention returns how long the closed executions of sm are
// kept: the monitors' retention period for the monitor state machine and
// for EXPRESS machines (Step Functions keeps no EXPRESS execution, and
// EXPRESS is the type for many short executions), apiExecutionRetention
// for the STANDARD machines created through the Step Functions API.
func (r *Runtime) executionRetention(sm engine.StateMachine) time.Duration {
	if sm.Arn == r.smArn || sm.Type == "EXPRESS" {
		return r.retention()
	}
	return apiExecutionRetention
}

// drain calls purge until it deletes less than a full batch, pausing
// between calls, and returns the total.
func drain(ctx context.Context, purge func() (int, error)) (int, error) {
	total := 0
	for {
		n, err := purge()
		total += n
		if err != nil || n < retentionBatch {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(retentionPause):
		}
	}
}
