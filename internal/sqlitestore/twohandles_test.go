package sqlitestore_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/monitor/storetest"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// TestStoreTwoHandles runs the suite on two DBs open on one file, calls
// alternating between them, as two processes sharing the file would: the
// claims and conditions must hold across SQLite's file lock, not only
// within one handle's write connection.
func TestStoreTwoHandles(t *testing.T) {
	storetest.Run(t, func(t *testing.T) monitor.Store {
		path := filepath.Join(t.TempDir(), "stepmon.db")
		var s alternating
		for i := range s.dbs {
			db, err := sqlitestore.Open(t.Context(), path)
			if err != nil {
				t.Fatalf("Open %d: %v", i, err)
			}
			t.Cleanup(func() { db.Close() })
			s.dbs[i] = db.Monitors()
		}
		return &s
	})
}

// alternating sends each call to the next of two stores.
type alternating struct {
	dbs [2]*sqlitestore.Store
	n   atomic.Uint32
}

func (a *alternating) next() *sqlitestore.Store { return a.dbs[a.n.Add(1)%2] }

func (a *alternating) Create(ctx context.Context, rec monitor.Record) error {
	return a.next().Create(ctx, rec)
}

func (a *alternating) Get(ctx context.Context, id string) (monitor.Record, error) {
	return a.next().Get(ctx, id)
}

func (a *alternating) SetExecution(ctx context.Context, id string, created time.Time, arn string, at time.Time) error {
	return a.next().SetExecution(ctx, id, created, arn, at)
}

func (a *alternating) RecordCheck(ctx context.Context, id string, u monitor.CheckUpdate) (bool, error) {
	return a.next().RecordCheck(ctx, id, u)
}

func (a *alternating) Finish(ctx context.Context, id string, f monitor.Finish) error {
	return a.next().Finish(ctx, id, f)
}

func (a *alternating) AddEvent(ctx context.Context, id string, ev monitor.Event) error {
	return a.next().AddEvent(ctx, id, ev)
}

func (a *alternating) ConsumeEvents(ctx context.Context, id string, created time.Time, check int) ([]monitor.Event, error) {
	return a.next().ConsumeEvents(ctx, id, created, check)
}

func (a *alternating) ClaimAlert(ctx context.Context, id string, created time.Time, channel string, at time.Time) (monitor.AlertState, bool, error) {
	return a.next().ClaimAlert(ctx, id, created, channel, at)
}

func (a *alternating) CompleteAlert(ctx context.Context, id string, r monitor.AlertResult) error {
	return a.next().CompleteAlert(ctx, id, r)
}

func (a *alternating) ScheduleAlert(ctx context.Context, id string, created, at time.Time) error {
	return a.next().ScheduleAlert(ctx, id, created, at)
}

func (a *alternating) List(ctx context.Context, q monitor.ListQuery) (monitor.ListPage, error) {
	return a.next().List(ctx, q)
}

func (a *alternating) DeleteFinished(ctx context.Context, id string, created time.Time) error {
	return a.next().DeleteFinished(ctx, id, created)
}

func (a *alternating) ReleaseClaim(ctx context.Context, id string, created time.Time) error {
	return a.next().ReleaseClaim(ctx, id, created)
}
