package local

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/stepfunctions"
)

// mendClaims mends the status records that a crash (kill -9) left
// between a start's claim of an instance id and the execution's ARN
// being recorded: Pending records with no execution. (A later start of
// such an id would take the claim over too, but only StaleClaimAge after
// it was made; see monitor.API.Start.) The runtime does
// not serve yet, so no start of its own is in progress: a claim whose
// execution the engine holds gets the execution's ARN, and one whose
// start never reached the engine is released, so that the id can be
// started again instead of answering 409 for ever.
func (r *Runtime) mendClaims(ctx context.Context, now time.Time) (linked, released int, err error) {
	before := now
	if r.cfg.DynamoDBEndpoint != "" {
		// Another runtime may share the table, with starts of its own
		// in progress.
		before = now.Add(-monitor.StaleClaimAge)
	}
	var orphans []monitor.Record
	q := monitor.ListQuery{RuntimeStatus: []monitor.RuntimeStatus{monitor.RuntimePending}, CreatedTo: before, Top: monitor.MaxPageSize}
	for {
		page, err := r.statusStore.List(ctx, q)
		if err != nil {
			return 0, 0, fmt.Errorf("list pending monitors: %w", err)
		}
		for _, rec := range page.Records {
			if rec.ExecutionArn == "" {
				orphans = append(orphans, rec)
			}
		}
		if page.ContinuationToken == "" {
			break
		}
		q.ContinuationToken = page.ContinuationToken
	}
	for _, rec := range orphans {
		arn, ok := stepfunctions.ExecutionArn(r.smArn, rec.InstanceID)
		if !ok {
			return linked, released, fmt.Errorf("state machine ARN %q", r.smArn)
		}
		x, err := r.engine.DescribeExecution(ctx, arn)
		switch {
		case err == nil:
			if err := r.statusStore.SetExecution(ctx, rec.InstanceID, arn, x.StartDate); err != nil && !monitor.IsKind(err, monitor.KindGone) {
				return linked, released, fmt.Errorf("record the execution of %s: %w", rec.InstanceID, err)
			}
			linked++
		case errors.Is(err, engine.ErrExecutionDoesNotExist):
			switch err := r.statusStore.ReleaseClaim(ctx, rec.InstanceID, rec.CreatedTime); {
			case err == nil:
				released++
			case monitor.IsKind(err, monitor.KindNotFound), monitor.IsKind(err, monitor.KindConflict):
				// Released, or moved on, meanwhile.
			default:
				return linked, released, fmt.Errorf("release the claim of %s: %w", rec.InstanceID, err)
			}
		default:
			return linked, released, fmt.Errorf("describe the execution of %s: %w", rec.InstanceID, err)
		}
	}
	return linked, released, nil
}
