package engine

import (
	"context"
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
