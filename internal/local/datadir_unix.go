//go:build unix

package local

import (
	"fmt"
	"os"
	"syscall"
)

// checkDataDirAccess refuses a data directory that another user of the
// machine could plant files or links in: one every user may write to
// (/tmp itself, a directory made 1777), or one another user owns. The
// runtime writes through names in it (the outbox, the databases), and a
// link planted there would take an alert's text, chosen by whoever
// starts a monitor, into a file the link names. A directory writable by
// its group is left to the group, which the user chose. uid is the
// user's (os.Getuid).
func checkDataDirAccess(dir string, uid int) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("local: data directory: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if int(st.Uid) != uid {
		return fmt.Errorf("local: data directory %s belongs to user %d, not to you (user %d): another user could plant links to your files in it; use a directory of your own (or chown it)", dir, st.Uid, uid)
	}
	if fi.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("local: data directory %s may be written by every user of this machine (mode %s): another user could plant links to your files in it; use a directory of your own, or chmod o-w it", dir, fi.Mode().Perm())
	}
	return nil
}
