package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// ParseJSON decodes one JSON text into the engine's value model: nil,
// bool, float64, string, []any and map[string]any. Trailing data is an
// error.
func ParseJSON(b []byte) (any, error) {
	if v, ok := parseValue(b); ok {
		return v, nil
	}
	// A text the single-pass parser does not take: encoding/json decides,
	// and its error is the one callers show.
	var v any
	if err := json.Unmarshal(b, &v); err != nil { // trailing data is a syntax error
		return nil, fmt.Errorf("asl: parse json: %w", jsonError(err))
	}
	return v, nil
}

// NumberRangeError reports a JSON number too large for a float64, such as
// 1e400: valid JSON that no value of the engine can hold.
type NumberRangeError struct {
	Number string // the number as the text wrote it
}

func (e *NumberRangeError) Error() string { return "number " + e.Number + " is out of range" }

// jsonError words encoding/json's error for a number out of range as a
// NumberRangeError ("cannot unmarshal number 1e400 into Go value of type
// float64" speaks of Go); other errors are returned as they are.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if n, ok := strings.CutPrefix(te.Value, "number "); ok {
			return &NumberRangeError{Number: n}
		}
	}
	return err
}

// Marshal encodes a value as compact JSON without HTML escaping, the way
// AWS writes state inputs and outputs.
func Marshal(v any) ([]byte, error) {
	var out []byte
	err := encodeScratch(v, func(b []byte) { out = append(make([]byte, 0, len(b)), b...) })
	return out, err
}

// scratchPool holds buffers to encode into: a text is encoded once into a
// grown buffer and copied out at its size, instead of growing a new
// buffer through the size classes on every call.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// encodeScratch encodes v into a pooled buffer and hands the text to use,
// which must not keep it.
func encodeScratch(v any, use func([]byte)) error {
	bp := scratchPool.Get().(*[]byte)
	b, err := appendJSON((*bp)[:0], v, nil)
	if err == nil {
		use(b)
	}
	if cap(b) <= 1<<20 { // do not keep the buffer of a rare huge value
		*bp = b[:0]
		scratchPool.Put(bp)
	}
	return err
}

// AppendJSON appends the compact JSON text of a value to b, as Marshal
// writes it.
func AppendJSON(b []byte, v any) ([]byte, error) {
	return appendJSON(b, v, nil)
}

// Texts lets AppendJSONTexts reuse the texts of maps and arrays encoded
// before.
type Texts interface {
	// Known returns the text of the map or array v, if it has one.
	Known(v any) (string, bool)
	// Encoded tells that the map or array v encodes as text: a view of
	// the bytes just appended to the buffer, which AppendJSONTexts never
	// writes again (it only appends after them).
	Encoded(v any, text []byte)
}

// AppendJSONTexts is AppendJSON, except that each map or array, v itself
// and those nested in it, is first looked up in t, and reported to t once
// encoded. It relies on values never being modified, as the engine's are
// not: the same map always has the same text.
func AppendJSONTexts(b []byte, v any, t Texts) ([]byte, error) {
	return appendJSON(b, v, t)
}

// Text returns the compact JSON text of a value ("null" if it cannot be
// encoded, which cannot happen for values of the engine's value model).
func Text(v any) string {
	text := "null"
	_ = encodeScratch(v, func(b []byte) { text = string(b) })
	return text
}

// TextLonger reports whether Text(v) is longer than limit bytes. It
// measures exactly, without encoding, and stops as soon as the count
// passes limit: a value whose text would take megabytes (the results of
// a descendant query on a deeply nested input, each holding the rest of
// it) costs no more than one of limit bytes.
func TextLonger(v any, limit int) bool {
	n := 0
	return textWalk(v, &n, limit)
}

// textLen returns len(Text(v)) when it is at most limit, and otherwise a
// number larger than limit (the count stops there).
func textLen(v any, limit int) int {
	n := 0
	textWalk(v, &n, limit)
	return n
}

// textWalk adds the length of v's text to *n and reports whether *n
// passed limit; it stops as soon as it does. It counts what appendValue
// writes.
func textWalk(v any, n *int, limit int) bool {
	switch x := v.(type) {
	case nil:
		*n += 4
	case bool:
		*n += 5
		if x {
			*n--
		}
	case string:
		*n += stringSize(x)
	case float64:
		var arr [32]byte
		*n += len(appendNumber(arr[:0], x))
	case int:
		var arr [24]byte
		*n += len(strconv.AppendInt(arr[:0], int64(x), 10))
	case int64:
		var arr [24]byte
		*n += len(strconv.AppendInt(arr[:0], x, 10))
	case json.Number:
		*n += len(x)
	case []any:
		*n += 2 + max(len(x)-1, 0)
		for _, e := range x {
			if *n > limit || textWalk(e, n, limit) {
				return true
			}
		}
	case map[string]any:
		*n += 2 + max(len(x)-1, 0)
		for k, e := range x {
			*n += stringSize(k) + 1
			if *n > limit || textWalk(e, n, limit) {
				return true
			}
		}
	default: // another Go value: measure its JSON as appendValue writes it
		j, err := json.Marshal(x)
		if err != nil {
			j = []byte("null") // as Text
		}
		*n += len(j)
	}
	return *n > limit
}

