package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/suggest"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	force, forceNow := context.WithCancel(context.Background())
	defer forceNow()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	// A hangup (the terminal closed) ends a command as Ctrl-C does; not
	// when it is ignored (nohup): Notify would stop ignoring it.
	if !signal.Ignored(syscall.SIGHUP) {
		signal.Notify(sigs, syscall.SIGHUP)
	}
	go func() {
		if sig, ok := <-sigs; ok {
			cancel(signalReceived{sig})
		}
		// A second signal hurries the shutdown the first one began;
		// later ones are ignored, so that the data is still closed.
		if _, ok := <-sigs; ok {
			forceNow()
		}
	}()
	ctx = withForce(ctx, force)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	signal.Stop(sigs)
	cancel(nil)
	os.Exit(exitCode(err, os.Stderr))
}

// signalReceived is the cause of main's context when a signal ends it.
type signalReceived struct{ sig os.Signal }

func (e signalReceived) Error() string { return e.sig.String() + " signal received" }

type forceKey struct{}

// withForce returns ctx carrying force, a context done when a second
// signal asks a command shutting down to stop waiting.
func withForce(ctx, force context.Context) context.Context {
	return context.WithValue(ctx, forceKey{}, force)
}

// forced returns a channel closed when a second signal asks the command
// to hurry its shutdown; without one in ctx (tests), a channel never
// closed.
func forced(ctx context.Context) <-chan struct{} {
	if f, ok := ctx.Value(forceKey{}).(context.Context); ok {
		return f.Done()
	}
	return nil
}

// interrupted returns the error of a command that ctx's end cut short: an
// exit without a message, with the shell's status for the signal (130 for
// Ctrl-C, 143 for SIGTERM, 129 for a hangup).
func interrupted(ctx context.Context) error {
	code := 128 + int(syscall.SIGINT)
	var sr signalReceived
	if errors.As(context.Cause(ctx), &sr) {
		if s, ok := sr.sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
	}
	return &exitError{code: code, err: errReported}
}

// Exit statuses other than 0 (success) and 1 (any other error): the help
// and docs/local.md list them for scripts, which tell them apart. 3 is
// exitNotReached, watch's.
const (
	exitUsage = 2
	// exitNotFound: the API answered 404, no such monitor.
	exitNotFound = 4
	// exitConflict: the API answered 409 or 410: the monitor has already
	// finished, still runs (purge), holds all the events it can (raise),
	// or its id is taken (start).
	exitConflict = 5
)

// exitError carries an exit code other than 1 (2 for usage errors).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError reports a command line that cannot be run.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode prints err (unless it was already reported) and returns the
// process exit code for it.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && !errors.Is(ee.err, errReported) {
			fmt.Fprintln(stderr, "stepmon:", err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "stepmon:", err)
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.exitCode()
	}
	return 1
}

// errReported is an error whose message has already been printed.
var errReported = errors.New("reported")

// env reads an environment variable; main passes os.Getenv, tests a map.
type env func(string) string

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
	hidden  bool
}

// cli is what every subcommand gets: arguments are passed separately.
type cli struct {
	getenv env
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func commands() []command {
	return []command{
		{name: "serve", summary: "run the monitor service locally (HTTP API, Step Functions API, dashboard)", run: runServe},
		{name: "demo", summary: "start a local service, run a job monitor to completion and show it", run: runDemo},
		{name: "start", summary: "start a monitor", run: runStart},
		{name: "status", summary: "show a monitor's status", run: runStatus},
		{name: "watch", summary: "follow a monitor until it finishes", run: runWatch},
		{name: "list", summary: "list monitors", run: runList},
		{name: "terminate", summary: "terminate a running monitor", run: runTerminate},
		{name: "raise", summary: "raise an event for a monitor (complete, setInterval, ...)", run: runRaise},
		{name: "purge", summary: "delete a monitor's status record", run: runPurge},
		{name: "asl", summary: "Amazon States Language tools (asl run, asl validate)", run: runASLCommand},
		{name: "version", summary: "print the version", run: runVersion},
		{name: "bench", summary: "load benchmark of the local runtime", run: runBench, hidden: true},
	}
}

// outputWriter is a command's standard output. It remembers the first
// write that failed, so that help, which the flag package prints without
// looking at errors, still fails when it could not be written
// ("stepmon help > /dev/full").
type outputWriter struct {
	w   io.Writer
	err error
}

func (o *outputWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err != nil && o.err == nil {
		o.err = err
	}
	return n, err
}

// run is the whole program: it parses args and runs a subcommand. A
// command that printed its help returns flag.ErrHelp (exit status 0),
// which becomes an error when the help could not be written.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	out := &outputWriter{w: stdout}
	err := runCommand(ctx, &cli{getenv: getenv, stdin: stdin, stdout: out, stderr: stderr}, args)
	if errors.Is(err, flag.ErrHelp) && out.err != nil {
		return fmt.Errorf("write help: %w", out.err)
	}
	return err
}

