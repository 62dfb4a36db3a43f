package engine

import (
	"fmt"
	"time"

	"github.com/stepmon/stepmon/internal/asl"
)

// decodeSnapshot reads a run state written by snapshot.encode, or by
// encoding/json from the struct (what earlier versions stored). It parses
// the text once with the engine's JSON parser and takes the fields from
// the object: encoding/json's reflection took three quarters of the time.
// An effective input written as sameEffective gets a copy of the input,
// a value of its own, as the execution had before it suspended.
func decodeSnapshot(b []byte) (*snapshot, error) {
	v, err := asl.ParseJSON(b)
	if err != nil {
		return nil, fmt.Errorf("engine: decode run state: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("engine: decode run state: not a JSON object but %s", jsonKind(v))
	}
	d := snapshotFields{m: m}
	s := &snapshot{
		State:         d.str("state"),
		Phase:         d.str("phase"),
		Input:         m["input"],
		Effective:     m["effective"],
		SameEffective: d.bool("sameEffective"),
		Attempts:      d.ints("attempts"),
		Vars:          d.object("vars"),
		Prev:          d.int("prev"),
		LastID:        d.int("lastId"),
		EnteredID:     d.int("enteredId"),
		EnteredPrev:   d.int("enteredPrev"),
		EnteredAt:     d.time("enteredAt"),
		WakeAt:        d.time("wakeAt"),
	}
	if d.err != nil {
		return nil, fmt.Errorf("engine: decode run state: %w", d.err)
	}
	if s.SameEffective {
		s.Effective, s.SameEffective = copyValue(s.Input), false
	}
	return s, nil
}

// snapshotFields takes typed fields from a decoded run state; the first
// field of the wrong type is err. A missing field or null is the zero
// value, as with encoding/json.
type snapshotFields struct {
	m   map[string]any
	err error
}

func (d *snapshotFields) fail(name, want string, v any) {
	if d.err == nil {
		d.err = fmt.Errorf("field %s: want %s, not %s", name, want, jsonKind(v))
	}
}

// field returns the field name as a T, the zero T when it is missing or
// null; a value of another type is an error, described as want.
func field[T any](d *snapshotFields, name, want string) T {
	v, ok := d.m[name].(T)
	if !ok && d.m[name] != nil {
		d.fail(name, want, d.m[name])
	}
	return v
}

func (d *snapshotFields) str(name string) string { return field[string](d, name, "a string") }
func (d *snapshotFields) bool(name string) bool  { return field[bool](d, name, "a boolean") }
func (d *snapshotFields) object(name string) map[string]any {
	return field[map[string]any](d, name, "an object")
}

func (d *snapshotFields) int(name string) int64 {
	v := d.m[name]
	if v == nil {
		return 0
	}
	n, ok := asl.Integer(v)
	if !ok {
		d.fail(name, "a whole number", v)
	}
	return int64(n)
}

func (d *snapshotFields) ints(name string) []int {
	switch v := d.m[name].(type) {
	case nil:
	case []any:
		out := make([]int, len(v))
		for i, e := range v {
			n, ok := asl.Integer(e)
			if !ok {
				d.fail(name, "whole numbers", e)
				return nil
			}
			out[i] = n
		}
		return out
	default:
		d.fail(name, "an array", v)
	}
	return nil
}

func (d *snapshotFields) time(name string) time.Time {
	switch v := d.m[name].(type) {
	case nil:
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil && d.err == nil {
			d.err = fmt.Errorf("field %s: %w", name, err)
		}
		return t
	default:
		d.fail(name, "a time", v)
	}
	return time.Time{}
}

// copyValue returns a deep copy of a value of the engine's value model.
func copyValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}

// jsonKind names the JSON type of a decoded value with its article, for
// errors: "a number", "an array", "null".
func jsonKind(v any) string {
	switch t := asl.TypeName(v); t {
	case "null":
		return t
	case "array", "object":
		return "an " + t
	default:
		return "a " + t
	}
}
