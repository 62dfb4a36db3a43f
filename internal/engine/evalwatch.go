package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/stepmon/stepmon/internal/asl"
)

// JSONataStarted implements asl.EvalWatcher for the scopes of a JSONata
// state when the engine has an EvalJournal: it records that the
// execution evaluates in the state.
func (sr *stateRun) JSONataStarted() int {
	return sr.t.x.e.journal.begin(evalRecord{arn: sr.t.x.rec.Arn, state: sr.b.Name})
}

// JSONataEnded implements asl.EvalWatcher.
func (sr *stateRun) JSONataEnded(slot int) { sr.t.x.e.journal.end(slot) }

// failInterrupted fails the executions the EvalJournal found in the
// middle of a JSONata evaluation at InterruptedEvalLimit consecutive
// abrupt ends of the process, with States.QueryEvaluationError, instead
// of resuming them into the same end: an evaluation whose memory grows
// without bound ends the process each time (docs/asl.md). Executions no
// longer running are left as they are.
func (e *Engine) failInterrupted(ctx context.Context) error {
	if e.journal == nil {
		return nil
	}
	for arn, r := range e.journal.takeDoomed() {
		cause := interruptedCause(r.state, r.deaths)
		rec, err := e.endExecution(ctx, arn, StatusFailed, "ExecutionFailed", asl.ErrQueryEvaluationError, cause)
		switch {
		case errors.Is(err, ErrExecutionNotRunning) || errors.Is(err, ErrExecutionDoesNotExist):
			e.journal.settled(arn)
			continue
		case err != nil:
			// Its count stays in the journal: the next start fails it.
			return fmt.Errorf("fail %s, interrupted in a JSONata evaluation: %w", arn, err)
		}
		e.journal.settled(arn)
		// (The deletion of a machine being deleted whose last execution
		// this was is finished by Recover.)
		e.log.Warn("engine: an execution whose JSONata evaluation was running at every one of the last abrupt ends of the process fails instead of resuming",
			"execution", arn, "stateMachine", rec.StateMachineArn, "state", r.state, "abruptEnds", r.deaths)
	}
	return nil
}

// interruptedCause is the cause of the failure of an execution whose
// evaluation in state was running at deaths consecutive abrupt ends.
func interruptedCause(state string, deaths int) string {
	return fmt.Sprintf("The JSONata evaluation in state '%s' was running when the process ended abruptly %d times in a row; "+
		"the execution fails rather than resume into the same end. An evaluation that builds values without bound "+
		"(large ranges, arrays or strings) can exhaust the memory of the process: this runtime bounds a JSONata "+
		"evaluation in time (10 seconds) but not in memory.", state, deaths)
}
