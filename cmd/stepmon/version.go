package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version or VCS revision recorded by the go tool is
// shown.
var version = ""

func runVersion(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "version", "", "Prints stepmon's version, VCS revision and Go version.")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("version takes no arguments; got %q", pos)
	}
	v, rev, goVersion := version, "", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					rev += " (modified)"
				}
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	line := "stepmon " + v
	for _, s := range []string{rev, goVersion} {
		if s != "" {
			line += " " + s
		}
	}
	if _, err := fmt.Fprintln(c.stdout, line); err != nil {
		return fmt.Errorf("version: write output: %w", err)
	}
	return nil
}
