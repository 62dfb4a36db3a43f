package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

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
			{"StartAt": "S", "States": {"S": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": true}}}]}}}`
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
		g, _ := json.Marshal(got[a+"_"+b])
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("$$.%s = %s, the object holds %s", p, g, w)
		}
	}
}
