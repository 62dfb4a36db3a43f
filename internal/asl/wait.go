package asl

// WaitState delays the execution for Seconds or until Timestamp (or the
// *Path forms, or JSONata expressions).
type WaitState struct {
	BaseState
	Seconds       *Field
	Timestamp     *Field
	SecondsPath   *Path
	TimestampPath *Path
}

func (p *parser) wait(o *obj, b BaseState) State {
	s := &WaitState{BaseState: b}
	p.flow(o, &s.BaseState)
	p.io(o, &s.BaseState, "InputPath", "OutputPath", "Output", "Assign")
	n := 0
	if s.Seconds = o.field("Seconds", b.QueryLanguage); s.Seconds != nil {
		n++
		if s.Seconds.JX == nil {
			f, ok := s.Seconds.Lit.(float64)
			if !ok || f < 0 || f != float64(int64(f)) {
				p.errorf(o.path+"/Seconds", "SCHEMA_VALIDATION_FAILED: must be a non-negative integer")
			} else if f > maxSecondsField {
				p.errorf(o.path+"/Seconds", "SCHEMA_VALIDATION_FAILED: must be at most %d", maxSecondsField)
			}
		}
	}
	if s.Timestamp = o.field("Timestamp", b.QueryLanguage); s.Timestamp != nil {
		n++
		if s.Timestamp.JX == nil {
			str, ok := s.Timestamp.Lit.(string)
			if _, err := ParseTimestamp(str); !ok || err != nil {
				p.errorf(o.path+"/Timestamp", "SCHEMA_VALIDATION_FAILED: must be an ISO-8601 timestamp")
			}
		}
	}
	for _, f := range []string{"SecondsPath", "TimestampPath"} {
		if !o.has(f) {
			continue
		}
		if b.JSONata() {
			o.get(f)
			p.errorf(o.path+"/"+f, "SCHEMA_VALIDATION_FAILED: field %q is not supported with the JSONata query language", f)
			continue
		}
		n++
		path, _ := o.pathField(f)
		if f == "SecondsPath" {
			s.SecondsPath = path
		} else {
			s.TimestampPath = path
		}
	}
	if n != 1 {
		p.errorf(o.path, "SCHEMA_VALIDATION_FAILED: a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath")
	}
	return s
}
