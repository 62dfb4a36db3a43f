package asl

// Map processor modes.
const (
	ModeInline      = "INLINE"
	ModeDistributed = "DISTRIBUTED"
)

// MapState runs its item processor once per item of an array.
type MapState struct {
	BaseState
	// Processor is the ItemProcessor (or the legacy Iterator); its Mode
	// is INLINE or DISTRIBUTED.
	Processor *Machine
	ItemsPath *Path  // JSONPath; nil means "$"
	Items     *Field // a JSONata expression
	// ItemsTemplate is a literal Items array (which may hold JSONata
	// expressions). Items is a JSONata field: a JSONPath Map has
	// ItemsPath.
	ItemsTemplate *Template
	ItemSelector  *Template // ItemSelector, or the legacy Parameters
	// MaxConcurrency and the tolerated failure thresholds, literal (or
	// JSONata) and by path.
	MaxConcurrency                 *Field
	MaxConcurrencyPath             *Path
	ToleratedFailureCount          *Field
	ToleratedFailureCountPath      *Path
	ToleratedFailurePercentage     *Field
	ToleratedFailurePercentagePath *Path
	Label                          string
	ExecutionType                  string
	ItemReader, ItemBatcher        any
	ResultWriter                   any
}

// Distributed reports whether the map runs in DISTRIBUTED mode (a map
// run with its own events).
func (s *MapState) Distributed() bool {
	return s.Processor != nil && s.Processor.Mode == ModeDistributed
}

func (p *parser) mapState(o *obj, b BaseState) State {
	s := &MapState{BaseState: b}
	p.flow(o, &s.BaseState)
	p.io(o, &s.BaseState, "InputPath", "OutputPath", "ResultSelector", "ResultPath", "Arguments", "Output", "Assign")
	p.errorHandling(o, &s.BaseState)
	lang := b.QueryLanguage
	procV, hasProc := o.get("ItemProcessor")
	if !hasProc {
		procV, hasProc = o.get("Iterator")
	}
	procM, isObj := procV.(map[string]any)
	if !hasProc || !isObj {
		p.errorf(o.path+"/ItemProcessor", "SCHEMA_VALIDATION_FAILED: a Map state needs an ItemProcessor")
		return s
	}
	s.Processor = p.machine(procM, o.path+"/ItemProcessor", lang, false)
	s.Processor.Mode = ModeInline
	if pc, ok := procM["ProcessorConfig"].(map[string]any); ok {
		pco := p.obj(pc, o.path+"/ItemProcessor/ProcessorConfig")
		if mode, ok := pco.str("Mode"); ok {
			if mode != ModeInline && mode != ModeDistributed {
				p.errorf(pco.path+"/Mode", "SCHEMA_VALIDATION_FAILED: must be INLINE or DISTRIBUTED")
			}
			s.Processor.Mode = mode
		}
		s.ExecutionType, _ = pco.str("ExecutionType")
		pco.done()
	}
	if lang == LangJSONata {
		if v, ok := o.m["Items"].(string); ok {
			if _, isExpr := IsJSONataString(v); isExpr {
				s.Items = o.field("Items", lang)
			}
		}
		if s.Items == nil && o.has("Items") {
			s.ItemsTemplate = o.template("Items", lang)
		}
		s.ItemSelector = o.template("ItemSelector", lang)
	} else {
		s.ItemsPath, _ = o.pathField("ItemsPath")
		if o.has("Items") {
			// Items is JSONata's ItemsPath, as Arguments is its Parameters.
			o.get("Items")
			p.errorf(o.path+"/Items", "SCHEMA_VALIDATION_FAILED: field %q is not supported with the %s query language", "Items", lang)
		}
		s.ItemSelector = o.template("ItemSelector", lang)
		if o.has("Parameters") {
			if s.ItemSelector != nil {
				p.errorf(o.path+"/Parameters", "SCHEMA_VALIDATION_FAILED: use either ItemSelector or Parameters")
			}
			s.ItemSelector = o.template("Parameters", lang)
		}
		s.MaxConcurrencyPath, _ = o.pathField("MaxConcurrencyPath")
		s.ToleratedFailureCountPath, _ = o.pathField("ToleratedFailureCountPath")
		s.ToleratedFailurePercentagePath, _ = o.pathField("ToleratedFailurePercentagePath")
	}
	s.MaxConcurrency = o.field("MaxConcurrency", lang)
	s.ToleratedFailureCount = o.field("ToleratedFailureCount", lang)
	s.ToleratedFailurePercentage = o.field("ToleratedFailurePercentage", lang)
	// A *Path field replaces its literal: they are mutually exclusive, as
	// a Task's TimeoutSeconds and TimeoutSecondsPath are.
	for _, pair := range []struct {
		name    string
		literal bool
		path    bool
	}{
		{"MaxConcurrency", s.MaxConcurrency != nil, s.MaxConcurrencyPath != nil},
		{"ToleratedFailureCount", s.ToleratedFailureCount != nil, s.ToleratedFailureCountPath != nil},
		{"ToleratedFailurePercentage", s.ToleratedFailurePercentage != nil, s.ToleratedFailurePercentagePath != nil},
	} {
		if pair.literal && pair.path {
			p.errorf(o.path, "SCHEMA_VALIDATION_FAILED: %s and %sPath are mutually exclusive", pair.name, pair.name)
		}
	}
	// Literals are checked here; a *Path value or a JSONata result is
	// checked when the state runs (States.Runtime).
	for _, f := range []*Field{s.MaxConcurrency, s.ToleratedFailureCount} {
		if f != nil && f.JX == nil {
			if n, ok := f.Lit.(float64); !ok || n < 0 || n != float64(int64(n)) {
				p.errorf(o.path+"/"+f.Name, "SCHEMA_VALIDATION_FAILED: must be a non-negative integer")
			}
		}
	}
	if f := s.ToleratedFailurePercentage; f != nil && f.JX == nil {
		if n, ok := f.Lit.(float64); !ok || n < 0 || n > 100 {
			p.errorf(o.path+"/"+f.Name, "SCHEMA_VALIDATION_FAILED: must be a number between 0 and 100")
		}
	}
	s.Label, _ = o.str("Label")
	s.ItemReader, _ = o.get("ItemReader")
	s.ItemBatcher, _ = o.get("ItemBatcher")
	s.ResultWriter, _ = o.get("ResultWriter")
	return s
}
