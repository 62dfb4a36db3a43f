package main

import "io/fs"

// ownedBySelf reports true: a directory under the user's own temporary
// directory (%TEMP%, under the profile) is the user's.
func ownedBySelf(fs.FileInfo) bool { return true }
