package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestRunbookCoversEveryAlarm: every alarm the stack defines, in the
// default and the options configuration, has its row in
// docs/operations.md, the on-call runbook (the per-function alarms as
// FunctionErrorsAlarm<Function> and FunctionThrottlesAlarm<Function>).
func TestRunbookCoversEveryAlarm(t *testing.T) {
	raw, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	runbook := string(raw)
	// A logical id is the construct's id and 8 hex digits of its path's hash.
	logical := regexp.MustCompile(`^([A-Za-z]+?)[0-9A-F]{8}$`)
	perFunction := regexp.MustCompile(`^(Function(?:Errors|Throttles)Alarm)[A-Z][a-z]+$`)
	for variant, ctx := range map[string]map[string]any{"default": defaultContext, "options": optionsContext} {
		r := synth(t, variant, ctx)
		alarms := r.resources("AWS::CloudWatch::Alarm")
		if len(alarms) == 0 {
			t.Fatalf("%s: no alarms in the template", variant)
		}
		for id := range alarms {
			m := logical.FindStringSubmatch(id)
			if m == nil {
				t.Errorf("%s: alarm %s: not a construct id and a hash", variant, id)
				continue
			}
			name := m[1]
			if f := perFunction.FindStringSubmatch(name); f != nil {
				name = f[1] + "<Function>"
			}
			if !strings.Contains(runbook, "| `"+name+"`") && !strings.Contains(runbook, ", `"+name+"` |") {
				t.Errorf("%s: alarm %s (%s) has no row in docs/operations.md", variant, name, id)
			}
		}
	}
}
