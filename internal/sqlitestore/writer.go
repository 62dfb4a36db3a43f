package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrClosed is returned by the status store's writes after DB.Close.
var ErrClosed = errors.New("sqlitestore: database closed")

// maxWriteBatch bounds the number of writes one group commit holds.
const maxWriteBatch = 1024

// writeFunc is one write of the status store: statements on tx, all of
// which are undone when it returns an error. ctx is the writer's, never
// cancelled: interrupting a statement inside a shared transaction would
// roll back the other writes in it.
type writeFunc func(ctx context.Context, tx *sql.Tx) error

// writeReq is one write waiting for the writer goroutine.
type writeReq struct {
	fn       writeFunc
	done     chan error
	readOnly bool // fn only reads: no savepoint
}

// write runs fn through the group-commit writer: the writer takes every
// write waiting at the time, runs each inside a savepoint of one
// transaction on the write connection, commits once and then answers each
// caller with its own fn's result. A write is thus as durable and as
// isolated as in a transaction of its own, but one COMMIT (one WAL
// append) serves all the monitors checked at the same moment. Once
// handed over, fn runs even if ctx is cancelled, and write waits for it.
func (db *DB) write(ctx context.Context, fn writeFunc) error {
	return db.submit(ctx, false, fn)
}

// writeFirst is write ahead of the background writes (see lanes): for
// the API's requests.
func (db *DB) writeFirst(ctx context.Context, fn writeFunc) error {
	return db.submit(ctx, true, fn)
}

// readInWriter runs fn, which only reads, in the writer's next
// transaction. A read on the pool begins and ends a read transaction of
// its own, which in WAL mode takes and releases file locks, about four
// system calls; inside the writer's transaction it shares that
// transaction's locks with the batch, and sees every write committed
// before it and the batch's writes ahead of it. For the frequent, tiny
// reads of the check path (ConsumeEvents).
func (db *DB) readInWriter(ctx context.Context, fn writeFunc) error {
	return db.submitReq(ctx, false, &writeReq{fn: fn, done: make(chan error, 1), readOnly: true})
}

// submit is write, or writeFirst when urgent.
func (db *DB) submit(ctx context.Context, urgent bool, fn writeFunc) error {
	return db.submitReq(ctx, urgent, &writeReq{fn: fn, done: make(chan error, 1)})
}

func (db *DB) submitReq(ctx context.Context, urgent bool, r *writeReq) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case db.reqs.to(urgent) <- r:
	case <-db.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

// writer is the goroutine behind write. Senders block on the unbuffered
// channel while a batch commits, so batches form by themselves under a
// burst; under a steady load gather lingers briefly for more.
func (db *DB) writer() {
	defer close(db.done)
	batch := make([]*writeReq, 0, maxWriteBatch)
	t := time.NewTimer(time.Hour)
	t.Stop()
	var solo soloPolicy
	for {
		r, ok := db.reqs.first(db.quit)
		if !ok {
			return
		}
		batch = db.reqs.gather(db.quit, append(batch[:0], r), maxWriteBatch, t, &solo)
		db.commitBatch(batch)
		clear(batch)
	}
}

// commitBatch runs a batch in one transaction, each write in a savepoint.
// When the transaction fails as a whole (BEGIN or COMMIT fails, an I/O
// error aborts it), it runs each write again in a transaction of its own,
// so that only a faulty write fails.
func (db *DB) commitBatch(batch []*writeReq) {
	ctx := context.Background()
	if len(batch) == 1 {
		r := batch[0]
		r.done <- db.writeTx(ctx, func(tx *sql.Tx) error { return r.fn(ctx, tx) })
		return
	}
	results := make([]error, len(batch))
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		// Bound to the transaction once for the batch, not once per write.
		savepoint, release := tx.StmtContext(ctx, db.savepoint), tx.StmtContext(ctx, db.release)
		for i, r := range batch {
			if r.readOnly {
				results[i] = r.fn(ctx, tx)
				continue
			}
			if _, err := savepoint.ExecContext(ctx); err != nil {
				return err
			}
			results[i] = r.fn(ctx, tx)
			if results[i] != nil {
				if _, err := tx.StmtContext(ctx, db.rollbackTo).ExecContext(ctx); err != nil {
					return err
				}
			}
			if _, err := release.ExecContext(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		for i, r := range batch {
			r.done <- results[i]
		}
		return
	}
	for _, r := range batch {
		r.done <- db.writeTx(ctx, func(tx *sql.Tx) error { return r.fn(ctx, tx) })
	}
}

// startWriter prepares the savepoint statements and starts the writer.
func (db *DB) startWriter(ctx context.Context) error {
	if err := prepareAll(ctx, db.w,
		stmtSQL{&db.savepoint, `SAVEPOINT w`},
		stmtSQL{&db.rollbackTo, `ROLLBACK TO w`},
		stmtSQL{&db.release, `RELEASE w`},
	); err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", db.path, err)
	}
	db.reqs = newLanes[*writeReq]()
	db.quit = make(chan struct{})
	db.done = make(chan struct{})
	go db.writer()
	return nil
}

// stopWriter stops the writer after the batch in progress.
func (db *DB) stopWriter() error {
	if db.quit != nil {
		close(db.quit)
		<-db.done
	}
	var errs []error
	for _, st := range []*sql.Stmt{db.savepoint, db.rollbackTo, db.release} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
