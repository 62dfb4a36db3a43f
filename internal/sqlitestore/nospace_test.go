package sqlitestore

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stepmon/stepmon/internal/testtool"

	sqlite3 "modernc.org/sqlite/lib"
)

// codedError stands for a *sqlite.Error, whose fields are unexported.
type codedError struct {
	msg  string
	code int
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Code() int     { return e.code }

// An error of Open on a full file system says so, naming the directory
// and its free space, whatever SQLite called it: the shared-memory file
// that cannot grow is an I/O error (4874, SQLITE_IOERR_SHMSIZE). Other
// errors are left as they were.
func TestNoSpaceError(t *testing.T) {
	path := filepath.Join("/mnt", "d", "stepmon.db")
	open := func(err error) error { return fmt.Errorf("sqlitestore: open %s: %w", path, err) }
	shmSize := &codedError{"disk I/O error (4874)", sqlite3.SQLITE_IOERR_SHMSIZE}
	full := &codedError{"database or disk is full (13)", sqlite3.SQLITE_FULL}
	freeBytes := func(n uint64) func(string) (uint64, error) {
		return func(dir string) (uint64, error) {
			if dir != filepath.Dir(path) {
				t.Errorf("free space read for %s, want %s", dir, filepath.Dir(path))
			}
			return n, nil
		}
	}
	unknown := func(string) (uint64, error) { return 0, errors.New("unknown") }
	for _, tc := range []struct {
		name string
		err  error
		free func(string) (uint64, error)
		want string // "" for err unchanged
	}{
		{"I/O error on a full disk", open(shmSize), freeBytes(0),
			"sqlitestore: open /mnt/d/stepmon.db: disk I/O error (4874): no space left on the device holding /mnt/d (0 bytes free)"},
		{"I/O error with room left", open(shmSize), freeBytes(1 << 30), ""},
		{"I/O error with just lowSpace left", open(shmSize), freeBytes(lowSpace), ""},
		{"I/O error, free space unknown", open(shmSize), unknown, ""},
		{"ENOSPC", open(&fs.PathError{Op: "open", Path: path, Err: syscall.ENOSPC}), freeBytes(4096),
			"sqlitestore: open /mnt/d/stepmon.db: open /mnt/d/stepmon.db: no space left on device: no space left on the device holding /mnt/d (4096 bytes free)"},
		{"ENOSPC, free space unknown", open(&fs.PathError{Op: "open", Path: path, Err: syscall.ENOSPC}), unknown,
			"sqlitestore: open /mnt/d/stepmon.db: open /mnt/d/stepmon.db: no space left on device: no space left on the device holding /mnt/d"},
		{"full, disk full", open(full), freeBytes(100),
			"sqlitestore: open /mnt/d/stepmon.db: database or disk is full (13): no space left on the device holding /mnt/d (100 bytes free)"},
		{"full, room left", open(full), freeBytes(50 << 20),
			"sqlitestore: open /mnt/d/stepmon.db: database or disk is full (13) (the device holding /mnt/d has 52428800 bytes free)"},
		{"permission", open(&fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}), freeBytes(0), ""},
	} {
		got := noSpaceError(tc.err, path, tc.free)
		want := tc.want
		if want == "" {
			want = tc.err.Error()
		}
		if got.Error() != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, want)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: the error no longer wraps the original", tc.name)
		}
	}
}

// freeSpace reads the free space of a real directory: what df reports
// for it, give or take what the tests running beside it write meanwhile,
// and an error for a directory that does not exist.
func TestFreeSpace(t *testing.T) {
	dir := t.TempDir()
	n, err := freeSpace(dir)
	if err != nil {
		if strings.Contains(err.Error(), "unknown on this system") {
			t.Skip(err) // not a missing tool: this system has no statfs
		}
		t.Fatal(err)
	}
	df := testtool.Require(t, "df", "install coreutils")
	out, err := exec.Command(df, "-Pk", dir).Output()
	if err != nil {
		t.Fatalf("df -Pk %s: %v", dir, err)
	}
	// POSIX format: a header line, then the file system, 1024-blocks,
	// used, available.
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fields := strings.Fields(lines[len(lines)-1])
	if len(fields) < 4 {
		t.Fatalf("df -Pk %s printed %q", dir, out)
	}
	avail, err := strconv.ParseUint(fields[3], 10, 64)
	if err != nil {
		t.Fatalf("df -Pk %s: available %q: %v", dir, fields[3], err)
	}
	const slack = 256 << 20
	if want := avail * 1024; n+slack < want || want+slack < n {
		t.Errorf("freeSpace(%s) = %d bytes, df says %d", dir, n, want)
	}
	if _, err := freeSpace(filepath.Join(dir, "missing")); err == nil {
		t.Error("freeSpace of a missing directory: no error")
	}
}
