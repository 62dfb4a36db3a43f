package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/stepmon/stepmon/internal/alerts"
	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/local"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/syserr"
)

// systemReason returns the system's error code in err, which says the
// reason in the system's words ("address already in use"), or err when
// it holds none.
func systemReason(err error) error {
	if errno, ok := errors.AsType[syscall.Errno](err); ok {
		return errno
	}
	return err
}

// runServe is the serve command: it starts the local runtime and serves
// until ctx is done (a signal), then stops it gracefully.
func runServe(ctx context.Context, c *cli, args []string) (err error) {
	opts, err := serveConfig(ctx, c, args)
	if opts.logJSON {
		// A failure once the log exists is a JSON line too, not the
		// plain "stepmon: ..." main prints.
		defer func() {
			if err != nil {
				opts.cfg.Logger.Error("stepmon serve failed", "component", "serve", "err", err)
				err = &exitError{code: 1, err: errReported}
			}
		}()
	}
	if err != nil {
		return err
	}
	cfg := opts.cfg
	// A reader of serve's output that has gone must not kill serve:
	// Ctrl-C on "stepmon serve 2>&1 | tee serve.log" ends tee as well,
	// and the shutdown's first log line would then end serve with
	// SIGPIPE, before the checks and alerts in flight finish. With
	// SIGPIPE ignored, a write to the closed pipe fails instead (slog
	// drops the line) and the shutdown goes on. It stays ignored until
	// the process exits, so that the error message, if any, cannot kill
	// it either.
	signal.Ignore(syscall.SIGPIPE)
	tuneGC(c.getenv)
	start := time.Now()
	rt, err := local.New(ctx, cfg)
	if err != nil {
		return startError(cfg, opts.def, err)
	}
	announce(c.stderr, cfg, rt.URL(), rt.StateMachineArn(), rt.Addr(), time.Since(start), opts.logJSON)
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx) }()
	select {
	case err := <-errc:
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	return shutdown(ctx, cfg.Logger.With("component", "serve"), rt, errc)
}

// serveOptions is serve's command line and environment.
type serveOptions struct {
	cfg     local.Config
	def     string // the --definition path, "" for the embedded definition
	logJSON bool   // --log-json: everything serve writes to stderr is a JSON log line
}

