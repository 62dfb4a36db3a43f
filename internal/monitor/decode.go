package monitor

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/stepmon/stepmon/internal/suggest"
)

// decoded is what decodeStrict learnt about a request body besides its
// values: every problem with its JSON (a value of the wrong type, a field
// the request does not have) and where each field's key is, so that the
// problems validation finds afterwards can be listed in input order too.
type decoded struct {
	problems []FieldError
	// pos maps a field's path ("target.url", "target.headers.X-Token",
	// "target.doneValues[2]") to the byte offset of its key (or element)
	// in the body.
	pos map[string]int
	// bad holds the paths whose value could not be decoded: the value
	// was left out, and validation's problems with it are not reported
	// again.
	bad map[string]bool
	// given holds the paths the body gives a value other than null, so
	// that a value given as 0 or "" can be told from one left out.
	given map[string]bool
}

// isGiven reports whether the body gives field a value other than null.
func (d *decoded) isGiven(field string) bool { return d.given[field] }

// decodeStrict decodes the JSON value body into v, a pointer to a struct
// (or to a map or any), like encoding/json with DisallowUnknownFields,
// except that it does not stop at the first problem: a value of the wrong
// type is left out (the field keeps its zero value) and reported, and so
// is every unknown field. JSON null leaves a field as it is.
//
// Unlike encoding/json, keys match json tags exactly: a key in another
// case is an unknown field (its problem names the field it resembles).
// And a key that an object repeats is reported, at any depth, even inside
// a value decoded into any, where encoding/json would keep the last one;
// the first value stands. body must already be known to be well-formed
// JSON.
func decodeStrict(body []byte, v any) *decoded {
	d := &decoded{pos: map[string]int{}, bad: map[string]bool{}, given: map[string]bool{}}
	d.value(body, 0, "", reflect.ValueOf(v).Elem())
	return d
}

// repeatedKeys checks the well-formed JSON value data for objects that
// repeat a key, at any depth, and reports each as a KindInvalid *Error's
// field; nil when there is none.
func repeatedKeys(op string, data []byte) error {
	var v any
	return decodeStrict(data, &v).merge(op, nil)
}

// value decodes raw, found at offset base of the body, into dst.
func (d *decoded) value(raw []byte, base int, path string, dst reflect.Value) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return
	}
	d.given[path] = true
	switch dst.Kind() {
	case reflect.Pointer:
		elem := reflect.New(dst.Type().Elem())
		d.value(raw, base, path, elem.Elem())
		if !d.bad[path] {
			dst.Set(elem)
		}
	case reflect.Struct:
		d.object(raw, base, path, func(key string) (reflect.Value, string, string) {
			f, ok := fieldByJSONName(dst.Type(), key)
			if !ok {
				return reflect.Value{}, "", unknownProblem(dst.Type(), key)
			}
			return dst.FieldByIndex(f.Index), jsonName(f), ""
		})
	case reflect.Map:
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(dst.Type()))
		}
		d.object(raw, base, path, func(key string) (reflect.Value, string, string) {
			return reflect.New(dst.Type().Elem()).Elem(), key, ""
		}, func(key string, v reflect.Value) { dst.SetMapIndex(reflect.ValueOf(key), v) })
	case reflect.Slice:
		if raw[0] != '[' {
			d.typeProblem(path, "an array", raw)
			return
		}
		dst.Set(reflect.MakeSlice(dst.Type(), 0, 0))
		d.elements(raw, base, path, func(elem []byte, at int, p string) {
			v := reflect.New(dst.Type().Elem()).Elem()
			d.element(elem, at, p, v)
			dst.Set(reflect.Append(dst, v))
		})
	case reflect.String:
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			d.typeProblem(path, "a string", raw)
			return
		}
		dst.SetString(s)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		switch {
		case err == nil:
			dst.SetInt(n)
		case isNumber(raw) && errors.Is(err, strconv.ErrRange):
			d.add(path, beyondRange(raw), true)
		case isNumber(raw):
			// A whole number with a fraction or an exponent (30.0, 1e3),
			// as Python's json.dumps writes a float: its value counts.
			switch n, whole, tooBig := wholeNumber(string(raw)); {
			case tooBig:
				d.add(path, beyondRange(raw), true)
			case whole:
				dst.SetInt(n)
			default:
				d.typeProblem(path, "a whole number", raw)
			}
		default:
			d.typeProblem(path, "a whole number", raw)
		}
	case reflect.Float64:
		var f float64
		switch {
		case !isNumber(raw):
			d.typeProblem(path, "a number", raw)
		case json.Unmarshal(raw, &f) != nil:
			// A number beyond float64's range (1e400).
			d.add(path, beyondRange(raw), true)
		default:
			dst.SetFloat(f)
		}
	case reflect.Interface:
		// Any JSON: look for repeated keys inside it, then decode it. A
		// problem inside it is its own: the value is left out, unnamed.
		n := len(d.problems)
		d.repeats(raw, base, path)
		if len(d.problems) > n {
			d.bad[path] = true
			return
		}
		if json.Unmarshal(raw, dst.Addr().Interface()) != nil {
			// Well-formed JSON fails to decode into any only for a
			// number beyond float64's range (1e400).
			d.add(path, beyondRange(raw), true)
		}
	default:
		if err := json.Unmarshal(raw, dst.Addr().Interface()); err != nil {
			d.add(path, "is not valid here", true)
		}
	}
}

