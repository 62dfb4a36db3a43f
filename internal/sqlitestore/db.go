package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/stepmon/stepmon/internal/syserr"
)

// DB is one SQLite database file opened for stepmon, in WAL mode so that
// readers never wait for a writer. The status store writes through a
// single connection of its own, driven by one goroutine that group-commits
// the writes waiting at the time (see write), and reads through a pool,
// which other stores in the same file may share (see SQL). Two writers on
// one file (the status store's and an EngineStore's) take turns on
// SQLite's write lock; a busy process is faster with a file each.
type DB struct {
	path     string
	w        *sql.DB // exactly one connection: the status store's writes
	r        *sql.DB // pooled connections: reads, and other stores
	monitors *Store

	// The group-commit writer of the status store (writer.go).
	reqs                           lanes[*writeReq]
	quit, done                     chan struct{}
	savepoint, rollbackTo, release *sql.Stmt
}

// busyTimeout is how long a connection waits for a lock held by another
// process before SQLite gives up with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// ownerOnly makes the database file at path readable by its owner only,
// creating it empty when it does not exist: the specs of monitors, which
// may hold header tokens and webhook keys, are in it. SQLite creates the
// WAL and shared-memory files with the database file's permissions, and
// those of an earlier version are narrowed too.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// Open opens the database file at path, creating it if needed, and applies
// every registered schema's pending migrations. Several processes may open
// the same file; their writes are serialised by SQLite's lock.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Options{})
}

// Options configures OpenWith.
type Options struct {
	// FullSync sets synchronous=FULL on every connection instead of
	// NORMAL: each commit is fsynced before it returns, so not even a
	// power loss or a kernel crash loses an acknowledged write. NORMAL
	// (WAL) is durable against a crash of the process only.
	FullSync bool
	// Logger, when not nil, is told of each schema the open migrates,
	// from and to which version: after it, an older stepmon refuses
	// the file.
	Logger *slog.Logger
}

// OpenWith is Open with opts.
func OpenWith(ctx context.Context, path string, opts Options) (*DB, error) {
	db, err := open(ctx, path, opts)
	if err != nil {
		return nil, noSpaceError(err, path, freeSpace)
	}
	return db, nil
}

// lowSpace is the free space under which an I/O error is put down to a
// full disk: SQLite reports a file system without room for its
// shared-memory file as an I/O error (SQLITE_IOERR_SHMSIZE), not as
// SQLITE_FULL.
const lowSpace = 1 << 20

// noSpaceError adds to err, an error of Open on path, that the file
// system holding path has no room left, when err says so (ENOSPC) or is
// an I/O error while that file system is (nearly) full; to a
// SQLITE_FULL, how much room is left. free reads the free space of a
// directory's file system.
func noSpaceError(err error, path string, free func(dir string) (uint64, error)) error {
	dir := filepath.Dir(path)
	code := resultCode(err)
	enospc := syserr.DiskFull(err)
	if !enospc && code != sqlite3.SQLITE_IOERR && code != sqlite3.SQLITE_FULL {
		return err
	}
	n, ferr := free(dir)
	switch {
	case ferr != nil && enospc:
		return fmt.Errorf("%w: no space left on the device holding %s", err, dir)
	case ferr != nil:
		return err
	case enospc || n < lowSpace:
		return fmt.Errorf("%w: no space left on the device holding %s (%d bytes free)", err, dir, n)
	case code == sqlite3.SQLITE_FULL:
		return fmt.Errorf("%w (the device holding %s has %d bytes free)", err, dir, n)
	}
	return err
}

