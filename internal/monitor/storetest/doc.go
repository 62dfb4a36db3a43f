// Package storetest is the conformance suite that every monitor.Store
// implementation runs:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) monitor.Store { return newStore(t) })
//	}
//
// The suite checks every method's documented behaviour, including the
// concurrent cases (two and twenty Creates of one id, concurrent alert
// claims, concurrent monotonic updates), paging through List, that a
// workflow task's writes, and SetExecution, change only the record
// created at the time they name (another monitor's record of the id is
// gone to them), and that time values come back in UTC with at least
// millisecond precision.
package storetest
