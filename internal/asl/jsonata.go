package asl

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/recolabs/gnata"
)

// jsonataTimeout bounds one evaluation of a JSONata expression (AWS
// documents no such limit). gnata looks at the context before each node
// it evaluates, so an evaluation ends soon after it.
var jsonataTimeout = 10 * time.Second

// An evaluation (of a JSONata expression, or of a path's filters) that
// runs past longEval takes one of the longTurns to go on, waiting for
// one while its time limit runs: at most that many long evaluations use
// the CPU at once, one fewer than GOMAXPROCS when the package is loaded
// (the cores, unless it is set), so that runaway expressions
// started together leave a core to the other executions (and their
// garbage to the collector) instead of sharing all of them. Evaluations
// shorter than longEval, nearly all, never wait.
var (
	longEval  = 100 * time.Millisecond
	longTurns = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))
)

// JSONata is a compiled JSONata expression (the text between {% and %}).
// It runs on github.com/recolabs/gnata with the functions AWS adds
// ($partition, $range, $hash, $random, $uuid, $parse) and without $eval.
// $now() and $millis() read the scope's clock once per evaluation, so
// every call within one evaluation returns the same time, to the
// millisecond.
type JSONata struct {
	src  string
	expr *gnata.Expression
	// readsClock: the expression names $now or $millis, which are bound
	// for each of its evaluations.
	readsClock bool
	// walksObjects: the expression may walk an object's members, so it
	// gets its objects in a fixed order (jsonata_order.go).
	walksObjects bool
	// parses: the expression names $parse, whose objects are ordered
	// too when it walks objects.
	parses bool
}

// String returns the expression text.
func (j *JSONata) String() string { return j.src }

// IsJSONataString reports whether s is a JSONata expression string
// ({% ... %}) and returns the expression. As on AWS, s must start with
// "{%" and end with "%}" exactly: " {% 1 %}" is a literal string.
func IsJSONataString(s string) (string, bool) {
	if len(s) >= 4 && strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}") {
		return strings.TrimSpace(s[2 : len(s)-2]), true
	}
	return "", false
}

// CompileJSONata compiles a JSONata expression.
func CompileJSONata(src string) (j *JSONata, err error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("jsonata: empty expression")
	}
	e, err := gnata.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("jsonata %q: %w", src, err)
	}
	readsClock := strings.Contains(src, "$now") || strings.Contains(src, "$millis")
	return &JSONata{src: src, expr: e, readsClock: readsClock, walksObjects: orderedObjects && walksObjects(src),
		parses: strings.Contains(src, "$parse")}, nil
}

var awsFuncs = map[string]gnata.CustomFunc{
	"eval": func([]any, any) (any, error) {
		return nil, fmt.Errorf("the function $eval is not supported")
	},
	"partition": func(args []any, _ any) (any, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("$partition takes 2 arguments")
		}
		v, err := fnArrayPartition([]any{args[0], numArg(args[1])})
		if err == nil && exceedsBytes(v, maxIntrinsicBytes) {
			return nil, fmt.Errorf("the result of $partition exceeds the maximum payload size of %d bytes", maxIntrinsicBytes)
		}
		return v, err
	},
	"range": func(args []any, _ any) (any, error) {
		if len(args) != 3 {
			return nil, fmt.Errorf("$range takes 3 arguments")
		}
		v, err := fnArrayRange([]any{numArg(args[0]), numArg(args[1]), numArg(args[2])})
		if arr, ok := v.([]any); ok && len(arr) == 1 {
			return arr[0], nil // a JSONata sequence of one is its item
		}
		return v, err
	},
	"hash": func(args []any, _ any) (any, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("$hash takes 2 arguments")
		}
		return fnHash(args)
	},
	"random": func(args []any, _ any) (any, error) {
		switch len(args) {
		case 0:
			var b [8]byte
			_, _ = rand.Read(b[:])
			return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53), nil
		case 1:
			// AWS's $random takes a seed, unlike JSONata's: the same
			// seed gives the same number, as States.MathRandom's does
			// (from the same generator, so not AWS's number).
			seed, ok := numArg(args[0]).(float64)
			if !ok {
				return nil, fmt.Errorf("$random takes a number as its seed")
			}
			return seededRand(seed).Float64(), nil
		}
		return nil, fmt.Errorf("$random takes at most 1 argument, a seed")
	},
	"uuid": func([]any, any) (any, error) { return NewUUID(), nil },
	"parse": func(args []any, _ any) (any, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("$parse takes 1 argument")
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("$parse takes a string")
		}
		return ParseJSON([]byte(s))
	},
}

