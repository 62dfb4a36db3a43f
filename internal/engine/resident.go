package engine

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/asl"
)

// resident is what resuming a suspended top-level execution needs, kept
// in memory while its wake-up is near, so that the wake-up reads nothing
// back from the store. Up to Options.ResidentMax executions keep their run
// state decoded (the wake-up decodes no JSON either); beyond that, up to
// Options.ResidentEncodedMax more keep it encoded, the bytes the store
// holds (the wake-up decodes them as it would the store's).
//
// An entry is added only after the suspending commit succeeded, is
// removed by the resume that uses it, and is dropped by anything that
// changes the stored run state behind it (StopExecution, a terminal
// commit, Close). A resume without an entry reads the store, so a missing
// entry only costs time; a stale one would rewind the execution, hence
// the care in keepResident and StopExecution.
type resident struct {
	snap   *snapshot // nil when run holds the run state
	run    []byte    // the encoded run state, as committed
	wakeAt time.Time
	rec    Execution
	sm     StateMachine
	m      *asl.Machine
	input  any // the parsed execution input; nil if not parsed yet
}

// suspend commits the run state of a top-level execution that continues
// at snap.WakeAt and arms its timer.
func (x *execution) suspend(ctx context.Context, snap *snapshot) error {
	run, err := x.commitKeeping(ctx, snap, nil, x.e.keepsEncoded(snap), 0)
	if err != nil {
		return err
	}
	x.e.keepResident(ctx, x, snap, run)
	x.e.scheduleRelative(x.rec.Arn, snap.WakeAt, x.relativeFrom(snap))
	if x.e.debugging(ctx) {
		x.debugTimer(ctx, snap)
	}
	return nil
}

// relativeFrom returns the time a suspension's wake-up is relative to:
// now for a retry interval or a Wait of Seconds or SecondsPath, zero for
// a Wait until a Timestamp, which names its wall-clock time (see
// scheduleRelative). A wake-up capped at the execution's deadline
// (wakeAt) is zero too: the deadline is a wall-clock time, and a wait
// that ends there, rebased after the clock went back, would end before
// its duration and before the deadline, and the execution would go on.
func (x *execution) relativeFrom(snap *snapshot) time.Time {
	if d := x.deadline(); !d.IsZero() && !snap.WakeAt.Before(d) {
		return time.Time{}
	}
	if snap.Phase == phaseWait {
		if w, ok := x.m.States[snap.State].(*asl.WaitState); !ok || w.Timestamp != nil || w.TimestampPath != nil {
			return time.Time{}
		}
	}
	return x.e.clock.Now().Round(0)
}

// keepsEncoded reports whether a suspending execution should keep a copy
// of its encoded run state from the commit: its wake-up is within the
// resident window, the decoded residents are at ResidentMax and there is
// room among the encoded ones.
func (e *Engine) keepsEncoded(snap *snapshot) bool {
	if e.residentEncodedMax <= 0 || !e.inResidentWindow(snap) {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.resident)-e.residentEncoded >= e.residentMax && e.residentEncoded < e.residentEncodedMax
}

func (e *Engine) inResidentWindow(snap *snapshot) bool {
	return e.residentWindow >= 0 && snap.WakeAt.Sub(e.clock.Now()) <= e.residentWindow
}

// keepResident keeps the committed run state of a suspending execution in
// memory when its wake-up is within the resident window and there is
// room: decoded when the snapshot holds only values its JSON round trip
// through the store reproduces exactly (so that both ways resume
// identically), else encoded: run, the bytes committed, or the snapshot
// encoded again when the commit kept none.
//
// It runs on the execution's goroutine, before the execution stops being
// live: a due timer of the execution waits for that (rerun), so it finds
// the entry. StopExecution cancels ctx under e.mu before dropping the
// entry, so an execution stopped after its commit keeps nothing.
func (e *Engine) keepResident(ctx context.Context, x *execution, snap *snapshot, run []byte) {
	if !e.inResidentWindow(snap) {
		return
	}
	decoded := e.residentMax > 0 && plainJSON(snap.Input) && plainJSON(snap.Effective) && plainJSON(snap.Vars)
	// As decoded from the store: no monotonic clock reading.
	snap.EnteredAt, snap.WakeAt = snap.EnteredAt.Round(0), snap.WakeAt.Round(0)
	sm := x.sm
	if c, ok := e.machines.Load(machineKey(sm.Arn, sm.Revision)); ok {
		// The cached record shares its definition text with every
		// execution of the revision; x.sm may hold a copy of its own.
		sm = c.(*machineEntry).sm
	}
	for {
		e.mu.Lock()
		if ctx.Err() != nil || e.resident == nil {
			e.mu.Unlock()
			return
		}
		e.unresidentLocked(x.rec.Arn) // none expected: the resume took it
		switch {
		case decoded && len(e.resident)-e.residentEncoded < e.residentMax:
			e.resident[x.rec.Arn] = &resident{snap: snap, wakeAt: snap.WakeAt, rec: x.rec, sm: sm, m: x.m, input: x.input}
			e.mu.Unlock()
			return
		case e.residentEncoded >= e.residentEncodedMax:
			e.mu.Unlock()
			return
		case run != nil:
			e.resident[x.rec.Arn] = &resident{run: run, wakeAt: snap.WakeAt, rec: x.rec, sm: sm, m: x.m}
			e.residentEncoded++
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		// keepsEncoded saw room among the decoded residents, which others
		// have taken since: encode the run state again, as committed.
		var err error
		if run, err = snap.encode(); err != nil {
			return
		}
	}
}

// dropResident forgets the resident run state of an execution, if any.
func (e *Engine) dropResident(arn string) {
	e.mu.Lock()
	e.unresidentLocked(arn)
	e.mu.Unlock()
}

// unresidentLocked removes the resident entry of an execution, if any,
// keeping the count of encoded ones; e.mu is held.
func (e *Engine) unresidentLocked(arn string) {
	r := e.resident[arn]
	if r == nil {
		return
	}
	delete(e.resident, arn)
	if r.snap == nil {
		e.residentEncoded--
	}
}

// plainJSON reports whether v is made only of the values encoding/json
// decodes into an any (nil, bool, float64, valid UTF-8 strings, []any and
// map[string]any of them), i.e. whether the JSON round trip of a stored
// snapshot gives back an equal value. Task handlers may return other Go
// values (ints, structs, byte strings), which the store turns into these.
func plainJSON(v any) bool {
	switch x := v.(type) {
	case nil, bool, float64:
		return true
	case string:
		return utf8.ValidString(x)
	case []any:
		for _, e := range x {
			if !plainJSON(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for k, e := range x {
			if !utf8.ValidString(k) || !plainJSON(e) {
				return false
			}
		}
		return true
	}
	return false
}
