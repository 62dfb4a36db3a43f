package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A name with several addresses is dialled at each in turn until one
// answers, and when none does the error is the first address's, naming
// the name.
func TestDialTriesEachAddress(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	// Nothing listens on [::1] at that port (the listener is IPv4 only):
	// that dial is refused, or fails at once where the machine has no IPv6.
	lookup := func(context.Context, string, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.1")}, nil
	}
	g := New(Options{AllowPrivate: true, LookupNetIP: lookup})
	var dialled []string
	g.connecting = func(_, address string) { dialled = append(dialled, address) }

	conn, err := g.DialContext(context.Background(), "tcp", "multi.example:"+port)
	if err != nil {
		t.Fatalf("DialContext = %v, want a connection to the second address", err)
	}
	if got := conn.RemoteAddr().String(); got != "127.0.0.1:"+port {
		t.Errorf("connected to %s, want 127.0.0.1:%s", got, port)
	}
	conn.Close()
	if want := "127.0.0.1:" + port; len(dialled) == 0 || dialled[len(dialled)-1] != want {
		t.Errorf("dialled %v, want the last attempt at %s", dialled, want)
	}

	ln.Close() // now neither address answers
	dialled = nil
	conn, err = g.DialContext(context.Background(), "tcp", "multi.example:"+port)
	if conn != nil {
		conn.Close()
	}
	// The error is the first address's, naming the name dialled rather
	// than either address (TestDialErrorNamesTheHostNotItsAddress).
	if err == nil || !strings.Contains(err.Error(), "dial tcp multi.example:"+port+": ") || strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("DialContext = %v, want an error naming multi.example:%s", err, port)
	}
	if len(dialled) > 0 && dialled[len(dialled)-1] != "127.0.0.1:"+port {
		t.Errorf("dialled %v, want both addresses tried, the IPv4 one last", dialled)
	}
}

// The lookup asks for the address family the network names.
func TestDialResolvesTheNetworksFamily(t *testing.T) {
	for network, want := range map[string]string{"tcp": "ip", "tcp4": "ip4", "tcp6": "ip6", "udp4": "ip4", "udp6": "ip6"} {
		var asked string
		g := New(Options{LookupNetIP: func(_ context.Context, network, _ string) ([]netip.Addr, error) {
			asked = network
			return []netip.Addr{netip.MustParseAddr("10.0.0.1")}, nil // refused: nothing is dialled
		}})
		if _, err := g.DialContext(context.Background(), network, "jobs.example:80"); err == nil {
			t.Errorf("%s: DialContext to a private address succeeded", network)
		}
		if asked != want {
			t.Errorf("%s: looked up %q, want %q", network, asked, want)
		}
	}
}

// An address without a port is refused, naming it once.
func TestDialRefusesAddressWithoutPort(t *testing.T) {
	g := New(Options{AllowPrivate: true})
	const want = "egress: dial: address jobs.example: missing port in address"
	if _, err := g.DialContext(context.Background(), "tcp", "jobs.example"); err == nil || err.Error() != want {
		t.Errorf("DialContext(no port) = %v, want %q", err, want)
	}
	const wantControl = "egress: control: address 10.0.0.1: missing port in address"
	if err := g.Control("tcp", "10.0.0.1", nil); err == nil || err.Error() != wantControl {
		t.Errorf("Control(no port) = %v, want %q", err, wantControl)
	}
}

// A failed lookup's error does not name the resolver: it reaches the
// monitor's detail, and the resolver's address would tell an API caller
// the network's. What the error says otherwise is kept.
func TestResolveErrorLeavesOutTheResolver(t *testing.T) {
	g := New(Options{LookupNetIP: func(_ context.Context, _, host string) ([]netip.Addr, error) {
		return nil, &net.DNSError{Err: "no such host", Name: host, Server: "10.0.0.2:53", IsNotFound: true}
	}})
	_, err := g.DialContext(context.Background(), "tcp", "jobs.internal:443")
	const want = "egress: resolve jobs.internal: lookup jobs.internal: no such host"
	if err == nil || err.Error() != want {
		t.Errorf("DialContext = %v, want %q", err, want)
	}
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound || de.Name != "jobs.internal" {
		t.Errorf("DialContext = %#v, want a *net.DNSError of jobs.internal, not found", err)
	}
}