// TextUpTo returns the text of v (Text) when it is at most limit bytes
// long, and otherwise the first limit bytes of it, cut back to a
// character boundary, with whole false. Encoding stops soon after limit
// bytes, so a value quoted in a message costs no more than that.
func TextUpTo(v any, limit int) (text string, whole bool) {
	if !TextLonger(v, limit) {
		return Text(v), true
	}
	b, _ := appendJSONLimit(nil, v, limit)
	if len(b) > limit {
		b = b[:limit]
	}
	// The text is valid UTF-8: drop the start of a character cut in two.
	for i := len(b) - 1; i >= max(len(b)-utf8.UTFMax, 0); i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return string(b), false
}

// errTextLimit ends appendJSONLimit.
var errTextLimit = errors.New("asl: text limit reached")

// appendJSONLimit appends v's text to b as appendJSON does, but stops
// (with errTextLimit) once it has appended more than limit bytes: after
// the key or the member that passed it.
func appendJSONLimit(b []byte, v any, limit int) ([]byte, error) {
	start := len(b)
	var walk func(v any) error
	walk = func(v any) error {
		switch x := v.(type) {
		case []any:
			b = append(b, '[')
			for i, e := range x {
				if i > 0 {
					b = append(b, ',')
				}
				if len(b)-start > limit {
					return errTextLimit
				}
				if err := walk(e); err != nil {
					return err
				}
			}
			b = append(b, ']')
		case map[string]any:
			b = append(b, '{')
			for i, k := range slices.Sorted(maps.Keys(x)) {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, k)
				b = append(b, ':')
				if len(b)-start > limit {
					return errTextLimit
				}
				if err := walk(x[k]); err != nil {
					return err
				}
			}
			b = append(b, '}')
		default:
			var err error
			if b, err = appendValue(b, v, nil); err != nil {
				return err
			}
		}
		if len(b)-start > limit {
			return errTextLimit
		}
		return nil
	}
	err := walk(v)
	return b, err
}

func appendJSON(b []byte, v any, t Texts) ([]byte, error) {
	if t != nil {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 0 {
				break
			}
			return appendKnown(b, v, t)
		case []any:
			if len(x) == 0 {
				break
			}
			return appendKnown(b, v, t)
		}
	}
	return appendValue(b, v, t)
}

// appendKnown appends a non-empty map or array through t.
func appendKnown(b []byte, v any, t Texts) ([]byte, error) {
	if s, ok := t.Known(v); ok {
		return append(b, s...), nil
	}
	start := len(b)
	b, err := appendValue(b, v, t)
	if err == nil {
		t.Encoded(v, b[start:])
	}
	return b, err
}

// appendValue appends v's text; its members through appendJSON.
func appendValue(b []byte, v any, t Texts) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		b = append(b, "null"...)
	case bool:
		b = strconv.AppendBool(b, x)
	case string:
		b = appendString(b, x)
	case float64:
		b = appendNumber(b, x)
	case int:
		b = strconv.AppendInt(b, int64(x), 10)
	case int64:
		b = strconv.AppendInt(b, x, 10)
	case json.Number:
		b = append(b, x...)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e, t); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	case map[string]any:
		var arr [16]string // most objects have fewer members: no allocation
		keys := arr[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, x[k], t); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	default:
		j, err := json.Marshal(x)
		if err != nil {
			return b, fmt.Errorf("asl: marshal %T: %w", v, err)
		}
		b = append(b, j...)
	}
	return b, nil
}

