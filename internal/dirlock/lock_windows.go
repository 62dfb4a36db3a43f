//go:build windows

package dirlock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// noFollow is 0: creating a symbolic link on Windows takes a privilege
// (or developer mode), and os.OpenFile has no flag to refuse one.
const noFollow = 0

// lockOffset is the byte of the lock file that tryLock locks: far past
// its content, since an exclusive lock on Windows denies other processes
// reading the region too, and the holder's process id, at the start of
// the file, must stay readable for the error that names it (readHolder).
// Windows lets a lock cover bytes past the end of a file.
const lockOffset = 1 << 40

// tryLock takes an exclusive lock on one byte of f (lockOffset) without
// blocking.
func tryLock(f *os.File) (bool, error) {
	ol := &windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return false, nil
	default:
		return false, err
	}
}

// lockDir locks nothing on Windows: a file open there cannot be removed
// (os.OpenFile does not share deletion), so the lock file cannot be taken
// away from its holder.
func lockDir(string) (*os.File, bool, error) { return nil, true, nil }
