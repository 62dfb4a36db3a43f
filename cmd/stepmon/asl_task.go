package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/jsonpos"
	"github.com/stepmon/stepmon/internal/lambdainvoke"
	"github.com/stepmon/stepmon/internal/monitor"
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

// taskResponse is one answer of a --task spec: a result, the task input
// (echo) or a failure (errName).
type taskResponse struct {
	value   any
	echo    bool
	errName string
	cause   string
}

// taskSpec is one compiled --task response.
type taskSpec struct {
	mu    sync.Mutex
	calls int
	resp  []taskResponse // successive responses; the last one repeats
	// shadowedBy is the key that answered a task this spec's key also
	// names (one earlier in the lookup order), and shadowedState the
	// task's state: the spec was never used for that reason.
	shadowedBy, shadowedState string
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
		resp, err := compileResponses(v)
		if err != nil {
			return nil, usageError("asl run: --task %s: %v", k, err)
		}
		out[k] = &taskSpec{resp: resp}
	}
	return out, nil
}

// taskValue reads the JSON value of a --task SPEC: inline JSON, @FILE, or
// a FILE path.
func taskValue(spec string) (any, error) {
	if file, ok := strings.CutPrefix(spec, "@"); ok {
		if file == "" {
			return nil, errors.New("@ names no file: give JSON, @FILE or a FILE path")
		}
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
		return nil, fmt.Errorf("%q is not a file, nor JSON: %s%s", spec, jsonProblem([]byte(spec), err), inlineJSONHint(true, runtime.GOOS, "--task NAME=@FILE"))
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
	// A UTF-8 byte order mark is no part of the JSON, as in a
	// definition's file (readDefinition).
	b, _ = monitor.DropByteOrderMark(b)
	v, err := asl.ParseJSON(b)
	if err != nil {
		// file:line:column, as editors and compilers name a place.
		var syntax *json.SyntaxError
		if line, col, ok := jsonpos.Locate(b, 0, err); ok && errors.As(err, &syntax) {
			return nil, fmt.Errorf("%s:%d:%d: not JSON: %v", file, line, col, syntax)
		}
		return nil, fmt.Errorf("%s: not JSON: %s", file, jsonProblem(b, err))
	}
	return v, nil
}

// The directives of a --task spec. An object whose keys all start with
// "$" is a directive and must be a well-formed one; an object with any
// other key is a result as it stands (an AWS SDK response with
// "$metadata", say), and so is $literal's value.
const (
	dirError    = "$error"
	dirCause    = "$cause"
	dirEcho     = "$echo"
	dirSequence = "$sequence"
	dirLiteral  = "$literal"
)

// directives lists the directives for messages.
var directives = strings.Join([]string{dirError, dirCause, dirEcho, dirSequence, dirLiteral}, ", ")

// isDirective reports whether m is a directive: a non-empty object whose
// keys all start with "$".
func isDirective(m map[string]any) bool {
	for k := range m {
		if !strings.HasPrefix(k, "$") {
			return false
		}
	}
	return len(m) > 0
}

// directiveError is the error of a malformed directive.
func directiveError(format string, args ...any) error {
	return fmt.Errorf(format+` (an object whose keys all start with "$" is a directive: %s; {"$literal": VALUE} returns VALUE as it is)`, append(args, directives)...)
}

// compileResponses compiles a --task value: the entries of a $sequence,
// or the one response.
func compileResponses(v any) ([]taskResponse, error) {
	m, ok := v.(map[string]any)
	seq, isSeq := m[dirSequence]
	if !ok || !isDirective(m) || !isSeq {
		r, err := compileResponse(v)
		return []taskResponse{r}, err
	}
	if len(m) > 1 {
		return nil, directiveError("%s cannot be combined", keyList(m))
	}
	entries, ok := seq.([]any)
	if !ok || len(entries) == 0 {
		return nil, directiveError("%q must be a non-empty array of results, got %s", dirSequence, jsonText(seq))
	}
	out := make([]taskResponse, len(entries))
	for i, e := range entries {
		r, err := compileResponse(e)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", dirSequence, i, err)
		}
		out[i] = r
	}
	return out, nil
}

// compileResponse compiles one response, which is no $sequence.
func compileResponse(v any) (taskResponse, error) {
	m, ok := v.(map[string]any)
	if !ok || !isDirective(m) {
		return taskResponse{value: v}, nil
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch k {
		case dirError, dirCause, dirEcho, dirLiteral:
		case dirSequence:
			return taskResponse{}, directiveError("%q cannot be nested or combined with other keys", k)
		default:
			return taskResponse{}, directiveError("%q is not a directive", k)
		}
	}
	_, hasError := m[dirError]
	_, hasCause := m[dirCause]
	switch {
	case hasCause && !hasError:
		return taskResponse{}, directiveError("%q goes with %q", dirCause, dirError)
	case hasError && (len(m) == 1 || hasCause && len(m) == 2):
		name, ok := m[dirError].(string)
		if !ok || name == "" {
			return taskResponse{}, directiveError("%q must be a non-empty string, the error name, got %s", dirError, jsonText(m[dirError]))
		}
		cause, ok := m[dirCause].(string)
		if hasCause && !ok {
			return taskResponse{}, directiveError("%q must be a string, got %s", dirCause, jsonText(m[dirCause]))
		}
		return taskResponse{errName: name, cause: cause}, nil
	case len(m) > 1:
		return taskResponse{}, directiveError("%s cannot be combined", keyList(m))
	}
	if lit, ok := m[dirLiteral]; ok {
		return taskResponse{value: lit}, nil
	}
	if m[dirEcho] != true {
		return taskResponse{}, directiveError("%q must be true, got %s", dirEcho, jsonText(m[dirEcho]))
	}
	return taskResponse{echo: true}, nil
}

