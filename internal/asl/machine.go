package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/jsonpos"
)

// State types.
const (
	TypePass     = "Pass"
	TypeTask     = "Task"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// Machine is a parsed, validated and immutable state machine: the top
// level of a definition, a Parallel branch or a Map item processor.
type Machine struct {
	Comment        string
	StartAt        string
	States         map[string]State
	QueryLanguage  QueryLanguage
	TimeoutSeconds int64
	// Mode is the Map processor mode (INLINE or DISTRIBUTED) for an item
	// processor, "" otherwise.
	Mode string
}

// Any reports whether pred holds for a state of m, or of a Parallel
// branch or Map item processor in it, at any depth.
func (m *Machine) Any(pred func(State) bool) bool {
	for _, st := range m.States {
		if pred(st) {
			return true
		}
		switch s := st.(type) {
		case *ParallelState:
			for _, b := range s.Branches {
				if b.Any(pred) {
					return true
				}
			}
		case *MapState:
			if s.Processor != nil && s.Processor.Any(pred) {
				return true
			}
		}
	}
	return false
}

// State is one parsed state. Base returns the fields every state has;
// type-switch on *PassState, *TaskState, ... for the rest.
type State interface {
	Base() *BaseState
}

// BaseState holds the fields shared by the state types. Fields a state
// type does not allow are zero.
type BaseState struct {
	Name          string
	Type          string
	Comment       string
	QueryLanguage QueryLanguage
	Next          string
	End           bool

	// InputPath and OutputPath: nil means "$"; Null* means the field was
	// JSON null (the state sees / emits {}).
	InputPath      *Path
	InputPathNull  bool
	OutputPath     *Path
	OutputPathNull bool
	Parameters     *Template
	ResultSelector *Template
	// ResultPath: nil means "$"; ResultPathNull discards the result.
	ResultPath     *Path
	ResultPathNull bool

	Arguments *Template // JSONata
	Output    *Template // JSONata
	Assign    *Template

	Retry []*Retrier
	Catch []*Catcher
}

// Base implements State.
func (b *BaseState) Base() *BaseState { return b }

// JSONata reports whether the state uses the JSONata query language.
func (b *BaseState) JSONata() bool { return b.QueryLanguage == LangJSONata }

// Retrier is one element of a Retry field.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds float64
	MaxAttempts     int
	BackoffRate     float64
	MaxDelaySeconds float64
	JitterStrategy  string // FULL or NONE
}

// Catcher is one element of a Catch field.
type Catcher struct {
	ErrorEquals    []string
	Next           string
	ResultPath     *Path
	ResultPathNull bool
	Assign         *Template
	Output         *Template
}

// matchesError reports whether an error name matches an ErrorEquals
// list. States.ALL and States.TaskFailed are wildcards; neither matches
// States.Runtime or States.DataLimitExceeded, and States.TaskFailed does
// not match States.Timeout. A heartbeat timeout is a States.Timeout, as
// AWS defines it ("failed to send a heartbeat for a period longer than
// the HeartbeatSeconds value"), which States.HeartbeatTimeout names
// apart: States.Timeout matches it, States.TaskFailed does not.
func matchesError(list []string, name string) bool {
	timeout := name == ErrTimeout || name == ErrHeartbeatTimeout
	for _, e := range list {
		if e == name || e == ErrTimeout && timeout {
			return true
		}
		if e == ErrAll && name != ErrDataLimitExceeded && name != ErrRuntime {
			return true
		}
		if e == ErrTaskFailed && !timeout && name != ErrRuntime && name != ErrDataLimitExceeded {
			return true
		}
	}
	return false
}

// Matches reports whether the retrier handles the error name.
func (r *Retrier) Matches(name string) bool { return matchesError(r.ErrorEquals, name) }

// Matches reports whether the catcher handles the error name.
func (c *Catcher) Matches(name string) bool { return matchesError(c.ErrorEquals, name) }

// MaxDefinitionLength is the longest definition, in characters (Unicode
// code points), that CreateStateMachine and UpdateStateMachine accept:
// 1,048,576. Parse does not check it; the API and the command line do.
const MaxDefinitionLength = 1024 * 1024