// A failed dial of the address a name resolved to names the name, not
// the address: the error reaches the monitor's detail, and the address
// would tell an API caller what an internal name stands for. The error
// is still a *net.OpError whose cause errors.Is finds.
func TestDialErrorNamesTheHostNotItsAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens there now: the dial is refused
	g := New(Options{AllowPrivate: true, LookupNetIP: func(context.Context, string, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}})
	hostPort := net.JoinHostPort("db-primary.corp.internal", strconv.Itoa(addr.Port))
	_, err = g.DialContext(context.Background(), "tcp", hostPort)
	if err == nil {
		t.Fatal("dial succeeded")
	}
	if strings.Contains(err.Error(), "127.0.0.1") || !strings.Contains(err.Error(), "dial tcp "+hostPort+": ") {
		t.Errorf("DialContext = %q, want it to name %s and not the address it resolved to", err, hostPort)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("DialContext = %#v, want a *net.OpError wrapping ECONNREFUSED", err)
	}
	// An IP address given is the caller's own: named as given.
	_, err = g.DialContext(context.Background(), "tcp", addr.String())
	if err == nil || !strings.Contains(err.Error(), "dial tcp "+addr.String()+": ") {
		t.Errorf("DialContext(%s) = %v, want it to name the address", addr, err)
	}
}

// A connection the guard dialled fails its reads and writes naming the
// host and port asked for, not the address a name resolved to, and never
// the local address ("read tcp 10.0.3.7:41872->10.1.2.3:443: ..."): a
// target that resets the connection after it was made would otherwise
// show any API caller, in a monitor's detail, what an internal name stands
// for and the function's own address in its network. The errors are
// still *net.OpErrors whose causes errors.Is finds, deadlines Timeout.
func TestConnErrorsNameTheHostNotTheAddresses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 1)) // the client's first byte, then a reset
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	g := New(Options{AllowPrivate: true, LookupNetIP: func(context.Context, string, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}})
	for _, tt := range []struct{ dial, named string }{
		{net.JoinHostPort("jobs.corp.internal", port), net.JoinHostPort("jobs.corp.internal", port)},
		{ln.Addr().String(), ln.Addr().String()}, // an address given is named as given
	} {
		t.Run(tt.dial, func(t *testing.T) {
			conn, err := g.DialContext(context.Background(), "tcp", tt.dial)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			local := conn.LocalAddr().String()
			if _, err := conn.Write([]byte("GET")); err != nil {
				t.Fatal(err)
			}
			_, err = conn.Read(make([]byte, 8))
			if err == nil || !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("Read = %v, want a connection reset", err)
			}
			if text := err.Error(); !strings.HasPrefix(text, "read tcp "+tt.named+": ") || strings.Contains(text, local) {
				t.Errorf("Read = %q, want it to name %s and not the local address %s", text, tt.named, local)
			}
			// A later write fails the same way, named the same way.
			var werr error
			for range 10 {
				if _, werr = conn.Write([]byte("more")); werr != nil {
					break
				}
			}
			if werr != nil && (strings.Contains(werr.Error(), local) || !strings.Contains(werr.Error(), tt.named)) {
				t.Errorf("Write = %q, want it to name %s and not the local address %s", werr, tt.named, local)
			}
		})
	}
	// A deadline's error, renamed, is still a timeout.
	err = naming(&net.OpError{Op: "read", Net: "tcp", Source: ln.Addr(), Addr: ln.Addr(), Err: os.ErrDeadlineExceeded},
		namedAddr{network: "tcp", hostPort: "jobs.corp.internal:443"})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) || err.Error() != "read tcp jobs.corp.internal:443: i/o timeout" {
		t.Errorf("naming a deadline's error = %#v (%q), want a timeout naming jobs.corp.internal:443", err, err)
	}
}
