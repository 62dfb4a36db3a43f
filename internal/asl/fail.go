package asl

// FailState fails the execution with an error name and a cause, given
// literally, by path (ErrorPath, CausePath, which also take intrinsic
// functions) or, in JSONata, by expression.
type FailState struct {
	BaseState
	Error     *Field
	Cause     *Field
	ErrorPath *Template // a path or an intrinsic function
	CausePath *Template
}

func (p *parser) fail(o *obj, b BaseState) State {
	s := &FailState{BaseState: b}
	s.Error = o.field("Error", b.QueryLanguage)
	s.Cause = o.field("Cause", b.QueryLanguage)
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