func numArg(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return v
}

// awsFuncValues holds the functions AWS adds (and the $eval that fails),
// as gnata function values bound over the standard library for each
// evaluation: cheaper than a new environment per evaluation.
var awsFuncValues = func() map[string]any {
	env := gnata.NewCustomEnv(awsFuncs)
	out := make(map[string]any, len(awsFuncs))
	for name := range awsFuncs {
		f, ok := env.Lookup(name)
		if !ok {
			panic("asl: cannot bind the JSONata function $" + name)
		}
		out[name] = f
	}
	return out
}()

// clockFuncs returns $now and $millis telling t, to the millisecond.
// gnata's own read the wall clock at each call.
func clockFuncs(t time.Time) map[string]gnata.CustomFunc {
	ms := t.UnixMilli()
	return map[string]gnata.CustomFunc{
		"now": func(args []any, _ any) (any, error) {
			if len(args) > 2 {
				return nil, fmt.Errorf("$now takes at most 2 arguments")
			}
			args = append(args, nil, nil)
			if args[0] == nil && args[1] == nil {
				return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), nil
			}
			return fromMillis.EvalWithVars(context.Background(), nil,
				map[string]any{"ms": float64(ms), "picture": args[0], "timezone": args[1]})
		},
		"millis": func(args []any, _ any) (any, error) {
			if len(args) != 0 {
				return nil, fmt.Errorf("$millis takes no arguments")
			}
			return float64(ms), nil
		},
	}
}

// fromMillis formats $now(picture, timezone) the way JSONata defines it.
var fromMillis = func() *gnata.Expression {
	e, err := gnata.Compile("$fromMillis($ms, $picture, $timezone)")
	if err != nil {
		panic(err)
	}
	return e
}()

// jsonataNull is gnata's JSON null, which a variable holding null must be
// bound to (a Go nil binding reads as undefined).
var jsonataNull = func() any {
	e, err := gnata.Compile("null")
	if err != nil {
		panic(err)
	}
	v, err := e.Eval(context.Background(), nil)
	if err != nil || !gnata.IsNull(v) {
		panic("asl: cannot obtain the JSONata null value")
	}
	return v
}()

