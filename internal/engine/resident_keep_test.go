package engine

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// keepResident keeps an execution encoded when the decoded residents are
// full, even if the commit kept no copy of its run state (others took the
// room keepsEncoded saw): it encodes the snapshot again, and the bytes
// decode to the snapshot committed.
func TestKeepResidentEncodesWhenDecodedFull(t *testing.T) {
	e := New(Options{ResidentMax: 1, ResidentEncodedMax: 5})
	defer e.Close()
	now := e.clock.Now()
	e.mu.Lock()
	e.resident["arn:other"] = &resident{snap: &snapshot{}, wakeAt: now.Add(time.Second)}
	e.mu.Unlock()

	x := &execution{e: e, rec: Execution{Arn: "arn:x"}}
	snap := &snapshot{State: "W", Phase: "wait", Input: map[string]any{"n": 1.0, "s": "é"},
		SameEffective: true, LastID: 7, EnteredAt: now, WakeAt: now.Add(5 * time.Second)}
	e.keepResident(context.Background(), x, snap, nil)

	e.mu.Lock()
	r, encoded := e.resident["arn:x"], e.residentEncoded
	e.mu.Unlock()
	if r == nil || r.snap != nil || r.run == nil || encoded != 1 {
		t.Fatalf("resident entry %+v, %d encoded; want one encoded entry", r, encoded)
	}
	got, err := decodeSnapshot(r.run)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Input, snap.Input) || got.State != "W" || got.LastID != 7 || !got.WakeAt.Equal(snap.WakeAt) || !r.wakeAt.Equal(snap.WakeAt) {
		t.Fatalf("encoded entry decodes to %+v, want %+v", got, snap)
	}

	// Dropping it gives its room back.
	e.dropResident("arn:x")
	e.mu.Lock()
	encoded = e.residentEncoded
	e.mu.Unlock()
	if encoded != 0 {
		t.Fatalf("%d encoded residents after dropResident, want 0", encoded)
	}
}

// plainJSON accepts exactly the values encoding/json decodes into an any,
// at any depth.
func TestPlainJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want bool
	}{
		{"null", nil, true},
		{"boolean", true, true},
		{"number", 1.5, true},
		{"string", "é ✓", true},
		{"invalid UTF-8", "\xff", false},
		{"int", 1, false},
		{"struct", struct{ A int }{1}, false},
		{"byte string", []byte("x"), false},
		{"array", []any{1.0, "x", nil, []any{true}}, true},
		{"array with an int", []any{1.0, 2}, false},
		{"array with invalid UTF-8 deep down", []any{[]any{"\xff"}}, false},
		{"object", map[string]any{"a": map[string]any{"b": []any{1.0}}}, true},
		{"object with an int", map[string]any{"a": 1.0, "b": 2}, false},
		{"object with an invalid UTF-8 key", map[string]any{"\xff": 1.0}, false},
		{"object with an int deep down", map[string]any{"a": map[string]any{"b": []any{1}}}, false},
		{"map of strings", map[string]string{"a": "b"}, false},
	} {
		if got := plainJSON(tc.v); got != tc.want {
			t.Errorf("plainJSON(%s %#v) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
	}
}

// The resident window includes a wake-up exactly ResidentWindow ahead; a
// negative window keeps nothing, not even a wake-up due now.
func TestInResidentWindow(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		window time.Duration
		wakeIn time.Duration
		want   bool
	}{
		{0, 30 * time.Second, true}, // the default, 30 s
		{0, 30*time.Second + time.Nanosecond, false},
		{time.Second, time.Second, true},
		{time.Second, -time.Second, true},
		{-1, 0, false},
	} {
		e := New(Options{Clock: NewVirtualClock(t0), ResidentWindow: tc.window})
		if got := e.inResidentWindow(&snapshot{WakeAt: t0.Add(tc.wakeIn)}); got != tc.want {
			t.Errorf("window %v, wake-up in %v: in the window %v, want %v", tc.window, tc.wakeIn, got, tc.want)
		}
		e.Close()
	}
}

