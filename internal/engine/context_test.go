package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// The paths into $$ that the engine answers without building the context
// object select what they select in the object.
func TestContextPathsMatchTheObject(t *testing.T) {
	// Only paths the engine answers: a path that builds the object makes
	// the state's later paths read the object too.
	paths := []string{"Execution.Id", "Execution.Name", "Execution.RoleArn", "Execution.StartTime",
		"StateMachine.Id", "StateMachine.Name", "State.Name"}
	params := map[string]string{}
	for _, p := range paths {
		params[strings.ReplaceAll(p, ".", "_")+".$"] = "$$." + p
	}
	fast, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	def := `{"StartAt": "Both", "States": {
		"Both": {"Type": "Parallel", "ResultPath": "$.both", "End": true, "Branches": [
			{"StartAt": "S", "States": {"S": {"Type": "Pass", "Parameters": ` + string(fast) + `, "End": true}}},
			{"StartAt": "S2", "States": {"S2": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": true}}}]}}}`
	eng := newEngine(t, engine.Options{})
	sm := create(t, eng, def)
	x := run(t, eng, sm.Arn, "ctx-1", `{"k": "v"}`)
	if x.Status != engine.StatusSucceeded {
		t.Fatalf("status %s: %s %s", x.Status, x.Error, x.Cause)
	}
	var out struct {
		Both []map[string]any `json:"both"`
	}
	if err := json.Unmarshal([]byte(x.Output), &out); err != nil || len(out.Both) != 2 {
		t.Fatalf("output %s: %v", x.Output, err)
	}
	got, whole := out.Both[0], out.Both[1]["ctx"].(map[string]any)
	for _, p := range paths {
		a, b, _ := strings.Cut(p, ".")
		want, ok := whole[a].(map[string]any)[b]
		if !ok {
			t.Fatalf("the context object has no %s: %v", p, whole)
		}
		if p == "State.Name" {
			want = "S" // state names are unique: the other branch's is S2
		}
		g, _ := json.Marshal(got[a+"_"+b])
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("$$.%s = %s, the object holds %s", p, g, w)
		}
	}
}

// JSONata's $now() and $millis() read the engine's clock, the clock of
// $states.context.State.EnteredTime: on a virtual clock they tell the
// virtual time, to the millisecond.
func TestJSONataTimeFunctionsReadTheEngineClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC)
	later := start.Add(24 * time.Hour)
	tests := []struct {
		name, def, want string
	}{
		{"top level", `{"QueryLanguage": "JSONata", "StartAt": "P", "States": {
			"P": {"Type": "Pass", "Output": "{% [$now(), $millis(), $states.context.State.EnteredTime] %}", "End": true}}}`,
			`["2026-01-02T03:04:05.678Z",1767323045678,"2026-01-02T03:04:05.678Z"]`},
		{"after a wait", `{"QueryLanguage": "JSONata", "StartAt": "W", "States": {
			"W": {"Type": "Wait", "Seconds": 86400, "Next": "P"},
			"P": {"Type": "Pass", "Output": "{% [$now(), $millis(), $states.context.State.EnteredTime] %}", "End": true}}}`,
			`["2026-01-03T03:04:05.678Z",1767409445678,"2026-01-03T03:04:05.678Z"]`},
		{"in a Map iteration after a wait", `{"QueryLanguage": "JSONata", "StartAt": "M", "States": {
			"M": {"Type": "Map", "Items": [1], "ItemProcessor": {"StartAt": "W", "States": {
				"W": {"Type": "Wait", "Seconds": 86400, "Next": "P"},
				"P": {"Type": "Pass", "Output": "{% $now() %}", "End": true}}}, "End": true}}}`,
			`["` + later.Format("2006-01-02T15:04:05.000Z") + `"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(start)})
			sm := create(t, eng, tt.def)
			x := run(t, eng, sm.Arn, "now", `{}`)
			if x.Status != engine.StatusSucceeded || x.Output != tt.want {
				t.Errorf("execution = %s %s (%s: %s), want SUCCEEDED %s", x.Status, x.Output, x.Error, x.Cause, tt.want)
			}
		})
	}
}

// A Task state's $$.State.RetryCount and $$.State.EnteredTime, answered
// without building the context object, equal what the object holds, on
// the first attempt and on a retry.
func TestTaskContextPathsMatchTheObject(t *testing.T) {
	var mu sync.Mutex
	inputs := map[string][]any{}
	d := engine.NewDispatcher()
	d.Handle("arn:aws:states:::flaky", engine.Route{Handler: func(_ context.Context, req engine.TaskRequest) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		inputs[req.StateName] = append(inputs[req.StateName], req.Input)
		if len(inputs[req.StateName]) == 1 {
			return nil, &engine.TaskError{Name: "Transient", Cause: "try again"}
		}
		return "ok", nil
	}})
	task := func(name, params, next string) string {
		return `"` + name + `": {"Type": "Task", "Resource": "arn:aws:states:::flaky", "Parameters": ` + params +
			`, "Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 1}], "ResultPath": null, ` + next + `}`
	}
	def := `{"StartAt": "Fast", "States": {` +
		task("Fast", `{"retry.$": "$$.State.RetryCount", "entered.$": "$$.State.EnteredTime"}`, `"Next": "Whole"`) + `, ` +
		task("Whole", `{"ctx.$": "$$"}`, `"End": true`) + `}}`
	clock := engine.NewVirtualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	eng := newEngine(t, engine.Options{Dispatcher: d, Clock: clock})
	sm := create(t, eng, def)
	if x := run(t, eng, sm.Arn, "ctx-task", `{}`); x.Status != engine.StatusSucceeded {
		t.Fatalf("status %s: %s %s", x.Status, x.Error, x.Cause)
	}
	fast, whole := inputs["Fast"], inputs["Whole"]
	if len(fast) != 2 || len(whole) != 2 {
		t.Fatalf("attempts: Fast %d, Whole %d; want 2 each", len(fast), len(whole))
	}
	for i := range 2 {
		f := fast[i].(map[string]any)
		w := whole[i].(map[string]any)["ctx"].(map[string]any)["State"].(map[string]any)
		if f["retry"] != w["RetryCount"] || f["retry"] != float64(i) {
			t.Errorf("attempt %d: $$.State.RetryCount = %v, the object holds %v, want %d", i, f["retry"], w["RetryCount"], i)
		}
		// Fast is entered at the start, Whole after Fast's one-second retry:
		// the context object formats its time as the fast path does.
		if f["entered"] != "2025-01-01T00:00:00.000Z" || w["EnteredTime"] != "2025-01-01T00:00:01.000Z" {
			t.Errorf("attempt %d: EnteredTime fast %v, object %v; want 2025-01-01T00:00:00.000Z and 2025-01-01T00:00:01.000Z",
				i, f["entered"], w["EnteredTime"])
		}
	}
}
