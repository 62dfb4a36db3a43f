//go:build !linux && !darwin && !windows

package sqlitestore

import "errors"

// freeSpace is not known on this system.
func freeSpace(string) (uint64, error) {
	return 0, errors.New("free space unknown on this system")
}
