package lambdainvoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/gopool"
	"github.com/stepmon/stepmon/internal/lambdaerr"
)

// DefaultAccount and DefaultRegion make up the ARNs of locally registered
// functions: arn:aws:lambda:us-east-1:000000000000:function:NAME.
const (
	DefaultRegion  = "us-east-1"
	DefaultAccount = "000000000000"
)

// FunctionArn returns the local ARN of the function named name.
func FunctionArn(name string) string {
	return "arn:aws:lambda:" + DefaultRegion + ":" + DefaultAccount + ":function:" + name
}

// FunctionError is a failed invocation: the handler returned an error or
// panicked. ErrorType is the name aws-lambda-go gives the error
// (lambdaerr.FromError, lambdaerr.FromPanic), which Step Functions' Retry and Catch match.
type FunctionError struct {
	Function     string
	ErrorType    string
	ErrorMessage string
	// StackTrace is the stack of a handler that panicked, as aws-lambda-go
	// reports it.
	StackTrace []lambdaerr.StackFrame
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("lambdainvoke: %s failed: %s: %s", e.Function, e.ErrorType, e.ErrorMessage)
}

// NotFoundError is an invocation of a function nobody registered; Step
// Functions reports it as Lambda.ResourceNotFoundException.
type NotFoundError struct{ Function string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("lambdainvoke: function not found: %s", e.Function)
}

// Registry maps function names to handlers. It is safe for concurrent use.
type Registry struct {
	// Logger, when set before the first invocation, receives the
	// goroutine dump of a handler that panicked, which the failure's
	// message leaves out as aws-lambda-go's does.
	Logger *slog.Logger

	mu    sync.RWMutex
	funcs map[string]*function
	// closing is cancelled by Close: it ends the invocations the engine
	// started (see Invoker), which running tracks.
	closing context.Context
	close   context.CancelFunc
	runMu   sync.Mutex // guards closed, running and idle
	closed  bool
	running int
	// idle, made by Close while invocations run, is closed when the last
	// one ends.
	idle chan struct{}
	// handlers runs the handlers of invocations that must end at their
	// timeout, and of Event invocations, on goroutines that keep their
	// grown stacks.
	handlers *gopool.Pool
}

// ErrClosed is the error of an invocation that comes after Close: its
// handler would use what the caller closes next (the stores), unwatched.
var ErrClosed = errors.New("lambdainvoke: the registry is closed")

// track counts an invocation in running and returns the function that
// ends it; ok is false, and done does nothing, once the registry is
// closed.
func (r *Registry) track() (done func(), ok bool) {
	r.runMu.Lock()
	defer r.runMu.Unlock()
	if r.closed {
		return func() {}, false
	}
	r.running++
	return func() {
		r.runMu.Lock()
		defer r.runMu.Unlock()
		r.running--
		if r.running == 0 && r.idle != nil {
			close(r.idle)
			r.idle = nil
		}
	}, true
}

// function is a registered handler. aws-lambda-go's Handler is made for
// the Lambda runtime, which invokes one event at a time: Invoke returns a
// slice of a buffer that it has already given back to the handler's pool
// for the next invocation. So each concurrent invocation takes a Handler
// of its own from handlers and copies the result out before it gives the
// Handler back.
type function struct {
	handlers sync.Pool // of lambda.Handler
	timeout  time.Duration
}

// Options configure a registered function.
type Options struct {
	// Timeout is the function's timeout, as configured on AWS: an
	// invocation's context ends at it, and an invocation still running
	// then fails with Sandbox.Timedout, even if its handler ignores its
	// context. 0 is no timeout.
	Timeout time.Duration
}

// TimedOutError is the error type (errorType) of an invocation that
// outlived its function's timeout.
const TimedOutError = "Sandbox.Timedout"

// MaxResponseBytes is the largest result Lambda returns from a synchronous
// invocation (its quota says 6 MB and it counts 6,291,556 bytes); a
// larger one fails with ResponseTooLargeError.
const MaxResponseBytes = 6_291_556

// ResponseTooLargeError is the error type (errorType) of an invocation
// whose result is over MaxResponseBytes.
const ResponseTooLargeError = "Function.ResponseSizeTooLarge"

