package sqlitestore

import "time"

// WithWAL returns o with the checkpointer's interval and the WAL length
// that starts it over replaced.
func WithWAL(o EngineOptions, every time.Duration, restartFrames int) EngineOptions {
	o.checkpointEvery, o.walRestartFrames = every, restartFrames
	return o
}

// WALRestarts returns how many RESTART checkpoints the writer ran.
func (s *EngineStore) WALRestarts() int64 { return s.wal.restarted.Load() }
