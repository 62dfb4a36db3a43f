package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// TaskRequest is what a TaskHandler receives for one attempt of a Task
// state.
type TaskRequest struct {
	Resource     string // the state's Resource ARN
	Input        any    // the effective task input (Parameters / Arguments applied)
	ExecutionArn string
	StateName    string
	Attempt      int // 0 for the first attempt, then the retry count
	// TaskToken is set for .waitForTaskToken resources.
	TaskToken string
	// Clock is the engine's clock, for handlers that stamp their results
	// with a time (lambda:invoke's Date header) that should agree with
	// the history's timestamps; nil in requests not made by the engine.
	Clock Clock
}

// TaskHandler runs a task. It returns the task result as a Go value of
// the engine's value model (nil, bool, float64, string, []any,
// map[string]any), or an error: a *TaskError names the error for
// Retry/Catch, any other error becomes States.TaskFailed. Handlers must be
// idempotent: after a crash a task may be dispatched again.
type TaskHandler func(ctx context.Context, req TaskRequest) (any, error)

// TaskError is a task failure with the Error and Cause that Retry and
// Catch see.
type TaskError struct {
	Name  string
	Cause string
}

// Error implements error.
func (e *TaskError) Error() string { return e.Name + ": " + e.Cause }

// Route describes how a Resource is dispatched and how its events are
// named.
type Route struct {
	Handler TaskHandler
	// ResourceType and ResourceName appear in TaskScheduled events (e.g.
	// "lambda" and "invoke" for arn:aws:states:::lambda:invoke).
	ResourceType string
	ResourceName string
	// Legacy marks plain Lambda function ARNs, whose events AWS names
	// LambdaFunctionScheduled, LambdaFunctionSucceeded, ...
	Legacy bool
}

// Dispatcher maps Resource ARNs to task handlers: an exact ARN first,
// then the longest registered prefix. Safe for concurrent use.
type Dispatcher struct {
	mu       sync.RWMutex
	exact    map[string]Route
	prefixes map[string]Route
}

// NewDispatcher returns an empty dispatcher.
func NewDispatcher() *Dispatcher {
	return &Dispatcher{exact: map[string]Route{}, prefixes: map[string]Route{}}
}

// Handle routes one exact Resource ARN.
func (d *Dispatcher) Handle(resource string, r Route) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.exact[resource] = r
}

// HandlePrefix routes every Resource ARN that starts with prefix.
func (d *Dispatcher) HandlePrefix(prefix string, r Route) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.prefixes[prefix] = r
}

// ErrNoHandler is returned by Lookup for a Resource nothing handles.
var ErrNoHandler = errors.New("no handler for resource")

// Lookup finds the route for a Resource ARN.
func (d *Dispatcher) Lookup(resource string) (Route, error) {
	if d == nil {
		return Route{}, fmt.Errorf("engine: dispatch %s: %w", resource, ErrNoHandler)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if r, ok := d.exact[resource]; ok {
		return fillRoute(resource, r), nil
	}
	best, found := "", false
	for p := range d.prefixes {
		if strings.HasPrefix(resource, p) && (!found || len(p) > len(best)) {
			best, found = p, true
		}
	}
	if !found {
		return Route{}, fmt.Errorf("engine: dispatch %s: %w", resource, ErrNoHandler)
	}
	return fillRoute(resource, d.prefixes[best]), nil
}

// fillRoute derives the resource type and name from an ARN such as
// arn:aws:states:::lambda:invoke when the route does not set them.
func fillRoute(resource string, r Route) Route {
	if r.ResourceType != "" {
		return r
	}
	parts := strings.Split(resource, ":")
	if len(parts) >= 7 && parts[2] == "states" && parts[3] == "" {
		r.ResourceType, r.ResourceName = parts[5], strings.Join(parts[6:], ":")
	} else if len(parts) >= 3 {
		r.ResourceType, r.ResourceName = parts[2], resource
	}
	return r
}