// handlerGoroutineIdle is how long a goroutine that ran a handler waits
// for another before it ends (Registry.handlers).
const handlerGoroutineIdle = 10 * time.Second

// NewRegistry returns an empty Registry. The goroutines it keeps for its
// handlers end after ten idle seconds, or at Close.
func NewRegistry() *Registry {
	closing, cancel := context.WithCancel(context.Background())
	return &Registry{funcs: map[string]*function{}, closing: closing, close: cancel, handlers: gopool.New(handlerGoroutineIdle)}
}

// Close ends the invocations the engine started through Invoker, which
// outlive their executions' stops (an alert still being sent after its
// monitor was terminated): it lets the handlers still running finish
// until ctx is done, then cancels their contexts and waits up to wait for
// them to return. Call it before closing what the handlers use (the
// stores). It reports whether they all returned.
func (r *Registry) Close(ctx context.Context, wait time.Duration) bool {
	defer r.handlers.Close()
	r.runMu.Lock()
	r.closed = true
	if r.running == 0 {
		r.runMu.Unlock()
		r.close()
		return true
	}
	if r.idle == nil {
		r.idle = make(chan struct{})
	}
	done := r.idle
	r.runMu.Unlock()
	defer r.close()
	select {
	case <-done:
		return true
	case <-ctx.Done():
	}
	r.close()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// Register makes handler callable as name (and as its ARN, a partial ARN
// or a qualified name). handler is anything lambda.Start accepts, typically
// a func(context.Context, In) (Out, error). The function has no timeout.
func (r *Registry) Register(name string, handler any) {
	r.RegisterWithOptions(name, handler, Options{})
}

// RegisterWithOptions is Register with the function configured by o.
func (r *Registry) RegisterWithOptions(name string, handler any, o Options) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := &function{timeout: o.Timeout}
	f.handlers.New = func() any { return lambda.NewHandler(handler) }
	r.funcs[name] = f
}

// exists reports whether functionName names a registered function.
func (r *Registry) exists(functionName string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.funcs[FunctionName(functionName)]
	return ok
}

// FunctionName returns the name of the function that functionName refers
// to, in any of the forms Lambda's Invoke accepts (see SplitFunctionName).
func FunctionName(functionName string) string {
	name, _ := SplitFunctionName(functionName)
	return name
}

// SplitFunctionName splits functionName into the function's name and the
// qualifier (a version or an alias, "" for none), by the position of the
// fields between colons, as Lambda reads them: a full ARN
// (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]), a
// partial one (ACCOUNT:function:NAME[:QUALIFIER], with a 12-digit
// account), or a name (NAME[:QUALIFIER]). A name may contain "function":
// "my-function:live" is my-function, qualified live.
func SplitFunctionName(functionName string) (name, qualifier string) {
	f := strings.Split(functionName, ":")
	var rest []string
	switch {
	case len(f) >= 7 && f[0] == "arn" && f[2] == "lambda" && f[5] == "function":
		name, rest = f[6], f[7:]
	case len(f) >= 3 && f[1] == "function" && isAccount(f[0]):
		name, rest = f[2], f[3:]
	default:
		name, rest = f[0], f[1:]
	}
	return name, strings.Join(rest, ":")
}

// isAccount reports whether s is an AWS account id: 12 digits.
func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Invoke calls the function with a JSON payload and returns its JSON
// result, exactly as the Lambda service would: the payload is decoded into
// the handler's input type by aws-lambda-go and the result encoded by it.
// A handler error or panic is a *FunctionError, and so is an invocation
// still running at its function's timeout (TimedOutError; the handler's
// context ends at the earlier of the timeout and ctx's deadline); an
// unknown function is a *NotFoundError. A result that arrives at the
// timeout is discarded. With a timeout, an invocation whose ctx is
// cancelled first returns ctx's error then, and leaves its handler to
// return on its own (Close waits for it). After Close it fails with
// ErrClosed.
func (r *Registry) Invoke(ctx context.Context, functionName string, payload []byte) ([]byte, error) {
	return r.invoke(ctx, engine.Invocation{FunctionName: functionName, Payload: payload})
}

