package local

import "time"

// requestReadTimeout bounds how long the API server reads a request,
// headers and body, so that a client trickling its body cannot hold a
// handler, or the shutdown, for long. It does not bound the answer: once
// the body is read net/http lifts the read deadline, and a request that
// waits (StartSyncExecution waits for its EXPRESS execution) keeps its
// context. The server has no WriteTimeout for the same reason.
const requestReadTimeout = 30 * time.Second

// CloseConnections closes the API server's listener and the connections
// still open, cutting the requests in progress on them. A Shutdown
// waiting for those requests then goes on to stop the engine and close
// the databases: call it to stop waiting for slow clients.
func (r *Runtime) CloseConnections() {
	r.server.Close()
}

// HTTPDone is closed once a Shutdown has stopped the API server: its
// requests are answered or cut and its connections closed. The shutdown
// goes on with the drain (drainWait) and the closing of the stores, which
// have their own bounds.
func (r *Runtime) HTTPDone() <-chan struct{} { return r.httpDone }
