package sqlitestore

import (
	"context"
	"database/sql"
	"time"
)

// WithWAL returns o with the checkpointer's interval and the WAL length
// that starts it over replaced.
func WithWAL(o EngineOptions, every time.Duration, restartFrames int) EngineOptions {
	o.checkpointEvery, o.walRestartFrames = every, restartFrames
	return o
}

// WALRestarts returns how many RESTART checkpoints the writer ran.
func (s *EngineStore) WALRestarts() int64 { return s.wal.restarted.Load() }

// Checkpoint runs what the checkpointer runs at each tick.
func (s *EngineStore) Checkpoint() { s.checkpoint() }

// NewEngineStore returns an EngineStore on the read pool of a database
// opened with Open (DB.SQL), whose migrations created the engine tables,
// so that tests can fill or share the file. The writer keeps one
// connection of the pool for itself. Close stops the writer but leaves the
// pool open.
func NewEngineStore(ctx context.Context, db *sql.DB) (*EngineStore, error) {
	return newEngineStore(ctx, db, nil, EngineOptions{})
}

// SchemaSteps returns how many steps the schema name has.
func SchemaSteps(name string) int {
	schemasMu.Lock()
	defer schemasMu.Unlock()
	for _, s := range schemas {
		if s.name == name {
			return len(s.steps)
		}
	}
	return 0
}
