package syserr

import "golang.org/x/sys/windows"

// Windows's own codes for the errors this package tells apart.
const (
	connRefused    = windows.WSAECONNREFUSED
	connReset      = windows.WSAECONNRESET
	netnameDeleted = windows.ERROR_NETNAME_DELETED // a reset connection, as Go's own poller reads it
	connAborted    = windows.WSAECONNABORTED
	addrInUse      = windows.WSAEADDRINUSE
	addrNotAvail   = windows.WSAEADDRNOTAVAIL
	diskFull       = windows.ERROR_DISK_FULL
	handleDiskFull = windows.ERROR_HANDLE_DISK_FULL
)
