package testtool

import (
	"os"
	"time"
)

// StopGroup ends the process pid, a server a test started, and returns
// once exited is closed: the process has been waited for. Windows has no
// signal to ask a process to stop, so it is killed at once (grace is not
// used), and processes it started are not (Windows has no process groups
// to signal).
func StopGroup(pid int, exited <-chan struct{}, grace time.Duration) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
	<-exited
}
