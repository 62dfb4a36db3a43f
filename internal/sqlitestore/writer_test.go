package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// Reads run in the writer's transactions, between writes of the same
// batches: a read sees the writes committed before it, and a failed read
// fails alone.
func TestReadInWriter(t *testing.T) {
	ctx := context.Background()
	db := openWriterDB(t, true)
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

// A write handed to a closed DB is refused with ErrClosed and never runs:
// it is not reported as done.
func TestWriteAfterClose(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stepmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ran := false
	for _, urgent := range []bool{false, true} {
		err := db.submit(ctx, urgent, func(context.Context, *sql.Tx) error {
			ran = true
			return nil
		})
		if !errors.Is(err, ErrClosed) {
			t.Errorf("write (urgent %v) after Close = %v, want ErrClosed", urgent, err)
		}
	}
	if ran {
		t.Error("a write after Close ran")
	}
}

// doneWatch is a context that reports when a caller first waits on it.
type doneWatch struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func (c *doneWatch) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

// A write whose context ends while it waits for the busy writer gives up
// with the context's error and never runs: it is not reported as done.
func TestWriteGivesUpWhenContextEnds(t *testing.T) {
	ctx := context.Background()
	db := openWriterDB(t, false)
	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.write(ctx, func(context.Context, *sql.Tx) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started // the writer is busy with the first write until release

	cctx, cancel := context.WithCancel(ctx)
	watch := &doneWatch{Context: cctx, waiting: make(chan struct{})}
	var ran atomic.Bool
	second := make(chan error, 1)
	go func() {
		second <- db.write(watch, func(context.Context, *sql.Tx) error {
			ran.Store(true)
			return nil
		})
	}()
	<-watch.waiting
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("write whose context ended while waiting = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first write: %v", err)
	}
	// A write after both has seen whatever the writer ran.
	if err := db.write(ctx, func(context.Context, *sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if ran.Load() {
		t.Error("the write whose context ended ran")
	}
}

// A write that fails is undone whole, also when it shares its batch's
// transaction with writes that succeed: nothing it wrote before failing
// is committed with them.
func TestFailedWriteIsUndoneInItsBatch(t *testing.T) {
	ctx := context.Background()
	db := openWriterDB(t, true)
	const n = 200
	errWrite := errors.New("write failed")
	errs := writeAll(db, n, func(ctx context.Context, tx *sql.Tx, i int) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scratch (x) VALUES (?)`, i); err != nil {
			return err
		}
		if i%2 == 0 {
			return errWrite
		}
		return nil
	})
	for i, err := range errs {
		if want := i%2 == 0; errors.Is(err, errWrite) != want || (!want && err != nil) {
			t.Errorf("write %d: %v", i, err)
		}
	}
	var rows, even int
	if err := db.readInWriter(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE x % 2 = 0) FROM scratch`).Scan(&rows, &even)
	}); err != nil {
		t.Fatal(err)
	}
	if rows != n/2 || even != 0 {
		t.Errorf("rows after the writes: %d, %d of failed writes; want %d, none", rows, even, n/2)
	}
}

// When a batch's transaction fails as a whole, its writes are not
// reported by the batch's results: each runs again alone, so that a write
// that succeeds is committed and only the faulty one fails. Here the
// faulty writes end the transaction themselves.
func TestBatchFailureRunsWritesAlone(t *testing.T) {
	ctx := context.Background()
	db := openWriterDB(t, true)
	const n = 200
	faulty := func(i int) bool { return i%50 == 0 }
	errs := writeAll(db, n, func(ctx context.Context, tx *sql.Tx, i int) error {
		if faulty(i) {
			_, err := tx.ExecContext(ctx, `ROLLBACK`)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO scratch (x) VALUES (?)`, i)
		return err
	})
	for i, err := range errs {
		if faulty(i) != (err != nil) {
			t.Errorf("write %d (faulty %v): %v", i, faulty(i), err)
		}
	}
	var rows int
	if err := db.readInWriter(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM scratch`).Scan(&rows)
	}); err != nil {
		t.Fatal(err)
	}
	if want := n - n/50; rows != want {
		t.Errorf("rows after the writes: %d, want %d", rows, want)
	}
}

// openWriterDB opens a database in a temporary directory, closed when the
// test ends, with a table scratch (x INTEGER PRIMARY KEY) when scratch is
// true.
func openWriterDB(t *testing.T, scratch bool) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "stepmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if !scratch {
		return db
	}
	if err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE scratch (x INTEGER PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db
}

// writeAll makes n writes at once, the i-th running fn with i, so that
// the writer batches them, and returns their errors by i.
func writeAll(db *DB, n int, fn func(ctx context.Context, tx *sql.Tx, i int) error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = db.write(context.Background(), func(ctx context.Context, tx *sql.Tx) error { return fn(ctx, tx, i) })
		})
	}
	wg.Wait()
	return errs
}
