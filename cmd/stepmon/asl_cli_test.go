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
