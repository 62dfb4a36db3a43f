package sqlitestore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "stepmon")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	db, err := sqlitestore.Open(ctx, filepath.Join(dir, "stepmon.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	store := db.Monitors()

	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := monitor.Record{InstanceID: "job-42", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending, CreatedTime: now}
	fmt.Println(store.Create(ctx, rec))
	fmt.Println(monitor.KindOf(store.Create(ctx, rec)))
	applied, err := store.RecordCheck(ctx, "job-42", monitor.CheckUpdate{
		CustomStatus: monitor.CustomStatus{JobID: "job-42", Status: "Running", CheckCount: 1, LastCheckTime: now},
		At:           now,
	})
	fmt.Println(applied, err)
	got, _ := store.Get(ctx, "job-42")
	fmt.Println(got.RuntimeStatus, got.CustomStatus.CheckCount)
	// Output:
	// <nil>
	// conflict
	// true <nil>
	// Running 1
}
