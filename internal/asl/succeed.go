package asl

// SucceedState ends the execution (or branch, or iteration) successfully.
type SucceedState struct {
	BaseState
}

func (p *parser) succeed(o *obj, b BaseState) State {
	s := &SucceedState{BaseState: b}
	p.io(o, &s.BaseState, "InputPath", "OutputPath", "Output")
	return s
}
