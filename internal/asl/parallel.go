package asl

import "fmt"

// ParallelState runs its branches concurrently on the same input; its
// result is the array of the branches' outputs.
type ParallelState struct {
	BaseState
	Branches []*Machine
}

func (p *parser) parallel(o *obj, b BaseState) State {
	s := &ParallelState{BaseState: b}
	p.flow(o, &s.BaseState)
	p.io(o, &s.BaseState, "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Arguments", "Output", "Assign")
	p.errorHandling(o, &s.BaseState)
	v, _ := o.get("Branches")
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		p.errorf(o.path+"/Branches", "SCHEMA_VALIDATION_FAILED: Branches must be a non-empty array")
		return s
	}
	for i, e := range list {
		bm, isObj := e.(map[string]any)
		if !isObj {
			p.errorf(fmt.Sprintf("%s/Branches[%d]", o.path, i), "SCHEMA_VALIDATION_FAILED: a branch must be an object")
			continue
		}
		s.Branches = append(s.Branches, p.machine(bm, fmt.Sprintf("%s/Branches[%d]", o.path, i), b.QueryLanguage, false))
	}
	return s
}
