package main

import "io/fs"

// privateToSelf reports true: a directory under the user's own temporary
// directory (%TEMP%, under the profile, which other users cannot write
// to) is the user's. Windows keeps no owner or permissions in a file's
// mode (os.MkdirTemp's directories read as 0777), so the Unix test of
// 0700 would refuse every directory, and none would be swept.
func privateToSelf(fs.FileInfo) bool { return true }
