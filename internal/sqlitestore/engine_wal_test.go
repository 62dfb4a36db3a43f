package sqlitestore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sqlitestore"
)

// Under commits that never pause, the WAL starts over once it passes its
// limit instead of growing with everything written, which the same
// commits without checkpoints show. The checkpointer's ticks come every
// checkpointCommits commits rather than from its clock, so that the WAL
// written between two of them does not depend on how much CPU the
// checkpointer gets on a loaded machine. Nor on how fast the disk is: a
// tick's passive checkpoint syncs the WAL, and one that took 200 ms on a
// busy disk let the other committers write 40 % of the run into the WAL
// meanwhile (10 MiB). So a commit waits for a tick that is still running
// when the next one is due; otherwise the commits never pause. Between
// two ticks the commits must write more than the limit: a tick that
// catches up with the writer sees the WAL under its limit, SQLite starts
// it over by itself at the next commit and the writer has no RESTART to
// run. (A run with passive checkpoints and no limit is no baseline:
// whether SQLite starts the WAL over by itself depends on whether a
// checkpoint catches up with the writer.)
func TestWALStartsOverUnderLoad(t *testing.T) {
	const (
		limit             = 256      // frames: 1 MiB
		unbound           = 1 << 30  // frames
		walBytes          = 16 << 20 // the WAL the run without a limit writes
		checkpointCommits = 512      // 190 to 480 frames, more as the tables grow (group commits share pages)
	)
	// run commits until done says so and returns the WAL file's size: its
	// largest (the file only grows below journal_size_limit).
	run := func(t *testing.T, restartFrames int, checkpoints bool, done func(wal, commits int64) bool) (wal, commits, restarts int64) {
		path := filepath.Join(t.TempDir(), "stepmon.db")
		s, err := sqlitestore.OpenEngineStore(context.Background(), path,
			sqlitestore.WithWAL(sqlitestore.EngineOptions{}, time.Hour, restartFrames))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		arns := createBenchExecutions(t, s, 32)
		walSize := func() int64 {
			fi, err := os.Stat(path + "-wal")
			if err != nil {
				t.Fatal(err)
			}
			return fi.Size()
		}
		start := walSize()
		runState := []byte(strings.Repeat("r", 3000)) // a page of its own per execution
		ctx := context.Background()
		var n atomic.Int64
		// tick is held while a tick's checkpoint runs, from the commit
		// count in tickAt (0 when none runs); held counts the commits
		// that waited for one.
		var tick sync.Mutex
		var tickAt, held atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, len(arns))
		for _, arn := range arns {
			wg.Go(func() {
				for id := int64(2); ; id++ {
					select {
					case <-stop:
						return
					default:
					}
					if at := tickAt.Load(); at != 0 && n.Load()-at >= checkpointCommits {
						tick.Lock() // the next tick is due: wait for the running one
						held.Add(1)
						tick.Unlock()
					}
					err := s.Commit(ctx, engine.Transition{ExecutionArn: arn, ExpectRunning: true,
						Events:   []engine.Event{{ID: id, PreviousEventID: id - 1, Type: "WaitStateEntered", Timestamp: testT0}},
						RunState: runState, WakeAt: testT0.Add(time.Duration(id) * time.Second)})
					if err != nil {
						errs <- err
						return
					}
					if c := n.Add(1); c%checkpointCommits == 0 && checkpoints {
						tick.Lock()
						tickAt.Store(c)
						s.Checkpoint()
						tickAt.Store(0)
						tick.Unlock()
					}
				}
			})
		}
		deadline := time.Now().Add(time.Minute)
		for !done(walSize()-start, n.Load()) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Commit: %v", err)
		}
		if h := held.Load(); h > 0 {
			t.Logf("%d commits waited for a checkpoint still running", h)
		}
		return walSize(), n.Load(), s.WALRestarts()
	}
	unbounded, commits, _ := run(t, unbound, false, func(wal, _ int64) bool { return wal >= walBytes })
	if unbounded < walBytes {
		t.Fatalf("%d commits in a minute wrote a WAL of %d bytes, want %d", commits, unbounded, walBytes)
	}
	bounded, done, restarts := run(t, limit, true, func(_, n int64) bool { return n >= commits })
	if done < commits {
		// Fewer commits write less WAL: the comparison would mean nothing.
		t.Fatalf("%d commits in a minute with checkpoints, want the %d of the run without", done, commits)
	}
	t.Logf("%d commits: WAL of %.2f MiB with a limit of %d frames (%d RESTART checkpoints), %.2f MiB without checkpoints",
		commits, float64(bounded)/(1<<20), limit, restarts, float64(unbounded)/(1<<20))
	if restarts == 0 {
		t.Errorf("the writer never ran a RESTART checkpoint")
	}
	if bounded > unbounded/2 {
		t.Errorf("WAL of %d bytes with a limit, %d without: want the limit to keep it under half", bounded, unbounded)
	}
}
