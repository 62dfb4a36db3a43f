package main

import (
	"context"
	"flag"
	"fmt"
)

// runASLCommand runs "stepmon asl": "asl run", "asl validate", or the
// help of asl or of one of them ("asl help run", "asl -h validate").
func runASLCommand(ctx context.Context, c *cli, args []string) error {
	if len(args) > 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		if args[1] != "run" && args[1] != "validate" {
			return usageError("unknown asl command %q; want \"asl run\" or \"asl validate\"", args[1])
		}
		return runASLCommand(ctx, c, []string{args[1], "-h"})
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		// Asked for, the help is the output; without a command it
		// comes with exit status 2, on standard error.
		w := c.stdout
		if len(args) == 0 {
			w = c.stderr
		}
		fmt.Fprint(w, `Usage: stepmon asl run --definition FILE [--input JSON] [flags]
       stepmon asl validate FILE

Amazon States Language tools. "asl run" executes a state machine definition
on stepmon's engine; see "stepmon asl run -h". "asl validate" checks one as
CreateStateMachine does; see "stepmon asl validate -h".
`)
		if len(args) == 0 {
			return &exitError{code: exitUsage, err: errReported}
		}
		return flag.ErrHelp
	}
	if args[0] == "validate" {
		return runASLValidate(ctx, args[1:], c.stdout)
	}
	if args[0] != "run" {
		return usageError("unknown asl command %q; want \"asl run\" or \"asl validate\"", args[0])
	}
	return aslRun(ctx, args[1:], c)
}
