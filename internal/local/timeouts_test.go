package local

import (
	"go/ast"
	gotoken "go/token"
	"strconv"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/testtool"
)

// TestFunctionTimeoutsMatchInfra: each local function has the timeout the
// CDK app (infra/stack.go, a module of its own) gives the function on AWS.
func TestFunctionTimeoutsMatchInfra(t *testing.T) {
	values := testtool.InfraValues(t)
	want := map[string]string{
		StartFunction:  "StartTimeoutSeconds",
		CheckFunction:  "CheckTimeoutSeconds",
		AlertFunction:  "AlertTimeoutSeconds",
		StatusFunction: "StatusTimeoutSeconds",
	}
	for fn, constName := range want {
		lit, ok := values[constName].(*ast.BasicLit)
		if !ok || lit.Kind != gotoken.INT {
			t.Errorf("infra/stack.go declares no integer constant %s", constName)
			continue
		}
		seconds, err := strconv.Atoi(lit.Value)
		if err != nil {
			t.Errorf("infra %s = %s: %v", constName, lit.Value, err)
			continue
		}
		if got, want := functionTimeouts[fn], time.Duration(seconds)*time.Second; got != want {
			t.Errorf("function %s: timeout %v, want %v (infra %s)", fn, got, want, constName)
		}
	}
	if len(functionTimeouts) != len(want) {
		t.Errorf("functionTimeouts has %d functions, want %d", len(functionTimeouts), len(want))
	}
}
