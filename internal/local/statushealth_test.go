package local

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

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
}