// appendString appends s as a JSON string: quotes, backslashes and
// control characters escaped, no HTML escaping, invalid UTF-8 replaced
// and U+2028/U+2029 escaped as encoding/json does. Strings that need
// none of that (nearly all) are copied in one pass.
func appendString(b []byte, s string) []byte {
	if !plainString(s) {
		return appendStringSlow(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainString reports whether s is written as JSON between quotes as it
// is, without escapes or replacements.
func plainString(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

func appendStringSlow(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)                              // a string always encodes
	return append(b, buf.Bytes()[:buf.Len()-1]...) // Encode appends a newline
}

// formatNumber writes integral values without a fraction or exponent
// (up to 1e21, like JavaScript and Jackson's long form) and others in the
// shortest form that round-trips.
func formatNumber(f float64) string {
	var arr [32]byte
	return string(appendNumber(arr[:0], f))
}

// appendNumber appends f as formatNumber formats it.
func appendNumber(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, "null"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	j, _ := json.Marshal(f)
	return append(b, j...)
}

// TypeName returns the JSON type name of a value: "null", "boolean",
// "number", "string", "array" or "object".
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64, int, int64, json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// Identity is the identity of a non-empty map or array of the value
// model: the map's pointer, or the array's first element and length. The
// engine never modifies a value once built, so values of the same
// identity have the same JSON text. An Identity refers to its value, so
// the collector does not reuse the address while it is kept.
type Identity struct {
	p unsafe.Pointer
	n int
}

// IdentityOf returns the identity of a non-empty map[string]any or []any.
func IdentityOf(v any) (Identity, bool) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) > 0 {
			return Identity{p: *(*unsafe.Pointer)(unsafe.Pointer(&x)), n: -1}, true
		}
	case []any:
		if len(x) > 0 {
			return Identity{p: unsafe.Pointer(unsafe.SliceData(x)), n: len(x)}, true
		}
	}
	return Identity{}, false
}

// SizeMemo measures values against a size limit (Exceeds) with a memory:
// it remembers the sizes it measured of the last few maps and arrays by
// identity, so that a value
// passed on unchanged from state to state, or met again inside a task's
// parameters, is not walked again. It remembers a value and its direct
// members (a task result's Payload), not deeper ones. The zero value is
// ready to use; a SizeMemo is not safe for concurrent use.
type SizeMemo struct {
	ids   [8]Identity
	sizes [8]int
	n     int
}

// sizeMemoMin is the size from which a measured map or array is
// remembered: smaller ones cost less to walk again than to look up.
const sizeMemoMin = 128

// Exceeds reports whether the JSON encoding of v may be longer than limit
// bytes. It measures without encoding, stopping as soon as the limit is
// passed, so it is cheap for the small values most states carry. It never
// answers false for a longer encoding, but it may answer true for one a
// little shorter (numbers, booleans and separators are counted at their
// longest): a caller that needs the exact answer checks a true one against
// Text.
func (m *SizeMemo) Exceeds(v any, limit int) bool {
	n := 0
	return sizeWalk(v, &n, limit, m, 0)
}

func (m *SizeMemo) lookup(id Identity) (int, bool) {
	for i := range min(m.n, len(m.ids)) {
		if m.ids[i] == id {
			return m.sizes[i], true
		}
	}
	return 0, false
}

func (m *SizeMemo) remember(id Identity, size int) {
	i := m.n % len(m.ids)
	m.ids[i], m.sizes[i] = id, size
	m.n++
}

// stringSize returns the length of s as a JSON string (appendString).
func stringSize(s string) int {
	if plainString(s) {
		return len(s) + 2
	}
	return len(appendString(nil, s))
}

// sizeWalk adds an upper bound of v's JSON length to *n and reports
// whether *n passed limit; it stops as soon as it does. m, when not nil,
// supplies and receives the sizes of maps and arrays (sizeComposite);
// depth is v's depth in the value measured.
func sizeWalk(v any, n *int, limit int, m *SizeMemo, depth int) bool {
	switch x := v.(type) {
	case nil:
		*n += 4
	case bool:
		*n += 5
	case string:
		*n += stringSize(x)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			*n += 1 + int(math.Log10(math.Abs(x)+1))
			if x < 0 {
				*n++
			}
		} else {
			*n += 24 // -1.2345678901234567e-308
		}
	case []any, map[string]any:
		return sizeComposite(x, n, limit, m, depth)
	default: // another Go value a task handler returned: measure its JSON
		*n += len(Text(x))
	}
	return *n > limit
}

// sizeComposite is sizeWalk of a map or an array: the size m remembers
// for it, or its members' sizes, remembered when it is a value or a
// direct member of one (depth <= 1) and large enough to be worth it.
func sizeComposite(v any, n *int, limit int, m *SizeMemo, depth int) bool {
	var id Identity
	memo := false
	if m != nil {
		if id, memo = IdentityOf(v); memo {
			if size, ok := m.lookup(id); ok {
				*n += size
				return *n > limit
			}
		}
	}
	start := *n
	switch x := v.(type) {
	case []any:
		*n += 2 + len(x)
		for _, e := range x {
			if sizeWalk(e, n, limit, m, depth+1) {
				return true
			}
		}
	case map[string]any:
		*n += 2
		for k, e := range x {
			*n += stringSize(k) + 2
			if sizeWalk(e, n, limit, m, depth+1) {
				return true
			}
		}
	}
	if memo && depth <= 1 && *n-start >= sizeMemoMin && *n <= limit {
		m.remember(id, *n-start)
	}
	return *n > limit
}
