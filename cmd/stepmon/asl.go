package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/jsonpos"
	"github.com/stepmon/stepmon/internal/monitor"
)

const aslRunUsage = `Usage: stepmon asl run --definition FILE [--input JSON] [flags]

Runs one execution of an Amazon States Language definition on stepmon's
engine, to completion, and prints one JSON object:

  {"status": "SUCCEEDED|FAILED|...", "output": "<output JSON text>|null",
   "error": "...|null", "cause": "...|null",
   "events": [{"type": "PassStateEntered", "stateName": "A"}, ...]}

With --history, "events" holds the full history events with their details,
in GetExecutionHistory's shape, timestamps as RFC 3339 text to the
millisecond (2006-01-02T15:04:05.000Z). Time is virtual unless
--real-time: Waits and retry intervals finish at once.

The exit status is 0 when the execution ends, whatever its status (a
FAILED execution exits 0); 1 when the definition or the input cannot be
read or is invalid (the problems are printed on standard error);
2 for a wrong command line, --task and --name values included; 3 when
--timeout expires first: the execution is stopped and printed, with
status ABORTED and the events until the stop; 130 for Ctrl-C.

Task states are answered by --task flags, states:startExecution (.sync,
.sync:2) included: without one, that task starts the execution in this
engine, whose one state machine is the definition run (named asl-run).
A .waitForTaskToken task cannot be answered (callbacks are not
supported): it fails with States.TaskFailed, as does a Task state
without a matching --task.

  --task KEY=SPEC   KEY is a state name, a Lambda function name (the
                    FunctionName of arn:aws:states:::lambda:invoke, or
                    the NAME of arn:aws:lambda:...:function:NAME) or a
                    Resource ARN, tried in that order; each KEY once. A
                    KEY that answered no task is reported on standard
                    error after the run. SPEC is inline JSON, @FILE, or
                    a FILE path holding JSON (a file is read up to 16 MiB):
                      any JSON value           the task result (for Lambda,
                                               the function's response; the
                                               lambda:invoke wrapper with
                                               Payload and StatusCode is
                                               added as AWS does)
                      {"$error": "Name", "$cause": "text"}
                                               the task fails (a Lambda
                                               function error: Cause is
                                               {"errorMessage","errorType"})
                      {"$echo": true}          returns the task input
                      {"$sequence": [SPEC...]} successive calls take
                                               successive entries; the last
                                               one repeats (concurrent
                                               calls take them in the order
                                               they come)
                      {"$literal": VALUE}      the result VALUE as it is
                    An object whose keys all start with "$" is one of these
                    directives, and one that is not well-formed is refused;
                    any other object is a result as it is.

Flags:
`

