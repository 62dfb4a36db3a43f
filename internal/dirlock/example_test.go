package dirlock_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/stepmon/stepmon/internal/dirlock"
)

// A second holder of the same directory is refused until the first lets
// go (or its process exits).
func ExampleAcquire() {
	dir, err := os.MkdirTemp("", "dirlock-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	first, err := dirlock.Acquire(dir)
	fmt.Println(err)
	_, err = dirlock.Acquire(dir)
	fmt.Println(errors.Is(err, dirlock.ErrLocked))
	fmt.Println(first.Release())
	second, err := dirlock.Acquire(dir)
	fmt.Println(err)
	_ = second.Release()
	// Output:
	// <nil>
	// true
	// <nil>
	// <nil>
}