// utf8BOM is the UTF-8 encoding of U+FEFF, which some editors put at the
// start of a file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// syntaxProblem describes a definition's JSON syntax error with its line
// and column, so that a long definition's mistake can be found. A
// definition cut short (Go's "unexpected EOF") is said to be, at its end.
func syntaxProblem(definition []byte, err error) string {
	if msg, ok := jsonpos.Describe(definition, 0, err); ok {
		return msg
	}
	return err.Error()
}

// Parse parses and validates a definition the way CreateStateMachine
// does. The error is ValidationErrors listing every problem.
func Parse(definition []byte) (*Machine, error) {
	if len(bytes.TrimSpace(definition)) == 0 {
		return nil, ValidationErrors{{Message: "MISSING_DESCRIPTION: empty definition"}}
	}
	if bytes.HasPrefix(definition, utf8BOM) {
		return nil, ValidationErrors{{Message: "INVALID_JSON_DESCRIPTION: the definition starts with a byte order mark (U+FEFF), " +
			"which JSON does not allow: save it as UTF-8 without one"}}
	}
	var raw any
	dec := json.NewDecoder(strings.NewReader(string(definition)))
	if err := dec.Decode(&raw); err != nil {
		return nil, ValidationErrors{{Message: "INVALID_JSON_DESCRIPTION: " + syntaxProblem(definition, jsonError(err))}}
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, ValidationErrors{{Message: "SCHEMA_VALIDATION_FAILED: the definition must be a JSON object"}}
	}
	p := &parser{}
	p.repeatedStateKeys(json.NewDecoder(bytes.NewReader(definition)), "", machineValue)
	m := p.machine(top, "", LangJSONPath, true)
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return m, nil
}

type parser struct {
	errs ValidationErrors
	// names holds the state names seen so far in the whole definition,
	// branches and item processors included: they must be unique.
	names map[string]bool
}

