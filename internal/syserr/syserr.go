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
	return isAny(err, syscall.ECONNRESET, syscall.EPIPE, connReset, connAborted, netnameDeleted)
}

// AddrInUse reports whether err is a listen on an address another socket
// holds.
func AddrInUse(err error) bool { return isAny(err, syscall.EADDRINUSE, addrInUse) }

// AddrNotAvail reports whether err is a listen on an address that is not
// one of the machine's.
func AddrNotAvail(err error) bool { return isAny(err, syscall.EADDRNOTAVAIL, addrNotAvail) }

// DiskFull reports whether err is a write to a file system with no room
// left.
func DiskFull(err error) bool { return isAny(err, syscall.ENOSPC, diskFull, handleDiskFull) }

// isAny reports whether err is one of codes; a 0 among them, a code this
// platform does not have of its own (native_other.go), is none.
func isAny(err error, codes ...syscall.Errno) bool {
	for _, c := range codes {
		if c != 0 && errors.Is(err, c) {
			return true
		}
	}
	return false
}