// runASL implements "stepmon asl run".
func runASL(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("asl run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defPath := fs.String("definition", "", "state machine definition `FILE` (or the first argument)")
	input := fs.String("input", "{}", "execution input: `JSON`, @FILE, or - for standard input")
	realTime := fs.Bool("real-time", false, "wait in real time instead of on the virtual clock")
	history := fs.Bool("history", false, "print the full history events with their details")
	name := fs.String("name", "asl-run", "execution `name`")
	timeout := 5 * time.Minute
	fs.Var((*durationValue)(&timeout), "timeout", "real time to give up after: a `duration` or seconds")
	tasks := taskFlags{}
	fs.Var(&tasks, "task", "task result `KEY=SPEC` (repeatable; see above)")
	usage := func() {
		fmt.Fprint(stdout, aslRunUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
	}
	// The flag package reports a bad flag itself; the error returned
	// says it once, with where the help is, rather than the whole help.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	// Flags may follow the definition's file name, as for the other
	// commands.
	pos, err := interspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return err
		}
		return flagError(fs, "asl run", "flags", err)
	}
	fs.SetOutput(stderr)
	if *defPath != "" {
		pos = append(pos, *defPath)
	}
	switch {
	case len(pos) > 1:
		return usageError("asl run: one definition, not %s; run 'stepmon asl run -h' for its flags", strings.Join(pos, " and "))
	case len(pos) == 0 || pos[0] == "":
		return usageError("asl run: a definition is required (--definition FILE or the first argument); run 'stepmon asl run -h' for its flags")
	}
	// The rest of the command line first: its mistakes are usage
	// errors (exit status 2), the definition's and input's are not.
	if !engine.ValidName(*name) {
		return usageError("asl run: --name %q is not an execution name AWS accepts: 1 to 80 characters, none of them whitespace, a control character or one of %s; run 'stepmon asl run -h' for its flags", *name, "<>{}[]?*\"#%\\^|~`$&,;:/")
	}
	if *input == "@" {
		return usageError("asl run: --input @ names no file: give JSON, @FILE or - for standard input; run 'stepmon asl run -h' for its flags")
	}
	specs, err := tasks.compile()
	if err != nil {
		return err
	}
	path := pos[0]
	def, err := readDefinition(ctx, "asl run", path)
	if err != nil {
		return err
	}
	machine, err := asl.Parse(def)
	if err != nil {
		return invalidDefinition(path, err)
	}
	in, err := readInput(ctx, *input, stdin)
	if err != nil {
		return err
	}
	var clock engine.Clock = engine.RealClock{}
	if !*realTime {
		clock = engine.NewVirtualClock(time.Now().UTC().Truncate(time.Millisecond))
	}
	disp := engine.NewDispatcher()
	handle := specs.handler()
	disp.HandlePrefix("", engine.Route{Handler: handle})
	// Plain function ARNs get AWS's LambdaFunction* events.
	disp.HandlePrefix("arn:aws:lambda:", engine.Route{Handler: handle, ResourceType: "lambda", Legacy: true})
	eng := engine.New(engine.Options{Clock: clock, Dispatcher: disp})
	defer eng.Close()
	specs.answerStartExecution(eng.Dispatcher())
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// fail is the error of a step of the run; when ctx ended (Ctrl-C),
	// it says so first: the exit status alone (130) does not.
	fail := func(err error) error {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "stepmon: asl run: interrupted (%v) before the execution ended\n", context.Cause(ctx))
			return fmt.Errorf("asl run: %w", context.Cause(ctx))
		}
		return fmt.Errorf("asl run: %w", err)
	}

	sm, err := eng.CreateStateMachine(runCtx, "asl-run", string(def), "")
	if err != nil {
		if ctx.Err() != nil {
			return fail(err)
		}
		return invalidDefinition(path, err)
	}
	x, err := eng.StartExecution(runCtx, sm.Arn, *name, in)
	if err != nil {
		return fail(err)
	}
	done, err := eng.Wait(runCtx, x.Arn)
	if err != nil {
		if ctx.Err() == nil && errors.Is(runCtx.Err(), context.DeadlineExceeded) {
			return stopTimedOut(ctx, eng, x.Arn, timeout, stdout, *history)
		}
		return fail(err)
	}
	events, err := eng.History(runCtx, x.Arn)
	if err != nil {
		return fail(err)
	}
	if err := printResult(stdout, done, events, *history); err != nil {
		return err
	}
	specs.warnUnused(stderr, taskStates(machine))
	return nil
}

// exitRunTimedOut is the exit status of "asl run" when --timeout expires
// before the execution ends.
const exitRunTimedOut = 3

// stopTimedOut ends a run that --timeout cut short: it stops the
// execution, prints the result (status ABORTED and the events until the
// stop) and returns an error with exit status exitRunTimedOut. An
// execution that ended meanwhile is printed as usual.
func stopTimedOut(ctx context.Context, eng *engine.Engine, arn string, timeout time.Duration, stdout io.Writer, full bool) error {
	_, err := eng.StopExecution(ctx, arn, "", "")
	stopped := err == nil
	if err != nil && !errors.Is(err, engine.ErrExecutionNotRunning) {
		return fmt.Errorf("asl run: stop after --timeout: %w", err)
	}
	x, err := eng.DescribeExecution(ctx, arn)
	if err != nil {
		return fmt.Errorf("asl run: %w", err)
	}
	events, err := eng.History(ctx, arn)
	if err != nil {
		return fmt.Errorf("asl run: %w", err)
	}
	if err := printResult(stdout, x, events, full); err != nil {
		return err
	}
	if !stopped {
		return nil
	}
	return &exitError{code: exitRunTimedOut,
		err: fmt.Errorf("asl run: --timeout %v expired with the execution still RUNNING; it was stopped", timeout)}
}

