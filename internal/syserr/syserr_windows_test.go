package syserr

import (
	"os"
	"testing"

	"golang.org/x/sys/windows"
)

// Windows's own codes count as the errors they are.
func TestWindowsCodes(t *testing.T) {
	tests := []struct {
		name string
		is   func(error) bool
		err  error
	}{
		{"ConnRefused", ConnRefused, windows.WSAECONNREFUSED},
		{"ConnReset", ConnReset, windows.WSAECONNRESET},
		{"ConnReset, aborted", ConnReset, windows.WSAECONNABORTED},
		{"ConnReset, network name deleted", ConnReset, windows.ERROR_NETNAME_DELETED},
		{"AddrInUse", AddrInUse, windows.WSAEADDRINUSE},
		{"AddrNotAvail", AddrNotAvail, windows.WSAEADDRNOTAVAIL},
		{"DiskFull", DiskFull, windows.ERROR_DISK_FULL},
		{"DiskFull, handle", DiskFull, windows.ERROR_HANDLE_DISK_FULL},
	}
	for _, tt := range tests {
		if err := os.NewSyscallError("call", tt.err); !tt.is(err) {
			t.Errorf("%s(%v) = false, want true", tt.name, err)
		}
	}
}
