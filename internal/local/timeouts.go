package local

import "time"

// functionTimeouts are the functions' timeouts as infra/stack.go configures
// them on AWS (its StartTimeoutSeconds...; a test compares the two, as the
// CDK app is a module of its own that cannot import this one). An
// invocation still running at its function's timeout fails with
// Sandbox.Timedout, as on AWS, which the definition retries.
var functionTimeouts = map[string]time.Duration{
	StartFunction:  15 * time.Second,
	CheckFunction:  90 * time.Second,
	AlertFunction:  75 * time.Second,
	StatusFunction: 15 * time.Second,
}
