//go:build linux || darwin || freebsd

package engine

import (
	"fmt"
	"os"
	"syscall"
)

// mapEvalSlots maps the journal's slots, n bytes of f, in memory (shared:
// what is stored there is in the page cache, as a write would put it), so
// that recording an evaluation's start and end costs two copies instead
// of two system calls.
func mapEvalSlots(f *os.File, n int) (evalSlots, error) {
	m, err := syscall.Mmap(int(f.Fd()), 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	return mappedSlots(m), nil
}

// mappedSlots is the journal's file mapped in memory.
type mappedSlots []byte

// write implements evalSlots: the flag byte last, so that a slot is
// never busy with half a record.
func (m mappedSlots) write(off int64, b []byte) {
	copy(m[off+1:], b[1:])
	m[off] = b[0]
}

// close implements evalSlots.
func (m mappedSlots) close() error { return syscall.Munmap(m) }
