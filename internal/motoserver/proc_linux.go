package motoserver

import "syscall"

// sysProcAttr puts the server in a process group of its own, which stop
// signals, and has the kernel kill it should the test binary die first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
