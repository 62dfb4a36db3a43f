package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/lambdainvoke"
)

// taskFlags collects --task KEY=SPEC flags.
type taskFlags map[string]string

// String implements flag.Value.
func (t taskFlags) String() string { return "" }

// Set implements flag.Value.
func (t taskFlags) Set(v string) error {
	k, spec, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=SPEC, got %q", v)
	}
	t[k] = spec
	return nil
}

// taskSpec is one compiled --task response.
type taskSpec struct {
	mu    sync.Mutex
	calls int
	resp  []any // successive responses; the last one repeats
}

type taskSpecs map[string]*taskSpec

func (t taskFlags) compile() (taskSpecs, error) {
	out := taskSpecs{}
	for k, spec := range t {
		b := []byte(spec)
		if strings.HasPrefix(spec, "@") {
			var err error
			if b, err = os.ReadFile(spec[1:]); err != nil {
				return nil, fmt.Errorf("asl run: --task %s: %w", k, err)
			}
		}
		v, err := asl.ParseJSON(b)
		if err != nil {
			fb, ferr := os.ReadFile(spec)
			if ferr != nil {
				return nil, fmt.Errorf("asl run: --task %s: neither JSON nor a readable file: %w", k, err)
			}
			if v, err = asl.ParseJSON(fb); err != nil {
				return nil, fmt.Errorf("asl run: --task %s: %w", k, err)
			}
		}
		ts := &taskSpec{resp: []any{v}}
		if m, ok := v.(map[string]any); ok {
			if seq, ok := m["$sequence"].([]any); ok && len(seq) > 0 {
				ts.resp = seq
			}
		}
		out[k] = ts
	}
	return out, nil
}

// next returns the response for the next call.
func (s *taskSpec) next() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.resp[min(s.calls, len(s.resp)-1)]
	s.calls++
	return r
}

// lookup finds the spec of a task by, in this order: state name; Lambda
// function name (a lambda:invoke FunctionName as given, then the name in
// it, or the name in a plain function ARN Resource); Resource.
func (s taskSpecs) lookup(req engine.TaskRequest) *taskSpec {
	keys := []string{req.StateName}
	switch {
	case req.Resource == engine.LambdaInvokeResource:
		if m, ok := req.Input.(map[string]any); ok {
			if fn, _ := m["FunctionName"].(string); fn != "" {
				keys = append(keys, fn, lambdainvoke.FunctionName(fn))
			}
		}
	case strings.HasPrefix(req.Resource, "arn:aws:lambda:"):
		keys = append(keys, lambdainvoke.FunctionName(req.Resource))
	}
	for _, k := range append(keys, req.Resource) {
		if ts, ok := s[k]; ok && k != "" {
			return ts
		}
	}
	return nil
}

// unused lists, sorted, the keys of the specs no task called.
func (s taskSpecs) unused() []string {
	var keys []string
	for k, ts := range s {
		ts.mu.Lock()
		if ts.calls == 0 {
			keys = append(keys, k)
		}
		ts.mu.Unlock()
	}
	slices.Sort(keys)
	return keys
}

// warnUnused warns on w about --task keys that matched no task: most
// often a misspelt state or function name.
func (s taskSpecs) warnUnused(w io.Writer) {
	for _, k := range s.unused() {
		fmt.Fprintf(w, "stepmon: asl run: warning: --task %s matched no task (keys are state names, Lambda function names or Resource ARNs)\n", k)
	}
}

// handle answers every Task from the --task specs.
func (s taskSpecs) handle(ctx context.Context, req engine.TaskRequest) (any, error) {
	ts := s.lookup(req)
	if ts == nil {
		return nil, &engine.TaskError{Name: asl.ErrTaskFailed,
			Cause: fmt.Sprintf("no --task result is given for state %q (resource %s)", req.StateName, req.Resource)}
	}
	resp := ts.next()
	isLambda := req.Resource == engine.LambdaInvokeResource || strings.HasPrefix(req.Resource, "arn:aws:lambda:")
	if !isLambda {
		return respond(resp, req.Input, false)
	}
	inv := func(_ context.Context, call engine.Invocation) ([]byte, error) {
		in, err := asl.ParseJSON(call.Payload)
		if err != nil {
			return nil, fmt.Errorf("asl run: payload: %w", err)
		}
		v, err := respond(resp, in, true)
		if err != nil {
			return nil, err
		}
		return asl.Marshal(v)
	}
	if req.Resource == engine.LambdaInvokeResource {
		return engine.LambdaInvoke(inv)(ctx, req)
	}
	return engine.LambdaFunction(inv)(ctx, req)
}

// respond turns a response spec into a result or an error.
func respond(resp, input any, lambda bool) (any, error) {
	m, ok := resp.(map[string]any)
	if !ok {
		return resp, nil
	}
	if name, ok := m["$error"].(string); ok {
		cause, _ := m["$cause"].(string)
		if lambda {
			return nil, &engine.FunctionError{Type: name, Message: cause}
		}
		return nil, &engine.TaskError{Name: name, Cause: cause}
	}
	if echo, _ := m["$echo"].(bool); echo {
		return input, nil
	}
	return resp, nil
}
