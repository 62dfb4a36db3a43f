package engine_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// StopExecution ends an expression's evaluation that would otherwise
// keep a CPU busy for a long time: the execution's goroutine returns
// soon after the stop. The evaluation journal shows when the evaluation
// is under way, so that the stop does not come before it.
func TestStopEndsEvaluation(t *testing.T) {
	const def = `{"QueryLanguage":"JSONata","StartAt":"P","States":{
		"P":{"Type":"Pass","Output":"{% $sum([1..100000].($sum([1..100000]))) %}","End":true}}}`
	path := filepath.Join(t.TempDir(), "evaluations.journal")
	j, err := engine.OpenEvalJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	eng := newEngine(t, engine.Options{EvalJournal: j})
	sm := create(t, eng, def)
	ctx := context.Background()
	x, err := eng.StartExecution(ctx, sm.Arn, "busy", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	for begin := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		busy, err := engine.ReadEvalJournal(path)
		if err != nil {
			t.Fatal(err)
		}
		if busy[x.Arn] == "P" {
			break
		}
		if time.Since(begin) > 5*time.Second {
			t.Fatal("the evaluation did not start within 5s")
		}
	}
	if _, err := eng.StopExecution(ctx, x.Arn, "Stopped", "test"); err != nil {
		t.Fatalf("StopExecution: %v", err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if quiet, _ := engine.Quiet(eng); quiet {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the execution still runs 3s after StopExecution")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, err := eng.Wait(ctx, x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != engine.StatusAborted {
		t.Errorf("status %s, want ABORTED", got.Status)
	}
}

// A path whose descendant segments would take too much work fails the
// state with States.Runtime naming the path, not as a path that selects
// nothing.
func TestPathOverBudget(t *testing.T) {
	const def = `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.a..*..*..*","End":true}}}`
	eng := newEngine(t, engine.Options{})
	sm := create(t, eng, def)
	input := `{"a":` + strings.Repeat("[", 300) + "0" + strings.Repeat("]", 300) + `}`
	x := run(t, eng, sm.Arn, "deep", input)
	if x.Status != engine.StatusFailed || x.Error != "States.Runtime" || !strings.Contains(x.Cause, "node visits") {
		t.Errorf("got %s %s %q, want FAILED States.Runtime over the path's budget", x.Status, x.Error, x.Cause)
	}
}