// serveConfig parses serve's flags and environment into the runtime's
// configuration and the other options; it refuses what it can before
// anything is created. A refusal found once the logger exists comes
// with the options that have it (not with the definition). The reading
// of the definition gives up when ctx ends (Ctrl-C on a pipe).
func serveConfig(ctx context.Context, c *cli, args []string) (serveOptions, error) {
	fs := newFlagSet(c, "serve", "[flags]",
		`Runs the whole monitor service on this machine: the HTTP API of API Gateway
at /monitors, the Step Functions API at POST / (aws stepfunctions
--endpoint-url), the dashboard at /ui/ and /healthz. Executions, history and
timers, and the status records, live in two SQLite databases under --data,
stepmon.db and status.db: back them up together. After a crash or kill -9, a
restart continues every running monitor on time. Ctrl-C or SIGTERM stops it
gracefully: the checks and alerts in flight finish first.

Alerts go to the log and to DATA/outbox.jsonl unless a monitor names a
webhook, or --sns-endpoint / TWILIO_* configure a real channel. Checks and
webhooks may target loopback and private addresses.
Environment: GITHUB_TOKEN (GitHub checks), GITHUB_API_URL; TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN, TWILIO_FROM (and TWILIO_API_URL) send alerts with channel
"twilio" through Twilio (all three or none); AWS_ACCESS_KEY_ID/
AWS_SECRET_ACCESS_KEY sign the requests to --sns-endpoint and
--dynamodb-endpoint (default: local/local); GOGC, the garbage collector's
target, is 200 when unset (docs/local.md).`)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	data := fs.String("data", ".stepmon", "data directory (created if missing)")
	defPath := fs.String("definition", "", "state machine definition file, with the ${...} placeholders of statemachine.asl.json; it must invoke the check function, and name no Lambda function but stepmon-start, stepmon-check, stepmon-alert and stepmon-status, nor another ${...} placeholder (default: the embedded statemachine.asl.json)")
	ghURL := fs.String("github-api-url", c.getenv("GITHUB_API_URL"), "GitHub API base URL (env GITHUB_API_URL; default https://api.github.com)")
	ddbEndpoint := fs.String("dynamodb-endpoint", "", "keep status records in DynamoDB at this endpoint instead of SQLite")
	ddbTable := fs.String("dynamodb-table", "stepmon-status", "DynamoDB table of the status records (with --dynamodb-endpoint)")
	region := fs.String("region", firstNonEmpty(c.getenv("AWS_REGION"), c.getenv("AWS_DEFAULT_REGION"), "us-east-1"), "region of --dynamodb-endpoint and --sns-endpoint (env AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1)")
	snsEndpoint := fs.String("sns-endpoint", "", "send SNS alerts (topics, SMS) to this SNS endpoint (e.g. moto_server) instead of the outbox")
	retention := new(time.Duration)
	*retention = monitor.DefaultRetention
	fs.Var((*durationValue)(retention), "retention", "how long finished monitors are kept: a `duration` (168h; days are not a unit) or whole seconds (604800): status records, executions and their history (also EXPRESS machines' executions; STANDARD machines created through the API: 90 days)")
	fsync := fs.Bool("fsync", false, "wait for the disk at every commit of stepmon.db and status.db (SQLite synchronous=FULL): durable against a power loss too, not only a crash of the process, at the cost of an fsync per group commit")
	expressMax := fs.Int("express-max-events", engine.DefaultMaxExpressHistoryEvents, "the most history events (`N`) an EXPRESS execution records before it fails with States.Runtime (AWS records no EXPRESS history; this bounds the memory and disk one execution takes)")
	var allowed []string
	fs.Func("allowed-host", "a host `name` (repeatable) that requests may use besides localhost and, on a non-loopback --addr, IP addresses; any other name is refused, since a web page can make its own name resolve to this machine (DNS rebinding)", func(s string) error {
		allowed = append(allowed, s)
		return local.CheckAllowedHost(s)
	})
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logJSON := fs.Bool("log-json", false, "log JSON lines instead of text; stderr then has JSON lines only (no banner)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return serveOptions{}, err
	}
	if len(pos) > 0 {
		return serveOptions{}, usageError("serve takes no arguments; got %q", pos)
	}
	if *retention <= 0 {
		return serveOptions{}, usageError("--retention must be positive; got %v", *retention)
	}
	if *data == "" {
		return serveOptions{}, usageError("--data must not be empty: give a directory, or leave --data out for .stepmon in the working directory")
	}
	if *expressMax <= 0 {
		return serveOptions{}, usageError("--express-max-events must be positive; got %d", *expressMax)
	}
	if err := checkListenAddr(*addr); err != nil {
		return serveOptions{}, err
	}
	ghSource := "GITHUB_API_URL"
	tableSet := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "github-api-url":
			ghSource = "--github-api-url"
		case "dynamodb-table":
			tableSet = true
		}
	})
	switch {
	case tableSet && *ddbEndpoint == "":
		// The status records would be in status.db, not the table named.
		return serveOptions{}, usageError("--dynamodb-table needs --dynamodb-endpoint: without it the status records are kept in SQLite (status.db)")
	case *ddbEndpoint != "" && *ddbTable == "":
		return serveOptions{}, usageError("--dynamodb-table must not be empty: leave it out for stepmon-status")
	}
	for _, u := range []struct{ source, value string }{
		{ghSource, *ghURL},
		{"--dynamodb-endpoint", *ddbEndpoint},
		{"--sns-endpoint", *snsEndpoint},
		{"TWILIO_API_URL", c.getenv("TWILIO_API_URL")},
	} {
		if err := checkHTTPURL(u.source, u.value); err != nil {
			return serveOptions{}, err
		}
	}
	logger, err := newLogger(c, *logLevel, *logJSON)
	if err != nil {
		return serveOptions{}, err
	}
	cfg := local.Config{
		Addr:               *addr,
		DataDir:            *data,
		GitHubAPIURL:       *ghURL,
		GitHubToken:        c.getenv("GITHUB_TOKEN"),
		DynamoDBEndpoint:   *ddbEndpoint,
		DynamoDBTable:      *ddbTable,
		SNSEndpoint:        *snsEndpoint,
		AWSRegion:          *region,
		AWSAccessKeyID:     c.getenv("AWS_ACCESS_KEY_ID"),
		AWSSecretAccessKey: c.getenv("AWS_SECRET_ACCESS_KEY"),
		Twilio: local.TwilioConfig{AccountSID: c.getenv("TWILIO_ACCOUNT_SID"), AuthToken: c.getenv("TWILIO_AUTH_TOKEN"),
			From: c.getenv("TWILIO_FROM"), BaseURL: c.getenv("TWILIO_API_URL")},
		Retention:    *retention,
		FSync:        *fsync,
		AllowedHosts: allowed,
		Logger:       logger,

		ExpressMaxEvents: *expressMax,
	}
	// From here on the log exists: a failure is returned with the
	// options, so that --log-json logs it as JSON.
	opts := serveOptions{cfg: cfg, logJSON: *logJSON}
	if *defPath != "" {
		// Bounded: a definition longer than CreateStateMachine accepts
		// (/dev/zero, a pipe that never ends) is refused, not read whole.
		b, err := readDefinition(ctx, "serve", *defPath)
		if err != nil {
			return opts, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			// An empty Config.Definition means the embedded one: an
			// empty file (a failed copy, a redirect) is not that.
			return opts, fmt.Errorf("serve: --definition %s is empty: give a state machine definition, or leave --definition out for the embedded statemachine.asl.json", *defPath)
		}
		cfg.Definition = string(b)
	}
	if err := dataNotDirectory(*data); err != nil {
		return opts, err
	}
	return serveOptions{cfg: cfg, def: *defPath, logJSON: *logJSON}, nil
}

