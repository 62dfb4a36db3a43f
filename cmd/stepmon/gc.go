package main

import "runtime/debug"

// serverGCPercent is the garbage collector's target in the commands that
// run the service (serve, demo, bench load) when GOGC is not set. The
// service's heap is small next to its RSS (SQLite's page caches, the
// binary), so letting it grow to three times the live data instead of two
// costs about 15 MiB at 1,000 monitors and saves about 15 % of the CPU
// (docs/benchmarks-local.md).
const serverGCPercent = 200

// tuneGC sets the garbage collector's target for a process that runs the
// service, unless GOGC chooses one.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
	}
}
