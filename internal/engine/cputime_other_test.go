//go:build !unix

package engine_test

import "time"

// cpuTime returns 0: the process's CPU time is read with getrusage, which
// only Unix systems have. The benchmarks then report no per-CPU-second
// figures.
func cpuTime() time.Duration { return 0 }
