package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/monitor/storetest"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

func openDB(t testing.TB) *sqlitestore.DB {
	t.Helper()
	db, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "stepmon.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) monitor.Store { return openDB(t).Monitors() })
}
