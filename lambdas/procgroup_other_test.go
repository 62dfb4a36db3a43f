//go:build !linux

package lambdas_test

import "os/exec"

// ownProcessGroup does nothing: TestBootstrapsUnderRuntimeEmulator, which
// starts processes, runs on Linux only.
func ownProcessGroup(*exec.Cmd) {}

// killProcessGroup does nothing, as ownProcessGroup.
func killProcessGroup(int) {}
