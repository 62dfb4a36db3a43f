package asl

import "strings"

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
	switch s.Resource, ok = o.str("Resource"); {
	case !ok && !o.has("Resource"):
		p.errorf(o.path+"/Resource", "SCHEMA_VALIDATION_FAILED: required field Resource is missing")
	case ok && !validResourceARN(s.Resource):
		p.errorf(o.path+"/Resource", "SCHEMA_VALIDATION_FAILED: Value is not a valid resource ARN")
	}
	s.TimeoutSeconds = o.field("TimeoutSeconds", b.QueryLanguage)
	s.HeartbeatSeconds = o.field("HeartbeatSeconds", b.QueryLanguage)
	for _, f := range []*Field{s.TimeoutSeconds, s.HeartbeatSeconds} {
		if f != nil && f.JX == nil {
			if n, isNum := f.Lit.(float64); !isNum || n < 1 || n != float64(int64(n)) {
				p.errorf(o.path+"/"+f.Name, "SCHEMA_VALIDATION_FAILED: must be a positive integer")
			} else if n > maxSecondsField {
				p.errorf(o.path+"/"+f.Name, "SCHEMA_VALIDATION_FAILED: must be at most %d", maxSecondsField)
			}
		}
	}
	if !b.JSONata() {
		s.TimeoutSecondsPath, _ = o.pathField("TimeoutSecondsPath")
		s.HeartbeatSecondsPath, _ = o.pathField("HeartbeatSecondsPath")
		if s.TimeoutSeconds != nil && s.TimeoutSecondsPath != nil {
			p.errorf(o.path, "SCHEMA_VALIDATION_FAILED: TimeoutSeconds and TimeoutSecondsPath are mutually exclusive")
		}
		if s.HeartbeatSeconds != nil && s.HeartbeatSecondsPath != nil {
			p.errorf(o.path, "SCHEMA_VALIDATION_FAILED: HeartbeatSeconds and HeartbeatSecondsPath are mutually exclusive")
		}
	}
	// The specification: "the HeartbeatSeconds interval MUST be smaller
	// than the TimeoutSeconds value", checked where both are numbers.
	if s.TimeoutSeconds != nil && s.HeartbeatSeconds != nil {
		t, tok := s.TimeoutSeconds.Lit.(float64)
		h, hok := s.HeartbeatSeconds.Lit.(float64)
		if tok && hok && s.TimeoutSeconds.JX == nil && s.HeartbeatSeconds.JX == nil && h >= t {
			p.errorf(o.path+"/HeartbeatSeconds", "SCHEMA_VALIDATION_FAILED: HeartbeatSeconds must be smaller than TimeoutSeconds")
		}
	}
	s.Credentials, _ = o.get("Credentials")
	return s
}

// validResourceARN reports whether a Task's Resource has the shape of an
// ARN, arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, as AWS requires
// ("Value is not a valid resource ARN"): a service integration
// (arn:aws:states:::lambda:invoke, with no region or account), a Lambda
// function or an activity. Region and account may be empty; the
// partition (aws, aws-cn, aws-us-gov...), the service and the resource
// may not.
func validResourceARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && strings.HasPrefix(parts[1], "aws") &&
		parts[2] != "" && parts[5] != "" && !strings.ContainsAny(s, " \t\n\r")
}
