//go:build unix

package main

import (
	"io/fs"
	"os"
	"syscall"
)

// privateToSelf reports whether fi is of a file this process's user owns,
// with permissions 0700 as os.MkdirTemp makes them.
func privateToSelf(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fi.Mode().Perm() == 0o700 && int(st.Uid) == os.Geteuid()
}
