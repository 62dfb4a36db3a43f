//go:build !windows

package syserr

// Elsewhere the syscall.E* constants are the system's own codes.
const (
	connRefused    = 0
	connReset      = 0
	netnameDeleted = 0
	connAborted    = 0
	addrInUse      = 0
	addrNotAvail   = 0
	diskFull       = 0
	handleDiskFull = 0
)
