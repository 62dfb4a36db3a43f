package motoserver

import "syscall"

// sysProcAttr starts the server in a process group of its own, so that a
// console's Ctrl-C meant for the tests does not reach it; the tests stop
// it themselves (testtool.StopGroup).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}
