//go:build unix

package local

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkDataDirAccess judges whether another user of the machine could
// plant files or links in the data directory: the runtime writes through
// names in it (the outbox, the databases), and a link planted there would
// take an alert's text, chosen by whoever starts a monitor, into a file
// the link names. uid is the user's (os.Getuid).
//
// A directory another user owns, or a shared one every user may write to
// (the sticky bit: /tmp itself), is refused. One of the user's own that
// every user may write to is a warning, not an error: a file system
// without Unix permissions (WSL's /mnt/c, a FAT or exFAT drive, some SMB
// mounts) shows every directory so, and no chmod changes it. A directory
// writable by its group is left to the group, which its owner chose.
func checkDataDirAccess(dir string, uid int) (warning string, err error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("local: data directory: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", nil
	}
	if int(st.Uid) != uid {
		return "", fmt.Errorf("local: data directory %s belongs to user %d, not to you (user %d): another user could plant links to your files in it; use a directory of your own", dir, st.Uid, uid)
	}
	if fi.Mode()&0o002 == 0 {
		return "", nil
	}
	if fi.Mode()&fs.ModeSticky != 0 {
		return "", fmt.Errorf("local: data directory %s is a directory every user of this machine shares (mode %s, as /tmp): another user could plant links to your files in it; use a directory of your own in it, or leave --data out", dir, fi.Mode()&(fs.ModePerm|fs.ModeSticky))
	}
	return fmt.Sprintf("data directory %s may be written by every user of this machine (mode %s): another user could plant links to your files in it; chmod o-w it, unless its file system has no Unix permissions", dir, fi.Mode().Perm()), nil
}
