// Package engine runs Amazon States Language executions with AWS Step
// Functions semantics and history events.
//
// An Engine executes state machines parsed by package asl. It persists
// through a Store (MemStore in memory; other implementations run the
// enginetest conformance suite), dispatches Task states through a
// Dispatcher that maps Resource ARNs to TaskHandlers (the engine knows
// nothing about Lambda: LambdaInvoke adapts an invoker function), and reads
// time from a Clock (RealClock, or VirtualClock, on which the engine is a
// discrete-event scheduler: it jumps the clock to the next timer or the
// next wake-up of a wait inside a Map or Parallel state whenever no
// execution has work in progress, so long Waits finish in milliseconds
// and branches and iterations still wait side by side).
//
// Durability: a top-level execution commits one Transition at each
// suspension point (a Wait, a Task or a Map or Parallel state that has
// run for 1 s, a Retry interval of a Task, Map or Parallel state) holding
// its history events, its run-state snapshot and its wake-up time.
// Waiting executions hold no goroutine and no memory beyond one
// timer-heap entry: a single timer loop per Engine loads the snapshot
// from the Store when the entry is due. Engine.Recover re-arms every
// pending execution after a restart; tasks in flight at a crash are
// dispatched again (at-least-once) with what is left of their time
// limits. Map and Parallel states run in memory: after a crash a
// top-level one that had run for 1 s starts again from its entry.
package engine
