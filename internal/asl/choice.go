package asl

import (
	"cmp"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// ChoiceState picks the Next state of the first matching rule, or Default.
type ChoiceState struct {
	BaseState
	Choices []*ChoiceRule
	Default string
}

// ChoiceRule is a Choice rule: a comparison (Variable + operator), a
// combination (And, Or, Not) or, in JSONata, a Condition. Top-level
// rules have Next and may have Assign and Output.
type ChoiceRule struct {
	Variable  *Path
	Operator  string // e.g. "StringEquals", "NumericLessThanPath", "IsPresent"
	Value     any
	ValuePath *Path // for *Path operators
	And, Or   []*ChoiceRule
	Not       *ChoiceRule
	Condition *Field // JSONata

	Next   string
	Assign *Template
	Output *Template
}

var comparators = map[string]string{ // operator -> value kind
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "boolean", "IsPresent": "boolean", "IsNumeric": "boolean", "IsString": "boolean",
	"IsBoolean": "boolean", "IsTimestamp": "boolean",
}

func (p *parser) choice(o *obj, b BaseState) State {
	s := &ChoiceState{BaseState: b}
	p.io(o, &s.BaseState, "InputPath", "OutputPath", "Output", "Assign")
	s.Default, _ = o.str("Default")
	v, _ := o.get("Choices")
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		p.errorf(o.path+"/Choices", "SCHEMA_VALIDATION_FAILED: Choices must be a non-empty array")
		return s
	}
	for i, e := range list {
		rpath := fmt.Sprintf("%s/Choices[%d]", o.path, i)
		rm, isObj := e.(map[string]any)
		if !isObj {
			p.errorf(rpath, "SCHEMA_VALIDATION_FAILED: a choice rule must be an object")
			continue
		}
		if r := p.rule(rm, rpath, b.QueryLanguage, true); r != nil {
			s.Choices = append(s.Choices, r)
		}
	}
	return s
}

