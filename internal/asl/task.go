package asl

// TaskState runs work through a Resource ARN.
type TaskState struct {
	BaseState
	Resource             string
	TimeoutSeconds       *Field
	TimeoutSecondsPath   *Path
	HeartbeatSeconds     *Field
	HeartbeatSecondsPath *Path
	Credentials          any
}

func (p *parser) task(o *obj, b BaseState) State {
	s := &TaskState{BaseState: b}
	p.flow(o, &s.BaseState)
	p.io(o, &s.BaseState, "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Arguments", "Output", "Assign")
	p.errorHandling(o, &s.BaseState)
	var ok bool
	if s.Resource, ok = o.str("Resource"); !ok || s.Resource == "" {
		p.errorf(o.path+"/Resource", "SCHEMA_VALIDATION_FAILED: required field Resource is missing")
	}
	s.TimeoutSeconds = o.field("TimeoutSeconds", b.QueryLanguage)
	s.HeartbeatSeconds = o.field("HeartbeatSeconds", b.QueryLanguage)
	for _, f := range []*Field{s.TimeoutSeconds, s.HeartbeatSeconds} {
		if f != nil && f.JX == nil {
			if n, isNum := f.Lit.(float64); !isNum || n < 1 || n != float64(int64(n)) {
				p.errorf(o.path+"/"+f.Name, "SCHEMA_VALIDATION_FAILED: must be a positive integer")
			}
		}
	}
	if !b.JSONata() {
		s.TimeoutSecondsPath, _ = o.pathField("TimeoutSecondsPath")
		s.HeartbeatSecondsPath, _ = o.pathField("HeartbeatSecondsPath")
	}
	s.Credentials, _ = o.get("Credentials")
	return s
}
