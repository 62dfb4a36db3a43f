package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stepmon/stepmon"
	"github.com/stepmon/stepmon/internal/alerts"
	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/dirlock"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/lambdainvoke"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/sqlitestore"
	"github.com/stepmon/stepmon/internal/stepfunctions"
)

// Names of the local functions and of the state machine, as the CDK stack
// names them on AWS.
const (
	StartFunction    = "stepmon-start"
	CheckFunction    = "stepmon-check"
	AlertFunction    = "stepmon-alert"
	StatusFunction   = "stepmon-status"
	StateMachineName = "stepmon-monitor"

	localAccount = lambdainvoke.DefaultAccount
	localRegion  = lambdainvoke.DefaultRegion
)

// DatabaseFile is the name of the engine's SQLite database under
// Config.DataDir: state machines, executions, history, pending timers.
const DatabaseFile = "stepmon.db"

// StatusDatabaseFile is the name of the SQLite database of the monitors'
// status records under Config.DataDir.
const StatusDatabaseFile = "status.db"

// OutboxFile is the name of the alert outbox under Config.DataDir.
const OutboxFile = "outbox.jsonl"

// EvalJournalFile is the name of the engine's evaluation journal under
// Config.DataDir (engine.EvalJournal): which executions are in the middle
// of a JSONata evaluation, so that one whose evaluation ended the process
// (out of memory) InterruptedEvalLimit times in a row fails instead of
// being resumed into a crash loop.
const EvalJournalFile = "evaluations.journal"

// ErrNotMonitorDefinition is New's error for a definition that never
// invokes the check function: its executions would neither check nor
// record anything, and every monitor would stay Pending.
var ErrNotMonitorDefinition = errors.New("no state invokes the check function (${" + stepmon.CheckFunctionPlaceholder + "}, or " +
	CheckFunction + " by name), so every monitor would stay Pending; start from statemachine.asl.json")