// runCommand runs the subcommand that args name with c.
func runCommand(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		usage(c.stderr)
		return &exitError{code: exitUsage, err: errReported}
	}
	if args[0] == "help" {
		// "stepmon help start" is "stepmon start -h", "help asl run" is
		// "asl run -h", "help --version" is "version -h"; "help help" and
		// "help -h" are the command list. What follows the command's name
		// up to the first flag is kept (a subcommand), the rest dropped: a
		// flag left before the -h could take it as its value ("help
		// status --endpoint").
		path := args[1:]
		for i, a := range path {
			if strings.HasPrefix(a, "-") && i > 0 {
				path = path[:i]
				break
			}
		}
		args = append(slices.Clip(path), "-h")
		if len(path) == 0 || path[0] == "help" {
			args = []string{"--help"}
		}
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		usage(c.stdout)
		return flag.ErrHelp
	case "-version", "--version":
		name = "version"
	}
	cmd, ok := lookupCommand(name)
	switch {
	case !ok && strings.HasPrefix(name, "-"):
		return flagBeforeCommand(args)
	case !ok:
		return unknownCommand(name)
	}
	err := cmd.run(ctx, c, args[1:])
	// A request in flight fails with the context's cause (the signal),
	// not context.Canceled.
	if err != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.Cause(ctx))) {
		// Ctrl-C: the user knows; every command exits alike.
		return interrupted(ctx)
	}
	return withCommand(cmd.name, err)
}

// commandError is the error of a command, its message led by the
// command's name.
type commandError struct {
	name string
	err  error
}

func (e *commandError) Error() string { return e.name + ": " + e.err.Error() }
func (e *commandError) Unwrap() error { return e.err }

// withCommand returns err, the error of the command name, with a message
// that names the command, as "stepmon: start: --job-id must not be empty"
// does: every command's errors read alike, and a script's log says which
// of its commands failed. A message that starts with the name already
// ("status abc: ...", "terminate takes one instance id") is left as it
// is, and so are help and errors already reported.
func withCommand(name string, err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) || errors.Is(err, errReported) {
		return err
	}
	if msg := err.Error(); strings.HasPrefix(msg, name+" ") || strings.HasPrefix(msg, name+":") {
		return err
	}
	return &commandError{name: name, err: err}
}

// lookupCommand returns the command named name.
func lookupCommand(name string) (command, bool) {
	cmds := commands()
	i := slices.IndexFunc(cmds, func(cmd command) bool { return cmd.name == name })
	if i < 0 {
		return command{}, false
	}
	return cmds[i], true
}

// unknownCommand is the usage error for name, which names no command: one
// line, with the commands it is likely a slip for, rather than the whole
// command list with the error below it.
func unknownCommand(name string) error {
	hint := ""
	if like := commandsLike(name); len(like) > 0 {
		hint = " (did you mean " + strings.Join(like, " or ") + "?)"
	}
	return usageError("unknown command %q%s; run 'stepmon help' for the commands", monitor.TruncateBytes(name, 40), hint)
}

