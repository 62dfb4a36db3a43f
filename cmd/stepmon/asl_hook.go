package main

import "context"

// aslRun runs "stepmon asl run" (runASL is in asl.go).
func aslRun(ctx context.Context, args []string, c *cli) error {
	return runASL(ctx, args, c.stdin, c.stdout, c.stderr)
}