func open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("sqlitestore: open %q: want a plain file path", path)
	}
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	pragmas := []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"journal_mode(WAL)",
		"synchronous(NORMAL)", // durable against process crashes; WAL keeps the file consistent
		"foreign_keys(ON)",
		"temp_store(MEMORY)", // statement journals and sorts stay off the disk
	}
	if opts.FullSync {
		pragmas[2] = "synchronous(FULL)" // and against a power loss
	}
	dsn := func(extra ...string) string {
		q := url.Values{"_pragma": append(slices.Clone(pragmas), extra...)}
		return path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db := &DB{path: path, w: w}
	// Create the file and switch it to WAL before readers open it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if err := db.migrate(ctx, opts.Logger); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0)+2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.r = r
	if err := db.startWriter(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.monitors, err = newStore(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database's connections.
func (db *DB) Close() error {
	errs := []error{db.stopWriter()}
	if db.monitors != nil {
		errs = append(errs, db.monitors.close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlitestore: close %s: %w", db.path, err)
	}
	return nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// SQL returns the pool of connections (WAL, busy timeout, foreign keys
// on) that the status store reads through. Close closes it.
func (db *DB) SQL() *sql.DB { return db.r }

// Monitors returns the monitor.Store kept in this database.
func (db *DB) Monitors() *Store { return db.monitors }

// writeTx runs fn in a write transaction (BEGIN IMMEDIATE on the write
// connection) and commits it when fn returns nil.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// resultCode returns the primary result code of SQLite's error in err
// (SQLITE_IOERR for any SQLITE_IOERR_*), or 0 when err holds none. It
// asks for the method of *sqlite.Error, whose fields tests cannot set.
func resultCode(err error) int {
	var e interface{ Code() int }
	if !errors.As(err, &e) {
		return 0
	}
	return e.Code() & 0xff
}

// IsDamaged reports whether err is SQLite's report that a database file
// is not a database or is corrupt (SQLITE_NOTADB, SQLITE_CORRUPT): no
// retry mends it, a backup or a new file does.
func IsDamaged(err error) bool {
	c := resultCode(err)
	return c == sqlite3.SQLITE_NOTADB || c == sqlite3.SQLITE_CORRUPT
}

// unavailable reports whether err is SQLite's report of a condition of
// the machine rather than of the request, which a later attempt may not
// meet: a busy or locked database, a full disk, an I/O error, a file that
// cannot be opened or written, no memory. reason says which, for the
// error message.
func unavailable(err error) (reason string, ok bool) {
	switch resultCode(err) {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return "the database is busy", true
	case sqlite3.SQLITE_FULL:
		return "the database or the disk is full", true
	case sqlite3.SQLITE_IOERR:
		return "the database file cannot be read or written", true
	case sqlite3.SQLITE_CANTOPEN:
		return "the database file cannot be opened", true
	case sqlite3.SQLITE_READONLY:
		return "the database file is read-only", true
	case sqlite3.SQLITE_NOMEM:
		return "out of memory", true
	}
	return "", false
}

// A schema is one set of tables with its own, append-only list of
// migration steps. Each step runs once per database, in its own
// transaction, and is recorded in schema_migrations as (schema, version),
// version being its 1-based index. Never edit or reorder a step that has
// shipped: append a new one.
type schema struct {
	name  string
	steps []string
}

var (
	schemasMu sync.Mutex
	schemas   []schema
)

// registerSchema adds a schema that Open migrates. Call it from an init
// function in the file that owns the tables (monitors.go: "monitor").
// Schemas are applied in name order.
func registerSchema(name string, steps ...string) {
	schemasMu.Lock()
	defer schemasMu.Unlock()
	for _, s := range schemas {
		if s.name == name {
			panic("sqlitestore: schema " + name + " registered twice")
		}
	}
	schemas = append(schemas, schema{name: name, steps: steps})
}

// probeWrite writes nothing, in a write transaction. SQLite opens a file
// it may not write (its permissions, a read-only mount) read-only without
// a word, and even BEGIN IMMEDIATE succeeds on it; without the probe the
// service would start and fail every write with an error that does not
// name the file.
func probeWrite(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `DELETE FROM schema_migrations WHERE 0`)
	return err
}

func (db *DB) migrate(ctx context.Context, logger *slog.Logger) error {
	const ddl = `CREATE TABLE IF NOT EXISTS schema_migrations (
		schema     TEXT    NOT NULL,
		version    INTEGER NOT NULL,
		applied_at TEXT    NOT NULL,
		PRIMARY KEY (schema, version)
	) STRICT`
	if _, err := db.w.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("sqlitestore: migrate %s: %w", db.path, err)
	}
	if err := probeWrite(ctx, db.w); err != nil {
		return fmt.Errorf("sqlitestore: open %s: the database cannot be written (check the permissions of the file and its directory, and that its file system is not read-only): %w", db.path, err)
	}
	schemasMu.Lock()
	all := slices.Clone(schemas)
	schemasMu.Unlock()
	slices.SortFunc(all, func(a, b schema) int { return strings.Compare(a.name, b.name) })
	// A newer stepmon may have changed what its tables hold (the history
	// of this one is compressed, for instance): an older one must not read
	// or write them.
	for _, s := range all {
		var newest int
		if err := db.w.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations WHERE schema = ?`, s.name).Scan(&newest); err != nil {
			return fmt.Errorf("sqlitestore: migrate %s: %w", db.path, err)
		}
		if newest > len(s.steps) {
			return fmt.Errorf("sqlitestore: open %s: a newer stepmon wrote it (its %s tables are at schema version %d, this stepmon knows %d): run the stepmon that last used this directory, or a later one, or use another data directory",
				db.path, s.name, newest, len(s.steps))
		}
	}
	for _, s := range all {
		from, applied := 0, 0
		for i, step := range s.steps {
			version := i + 1
			err := db.writeTx(ctx, func(tx *sql.Tx) error {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE schema = ? AND version = ?`, s.name, version).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					from = version
					return nil
				}
				if _, err := tx.ExecContext(ctx, step); err != nil {
					return err
				}
				applied++
				_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (schema, version, applied_at) VALUES (?, ?, ?)`,
					s.name, version, time.Now().UTC().Format(time.RFC3339))
				return err
			})
			if err != nil {
				return fmt.Errorf("sqlitestore: migrate %s: schema %s step %d: %w", db.path, s.name, version, err)
			}
		}
		// A new file's schemas are created, not migrated: not worth a line.
		if applied > 0 && from > 0 && logger != nil {
			logger.InfoContext(ctx, "database schema migrated; an older stepmon will refuse this file",
				"path", db.path, "schema", s.name, "from", from, "to", len(s.steps))
		}
	}
	return nil
}

// stmtSQL is a statement to prepare and where to keep it.
type stmtSQL struct {
	dst **sql.Stmt
	sql string
}

// preparer prepares statements: a *sql.DB (on any of its connections)
// or a *sql.Conn.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// prepareAll prepares each statement on p. If one fails, it closes those
// it prepared, leaves their dst nil and names the statement in its error.
func prepareAll(ctx context.Context, p preparer, stmts ...stmtSQL) error {
	for i, st := range stmts {
		prepared, err := p.PrepareContext(ctx, st.sql)
		if err != nil {
			for _, done := range stmts[:i] {
				(*done.dst).Close()
				*done.dst = nil
			}
			return fmt.Errorf("prepare %q: %w", st.sql, err)
		}
		*st.dst = prepared
	}
	return nil
}
