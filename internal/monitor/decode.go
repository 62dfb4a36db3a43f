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
}

// decodeStrict decodes the JSON object body into v, a pointer to a struct,
// like encoding/json with DisallowUnknownFields, except that it does not
// stop at the first problem: a value of the wrong type is left out (the
// field keeps its zero value) and reported, and so is every unknown field.
// JSON null leaves a field as it is. Keys are matched to json tags exactly,
// or else ignoring case, as encoding/json does. body must already be known
// to be one well-formed JSON object.
func decodeStrict(body []byte, v any) *decoded {
	d := &decoded{pos: map[string]int{}, bad: map[string]bool{}}
	d.value(body, 0, "", reflect.ValueOf(v).Elem())
	return d
}

// value decodes raw, found at offset base of the body, into dst.
func (d *decoded) value(raw []byte, base int, path string, dst reflect.Value) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return
	}
	switch dst.Kind() {
	case reflect.Pointer:
		elem := reflect.New(dst.Type().Elem())
		d.value(raw, base, path, elem.Elem())
		if !d.bad[path] {
			dst.Set(elem)
		}
	case reflect.Struct:
		d.object(raw, base, path, func(key string) (reflect.Value, string, bool) {
			f, ok := fieldByJSONName(dst.Type(), key)
			if !ok {
				return reflect.Value{}, "", false
			}
			return dst.FieldByIndex(f.Index), jsonName(f), true
		})
	case reflect.Map:
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(dst.Type()))
		}
		d.object(raw, base, path, func(key string) (reflect.Value, string, bool) {
			return reflect.New(dst.Type().Elem()).Elem(), key, true
		}, func(key string, v reflect.Value) { dst.SetMapIndex(reflect.ValueOf(key), v) })
	case reflect.Slice:
		if raw[0] != '[' {
			d.typeProblem(path, "an array", raw)
			return
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.Token() // [
		dst.Set(reflect.MakeSlice(dst.Type(), 0, 0))
		for i := 0; dec.More(); i++ {
			at := base + int(dec.InputOffset())
			var elem json.RawMessage
			if dec.Decode(&elem) != nil {
				return // cannot happen: raw is well-formed
			}
			p := fmt.Sprintf("%s[%d]", path, i)
			d.pos[p] = at
			v := reflect.New(dst.Type().Elem()).Elem()
			d.value(elem, at, p, v)
			dst.Set(reflect.Append(dst, v))
		}
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
			d.add(path, "is far too large", true)
		default:
			d.typeProblem(path, "a whole number", raw)
		}
	case reflect.Float64:
		var f float64
		if !isNumber(raw) || json.Unmarshal(raw, &f) != nil {
			d.typeProblem(path, "a number", raw)
			return
		}
		dst.SetFloat(f)
	default:
		if err := json.Unmarshal(raw, dst.Addr().Interface()); err != nil {
			d.add(path, "is not valid here", true)
		}
	}
}

// object decodes the JSON object raw: field finds where a key's value goes
// (ok false for an unknown key) and the name its path uses; set, when
// given, stores the decoded value.
func (d *decoded) object(raw []byte, base int, path string,
	field func(key string) (dst reflect.Value, name string, ok bool), set ...func(string, reflect.Value)) {
	if raw[0] != '{' {
		d.typeProblem(path, "an object", raw)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Token() // {
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
		dst, name, ok := field(key)
		p := join(path, name)
		if !ok {
			p = join(path, clip(key, 64))
			d.pos[p] = at
			d.add(p, "is not a known field", true)
			continue
		}
		d.pos[p] = at
		d.value(val, at, p, dst)
		if len(set) > 0 && !d.bad[p] {
			set[0](key, dst)
		}
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
		got = fmt.Sprintf("the string %q", clip(s, 40))
	case c == '{':
		got = "an object"
	case c == '[':
		got = "an array"
	case c == 't' || c == 'f':
		got = string(raw)
	case want == "a whole number":
		got = clip(string(raw), 40)
	default:
		got = "the number " + clip(string(raw), 40)
	}
	d.add(path, fmt.Sprintf("must be %s, not %s", want, got), true)
}

func isNumber(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'))
}

// fieldByJSONName finds the field of struct type t whose json name is key:
// exactly, or else ignoring case.
func fieldByJSONName(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if name == "" || !f.IsExported() {
			continue
		}
		if name == key {
			return f, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = &f
		}
	}
	if fold != nil {
		return *fold, true
	}
	return reflect.StructField{}, false
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
