package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseJSON decodes one JSON text into the engine's value model: nil,
// bool, float64, string, []any and map[string]any. Trailing data is an
// error.
func ParseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("asl: parse json: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("asl: parse json: unexpected data after the value")
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("asl: parse json: unexpected data after the value")
	}
	return v, nil
}

// Marshal encodes a value as compact JSON without HTML escaping, the way
// AWS writes state inputs and outputs.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := appendJSON(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Text returns the compact JSON text of a value ("null" if it cannot be
// encoded, which cannot happen for values of the engine's value model).
func Text(v any) string {
	b, err := Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func appendJSON(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case string:
		writeString(buf, x)
	case float64:
		buf.WriteString(formatNumber(x))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case json.Number:
		buf.WriteString(x.String())
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := appendJSON(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case map[string]any:
		buf.WriteByte('{')
		first := true
		for _, k := range sortedKeys(x) {
			if !first {
				buf.WriteByte(',')
			}
			first = false
			writeString(buf, k)
			buf.WriteByte(':')
			if err := appendJSON(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("asl: marshal %T: %w", v, err)
		}
		buf.Write(b)
	}
	return nil
}

func writeString(buf *bytes.Buffer, s string) {
	plain := utf8.ValidString(s)
	for i := 0; plain && i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == 0x7f {
			plain = false
		}
	}
	if plain && !strings.ContainsAny(s, "\u2028\u2029") {
		buf.WriteByte('"')
		buf.WriteString(s)
		buf.WriteByte('"')
		return
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
}

// formatNumber writes integral values without a fraction or exponent
// (up to 1e21, like JavaScript and Jackson's long form) and others in the
// shortest form that round-trips.
func formatNumber(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "null"
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	b, _ := json.Marshal(f)
	return string(b)
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

// SizeExceeds reports whether the JSON encoding of v is longer than limit
// bytes. It estimates without encoding (strings without escapes, numbers
// at their shortest), stopping as soon as the limit is passed, so it is
// cheap for the small values most states carry.
func SizeExceeds(v any, limit int) bool {
	n := 0
	return sizeWalk(v, &n, limit)
}

func sizeWalk(v any, n *int, limit int) bool {
	switch x := v.(type) {
	case nil:
		*n += 4
	case bool:
		*n += 5
	case string:
		*n += len(x) + 2
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			*n += 1 + int(math.Log10(math.Abs(x)+1))
		} else {
			*n += 20
		}
	case []any:
		*n += 2 + len(x)
		for _, e := range x {
			if sizeWalk(e, n, limit) {
				return true
			}
		}
	case map[string]any:
		*n += 2
		for k, e := range x {
			*n += len(k) + 4
			if sizeWalk(e, n, limit) {
				return true
			}
		}
	default:
		*n += 8
	}
	return *n > limit
}
