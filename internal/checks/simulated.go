package checks

import (
	"context"
	"fmt"

	"github.com/stepmon/stepmon/internal/monitor"
)

// Simulated is the seed's demo job: Running until check number
// Target.CompleteAfterChecks, which reports Target.Outcome (Completed, or
// Failed) and ends the monitor. It talks to nothing.
type Simulated struct{}

var _ monitor.Checker = Simulated{}

// Check reports the simulated job's status at check req.Number.
func (Simulated) Check(_ context.Context, req monitor.CheckRequest) (monitor.Observation, error) {
	after := req.Target.CompleteAfterChecks
	if after <= 0 {
		after = monitor.DefaultCompleteAfterChecks
	}
	outcome := req.Target.Outcome
	switch outcome {
	case "":
		outcome = monitor.StatusCompleted
	case monitor.StatusCompleted, monitor.StatusFailed:
	default:
		return monitor.Observation{}, monitor.InputError("simulated: outcome %q must be Completed or Failed", outcome)
	}
	if req.Number < after {
		return monitor.Observation{Status: monitor.StatusRunning,
			Detail: fmt.Sprintf("simulated job running (check %d; finishes on check %d)", req.Number, after)}, nil
	}
	return monitor.Observation{Status: outcome, Done: true,
		Detail: fmt.Sprintf("simulated job %s on check %d", outcome, req.Number)}, nil
}