// element decodes raw, an array's element or a map's value, into dst as
// value does, except that null, which leaves a field as it is, is no
// element: it is reported as a value of the wrong type (a header's value
// or one of doneValues given as null would otherwise be ""), unless dst
// takes any JSON or is a pointer.
func (d *decoded) element(raw []byte, base int, path string, dst reflect.Value) {
	if k := dst.Kind(); string(bytes.TrimSpace(raw)) == "null" && k != reflect.Interface && k != reflect.Pointer {
		d.given[path] = true
		d.typeProblem(path, jsonKind(dst.Type()), []byte("null"))
		return
	}
	d.value(raw, base, path, dst)
}

// jsonKind names the JSON a value of type t is decoded from, as a
// problem names it ("a string").
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array"
	default:
		return "an object"
	}
}

// beyondRange is the problem of the JSON number raw that no Go number
// holds: far too large, or for a negative one far too negative. The
// problem says it is a number, so that the whole body given as one
// ("body is a number far too large") does not read as a body past the
// size limit, which is 413.
func beyondRange(raw []byte) string {
	if raw[0] == '-' {
		return "is a number far too negative"
	}
	return "is a number far too large"
}

// object decodes the JSON object raw: field finds where a key's value goes
// and the name its path uses, or for an unknown key the problem to report;
// set, when given, stores the decoded value. A key the object repeats is
// reported and its later values are left out.
func (d *decoded) object(raw []byte, base int, path string,
	field func(key string) (dst reflect.Value, name, unknown string), set ...func(string, reflect.Value)) {
	if raw[0] != '{' {
		d.typeProblem(path, "an object", raw)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Token() // {
	seen := map[string]bool{}
	for dec.More() {
		at := base + int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return // cannot happen: raw is well-formed
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if dec.Decode(&val) != nil {
			return
		}
		dst, name, unknown := field(key)
		p := join(path, name)
		if unknown != "" {
			p = join(path, TruncateBytes(key, 64))
		}
		if seen[key] {
			// An unknown key has been reported already.
			if unknown == "" {
				d.add(p, "is given more than once", true)
			}
			continue
		}
		seen[key] = true
		d.pos[p] = at
		if unknown != "" {
			d.add(p, unknown, true)
			continue
		}
		if len(set) > 0 {
			// A map's value, which null cannot leave out.
			d.element(val, at, p, dst)
			if !d.bad[p] {
				set[0](key, dst)
			}
			continue
		}
		d.value(val, at, p, dst)
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (d *decoded) add(path, problem string, bad bool) {
	if path == "" {
		path = "body"
	}
	d.problems = append(d.problems, FieldError{Field: path, Problem: problem})
	if bad {
		d.bad[path] = true
	}
}

// typeProblem reports that the value raw at path is not of the type want
// names ("a string", "a whole number").
func (d *decoded) typeProblem(path, want string, raw []byte) {
	var got string
	switch c := raw[0]; {
	case c == '"':
		var s string
		json.Unmarshal(raw, &s)
		got = fmt.Sprintf("the string %q", TruncateBytes(s, 40))
	case c == '{':
		got = "an object"
	case c == '[':
		got = "an array"
	case c == 't' || c == 'f' || c == 'n':
		got = string(raw) // true, false or null
	case want == "a whole number":
		got = TruncateBytes(string(raw), 40)
	default:
		got = "the number " + TruncateBytes(string(raw), 40)
	}
	d.add(path, fmt.Sprintf("must be %s, not %s", want, got), true)
}

// wholeNumber reads text, a JSON number, exactly, from its decimal digits
// (never through a float, which would round 30.000000000000001 to 30): n
// and whole when its value is a whole number that fits an int64, tooBig
// when it is a whole number that does not. A fraction is neither.
func wholeNumber(text string) (n int64, whole, tooBig bool) {
	neg := strings.HasPrefix(text, "-")
	mant, exp := strings.TrimPrefix(text, "-"), 0
	if i := strings.IndexAny(mant, "eE"); i >= 0 {
		e, err := strconv.Atoi(mant[i+1:])
		switch {
		case err == nil:
			exp = e
		case strings.HasPrefix(mant[i+1:], "-"):
			exp = math.MinInt32 // far below any digits
		default:
			exp = math.MaxInt32
		}
		mant = mant[:i]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return 0, true, false // zero, whatever its exponent
	}
	exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	exp += len(digits) - len(trimmed)
	switch {
	case exp < 0:
		return 0, false, false // a fraction
	case len(trimmed)+exp > 19:
		return 0, false, true
	}
	v, err := strconv.ParseInt(trimmed+strings.Repeat("0", exp), 10, 64)
	if err != nil {
		return 0, false, true
	}
	if neg {
		v = -v
	}
	return v, true, false
}

func isNumber(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'))
}

// fieldByJSONName finds the field of struct type t whose json name is
// exactly key.
func fieldByJSONName(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && jsonName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// unknownProblem is the problem with key, which no field of struct type t
// has as its json name. A key that differs from one only in case names
// that one, since encoding/json (and so many a client's habit) would have
// taken it; a field of another request shape says how this one spells it
// (see otherShapeHint); else one it is likely a slip for (suggest.Like)
// is named.
func unknownProblem(t reflect.Type, key string) string {
	var names []string // the fields' json names, for suggest.Like
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if name == "" || !f.IsExported() {
			continue
		}
		names = append(names, name)
		if strings.EqualFold(name, key) {
			if other := seedSpelling(t, key); other != "" && other != name {
				// "jobid": jobId here, or job_id of the seed shape
				// its writer may have meant.
				return "is not a known field (did you mean " + name + ", or " + other + " of the job seed shape? field names are case-sensitive)"
			}
			return "is not a known field (did you mean " + name + "? field names are case-sensitive)"
		}
	}
	if hint := otherShapeHint(t, key); hint != "" {
		return "is not a known field (" + hint + ")"
	}
	// A slip of the keyboard or an abbreviation ("pollingInterval").
	if like := suggest.Like(key, names); len(like) > 0 {
		return "is not a known field (did you mean " + strings.Join(like, " or ") + "?)"
	}
	return "is not a known field"
}

// seedSpelling returns the field of the job seed shape that key, all in
// lower case, names without its underscores ("jobid" for job_id), for a
// start request read as another shape t: its writer may have meant either
// shape. "" for none, and for a key with a capital, written in camelCase.
func seedSpelling(t reflect.Type, key string) string {
	seed := reflect.TypeFor[seedJobRequest]()
	if t != reflect.TypeFor[nativeRequest]() && t != reflect.TypeFor[seedGitHubRequest]() || key != strings.ToLower(key) {
		return ""
	}
	fold := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	for i := range seed.NumField() {
		if name := jsonName(seed.Field(i)); fold(name) == fold(key) {
			return name
		}
	}
	return ""
}

// repeats reports every key that an object repeats in raw, a well-formed
// JSON value found at offset base of the body, at any depth, and every
// number there beyond float64's range.
func (d *decoded) repeats(raw []byte, base int, path string) {
	switch raw[0] {
	case '{':
		d.object(raw, base, path, func(key string) (reflect.Value, string, string) {
			var v any
			return reflect.ValueOf(&v).Elem(), key, ""
		})
	case '[':
		d.elements(raw, base, path, func(elem []byte, at int, p string) {
			var v any
			d.value(elem, at, p, reflect.ValueOf(&v).Elem())
		})
	}
}

// elements calls fn with each element of the well-formed JSON array raw,
// found at offset base of the body: the element, its offset and its path,
// which it records.
func (d *decoded) elements(raw []byte, base int, path string, fn func(elem []byte, at int, p string)) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Token() // [
	for i := 0; dec.More(); i++ {
		at := base + int(dec.InputOffset())
		var elem json.RawMessage
		if dec.Decode(&elem) != nil {
			return // cannot happen: raw is well-formed
		}
		p := fmt.Sprintf("%s[%d]", path, i)
		d.pos[p] = at
		fn(elem, at, p)
	}
}

// jsonName is the name of f in JSON: its json tag's, else its own; "" for
// a field JSON skips.
func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name
	}
	return f.Name
}

