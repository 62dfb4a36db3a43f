//go:build !(linux || darwin || freebsd)

package engine

import (
	"errors"
	"os"
)

// mapEvalSlots is not available on this system: the journal writes its
// file.
func mapEvalSlots(*os.File, int) (evalSlots, error) {
	return nil, errors.New("mmap is not available on this system")
}
