package testtool

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"
)

// InfraValues returns the values of the constants and variables that
// infra/stack.go declares, by name, as parsed source: the CDK app is a Go
// module of its own that this module cannot import, so tests that keep
// a value here equal to the one deployed read it this way. The file is
// found from the test's directory up to this module's go.mod.
func InfraValues(t testing.TB) map[string]ast.Expr {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	path := filepath.Join(dir, "infra", "stack.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	values := map[string]ast.Expr{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					values[name.Name] = vs.Values[i]
				}
			}
		}
		return true
	})
	return values
}
