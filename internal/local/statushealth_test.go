package local

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// fullStatusStore is a status store whose writes fail as SQLite's do on
// a full disk while full is set.
type fullStatusStore struct {
	monitor.Store
	full atomic.Bool
}

var errStatusFull = monitor.WrapError(monitor.KindUnavailable, "sqlitestore: record check",
	errors.New("database or disk is full (13)"), "the database or the disk is full")

func (s *fullStatusStore) Create(ctx context.Context, rec monitor.Record) error {
	if s.full.Load() {
		return errStatusFull
	}
	return s.Store.Create(ctx, rec)
}

func (s *fullStatusStore) RecordCheck(ctx context.Context, id string, u monitor.CheckUpdate) (bool, error) {
	if s.full.Load() {
		return false, errStatusFull
	}
	return s.Store.RecordCheck(ctx, id, u)
}

// While the status store fails the monitors' writes (a full disk),
// /healthz answers 503 degraded with how many monitors' writes fail and
// the store's error, and 200 again once it takes a write: the checks
// behind those writes retry for a minute or two, then fail for good.
func TestHealthzStatusStoreFailing(t *testing.T) {
	var store *fullStatusStore
	rt := newTestRuntimeThen(t, Config{}, func(rt *Runtime) {
		store = &fullStatusStore{Store: rt.statusHealth.Store}
		rt.statusHealth.Store = store
	})
	base := rt.URL()
	healthz := func() (int, health) {
		t.Helper()
		a := call(t, http.MethodGet, base+"/healthz", "")
		var h health
		if err := json.Unmarshal(a.body, &h); err != nil {
			t.Fatalf("healthz body %s: %v", a.body, err)
		}
		return a.status, h
	}
	const start = `{"instanceId":"full-1","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":3600,"timeoutSeconds":7200}`

	store.full.Store(true)
	wantStatus(t, call(t, http.MethodPost, base+"/monitors", start), http.StatusServiceUnavailable, "start on a full disk")
	code, h := healthz()
	if code != http.StatusServiceUnavailable || h.Status != "degraded" || h.StatusStore == nil ||
		h.StatusStore.WritesFailing != 1 || !strings.Contains(h.StatusStore.Error, "database or disk is full") {
		t.Fatalf("healthz while the status store fails writes = %d, %+v (status store %+v); want 503 degraded, 1 write failing with the store's error",
			code, h, h.StatusStore)
	}

	store.full.Store(false)
	wantStatus(t, call(t, http.MethodPost, base+"/monitors", start), http.StatusAccepted, "start with room again")
	defer call(t, http.MethodPost, base+"/monitors/full-1/terminate", "")
	if code, h := healthz(); code != http.StatusOK || h.Status != "ok" || h.StatusStore != nil {
		t.Errorf("healthz once the status store takes writes = %d, %+v (status store %+v); want 200 ok without statusStore", code, h, h.StatusStore)
	}
}

