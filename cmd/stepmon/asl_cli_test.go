package main

import (
	"strings"
	"testing"
)

// aslCLI runs "stepmon asl ARGS..." as main does and returns what it
// printed and its exit status.
func aslCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	return runCLI(t.Context(), "http://127.0.0.1:1", append([]string{"asl"}, args...)...)
}

// passDef is a definition of one Pass state.
const passDef = `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`

// TestASLValidateCommandLine: asl validate takes flags after FILE, as asl
// run does, and says what is wrong with a command line; it said "one
// definition FILE is required" when one was given.
func TestASLValidateCommandLine(t *testing.T) {
	good := writeFile(t, "good.json", passDef)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"unknown flag after FILE", []string{"validate", good, "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"two files", []string{"validate", good, good}, 2, "one definition FILE, not " + good + " and " + good},
		{"help after FILE", []string{"validate", good, "-h"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := aslCLI(t, tt.args...)
			if res.code != tt.wantCode || !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("got exit %d, stderr %q; want exit %d, stderr naming %q", res.code, res.stderr, tt.wantCode, tt.wantStderr)
			}
			if strings.Contains(res.stderr, "is required") {
				t.Errorf("got stderr %q, want no \"is required\": a FILE was given", res.stderr)
			}
		})
	}
}

// TestASLHelpSubcommand: "asl help run" and "asl -h validate" print the
// subcommand's help; they printed the asl overview.
func TestASLHelpSubcommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"help", "run"}, aslRunUsage},
		{[]string{"help", "validate"}, aslValidateUsage},
		{[]string{"-h", "run"}, aslRunUsage},
		{[]string{"--help", "validate"}, aslValidateUsage},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := aslCLI(t, tt.args...)
			if res.code != 0 || !strings.HasPrefix(res.stdout, tt.want) {
				t.Errorf("got exit %d, stdout %.60q; want 0 and the subcommand's help %.60q", res.code, res.stdout, tt.want)
			}
		})
	}
	if res := aslCLI(t, "help", "nothing"); res.code != 2 {
		t.Errorf("asl help nothing: got exit %d, want 2", res.code)
	}
}
