package stepmon

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/testtool"
)

// make lambdas builds what cdk deploy ships: the Makefile names the
// functions, flags and environment that infra/lambdabuild.go's
// BuildLambdas uses, so that both produce the same bytes.
func TestMakeLambdasMatchesInfraBuild(t *testing.T) {
	names, flags, env := infraLambdaBuild(t)
	mk := testtool.MakeVars(t, "Makefile")
	if got := strings.Fields(mk["LAMBDAS"]); !slices.Equal(got, names) {
		t.Errorf("Makefile LAMBDAS = %q, infra FunctionNames = %q", got, names)
	}
	if got := testtool.ShellWords(mk["LAMBDA_FLAGS"]); !slices.Equal(got, flags) {
		t.Errorf("Makefile LAMBDA_FLAGS = %q, infra build flags = %q", got, flags)
	}
	if got := testtool.ShellWords(mk["LAMBDA_ENV"]); !slices.Equal(got, env) {
		t.Errorf("Makefile LAMBDA_ENV = %q, infra build environment = %q", got, env)
	}
}

// infraLambdaBuild reads infra/lambdabuild.go: FunctionNames, the flags of
// the go build (the string literals of args but "build" and "-o") and the
// variables BuildLambdas adds to the environment.
func infraLambdaBuild(t *testing.T) (names, flags, env []string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "infra/lambdabuild.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	strs := func(exprs []ast.Expr) []string {
		var out []string
		for _, e := range exprs {
			if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, s)
			}
		}
		return out
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			if len(n.Names) == 1 && n.Names[0].Name == "FunctionNames" && len(n.Values) == 1 {
				if cl, ok := n.Values[0].(*ast.CompositeLit); ok {
					names = strs(cl.Elts)
				}
			}
		case *ast.AssignStmt:
			if len(n.Lhs) != 1 || len(n.Rhs) != 1 {
				return true
			}
			switch lhs := n.Lhs[0].(type) {
			case *ast.Ident:
				if cl, ok := n.Rhs[0].(*ast.CompositeLit); ok && lhs.Name == "args" {
					flags = slices.DeleteFunc(strs(cl.Elts), func(s string) bool { return s == "build" || s == "-o" })
				}
			case *ast.SelectorExpr:
				if call, ok := n.Rhs[0].(*ast.CallExpr); ok && lhs.Sel.Name == "Env" {
					env = strs(call.Args)
				}
			}
		}
		return true
	})
	if len(names) == 0 || len(flags) == 0 || len(env) == 0 {
		t.Fatalf("infra/lambdabuild.go: names %q, flags %q, environment %q: the test no longer reads it", names, flags, env)
	}
	return names, flags, env
}
