package local

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
)

// recordingListener records, for each connection it accepts, the first
// error the server's reads on it returned.
type recordingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []*recordingConn
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &recordingConn{Conn: c}
	l.mu.Lock()
	l.conns = append(l.conns, rc)
	l.mu.Unlock()
	return rc, nil
}

// conn returns the accepted connection whose remote address is remote.
func (l *recordingListener) conn(remote string) *recordingConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		if c.RemoteAddr().String() == remote {
			return c
		}
	}
	return nil
}

type recordingConn struct {
	net.Conn
	mu      sync.Mutex
	readErr error
}

func (c *recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.mu.Lock()
		if c.readErr == nil {
			c.readErr = err
		}
		c.mu.Unlock()
	}
	return n, err
}

func (c *recordingConn) firstReadErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// A connection that the start function's sfn client dialed but never
// used (its transport dials one per waiting request under a burst of
// starts, and keeps the spare) is closed by the client when the runtime
// shuts down. Before, the server closed it itself, once it had waited the
// 5 s that http.Server.Shutdown grants a new connection to send its
// request.
func TestShutdownClosesUnusedSelfConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rl := &recordingListener{Listener: ln}
	ctx := context.Background()
	rt, err := New(ctx, Config{Listener: rl, DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx) }()
	waitHealthy(t, rt.URL())

	spare, err := rt.selfDial.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// The server has accepted the spare once it answers a request sent
	// after it on another connection: Serve accepts in order.
	waitHealthy(t, rt.URL())
	server := rl.conn(spare.LocalAddr().String())
	if server == nil {
		t.Fatal("the server did not accept the spare connection")
	}

	if err := rt.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-errc; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if got := server.firstReadErr(); !errors.Is(got, io.EOF) {
		t.Errorf("the server's read on the spare connection ended with %v, want io.EOF (closed by the client)", got)
	}
}
