// Package asl parses, validates and evaluates Amazon States Language
// definitions: the immutable parsed form of a state machine (one file per
// state type), JSONPath in AWS's dialect (an adapter over
// github.com/theory/jsonpath), payload templates and the States.*
// intrinsic functions, JSONata (an adapter over github.com/recolabs/gnata
// with the functions AWS adds and without those it forbids), Choice rules
// and the error names of the States.* family.
//
// The package knows nothing about executions, history or clocks (the
// time JSONata's $now() and $millis() tell comes from the Scope); the
// engine package drives executions on top of it.
package asl
