package asl_test

import (
	"fmt"

	"github.com/stepmon/stepmon/internal/asl"
)

// Parse a definition, then evaluate a path and an intrinsic function the
// way a Pass state's Parameters would.
func ExampleParse() {
	m, err := asl.Parse([]byte(`{
	  "StartAt": "Greet",
	  "States": {
	    "Greet": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hello {}', $.name)"}, "End": true}
	  }
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	greet := m.States["Greet"].(*asl.PassState)
	out, err := greet.Parameters.Eval(&asl.Scope{Input: map[string]any{"name": "world"}})
	fmt.Println(asl.Text(out), err)

	_, err = asl.Parse([]byte(`{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}`))
	fmt.Println(err)
	// Output:
	// {"greeting":"hello world"} <nil>
	// asl: invalid definition: 2 error(s)
	//   /States/A/Next: MISSING_TRANSITION_TARGET: Missing 'Next' target: B
	//   MISSING_END_STATE: Workflow has no terminal state
}
