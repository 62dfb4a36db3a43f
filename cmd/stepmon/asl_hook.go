package main

import (
	"context"
	"errors"
)

// aslRun runs "stepmon asl run".
// HOOK: cmd/stepmon/asl.go (runASL) is not in the tree yet.
func aslRun(ctx context.Context, args []string, c *cli) error {
	return errors.New("asl run is not available in this build")
}
