//go:build unix

// Writing into the lock file while it is held works where the lock is
// advisory (flock); Windows' LockFileEx refuses the write.

package dirlock_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stepmon/stepmon/internal/dirlock"
)

// A held lock whose file names no process id (one written by something
// else, or cut short) is refused without quoting the file: the error says
// another process holds it.
func TestHeldLockWithoutProcessID(t *testing.T) {
	for name, content := range map[string]string{
		"empty":             "",
		"not a number":      "serve on port 8080\n",
		"a number and more": "123 and text\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			l, err := dirlock.Acquire(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release()
			if err := os.WriteFile(filepath.Join(dir, dirlock.FileName), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = dirlock.Acquire(dir)
			if !errors.Is(err, dirlock.ErrLocked) {
				t.Fatalf("second Acquire = %v, want ErrLocked", err)
			}
			want := dirlock.ErrLocked.Error() + ": " + filepath.Join(dir, dirlock.FileName) + " is held by another process"
			if err.Error() != want {
				t.Errorf("second Acquire = %q, want %q", err, want)
			}
		})
	}
}
