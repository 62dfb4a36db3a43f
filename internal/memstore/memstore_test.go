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