// invoke is Invoke with the invocation's metadata: the handler's context
// carries a lambdacontext.LambdaContext with inv's request id (a new one
// if it has none), the function's ARN with the qualifier it was invoked
// with, and inv's client context.
func (r *Registry) invoke(ctx context.Context, inv engine.Invocation) ([]byte, error) {
	name, qualifier := SplitFunctionName(inv.FunctionName)
	r.mu.RLock()
	f, ok := r.funcs[name]
	r.mu.RUnlock()
	if !ok {
		return nil, &NotFoundError{Function: inv.FunctionName}
	}
	if inv.Qualifier != "" {
		qualifier = inv.Qualifier
	}
	lc := &lambdacontext.LambdaContext{AwsRequestID: inv.RequestID, InvokedFunctionArn: FunctionArn(name)}
	if lc.AwsRequestID == "" {
		lc.AwsRequestID = asl.NewUUID()
	}
	if qualifier != "" {
		lc.InvokedFunctionArn += ":" + qualifier
	}
	if inv.ClientContext != nil {
		if err := json.Unmarshal(inv.ClientContext, &lc.ClientContext); err != nil {
			// As aws-lambda-go fails the invocation.
			resp := lambdaerr.FromError(errors.New("failed to unmarshal client context json: " + err.Error()))
			return nil, &FunctionError{Function: name, ErrorType: resp.ErrorType, ErrorMessage: resp.ErrorMessage}
		}
	}
	ctx = lambdacontext.NewContext(ctx, lc)
	payload := inv.Payload
	// Counted from here to the handler's return, which Close waits for.
	end, open := r.track()
	if !open {
		return nil, fmt.Errorf("lambdainvoke: invoke %s: %w", name, ErrClosed)
	}
	if f.timeout <= 0 {
		defer end()
		return r.call(ctx, f, name, payload)
	}
	deadline := time.Now().Add(f.timeout)
	if d, ok := ctx.Deadline(); ok && !d.After(deadline) {
		// The caller's deadline comes first; the caller enforces it.
		defer end()
		return r.call(ctx, f, name, payload)
	}
	// The handler runs on a goroutine of its own so that the invocation
	// ends at the timeout even if the handler ignores its context; it is
	// left to return on its own, and Close waits for it.
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	type reply struct {
		out []byte
		err error
	}
	done := make(chan reply, 1)
	r.handlers.Go(func() {
		defer end()
		out, err := r.call(hctx, f, name, payload)
		done <- reply{out, err}
	})
	select {
	case rep := <-done:
		// hctx may not have ended yet at its deadline: its timer and the
		// handler's return race, so the clock decides.
		if (hctx.Err() == nil && time.Now().Before(deadline)) || ctx.Err() != nil {
			return rep.out, rep.err
		}
		// It returned at the timeout: too late, whatever it returned.
	case <-hctx.Done():
		if err := ctx.Err(); err != nil {
			// The caller's cancellation: it does not wait for a handler
			// that ignores its context either.
			return nil, fmt.Errorf("lambdainvoke: invoke %s: %w", name, err)
		}
	}
	return nil, &FunctionError{Function: name, ErrorType: TimedOutError,
		ErrorMessage: fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", lc.AwsRequestID, f.timeout.Seconds())}
}

// call runs the handler of f.
func (r *Registry) call(ctx context.Context, f *function, name string, payload []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			resp := lambdaerr.FromPanic(p)
			if r.Logger != nil {
				r.Logger.ErrorContext(ctx, "lambda: handler panicked", "function", name,
					"error", resp.ErrorMessage, "stack", string(debug.Stack()))
			}
			out, err = nil, &FunctionError{Function: name, ErrorType: resp.ErrorType, ErrorMessage: resp.ErrorMessage,
				StackTrace: resp.StackTrace}
		}
	}()
	h := f.handlers.Get().(lambda.Handler)
	out, err = h.Invoke(ctx, payload)
	out = bytes.Clone(out)
	f.handlers.Put(h) // not after a panic: that Handler is dropped
	if err != nil {
		resp := lambdaerr.FromError(err)
		return nil, &FunctionError{Function: name, ErrorType: resp.ErrorType, ErrorMessage: resp.ErrorMessage, StackTrace: resp.StackTrace}
	}
	if len(out) > MaxResponseBytes {
		return nil, &FunctionError{Function: name, ErrorType: ResponseTooLargeError,
			ErrorMessage: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes)}
	}
	return out, nil
}