// Eval evaluates the expression. defined is false when the result is
// undefined (JSONata's "nothing"). An evaluation that lasts longer than
// jsonataTimeout, or whose scope's context ends, or that runs on to the
// scope's Deadline, fails. The scope's Watch, if any, is told of the
// evaluation's start and end.
func (j *JSONata) Eval(sc *Scope) (v any, defined bool, err error) {
	if w := sc.Watch; w != nil {
		token := w.JSONataStarted()
		defer w.JSONataEnded(token)
	}
	states := map[string]any{"input": sc.Input}
	if c := sc.ContextObject(); c != nil {
		states["context"] = c
	}
	if sc.HasResult {
		states["result"] = sc.Result
	}
	if sc.HasErrorOutput {
		states["errorOutput"] = sc.ErrorOutput
	}
	var user map[string]any
	if sc.Vars != nil {
		user = sc.Vars.All()
	}
	input, statesValue := sc.Input, any(states)
	var ord *ordering // see jsonata_order.go
	if j.walksObjects {
		// What the expression names, not everything in scope: a large
		// variable it never reads costs nothing.
		ord = newOrdering()
		input = ord.in(input) // the same object as $states.input
		statesValue = ord.top(states, func(member string) bool { return refersTo(j.src, "$states", member) })
	}
	vars := make(map[string]any, len(user)+len(awsFuncValues)+1)
	for k, x := range user {
		if x == nil {
			x = jsonataNull
		} else if ord != nil && refersTo(j.src, "$"+k, "") {
			x = ord.in(x)
		}
		vars[k] = x
	}
	for k, f := range awsFuncValues {
		vars[k] = f
	}
	vars["states"] = statesValue
	ctx := &evalContext{Context: sc.ctx(), limit: jsonataTimeout, scopeDeadline: sc.Deadline}
	defer ctx.release()
	var own map[string]gnata.CustomFunc // functions bound for this evaluation
	if j.readsClock {
		own = clockFuncs(sc.now())
	}
	if ord != nil && j.parses {
		// $parse's objects ordered like the input's.
		if own == nil {
			own = map[string]gnata.CustomFunc{}
		}
		own["parse"] = func(args []any, focus any) (any, error) {
			v, err := awsFuncs["parse"](args, focus)
			if err != nil {
				return nil, err
			}
			return ord.in(v), nil
		}
	}
	var r any
	if own != nil {
		// A root environment per evaluation (gnata has no lighter way to
		// bind a Go function), for the expressions that need one.
		env := gnata.NewCustomEnv(own)
		for k, x := range vars {
			if _, ok := own[k]; !ok {
				env.Bind(k, x)
			}
		}
		r, err = j.expr.EvalWithCustomFuncs(ctx, input, env)
	} else {
		r, err = j.expr.EvalWithVars(ctx, input, vars)
	}
	if err != nil {
		return nil, false, ctx.interruption(err)
	}
	if ord != nil {
		r = ord.out(r)
	}
	if r == nil {
		return nil, false, nil
	}
	if gnata.IsNull(r) {
		return nil, true, nil
	}
	v, err = normalize(gnata.NormalizeValue(r))
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// evalContext is the context of one evaluation: its parent's, ended
// limit after the evaluation started, or at the scope's Deadline if that
// comes first, too. gnata asks only Err (before each node it evaluates,
// and in ranges), never Done, which is the parent's and is not closed at
// the deadline; a path's filters ask it before each comparison or
// function call (pathWalk). Err reads the clock at every clockStride-th
// call only, and the time limit counts from the first of those reads: the
// clock costs more than many an evaluation, which then never reads it.
type evalContext struct {
	context.Context
	limit    time.Duration
	calls    int
	deadline time.Time
	// started is when the clock was first read; turns is the channel of
	// longTurns the evaluation took a turn of, nil while it holds none
	// (see release).
	started time.Time
	turns   chan struct{}
	// waited is set when the time limit came while the evaluation
	// waited for a turn, for the error's words.
	waited bool
	// scopeDeadline is the scope's Deadline; atScopeDeadline is set
	// when it is the one deadline holds.
	scopeDeadline   time.Time
	atScopeDeadline bool
}

// clockStride is how many calls of evalContext.Err read the clock once.
const clockStride = 16

// Deadline implements context.Context: none until the clock was read.
func (c *evalContext) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

// Err implements context.Context.
func (c *evalContext) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if c.calls++; c.calls%clockStride != 0 {
		return nil
	}
	now := time.Now()
	if c.deadline.IsZero() {
		c.started, c.deadline = now, now.Add(c.limit)
		if !c.scopeDeadline.IsZero() && c.scopeDeadline.Before(c.deadline) {
			c.deadline, c.atScopeDeadline = c.scopeDeadline, true
		}
	}
	if !now.Before(c.deadline) {
		return context.DeadlineExceeded
	}
	if c.turns == nil && now.Sub(c.started) >= longEval {
		return c.takeTurn(now)
	}
	return nil
}

// takeTurn takes one of the longTurns for an evaluation that has run for
// longEval, waiting for one until its deadline or the end of its parent
// context, whose errors it then returns.
func (c *evalContext) takeTurn(now time.Time) error {
	turns := longTurns
	select {
	case turns <- struct{}{}:
		c.turns = turns
		return nil
	default:
	}
	wait := time.NewTimer(c.deadline.Sub(now))
	defer wait.Stop()
	select {
	case turns <- struct{}{}:
		c.turns = turns
		return nil
	case <-c.Context.Done():
		return c.Context.Err()
	case <-wait.C:
		c.waited = true
		return context.DeadlineExceeded
	}
}

// release gives back the turn the evaluation took, if it took one; every
// evaluation calls it when it ends.
func (c *evalContext) release() {
	if c.turns != nil {
		<-c.turns
		c.turns = nil
	}
}

