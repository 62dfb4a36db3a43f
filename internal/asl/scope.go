package asl

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Scope is what an expression sees when it is evaluated: the state input
// ($), the context object ($$), the variables, and for JSONata the extra
// fields of $states.
type Scope struct {
	Input   any
	Context map[string]any
	// ContextFunc builds the context object on first use when Context
	// is nil, so states that never read $$ do not pay for it.
	ContextFunc func() map[string]any
	// ContextValue, when set, may answer a JSONPath into the context
	// object made of member names only ($$.Execution.Id: "Execution",
	// "Id") without building the object: it returns the value that path
	// selects in ContextFunc's object, or false to have the object built
	// and searched. The names must not be modified.
	ContextValue func(names []string) (any, bool)
	Vars         *Vars
	// Result and ErrorOutput are $states.result / $states.errorOutput in
	// JSONata (and the input of Assign/Output evaluation).
	Result         any
	HasResult      bool
	ErrorOutput    any
	HasErrorOutput bool
	// Now is the clock JSONata's $now() and $millis() read, once per
	// evaluation; nil is the wall clock.
	Now func() time.Time
	// Ctx, when not nil, is the context of the execution the expression
	// belongs to: an evaluation ends soon after it is done (the
	// execution was stopped, or the runtime shuts down). Nil is
	// context.Background.
	Ctx context.Context
	// Deadline, when not zero, ends a JSONata evaluation still running
	// then, as a time of the wall clock (time.Now): the deadline of the
	// execution the expression belongs to (its TimeoutSeconds). It costs
	// nothing more than the evaluation's own time limit, which reads the
	// same clock: no timer is armed.
	Deadline time.Time
	// Watch, when not nil, is told of each JSONata evaluation in the
	// scope: as it starts and as it ends, however it ends. Nil costs
	// nothing.
	Watch EvalWatcher

	err *Error // see Err
}

// EvalWatcher is told when JSONata evaluations start and end: the engine
// records which executions are in the middle of one, to tell after the
// process ended abruptly which evaluation may have ended it (an
// evaluation's memory is not bounded). Its methods may be called from
// many goroutines at once.
type EvalWatcher interface {
	// JSONataStarted is called as an evaluation starts; what it returns
	// is passed to JSONataEnded as the evaluation ends.
	JSONataStarted() int
	JSONataEnded(token int)
}

// Vars is one variable scope. Inner scopes (an INLINE Map iteration, a
// Parallel branch) read the variables of their outer scopes and assign
// their own; a DISTRIBUTED Map iteration starts from a new root scope.
// A root scope and its inner scopes share one count of the size of the
// variables they hold (Assign).
type Vars struct {
	parent *Vars
	m      map[string]any
	// sizes holds the size of each variable of m once measured, local
	// their sum; budget is shared with the root scope.
	sizes  map[string]int
	local  int64
	budget *varBudget
}

// varBudget counts the size of the variables of a root scope and its
// inner scopes, against MaxVariablesSize.
type varBudget struct {
	once  sync.Once // measures the root scope's variables, at the first Assign
	root  *Vars
	total atomic.Int64
}

// AWS's quotas on workflow variables, in bytes of their JSON text.
const (
	// MaxVariableSize is the size of one variable's value.
	MaxVariableSize = 256 * 1024
	// MaxAssignSize is the size of the values one state assigns together.
	MaxAssignSize = 256 * 1024
	// MaxVariablesSize is the size of the variables an execution holds
	// at once.
	MaxVariablesSize = 10 * 1024 * 1024
)

// NewVars returns a root scope holding m (which it takes ownership of).
func NewVars(m map[string]any) *Vars {
	if m == nil {
		m = map[string]any{}
	}
	v := &Vars{m: m, budget: &varBudget{}}
	v.budget.root = v
	return v
}

// Child returns an inner scope of v.
func (v *Vars) Child() *Vars { return &Vars{parent: v, m: map[string]any{}, budget: v.budget} }

// Release ends an inner scope (its iteration or branch has ended): its
// variables no longer count against MaxVariablesSize.
func (v *Vars) Release() {
	if v.parent != nil && v.local != 0 {
		v.budget.total.Add(-v.local)
		v.local = 0
	}
}