// startError is the message of local.New's failure err: a definition
// that is not valid ASL or not a monitor's, an address in use, a data
// directory that cannot be written, each with what to do.
func startError(cfg local.Config, def string, err error) error {
	if ve, ok := errors.AsType[asl.ValidationErrors](err); ok && def != "" {
		return fmt.Errorf("serve: %s is not a valid state machine definition:%s", def, definitionProblems(ve))
	}
	if de, ok := errors.AsType[*local.DefinitionError](err); ok && def != "" {
		return fmt.Errorf("serve: %s cannot run under stepmon serve:%s", def, problemLines(de.Problems))
	}
	if errors.Is(err, local.ErrNotMonitorDefinition) && def != "" {
		return fmt.Errorf("serve: %s is not a monitor definition: %w", def, local.ErrNotMonitorDefinition)
	}
	// The listener's errors say what to do, with the system's reason
	// last rather than the chain of the packages it went through.
	if syserr.AddrInUse(err) {
		return fmt.Errorf("serve: --addr %s is in use: another program, perhaps another stepmon serve, listens on it; stop it or choose another --addr (%w)", cfg.Addr, systemReason(err))
	}
	if syserr.AddrNotAvail(err) {
		return fmt.Errorf("serve: --addr %s is not an address of this machine: use 127.0.0.1, or an address of one of its network interfaces (%w)", cfg.Addr, systemReason(err))
	}
	if de, ok := errors.AsType[*net.DNSError](err); ok {
		return fmt.Errorf("serve: the host of --addr %s is no name this machine can look up: use 127.0.0.1, localhost, or an address of one of its network interfaces (%w)", cfg.Addr, de)
	}
	if err, ok := dataDirError(cfg.DataDir, err); ok {
		return err
	}
	return fmt.Errorf("serve: %w", err)
}

