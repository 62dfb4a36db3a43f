package syserr

import "golang.org/x/sys/windows"

// Windows's own codes for the errors this package tells apart.
const (
	connRefused    = windows.WSAECONNREFUSED
	connReset      = windows.WSAECONNRESET
	connAborted    = windows.WSAECONNABORTED
	addrInUse      = windows.WSAEADDRINUSE
	addrNotAvail   = windows.WSAEADDRNOTAVAIL
	diskFull       = windows.ERROR_DISK_FULL
	handleDiskFull = windows.ERROR_HANDLE_DISK_FULL
)
