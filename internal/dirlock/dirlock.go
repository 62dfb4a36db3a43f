package dirlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileName is the lock file's name in the locked directory.
const FileName = "stepmon.lock"

// ErrLocked is returned (wrapped) by Acquire when another process, or
// another Lock in this process, holds the directory.
var ErrLocked = errors.New("dirlock: the directory is in use")

// Lock is a held directory lock. Keep it reachable until Release: a Lock
// the garbage collector finds unreachable has its file closed by the
// file's finalizer, which releases the lock.
type Lock struct {
	f *os.File
	d *os.File // the directory, locked too where the system allows (Unix)
}

// Acquire takes the lock of dir, which must exist, without waiting. When
// it is held elsewhere the error wraps ErrLocked and names the process id
// the holder wrote into the lock file.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	// Owner-only, as the files beside it; a lock file an earlier version
	// created readable by all is narrowed. Never through a symbolic link,
	// and only a regular file: the lock file is truncated and written.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("dirlock: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dirlock: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(fi.Mode().Perm() & 0o700); err != nil {
			f.Close()
			return nil, fmt.Errorf("dirlock: %w", err)
		}
	}
	locked, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dirlock: lock %s: %w", path, err)
	}
	if !locked {
		holder := readHolder(f)
		f.Close()
		if holder != "" {
			return nil, fmt.Errorf("%w: %s is held by process %s", ErrLocked, path, holder)
		}
		return nil, fmt.Errorf("%w: %s is held by another process", ErrLocked, path)
	}
	d, locked, err := lockDir(dir)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dirlock: lock %s: %w", dir, err)
	}
	if !locked {
		f.Close()
		return nil, fmt.Errorf("%w: %s is held by another process, whose lock file was removed", ErrLocked, dir)
	}
	// Record the holder for the next one's error message; the lock, not
	// the content, is what excludes.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f, d: d}, nil
}

// Release gives the directory up. It is safe to call on a nil Lock and
// more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f, d := l.f, l.d
	l.f, l.d = nil, nil
	// Closing the files releases the locks; the lock file stays, so that
	// a process waiting to read it never sees it vanish.
	err := f.Close()
	if d != nil {
		err = errors.Join(err, d.Close())
	}
	if err != nil {
		return fmt.Errorf("dirlock: release: %w", err)
	}
	return nil
}

// readHolder returns the process id recorded in the lock file, "" when
// there is none.
func readHolder(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid := strings.TrimSpace(string(buf[:n]))
	if _, err := strconv.Atoi(pid); err != nil {
		return ""
	}
	return pid
}