// announce logs and prints where the runtime serves (at u, its state
// machine smArn, listening on addr) and where its alerts go, and warns
// when it listens beyond loopback without authentication. With asJSON
// it only logs: the log line carries what the banner says, and w (the
// log's stderr) gets JSON lines only.
func announce(w io.Writer, cfg local.Config, u, smArn string, addr net.Addr, startup time.Duration, asJSON bool) {
	data := absPath(cfg.DataDir)
	a := alertRoutes(cfg, data)
	aws := awsCLI(u, smArn)
	cfg.Logger.Info("stepmon serve listening", "component", "serve", "url", u, "data", data, "startup", startup.Round(time.Millisecond),
		"stepFunctions", aws+" list-state-machines", "outbox", a.outbox, "sns", a.sns, "twilio", a.twilio)
	if !asJSON {
		fmt.Fprintf(w, `stepmon serving on %[1]s
  API            %[1]s/monitors
  dashboard      %[1]s/ui/
  Step Functions %[3]s list-state-machines
  data           %[2]s
%[4]sCtrl-C stops it gracefully: the checks and alerts in flight finish first.
`, u, data, aws, a.banner())
	}
	if !loopbackListen(addr) {
		if !asJSON {
			fmt.Fprintf(w, `WARNING: %s is not a loopback address. The local runtime has no authentication:
  anyone who can reach it can start monitors (which may check private addresses), read every
  monitor's spec with its tokens through the Step Functions API, and terminate or purge
  monitors. Use --addr 127.0.0.1:PORT unless every machine that can reach this one is yours.
  Requests must name it by IP address, localhost or a name given with --allowed-host: web
  pages can make any other name resolve to this machine.
`, cfg.Addr)
		}
		cfg.Logger.Warn("serving on a non-loopback address without authentication: anyone who can reach it can start, read (with their tokens), terminate and purge monitors; use --addr 127.0.0.1:PORT unless every machine that can reach this one is yours", "component", "serve", "addr", cfg.Addr)
	}
}

// alertRouting says where serve sends alerts: the outbox file, and the
// SNS and Twilio channels' destinations, "outbox" or the API's URL
// (without user information or query).
type alertRouting struct{ outbox, sns, twilio string }

// alertRoutes returns where the runtime of cfg, whose data directory is
// data, sends alerts; webhooks go to each monitor's own URL.
func alertRoutes(cfg local.Config, data string) alertRouting {
	a := alertRouting{outbox: filepath.Join(data, local.OutboxFile), sns: "outbox", twilio: "outbox"}
	if cfg.SNSEndpoint != "" {
		a.sns = monitor.RedactURL(cfg.SNSEndpoint)
	}
	if cfg.Twilio.AccountSID != "" {
		a.twilio = monitor.RedactURL(firstNonEmpty(cfg.Twilio.BaseURL, alerts.DefaultTwilioAPIURL))
	}
	return a
}

// banner is the alerts part of serve's banner: one line per channel.
func (a alertRouting) banner() string {
	sns, twilio := "the outbox "+a.outbox, "the outbox "+a.outbox+" (TWILIO_* not set)"
	if a.sns != "outbox" {
		sns = "the SNS API at " + a.sns + " (--sns-endpoint)"
	}
	if a.twilio != "outbox" {
		twilio = "Twilio's API at " + a.twilio
	}
	return "  alerts         webhook: to each monitor's webhookUrl\n" +
		"                 SNS (topics, SMS): to " + sns + "\n" +
		"                 Twilio SMS: to " + twilio + "\n"
}

