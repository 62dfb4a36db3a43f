package testtool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Root returns the directory of this module's go.mod, found from the
// test's directory up.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// MakeVars returns the simple variable assignments (NAME := value) of the
// Makefile at path, for tests that build or check what make builds with
// the same values (LAMBDA_FLAGS, LAMBDA_ENV).
func MakeVars(t testing.TB, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":=")
		name = strings.TrimSpace(name)
		if ok && name != "" && !strings.ContainsAny(name, " \t#") && !strings.HasPrefix(line, "\t") {
			vars[name] = strings.TrimSpace(value)
		}
	}
	return vars
}

// ShellWords splits s into words as the shell does for the Makefile's
// values: on blanks, outside single quotes, which it removes.
func ShellWords(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, inWord := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
