package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/monitor/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) monitor.Store { return memstore.New() })
}

// BenchmarkListSparseStatus lists the one Failed record among 100,000
// Completed ones (the oldest), one record a page: every call looks at
// every record.
func BenchmarkListSparseStatus(b *testing.B) {
	const n = 100_000
	s := memstore.New()
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		created := t0.Add(time.Duration(i) * time.Millisecond)
		st := monitor.RuntimeCompleted
		if i == 0 {
			st = monitor.RuntimeFailed
		}
		rec := monitor.Record{InstanceID: fmt.Sprintf("bench-%07d", i), Name: "JobMonitor", RuntimeStatus: st,
			CreatedTime: created, LastUpdatedTime: created, ExpiresAt: created.Add(time.Hour)}
		if err := s.Create(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	q := monitor.ListQuery{RuntimeStatus: []monitor.RuntimeStatus{monitor.RuntimeFailed}, Top: 1}
	for b.Loop() {
		p, err := s.List(ctx, q)
		if err != nil || len(p.Records) != 1 {
			b.Fatalf("List = %d records, %v; want 1", len(p.Records), err)
		}
	}
}

// Event data that is not JSON (the service validates it; a caller of the
// store may not) is kept as given, as the SQLite store keeps it, and
// reading the record does not panic.
func TestEventDataNotJSON(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := monitor.Record{InstanceID: "a", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending,
		CreatedTime: now, LastUpdatedTime: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := s.AddEvent(ctx, "a", monitor.Event{Name: "e", Data: []byte("{bad"), RaisedAt: now}); err != nil {
		t.Fatalf("AddEvent: %v", err)
	}
	got, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if len(got.Events) != 1 || string(got.Events[0].Data) != "{bad" {
		t.Errorf("events = %+v, want one with data {bad", got.Events)
	}
}

// A continuation token in the store's own form that names no record id is
// no position in the list: List refuses it (KindInvalid) rather than
// answering a page from it.
func TestListTokenWithoutID(t *testing.T) {
	s := memstore.New()
	tok := monitor.EncodeToken(struct {
		Created time.Time `json:"c"`
		ID      string    `json:"i"`
	}{Created: time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)})
	_, err := s.List(context.Background(), monitor.ListQuery{ContinuationToken: tok})
	if !monitor.IsKind(err, monitor.KindInvalid) {
		t.Fatalf("List(token without an id) = %v (kind %s), want %s", err, monitor.KindOf(err), monitor.KindInvalid)
	}
}
