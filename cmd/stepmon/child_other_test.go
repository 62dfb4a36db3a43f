//go:build !linux

package main

import (
	"syscall"
	"testing"
	"time"
)

// childProcAttr is nil where the kernel cannot kill a child with its
// parent: the tests' deferred kills stop their commands.
func childProcAttr() *syscall.SysProcAttr { return nil }

// waitReadingPipe gives process pid half a second to reach its read of
// standard input, where its wait channel cannot be read.
func waitReadingPipe(t *testing.T, pid int) { time.Sleep(500 * time.Millisecond) }
