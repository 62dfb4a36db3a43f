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

// lockDir takes an exclusive flock on the directory itself, without
// blocking, so that removing the lock file of a held directory does not
// let a second holder in: the new file's lock would not conflict with the
// old one's, the directory's does. It returns the open directory, which
// holds the lock until it is closed; false, and no file, when another
// holds it.
//
// A file system that cannot lock a directory (some network mounts answer
// ENOTSUP, EOPNOTSUPP or EINVAL) leaves the lock file's lock alone: no
// file, true.
func lockDir(dir string) (*os.File, bool, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, false, err
	}
	locked, err := tryLock(d)
	if unsupported(err) {
		d.Close()
		return nil, true, nil
	}
	if err != nil || !locked {
		d.Close()
		return nil, false, err
	}
	return d, true, nil
}

// unsupported reports whether err is a file system's refusal of flock on
// a directory, rather than a failure.
func unsupported(err error) bool {
	return errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EINVAL)
}