func (p *parser) errorf(path, format string, args ...any) {
	p.errs = append(p.errs, &ValidationError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// obj reads the fields of one JSON object and reports unknown ones.
type obj struct {
	p    *parser
	m    map[string]any
	path string
	seen map[string]bool
}

func (p *parser) obj(m map[string]any, path string) *obj {
	return &obj{p: p, m: m, path: path, seen: map[string]bool{}}
}

func (o *obj) has(k string) bool {
	_, ok := o.m[k]
	return ok
}

func (o *obj) get(k string) (any, bool) {
	o.seen[k] = true
	v, ok := o.m[k]
	return v, ok
}

func (o *obj) str(k string) (string, bool) {
	v, ok := o.get(k)
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		o.p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be a string")
		return "", false
	}
	return s, true
}

func (o *obj) num(k string) (float64, bool) {
	v, ok := o.get(k)
	if !ok {
		return 0, false
	}
	f, isNum := v.(float64)
	if !isNum {
		o.p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be a number")
		return 0, false
	}
	return f, true
}

func (o *obj) integer(k string, minimum, maximum float64) (int64, bool) {
	f, ok := o.num(k)
	if !ok {
		return 0, false
	}
	if f != float64(int64(f)) || f < minimum {
		o.p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be an integer >= %v", minimum)
		return 0, false
	}
	if f > maximum {
		o.p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be an integer <= %v", int64(maximum))
		return 0, false
	}
	return int64(f), true
}

// MaxSeconds is the upper bound of AWS's definition schema for a Task's
// TimeoutSeconds and HeartbeatSeconds, a Wait's Seconds and a retrier's
// IntervalSeconds and MaxAttempts. A Wait's SecondsPath value is held to
// it when the state runs.
const MaxSeconds = 99999999

// The upper bounds of AWS's definition schema: MaxSeconds; a retrier's
// MaxDelaySeconds must be less than 31622401.
const (
	maxSecondsField = MaxSeconds
	maxRetryDelay   = 31622400
)

func (o *obj) boolean(k string) (bool, bool) {
	v, ok := o.get(k)
	if !ok {
		return false, false
	}
	b, isBool := v.(bool)
	if !isBool {
		o.p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be a boolean")
	}
	return b, isBool
}

// path reads an optional path field; null sets isNull.
func (o *obj) pathField(k string) (p *Path, isNull bool) {
	v, ok := o.get(k)
	if !ok {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	s, isStr := v.(string)
	if !isStr {
		o.p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be a JSONPath string or null")
		return nil, false
	}
	cp, err := CompilePath(s)
	if err != nil {
		o.p.errorf(o.path+"/"+k, "INVALID_JSON_PATH: %v", err)
		return nil, false
	}
	return cp, false
}

// template reads an optional template field.
func (o *obj) template(k string, lang QueryLanguage) *Template {
	v, ok := o.get(k)
	if !ok {
		return nil
	}
	if k == "Assign" {
		m, isObj := v.(map[string]any)
		if !isObj {
			o.p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be an object")
			return nil
		}
		for _, name := range sortedKeys(m) {
			if !validVariableName(name, lang) {
				o.p.errorf(o.path+"/Assign/"+name, "SCHEMA_VALIDATION_FAILED: invalid variable name %q", name)
			}
		}
	}
	if lang == LangJSONPath {
		if _, isObj := v.(map[string]any); !isObj {
			o.p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be an object")
			return nil
		}
	}
	t, err := CompileTemplate(k, v, lang)
	if err != nil {
		o.p.errorf(o.path+"/"+k, "INVALID_JSON_PATH: %v", err)
		return nil
	}
	return t
}

// maxVariableName is the longest variable name AWS allows, in
// characters.
const maxVariableName = 80

// maxStateName is the longest state name AWS allows, in characters: the
// ASL specification's "less than or equal to 80 Unicode characters"
// (and the API's 1 to 80 for a state's name in its history events).
// Characters are counted as Unicode code points, as variable names are.
// AWS's service is written in Java, whose String.length counts UTF-16
// units, so it may count a character beyond U+FFFF (an emoji) as two;
// that is not recorded, and refusing a definition AWS runs would cost
// more than running one it refuses.
const maxStateName = 80

// validVariableName reports whether an Assign key names a variable the
// way AWS's variable name syntax has it: a Unicode identifier (UAX #31:
// an ID_Start character, then ID_Continue characters) of at most 80
// characters, not "states" in JSONata (that is $states). A JSONPath key
// may end in ".$" (its value is a path or an intrinsic function). A
// leading underscore is accepted too: AWS's documentation does not say
// whether it is, and refusing a definition AWS runs would cost more than
// running one it refuses.
func validVariableName(key string, lang QueryLanguage) bool {
	name := key
	if lang == LangJSONPath {
		name = strings.TrimSuffix(key, ".$")
	} else if name == "states" {
		return false
	}
	if name == "" || utf8.RuneCountInString(name) > maxVariableName {
		return false
	}
	for i, r := range name {
		if i == 0 && !idStart(r) && r != '_' || i > 0 && !idContinue(r) {
			return false
		}
	}
	return true
}

// idStart and idContinue are UAX #31's ID_Start and ID_Continue.
func idStart(r rune) bool {
	return unicode.In(r, unicode.L, unicode.Nl, unicode.Other_ID_Start) &&
		!unicode.In(r, unicode.Pattern_Syntax, unicode.Pattern_White_Space)
}

func idContinue(r rune) bool {
	return (idStart(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc, unicode.Other_ID_Continue)) &&
		!unicode.In(r, unicode.Pattern_Syntax, unicode.Pattern_White_Space)
}

// field reads an optional literal-or-JSONata field.
func (o *obj) field(k string, lang QueryLanguage) *Field {
	v, ok := o.get(k)
	if !ok {
		return nil
	}
	f := &Field{Name: k, Lit: v}
	if s, isStr := v.(string); isStr && lang == LangJSONata {
		if src, isExpr := IsJSONataString(s); isExpr {
			jx, err := CompileJSONata(src)
			if err != nil {
				o.p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: %v", err)
				return nil
			}
			f.JX = jx
		}
	}
	return f
}

// done reports fields that were never read.
func (o *obj) done() {
	var unknown []string
	for k := range o.m {
		if !o.seen[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		o.p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: field %q is not supported here", k)
	}
}

func (p *parser) queryLanguage(o *obj, inherited QueryLanguage) QueryLanguage {
	s, ok := o.str("QueryLanguage")
	if !ok {
		return inherited
	}
	switch QueryLanguage(s) {
	case LangJSONPath:
		if inherited == LangJSONata {
			p.errorf(o.path+"/QueryLanguage", "SCHEMA_VALIDATION_FAILED: a state cannot use JSONPath when the state machine uses JSONata")
		}
		return LangJSONPath
	case LangJSONata:
		return LangJSONata
	}
	p.errorf(o.path+"/QueryLanguage", "SCHEMA_VALIDATION_FAILED: must be JSONPath or JSONata")
	return inherited
}

// What a value of the definition is, for repeatedStateKeys.
const (
	otherValue = iota
	machineValue
	statesValue
	stateValue
)

// repeatedStateKeys reports a state name given twice in one States
// object of the definition text, which decoding into a map hides (the
// last one wins). It reads one value of kind from dec, descending into
// the machines of branches and item processors. The text is valid JSON.
func (p *parser) repeatedStateKeys(dec *json.Decoder, path string, kind int) {
	tok, err := dec.Token()
	if err != nil {
		return
	}
	switch tok {
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if kind == machineValue { // Branches
				p.repeatedStateKeys(dec, fmt.Sprintf("%s[%d]", path, i), kind)
			} else if skipValue(dec) != nil {
				return
			}
		}
		_, _ = dec.Token()
		return
	case json.Delim('{'):
	default:
		return
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return
		}
		k, _ := t.(string)
		sub, subKind := path+"/"+k, otherValue
		switch {
		case kind == machineValue && k == "States":
			subKind = statesValue
		case kind == statesValue:
			if seen[k] {
				p.duplicateName(sub, k)
			}
			seen[k] = true
			subKind = stateValue
		case kind == stateValue && (k == "Branches" || k == "ItemProcessor" || k == "Iterator"):
			subKind = machineValue
		}
		if subKind == otherValue {
			if skipValue(dec) != nil {
				return
			}
			continue
		}
		p.repeatedStateKeys(dec, sub, subKind)
	}
	_, _ = dec.Token()
}

// duplicateName reports the state at path as a duplicate, once (a name
// repeated in one States object may be an outer state's name too).
func (p *parser) duplicateName(path, name string) {
	msg := "DUPLICATE_STATE_NAME: Duplicate State name: " + name
	for _, e := range p.errs {
		if e.Path == path && e.Message == msg {
			return
		}
	}
	p.errorf(path, "%s", msg)
}

func skipValue(dec *json.Decoder) error {
	var skip json.RawMessage
	return dec.Decode(&skip)
}

// machine parses a state machine or a nested one (branch, processor).
func (p *parser) machine(m map[string]any, path string, lang QueryLanguage, top bool) *Machine {
	o := p.obj(m, path)
	out := &Machine{States: map[string]State{}}
	out.QueryLanguage = p.queryLanguage(o, lang)
	out.Comment, _ = o.str("Comment")
	if top {
		o.str("Version")
		if n, ok := o.integer("TimeoutSeconds", 0, math.MaxInt64); ok {
			out.TimeoutSeconds = n
		}
	}
	var ok bool
	// A StartAt that is not a string is reported by str; one missing
	// here. Neither is reported again as a missing target.
	out.StartAt, ok = o.str("StartAt")
	noStart := !ok
	statesV, hasStates := o.get("States")
	states, isObj := statesV.(map[string]any)
	// The fields missing are one problem at the machine's own path, as
	// AWS reports them ("These fields are required: [States, StartAt]"
	// at "/").
	var missing []string
	if !hasStates {
		missing = append(missing, "States")
	}
	if !ok && !o.has("StartAt") {
		missing = append(missing, "StartAt")
	}
	if len(missing) > 0 {
		at := path
		if at == "" {
			at = "/"
		}
		p.errorf(at, "SCHEMA_VALIDATION_FAILED: These fields are required: [%s]", strings.Join(missing, ", "))
	}
	if hasStates && !isObj {
		p.errorf(path+"/States", "SCHEMA_VALIDATION_FAILED: must be an object")
	}
	if !isObj {
		o.done()
		return out
	}
	if !top {
		o.get("ProcessorConfig")
	}
	o.done()
	names := sortedKeys(states)
	if p.names == nil {
		p.names = map[string]bool{}
	}
	for _, name := range names {
		// This machine's own names first: a nested state named like an
		// outer one is the duplicate.
		if p.names[name] {
			p.duplicateName(path+"/States/"+name, name)
		}
		p.names[name] = true
	}
	// broken holds the states that failed to parse: they exist, so
	// transitions to them and StartAt are not reported again.
	broken := map[string]bool{}
	for _, name := range names {
		spath := path + "/States/" + name
		sm, isObj := states[name].(map[string]any)
		if !isObj {
			p.errorf(spath, "SCHEMA_VALIDATION_FAILED: a state must be an object")
			broken[name] = true
			continue
		}
		switch n := utf8.RuneCountInString(name); {
		case n == 0:
			p.errorf(spath, "SCHEMA_VALIDATION_FAILED: a state name must not be empty")
		case n > maxStateName:
			p.errorf(spath, "SCHEMA_VALIDATION_FAILED: state names are at most %d characters", maxStateName)
		}
		if st := p.state(name, sm, spath, out.QueryLanguage); st != nil {
			out.States[name] = st
		} else {
			broken[name] = true
		}
	}
	p.checkGraph(out, path, broken, noStart)
	return out
}

// state parses one state.
func (p *parser) state(name string, m map[string]any, path string, lang QueryLanguage) State {
	o := p.obj(m, path)
	typ, ok := o.str("Type")
	if !ok {
		p.errorf(path+"/Type", "SCHEMA_VALIDATION_FAILED: required field Type is missing")
		return nil
	}
	b := BaseState{Name: name, Type: typ}
	b.QueryLanguage = p.queryLanguage(o, lang)
	b.Comment, _ = o.str("Comment")
	var st State
	switch typ {
	case TypePass:
		st = p.pass(o, b)
	case TypeTask:
		st = p.task(o, b)
	case TypeChoice:
		st = p.choice(o, b)
	case TypeWait:
		st = p.wait(o, b)
	case TypeSucceed:
		st = p.succeed(o, b)
	case TypeFail:
		st = p.fail(o, b)
	case TypeParallel:
		st = p.parallel(o, b)
	case TypeMap:
		st = p.mapState(o, b)
	default:
		p.errorf(path+"/Type", "SCHEMA_VALIDATION_FAILED: unknown state type %q", typ)
		return nil
	}
	o.done()
	return st
}

// flow reads Next/End.
func (p *parser) flow(o *obj, b *BaseState) {
	next, hasNext := o.str("Next")
	end, hasEnd := o.boolean("End")
	switch {
	case hasNext && hasEnd && end:
		p.errorf(o.path, "SCHEMA_VALIDATION_FAILED: a state cannot have both Next and End")
	case !hasNext && !(hasEnd && end):
		p.errorf(o.path, "MISSING_TRANSITION_TARGET: state %q needs Next or End: true", b.Name)
	}
	b.Next, b.End = next, hasEnd && end
}

// io reads the input/output processing fields the state type allows:
// any of "InputPath", "OutputPath", "Parameters", "ResultSelector",
// "ResultPath", "Arguments", "Output", "Assign".
func (p *parser) io(o *obj, b *BaseState, fields ...string) {
	for _, f := range fields {
		jsonPathOnly := f == "InputPath" || f == "OutputPath" || f == "Parameters" || f == "ResultSelector" || f == "ResultPath"
		jsonataOnly := f == "Arguments" || f == "Output"
		if b.JSONata() && jsonPathOnly || !b.JSONata() && jsonataOnly {
			if o.has(f) {
				o.get(f)
				p.errorf(o.path+"/"+f, "SCHEMA_VALIDATION_FAILED: field %q is not supported with the %s query language", f, b.QueryLanguage)
			}
			continue
		}
		switch f {
		case "InputPath":
			b.InputPath, b.InputPathNull = o.pathField(f)
		case "OutputPath":
			b.OutputPath, b.OutputPathNull = o.pathField(f)
		case "ResultPath":
			b.ResultPath, b.ResultPathNull = o.pathField(f)
			if b.ResultPath != nil && !b.ResultPath.IsReference() {
				p.errorf(o.path+"/ResultPath", "INVALID_JSON_PATH: ResultPath must be a reference path")
			}
		case "Parameters":
			b.Parameters = o.template(f, b.QueryLanguage)
		case "ResultSelector":
			b.ResultSelector = o.template(f, b.QueryLanguage)
		case "Arguments":
			b.Arguments = o.template(f, b.QueryLanguage)
		case "Output":
			b.Output = o.template(f, b.QueryLanguage)
		case "Assign":
			b.Assign = o.template(f, b.QueryLanguage)
		}
	}
}

// errorHandling reads Retry and Catch.
func (p *parser) errorHandling(o *obj, b *BaseState) {
	p.eachObject(o, "Retry", func(ro *obj, last bool) {
		rpath := ro.path
		r := &Retrier{IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: "NONE"}
		r.ErrorEquals = p.errorEquals(ro, last)
		if n, ok := ro.integer("IntervalSeconds", 1, maxSecondsField); ok {
			r.IntervalSeconds = float64(n)
		}
		if n, ok := ro.integer("MaxAttempts", 0, maxSecondsField); ok {
			r.MaxAttempts = int(n)
		}
		if f, ok := ro.num("BackoffRate"); ok {
			if f < 1 {
				p.errorf(rpath+"/BackoffRate", "SCHEMA_VALIDATION_FAILED: must be >= 1.0")
			}
			r.BackoffRate = f
		}
		if n, ok := ro.integer("MaxDelaySeconds", 1, maxRetryDelay); ok {
			r.MaxDelaySeconds = float64(n)
		}
		if s, ok := ro.str("JitterStrategy"); ok {
			if s != "FULL" && s != "NONE" {
				p.errorf(rpath+"/JitterStrategy", "SCHEMA_VALIDATION_FAILED: must be FULL or NONE")
			}
			r.JitterStrategy = s
		}
		ro.get("Comment")
		ro.done()
		b.Retry = append(b.Retry, r)
	})
	p.eachObject(o, "Catch", func(co *obj, last bool) {
		cpath := co.path
		c := &Catcher{}
		c.ErrorEquals = p.errorEquals(co, last)
		var ok bool
		if c.Next, ok = co.str("Next"); !ok {
			p.errorf(cpath+"/Next", "MISSING_TRANSITION_TARGET: a catcher needs Next")
		}
		if b.JSONata() {
			c.Output = co.template("Output", b.QueryLanguage)
		} else {
			c.ResultPath, c.ResultPathNull = co.pathField("ResultPath")
			if c.ResultPath != nil && !c.ResultPath.IsReference() {
				p.errorf(cpath+"/ResultPath", "INVALID_JSON_PATH: ResultPath must be a reference path")
			}
		}
		c.Assign = co.template("Assign", b.QueryLanguage)
		co.get("Comment")
		co.done()
		b.Catch = append(b.Catch, c)
	})
}

// eachObject calls fn for each member of o's array field k (Retry, Catch),
// as an object at its path (".../Retry[0]"), with last set for the final
// one; a field that is not an array, or a member that is not an object,
// is a schema error. A missing field calls fn for nothing.
func (p *parser) eachObject(o *obj, k string, fn func(m *obj, last bool)) {
	v, ok := o.get(k)
	if !ok {
		return
	}
	list, isArr := v.([]any)
	if !isArr {
		p.errorf(o.path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be an array")
	}
	for i, e := range list {
		m, isObj := e.(map[string]any)
		path := fmt.Sprintf("%s/%s[%d]", o.path, k, i)
		if !isObj {
			p.errorf(path, "SCHEMA_VALIDATION_FAILED: must be an object")
			continue
		}
		fn(p.obj(m, path), i == len(list)-1)
	}
}

func (p *parser) errorEquals(o *obj, last bool) []string {
	v, ok := o.get("ErrorEquals")
	list, isArr := v.([]any)
	if !ok || !isArr || len(list) == 0 {
		p.errorf(o.path+"/ErrorEquals", "SCHEMA_VALIDATION_FAILED: ErrorEquals must be a non-empty array")
		return nil
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, isStr := e.(string)
		if !isStr {
			p.errorf(o.path+"/ErrorEquals", "SCHEMA_VALIDATION_FAILED: error names must be strings")
			continue
		}
		out = append(out, s)
	}
	if slices.Contains(out, ErrAll) && (len(out) > 1 || !last) {
		p.errorf(o.path+"/ErrorEquals", "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone in the last retrier or catcher")
	}
	return out
}

// transition is one transition of a state: the target's name and the
// location of the field that names it.
type transition struct {
	target, location string
}

// transitions lists the transitions of the state at path (Next, Catch,
// Choice rules and Default).
func transitions(st State, path string) []transition {
	b := st.Base()
	var t []transition
	if b.Next != "" {
		t = append(t, transition{b.Next, path + "/Next"})
	}
	for i, c := range b.Catch {
		if c.Next != "" {
			t = append(t, transition{c.Next, fmt.Sprintf("%s/Catch[%d]/Next", path, i)})
		}
	}
	if ch, ok := st.(*ChoiceState); ok {
		for i, r := range ch.Choices {
			t = append(t, transition{r.Next, fmt.Sprintf("%s/Choices[%d]/Next", path, i)})
		}
		if ch.Default != "" {
			t = append(t, transition{ch.Default, path + "/Default"})
		}
	}
	return t
}

// checkGraph checks StartAt, transition targets, that the machine has a
// terminal state, and reachability. broken names the states that exist
// but failed to parse (already reported): they are valid targets, and
// whether the machine can end or reach every state is left unknown.
// noStart says StartAt is missing or not a string (already reported).
func (p *parser) checkGraph(m *Machine, path string, broken map[string]bool, noStart bool) {
	exists := func(name string) bool {
		_, ok := m.States[name]
		return ok || broken[name]
	}
	if noStart || !exists(m.StartAt) {
		if !noStart {
			p.errorf(path+"/StartAt", "MISSING_TRANSITION_TARGET: Missing 'Next' target: %s", m.StartAt)
		}
		if len(broken) == 0 {
			p.checkTerminal(m, path)
		}
		return
	}
	for _, name := range stateNames(m) {
		for _, t := range transitions(m.States[name], path+"/States/"+name) {
			if t.target != "" && !exists(t.target) {
				p.errorf(t.location, "MISSING_TRANSITION_TARGET: Missing 'Next' target: %s", t.target)
			}
		}
	}
	if len(broken) > 0 || !p.checkTerminal(m, path) || len(p.errs) > 0 {
		return
	}
	seen := map[string]bool{m.StartAt: true}
	queue := []string{m.StartAt}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, t := range transitions(m.States[n], "") {
			if !seen[t.target] {
				seen[t.target] = true
				queue = append(queue, t.target)
			}
		}
	}
	for _, name := range stateNames(m) {
		if !seen[name] {
			p.errorf(path+"/States/"+name, "MISSING_TRANSITION_TARGET: state %q is not reachable", name)
		}
	}
}

// checkTerminal reports whether one of m's states ends it (End, Succeed
// or Fail; a Choice never does). If none does, an execution could never
// end: AWS refuses the definition with MISSING_END_STATE, with no
// location for the top-level machine ("at null"), and reports no
// unreachable state.
func (p *parser) checkTerminal(m *Machine, path string) bool {
	for _, st := range m.States {
		switch st.(type) {
		case *SucceedState, *FailState:
			return true
		case *ChoiceState:
			continue
		}
		if st.Base().End {
			return true
		}
	}
	p.errorf(path, "MISSING_END_STATE: Workflow has no terminal state")
	return false
}

func stateNames(m *Machine) []string {
	names := make([]string, 0, len(m.States))
	for n := range m.States {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
