package local

import (
	"context"
	"sync"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// statusHealth is the status store as the runtime uses it, counting the
// writes it fails, for /healthz: a check whose status write fails (a full
// disk) is retried by the state machine for up to about 38 minutes and then
// fails its monitor, and until then nothing else shows it.
//
// A write fails when the store returns KindUnavailable, KindRateLimited
// or KindInternal while its caller still waits; the store's other
// answers (not found, gone, conflict, too large) say nothing about it.
// A write that the store took clears the monitors whose writes failed
// before it began. A call that may have written nothing (ConsumeEvents
// with no event pending, a RecordCheck not applied, a ClaimAlert that
// claimed nothing) clears nothing: on a full disk it succeeds while the
// writes around it fail.
type statusHealth struct {
	monitor.Store

	mu      sync.Mutex
	seq     uint64
	failing map[string]uint64 // instance id → sequence number of its last failed write
	lastErr string
}

var _ monitor.Store = (*statusHealth)(nil)

func newStatusHealth(s monitor.Store) *statusHealth {
	return &statusHealth{Store: s, failing: map[string]uint64{}}
}

// begin returns the sequence number of a write that begins now.
func (h *statusHealth) begin() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	return h.seq
}

// done records the outcome of the write of monitor id that began at seq:
// err, or, when wrote is true, a write the store took.
func (h *statusHealth) done(ctx context.Context, id string, seq uint64, wrote bool, err error) {
	switch {
	case err != nil:
		switch monitor.KindOf(err) {
		case monitor.KindUnavailable, monitor.KindRateLimited, monitor.KindInternal:
		default:
			return
		}
		if ctx.Err() != nil {
			return // the caller gave up: no sign of the store
		}
		h.mu.Lock()
		h.failing[id] = max(h.failing[id], seq)
		h.lastErr = err.Error()
		h.mu.Unlock()
	case wrote:
		h.mu.Lock()
		for id, at := range h.failing {
			if at < seq {
				delete(h.failing, id)
			}
		}
		if len(h.failing) == 0 {
			h.lastErr = ""
		}
		h.mu.Unlock()
	}
}

// writesFailing returns how many monitors' last status write failed
// since the last write the store took, and the last failure.
func (h *statusHealth) writesFailing() (int, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.failing), h.lastErr
}

func (h *statusHealth) Create(ctx context.Context, rec monitor.Record) error {
	seq := h.begin()
	err := h.Store.Create(ctx, rec)
	h.done(ctx, rec.InstanceID, seq, true, err)
	return err
}

// SetExecution passes the write to the store and counts its outcome as
// the other writes' (see done).
func (h *statusHealth) SetExecution(ctx context.Context, id string, created time.Time, executionArn string, at time.Time) error {
	seq := h.begin()
	err := h.Store.SetExecution(ctx, id, created, executionArn, at)
	h.done(ctx, id, seq, true, err)
	return err
}

func (h *statusHealth) RecordCheck(ctx context.Context, id string, u monitor.CheckUpdate) (bool, error) {
	seq := h.begin()
	applied, err := h.Store.RecordCheck(ctx, id, u)
	h.done(ctx, id, seq, applied, err)
	return applied, err
}

func (h *statusHealth) Finish(ctx context.Context, id string, f monitor.Finish) error {
	seq := h.begin()
	err := h.Store.Finish(ctx, id, f)
	h.done(ctx, id, seq, true, err)
	return err
}

func (h *statusHealth) AddEvent(ctx context.Context, id string, ev monitor.Event) error {
	seq := h.begin()
	err := h.Store.AddEvent(ctx, id, ev)
	h.done(ctx, id, seq, true, err)
	return err
}

func (h *statusHealth) ConsumeEvents(ctx context.Context, id string, created time.Time, check int) ([]monitor.Event, error) {
	seq := h.begin()
	evs, err := h.Store.ConsumeEvents(ctx, id, created, check)
	h.done(ctx, id, seq, false, err)
	return evs, err
}

func (h *statusHealth) ClaimAlert(ctx context.Context, id string, created time.Time, channel string, at time.Time) (monitor.AlertState, bool, error) {
	seq := h.begin()
	state, claimed, err := h.Store.ClaimAlert(ctx, id, created, channel, at)
	h.done(ctx, id, seq, claimed, err)
	return state, claimed, err
}

func (h *statusHealth) CompleteAlert(ctx context.Context, id string, res monitor.AlertResult) error {
	seq := h.begin()
	err := h.Store.CompleteAlert(ctx, id, res)
	h.done(ctx, id, seq, true, err)
	return err
}

func (h *statusHealth) ScheduleAlert(ctx context.Context, id string, created, at time.Time) error {
	seq := h.begin()
	err := h.Store.ScheduleAlert(ctx, id, created, at)
	h.done(ctx, id, seq, false, err) // writes nothing once the monitor ended
	return err
}

func (h *statusHealth) DeleteFinished(ctx context.Context, id string, created time.Time) error {
	seq := h.begin()
	err := h.Store.DeleteFinished(ctx, id, created)
	h.done(ctx, id, seq, true, err)
	return err
}

func (h *statusHealth) ReleaseClaim(ctx context.Context, id string, created time.Time) error {
	seq := h.begin()
	err := h.Store.ReleaseClaim(ctx, id, created)
	h.done(ctx, id, seq, true, err)
	return err
}