// Config configures a Runtime.
type Config struct {
	// Addr is the listen address; "" means 127.0.0.1:8080, serve's
	// default, and "127.0.0.1:0" picks a free port.
	// Ignored when Listener is set.
	Addr string
	// Listener, when set, is served instead of listening on Addr.
	Listener net.Listener
	// DataDir holds the databases (stepmon.db, status.db), the
	// evaluation journal, the directory's lock and the outbox; created if
	// missing.
	DataDir string
	// Definition is the state machine definition with the ${...}
	// placeholders of stepmon.Definition; "" means stepmon.Definition.
	Definition string
	// GitHubAPIURL is the GitHub API base URL; "" means api.github.com.
	GitHubAPIURL string
	// GitHubToken authenticates GitHub checks; "" means anonymous.
	GitHubToken string
	// DynamoDBEndpoint, when set, keeps the status records in the DynamoDB
	// table DynamoDBTable at that endpoint instead of SQLite; the table is
	// created if missing.
	DynamoDBEndpoint string
	DynamoDBTable    string
	// SNSEndpoint, when set, sends SNS alerts (topics, SMS) to that
	// endpoint instead of the outbox.
	SNSEndpoint string
	// AWSRegion and the static credentials AWSAccessKeyID and
	// AWSSecretAccessKey sign the requests to DynamoDBEndpoint and
	// SNSEndpoint; "" means us-east-1 and "local"/"local", which
	// moto_server and LocalStack accept.
	AWSRegion, AWSAccessKeyID, AWSSecretAccessKey string
	// Twilio, when its AccountSID is set, sends alerts of channel
	// "twilio" through Twilio instead of the outbox.
	Twilio TwilioConfig
	// FSync makes every commit to both SQLite files (stepmon.db and
	// status.db) wait for the disk (synchronous=FULL), so that a power
	// loss or a kernel crash loses no acknowledged write and cannot
	// break the order between the two files' commits. Without it
	// (synchronous=NORMAL) the data directory is durable against a
	// crash of the process only.
	FSync bool
	// Retention is how long finished monitors are kept: their status
	// records, and their executions with the history; 0 means
	// monitor.DefaultRetention. (Step Functions keeps closed executions
	// for 90 days; locally a week of 1 s checks is already gigabytes.)
	Retention time.Duration
	// ExpressMaxEvents bounds the history of an EXPRESS execution, which
	// AWS does not record (engine.Options.MaxExpressHistoryEvents); 0
	// means engine.DefaultMaxExpressHistoryEvents.
	ExpressMaxEvents int
	// AllowedHosts are the host names, besides IP addresses and loopback
	// names, that a request to a non-loopback address may name in its
	// Host header (serve --allowed-host): any other name is refused, as
	// a web page's DNS could have made it resolve to this address (see
	// guard). Names only, without a port.
	AllowedHosts []string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Runtime is the local service. Create it with New, run it with Serve,
// stop it with Shutdown.
type Runtime struct {
	cfg Config
	// log is the base of the components' loggers (each adds its
	// "component"; a line without one names "runtime"); rlog, component
	// "runtime", logs the runtime's own lines: start, recovery, the
	// definition, retention, shutdown.
	log      *slog.Logger
	rlog     *slog.Logger
	listener net.Listener
	url      string
	server   *http.Server

	dirLock     *dirlock.Lock
	evalJournal *engine.EvalJournal
	engineStore *sqlitestore.EngineStore
	statusStore monitor.Store
	closeStatus func() error
	engine      *engine.Engine
	funcs       *lambdainvoke.Registry
	notifier    *notifier
	smArn       string
	api         *monitor.API
	outbox      *alerts.Outbox
	// statusHealth is statusStore as the functions use it, counting the
	// writes it fails for /healthz.
	statusHealth *statusHealth
	// twilio sends the alerts of channel "twilio" when Config.Twilio is
	// set; nil sends them to the outbox.
	twilio monitor.Sender
	// allowedHosts are Config.AllowedHosts as guard compares them.
	allowedHosts map[string]bool

	// recovered and recoveredTime are what the start-up re-armed and how
	// long it took (Recovered), guarded by recMu: Serve writes them while
	// another goroutine may ask.
	recMu         sync.Mutex
	recovered     int
	recoveredTime time.Duration

	// sfnAPI is the Step Functions API over the engine: the server's,
	// and the start function's in process (inprocess.go).
	sfnAPI http.Handler
	// bodies bounds the request bodies the API routes and the Step
	// Functions API hold at once.
	bodies *bodyBudget

	// The retention sweeper (retention.go), started by Serve.
	retentionQuit, retentionDone chan struct{}
	retentionStarted             atomic.Bool

	serveOnce    sync.Once
	shutdownOnce sync.Once
	// startMu serializes Serve's start-up (re-arming, mending claims,
	// starting the notifier and the retention sweep) with Shutdown's
	// start: a Shutdown that comes during the start-up waits for it
	// instead of closing the stores under it, and a Serve that comes
	// after a Shutdown (stopping) starts nothing.
	startMu     sync.Mutex
	stopping    bool
	shutdownErr error
	done        chan struct{}
	httpDone    chan struct{} // closed once Shutdown has stopped the HTTP server (HTTPDone)
}

// New builds the runtime: it opens (or creates) the database, listens on
// the address, registers the functions and the state machine. Nothing
// runs until Serve.
func New(ctx context.Context, cfg Config) (_ *Runtime, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// Every line names a component: one logged without its own, through
	// cfg.Logger anywhere in the runtime, names "runtime".
	cfg.Logger = withComponentDefault(cfg.Logger, "runtime")
	if cfg.Definition == "" {
		cfg.Definition = stepmon.Definition
	}
	if cfg.DataDir == "" {
		return nil, errors.New("local: a data directory is required")
	}
	// What can fail without the data directory fails before it is
	// created or opened: a directory left behind by a start that could
	// never work is litter (with the default .stepmon, in whatever
	// directory the user was in).
	if err := checkDefinition(cfg.Definition); err != nil {
		return nil, err
	}
	twilio, err := newTwilioSender(cfg.Twilio)
	if err != nil {
		return nil, err
	}
	if cfg.DynamoDBEndpoint != "" && cfg.DynamoDBTable == "" {
		return nil, errors.New("local: a DynamoDB table name is required with a DynamoDB endpoint")
	}
	allowed, err := allowedHosts(cfg.AllowedHosts)
	if err != nil {
		return nil, err
	}
	r := &Runtime{cfg: cfg, log: cfg.Logger, rlog: cfg.Logger.With("component", "runtime"), funcs: lambdainvoke.NewRegistry(), done: make(chan struct{}), httpDone: make(chan struct{}),
		retentionQuit: make(chan struct{}), retentionDone: make(chan struct{}), twilio: twilio, allowedHosts: allowed}
	defer func() {
		if err != nil {
			now, cancel := context.WithCancel(context.Background())
			cancel() // nothing ran: nothing to wait for
			r.closeAll(now)
		}
	}()
	// The HTTP listener first, because the start function's sfn client
	// needs the URL.
	if err := r.listen(); err != nil {
		return nil, err
	}
	if err := r.claimDataDir(); err != nil {
		return nil, err
	}
	// Stores: the engine's and the status records, a database file each,
	// checked against each other (crosscheck.go).
	if err := r.openStores(ctx); err != nil {
		return nil, err
	}
	r.statusHealth = newStatusHealth(r.statusStore)
	if err := r.newEngine(ctx); err != nil {
		return nil, err
	}
	if err := r.registerFunctions(); err != nil {
		return nil, err
	}
	r.server = &http.Server{
		Handler:           r.mux(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       requestReadTimeout, // not the answer: see requestReadTimeout
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(r.log.With("component", "http").Handler(), slog.LevelWarn),
	}
	return r, nil
}

// checkDefinition validates the definition as CreateStateMachine does
// (the error is asl.ValidationErrors); one that is valid ASL but never
// invokes the check function runs no monitor (ErrNotMonitorDefinition),
// and one with a placeholder left or a Lambda function the runtime does
// not have would fail only when a monitor reached that state
// (*DefinitionError).
func checkDefinition(definition string) error {
	def := substituteDefinition(definition)
	m, err := asl.Parse([]byte(def))
	if err != nil {
		// A placeholder left in a Resource is no ARN: it is the cause.
		if problems := leftPlaceholdersIn(def); len(problems) > 0 {
			return &DefinitionError{Problems: problems}
		}
		return fmt.Errorf("local: the definition is invalid: %w", err)
	}
	if !invokesCheck(m) {
		return fmt.Errorf("local: %w", ErrNotMonitorDefinition)
	}
	if problems := unrunnable(def, m); len(problems) > 0 {
		return &DefinitionError{Problems: problems}
	}
	return nil
}

// listen opens the HTTP listener, cfg.Listener when set, and sets r.url.
func (r *Runtime) listen() error {
	if r.cfg.Listener != nil {
		r.listener = r.cfg.Listener
	} else {
		addr := r.cfg.Addr
		if addr == "" {
			addr = "127.0.0.1:8080"
		}
		var err error
		if r.listener, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("local: listen: %w", err)
		}
	}
	r.url = "http://" + urlHost(r.listener.Addr())
	return nil
}

// claimDataDir creates the data directory when there is none and locks
// it: one runtime per data directory, since a second one would re-arm
// the same timers and run every monitor twice.
func (r *Runtime) claimDataDir() error {
	dir := r.cfg.DataDir
	// The monitors' specs, which may hold header tokens and webhook keys,
	// are stored in it: owner only. A directory the user made keeps its
	// permissions (it may be the working directory); the files with the
	// specs in it, the databases and the outbox, are owner-only anyway.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("local: data directory: %w", err)
	}
	warning, err := checkDataDirAccess(dir, os.Getuid())
	if err != nil {
		return err
	}
	if warning != "" {
		r.rlog.Warn(warning)
	}
	if r.dirLock, err = dirlock.Acquire(dir); err != nil {
		if errors.Is(err, dirlock.ErrLocked) {
			return fmt.Errorf("local: data directory %s is used by another stepmon runtime (%w); stop it or choose another directory", dir, err)
		}
		return fmt.Errorf("local: data directory: %w", err)
	}
	return nil
}

