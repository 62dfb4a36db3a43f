package sqlitestore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// synchronous reads the synchronous pragma of one connection of pool:
// 1 is NORMAL, 2 FULL.
func synchronous(t *testing.T, ctx context.Context, pool *sql.DB) int {
	t.Helper()
	conn, err := pool.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// FullSync sets synchronous=FULL on every connection of the status
// database (its writer's and its readers') and of the engine's, whose
// writer takes its connection from the pool; without it both stay
// NORMAL.
func TestFullSync(t *testing.T) {
	ctx := context.Background()
	for _, full := range []bool{false, true} {
		want := 1
		if full {
			want = 2
		}
		dir := t.TempDir()
		db, err := OpenWith(ctx, filepath.Join(dir, "status.db"), Options{FullSync: full})
		if err != nil {
			t.Fatal(err)
		}
		if got := synchronous(t, ctx, db.w); got != want {
			t.Errorf("FullSync %t: status writer synchronous = %d, want %d", full, got, want)
		}
		if got := synchronous(t, ctx, db.SQL()); got != want {
			t.Errorf("FullSync %t: status readers synchronous = %d, want %d", full, got, want)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		es, err := OpenEngineStore(ctx, filepath.Join(dir, "stepmon.db"), EngineOptions{FullSync: full})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := es.conn.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("FullSync %t: engine writer synchronous = %d, want %d", full, got, want)
		}
		if got := synchronous(t, ctx, es.DB()); got != want {
			t.Errorf("FullSync %t: engine readers synchronous = %d, want %d", full, got, want)
		}
		if err := es.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
