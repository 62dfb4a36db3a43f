package local

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
)

// selfDialer dials the connections of the runtime's own sfn client (the
// start function's) to the runtime's server, and on Shutdown closes those
// that never carried a request.
//
// Under a burst of starts the client's transport dials a connection for
// each request that finds none idle; a request that meanwhile got one
// freed by another leaves its new connection unused in the idle pool.
// The server sees such a connection as new, not idle, and
// http.Server.Shutdown waits up to 5 s for a new connection to send its
// request: Ctrl-C took seconds, the engine ran checks meanwhile, and a
// serve restarted at once found the data directory still locked.
type selfDialer struct {
	dialer net.Dialer
	mu     sync.Mutex
	conns  map[*selfConn]struct{}
}

// DialContext dials like net.Dialer and keeps the connection until it is
// closed.
func (d *selfDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	sc := &selfConn{Conn: c, owner: d}
	d.mu.Lock()
	if d.conns == nil {
		d.conns = make(map[*selfConn]struct{})
	}
	d.conns[sc] = struct{}{}
	d.mu.Unlock()
	return sc, nil
}

// closeUnused closes the connections that have not written a byte: no
// request is in progress on them, and the server's Shutdown would
// otherwise wait for them.
func (d *selfDialer) closeUnused() {
	d.mu.Lock()
	var unused []*selfConn
	for c := range d.conns {
		if !c.written.Load() {
			unused = append(unused, c)
		}
	}
	d.mu.Unlock()
	for _, c := range unused {
		c.Close()
	}
}

// selfConn is a connection dialed by a selfDialer.
type selfConn struct {
	net.Conn
	owner   *selfDialer
	written atomic.Bool
}

func (c *selfConn) Write(b []byte) (int, error) {
	c.written.Store(true)
	return c.Conn.Write(b)
}

func (c *selfConn) Close() error {
	c.owner.mu.Lock()
	delete(c.owner.conns, c)
	c.owner.mu.Unlock()
	return c.Conn.Close()
}
