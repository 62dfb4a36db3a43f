package main

import (
	"strings"
	"testing"
)

// TestASLReadDirectory pins the error of a definition, input or --task
// file that is a directory: it names the directory once.
func TestASLReadDirectory(t *testing.T) {
	dir := t.TempDir()
	def := writeFile(t, "pass.json", passDef)
	tests := []struct {
		args     []string
		wantCode int
	}{
		{[]string{"run", dir}, 1},
		{[]string{"validate", dir}, 1},
		{[]string{"run", def, "--input", "@" + dir}, 1},
		{[]string{"run", def, "--task", "P=@" + dir}, 2},
	}
	for _, tt := range tests {
		res := aslCLI(t, tt.args...)
		if res.code != tt.wantCode || strings.Count(res.stderr, dir) != 1 || !strings.Contains(res.stderr, "is a directory") {
			t.Errorf("asl %s: exit %d, stderr %q; want exit %d and an error naming %s once", strings.Join(tt.args, " "), res.code, res.stderr, tt.wantCode, dir)
		}
	}
}