// statusHealth counts the monitors whose last write failed with a
// failure of the store, not an answer about the record or a caller that
// gave up; a write the store took clears those that failed before it
// began, and a call that may have written nothing clears none.
func TestStatusHealth(t *testing.T) {
	ctx := context.Background()
	unavailable := monitor.Errorf(monitor.KindUnavailable, "record", "the database or the disk is full")
	gone := monitor.Errorf(monitor.KindGone, "record", "monitor x has finished")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	type write struct {
		ctx   context.Context
		id    string
		wrote bool
		err   error
	}
	tests := []struct {
		name    string
		writes  []write
		want    int
		wantErr string
	}{
		{"none", nil, 0, ""},
		{"one store failure", []write{{ctx, "a", false, unavailable}}, 1, unavailable.Error()},
		{"two monitors, one twice", []write{{ctx, "a", false, unavailable}, {ctx, "b", false, unavailable}, {ctx, "a", false, unavailable}}, 2, unavailable.Error()},
		{"rate limited", []write{{ctx, "a", false, monitor.Errorf(monitor.KindRateLimited, "record", "throttled")}}, 1, "record: throttled"},
		{"internal error", []write{{ctx, "a", false, errors.New("disk I/O error (10)")}}, 1, "disk I/O error (10)"},
		{"an answer about the record", []write{{ctx, "a", false, gone}}, 0, ""},
		{"the caller gave up", []write{{cancelled, "a", false, monitor.WrapError(monitor.KindUnavailable, "get", context.Canceled, "cancelled")}}, 0, ""},
		{"a write taken clears", []write{{ctx, "a", false, unavailable}, {ctx, "b", false, unavailable}, {ctx, "c", true, nil}}, 0, ""},
		{"a call that may not write clears nothing", []write{{ctx, "a", false, unavailable}, {ctx, "a", false, nil}}, 1, unavailable.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHealth(memstore.New())
			for _, w := range tt.writes {
				h.done(w.ctx, w.id, h.begin(), w.wrote, w.err)
			}
			if got, err := h.writesFailing(); got != tt.want || err != tt.wantErr {
				t.Errorf("writesFailing() = %d, %q; want %d, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}

	// A write taken that began before a failure does not clear it.
	h := newStatusHealth(memstore.New())
	early := h.begin()
	h.done(ctx, "a", h.begin(), false, unavailable)
	h.done(ctx, "b", early, true, nil)
	if got, _ := h.writesFailing(); got != 1 {
		t.Errorf("after a write taken that began before the failure: writesFailing() = %d, want 1", got)
	}

	// A monitor's failing write is its latest: an older write of it
	// that fails afterwards does not make a write taken in between clear
	// it.
	h = newStatusHealth(memstore.New())
	older, between, newer := h.begin(), h.begin(), h.begin()
	h.done(ctx, "a", newer, false, unavailable)
	h.done(ctx, "a", older, false, unavailable)
	h.done(ctx, "b", between, true, nil)
	if got, _ := h.writesFailing(); got != 1 {
		t.Errorf("after a write taken between two failures of a monitor: writesFailing() = %d, want 1", got)
	}

	// A write taken that clears some failures keeps the last error of
	// those left.
	h = newStatusHealth(memstore.New())
	first := monitor.Errorf(monitor.KindUnavailable, "record", "first failure")
	h.done(ctx, "a", h.begin(), false, first)
	mid := h.begin()
	h.done(ctx, "b", h.begin(), false, unavailable)
	h.done(ctx, "c", mid, true, nil)
	if got, err := h.writesFailing(); got != 1 || err != unavailable.Error() {
		t.Errorf("after a write taken that cleared one of two: writesFailing() = %d, %q; want 1, %q", got, err, unavailable.Error())
	}
}

// answeringStore answers every write of the status store at once,
// without error; RecordCheck and ClaimAlert report whether they wrote as
// applied says.
type answeringStore struct {
	monitor.Store
	applied bool
}

func (s answeringStore) Create(context.Context, monitor.Record) error { return nil }
func (s answeringStore) SetExecution(context.Context, string, time.Time, string, time.Time) error {
	return nil
}
func (s answeringStore) RecordCheck(context.Context, string, monitor.CheckUpdate) (bool, error) {
	return s.applied, nil
}
func (s answeringStore) Finish(context.Context, string, monitor.Finish) error    { return nil }
func (s answeringStore) AddEvent(context.Context, string, monitor.Event) error   { return nil }
func (s answeringStore) DeleteFinished(context.Context, string, time.Time) error { return nil }
func (s answeringStore) ReleaseClaim(context.Context, string, time.Time) error   { return nil }
func (s answeringStore) CompleteAlert(context.Context, string, monitor.AlertResult) error {
	return nil
}
func (s answeringStore) ConsumeEvents(context.Context, string, time.Time, int) ([]monitor.Event, error) {
	return nil, nil
}
func (s answeringStore) ClaimAlert(context.Context, string, time.Time, string, time.Time) (monitor.AlertState, bool, error) {
	return monitor.AlertState{}, s.applied, nil
}

// Each write of the status store clears the failures before it when the
// store took it; ConsumeEvents never does (it may have found no event),
// RecordCheck and ClaimAlert only when they wrote.
func TestStatusHealthWrites(t *testing.T) {
	ctx := context.Background()
	var zero time.Time
	tests := []struct {
		name    string
		applied bool // RecordCheck's and ClaimAlert's answer
		call    func(h *statusHealth) error
		clears  bool
	}{
		{"Create", false, func(h *statusHealth) error { return h.Create(ctx, monitor.Record{InstanceID: "y"}) }, true},
		{"SetExecution", false, func(h *statusHealth) error { return h.SetExecution(ctx, "y", zero, "arn", zero) }, true},
		{"RecordCheck applied", true, func(h *statusHealth) error { _, err := h.RecordCheck(ctx, "y", monitor.CheckUpdate{}); return err }, true},
		{"RecordCheck not applied", false, func(h *statusHealth) error { _, err := h.RecordCheck(ctx, "y", monitor.CheckUpdate{}); return err }, false},
		{"Finish", false, func(h *statusHealth) error { return h.Finish(ctx, "y", monitor.Finish{}) }, true},
		{"AddEvent", false, func(h *statusHealth) error { return h.AddEvent(ctx, "y", monitor.Event{}) }, true},
		{"ConsumeEvents", true, func(h *statusHealth) error { _, err := h.ConsumeEvents(ctx, "y", zero, 1); return err }, false},
		{"ClaimAlert claimed", true, func(h *statusHealth) error { _, _, err := h.ClaimAlert(ctx, "y", zero, "sns", zero); return err }, true},
		{"ClaimAlert not claimed", false, func(h *statusHealth) error { _, _, err := h.ClaimAlert(ctx, "y", zero, "sns", zero); return err }, false},
		{"CompleteAlert", false, func(h *statusHealth) error { return h.CompleteAlert(ctx, "y", monitor.AlertResult{}) }, true},
		{"DeleteFinished", false, func(h *statusHealth) error { return h.DeleteFinished(ctx, "y", zero) }, true},
		{"ReleaseClaim", false, func(h *statusHealth) error { return h.ReleaseClaim(ctx, "y", zero) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newStatusHealth(answeringStore{applied: tt.applied})
			h.done(ctx, "x", h.begin(), false, monitor.Errorf(monitor.KindUnavailable, "record", "full"))
			if err := tt.call(h); err != nil {
				t.Fatal(err)
			}
			want := 1
			if tt.clears {
				want = 0
			}
			if got, _ := h.writesFailing(); got != want {
				t.Errorf("monitors failing after %s: %d, want %d", tt.name, got, want)
			}
		})
	}
}
