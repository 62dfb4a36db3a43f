package engine

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// encode writes what encoding/json writes for the struct (decodeSnapshot
// reads both), except that an effective input with the text of the
// input is written once.
func TestSnapshotEncode(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 16, 37, 998426839, time.UTC)
	state := map[string]any{"check": map[string]any{"checkCount": 7.0, "status": "<Running & ok>"}, "list": []any{1.5, nil, true}}
	sameText := map[string]any{"list": []any{1.5, nil, true}, "check": map[string]any{"status": "<Running & ok>", "checkCount": 7.0}}
	for _, tc := range []struct {
		name string
		s    snapshot
		same bool
	}{
		{"enter", snapshot{State: "Check", Phase: phaseEnter, Input: state, LastID: 1}, false},
		{"wait, same effective input", snapshot{State: "Wait", Phase: phaseWait, Input: state, Effective: state,
			Prev: 9, LastID: 12, EnteredID: 11, EnteredPrev: 10, EnteredAt: at, WakeAt: at.Add(time.Second)}, true},
		{"equal text, another value", snapshot{State: "Wait", Phase: phaseWait, Input: state, Effective: sameText}, true},
		{"retry", snapshot{State: "Check", Phase: phaseRetry, Input: state, Effective: map[string]any{"x": "y"},
			Attempts: []int{2, 0}, Vars: map[string]any{"v": []any{"a"}}, WakeAt: at}, false},
		{"task in flight", snapshot{State: "Check", Phase: phaseTask, Input: state, Effective: map[string]any{"x": "y"},
			Attempts: []int{1}, EnteredAt: at}, false},
		{"null input", snapshot{State: "P", Phase: phaseEnter, Input: nil, Effective: nil}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.encode()
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(got, &m); err != nil {
				t.Fatalf("encode wrote invalid JSON %s: %v", got, err)
			}
			if _, ok := m["sameEffective"]; ok != tc.same {
				t.Errorf("sameEffective written: %v, want %v (%s)", ok, tc.same, got)
			}
			want := tc.s
			if want.Effective != nil {
				want.Effective = roundTrip(t, want.Effective)
			}
			want.Input, want.Vars = roundTrip(t, want.Input), roundTripMap(t, want.Vars)
			back, err := decodeSnapshot(got)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*back, want) {
				t.Errorf("decodeSnapshot(encode()) =\n%+v\nwant\n%+v", *back, want)
			}
			// The decoded effective input is a value of its own.
			if tc.same {
				back.Effective.(map[string]any)["check"] = nil
				if back.Input.(map[string]any)["check"] == nil {
					t.Error("decoded input and effective input share one map")
				}
			}
			// What encoding/json writes still decodes the same.
			old, _ := json.Marshal(tc.s)
			if fromOld, err := decodeSnapshot(old); err != nil || !reflect.DeepEqual(*fromOld, want) {
				t.Errorf("decodeSnapshot(json.Marshal) = %+v, %v", fromOld, err)
			}
		})
	}
}

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func roundTripMap(t *testing.T, m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return roundTrip(t, m).(map[string]any)
}

func BenchmarkSnapshotEncode(b *testing.B) {
	state := monitorCheckEvents(7)[8].Details.Input
	s := snapshot{State: "Wait", Phase: phaseWait, Input: state, Effective: state, Prev: 9, LastID: 12,
		EnteredID: 11, EnteredPrev: 10, EnteredAt: time.Now(), WakeAt: time.Now()}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.encode(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) { // what encode replaced
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(&s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSnapshotDecode decodes a monitor's run state in its Wait, as a
// wake-up from the store or an encoded resident does.
func BenchmarkSnapshotDecode(b *testing.B) {
	state := monitorCheckEvents(7)[8].Details.Input
	s := snapshot{State: "Wait", Phase: phaseWait, Input: state, Effective: state, Prev: 9, LastID: 12,
		EnteredID: 11, EnteredPrev: 10, EnteredAt: time.Now(), WakeAt: time.Now()}
	raw, err := s.encode()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := decodeSnapshot(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// decodeSnapshot refuses a run state with a field of the wrong type, and
// takes null or a missing field as the zero value, as encoding/json did.
func TestSnapshotDecodeFields(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		err        string // "" when it decodes
	}{
		{"nulls and missing fields", `{"state":"W","phase":null,"input":null,"attempts":null,"vars":null,"enteredAt":null}`, ""},
		{"an earlier version's taskStartedAt", `{"state":"W","taskStartedAt":"2026-12-03T09:16:37.998426839Z"}`, ""},
		{"not an object", `[1]`, "not a JSON object but an array"},
		{"not JSON", `{"state":`, "decode run state"},
		{"state a number", `{"state":5}`, "field state: want a string, not a number"},
		{"lastId a fraction", `{"lastId":1.5}`, "field lastId: want a whole number"},
		{"attempts of strings", `{"attempts":["x"]}`, "field attempts: want whole numbers, not a string"},
		{"vars an array", `{"vars":[]}`, "field vars: want an object, not an array"},
		{"sameEffective a string", `{"sameEffective":"yes"}`, "field sameEffective: want a boolean"},
		{"a bad time", `{"wakeAt":"yesterday"}`, "field wakeAt"},
		{"state an object", `{"state":{}}`, "field state: want a string, not an object"},
		{"attempts a number", `{"attempts":5}`, "field attempts: want an array, not a number"},
		{"attempts with a null", `{"attempts":[1,null]}`, "field attempts: want whole numbers, not null"},
		{"wakeAt a number", `{"wakeAt":5}`, "field wakeAt: want a time, not a number"},
		{"two fields of the wrong type", `{"state":5,"lastId":1.5}`, "field state: want a string, not a number"},
		{"a wrong type before a bad time", `{"state":5,"wakeAt":"yesterday"}`, "field state: want a string, not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := decodeSnapshot([]byte(tc.text))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("decodeSnapshot(%s): %v", tc.text, err)
			case tc.err == "" && (s.State != "W" || s.Phase != "" || s.Attempts != nil || s.Vars != nil || !s.EnteredAt.IsZero()):
				t.Fatalf("decodeSnapshot(%s) = %+v, want zero values but the state", tc.text, s)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("decodeSnapshot(%s) error %v, want one containing %q", tc.text, err, tc.err)
			}
		})
	}
}

// An effective input written as sameEffective decodes to a copy of the
// input down to its innermost maps and arrays.
func TestSnapshotDecodeSameEffectiveCopiesDeeply(t *testing.T) {
	s, err := decodeSnapshot([]byte(`{"state":"W","input":{"a":{"b":[1,{"c":2},[3]]}},"sameEffective":true}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": map[string]any{"b": []any{1.0, map[string]any{"c": 2.0}, []any{3.0}}}}
	if !reflect.DeepEqual(s.Input, want) || !reflect.DeepEqual(s.Effective, want) || s.SameEffective {
		t.Fatalf("decoded input %v, effective %v, sameEffective %v; want %v twice, false", s.Input, s.Effective, s.SameEffective, want)
	}
	b := s.Effective.(map[string]any)["a"].(map[string]any)["b"].([]any)
	b[0] = "changed"
	b[1].(map[string]any)["c"] = "changed"
	b[2].([]any)[0] = "changed"
	if !reflect.DeepEqual(s.Input, want) {
		t.Errorf("changing the effective input changed the input to %v", s.Input)
	}
}
