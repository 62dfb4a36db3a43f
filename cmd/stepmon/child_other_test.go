//go:build !linux

package main

import "syscall"

// childProcAttr is nil where the kernel cannot kill a child with its
// parent: the tests' deferred kills stop their commands.
func childProcAttr() *syscall.SysProcAttr { return nil }