// keyList lists the keys of m, sorted and quoted, for a message.
func keyList(m map[string]any) string {
	var q []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		q = append(q, fmt.Sprintf("%q", k))
	}
	return strings.Join(q, " and ")
}

// jsonText is v as JSON text, for a message.
func jsonText(v any) string {
	b, err := asl.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// next returns the response for the next call.
func (s *taskSpec) next() taskResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.resp[min(s.calls, len(s.resp)-1)]
	s.calls++
	return r
}

// lookup finds the spec of a task by, in this order: state name; Lambda
// function name (a lambda:invoke FunctionName as given, then the name in
// it, or the name in a plain function ARN Resource); Resource. A later
// key that also names the task is marked as shadowed by the one found.
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
	var found *taskSpec
	winner := ""
	for _, k := range append(keys, req.Resource) {
		ts, ok := s[k]
		switch {
		case !ok || k == "" || ts == found:
		case found == nil:
			found, winner = ts, k
		default:
			ts.mu.Lock()
			if ts.shadowedBy == "" {
				ts.shadowedBy, ts.shadowedState = winner, req.StateName
			}
			ts.mu.Unlock()
		}
	}
	return found
}

// taskState is a Task state of the definition, for the warnings about
// unused keys.
type taskState struct {
	name, resource string
}

// taskStates lists the Task states of m, at any depth, sorted by name.
func taskStates(m *asl.Machine) []taskState {
	var out []taskState
	m.Any(func(st asl.State) bool {
		if ts, ok := st.(*asl.TaskState); ok {
			out = append(out, taskState{name: ts.Name, resource: ts.Resource})
		}
		return false
	})
	slices.SortFunc(out, func(a, b taskState) int { return strings.Compare(a.name, b.name) })
	return out
}

// names reports whether key names the task by its state name, its
// Resource or the function of a plain function ARN. (A lambda:invoke
// FunctionName is known only when the task runs.)
func (t taskState) names(key string) bool {
	return key == t.name || key == t.resource ||
		strings.HasPrefix(t.resource, "arn:aws:lambda:") && key == lambdainvoke.FunctionName(t.resource)
}

// warnUnused warns on w about --task keys that answered no task, and
// says why when it is known from tasks, the definition's Task states:
// another key answered first, the task is a .waitForTaskToken one, or
// it did not run; else the key matched no task that ran, most often a
// misspelt state or function name.
func (s taskSpecs) warnUnused(w io.Writer, tasks []taskState) {
	for _, k := range s.unused() {
		ts := s[k]
		ts.mu.Lock()
		by, state := ts.shadowedBy, ts.shadowedState
		ts.mu.Unlock()
		if by != "" {
			fmt.Fprintf(w, "stepmon: asl run: warning: --task %s was not used: state %s's task was answered by --task %s, which comes first (state name, then Lambda function name, then Resource ARN)\n", k, state, by)
			continue
		}
		var named []taskState
		for _, t := range tasks {
			if t.names(k) {
				named = append(named, t)
			}
		}
		i := slices.IndexFunc(named, func(t taskState) bool { return strings.HasSuffix(t.resource, ".waitForTaskToken") })
		switch {
		case i >= 0:
			fmt.Fprintf(w, "stepmon: asl run: warning: --task %s was not used: state %s is a .waitForTaskToken task, which --task cannot answer (callbacks are not supported)\n", k, named[i].name)
		case len(named) > 0:
			fmt.Fprintf(w, "stepmon: asl run: warning: --task %s was not used: state %s did not run\n", k, named[0].name)
		default:
			fmt.Fprintf(w, "stepmon: asl run: warning: --task %s matched no task that ran (keys are state names, Lambda function names or Resource ARNs)\n", k)
		}
	}
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

// answerStartExecution routes states:startExecution (and .sync, .sync:2)
// through the --task specs: a task that one names gets its answer, any
// other starts the execution in the engine, as the engine's own route
// does.
func (s taskSpecs) answerStartExecution(disp *engine.Dispatcher) {
	for _, res := range []string{engine.StartExecutionResource, engine.StartExecutionSyncResource, engine.StartExecutionSync2Resource} {
		route, err := disp.Lookup(res)
		if err != nil {
			continue
		}
		start := route.Handler
		route.Handler = func(ctx context.Context, req engine.TaskRequest) (any, error) {
			if ts := s.lookup(req); ts != nil {
				return respond(ts.next(), req.Input, false)
			}
			return start(ctx, req)
		}
		disp.Handle(res, route)
	}
}

// handler returns the handler that answers every other Task from the
// --task specs.
func (s taskSpecs) handler() engine.TaskHandler {
	return func(ctx context.Context, req engine.TaskRequest) (any, error) {
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
		if req.Resource != engine.LambdaInvokeResource {
			return engine.LambdaFunction(inv)(ctx, req)
		}
		return engine.LambdaInvoke(inv)(ctx, req)
	}
}

// respond turns a response into a result or an error.
func respond(r taskResponse, input any, lambda bool) (any, error) {
	switch {
	case r.errName != "" && lambda:
		return nil, &engine.FunctionError{Type: r.errName, Message: r.cause}
	case r.errName != "":
		return nil, &engine.TaskError{Name: r.errName, Cause: r.cause}
	case r.echo:
		return input, nil
	}
	return r.value, nil
}