// newEngine builds the engine over the opened stores, with lambda:invoke
// dispatched to the registry and the ends of executions reported to the
// status function, and creates or updates the monitor state machine.
func (r *Runtime) newEngine(ctx context.Context) error {
	r.notifier = newNotifier(r.funcs, StatusFunction, r.rlog)
	r.notifier.markPath = filepath.Join(r.cfg.DataDir, DeliveryMarkFile)
	disp := engine.NewDispatcher()
	engine.RegisterLambda(disp, r.funcs.Invoker())
	var err error
	if r.evalJournal, err = engine.OpenEvalJournal(filepath.Join(r.cfg.DataDir, EvalJournalFile)); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if interrupted := r.evalJournal.Interrupted(); len(interrupted) > 0 {
		r.rlog.Warn("executions were in the middle of a JSONata evaluation when the last run ended abruptly; they resume",
			"executions", interrupted, "failingAt", engine.InterruptedEvalLimit)
	}
	r.engine = engine.New(engine.Options{
		Store:       &notifyingStore{Store: r.engineStore, notify: r.notifier.executionEnded},
		Dispatcher:  disp,
		Region:      localRegion,
		AccountID:   localAccount,
		Logger:      r.log.With("component", "engine"),
		EvalJournal: r.evalJournal,

		MaxExpressHistoryEvents: r.cfg.ExpressMaxEvents,
	})
	r.notifier.store = r.engineStore
	r.notifier.commitsWaiting = func() int { return r.engine.StoreHealth().CommitsWaiting }
	if r.smArn, err = r.ensureStateMachine(ctx); err != nil {
		return err
	}
	r.notifier.stateMachineArn = r.smArn
	return nil
}

