package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// assignChain returns a definition of n Pass states P1..Pn, each
// assigning $.s to its own variable v1..vn (or all to v when same), with
// state P<waitAfter> followed by a Wait of an hour (none when 0).
func assignChain(n int, same bool, waitAfter int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt": "P1", "States": {`)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("v%d", i)
		if same {
			name = "v"
		}
		next := fmt.Sprintf(`"Next": "P%d"`, i+1)
		if i == waitAfter {
			next = `"Next": "W"`
		}
		if i == n {
			next = `"End": true`
		}
		fmt.Fprintf(&b, `"P%d": {"Type": "Pass", "Assign": {"%s.$": "$.s"}, %s},`, i, name, next)
	}
	if waitAfter > 0 {
		fmt.Fprintf(&b, `"W": {"Type": "Wait", "Seconds": 3600, "Next": "P%d"},`, waitAfter+1)
	}
	return strings.TrimSuffix(b.String(), ",") + "}}"
}

// Workflow variables are held to AWS's quotas: 256 KiB for one variable,
// 256 KiB for the values of one Assign, 10 MiB for the variables of an
// execution. Past one the state fails with States.DataLimitExceeded,
// which States.ALL does not catch.
func TestVariableQuotas(t *testing.T) {
	s150k := strings.Repeat("a", 150000)
	s200k := `{"s": "` + strings.Repeat("b", 200000) + `"}` // each variable takes 200,002 bytes
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::echo", engine.Route{Handler: func(_ context.Context, r engine.TaskRequest) (any, error) {
		return r.Input, nil
	}})
	tests := []struct {
		name, def, input string
		failed           string // the state that fails, or "" when the execution succeeds
		cause            string
	}{
		{"one variable", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {
			"A": {"Type": "Pass", "Assign": {"a": "{% $states.input.s & $states.input.s %}"}, "Output": {}, "Next": "B"},
			"B": {"Type": "Pass", "Output": "{% $length($a) %}", "End": true}}}`, `{"s": "` + s150k + `"}`,
			"A", "variable 'a'"},
		{"one Assign", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"a.$": "$.s", "b.$": "$.s"}, "End": true}}}`,
			`{"s": "` + s150k + `"}`, "A", "the values of one Assign"},
		{"not caught by States.ALL", `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::echo",
			"Assign": {"a.$": "$.s", "b.$": "$.s"}, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": true},
			"C": {"Type": "Pass", "End": true}}}`, `{"s": "` + s150k + `"}`, "T", "the values of one Assign"},
		{"execution total", assignChain(60, false, 0), s200k, "P53", "beyond the maximum of 10485760 bytes"},
		{"assigned again", assignChain(60, true, 0), s200k, "", ""},
		{"inner scopes end", `{"StartAt": "Init", "States": {"Init": {"Type": "Pass", "Assign": {"n": 0}, "Next": "P"},
			"P": {"Type": "Parallel", "Branches": [
			{"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"a.$": "$.s"}, "End": true}}}],
			"ResultPath": null, "Next": "Count"},
			"Count": {"Type": "Pass", "Assign": {"n.$": "States.MathAdd($n, 1)"}, "Next": "Loop"},
			"Loop": {"Type": "Choice", "Choices": [{"Variable": "$n", "NumericLessThan": 60, "Next": "P"}], "Default": "End"},
			"End": {"Type": "Succeed"}}}`, s200k, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Dispatcher: d})
			sm := create(t, eng, tt.def)
			x := run(t, eng, sm.Arn, "x", tt.input)
			if tt.failed == "" {
				if x.Status != engine.StatusSucceeded {
					t.Fatalf("execution = %s %s %q, want SUCCEEDED", x.Status, x.Error, x.Cause)
				}
				return
			}
			if x.Status != engine.StatusFailed || x.Error != "States.DataLimitExceeded" ||
				!strings.Contains(x.Cause, "'"+tt.failed+"'") || !strings.Contains(x.Cause, tt.cause) {
				t.Errorf("execution = %s %s %q, want FAILED States.DataLimitExceeded naming %s and %q", x.Status, x.Error, x.Cause, tt.failed, tt.cause)
			}
		})
	}
}

// The size of an execution's variables counts those it assigned before a
// restart: the run state holds them, and the engine that resumes it
// measures them.
func TestVariableTotalSurvivesRestart(t *testing.T) {
	store := engine.NewMemStore()
	eng := engine.New(engine.Options{Store: store})
	sm := create(t, eng, assignChain(60, false, 30))
	x, err := eng.StartExecution(context.Background(), sm.Arn, "x", `{"s": "`+strings.Repeat("b", 200000)+`"}`)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		types := eventTypes(t, eng, x.Arn)
		if types[len(types)-1] == "WaitStateEntered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the execution did not reach its Wait: %v", types)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng2 := newEngine(t, engine.Options{Store: store, Clock: engine.NewVirtualClock(time.Now())})
	if n, err := eng2.Recover(context.Background()); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1 execution", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done, err := eng2.Wait(ctx, x.Arn)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != engine.StatusFailed || done.Error != "States.DataLimitExceeded" || !strings.Contains(done.Cause, "'P53'") {
		t.Errorf("execution = %s %s %q, want FAILED States.DataLimitExceeded at P53", done.Status, done.Error, done.Cause)
	}
}
