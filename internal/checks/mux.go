package checks

import (
	"context"
	"fmt"

	"github.com/stepmon/stepmon/internal/monitor"
)

// Mux is a monitor.Checker that hands each check to the checker registered
// for its Target.Type (monitor.TargetGitHub, TargetHTTP, TargetSimulated).
type Mux map[string]monitor.Checker

var _ monitor.Checker = Mux(nil)

// Check calls the checker for req.Target.Type. A type with no checker is a
// *monitor.PermanentError: this deployment cannot check such targets.
func (m Mux) Check(ctx context.Context, req monitor.CheckRequest) (monitor.Observation, error) {
	c, ok := m[req.Target.Type]
	if !ok || c == nil {
		return monitor.Observation{}, &monitor.PermanentError{Message: fmt.Sprintf("checks: no checker for target type %q in this deployment", req.Target.Type)}
	}
	return c.Check(ctx, req)
}
