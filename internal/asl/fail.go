package asl

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FailState fails the execution with an error name and a cause, given
// literally, by path (ErrorPath, CausePath, which also take the
// intrinsic functions that return a string) or, in JSONata, by
// expression.
type FailState struct {
	BaseState
	Error     *Field
	Cause     *Field
	ErrorPath *Template // a path or an intrinsic function
	CausePath *Template
}

// failIntrinsics are the intrinsic functions ErrorPath and CausePath
// take, those that return a string (the developer guide's Fail state).
var failIntrinsics = []string{"States.Format", "States.JsonToString", "States.ArrayGetItem",
	"States.Base64Encode", "States.Base64Decode", "States.Hash", "States.UUID"}

func (p *parser) fail(o *obj, b BaseState) State {
	s := &FailState{BaseState: b}
	s.Error = o.field("Error", b.QueryLanguage)
	s.Cause = o.field("Cause", b.QueryLanguage)
	for _, f := range []*Field{s.Error, s.Cause} {
		if f == nil || f.JX != nil {
			continue
		}
		if _, isStr := f.Lit.(string); !isStr {
			p.errorf(o.path+"/"+f.Name, "SCHEMA_VALIDATION_FAILED: must be a string")
		}
	}
	for _, f := range []string{"ErrorPath", "CausePath"} {
		v, ok := o.get(f)
		if !ok {
			continue
		}
		if b.JSONata() {
			p.errorf(o.path+"/"+f, "SCHEMA_VALIDATION_FAILED: field %q is not supported with the JSONata query language", f)
			continue
		}
		str, isStr := v.(string)
		if !isStr {
			p.errorf(o.path+"/"+f, "SCHEMA_VALIDATION_FAILED: must be a string")
			continue
		}
		n, err := compileDynamic(str)
		if err != nil {
			p.errorf(o.path+"/"+f, "INVALID_JSON_PATH: %v", err)
			continue
		}
		if n.kind == tIntrinsic && !slices.Contains(failIntrinsics, n.intr.name) {
			p.errorf(o.path+"/"+f, "SCHEMA_VALIDATION_FAILED: %s takes a path or one of the intrinsic functions %s, not %s",
				f, strings.Join(failIntrinsics, ", "), n.intr.name)
			continue
		}
		n.where = f
		t := &Template{field: f, root: n}
		if f == "ErrorPath" {
			s.ErrorPath = t
		} else {
			s.CausePath = t
		}
	}
	if s.Error != nil && s.ErrorPath != nil {
		p.errorf(o.path, "SCHEMA_VALIDATION_FAILED: Error and ErrorPath are mutually exclusive")
	}
	if s.Cause != nil && s.CausePath != nil {
		p.errorf(o.path, "SCHEMA_VALIDATION_FAILED: Cause and CausePath are mutually exclusive")
	}
	return s
}

// Eval returns the state's error name and cause (hasCause false without
// one). Errors are *Error values: States.Runtime for an ErrorPath or
// CausePath that selects nothing or a value that is not a string,
// States.QueryEvaluationError for a JSONata expression that fails or
// returns anything but a string.
func (s *FailState) Eval(sc *Scope) (name, cause string, hasCause bool, err error) {
	if name, _, err = s.str(s.Error, s.ErrorPath, sc); err != nil {
		return "", "", false, err
	}
	cause, hasCause, err = s.str(s.Cause, s.CausePath, sc)
	return name, cause, hasCause, err
}

// str evaluates one of the state's string fields, literal (or JSONata)
// or by path; ok is false when the state has neither.
func (s *FailState) str(f *Field, path *Template, sc *Scope) (string, bool, error) {
	var v any
	switch {
	case f != nil:
		x, err := f.Eval(sc)
		if err != nil {
			return "", false, err
		}
		v = x
	case path != nil:
		x, err := path.Eval(sc)
		if err != nil {
			return "", false, err
		}
		str, isStr := x.(string)
		if !isStr {
			return "", false, Errorf(ErrRuntime, "The %s field refers to value %s which is not a string: %s",
				path.field, strconv.Quote(Text(x)), path.root.source())
		}
		return str, true, nil
	default:
		return "", false, nil
	}
	str, isStr := v.(string)
	if !isStr { // a JSONata result: a literal is a string
		return "", false, &Error{Name: ErrQueryEvaluationError, HasCause: true, Evaluation: true, Location: f.Name,
			Cause: fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected 'string', but was '%s' for value: %s",
				exprText(f), f.Name, TypeName(v), Text(v))}
	}
	return str, true, nil
}

// source returns the path or intrinsic function a dynamic node was
// compiled from.
func (n *tnode) source() string {
	switch n.kind {
	case tPath:
		return n.path.src
	case tIntrinsic:
		return n.intr.src
	}
	return ""
}
