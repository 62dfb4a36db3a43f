package testtool_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/testtool"
)

// recorder is a testing.TB that records Skip and Fatal and, like the real
// ones, stops the goroutine that calls them. Any other method panics (the
// embedded TB is nil): Require must not call it.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

// require runs testtool.Require on a recorder in its own goroutine, as the
// testing package runs a test, and returns what it returned.
func require(name, hint string) (r *recorder, path string) {
	r = &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		path = testtool.Require(r, name, hint)
	}()
	<-done
	return r, path
}

// noSuchTool cannot be on any PATH.
const noSuchTool = "stepmon-testtool-no-such-tool"

func TestRequire(t *testing.T) {
	t.Run("found", func(t *testing.T) {
		dir := t.TempDir()
		want := filepath.Join(dir, "stepmon-fake-tool")
		if err := os.WriteFile(want, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", dir)
		t.Setenv("CI", "true")
		r, got := require("stepmon-fake-tool", "never shown")
		if r.skipped || r.failed {
			t.Fatalf("skipped=%v failed=%v (%q), want neither", r.skipped, r.failed, r.msg)
		}
		if got != want {
			t.Errorf("Require = %q, want %q", got, want)
		}
	})
	for _, tc := range []struct {
		ci                 string
		wantSkip, wantFail bool
	}{
		{ci: "", wantSkip: true},
		{ci: "false", wantSkip: true},
		{ci: "true", wantFail: true},
	} {
		t.Run("missing CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r, _ := require(noSuchTool, "install it with: apt-get install no-such-tool")
			if r.skipped != tc.wantSkip || r.failed != tc.wantFail {
				t.Fatalf("skipped=%v failed=%v, want skipped=%v failed=%v", r.skipped, r.failed, tc.wantSkip, tc.wantFail)
			}
			for _, want := range []string{noSuchTool, "apt-get install no-such-tool"} {
				if !strings.Contains(r.msg, want) {
					t.Errorf("message %q does not contain %q", r.msg, want)
				}
			}
		})
	}
}

func TestInfraActions(t *testing.T) {
	got := testtool.InfraActions(t, "IndexActions")
	if want := []string{"dynamodb:Query"}; fmt.Sprint(got["status"]) != fmt.Sprint(want) {
		t.Errorf(`InfraActions(IndexActions)["status"] = %q, want %q`, got["status"], want)
	}
}

func TestShellWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"-tags lambda.norpc  -trimpath", []string{"-tags", "lambda.norpc", "-trimpath"}},
		{"-ldflags='-s -w -buildid='\t-x", []string{"-ldflags=-s -w -buildid=", "-x"}},
		{"''", []string{""}},
	} {
		if got := testtool.ShellWords(tc.in); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("ShellWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMakeVars(t *testing.T) {
	vars := testtool.MakeVars(t, filepath.Join(testtool.Root(t), "Makefile"))
	if got := strings.Fields(vars["LAMBDAS"]); len(got) != 4 {
		t.Errorf("Makefile LAMBDAS = %q, want the four functions", got)
	}
	if _, ok := vars["LAMBDA_FLAGS"]; !ok {
		t.Errorf("Makefile variables %v have no LAMBDA_FLAGS", vars)
	}
}
