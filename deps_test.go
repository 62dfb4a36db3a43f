package stepmon

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDependencyRules keeps the import rules of docs/development.md
// ("Dependency direction"): the two cores stay free of the adapters and
// of AWS, HTTP and SQL; adapters do not import each other; only the
// wiring packages import internal/local's dependencies together; test-
// support packages are imported only by tests and each other. It reads
// the non-test imports with go list, as the guide does.
func TestDependencyRules(t *testing.T) {
	const mod = "github.com/stepmon/stepmon/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{} // package (without the module path) → its imports
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		imports[strings.TrimPrefix(f[0], mod)] = f[1:]
	}
	// ours returns pkg's imports of the module's packages, without the
	// module path.
	ours := func(pkg string) []string {
		var s []string
		for _, i := range imports[pkg] {
			if strings.HasPrefix(i, mod) {
				s = append(s, strings.TrimPrefix(i, mod))
			}
		}
		return s
	}
	leaves := []string{"internal/deadline", "internal/pagetoken", "internal/jsonpos", "internal/lambdaerr",
		"internal/gopool", "internal/egress", "internal/httpgzip", "internal/dirlock", "internal/suggest", "internal/syserr"}
	for _, rule := range []struct {
		pkg     string
		allowed []string // the module's packages it may import
		foreign []string // import path prefixes it must not import
	}{
		{"internal/monitor", []string{"internal/deadline", "internal/pagetoken", "internal/jsonpos", "internal/lambdaerr", "internal/suggest"},
			[]string{"github.com/aws/", "net/http", "database/sql"}},
		{"internal/asl", []string{"internal/jsonpos"}, []string{"github.com/aws/", "net/http", "database/sql"}},
		{"internal/engine", append([]string{"internal/asl"}, leaves...), []string{"net/http", "database/sql"}},
		{"internal/sfnapi", append([]string{"internal/asl", "internal/engine"}, leaves...), nil},
		{"internal/apigw", append([]string{"internal/monitor"}, leaves...), nil},
		{"internal/dynamostore", append([]string{"internal/monitor"}, leaves...), nil},
		{"internal/memstore", append([]string{"internal/monitor"}, leaves...), nil},
		{"internal/stepfunctions", append([]string{"internal/monitor"}, leaves...), nil},
		{"internal/checks", append([]string{"internal/monitor"}, leaves...), nil},
		{"internal/alerts", append([]string{"internal/monitor"}, leaves...), nil},
		{"internal/sqlitestore", append([]string{"internal/monitor", "internal/engine"}, leaves...), nil},
		{"internal/lambdainvoke", append([]string{"internal/asl", "internal/engine"}, leaves...), nil},
		{"internal/dashboard", leaves, nil},
		{"internal/awssecret", leaves, nil},
	} {
		if _, ok := imports[rule.pkg]; !ok {
			t.Errorf("%s: no such package in go list's answer", rule.pkg)
			continue
		}
		for _, i := range ours(rule.pkg) {
			if !slices.Contains(rule.allowed, i) {
				t.Errorf("%s imports %s; docs/development.md allows it %v", rule.pkg, i, rule.allowed)
			}
		}
		for _, i := range imports[rule.pkg] {
			for _, f := range rule.foreign {
				if strings.HasPrefix(i, f) {
					t.Errorf("%s imports %s, which a core does not", rule.pkg, i)
				}
			}
		}
	}
	// The leaf helpers import none of the module's packages.
	for _, leaf := range leaves {
		if s := ours(leaf); len(s) > 0 {
			t.Errorf("%s, a leaf helper, imports %v", leaf, s)
		}
	}
	// Test-support packages are imported only by tests and by each other.
	support := []string{"internal/testtool", "internal/motoserver", "internal/memstore", "internal/fakegithub",
		"internal/faketwilio", "internal/monitor/storetest", "internal/engine/enginetest",
		"lambdas/internal/lambdatest", "internal/asl/conformance", "internal/dashboard/browsertest"}
	for _, s := range support {
		if _, ok := imports[s]; !ok {
			t.Errorf("%s: no such package in go list's answer", s)
		}
	}
	for pkg := range imports {
		if slices.Contains(support, pkg) {
			continue
		}
		for _, i := range ours(pkg) {
			if slices.Contains(support, i) {
				t.Errorf("%s imports %s, a test-support package, outside its tests", pkg, i)
			}
		}
	}
}

// TestEnvironmentReadOnlyByMains keeps the rule of docs/development.md
// that only main packages read the environment and pass a getenv down:
// os.Getenv, os.LookupEnv and os.Environ appear, outside tests, only in
// the files listed here, infra's included. os.Environ is also allowed
// where a test-support package or infra starts a child process with the
// parent's environment.
func TestEnvironmentReadOnlyByMains(t *testing.T) {
	allowed := map[string][]string{
		"cmd/stepmon/main.go":               {"Getenv"},
		"lambdas/alert/main.go":             {"Getenv"},
		"lambdas/check/main.go":             {"Getenv"},
		"lambdas/start/main.go":             {"Getenv"},
		"lambdas/status/main.go":            {"Getenv"},
		"infra/main.go":                     {"Getenv"},
		"internal/testtool/testtool.go":     {"Getenv"},  // CI
		"internal/motoserver/motoserver.go": {"Environ"}, // moto_server's environment
		"infra/lambdabuild.go":              {"Environ"}, // go build's environment
	}
	found := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch name := d.Name(); {
			case path != "." && strings.HasPrefix(name, "."), name == "node_modules", name == "testdata", name == "cdk.out":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "os" {
				return true
			}
			switch name := sel.Sel.Name; name {
			case "Getenv", "LookupEnv", "Environ":
				found++
				if !slices.Contains(allowed[filepath.ToSlash(path)], name) {
					t.Errorf("%s uses os.%s: only main packages read the environment; pass a getenv func down (docs/development.md)", path, name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < len(allowed) {
		t.Errorf("found %d reads of the environment, fewer than the %d files allowed one: is the walk missing files?", found, len(allowed))
	}
}
