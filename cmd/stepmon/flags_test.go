package main

import (
	"flag"
	"io"
	"slices"
	"testing"
)

// Flags may come anywhere; after "--" nothing is a flag, also when more
// than one argument follows it (they were parsed as flags again).
func TestInterspersed(t *testing.T) {
	for _, tt := range []struct{ args, want []string }{
		{[]string{"a", "--x=1", "b"}, []string{"a", "b"}},
		{[]string{"--", "-a", "-b"}, []string{"-a", "-b"}},
		{[]string{"a", "--", "-b", "c"}, []string{"a", "-b", "c"}},
		{[]string{"--x=1", "--", "--"}, []string{"--"}},
		{[]string{"--x", "2", "a"}, []string{"a"}},
		// A flag's value "--" is no end of the flags.
		{[]string{"--s", "--", "a", "--x=3"}, []string{"a"}},
		{[]string{"-s=--", "--", "-a"}, []string{"-a"}},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Int("x", 0, "")
		fs.String("s", "", "")
		got, err := interspersed(fs, tt.args)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("interspersed(%q) = %q, %v; want %q", tt.args, got, err, tt.want)
		}
	}
}
