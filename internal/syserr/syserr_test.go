package syserr

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

// The errors of real calls, as each platform returns them: a dial to a
// port nothing listens on, a listen on an address taken and on one that
// is not the machine's.
func TestRealErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if _, err := net.Listen("tcp", addr); !AddrInUse(err) {
		t.Errorf("listen on %s, taken: AddrInUse(%v) = false", addr, err)
	}
	ln.Close()
	if _, err := net.Dial("tcp", addr); !ConnRefused(err) || ConnReset(err) {
		t.Errorf("dial %s, closed: ConnRefused(%v) = false, or ConnReset true", addr, err)
	}
	// 192.0.2.1 (TEST-NET-1) is no address of any machine.
	if ln, err := net.Listen("tcp", "192.0.2.1:0"); err == nil {
		ln.Close()
		t.Skip("192.0.2.1 is an address of this machine")
	} else if !AddrNotAvail(err) {
		t.Errorf("listen on 192.0.2.1: AddrNotAvail(%v) = false", err)
	}
}

func TestWrapped(t *testing.T) {
	wrap := func(errno syscall.Errno) error {
		return fmt.Errorf("context: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", errno)})
	}
	tests := []struct {
		name string
		is   func(error) bool
		yes  []error
		no   []error
	}{
		{"ConnRefused", ConnRefused, []error{wrap(syscall.ECONNREFUSED)}, []error{wrap(syscall.ECONNRESET), io.EOF, nil}},
		{"ConnReset", ConnReset, []error{wrap(syscall.ECONNRESET), wrap(syscall.EPIPE)}, []error{wrap(syscall.ECONNREFUSED), io.EOF, nil}},
		{"AddrInUse", AddrInUse, []error{wrap(syscall.EADDRINUSE)}, []error{wrap(syscall.EADDRNOTAVAIL), nil}},
		{"AddrNotAvail", AddrNotAvail, []error{wrap(syscall.EADDRNOTAVAIL)}, []error{wrap(syscall.EADDRINUSE), nil}},
		{"DiskFull", DiskFull, []error{&os.PathError{Op: "write", Path: "f", Err: syscall.ENOSPC}}, []error{errors.New("no space"), nil}},
	}
	for _, tt := range tests {
		for _, err := range tt.yes {
			if !tt.is(err) {
				t.Errorf("%s(%v) = false, want true", tt.name, err)
			}
		}
		for _, err := range tt.no {
			if tt.is(err) {
				t.Errorf("%s(%v) = true, want false", tt.name, err)
			}
		}
	}
}