// commandsLike returns the visible commands name is likely a slip for, at
// most two, the likeliest first: those it begins (an abbreviation, "stat"
// for status), then those within two edits of it ("stauts"), nearest
// first; none when more than two are equally likely ("s"). Case is
// ignored.
func commandsLike(name string) []string {
	var names []string
	for _, cmd := range commands() {
		if !cmd.hidden {
			names = append(names, cmd.name)
		}
	}
	return suggest.Like(name, names)
}

// flagBeforeCommand is the usage error for a command line that starts
// with a flag ("stepmon --endpoint URL status m1", as other tools take
// global flags): it shows the line with the command first, when one of
// the arguments names a command, instead of the whole usage.
func flagBeforeCommand(args []string) error {
	for i, a := range args {
		if _, ok := lookupCommand(a); !ok {
			continue
		}
		fixed := append([]string{a}, args[:i]...)
		fixed = append(fixed, args[i+1:]...)
		return usageError("flags follow the command: stepmon %s", shellJoin(fixed))
	}
	return usageError("%s before any command: the command comes first, then its flags (stepmon COMMAND [flags]); run 'stepmon help' for the commands", args[0])
}

// shellJoin joins args into a command line a POSIX shell splits back into
// them: an argument with anything but letters, digits and -_.,:/=@%+ is
// single-quoted.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		plain := a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,:/=@%+", r))
		}) < 0
		if plain {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

func usage(w io.Writer) {
	fmt.Fprint(w, `stepmon runs and drives monitors: check something, record a status, wait, check again.

Usage:
  stepmon <command> [flags] [arguments]

Commands:
`)
	for _, cmd := range commands() {
		if !cmd.hidden {
			fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
		}
	}
	fmt.Fprint(w, `
Run "stepmon <command> -h" or "stepmon help <command>" for a command's flags.
Client commands talk to --endpoint, or $STEPMON_ENDPOINT, default http://127.0.0.1:8080.

Exit status:
  0    success
  1    any other error: no answer, an invalid request, another server's answer
  2    a wrong command line, or a request file refused before it is sent
       (unreadable, empty, not JSON or not UTF-8)
  3    watch, start --watch: the monitor ended without reaching its goal
  4    no such monitor (the API answered 404)
  5    the monitor's state refuses the request (409, 410): it has already
       finished, still runs (purge), holds all the events it can (raise), or
       its id is taken (start)
  130  Ctrl-C (143 SIGTERM, 129 a hangup)
`)
}

// newFlagSet returns a FlagSet whose -h prints a usage line, a description
// and the flags on standard output (asked for, the help is the command's
// output: "stepmon start -h | less"); a bad flag's complaint goes to
// standard error.
func newFlagSet(c *cli, name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("stepmon "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fs.SetOutput(c.stdout)
		defer fs.SetOutput(c.stderr)
		fmt.Fprintf(fs.Output(), "Usage: %s\n\n%s\n", strings.TrimSpace("stepmon "+name+" "+synopsis), description)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("stepmon status ID --endpoint URL"). -h prints the command's help; a
// bad flag is a usage error saying in one line what is wrong and where
// the help is (flagError), not the whole help.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	help, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard) // flagError says it instead
	defer func() { fs.Usage = help; fs.SetOutput(out) }()
	pos, err := interspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help()
			return nil, err
		}
		return nil, flagError(fs, strings.TrimPrefix(fs.Name(), "stepmon "), "flags", err, args...)
	}
	return pos, nil
}

// endedByDashDash reports whether the arguments fs.Parse consumed end in
// the "--" that stopped it (fs.Parse drops it), not in a flag's value "--"
// ("--reason --"): it walks them as the flag package does.
func endedByDashDash(fs *flag.FlagSet, consumed []string) bool {
	for i := 0; i < len(consumed); i++ {
		s := consumed[i]
		if s == "--" {
			return i == len(consumed)-1
		}
		name := strings.TrimLeft(s, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				continue
			}
			i++ // the flag's value
		}
	}
	return false
}

// interspersed parses args with fs, flags before, between and after the
// positional arguments, which it returns; everything after "--" is
// positional.
func interspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if endedByDashDash(fs, args[:len(args)-len(rest)]) {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}
