// Command stepmon runs the monitor service locally (serve, demo) and talks to
// a running one, local or on AWS (start, status, watch, list, terminate,
// raise, purge).
//
// Usage:
//
//	stepmon <command> [flags] [arguments]
//
// The commands:
//
//	serve      run the monitor service locally (HTTP API, Step Functions API, dashboard)
//	demo       start a local service, run a job monitor to completion and show it
//	start      start a monitor
//	status     show a monitor's status
//	watch      follow a monitor until it finishes
//	list       list monitors
//	terminate  terminate a running monitor
//	raise      raise an event for a monitor (complete, setInterval, ...)
//	purge      delete a monitor's status record
//	asl        Amazon States Language tools (asl run, asl validate)
//	version    print the version
//
// "stepmon <command> -h" lists a command's flags. The client commands talk to
// --endpoint, or $STEPMON_ENDPOINT, by default http://127.0.0.1:8080; they sign
// their requests with SigV4 when the endpoint is an execute-api host.
//
// main only parses the command line and the environment; each command is a
// run function that takes them as arguments, so the tests drive the very
// code a user runs.
package main
