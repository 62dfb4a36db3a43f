//go:build unix

package dirlock_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stepmon/stepmon/internal/dirlock"
)

// TestRemovedLockFileStillExcludes: removing the lock file of a held
// directory (a cleanup script, a user tidying up) must not let a second
// holder in: on Unix the directory itself is locked too.
func TestRemovedLockFileStillExcludes(t *testing.T) {
	dir := t.TempDir()
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, dirlock.FileName)); err != nil {
		t.Fatal(err)
	}
	if l2, err := dirlock.Acquire(dir); !errors.Is(err, dirlock.ErrLocked) {
		l2.Release()
		t.Fatalf("Acquire after the lock file was removed: got %v, want ErrLocked", err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	l3, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if err := l3.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
}
