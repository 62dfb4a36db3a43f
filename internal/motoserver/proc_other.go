//go:build unix && !linux

package motoserver

import "syscall"

// sysProcAttr puts the server in a process group of its own, which stop
// signals.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
