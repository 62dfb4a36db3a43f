// Package sqlitestore keeps stepmon's local state in embedded SQLite
// database files (modernc.org/sqlite: pure Go, no cgo). The stores can
// share one file; stepmon serve gives the engine store stepmon.db and the
// status store status.db, so that their writers never wait for each
// other's lock.
//
// Open opens the file in WAL mode with a busy timeout and foreign keys on,
// applies the versioned migrations of every registered schema (table
// schema_migrations), and returns a DB whose Monitors method is the
// monitor.Store. The status store writes through one dedicated connection
// and reads through a pool; other stores keep their tables in the same file
// (EngineStore: tables engine_*), either opening it themselves or sharing
// the pool that DB.SQL returns.
package sqlitestore
