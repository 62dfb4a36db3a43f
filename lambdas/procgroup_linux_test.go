package lambdas_test

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd in a process group of its own, which
// testtool.StopGroup signals.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills the process group led by pid.
func killProcessGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
