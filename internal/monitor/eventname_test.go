package monitor_test

import (
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
)

// Event names are free-form, but one that differs only in case from a
// name the checks understand is refused, naming the right spelling: a
// "Complete" stored as it is would do nothing.
func TestRaiseEventNameInAnotherCase(t *testing.T) {
	hint := func(name string) []monitor.FieldError {
		return []monitor.FieldError{{Field: "eventName",
			Problem: "is not an event the checks understand (did you mean " + name + "? event names are case-sensitive)"}}
	}
	for _, tc := range []struct {
		name string
		want []monitor.FieldError // nil: accepted
	}{
		{"complete", nil},
		{"setInterval", nil},
		{"checkNow", nil},
		{"Complete", hint("complete")},
		{"COMPLETE", hint("complete")},
		{"setinterval", hint("setInterval")},
		{"SetInterval", hint("setInterval")},
		{"CheckNow", hint("checkNow")},
		{"completed", nil},
		{"Note", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var data []byte
			if tc.name == "setInterval" {
				data = []byte(`{"pollingIntervalSeconds": 30}`)
			}
			wantRaiseEvent(t, tc.name, data, tc.want)
		})
	}
}
