package asl

// PassState passes its input to its output, or a fixed Result.
type PassState struct {
	BaseState
	Result    any
	HasResult bool
}

func (p *parser) pass(o *obj, b BaseState) State {
	s := &PassState{BaseState: b}
	p.flow(o, &s.BaseState)
	p.io(o, &s.BaseState, "InputPath", "OutputPath", "Parameters", "ResultPath", "Output", "Assign")
	if !s.JSONata() {
		s.Result, s.HasResult = o.get("Result")
	}
	return s
}
