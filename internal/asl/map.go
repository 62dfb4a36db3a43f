package asl

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

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
	// Label names the map run (DISTRIBUTED): at most 40 characters,
	// none of those an execution name forbids.
	Label string
	// ExecutionType is the ProcessorConfig's STANDARD or EXPRESS, which
	// DISTRIBUTED mode requires.
	ExecutionType string
	// ItemBatcher groups the items of a DISTRIBUTED map into batches;
	// nil without one.
	ItemBatcher  *ItemBatcher
	ItemReader   any
	ResultWriter any
}

// ItemBatcher is a DISTRIBUTED Map state's ItemBatcher: each child
// workflow receives {"Items": [...]} with up to MaxItemsPerBatch items,
// and the BatchInput value as "BatchInput". The maximum counts are
// literal (or JSONata) positive integers or, in JSONPath, paths to one.
type ItemBatcher struct {
	MaxItemsPerBatch          *Field
	MaxItemsPerBatchPath      *Path
	MaxInputBytesPerBatch     *Field
	MaxInputBytesPerBatchPath *Path
	BatchInput                *Template
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
	if pcV, ok := procM["ProcessorConfig"]; ok {
		s.ExecutionType = p.processorConfig(pcV, o.path+"/ItemProcessor/ProcessorConfig", s.Processor)
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
	if label, ok := o.str("Label"); ok {
		if !validLabel(label) {
			p.errorf(o.path+"/Label", "SCHEMA_VALIDATION_FAILED: a label has at most %d characters, none of them whitespace or special characters", maxLabel)
		}
		s.Label = label
	}
	s.ItemReader, _ = o.get("ItemReader")
	s.ResultWriter, _ = o.get("ResultWriter")
	if o.has("ItemBatcher") {
		s.ItemBatcher = p.itemBatcher(o, lang)
		if s.Processor.Mode != ModeDistributed {
			p.errorf(o.path+"/ItemBatcher", "SCHEMA_VALIDATION_FAILED: field %q is only supported in DISTRIBUTED mode", "ItemBatcher")
		}
	}
	return s
}

// processorConfig reads an item processor's ProcessorConfig into
// proc.Mode and returns its ExecutionType: Mode is INLINE (the default)
// or DISTRIBUTED, which requires ExecutionType, STANDARD or EXPRESS.
func (p *parser) processorConfig(v any, path string, proc *Machine) string {
	m, isObj := v.(map[string]any)
	if !isObj {
		p.errorf(path, "SCHEMA_VALIDATION_FAILED: must be an object")
		return ""
	}
	o := p.obj(m, path)
	if mode, ok := o.str("Mode"); ok {
		if mode != ModeInline && mode != ModeDistributed {
			p.errorf(path+"/Mode", "SCHEMA_VALIDATION_FAILED: must be INLINE or DISTRIBUTED")
		}
		proc.Mode = mode
	}
	typ, ok := o.str("ExecutionType")
	switch {
	case ok && typ != "STANDARD" && typ != "EXPRESS":
		p.errorf(path+"/ExecutionType", "SCHEMA_VALIDATION_FAILED: must be STANDARD or EXPRESS")
	case !ok && !o.has("ExecutionType") && proc.Mode == ModeDistributed:
		p.errorf(path+"/ExecutionType", "SCHEMA_VALIDATION_FAILED: required field ExecutionType is missing in DISTRIBUTED mode")
	}
	o.done()
	return typ
}

// itemBatcher reads a Map state's ItemBatcher object.
func (p *parser) itemBatcher(o *obj, lang QueryLanguage) *ItemBatcher {
	v, _ := o.get("ItemBatcher")
	m, isObj := v.(map[string]any)
	if !isObj {
		p.errorf(o.path+"/ItemBatcher", "SCHEMA_VALIDATION_FAILED: must be an object")
		return nil
	}
	bo := p.obj(m, o.path+"/ItemBatcher")
	b := &ItemBatcher{
		MaxItemsPerBatch:      bo.field("MaxItemsPerBatch", lang),
		MaxInputBytesPerBatch: bo.field("MaxInputBytesPerBatch", lang),
	}
	for _, f := range []*Field{b.MaxItemsPerBatch, b.MaxInputBytesPerBatch} {
		if f != nil && f.JX == nil {
			if n, ok := f.Lit.(float64); !ok || n < 1 || n != float64(int64(n)) {
				p.errorf(bo.path+"/"+f.Name, "SCHEMA_VALIDATION_FAILED: must be a positive integer")
			}
		}
	}
	if lang == LangJSONPath {
		for _, pf := range []struct {
			name    string
			literal bool
			path    **Path
		}{
			{"MaxItemsPerBatch", b.MaxItemsPerBatch != nil, &b.MaxItemsPerBatchPath},
			{"MaxInputBytesPerBatch", b.MaxInputBytesPerBatch != nil, &b.MaxInputBytesPerBatchPath},
		} {
			path, isNull := bo.pathField(pf.name + "Path")
			if isNull {
				p.errorf(bo.path+"/"+pf.name+"Path", "SCHEMA_VALIDATION_FAILED: must be a JSONPath string")
			}
			if pf.literal && path != nil {
				p.errorf(bo.path, "SCHEMA_VALIDATION_FAILED: %s and %sPath are mutually exclusive", pf.name, pf.name)
			}
			*pf.path = path
		}
	}
	b.BatchInput = bo.template("BatchInput", lang)
	bo.done()
	return b
}

// maxLabel is the longest Label of a Map state, in characters (code
// points, as state names are counted).
const maxLabel = 40

// validLabel reports whether a Map state's Label is one AWS accepts: at
// most 40 characters, none of them whitespace, a control character or a
// character an execution name may not hold (engine.ValidName), as the
// label becomes part of the map run's ARN.
func validLabel(label string) bool {
	if utf8.RuneCountInString(label) > maxLabel {
		return false
	}
	for _, r := range label {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF ||
			strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return false
		}
	}
	return true
}
