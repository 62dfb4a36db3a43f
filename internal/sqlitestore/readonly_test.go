package sqlitestore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// A database SQLite could open only for reading fails the write probe that
// Open runs, so that the service refuses to start rather than failing
// every write later. (Open itself cannot be shown a read-only file here:
// tests run as root, for whom file permissions do not refuse writes; the
// probe sees the file as SQLite opens it in that case, read-only.)
func TestProbeWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "status.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := probeWrite(ctx, db.w); err != nil {
		t.Errorf("probeWrite on a writable database: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var n int
	if err := ro.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("reading the read-only database: %d migrations, %v", n, err)
	}
	if err := probeWrite(ctx, ro); err == nil {
		t.Error("probeWrite on a database opened read-only: no error")
	}
}