// Assign sets the variables a state assigns, in this scope, after
// checking them against AWS's quotas: each value's JSON text at most
// MaxVariableSize bytes, all of them together at most MaxAssignSize, and
// the variables of the root scope and its inner scopes at most
// MaxVariablesSize once assigned (a variable assigned again counts its
// new value instead of its old one). Past a quota it sets nothing and
// returns States.DataLimitExceeded, whose cause names the state and the
// quota. The sizes of a root scope's variables (those of a run state it
// was resumed from, too) are measured at its first Assign, so the count
// does not depend on the restarts in between. Assign must not be called
// on a scope at the same time as on its outer scopes; inner scopes of one
// scope may assign at the same time.
func (v *Vars) Assign(state string, vals map[string]any) *Error {
	b := v.budget
	b.once.Do(b.root.measure)
	sizes := make(map[string]int, len(vals))
	sum := 0
	for k, x := range vals {
		n := textLen(x, MaxVariableSize)
		if n > MaxVariableSize {
			return Errorf(ErrDataLimitExceeded, "The state '%s' assigned a value to the variable '%s' whose size exceeds the maximum of %d bytes for a variable.", state, k, MaxVariableSize)
		}
		if sum += n; sum > MaxAssignSize {
			return Errorf(ErrDataLimitExceeded, "The state '%s' assigned variables whose size exceeds the maximum of %d bytes for the values of one Assign.", state, MaxAssignSize)
		}
		sizes[k] = n
	}
	delta := int64(sum)
	if v.sizes == nil {
		v.sizes = make(map[string]int, len(vals))
	}
	for k := range vals {
		delta -= int64(v.sizes[k])
	}
	if total := b.total.Add(delta); total > MaxVariablesSize {
		b.total.Add(-delta)
		return Errorf(ErrDataLimitExceeded, "The state '%s' assigned variables that would bring the variables of the execution to %d bytes, beyond the maximum of %d bytes.", state, total, MaxVariablesSize)
	}
	v.local += delta
	for k, x := range vals {
		v.m[k] = x
		v.sizes[k] = sizes[k]
	}
	return nil
}

// measure counts the variables a root scope holds before its first
// Assign.
func (v *Vars) measure() {
	v.sizes = make(map[string]int, len(v.m))
	for k, x := range v.m {
		n := textLen(x, MaxVariablesSize)
		v.sizes[k] = n
		v.local += int64(n)
	}
	v.budget.total.Add(v.local)
}

// Lookup finds a variable in this scope or an outer one.
func (v *Vars) Lookup(name string) (any, bool) {
	for s := v; s != nil; s = s.parent {
		if x, ok := s.m[name]; ok {
			return x, true
		}
	}
	return nil, false
}

// Local returns the variables of this scope only (not the outer ones).
// The caller must not modify the map.
func (v *Vars) Local() map[string]any { return v.m }

// All returns every visible variable, inner scopes winning.
func (v *Vars) All() map[string]any {
	out := map[string]any{}
	var chain []*Vars
	for s := v; s != nil; s = s.parent {
		chain = append(chain, s)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		for k, x := range chain[i].m {
			out[k] = x
		}
	}
	return out
}

// ContextObject returns the context object ($$), building it on first use.
func (sc *Scope) ContextObject() map[string]any {
	if sc.Context == nil && sc.ContextFunc != nil {
		sc.Context = sc.ContextFunc()
	}
	return sc.Context
}

// Err returns the failure of the last path evaluated in the scope that
// could not be evaluated to its end (a path over its work budget), which
// Path.Eval reports as selecting nothing; nil when there is none.
func (sc *Scope) Err() *Error { return sc.err }

// ctx returns the scope's context.
func (sc *Scope) ctx() context.Context {
	if sc.Ctx != nil {
		return sc.Ctx
	}
	return context.Background()
}

// now reads the scope's clock.
func (sc *Scope) now() time.Time {
	if sc.Now != nil {
		return sc.Now()
	}
	return time.Now()
}
