//go:build unix

package main

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedBySelf reports whether fi is of a file this process's user owns.
func ownedBySelf(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}
