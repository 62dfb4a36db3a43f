package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// Reads run in the writer's transactions, between writes of the same
// batches: a read sees the writes committed before it, and a failed read
// fails alone.
func TestReadInWriter(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stepmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE scratch (x INTEGER PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	errRead := errors.New("read failed")
	var wg sync.WaitGroup
	readErrs := make([]error, n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO scratch (x) VALUES (?)`, i)
				return err
			}); err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}()
		go func() {
			defer wg.Done()
			readErrs[i] = db.readInWriter(ctx, func(ctx context.Context, tx *sql.Tx) error {
				var count int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM scratch`).Scan(&count); err != nil {
					return err
				}
				if i%2 == 0 {
					return fmt.Errorf("read %d: %w", i, errRead)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range readErrs {
		if want := i%2 == 0; errors.Is(err, errRead) != want || (!want && err != nil) {
			t.Errorf("read %d: %v", i, err)
		}
	}
	// Every write committed, failed reads in their batches or not.
	var count int
	if err := db.readInWriter(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM scratch`).Scan(&count)
	}); err != nil || count != n {
		t.Errorf("rows after the writes: %d, %v; want %d", count, err, n)
	}
}
