package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns the path of the executable name, looked up on PATH as
// exec.LookPath does. When it is not found, Require calls Missing with a
// message naming it, followed by hint, which should say how to install it.
//
// infra/smoke_test.go's requireTool, requirePath and missing copy Require
// and Missing (the infra module cannot import this one): a fix to one
// belongs in both.
func Require(t testing.TB, name, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not found on PATH: "+hint)
	}
	return path
}

// Missing reports that a prerequisite of the test is missing: it skips t
// with msg, or fails it under CI=true. msg should say what to install or
// set up. Missing does not return.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (required under CI=true)")
	}
	t.Skip(msg)
}
