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
	finder := engineFinder{r}
	for _, rec := range orphans {
		mended, err := monitor.MendClaim(ctx, r.statusStore, finder, rec)
		if err != nil {
			return linked, released, err
		}
		switch mended {
		case monitor.ClaimLinked:
			linked++
		case monitor.ClaimReleased:
			released++
		}
	}
	return linked, released, nil
}

// engineFinder finds executions in the runtime's engine itself: start-up
// mends claims before the Step Functions API serves.
type engineFinder struct{ r *Runtime }

// FindExecution implements monitor.ExecutionFinder.
func (f engineFinder) FindExecution(ctx context.Context, name string) (monitor.FoundExecution, bool, error) {
	arn, ok := stepfunctions.ExecutionArn(f.r.smArn, name)
	if !ok {
		return monitor.FoundExecution{}, false, fmt.Errorf("state machine ARN %q", f.r.smArn)
	}
	x, err := f.r.engine.DescribeExecution(ctx, arn)
	switch {
	case errors.Is(err, engine.ErrExecutionDoesNotExist):
		return monitor.FoundExecution{}, false, nil
	case err != nil:
		return monitor.FoundExecution{}, false, fmt.Errorf("describe the execution of %s: %w", name, err)
	}
	return monitor.FoundExecution{Arn: arn, StartedAt: x.StartDate, MonitorStartedAt: monitor.MonitorStartOf(x.Input)}, true, nil
}
