//go:build unix

package dirlock

import (
	"errors"
	"os"
	"syscall"
)

// noFollow makes the lock file's open fail on a symbolic link: Acquire
// writes to the file, and must not write through a link planted in a
// directory others can write to.
const noFollow = syscall.O_NOFOLLOW

// tryLock takes an exclusive flock on f without blocking. flock locks
// belong to the open file, so a second Acquire in the same process
// conflicts too.
func tryLock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false, err
		}
	}
}