// maxDefinitionBytes bounds the reading of a definition file: the most
// bytes that asl.MaxDefinitionLength characters (CreateStateMachine's
// limit, as the Step Functions API of stepmon serve checks it) take in
// UTF-8.
const maxDefinitionBytes = utf8.UTFMax * asl.MaxDefinitionLength

// maxInputBytes is the longest execution input, in bytes, that
// StartExecution accepts, and the bound of its reading.
const maxInputBytes = engine.MaxInput

// maxTaskFile bounds the reading of a --task file (16 MiB): room for a
// $sequence of 64 results at the engine's limit on one task result
// (engine.MaxInput; a result over it fails the state with
// States.DataLimitExceeded, which a run may want to see).
const maxTaskFile = 64 * engine.MaxInput

// errTooLarge is the error of readBounded for data over its bound.
var errTooLarge = errors.New("too large")

// readBounded reads r up to limit bytes; more is errTooLarge, found
// without reading further (r may not end: /dev/zero, a pipe).
func readBounded(r io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

// readFileBounded is readBounded for the file path.
func readFileBounded(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A read error is an *os.PathError, which names path already.
	return readBounded(f, limit)
}

// readDefinition reads the definition file path for the command cmd
// ("asl run"), and refuses one longer than CreateStateMachine accepts. A
// path that is a pipe (/dev/stdin) may never end: the read gives up when
// ctx ends (Ctrl-C).
func readDefinition(ctx context.Context, cmd, path string) ([]byte, error) {
	def, err := readCancelable(ctx, func() ([]byte, error) { return readFileBounded(path, maxDefinitionBytes) })
	switch {
	case errors.Is(err, errTooLarge):
		return nil, fmt.Errorf("%s: definition %s is more than %d bytes, so more than the %d characters CreateStateMachine accepts", cmd, path, maxDefinitionBytes, asl.MaxDefinitionLength)
	case err != nil:
		return nil, fmt.Errorf("%s: read definition: %w", cmd, err)
	}
	// CreateStateMachine takes JSON, which is UTF-8: a file in UTF-16
	// (PowerShell 5) is said to be, one in Latin-1 would be read with
	// U+FFFD in place of its bytes. A UTF-8 byte order mark (Notepad,
	// PowerShell 5's Out-File -Encoding utf8) is no part of the JSON, as
	// for request bodies: asl validate and run take the file serve takes.
	def, isUTF16 := monitor.DropByteOrderMark(def)
	if isUTF16 {
		return nil, fmt.Errorf("%s: definition %s is UTF-16: %s", cmd, path, monitor.UTF16Fix)
	}
	if n := utf8.RuneCount(def); n > asl.MaxDefinitionLength {
		return nil, fmt.Errorf("%s: definition %s is %d characters, more than the %d CreateStateMachine accepts", cmd, path, n, asl.MaxDefinitionLength)
	}
	if where, bad := jsonpos.NotUTF8(def); bad {
		return nil, fmt.Errorf("%s: definition %s is not UTF-8 (%s): save it as UTF-8", cmd, path, where)
	}
	return def, nil
}

// invalidDefinition is asl run's error for the definition at path that
// asl.Parse or CreateStateMachine refused with err: its problems in the
// error, on its line when there is one, as serve says them.
func invalidDefinition(path string, err error) error {
	if ve, ok := errors.AsType[asl.ValidationErrors](err); ok {
		return fmt.Errorf("asl run: %s is not a valid state machine definition:%s", path, definitionProblems(ve))
	}
	return fmt.Errorf("asl run: %s: %w", path, err)
}

// readInput reads the execution input that --input s gives: JSON, @FILE
// or - for stdin. Standard input may never end (a terminal): the read
// gives up when ctx ends (Ctrl-C).
func readInput(ctx context.Context, s string, stdin io.Reader) (string, error) {
	var b []byte
	var err error
	from := "--input"
	switch {
	case s == "-":
		from = "standard input"
		b, err = readCancelable(ctx, func() ([]byte, error) { return readBounded(stdin, maxInputBytes) })
	case strings.HasPrefix(s, "@"):
		from = s[1:]
		b, err = readCancelable(ctx, func() ([]byte, error) { return readFileBounded(from, maxInputBytes) })
	default:
		b = []byte(s)
	}
	if errors.Is(err, errTooLarge) {
		return "", fmt.Errorf("asl run: invalid input: %s is more than %d bytes, the most StartExecution accepts", from, maxInputBytes)
	}
	if err != nil {
		return "", fmt.Errorf("asl run: read input: %w", err)
	}
	if len(b) > maxInputBytes {
		return "", fmt.Errorf("asl run: invalid input: %d bytes, more than StartExecution accepts (%d)", len(b), maxInputBytes)
	}
	if rest, _ := monitor.DropByteOrderMark(b); len(rest) < len(b) {
		if from == "--input" {
			// Typed on the command line: StartExecution would refuse it.
			return "", fmt.Errorf("asl run: invalid input: %s starts with a byte order mark (U+FEFF), which JSON does not allow", from)
		}
		// A file's or a pipe's (Notepad, PowerShell 5), as a
		// definition's and a request body's: no part of the JSON.
		b = rest
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if from == "--input" {
			return "", errors.New("asl run: invalid input: --input is empty: give JSON, @FILE or - for standard input")
		}
		return "", fmt.Errorf("asl run: invalid input: %s is empty", from)
	}
	if where, bad := jsonpos.NotUTF8(b); bad {
		// Taken as JSON, each such byte would become U+FFFD.
		return "", fmt.Errorf("asl run: invalid input: %s is not UTF-8 (%s): save it as UTF-8", from, where)
	}
	if _, err := asl.ParseJSON(b); err != nil {
		// Where the syntax error is, as for a definition's.
		if msg, ok := jsonpos.Describe(b, 0, err); ok {
			return "", fmt.Errorf("asl run: invalid input: %s is not JSON: %s%s", from, msg, inlineJSONHint(from == "--input", runtime.GOOS, "--input @FILE"))
		}
		// JSON, with a number beyond a double's range.
		return "", fmt.Errorf("asl run: invalid input: %s: %s", from, jsonProblem(b, err))
	}
	return string(b), nil
}

// runOutput is what "asl run" prints.
type runOutput struct {
	Status string  `json:"status"`
	Output *string `json:"output"`
	Error  *string `json:"error"`
	Cause  *string `json:"cause"`
	Events any     `json:"events"`
}

// shortEvent is an event as "asl run" prints it without --history.
type shortEvent struct {
	Type      string `json:"type"`
	StateName string `json:"stateName,omitempty"`
}

// historyEvent is an event as "asl run --history" prints it: as the
// engine encodes it, but for a timestamp to the millisecond at a fixed
// width, as AWS stamps events (the engine drops trailing zeros, and the
// real clock has nanoseconds).
type historyEvent engine.Event

// eventTime is the layout of historyEvent's timestamp.
const eventTime = "2006-01-02T15:04:05.000Z"

// MarshalJSON implements json.Marshaler: the engine's encoding, encoded
// once, with its timestamp member replaced in place. The member is there
// once, at the top level: a details object has none, and the texts inside
// details are escaped JSON strings.
func (e historyEvent) MarshalJSON() ([]byte, error) {
	ev := engine.Event(e)
	b := ev.AppendJSON(nil)
	ts := e.Timestamp.UTC()
	engineTS := []byte(`"timestamp":"` + ts.Format(time.RFC3339Nano) + `"`)
	fixedTS := []byte(`"timestamp":"` + ts.Truncate(time.Millisecond).Format(eventTime) + `"`)
	return bytes.Replace(b, engineTS, fixedTS, 1), nil
}

func printResult(w io.Writer, x engine.Execution, events []engine.Event, full bool) error {
	out := runOutput{Status: string(x.Status)}
	if x.HasOutput {
		out.Output = &x.Output
	}
	for _, ev := range events {
		switch ev.Type {
		case "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut":
			if ev.Details.HasError {
				out.Error = &ev.Details.Error
			}
			if ev.Details.HasCause {
				out.Cause = &ev.Details.Cause
			}
		}
	}
	if full {
		hist := make([]historyEvent, len(events))
		for i, ev := range events {
			hist[i] = historyEvent(ev)
		}
		out.Events = hist
	} else {
		short := make([]shortEvent, len(events))
		for i, ev := range events {
			short[i] = shortEvent{Type: ev.Type, StateName: ev.StateName()}
		}
		out.Events = short
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("asl run: write result: %w", err)
	}
	return nil
}
