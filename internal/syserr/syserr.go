// Package syserr tells apart the system errors that stepmon explains to
// its users (a refused connection, an address in use, a full disk) on
// every platform it builds for. On Windows the syscall.E* constants of
// the other systems are values no Windows call returns: Winsock and Win32
// have codes of their own (golang/go#45621), which errors.Is does not
// match with those constants.
package syserr

import (
	"errors"
	"syscall"
)

// ConnRefused reports whether err is a refused connection: nothing
// listens at the address.
func ConnRefused(err error) bool { return isAny(err, syscall.ECONNREFUSED, connRefused) }

// ConnReset reports whether err is a connection the peer reset or
// aborted, or a write to a connection it closed (a broken pipe).
func ConnReset(err error) bool {
	return isAny(err, syscall.ECONNRESET, connReset) || isAny(err, syscall.EPIPE, connAborted) ||
		isAny(err, syscall.ECONNRESET, netnameDeleted)
}

// AddrInUse reports whether err is a listen on an address another socket
// holds.
func AddrInUse(err error) bool { return isAny(err, syscall.EADDRINUSE, addrInUse) }

// AddrNotAvail reports whether err is a listen on an address that is not
// one of the machine's.
func AddrNotAvail(err error) bool { return isAny(err, syscall.EADDRNOTAVAIL, addrNotAvail) }

// DiskFull reports whether err is a write to a file system with no room
// left.
func DiskFull(err error) bool {
	return isAny(err, syscall.ENOSPC, diskFull) || isAny(err, syscall.ENOSPC, handleDiskFull)
}

// isAny reports whether err is errno or, where the platform has one of its
// own (not 0), native.
func isAny(err error, errno, native syscall.Errno) bool {
	return errors.Is(err, errno) || native != 0 && errors.Is(err, native)
}