// keepsEncoded asks for the encoded run state once the decoded residents
// are at ResidentMax and while the encoded ones are below
// ResidentEncodedMax.
func TestKeepsEncoded(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	snap := &snapshot{WakeAt: t0.Add(time.Second)}
	for _, tc := range []struct {
		name                    string
		residentMax, encodedMax int
		decoded, encoded        int
		want                    bool
	}{
		{"room among the decoded", 2, 2, 1, 0, false},
		{"decoded full", 2, 2, 2, 0, true},
		{"decoded full, one encoded", 2, 2, 2, 1, true},
		{"both full", 2, 2, 2, 2, false},
		{"no encoded ones", 2, -1, 2, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Options{Clock: NewVirtualClock(t0), ResidentMax: tc.residentMax, ResidentEncodedMax: tc.encodedMax})
			defer e.Close()
			e.mu.Lock()
			for i := range tc.decoded {
				e.resident[fmt.Sprintf("arn:d%d", i)] = &resident{snap: &snapshot{}}
			}
			for i := range tc.encoded {
				e.resident[fmt.Sprintf("arn:e%d", i)] = &resident{run: []byte("{}")}
			}
			e.residentEncoded = tc.encoded
			e.mu.Unlock()
			if got := e.keepsEncoded(snap); got != tc.want {
				t.Errorf("keepsEncoded = %v, want %v", got, tc.want)
			}
			if e.keepsEncoded(&snapshot{WakeAt: t0.Add(time.Hour)}) {
				t.Error("keepsEncoded for a wake-up outside the resident window")
			}
		})
	}
}

// keepResident keeps the run state decoded only when all of the input,
// the effective input and the variables survive the store's JSON, with
// its times as decoded from the store (no monotonic clock reading), and
// keeps nothing for an execution whose context ended.
func TestKeepResidentDecodedOrEncoded(t *testing.T) {
	now := time.Now() // with a monotonic clock reading
	for _, tc := range []struct {
		name    string
		snap    snapshot
		decoded bool
	}{
		{"plain values", snapshot{Input: map[string]any{"n": 1.0}, Effective: []any{"x"}, Vars: map[string]any{"v": true}}, true},
		{"an int in the input", snapshot{Input: map[string]any{"n": 1}}, false},
		{"an int in the effective input", snapshot{Effective: []any{1}}, false},
		{"an int in the variables", snapshot{Vars: map[string]any{"v": 1}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Options{})
			defer e.Close()
			x := &execution{e: e, rec: Execution{Arn: "arn:x"}}
			snap := tc.snap
			snap.State, snap.Phase, snap.EnteredAt, snap.WakeAt = "W", phaseWait, now, now.Add(5*time.Second)
			e.keepResident(context.Background(), x, &snap, nil)
			e.mu.Lock()
			r := e.resident["arn:x"]
			e.mu.Unlock()
			if r == nil || (r.snap != nil) != tc.decoded || (r.run != nil) == tc.decoded {
				t.Fatalf("resident entry %+v, want it decoded: %v", r, tc.decoded)
			}
			if r.wakeAt != r.wakeAt.Round(0) || snap.WakeAt != snap.WakeAt.Round(0) || snap.EnteredAt != snap.EnteredAt.Round(0) {
				t.Errorf("kept times with a monotonic clock reading: wake-up %v, entered %v", snap.WakeAt, snap.EnteredAt)
			}

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			y := &execution{e: e, rec: Execution{Arn: "arn:y"}}
			e.keepResident(ctx, y, &snap, nil)
			e.mu.Lock()
			r = e.resident["arn:y"]
			e.mu.Unlock()
			if r != nil {
				t.Errorf("an execution whose context ended kept %+v", r)
			}
		})
	}
}