// absPath returns path made absolute, or path itself should that fail.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// shutdown stops rt gracefully once ctx is done (a signal), then waits for
// its Serve's result on errc.
func shutdown(ctx context.Context, logger *slog.Logger, rt *local.Runtime, errc <-chan error) error {
	logger.Info("stepmon serve shutting down")
	began := time.Now()
	// The shutdown waits for the requests in progress, up to
	// shutdownClientWait; then it closes the connections still open and
	// goes on to let the checks and alerts in flight finish (up to 10 s)
	// and close the stores. A second signal closes the connections at once
	// and ends whatever else the shutdown still waits for. The engine stops
	// and the databases close in every case.
	sctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	shut := make(chan struct{})
	go func() {
		clients := time.NewTimer(shutdownClientWait)
		defer clients.Stop()
		quiet := logIfLasting(logger, fmt.Sprintf("waiting for the HTTP requests in progress to finish, up to %v; a second signal stops waiting", shutdownClientWait))
		defer quiet.Stop()
		// The HTTP part: the requests in progress end, or are cut after
		// shutdownClientWait or at a second signal.
		select {
		case <-shut:
			return
		case <-rt.HTTPDone():
		case <-clients.C:
			logger.Warn("HTTP clients still connected at shutdown: closing their connections", "waited", shutdownClientWait)
			rt.CloseConnections()
			// Shutdown goes on once the closed connections are gone; the
			// backstop ends its wait if it does not.
			backstop := time.NewTimer(10 * time.Second)
			defer backstop.Stop()
			select {
			case <-shut:
				return
			case <-rt.HTTPDone():
			case <-backstop.C:
				cancel()
				return
			case <-forced(ctx):
			}
		case <-forced(ctx):
		}
		quiet.Stop()
		// The rest (the checks and alerts in flight finishing, the stores
		// closing) has its own bounds; a second signal ends its waits.
		slow := logIfLasting(logger, "waiting for the checks and alerts in flight to finish, up to 10 s; a second signal stops waiting")
		defer slow.Stop()
		select {
		case <-shut:
		case <-forced(ctx):
			logger.Warn("second signal: no longer waiting for HTTP clients or for the checks and alerts in flight")
			rt.CloseConnections()
			cancel()
		}
	}()
	err := rt.Shutdown(sctx)
	close(shut)
	if sctx.Err() != nil {
		// Cut short on purpose: not an error.
		err = withoutCanceled(err)
	}
	if err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("serve: %w", err)
	}
	// The last line says that the shutdown is over and the databases are
	// closed: with "shutting down" last, a log cannot tell a clean stop
	// from a process killed halfway.
	logger.Info("stepmon serve stopped", "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// awsCLI is the start of an AWS CLI command line for the Step Functions
// API at endpoint that runs as it is, also without AWS configuration: it
// names the region of the state machine smArn and asks for no signature
// (the local runtime takes any credentials, and none).
func awsCLI(endpoint, smArn string) string {
	region := "us-east-1"
	if parts := strings.Split(smArn, ":"); len(parts) > 3 && parts[3] != "" {
		region = parts[3]
	}
	return "aws --region " + region + " --no-sign-request stepfunctions --endpoint-url " + endpoint
}

// withoutCanceled returns err, an error of local.Runtime.Shutdown,
// without the context.Canceled of the shutdown context serve cancelled:
// nil when nothing else failed.
func withoutCanceled(err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var rest []error
	for _, e := range errs {
		if e != context.Canceled {
			rest = append(rest, e)
		}
	}
	return errors.Join(rest...)
}

// shutdownClientWait is how long serve's shutdown waits for the HTTP
// requests in progress before it closes their connections.
const shutdownClientWait = 15 * time.Second

// shutdownQuiet is how long serve's shutdown waits for the HTTP requests
// in progress, and then for the checks and alerts in flight, before it
// logs that it waits for them.
const shutdownQuiet = time.Second

// logIfLasting logs msg once a wait has lasted shutdownQuiet, so that it
// is not taken for a hang; stopping the timer it returns, when the wait
// ends, keeps msg unsaid.
func logIfLasting(logger *slog.Logger, msg string) *time.Timer {
	return time.AfterFunc(shutdownQuiet, func() { logger.Info(msg) })
}

// newLogger returns the logger of the serve and demo commands.
func newLogger(c *cli, level string, asJSON bool) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	if asJSON {
		opts.ReplaceAttr = durationText
		return slog.New(slog.NewJSONHandler(c.stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(c.stderr, opts)), nil
}

// checkListenAddr reports a --addr that cannot be listened on whatever
// the machine's state: not host:port, or a port that is neither a number
// from 0 to 65535 nor a service name. It is a usage error, found before
// the data directory is opened.
func checkListenAddr(addr string) error {
	if scheme, rest, ok := strings.Cut(addr, "://"); ok {
		rest = strings.TrimRight(rest, "/")
		if _, _, err := net.SplitHostPort(rest); err != nil {
			rest = net.JoinHostPort(strings.Trim(rest, "[]"), "8080") // a port is needed too
		}
		return usageError("--addr %q: want host:port without a scheme, e.g. 127.0.0.1:8080 (drop the %s://: --addr %s)", addr, scheme, rest)
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			err = errors.New(ae.Err)
		}
		return usageError("--addr %q: want host:port, e.g. 127.0.0.1:8080 (%v)", addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return usageError("--addr %q: the port is not a number from 0 to 65535", addr)
	}
	return nil
}

// loopbackListen reports whether the address serve listens on takes
// connections from this machine only: a loopback IP, whatever spelled it
// (localhost, "[::1%lo]", a name /etc/hosts maps to 127.0.1.1), not every
// interface (":8080", "0.0.0.0:8080") or another address.
func loopbackListen(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// checkHTTPURL reports a value of source (a flag or an environment
// variable) that is set but not an absolute http(s) URL.
func checkHTTPURL(source, value string) error {
	if value == "" {
		return nil
	}
	_, err := httpURL(source, value)
	return err
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// definitionProblems lists a definition's problems: on the same line when
// there is one, else one per line.
func definitionProblems(ve asl.ValidationErrors) string {
	lines := make([]string, len(ve))
	for i, e := range ve {
		lines[i] = e.Error()
	}
	return problemLines(lines)
}

// problemLines lists problems: on the same line when there is one, else
// one per line.
func problemLines(problems []string) string {
	if len(problems) == 1 {
		return " " + problems[0]
	}
	var b strings.Builder
	for _, p := range problems {
		b.WriteString("\n  " + p)
	}
	return b.String()
}

// durationText writes durations in the JSON log as the text log does
// ("268ms"), not as integer nanoseconds.
func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// dataNotDirectory refuses a data directory dir that is a file, or
// lies under one ("mkdir DIR: not a directory" named neither the flag
// nor the file), or a symbolic link to nothing on the path to it; nil
// when dir and what exists of the path to it are directories.
func dataNotDirectory(dir string) error {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			return nil
		case err == nil && p == filepath.Clean(dir):
			return fmt.Errorf("serve: --data %s is a file, not a directory: choose another --data", dir)
		case err == nil:
			return fmt.Errorf("serve: --data %s is under %s, which is a file, not a directory: choose another --data", dir, p)
		}
		if target, lerr := os.Readlink(p); lerr == nil && errors.Is(err, fs.ErrNotExist) {
			// mkdir cannot follow a link whose target is missing:
			// "mkdir DIR: file exists" named neither.
			if p == filepath.Clean(dir) {
				return fmt.Errorf("serve: --data %s is a symbolic link to %s, which does not exist: create it, or choose another --data", dir, target)
			}
			return fmt.Errorf("serve: --data %s is under %s, a symbolic link to %s, which does not exist: create it, or choose another --data", dir, p, target)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// dataDirError returns err, local.New's failure, as a refusal of the data
// directory dir when it is a permission error, or a read-only file
// system, on dir, a file in it or a directory above it (which mkdir could
// not create): which flag to change, and the path once, where the layers
// below each named it ("local: data directory: dirlock: open
// DIR/stepmon.lock: permission denied"). ok is false for any other error.
func dataDirError(dir string, err error) (_ error, ok bool) {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return nil, false
	}
	readOnly := errors.Is(pe.Err, syscall.EROFS)
	if !readOnly && !errors.Is(pe.Err, fs.ErrPermission) {
		return nil, false
	}
	absDir, err1 := filepath.Abs(dir)
	absPath, err2 := filepath.Abs(pe.Path)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	var what string
	rel, relErr := filepath.Rel(absDir, absPath)
	switch {
	case relErr != nil:
		return nil, false
	case rel == ".":
		what = pe.Op // mkdir
	case rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)):
		what = pe.Op + " " + rel // open stepmon.db
	case strings.HasPrefix(absDir, absPath+string(filepath.Separator)):
		what = pe.Op + " " + pe.Path // mkdir of a directory above it
	default:
		return nil, false
	}
	if readOnly {
		return fmt.Errorf("serve: --data %s is on a read-only file system (%s: %v): choose another --data", dir, what, pe.Err), true
	}
	return fmt.Errorf("serve: --data %s is not writable by this user (%s: %v): choose another --data or fix its ownership", dir, what, pe.Err), true
}