// at returns the position of field in the body: its key's offset, or for
// a field the body left out the offset of the nearest enclosing object
// that it has; a field with no such object sorts last.
func (d *decoded) at(field string) int {
	for f := field; ; {
		if p, ok := d.pos[f]; ok {
			return p
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			return math.MaxInt
		}
		f = f[:i]
	}
}

// dropped reports whether a validation problem with field repeats one
// decoding already reported: the field or an enclosing one had a value of
// the wrong type or was unknown.
func (d *decoded) dropped(field string) bool {
	for f := field; ; {
		if d.bad[f] {
			return true
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			return false
		}
		f = f[:i]
	}
}

// merge combines decoding's problems with those of err, the result of
// validating what was decoded, into one KindInvalid *Error whose Fields
// are in input order (see at; problems at one position keep the order in
// which they were found). err of another kind is returned as it is.
func (d *decoded) merge(op string, err error) error {
	fields := slices.Clone(d.problems)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindInvalid || len(e.Fields) == 0 {
			return err
		}
		for _, f := range e.Fields {
			if !d.dropped(f.Field) {
				fields = append(fields, f)
			}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	slices.SortStableFunc(fields, func(a, b FieldError) int { return cmp.Compare(d.at(a.Field), d.at(b.Field)) })
	return &Error{Kind: KindInvalid, Op: op, Message: "invalid request", Fields: fields}
}
