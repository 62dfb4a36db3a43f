package local

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/dirlock"
)

// TestDataDirectoryHasOneRuntime: a second runtime on a data directory in
// use fails with a clear error (it would re-arm the same timers and run
// every monitor twice); once the first shuts down, the directory opens.
func TestDataDirectoryHasOneRuntime(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	first, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("first runtime: %v", err)
	}
	second, err := New(ctx, cfg)
	if err == nil {
		second.Shutdown(ctx)
		t.Fatal("a second runtime opened a data directory in use")
	}
	if !errors.Is(err, dirlock.ErrLocked) || !strings.Contains(err.Error(), dir) {
		t.Errorf("second runtime: got %q, want ErrLocked naming %s", err, dir)
	}
	if err := first.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// A clean shutdown closes the evaluation journal, which leaves it
	// its header alone (no slot: nothing for the next start to count).
	if fi, err := os.Stat(filepath.Join(dir, EvalJournalFile)); err != nil || fi.Size() >= 1024 {
		t.Errorf("evaluation journal after Shutdown: %v bytes, %v; want the header alone", fi.Size(), err)
	}
	third, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("runtime after the first shut down: %v", err)
	}
	if err := third.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestDataDirectoryOwnerOnly: the data directory serve creates, and the
// databases in it, are its owner's only: the monitors' specs in them may
// hold header tokens and webhook keys.
func TestDataDirectoryOwnerOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits to check")
	}
	dir := filepath.Join(t.TempDir(), "data")
	newTestRuntimeWith(t, Config{DataDir: dir})
	for _, p := range []string{dir, filepath.Join(dir, DatabaseFile), filepath.Join(dir, StatusDatabaseFile), filepath.Join(dir, EvalJournalFile)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has permissions %v, want none for group and others", p, perm)
		}
	}
}

// With FSync the engine's database waits for the disk at every commit
// (synchronous=FULL, 2); without it, NORMAL (1).
func TestFSyncSetsFullSync(t *testing.T) {
	ctx := context.Background()
	for _, fsync := range []bool{false, true} {
		want := 1
		if fsync {
			want = 2
		}
		rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), FSync: fsync,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := rt.engineStore.DB().QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("FSync %t: stepmon.db synchronous = %d, want %d", fsync, got, want)
		}
		if err := rt.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// A database file that is damaged, or not a database at all, stops the
// runtime with an error that names the file once and says what mends it:
// a backup of both files, or another data directory.
func TestDamagedDatabaseFile(t *testing.T) {
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	const advice = "(the file is damaged or is not a stepmon database: restore stepmon.db and status.db together from a backup, or start afresh in another data directory)"
	for _, file := range []string{DatabaseFile, StatusDatabaseFile} {
		t.Run(file, func(t *testing.T) {
			dir := t.TempDir()
			rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			if err := rt.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, file)
			// The first page's header, overwritten: no longer SQLite's.
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte(strings.Repeat("not a database! ", 8)), 0); err != nil {
				t.Fatal(err)
			}
			f.Close()
			rt, err = New(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: logger})
			if err == nil {
				rt.Shutdown(ctx)
				t.Fatalf("the runtime opened a damaged %s", file)
			}
			msg := err.Error()
			if strings.Count(msg, path) != 1 || !strings.HasSuffix(msg, advice) {
				t.Errorf("error %q; want %s named once and, at the end, %s", msg, path, advice)
			}
		})
	}
}
