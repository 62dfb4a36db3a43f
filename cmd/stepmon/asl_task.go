package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
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

// Set implements flag.Value. A KEY given twice is an error: which of its
// SPECs answers would be a guess.
func (t taskFlags) Set(v string) error {
	k, spec, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=SPEC, got %q", v)
	}
	if _, dup := t[k]; dup {
		return fmt.Errorf("--task %s is given twice; give each KEY once (a $sequence answers successive calls)", k)
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

// taskSpecs are the compiled --task flags by KEY.
type taskSpecs map[string]*taskSpec

// compile reads and checks every SPEC. Its errors are usage errors: the
// --task values are part of the command line.
func (t taskFlags) compile() (taskSpecs, error) {
	out := taskSpecs{}
	for _, k := range slices.Sorted(maps.Keys(t)) {
		v, err := taskValue(t[k])
		if err != nil {
			return nil, usageError("asl run: --task %s: %v", k, err)
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

// taskValue reads the JSON value of a --task SPEC: inline JSON, @FILE, or
// a FILE path.
func taskValue(spec string) (any, error) {
	if file, ok := strings.CutPrefix(spec, "@"); ok {
		return readTaskFile(file)
	}
	if spec == "" {
		return nil, errors.New("the SPEC is empty: give JSON, @FILE or a FILE path")
	}
	v, err := asl.ParseJSON([]byte(spec))
	if err == nil {
		return v, nil
	}
	if _, serr := os.Stat(spec); serr != nil {
		if msg, _, col, ok := jsonSyntax([]byte(spec)); ok {
			return nil, fmt.Errorf("%q is neither JSON (%s, at column %d) nor a file", spec, msg, col)
		}
		return nil, fmt.Errorf("%q is neither JSON (%v) nor a file", spec, err)
	}
	return readTaskFile(spec)
}

// readTaskFile reads the JSON value of a --task file, up to maxTaskFile
// bytes.
func readTaskFile(file string) (any, error) {
	b, err := readFileBounded(file, maxTaskFile)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("%s is more than %d bytes, the most a --task file may hold", file, maxTaskFile)
	}
	if err != nil {
		return nil, err
	}
	v, err := asl.ParseJSON(b)
	if err != nil {
		if msg, line, col, ok := jsonSyntax(b); ok {
			return nil, fmt.Errorf("%s:%d:%d: not JSON: %s", file, line, col, msg)
		}
		return nil, fmt.Errorf("%s: not JSON: %v", file, err)
	}
	return v, nil
}

// jsonSyntax finds the syntax error of b, a text that does not parse as
// JSON: its message and the 1-based line and column of the offending
// byte; ok is false when the error is no syntax error (a limit of
// asl.ParseJSON, say).
func jsonSyntax(b []byte) (msg string, line, col int, ok bool) {
	var se *json.SyntaxError
	if !errors.As(json.Unmarshal(b, new(any)), &se) {
		return "", 0, 0, false
	}
	at := max(int(se.Offset)-1, 0)
	line = 1 + bytes.Count(b[:at], []byte("\n"))
	col = at - bytes.LastIndexByte(b[:at], '\n')
	return se.Error(), line, col, true
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
