// Package enginetest is the conformance suite every engine.Store
// implementation runs:
//
//	func TestStore(t *testing.T) {
//		enginetest.Run(t, func(t *testing.T) engine.Store { return newStore(t) })
//	}
package enginetest
