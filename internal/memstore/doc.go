// Package memstore is an in-memory monitor.Store for other packages' unit
// tests. It keeps deep copies behind one mutex and passes the storetest
// conformance suite; it loses everything when the process exits.
package memstore