func (p *parser) rule(m map[string]any, path string, lang QueryLanguage, top bool) *ChoiceRule {
	o := p.obj(m, path)
	defer o.done()
	r := &ChoiceRule{}
	o.get("Comment")
	if top {
		var ok bool
		if r.Next, ok = o.str("Next"); !ok {
			p.errorf(path+"/Next", "MISSING_TRANSITION_TARGET: a choice rule needs Next")
		}
		r.Assign = o.template("Assign", lang)
		if lang == LangJSONata {
			r.Output = o.template("Output", lang)
		}
	} else if o.has("Next") {
		o.get("Next")
		p.errorf(path+"/Next", "SCHEMA_VALIDATION_FAILED: nested choice rules cannot have Next")
	}
	if lang == LangJSONata {
		r.Condition = o.field("Condition", lang)
		if r.Condition == nil {
			if !o.has("Condition") {
				p.errorf(path+"/Condition", "SCHEMA_VALIDATION_FAILED: a JSONata choice rule needs a Condition")
			}
			return r
		}
		if _, isBool := r.Condition.Lit.(bool); r.Condition.JX == nil && !isBool {
			p.errorf(path+"/Condition", "SCHEMA_VALIDATION_FAILED: must be a boolean or a JSONata expression string ({%% ... %%})")
		}
		return r
	}
	n := 0
	for _, k := range []string{"And", "Or"} {
		v, ok := o.get(k)
		if !ok {
			continue
		}
		n++
		list, isArr := v.([]any)
		if !isArr || len(list) == 0 {
			p.errorf(path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be a non-empty array")
			continue
		}
		for i, e := range list {
			em, isObj := e.(map[string]any)
			if !isObj {
				p.errorf(fmt.Sprintf("%s/%s[%d]", path, k, i), "SCHEMA_VALIDATION_FAILED: must be an object")
				continue
			}
			sub := p.rule(em, fmt.Sprintf("%s/%s[%d]", path, k, i), lang, false)
			if k == "And" {
				r.And = append(r.And, sub)
			} else {
				r.Or = append(r.Or, sub)
			}
		}
	}
	if v, ok := o.get("Not"); ok {
		n++
		if em, isObj := v.(map[string]any); isObj {
			r.Not = p.rule(em, path+"/Not", lang, false)
		} else {
			p.errorf(path+"/Not", "SCHEMA_VALIDATION_FAILED: must be an object")
		}
	}
	for k := range m {
		base := strings.TrimSuffix(k, "Path")
		kind, ok := comparators[k]
		if !ok {
			if _, ok := comparators[base]; !ok || strings.HasPrefix(k, "Is") {
				continue
			}
			// A *Path comparison.
			n++
			r.Operator = k
			vp, _ := o.pathField(k)
			if vp == nil {
				p.errorf(path+"/"+k, "SCHEMA_VALIDATION_FAILED: must be a path")
			}
			r.ValuePath = vp
			continue
		}
		n++
		r.Operator = k
		v, _ := o.get(k)
		if !valueKindOK(kind, v) {
			p.errorf(path+"/"+k, "SCHEMA_VALIDATION_FAILED: the value of %s must be a %s", k, kind)
		}
		r.Value = v
	}
	if r.Operator != "" {
		if !o.has("Variable") {
			p.errorf(path+"/Variable", "SCHEMA_VALIDATION_FAILED: a comparison needs Variable")
		}
		r.Variable, _ = o.pathField("Variable")
	} else if n == 0 && o.has("Variable") {
		// The missing operator is the problem, reported below: the
		// Variable it would compare is no field out of place.
		o.pathField("Variable")
	}
	if n != 1 {
		p.errorf(path, "SCHEMA_VALIDATION_FAILED: a choice rule needs exactly one comparison operator, And, Or or Not")
	}
	return r
}

func valueKindOK(kind string, v any) bool {
	switch kind {
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "timestamp":
		s, ok := v.(string)
		if !ok {
			return false
		}
		_, err := ParseTimestamp(s)
		return err == nil
	}
	return false
}

// Eval evaluates the rule. Errors are *Error values (States.Runtime for a
// Variable that selects nothing, States.QueryEvaluationError for a
// JSONata condition that is not a boolean).
func (r *ChoiceRule) Eval(sc *Scope) (bool, error) {
	switch {
	case r.Condition != nil:
		v, err := r.Condition.Eval(sc)
		if err != nil {
			return false, err
		}
		b, ok := v.(bool)
		if !ok {
			return false, &Error{Name: ErrQueryEvaluationError, HasCause: true, Evaluation: true, Location: "Condition",
				Cause: fmt.Sprintf("The JSONata expression '%v' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '%s' for value: %s", exprText(r.Condition), TypeName(v), Text(v))}
		}
		return b, nil
	case r.And != nil:
		for _, sub := range r.And {
			ok, err := sub.Eval(sc)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, sub := range r.Or {
			ok, err := sub.Eval(sc)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := r.Not.Eval(sc)
		return !ok && err == nil, err
	}
	v, found := r.Variable.Eval(sc)
	if e := sc.Err(); !found && e != nil {
		return false, e
	}
	if r.Operator == "IsPresent" {
		return found == r.Value.(bool), nil
	}
	if !found {
		return false, Errorf(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.Variable.src)
	}
	want := r.Value
	op := r.Operator
	if r.ValuePath != nil {
		w, ok := r.ValuePath.Eval(sc)
		if !ok {
			if e := sc.Err(); e != nil {
				return false, e
			}
			return false, Errorf(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.ValuePath.src)
		}
		want = w
		op = strings.TrimSuffix(op, "Path")
	}
	return compare(op, v, want), nil
}

func exprText(f *Field) string {
	if f.JX != nil {
		return f.JX.src
	}
	return Text(f.Lit)
}

// compare applies a comparison operator; mismatched types compare false.
func compare(op string, v, want any) bool {
	switch op {
	case "IsNull":
		return (v == nil) == want.(bool)
	case "IsNumeric":
		_, ok := v.(float64)
		return ok == want.(bool)
	case "IsString":
		_, ok := v.(string)
		return ok == want.(bool)
	case "IsBoolean":
		_, ok := v.(bool)
		return ok == want.(bool)
	case "IsTimestamp":
		s, ok := v.(string)
		if ok {
			_, err := ParseTimestamp(s)
			ok = err == nil
		}
		return ok == want.(bool)
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := want.(bool)
		return ok1 && ok2 && a == b
	case "StringMatches":
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		return ok1 && ok2 && StringMatches(a, b)
	}
	switch {
	case strings.HasPrefix(op, "String"):
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false
		}
		return ordered(strings.TrimPrefix(op, "String"), compareUTF16(a, b))
	case strings.HasPrefix(op, "Numeric"):
		a, ok1 := v.(float64)
		b, ok2 := want.(float64)
		if !ok1 || !ok2 {
			return false
		}
		c := 0
		if a < b {
			c = -1
		} else if a > b {
			c = 1
		}
		return ordered(strings.TrimPrefix(op, "Numeric"), c)
	case strings.HasPrefix(op, "Timestamp"):
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false
		}
		ta, err1 := ParseTimestamp(a)
		tb, err2 := ParseTimestamp(b)
		if err1 != nil || err2 != nil {
			return false
		}
		return ordered(strings.TrimPrefix(op, "Timestamp"), ta.Compare(tb))
	}
	return false
}

// compareUTF16 compares a and b in the order of their UTF-16 code units,
// as Java's String.compareTo does (AWS's runtime is Java). Byte order
// (code point order) agrees with it unless one string has a character in
// U+E000..U+FFFF where the other has one beyond U+FFFF, which UTF-16
// writes with a surrogate (0xD800..0xDFFF) first: so a string without a
// character from U+E000 up (no byte from 0xEE up) keeps byte order.
func compareUTF16(a, b string) int {
	c := strings.Compare(a, b)
	if c == 0 || !hasRuneFromE000(a) || !hasRuneFromE000(b) {
		return c
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) { // a prefix of the other
		return c
	}
	for i > 0 && !utf8.RuneStart(a[i]) { // the common prefix ends mid-rune
		i--
	}
	ra, _ := utf8.DecodeRuneInString(a[i:])
	rb, _ := utf8.DecodeRuneInString(b[i:])
	if u, v := firstUTF16Unit(ra), firstUTF16Unit(rb); u != v {
		return cmp.Compare(u, v)
	}
	return c // both beyond U+FFFF: code point order
}

// hasRuneFromE000 reports whether s has a byte from 0xEE up: the first
// byte of a character from U+E000 up (continuation bytes are below). It
// tests eight bytes at a time: adding 0x12 to the low 7 bits of a byte
// sets its top bit, without a carry into the next byte, when they are
// 0x6E or more.
func hasRuneFromE000(s string) bool {
	const low7, add, top = 0x7F7F7F7F7F7F7F7F, 0x1212121212121212, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if ((w&low7)+add)&w&top != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0xEE {
			return true
		}
	}
	return false
}

