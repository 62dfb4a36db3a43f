package local

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon"
	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/lambdainvoke"
	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// engineWorkflow starts the monitor's executions on an engine directly.
type engineWorkflow struct {
	eng   *engine.Engine
	smArn string
}

func (w engineWorkflow) Start(ctx context.Context, name string, input []byte) (string, error) {
	x, err := w.eng.StartExecution(ctx, w.smArn, name, string(input))
	if errors.Is(err, engine.ErrExecutionAlreadyExists) {
		return "", monitor.WrapError(monitor.KindConflict, "start", err, "execution exists")
	}
	return x.Arn, err
}

func (w engineWorkflow) Stop(ctx context.Context, arn, errorName, cause string) error {
	_, err := w.eng.StopExecution(ctx, arn, errorName, cause)
	return err
}

// monitorOnEngine runs statemachine.asl.json on an engine with a virtual
// clock, the real check, alert and status handlers and an in-memory
// status store. checker checks the simulated targets.
func monitorOnEngine(t *testing.T, checker monitor.Checker) (*engine.Engine, *monitor.API, string) {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := engine.NewVirtualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	store := memstore.New()
	funcs := lambdainvoke.NewRegistry()
	disp := engine.NewDispatcher()
	engine.RegisterLambda(disp, funcs.Invoker())
	eng := engine.New(engine.Options{Dispatcher: disp, Clock: clock, Logger: logger})
	t.Cleanup(func() { eng.Close() })
	def := stepmon.Substitute(stepmon.Definition, map[string]string{
		stepmon.CheckFunctionPlaceholder:  lambdainvoke.FunctionArn(CheckFunction),
		stepmon.AlertFunctionPlaceholder:  lambdainvoke.FunctionArn(AlertFunction),
		stepmon.StatusFunctionPlaceholder: lambdainvoke.FunctionArn(StatusFunction),
	})
	sm, err := eng.CreateStateMachine(ctx, StateMachineName, def, "")
	if err != nil {
		t.Fatal(err)
	}
	api := &monitor.API{Store: store, Workflow: engineWorkflow{eng, sm.Arn}, Clock: clock, Logger: logger}
	tasks := &monitor.Tasks{Store: store, Clock: clock, Logger: logger,
		Checkers: map[string]monitor.Checker{monitor.TargetSimulated: checker}}
	funcs.Register(StatusFunction, apigw.NewFunction(apigw.NewHandler(api, logger)).Invoke)
	funcs.Register(CheckFunction, tasks.Check)
	funcs.Register(AlertFunction, tasks.Alert)
	return eng, api, sm.Arn
}

// A monitor started under the instance id of an earlier monitor whose
// continuations' names are still taken (Step Functions keeps a name 90
// days after its execution ends, the first execution's name freeing up
// before the later ones') continues as new under names of its own.
func TestReusedInstanceIDContinuesAsNew(t *testing.T) {
	ctx := context.Background()
	last := monitor.ChecksPerGeneration + 2
	checker := monitor.CheckerFunc(func(_ context.Context, req monitor.CheckRequest) (monitor.Observation, error) {
		if req.Number == last {
			return monitor.Observation{Status: monitor.StatusCompleted, Done: true}, nil
		}
		return monitor.Observation{Status: monitor.StatusRunning}, nil
	})
	eng, api, smArn := monitorOnEngine(t, checker)

	// The earlier monitor "x" continued as "x-g1", which has ended; its
	// record is gone and the name "x" is free again.
	old, err := eng.StartExecution(ctx, smArn, "x-g1", `{"instanceId": "x", "generation": 1}`)
	if err != nil {
		t.Fatal(err)
	}
	// Its input names no monitor the store knows, so its first check
	// ends it as the check of a purged monitor does. (Stopped instead,
	// it could leave the status function's invocation running past its
	// end, as on AWS, and that write would then meet the new monitor's
	// record: an execution that started within the clock skew of a
	// record cannot be told from the record's own by its start time, and
	// this one's virtual start is the same instant.)
	if x, err := eng.Wait(ctx, old.Arn); err != nil || x.Status != engine.StatusSucceeded ||
		!strings.Contains(x.Output, "the monitor's record was purged") {
		t.Fatalf("the earlier execution: %+v, %v; want it SUCCEEDED, its record purged", x, err)
	}

	spec := monitor.Spec{JobID: "x", PollingIntervalSeconds: 60, TimeoutSeconds: monitor.MaxTimeoutSeconds,
		Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 1, Outcome: monitor.StatusCompleted}}
	rec, err := api.Start(ctx, monitor.StartRequest{InstanceID: "x", Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	first, err := eng.Wait(ctx, rec.ExecutionArn)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		ContinuedAs string `json:"continuedAs"`
	}
	if first.Status != engine.StatusSucceeded || json.Unmarshal([]byte(first.Output), &out) != nil || out.ContinuedAs == "" {
		t.Fatalf("execution x: %s %s %s %s, want it to continue as new", first.Status, first.Output, first.Error, first.Cause)
	}
	var in struct {
		StartedAt time.Time `json:"startedAt"`
	}
	if err := json.Unmarshal([]byte(first.Input), &in); err != nil {
		t.Fatal(err)
	}
	tag := monitor.RunTagOf(in.StartedAt)
	name := out.ContinuedAs[strings.LastIndexByte(out.ContinuedAs, ':')+1:]
	if want := monitor.ExecutionName("x", tag, 1); name != want || name != "x-g"+tag+"-g1" {
		t.Errorf("continued as %q, want %q", name, want)
	}
	second, err := eng.Wait(ctx, out.ContinuedAs)
	if err != nil {
		t.Fatal(err)
	}
	if second.Status != engine.StatusSucceeded {
		t.Errorf("execution %s: %s %s %s", name, second.Status, second.Error, second.Cause)
	}
	got, err := api.Get(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if got.RuntimeStatus != monitor.RuntimeCompleted || got.Output == nil || got.Output.ChecksPerformed != last ||
		got.CustomStatus == nil || got.CustomStatus.Generation != 1 || got.ExecutionArn != out.ContinuedAs {
		t.Errorf("record = %s, output %+v, custom status %+v, execution %s", got.RuntimeStatus, got.Output, got.CustomStatus, got.ExecutionArn)
	}
}