// interruption words err as what ended the evaluation when it is a
// context's error: the end of the parent context, the scope's Deadline,
// or else the time limit. Other errors are returned as they are.
func (c *evalContext) interruption(err error) error {
	switch {
	case !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled):
		return err
	case c.Context.Err() != nil:
		return fmt.Errorf("the evaluation was cancelled: its execution was stopped or the runtime is shutting down")
	case c.atScopeDeadline:
		return fmt.Errorf("the evaluation was ended at the deadline of its execution (%s)", c.deadline.UTC().Format(time.RFC3339Nano))
	}
	if c.waited {
		return fmt.Errorf("the evaluation took longer than %v, the limit of one JSONata evaluation, most of it waiting for its turn while other long evaluations ran", c.limit)
	}
	return fmt.Errorf("the evaluation took longer than %v, the limit of one JSONata evaluation", c.limit)
}

// normalize converts numbers to float64 and drops values JSON cannot
// hold (functions), so results join the engine's value model. A number
// that is not finite (1/0, which gnata lets through) is JSONata's error
// D1001, wherever it is in the result.
func normalize(v any) (any, error) {
	var n normalizer
	return n.value(v)
}

// normalizer is one normalize. A map or array that needs no change is
// kept, not copied: a result that refers to parts of the input, such as
// the N results of $states.input.**.a on an input nested N levels deep
// (each holding the rest of it), is then not copied into O(N²) values.
// Past normalizeMemoFrom maps and arrays it remembers what it made of
// each, so that a part the result holds many times over is walked once.
type normalizer struct {
	seen int
	memo map[Identity]any
}

// normalizeMemoFrom is the number of maps and arrays a normalize walks
// before it remembers them: smaller results cost less to walk again than
// to look up.
const normalizeMemoFrom = 1024

func (n *normalizer) value(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return v, nil
	case float64:
		return finite(x)
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float32:
		return finite(float64(x))
	case json.Number:
		f, _ := x.Float64()
		return finite(f)
	case []any, map[string]any:
		return n.composite(v)
	}
	if gnata.IsNull(v) {
		return nil, nil
	}
	return funcValue{}, nil
}

// composite normalizes a map or an array: v itself when none of its
// members changes.
func (n *normalizer) composite(v any) (any, error) {
	id, ok := IdentityOf(v)
	if ok && n.memo != nil {
		if out, ok := n.memo[id]; ok {
			return out, nil
		}
	}
	if n.seen++; n.seen == normalizeMemoFrom {
		n.memo = make(map[Identity]any)
	}
	out, err := n.members(v)
	if err != nil {
		return nil, err
	}
	if ok && n.memo != nil {
		n.memo[id] = out
	}
	return out, nil
}

func (n *normalizer) members(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		var out []any // made at the first member that changes
		for i, e := range x {
			m, err := n.value(e)
			if err != nil {
				return nil, err
			}
			if out == nil && !same(m, e) {
				out = append(make([]any, 0, len(x)), x[:i]...)
			}
			if out != nil && !isFunc(m) {
				out = append(out, m)
			}
		}
		if out == nil {
			return v, nil
		}
		return out, nil
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			m, err := n.value(e)
			if err != nil {
				return nil, err
			}
			if out == nil {
				if same(m, e) {
					continue
				}
				out = maps.Clone(x) // the members before k are kept as they are
			}
			if isFunc(m) {
				delete(out, k)
			} else {
				out[k] = m
			}
		}
		if out == nil {
			return v, nil
		}
		return out, nil
	}
	return v, nil
}

// same reports whether normalize kept e as it is (m): a map or an array
// it did not copy, or a value of the value model.
func same(m, e any) bool {
	switch x := e.(type) {
	case nil, bool, string, float64:
		return true
	case []any, map[string]any:
		a, aok := IdentityOf(m)
		b, bok := IdentityOf(x)
		if aok || bok {
			return aok && bok && a == b
		}
		// Empty maps and arrays: kept when of the same type.
		switch m.(type) {
		case []any:
			_, ok := e.([]any)
			return ok
		case map[string]any:
			_, ok := e.(map[string]any)
			return ok
		}
	}
	return false
}

func finite(f float64) (any, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("D1001: Number out of range: %g", f)
	}
	return f, nil
}

// funcValue stands for a JSONata function value, which JSON cannot hold.
type funcValue struct{}

func isFunc(v any) bool { _, ok := v.(funcValue); return ok }
