package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
)

// spinDefinition loops forever through a JSONata evaluation of tens of
// milliseconds (a second under the race detector on a loaded machine,
// far from the 10 s limit) in state Spin and a one-second Wait, at which
// the execution commits.
const spinDefinition = `{"QueryLanguage":"JSONata","StartAt":"Spin","States":{
	"Spin":{"Type":"Pass","Output":"{% $sum([1..100].($sum([1..10000]))) %}","Next":"Pause"},
	"Pause":{"Type":"Wait","Seconds":1,"Next":"Again"},
	"Again":{"Type":"Choice","Choices":[{"Condition":"{% $states.input = 0 %}","Next":"Done"}],"Default":"Spin"},
	"Done":{"Type":"Succeed"}}}`

// journalProcess is one process of a runtime with an evaluation journal:
// an engine on a store that outlives it, as a database file does.
type journalProcess struct {
	t       *testing.T
	path    string
	store   engine.Store
	journal *engine.EvalJournal
	eng     *engine.Engine
}

// startProcess opens the journal at path and starts an engine on store
// with it, recovering what the last process left.
func startProcess(t *testing.T, store engine.Store, path string) *journalProcess {
	t.Helper()
	j, err := engine.OpenEvalJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &journalProcess{t: t, path: path, store: store, journal: j,
		eng: engine.New(engine.Options{Store: store, EvalJournal: j})}
	if _, err := p.eng.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

// startSpinning starts a process with a fresh store and journal and an
// execution x of spinDefinition in it.
func startSpinning(t *testing.T) (*journalProcess, engine.Execution) {
	t.Helper()
	p := startProcess(t, engine.NewMemStore(), filepath.Join(t.TempDir(), "evaluations.journal"))
	sm, err := p.eng.CreateStateMachine(context.Background(), "spin", spinDefinition, "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := p.eng.StartExecution(context.Background(), sm.Arn, "x", "{}")
	if err != nil {
		t.Fatal(err)
	}
	return p, x
}

// die ends the process abruptly while arn evaluates in Spin: what it
// leaves is the journal as it was then, the store as last committed.
func (p *journalProcess) die(arn string) {
	p.t.Helper()
	p.end(arn, true)
}

// end ends the process abruptly at a moment when arn evaluates (busy) or
// evaluates nothing (!busy).
func (p *journalProcess) end(arn string, busy bool) {
	p.t.Helper()
	var left []byte
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		b, err := os.ReadFile(p.path)
		if err != nil {
			p.t.Fatal(err)
		}
		if state, ok := engine.ParseEvalJournal(b)[arn]; ok == busy && (!busy || state == "Spin") {
			left = b
			break
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s never was in the state wanted (evaluating in Spin: %v)", arn, busy)
		}
	}
	p.shutdown()
	if err := os.WriteFile(p.path, left, 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// shutdown ends the process cleanly.
func (p *journalProcess) shutdown() {
	p.t.Helper()
	p.eng.Close()
	if err := p.journal.Close(); err != nil {
		p.t.Fatal(err)
	}
}

// TestInterruptedEvaluation checks the rule of the evaluation journal:
// an execution in the middle of a JSONata evaluation at an abrupt end of
// the process resumes, as after any crash, unless it was so at
// InterruptedEvalLimit (3) consecutive ends: it fails then, with
// States.QueryEvaluationError and a cause naming the state. The count
// starts again once a process has run for EvalCountResetAfter, or after
// a clean shutdown; an end while the execution evaluates nothing keeps
// it.
func TestInterruptedEvaluation(t *testing.T) {
	ctx := context.Background()
	p, x := startSpinning(t)
	store, path := p.store, p.path
	// deaths kills the process n times in a row while x evaluates, and
	// checks the count the next process finds each time.
	deaths := func(from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			p.die(x.Arn)
			p = startProcess(t, store, path)
			if got := p.journal.Interrupted()[x.Arn]; got != i {
				t.Fatalf("after abrupt end %d: Interrupted()[x] = %d, want %d", i, got, i)
			}
			if got := status(t, p.eng, x.Arn); got != engine.StatusRunning {
				t.Fatalf("after abrupt end %d: status %s, want RUNNING", i, got)
			}
		}
	}

	deaths(1, 2)
	// The process runs for EvalCountResetAfter: the count starts again,
	// in memory and in the file.
	engine.ForgetEvalCounts(p.journal)
	if got := p.journal.Interrupted(); len(got) != 0 {
		t.Fatalf("after EvalCountResetAfter: Interrupted() = %v, want none", got)
	}
	deaths(1, 1)
	// An end while x evaluates nothing (a crash during start-up, another
	// execution's runaway evaluation) keeps its count as it is.
	p.end(x.Arn, false)
	p = startProcess(t, store, path)
	if got := p.journal.Interrupted()[x.Arn]; got != 1 {
		t.Fatalf("after an end while x evaluated nothing: Interrupted()[x] = %d, want 1", got)
	}
	deaths(2, 1)
	// A clean shutdown: the count starts again.
	p.shutdown()
	p = startProcess(t, store, path)
	if got := p.journal.Interrupted(); len(got) != 0 {
		t.Fatalf("after a clean shutdown: Interrupted() = %v, want none", got)
	}
	deaths(1, 2)

	// The third abrupt end in a row: x fails instead of resuming.
	p.die(x.Arn)
	p = startProcess(t, store, path)
	defer p.shutdown()
	got, err := p.eng.DescribeExecution(ctx, x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != engine.StatusFailed || got.Error != asl.ErrQueryEvaluationError {
		t.Fatalf("after 3 abrupt ends: status %s, error %q; want FAILED, %s", got.Status, got.Error, asl.ErrQueryEvaluationError)
	}
	if want := "The JSONata evaluation in state 'Spin' was running when the process ended abruptly 3 times in a row"; !strings.HasPrefix(got.Cause, want) {
		t.Errorf("cause = %q, want it to begin with %q", got.Cause, want)
	}
	h, err := p.eng.History(ctx, x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	if last := h[len(h)-1]; last.Type != "ExecutionFailed" || last.Details.Error != asl.ErrQueryEvaluationError || last.Details.Cause != got.Cause {
		t.Errorf("last event = %s %q %q, want ExecutionFailed with the execution's error and cause", last.Type, last.Details.Error, last.Details.Cause)
	}
	if n := p.journal.Interrupted(); len(n) != 0 {
		t.Errorf("Interrupted() = %v after the failure, want none", n)
	}
}

// status returns the stored status of an execution.
func status(t *testing.T, eng *engine.Engine, arn string) engine.ExecutionStatus {
	t.Helper()
	x, err := eng.DescribeExecution(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	return x.Status
}

// TestInterruptedEvaluationNoLongerRunning: an execution doomed by the
// journal that is no longer running when Recover comes to fail it (it
// was stopped meanwhile) keeps its status, Recover succeeds, and its
// count is settled: the next start finds nothing to fail.
func TestInterruptedEvaluationNoLongerRunning(t *testing.T) {
	ctx := context.Background()
	p, x := startSpinning(t)
	store, path := p.store, p.path
	for range engine.InterruptedEvalLimit - 1 {
		p.die(x.Arn)
		p = startProcess(t, store, path)
	}
	p.die(x.Arn)
	// Stopped while no runtime runs (another tool on the same store).
	other := engine.New(engine.Options{Store: store})
	if _, err := other.StopExecution(ctx, x.Arn, "Stopped", "meanwhile"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	p = startProcess(t, store, path) // Recover must succeed
	if got := status(t, p.eng, x.Arn); got != engine.StatusAborted {
		t.Fatalf("status %s, want ABORTED as it was stopped", got)
	}
	p.end(x.Arn, false)
	p = startProcess(t, store, path)
	defer p.shutdown()
	if got := status(t, p.eng, x.Arn); got != engine.StatusAborted {
		t.Fatalf("after another start: status %s, want ABORTED", got)
	}
	if got := p.journal.Interrupted(); len(got) != 0 {
		t.Errorf("Interrupted() = %v, want none", got)
	}
}
