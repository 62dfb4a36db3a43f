package main

import "syscall"

// childProcAttr has the kernel kill a command the tests start should the
// test binary die first (a -timeout panic runs no deferred kill).
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