// registerFunctions builds the four functions, the Step Functions API
// the start function reaches through the real sfn client (and the body
// budget the HTTP server puts in front of it), and the monitor API, and
// registers the functions under their names.
func (r *Runtime) registerFunctions() error {
	senders, box, err := r.senders()
	if err != nil {
		return err
	}
	r.outbox = box
	tasks, err := r.tasks(senders)
	if err != nil {
		return err
	}
	r.sfnAPI = r.stepFunctionsAPI()
	r.bodies = newBodyBudget(bodyBudgetBytes, bodyBudgetWait)
	sfnClient := sfn.New(sfn.Options{
		Region:       localRegion,
		BaseEndpoint: aws.String(r.url),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second, Transport: inProcess{h: r.sfnAPI}},
	})
	r.api = &monitor.API{
		Store:     r.statusHealth,
		Workflow:  stepfunctions.New(sfnClient, r.smArn),
		Retention: r.cfg.Retention,
		Logger:    r.log.With("component", "api"),
	}
	httpHandler := apigw.NewHandler(r.api, r.log.With("component", "api"))
	r.funcs.Logger = r.log.With("component", "lambda")
	r.funcs.RegisterWithOptions(StartFunction, httpHandler.Handle, lambdainvoke.Options{Timeout: functionTimeouts[StartFunction]})
	// The notifier retries an end the function could not record, and
	// says so once (not every 30 s): the function itself stays quiet.
	statusFunction := apigw.NewFunction(httpHandler)
	statusFunction.QuietUnrecorded = true
	r.funcs.RegisterWithOptions(StatusFunction, statusFunction.Invoke, lambdainvoke.Options{Timeout: functionTimeouts[StatusFunction]})
	// Each task error is logged as the functions log it on AWS ("check
	// failed" at WARN or ERROR): otherwise only the execution's history
	// would show why a monitor failed.
	r.funcs.RegisterWithOptions(CheckFunction, monitor.LogTaskErrors(tasks.Logger, "check", tasks.Check),
		lambdainvoke.Options{Timeout: functionTimeouts[CheckFunction]})
	r.funcs.RegisterWithOptions(AlertFunction, monitor.LogTaskErrors(tasks.Logger, "alert", tasks.Alert),
		lambdainvoke.Options{Timeout: functionTimeouts[AlertFunction]})
	return nil
}

