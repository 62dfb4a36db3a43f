//go:build unix

package dirlock

import (
	"fmt"
	"syscall"
	"testing"
)

// A file system's refusal of flock on a directory leaves the lock file's
// lock alone; any other error is a failure to lock.
func TestUnsupportedDirectoryLock(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{syscall.ENOTSUP, true},
		{syscall.EOPNOTSUPP, true},
		{syscall.EINVAL, true},
		{fmt.Errorf("flock: %w", syscall.EINVAL), true},
		{nil, false},
		{syscall.EWOULDBLOCK, false},
		{syscall.EBADF, false},
		{syscall.ENOLCK, false},
	} {
		if got := unsupported(tt.err); got != tt.want {
			t.Errorf("unsupported(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
