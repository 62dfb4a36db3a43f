package monitor_test

import (
	"context"
	"errors"
	"slices"
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
			e := newEnv(t)
			e.running(t, "r1", 1)
			var data []byte
			if tc.name == "setInterval" {
				data = []byte(`{"pollingIntervalSeconds": 30}`)
			}
			err := e.api.RaiseEvent(context.Background(), "r1", tc.name, data)
			n := len(e.get(t, "r1").Events)
			if tc.want == nil {
				if err != nil || n != 1 {
					t.Fatalf("RaiseEvent = %v, %d events; want accepted", err, n)
				}
				return
			}
			var me *monitor.Error
			if !errors.As(err, &me) || me.Kind != monitor.KindInvalid || !slices.Equal(me.Fields, tc.want) {
				t.Fatalf("RaiseEvent = %v; want invalid with fields %q", err, tc.want)
			}
			if n != 0 {
				t.Errorf("%d events stored, want none", n)
			}
		})
	}
}
