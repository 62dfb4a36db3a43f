package stepmon_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// TestGoldenEngine runs each scenario on this module's engine, on a
// virtual clock, and compares the histories with the goldens; with
// -update it writes them.
func TestGoldenEngine(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			got := runOnEngine(t, sc)
			if *update {
				if err := os.MkdirAll(filepath.Dir(goldenPath(sc)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(goldenPath(sc), encodeGolden(t, got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			compareGolden(t, "engine", sc, got, readGolden(t, sc))
		})
	}
}

// scriptedFunctions answers invocations with the replies of a scenario,
// in order.
type scriptedFunctions struct {
	t       testing.TB
	mu      sync.Mutex
	replies []reply
}

func (s *scriptedFunctions) invoke(_ context.Context, inv engine.Invocation) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replies) == 0 {
		s.t.Errorf("unscripted invocation of %s with %s", inv.FunctionName, inv.Payload)
		return nil, &engine.FunctionError{Type: "Unscripted", Message: "no reply left"}
	}
	r := s.replies[0]
	s.replies = s.replies[1:]
	if want := functionARN + r.Function; inv.FunctionName != want {
		s.t.Errorf("invoked %s, the script expects %s", inv.FunctionName, want)
	}
	if r.ErrorType != "" {
		return nil, &engine.FunctionError{Type: r.ErrorType, Message: r.ErrorMessage}
	}
	return []byte(r.Payload), nil
}

func runOnEngine(t *testing.T, sc scenario) goldenRun {
	t.Helper()
	script := &scriptedFunctions{t: t, replies: sc.replies}
	disp := engine.NewDispatcher()
	engine.RegisterLambda(disp, script.invoke)
	eng := engine.New(engine.Options{
		Dispatcher: disp,
		Clock:      engine.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		RoleArn:    goldenRole,
	})
	t.Cleanup(func() { _ = eng.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	sm, err := eng.CreateStateMachine(ctx, goldenMachine, goldenDefinition(), goldenRole)
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	x, err := eng.StartExecution(ctx, sm.Arn, executionName(sc), sc.input)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	var run goldenRun
	for arn := x.Arn; arn != ""; {
		done, err := eng.Wait(ctx, arn)
		if err != nil {
			t.Fatalf("Wait %s: %v", arn, err)
		}
		history, err := eng.History(ctx, arn)
		if err != nil {
			t.Fatalf("History %s: %v", arn, err)
		}
		gx := goldenExecution{Name: done.Name, Status: string(done.Status), Error: done.Error}
		if done.HasOutput {
			gx.Output = jsonValue(t, done.Output)
		}
		if done.Status != engine.StatusSucceeded && done.Cause != "" {
			gx.Cause = causeValue(done.Cause)
		}
		for _, ev := range history {
			gx.History = append(gx.History, goldenEventOf(t, engineEvent(t, ev)))
		}
		run.Executions = append(run.Executions, gx)
		arn = ""
		if done.HasOutput {
			arn = continuedAs(done.Output)
		}
	}
	if len(script.replies) > 0 {
		t.Errorf("%d scripted replies left over: %+v\n%s", len(script.replies), script.replies, encodeGolden(t, run))
	}
	return run
}

// engineEvent reads an engine event in the shape GetExecutionHistory
// answers, which is what the engine reports to clients.
func engineEvent(t testing.TB, ev engine.Event) rawEvent {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	r := rawEvent{Type: ev.Type}
	for k, v := range raw {
		if !strings.HasSuffix(k, "EventDetails") {
			continue
		}
		var d struct {
			Name   string  `json:"name"`
			Input  *string `json:"input"`
			Output *string `json:"output"`
			Error  string  `json:"error"`
			Cause  *string `json:"cause"`
		}
		if err := json.Unmarshal(v, &d); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		r.Name, r.Input, r.Output, r.Error, r.Cause = d.Name, d.Input, d.Output, d.Error, d.Cause
	}
	return r
}