// firstUTF16Unit is the first UTF-16 code unit of r: r itself, or the high
// surrogate of a character beyond U+FFFF.
func firstUTF16Unit(r rune) rune {
	if r > 0xFFFF {
		return 0xD800 + (r-0x10000)>>10
	}
	return r
}

func ordered(rel string, c int) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "GreaterThan":
		return c > 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// StringMatches matches s against a pattern where * matches any run of
// characters and \* a literal star.
func StringMatches(s, pattern string) bool {
	var parts []string // literal pieces between unescaped stars
	var cur strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == '\\' && i+1 < len(pattern) {
			cur.WriteByte(pattern[i+1])
			i++
			continue
		}
		if c == '*' {
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	parts = append(parts, cur.String())
	if len(parts) == 1 {
		return s == parts[0]
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// ParseTimestamp parses an ISO-8601 extended offset date-time
// (RFC 3339, "Z" or an offset required; "." before a fraction, not ",").
// The "T" and "Z" may be lowercase, as RFC 3339 (section 5.6) allows and
// Java's ISO_OFFSET_DATE_TIME accepts.
func ParseTimestamp(s string) (time.Time, error) {
	if strings.Contains(s, ",") { // time.Parse takes "," before a fraction
		return time.Time{}, fmt.Errorf("asl: timestamp %q: ',' is not a decimal separator", s)
	}
	in := s
	if strings.ContainsAny(s, "tz") {
		// No other letter is valid in a timestamp: upper-casing every t
		// and z leaves an invalid one invalid.
		in = strings.Map(func(r rune) rune {
			switch r {
			case 't':
				return 'T'
			case 'z':
				return 'Z'
			}
			return r
		}, s)
	}
	t, err := time.Parse(time.RFC3339Nano, in)
	if err != nil {
		return time.Time{}, fmt.Errorf("asl: timestamp %q: %w", s, err)
	}
	if strings.ContainsAny(s[:min(len(s), 11)], " ") || t.Year() < 0 || math.Abs(float64(t.Year())) > 9999 {
		return time.Time{}, fmt.Errorf("asl: timestamp %q: out of range", s)
	}
	return t, nil
}
