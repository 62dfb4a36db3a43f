package main

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// cfnLintIgnored are the cfn-lint rules the synthesized template may break,
// each with why.
var cfnLintIgnored = map[string]string{
	// CDK makes each function and the state machine depend on its role and
	// the role's default policy, so the policy exists before the first
	// invocation; the role half of that DependsOn is redundant with the
	// GetAtt and harmless.
	"W3005": "redundant DependsOn next to a GetAtt, written by CDK",
}

// TestCfnLint runs cfn-lint on the template of every synthesized variant.
func TestCfnLint(t *testing.T) {
	cfnLint := requireTool(t, "cfn-lint", "", "pip install cfn-lint")
	var args []string
	for _, v := range []struct {
		name string
		ctx  map[string]any
	}{
		{"default", defaultContext},
		{"options", optionsContext},
		{"private", privateContext},
	} {
		r := synth(t, v.name, v.ctx)
		args = append(args, filepath.Join(r.outdir, *r.stack.StackName()+".template.json"))
	}
	args = append(args, "--format", "parseable")
	for rule := range cfnLintIgnored {
		args = append(args, "--ignore-checks="+rule)
	}
	start := time.Now()
	out, err := exec.Command(cfnLint, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint: %v\n%s", err, out)
	}
	t.Logf("cfn-lint: clean in %v", time.Since(start).Round(100*time.Millisecond))
}
