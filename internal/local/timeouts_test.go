package local

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"strconv"
	"testing"
	"time"
)

// TestFunctionTimeoutsMatchInfra: each local function has the timeout the
// CDK app (infra/stack.go, a module of its own) gives the function on AWS.
func TestFunctionTimeoutsMatchInfra(t *testing.T) {
	const path = "../../infra/stack.go"
	f, err := parser.ParseFile(gotoken.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	consts := map[string]int{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if i >= len(vs.Values) {
				break
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == gotoken.INT {
				if v, err := strconv.Atoi(lit.Value); err == nil {
					consts[name.Name] = v
				}
			}
		}
		return true
	})
	want := map[string]string{
		StartFunction:  "StartTimeoutSeconds",
		CheckFunction:  "CheckTimeoutSeconds",
		AlertFunction:  "AlertTimeoutSeconds",
		StatusFunction: "StatusTimeoutSeconds",
	}
	for fn, constName := range want {
		seconds, ok := consts[constName]
		if !ok {
			t.Errorf("%s declares no integer constant %s", path, constName)
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