// ensureStateMachine creates the monitor state machine with the
// definition's placeholders substituted, or updates it when the definition
// changed.
func (r *Runtime) ensureStateMachine(ctx context.Context) (string, error) {
	def := substituteDefinition(r.cfg.Definition)
	arn := r.engine.StateMachineArn(StateMachineName)
	sm, err := r.engineStore.GetStateMachine(ctx, arn)
	if err == nil && sm.Status == engine.StateMachineDeleting {
		// A user deleted the machine (DeleteStateMachine) and monitors
		// still wait: they would fail at their wake-up, and the runtime
		// could not create the machine before. Fail them now, delete the
		// machine and create it again.
		if err := r.engine.CompleteDeletion(ctx, arn); err != nil {
			return "", fmt.Errorf("local: finish the deletion of the state machine: %w", err)
		}
		r.rlog.Warn("the state machine had been deleted: its monitors failed; creating it again", "stateMachineArn", arn)
		sm, err = r.engineStore.GetStateMachine(ctx, arn)
	}
	switch {
	case errors.Is(err, engine.ErrStateMachineDoesNotExist):
		if _, err := r.engine.CreateStateMachine(ctx, StateMachineName, def, ""); err != nil {
			return "", fmt.Errorf("local: create the state machine: %w", err)
		}
	case err != nil:
		return "", fmt.Errorf("local: read the state machine: %w", err)
	case !sameJSON(def, sm.Definition):
		// New has validated it. Running executions keep their revision.
		// Compared as JSON, as UpdateStateMachine compares it: a
		// respaced file is the same definition.
		if _, err := r.engineStore.UpdateStateMachine(ctx, arn, engine.StateMachineUpdate{Definition: def, RoleArn: sm.RoleArn}, time.Now().UTC()); err != nil {
			return "", fmt.Errorf("local: update the state machine: %w", err)
		}
		r.rlog.Info("state machine definition updated: monitors started from now on run it; running monitors keep the definition they started with", "stateMachineArn", arn)
	}
	return arn, nil
}

// substituteDefinition returns def with the placeholders of the
// functions replaced by the local functions' ARNs.
func substituteDefinition(def string) string {
	return stepmon.Substitute(def, map[string]string{
		stepmon.CheckFunctionPlaceholder:  lambdainvoke.FunctionArn(CheckFunction),
		stepmon.AlertFunctionPlaceholder:  lambdainvoke.FunctionArn(AlertFunction),
		stepmon.StatusFunctionPlaceholder: lambdainvoke.FunctionArn(StatusFunction),
	})
}

// URL returns the base URL the runtime serves, e.g. http://127.0.0.1:8080.
func (r *Runtime) URL() string { return r.url }

// Addr returns the address the runtime listens on.
func (r *Runtime) Addr() net.Addr { return r.listener.Addr() }

// StateMachineArn returns the ARN of the monitor state machine.
func (r *Runtime) StateMachineArn() string { return r.smArn }

// Recovered reports how many pending executions the last Serve re-armed
// from the database and how long that took.
func (r *Runtime) Recovered() (int, time.Duration) {
	r.recMu.Lock()
	defer r.recMu.Unlock()
	return r.recovered, r.recoveredTime
}

// Serve re-arms every execution pending in the database, then serves HTTP
// until Shutdown. It returns nil after Shutdown. When it cannot start (a
// store fails the reads of the start-up) or serve (the listener fails),
// it shuts the runtime down, as Shutdown does, and returns why.
func (r *Runtime) Serve(ctx context.Context) error {
	err := errors.New("local: Serve called twice")
	r.serveOnce.Do(func() { err = r.serve(ctx) })
	return err
}

func (r *Runtime) serve(ctx context.Context) error {
	r.startMu.Lock()
	if r.stopping {
		r.startMu.Unlock()
		<-r.done
		return nil
	}
	err := r.startUp(ctx)
	r.startMu.Unlock()
	if err == nil {
		err = r.server.Serve(r.listener)
		if errors.Is(err, http.ErrServerClosed) {
			<-r.done
			return nil
		}
		err = fmt.Errorf("local: serve: %w", err)
	}
	// The executions Recover re-armed run: they stop as at a graceful
	// stop (drained, the stores closed, the data directory unlocked),
	// not cut off as by a crash.
	if serr := r.Shutdown(context.Background()); serr != nil {
		r.rlog.Warn("stop after a failed start", "err", serr)
	}
	return err
}

// startUp re-arms the pending executions, mends the claims a crash left,
// and starts the notifier and the retention sweep (startMu held).
func (r *Runtime) startUp(ctx context.Context) error {
	begin := time.Now()
	n, err := r.engine.Recover(ctx)
	if err != nil {
		return fmt.Errorf("local: re-arm pending executions: %w", err)
	}
	took := time.Since(begin)
	r.recMu.Lock()
	r.recovered, r.recoveredTime = n, took
	r.recMu.Unlock()
	r.rlog.Info("pending executions re-armed", "executions", n, "took", took.Round(time.Microsecond))
	linked, released, err := r.mendClaims(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("local: monitors left starting by a crash: %w", err)
	}
	if linked+released > 0 {
		r.rlog.Info("monitors left starting by a crash mended", "executionRecorded", linked, "claimReleased", released)
	}
	r.notifier.start()
	r.retentionStarted.Store(true)
	go r.sweepRetention(r.retentionQuit, r.retentionDone)
	return nil
}

