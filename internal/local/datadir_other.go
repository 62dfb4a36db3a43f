//go:build !unix

package local

// checkDataDirAccess checks nothing where directories have no Unix owner
// and mode bits: on Windows who may write a directory is its ACL's,
// inherited from its parent (docs/local.md, "Data directory").
func checkDataDirAccess(dir string, uid int) (warning string, err error) { return "", nil }
