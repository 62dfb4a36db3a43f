package sqlitestore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

var benchT0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func benchRecord(i int) monitor.Record {
	spec := monitor.Spec{JobID: fmt.Sprintf("job-%d", i), Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 4},
		PollingIntervalSeconds: 5, TimeoutSeconds: 3600}
	created := benchT0.Add(time.Duration(i) * time.Millisecond)
	return monitor.Record{InstanceID: fmt.Sprintf("bench-%07d", i), Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
		Input: spec, CreatedTime: created, LastUpdatedTime: created, ExpiresAt: created.Add(time.Hour)}
}

// seed creates n records, each changed by edit when given, and returns
// the store.
func seed(b *testing.B, n int, edit ...func(i int, rec *monitor.Record)) *sqlitestore.Store {
	b.Helper()
	s := openDB(b).Monitors()
	ctx := context.Background()
	for i := range n {
		rec := benchRecord(i)
		for _, e := range edit {
			e(i, &rec)
		}
		if err := s.Create(ctx, rec); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

func BenchmarkCreate(b *testing.B) {
	s := openDB(b).Monitors()
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if err := s.Create(ctx, benchRecord(i)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateParallel(b *testing.B) {
	s := openDB(b).Monitors()
	ctx := context.Background()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Create(ctx, benchRecord(int(n.Add(1)))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRecordCheck(b *testing.B) {
	const monitors = 1000
	s := seed(b, monitors)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("bench-%07d", i%monitors)
		u := monitor.CheckUpdate{At: benchT0, CustomStatus: monitor.CustomStatus{JobID: id, Status: "Running", CheckCount: i/monitors + 1, LastCheckTime: benchT0}}
		if ok, err := s.RecordCheck(ctx, id, u); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	const monitors = 10000
	s := seed(b, monitors)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Get(ctx, fmt.Sprintf("bench-%07d", i*7919%monitors)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetParallel(b *testing.B) {
	const monitors = 10000
	s := seed(b, monitors)
	ctx := context.Background()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Get(ctx, fmt.Sprintf("bench-%07d", int(n.Add(1))*7919%monitors)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkListPage(b *testing.B) {
	const monitors = 10000
	s := seed(b, monitors)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		p, err := s.List(ctx, monitor.ListQuery{RuntimeStatus: []monitor.RuntimeStatus{monitor.RuntimePending}, Top: 100,
			CreatedFrom: benchT0.Add(time.Second)})
		if err != nil || len(p.Records) != 100 {
			b.Fatal(len(p.Records), err)
		}
	}
}

// BenchmarkListSparseStatus lists the one Failed record among 100,000
// Completed ones (the oldest), one record a page, filtering by one status
// and by two.
func BenchmarkListSparseStatus(b *testing.B) {
	s := seed(b, 100_000, func(i int, rec *monitor.Record) {
		rec.RuntimeStatus = monitor.RuntimeCompleted
		if i == 0 {
			rec.RuntimeStatus = monitor.RuntimeFailed
		}
	})
	ctx := context.Background()
	for _, st := range [][]monitor.RuntimeStatus{
		{monitor.RuntimeFailed},
		{monitor.RuntimeFailed, monitor.RuntimeTerminated},
	} {
		b.Run(fmt.Sprint(len(st)), func(b *testing.B) {
			q := monitor.ListQuery{RuntimeStatus: st, Top: 1}
			for b.Loop() {
				p, err := s.List(ctx, q)
				if err != nil || len(p.Records) != 1 {
					b.Fatalf("List = %d records, %v; want 1", len(p.Records), err)
				}
			}
		})
	}
}

// BenchmarkRetimePurge times a whole pass of RetimePurge over 100,000
// finished records, in the runtime's batches of 100, the retention
// changing each time: what a restart with another --retention costs.
func BenchmarkRetimePurge(b *testing.B) {
	const n = 100_000
	s := seed(b, n, func(_ int, rec *monitor.Record) {
		rec.RuntimeStatus = monitor.RuntimeCompleted
		rec.PurgeAt = rec.LastUpdatedTime.Add(7 * 24 * time.Hour)
	})
	ctx := context.Background()
	retention := time.Minute
	for b.Loop() {
		retention += time.Minute
		total, after := 0, ""
		for {
			changed, last, err := s.RetimePurge(ctx, retention, after, 100)
			if err != nil {
				b.Fatal(err)
			}
			total, after = total+changed, last
			if changed < 100 {
				break
			}
		}
		if total != n {
			b.Fatalf("re-timed %d records, want %d", total, n)
		}
	}
}
