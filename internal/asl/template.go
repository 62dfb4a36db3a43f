package asl

import (
	"fmt"
	"strconv"
	"strings"
)

// QueryLanguage is JSONPath (the default) or JSONata.
type QueryLanguage string

// Query languages.
const (
	LangJSONPath QueryLanguage = "JSONPath"
	LangJSONata  QueryLanguage = "JSONata"
)

// Template is a compiled payload template: Parameters, ResultSelector,
// ItemSelector and Assign in JSONPath states (keys ending in ".$" take a
// path or an intrinsic function), or Arguments, Output and Assign in
// JSONata states (any string "{% ... %}" is an expression).
type Template struct {
	field string // the state field, e.g. "Parameters"
	root  *tnode
}

type tkind uint8

const (
	tLit tkind = iota
	tObj
	tArr
	tPath
	tIntrinsic
	tJSONata
)

type tnode struct {
	kind  tkind
	lit   any
	keys  []string // output keys (tObj)
	srcs  []string // keys as written, for messages (tObj)
	vals  []*tnode // tObj, tArr
	path  *Path
	intr  *Intrinsic
	jx    *JSONata
	where string // location for messages, e.g. "Assign/result"
}

// CompileTemplate compiles v (a decoded JSON value) as the template of
// the given state field.
func CompileTemplate(field string, v any, lang QueryLanguage) (*Template, error) {
	n, err := compileNode(v, lang, field)
	if err != nil {
		return nil, err
	}
	return &Template{field: field, root: n}, nil
}

func compileNode(v any, lang QueryLanguage, where string) (*tnode, error) {
	switch x := v.(type) {
	case map[string]any:
		n := &tnode{kind: tObj, where: where}
		dynamic := false
		for _, k := range sortedKeys(x) {
			val := x[k]
			out := k
			var child *tnode
			if lang == LangJSONPath && strings.HasSuffix(k, ".$") {
				out = strings.TrimSuffix(k, ".$")
				s, ok := val.(string)
				if !ok {
					return nil, fmt.Errorf("the value of %q must be a path or an intrinsic function", where+"/"+k)
				}
				var err error
				child, err = compileDynamic(s)
				if err != nil {
					return nil, fmt.Errorf("the value of %q: %w", where+"/"+k, err)
				}
				child.where = k
			} else {
				var err error
				child, err = compileNode(val, lang, where+"/"+k)
				if err != nil {
					return nil, err
				}
			}
			if child.kind != tLit {
				dynamic = true
			}
			n.keys = append(n.keys, out)
			n.srcs = append(n.srcs, k)
			n.vals = append(n.vals, child)
		}
		if !dynamic {
			return &tnode{kind: tLit, lit: v}, nil
		}
		return n, nil
	case []any:
		n := &tnode{kind: tArr, where: where}
		dynamic := false
		for i, e := range x {
			child, err := compileNode(e, lang, where+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			if child.kind != tLit {
				dynamic = true
			}
			n.vals = append(n.vals, child)
		}
		if !dynamic {
			return &tnode{kind: tLit, lit: v}, nil
		}
		return n, nil
	case string:
		if lang == LangJSONata {
			if src, ok := IsJSONataString(x); ok {
				jx, err := CompileJSONata(src)
				if err != nil {
					return nil, err
				}
				return &tnode{kind: tJSONata, jx: jx, where: where}, nil
			}
		}
	}
	return &tnode{kind: tLit, lit: v}, nil
}

// compileDynamic compiles the value of a ".$" key: an intrinsic function
// or a path ($, $$ or a variable).
func compileDynamic(s string) (*tnode, error) {
	if isIntrinsic(s) {
		c, err := CompileIntrinsic(s)
		if err != nil {
			return nil, err
		}
		return &tnode{kind: tIntrinsic, intr: c}, nil
	}
	p, err := CompilePath(s)
	if err != nil {
		return nil, err
	}
	return &tnode{kind: tPath, path: p}, nil
}

// LiteralString returns the value of key in a template that is an object
// when that value is a literal string, as written in the definition (JSON
// escapes decoded); false when the key is missing, or its value is a path,
// an intrinsic function, a JSONata expression or not a string.
func (t *Template) LiteralString(key string) (string, bool) {
	if t == nil || t.root == nil {
		return "", false
	}
	switch n := t.root; n.kind {
	case tLit:
		m, _ := n.lit.(map[string]any)
		s, ok := m[key].(string)
		return s, ok
	case tObj:
		for i, k := range n.keys {
			if k == key && n.vals[i].kind == tLit {
				s, ok := n.vals[i].lit.(string)
				return s, ok
			}
		}
	}
	return "", false
}

// Eval evaluates the template. Failures are *Error values.
//
// The results of its intrinsic functions may take maxIntrinsicBytes of
// JSON text together, as the template's value, which holds them, may:
// beyond it, the evaluation fails with States.DataLimitExceeded before
// it builds more.
func (t *Template) Eval(sc *Scope) (any, error) {
	used := 0
	return t.root.eval(sc, &used)
}

// eval evaluates n; *used counts the JSON text of the values it built.
func (n *tnode) eval(sc *Scope, used *int) (any, error) {
	switch n.kind {
	case tLit:
		return n.lit, nil
	case tObj:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			v, err := n.vals[i].eval(sc, used)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case tArr:
		out := make([]any, len(n.vals))
		for i, c := range n.vals {
			v, err := c.eval(sc, used)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case tPath:
		v, ok := n.path.Eval(sc)
		if !ok {
			if e := sc.Err(); e != nil {
				return nil, e
			}
			return nil, Errorf(ErrRuntime, "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", n.path.src, n.where, Text(sc.Input))
		}
		return v, nil
	case tIntrinsic:
		v, err := n.intr.Eval(sc)
		if err == nil && jsonLen(v, used, maxIntrinsicBytes) {
			return nil, Errorf(ErrDataLimitExceeded, "The results of the intrinsic functions up to the field '%s' exceed the maximum payload size of %d bytes.", n.where, maxIntrinsicBytes)
		}
		return v, err
	case tJSONata:
		return EvalJSONataField(n.jx, n.where, sc)
	}
	return nil, fmt.Errorf("asl: bad template node")
}

// EvalJSONataField evaluates a JSONata expression for a state field and
// turns an undefined result or an evaluation error into the
// States.QueryEvaluationError AWS reports for the field.
func EvalJSONataField(jx *JSONata, field string, sc *Scope) (any, error) {
	v, defined, err := jx.Eval(sc)
	if err != nil {
		return nil, &Error{Name: ErrQueryEvaluationError, HasCause: true, Evaluation: true, Location: field,
			Cause: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' threw an error during evaluation. %v", jx.src, field, err)}
	}
	if !defined {
		return nil, &Error{Name: ErrQueryEvaluationError, HasCause: true, Evaluation: true, Location: field,
			Cause: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned nothing (undefined).", jx.src, field)}
	}
	if isFunc(v) {
		return nil, &Error{Name: ErrQueryEvaluationError, HasCause: true, Evaluation: true, Location: field,
			Cause: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned a function, which is not a JSON value.", jx.src, field)}
	}
	return v, nil
}

// Field is a state field that is a literal or, in JSONata states, a
// "{% ... %}" expression (Seconds, Timestamp, Items, Error, Cause,
// TimeoutSeconds, MaxConcurrency, ...).
type Field struct {
	Name string
	Lit  any
	JX   *JSONata
}

// Eval returns the field's value.
func (f *Field) Eval(sc *Scope) (any, error) {
	if f.JX == nil {
		return f.Lit, nil
	}
	return EvalJSONataField(f.JX, f.Name, sc)
}