// Shutdown stops accepting requests, waits for those in progress (until
// ctx is done), stops the engine and closes the database. Executions keep
// their committed state: the next Serve on the same data directory
// continues them.
func (r *Runtime) Shutdown(ctx context.Context) error {
	r.shutdownOnce.Do(func() {
		defer close(r.done)
		r.startMu.Lock()
		r.stopping = true
		r.startMu.Unlock()
		err := r.server.Shutdown(ctx)
		r.listener.Close()
		close(r.httpDone)
		ctx, cancel := context.WithTimeout(ctx, drainWait)
		defer cancel()
		r.drain(ctx)
		r.shutdownErr = errors.Join(err, r.closeAll(ctx))
	})
	return r.shutdownErr
}

// drainWait bounds how long a shutdown waits for the checks and alerts
// running at that moment to finish and be recorded: as long as a webhook
// alert may take. What still runs after it is cancelled; a check then runs
// again at the next start, an alert is recorded as an unknown outcome.
const drainWait = 10 * time.Second

// drain lets the executions running now reach their next suspension
// point and commit it, until ctx is done (Shutdown gives it drainWait),
// so that a shutdown cuts no check or alert short.
func (r *Runtime) drain(ctx context.Context) {
	if r.engine == nil {
		return
	}
	start := time.Now()
	if !r.engine.Drain(ctx) {
		r.rlog.Warn("executions still running at shutdown are cancelled: their current step runs again at the next start",
			"waited", time.Since(start).Round(time.Millisecond))
	}
}

// handlersCloseWait bounds how long closeAll waits for the Lambda handlers
// it cancels to return.
const handlersCloseWait = 5 * time.Second

// closeAll releases what New opened, in reverse order. The Lambda
// handlers still running may finish until ctx is done (what is left of
// drainWait), then they are cancelled.
func (r *Runtime) closeAll(ctx context.Context) error {
	var errs []error
	close(r.retentionQuit)
	if r.retentionStarted.Load() {
		<-r.retentionDone
	}
	if r.engine != nil {
		errs = append(errs, r.engine.Close())
	}
	if r.evalJournal != nil {
		// After the engine: the evaluations it cancels end first, or
		// write nothing.
		errs = append(errs, r.evalJournal.Close())
	}
	// The notifier before the handlers: the engine reports no end after
	// its Close, and a delivery it makes while Close waits for the
	// handlers would invoke the status function after Close (refused: it
	// would have run on, unwatched, into the stores closed below). A
	// delivery cut short is made again at the next start (its end is after
	// the delivery mark, which stop writes only when every end reported
	// was delivered).
	if r.notifier != nil {
		// The ends reported and being delivered go through first, for
		// the rest of the drain time: the delivery mark is then written.
		r.notifier.settle(ctx)
		r.notifier.stop()
	}
	// Handlers outlive their executions' stops (as Lambda functions do):
	// an alert still being sent after its monitor was terminated is not
	// in the engine's drain. Let them finish for the rest of the drain
	// time, then end the ones still running before their stores close.
	if !r.funcs.Close(ctx, handlersCloseWait) {
		r.rlog.Warn("lambda handlers still running at shutdown", "waited", handlersCloseWait)
	}
	if r.outbox != nil {
		errs = append(errs, r.outbox.Close())
	}
	if r.closeStatus != nil {
		errs = append(errs, r.closeStatus())
	}
	if r.engineStore != nil {
		errs = append(errs, r.engineStore.Close())
	}
	if r.listener != nil && r.cfg.Listener == nil && r.server == nil {
		r.listener.Close()
	}
	// Last: the databases are closed, the next runtime may open them.
	errs = append(errs, r.dirLock.Release())
	return errors.Join(errs...)
}

// urlHost returns the host:port of a listener address for a URL.
func urlHost(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(ta.Port))
	}
	return a.String()
}

// marshal encodes v as JSON, for payloads built here.
func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
