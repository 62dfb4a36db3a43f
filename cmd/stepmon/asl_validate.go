package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/stepmon/stepmon/internal/asl"
)

const aslValidateUsage = `Usage: stepmon asl validate FILE
       stepmon asl validate --definition FILE

Checks an Amazon States Language definition as CreateStateMachine does,
without running it, and prints each problem on a line of standard output:

  LOCATION: CODE: message      e.g. /States/A/Next: MISSING_TRANSITION_TARGET: Missing 'Next' target: B

A problem of the whole definition has no location. A definition over the
1,048,576 characters CreateStateMachine accepts is refused. The exit
status is 0 when the definition is valid (nothing is printed), 1 when it
is not or cannot be read, 2 for a wrong command line.
`

// runASLValidate implements "stepmon asl validate".
func runASLValidate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("asl validate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	// --definition, as "asl run" and "serve" take it.
	defPath := fs.String("definition", "", "")
	// Flags may follow FILE, as for "asl run".
	pos, err := interspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, aslValidateUsage)
			return err
		}
		return flagError(fs, "asl validate", "usage", err)
	}
	if *defPath != "" {
		pos = append(pos, *defPath)
	}
	switch {
	case len(pos) > 1:
		return usageError("asl validate: one definition FILE, not %s; run 'stepmon asl validate -h' for its usage", strings.Join(pos, " and "))
	case len(pos) == 0 || pos[0] == "":
		return usageError("asl validate: a definition FILE is required; run 'stepmon asl validate -h' for its usage")
	}
	path := pos[0]
	def, err := readDefinition(ctx, "asl validate", path)
	if err != nil {
		return err
	}
	_, err = asl.Parse(def)
	var errs asl.ValidationErrors
	if !errors.As(err, &errs) {
		if err != nil {
			return fmt.Errorf("asl validate: %w", err)
		}
		return nil
	}
	for _, e := range errs {
		fmt.Fprintln(stdout, e)
	}
	return fmt.Errorf("asl validate: %s is not a valid definition: %d problem(s)", path, len(errs))
}
