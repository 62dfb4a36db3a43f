package testtool

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
)

// InfraValues returns the values of the constants and variables that
// infra/stack.go declares, by name, as parsed source: the CDK app is a Go
// module of its own that this module cannot import, so tests that keep
// a value here equal to the one deployed read it this way. The file is
// found from the test's directory up to this module's go.mod.
func InfraValues(t testing.TB) map[string]ast.Expr {
	t.Helper()
	return InfraValuesIn(t, "stack.go")
}

// InfraValuesIn is InfraValues for the file name of infra/ ("api.go").
func InfraValuesIn(t testing.TB, name string) map[string]ast.Expr {
	t.Helper()
	path := filepath.Join(Root(t), "infra", name)
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

// InfraActions returns the variable name of infra/stack.go, a
// map[string][]string literal of string constants such as TableActions,
// as a map. It fails t when name is not such a literal.
func InfraActions(t testing.TB, name string) map[string][]string {
	t.Helper()
	lit, ok := InfraValues(t)[name].(*ast.CompositeLit)
	if !ok {
		t.Fatalf("infra/stack.go: %s is not a composite literal", name)
	}
	str := func(e ast.Expr) string {
		b, ok := e.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			t.Fatalf("infra/stack.go: %s: %T is not a string literal", name, e)
		}
		s, err := strconv.Unquote(b.Value)
		if err != nil {
			t.Fatalf("infra/stack.go: %s: %v", name, err)
		}
		return s
	}
	out := map[string][]string{}
	for _, elt := range lit.Elts {
		kv, ok := elt.(*ast.KeyValueExpr)
		if !ok {
			t.Fatalf("infra/stack.go: %s: %T is not a key: value", name, elt)
		}
		list, ok := kv.Value.(*ast.CompositeLit)
		if !ok {
			t.Fatalf("infra/stack.go: %s: the value of %s is not a list literal", name, str(kv.Key))
		}
		actions := []string{}
		for _, a := range list.Elts {
			actions = append(actions, str(a))
		}
		out[str(kv.Key)] = actions
	}
	return out
}
