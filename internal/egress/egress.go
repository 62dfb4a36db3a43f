package egress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/idna"
)

// RefusedError reports a destination the guard would not connect to. It
// names the host as the request spelled it, the address it resolved to and
// why that address is refused.
type RefusedError struct {
	Host   string     // the host name or literal of the request
	Addr   netip.Addr // the refused address
	Reason string     // e.g. "link-local address (169.254.0.0/16, includes the instance metadata service)"
	// Resolved reports that Addr is what the name Host resolved to, or,
	// without a Host, an address being dialled: not one the request
	// spelled (an IP literal, or localhost, whose addresses are known).
	Resolved bool
	// Allowed are the guard's Options.Allow, the private prefixes it does
	// let through, none of which holds Addr.
	Allowed []netip.Prefix
}

// Error describes the refusal for whoever chose the destination: an API
// caller reads it in the monitor's output. An address the request spelled
// is named with the reason, which names its range. An address a name
// resolved to (Resolved) is not, nor its range: in a VPC the resolver
// answers for private zones, and the address would tell any caller what an
// internal name stands for. Host, Addr and Reason keep them for the log
// (Options.Logger).
func (e *RefusedError) Error() string {
	switch {
	case e.Resolved && e.Host != "":
		return fmt.Sprintf("egress: refused %s: it resolves to a non-public address; %s", e.Host, e.Policy())
	case e.Resolved:
		return "egress: refused a connection to a non-public address; " + e.Policy()
	case e.Host != "" && e.Host != e.Addr.String():
		return fmt.Sprintf("egress: refused %s (%s): %s; %s", e.Host, e.Addr, e.Reason, e.Policy())
	}
	return fmt.Sprintf("egress: refused %s: %s; %s", e.Addr, e.Reason, e.Policy())
}

// Policy says which rule of the deployment refused the address: no private
// target is allowed, or the address is outside the allowed prefixes.
func (e *RefusedError) Policy() string {
	if len(e.Allowed) == 0 {
		return "this deployment does not allow private targets"
	}
	ps := make([]string, len(e.Allowed))
	for i, p := range e.Allowed {
		ps[i] = p.String()
	}
	return "it is outside this deployment's allowed prefixes (" + strings.Join(ps, ", ") + ")"
}

// IsTimeout reports whether err, or an error it wraps, is a timeout: the
// context's deadline passed, or a net.Error says Timeout. After a timeout
// a request may or may not have been delivered.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// blocked lists the address ranges that are not publicly routable, with the
// reason given when a destination falls into one. Order matters only for
// the wording: the first match names the reason.
var blocked = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified or \"this network\" address (0.0.0.0/8)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address (10.0.0.0/8)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT address (100.64.0.0/10)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address (127.0.0.0/8)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local address (169.254.0.0/16, includes the instance metadata service)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address (172.16.0.0/12)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment (192.0.0.0/24)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation address (192.0.2.0/24)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast address (192.88.99.0/24)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address (192.168.0.0/16)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address (198.18.0.0/15)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation address (198.51.100.0/24)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation address (203.0.113.0/24)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast address (224.0.0.0/4)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address (240.0.0.0/4, includes broadcast)"},
	{netip.MustParsePrefix("::/128"), "unspecified address (::)"},
	{netip.MustParsePrefix("::1/128"), "loopback address (::1)"},
	// After :: and ::1, which it contains and which keep their own reason.
	{netip.MustParsePrefix("::/96"), "deprecated IPv4-compatible address (::/96)"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated (SIIT) address (::ffff:0:0:0/96)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 address (64:ff9b:1::/48)"},
	{netip.MustParsePrefix("100::/64"), "discard-only address (100::/64)"},
	{netip.MustParsePrefix("100:0:0:1::/64"), "dummy address (100:0:0:1::/64)"},
	{netip.MustParsePrefix("2001::/32"), "Teredo tunnel address (2001::/32)"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking address (2001:2::/48)"},
	{netip.MustParsePrefix("2001:10::/28"), "deprecated ORCHID address (2001:10::/28)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation address (2001:db8::/32)"},
	{netip.MustParsePrefix("3fff::/20"), "documentation address (3fff::/20)"},
	{netip.MustParsePrefix("5f00::/16"), "segment routing (SRv6) address (5f00::/16)"},
	{netip.MustParsePrefix("fc00::/7"), "unique-local address (fc00::/7, includes the instance metadata service's IPv6 address)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local address (fe80::/10)"},
	{netip.MustParsePrefix("fec0::/10"), "site-local address (fec0::/10)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast address (ff00::/8)"},
}

var (
	nat64   = netip.MustParsePrefix("64:ff9b::/96")
	sixToF4 = netip.MustParsePrefix("2002::/16")
)

// Check reports why addr is not a public unicast address, or nil when it
// is. IPv4-mapped IPv6 addresses and the IPv4 addresses embedded in NAT64
// and 6to4 addresses are judged as the IPv4 address they carry. The
// IPv4-compatible (::/96) and IPv4-translated (::ffff:0:0:0/96) forms are
// refused whatever they carry: neither is routed on the internet, and a
// host may still treat one as the IPv4 address inside.
func Check(addr netip.Addr) error {
	if !addr.IsValid() {
		return &RefusedError{Reason: "invalid address"}
	}
	a := addr.WithZone("").Unmap()
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			if err := Check(netip.AddrFrom4([4]byte(b[12:16]))); err != nil {
				return &RefusedError{Addr: addr, Reason: "NAT64 address of a " + err.(*RefusedError).Reason}
			}
		case sixToF4.Contains(a):
			if err := Check(netip.AddrFrom4([4]byte(b[2:6]))); err != nil {
				return &RefusedError{Addr: addr, Reason: "6to4 address of a " + err.(*RefusedError).Reason}
			}
		}
	}
	for _, b := range blocked {
		if b.prefix.Contains(a) {
			return &RefusedError{Addr: addr, Reason: b.reason}
		}
	}
	return nil
}

// neverAllowed are the ranges no prefix of Options.Allow may overlap
// (CheckAllow): the function's own host, where the Lambda Runtime and
// Extensions APIs listen, the link-local addresses that serve instance and
// container metadata and credentials, and the IPv6 forms that carry an
// IPv4 address, which Check judges as that address.
var neverAllowed = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this host\" addresses (0.0.0.0/8), which reach loopback"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (127.0.0.0/8, includes the Lambda Runtime API)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local addresses (169.254.0.0/16, includes the instance metadata service)"},
	{netip.MustParsePrefix("::/96"), "the unspecified, loopback and IPv4-compatible addresses (::/96)"},
	{netip.MustParsePrefix("::ffff:0:0/96"), "IPv4-mapped addresses (::ffff:0:0/96): allow the IPv4 prefix"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated addresses (::ffff:0:0:0/96)"},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64 addresses (64:ff9b::/96), judged as the IPv4 address they carry"},
	{netip.MustParsePrefix("2002::/16"), "6to4 addresses (2002::/16), judged as the IPv4 address they carry"},
	{netip.MustParsePrefix("fe80::/10"), "link-local addresses (fe80::/10)"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "the instance metadata service's IPv6 address (fd00:ec2::254)"},
}

// CheckAllow reports why p may not be one of Options.Allow, or nil when it
// may: it must be a network address with its length (10.1.0.0/16, not
// 10.1.2.3/16) and must not overlap loopback, link-local (with the metadata
// service), or an IPv6 form of IPv4 addresses. A deployment's list of
// allowed prefixes is checked with it, so that loopback and link-local stay
// refused whatever the list holds.
func CheckAllow(p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("egress: allow %s: not a prefix", p)
	}
	if p.Masked() != p {
		return fmt.Errorf("egress: allow %s: not a network address (%s?)", p, p.Masked())
	}
	for _, n := range neverAllowed {
		if p.Overlaps(n.prefix) {
			return fmt.Errorf("egress: allow %s: overlaps %s, which stays refused", p, n.reason)
		}
	}
	return nil
}

// Options configures a Guard. The zero value is the strict configuration
// used on AWS.
type Options struct {
	// AllowPrivate lets every address through: loopback, private,
	// link-local and the rest. For the local runtime and tests only.
	AllowPrivate bool
	// Allow lets these prefixes through while the rest stay refused, e.g.
	// a VPC subnet where job APIs live. Callers check a configured list
	// with CheckAllow, which refuses loopback and link-local prefixes;
	// tests may allow a loopback address to stand for a public server.
	Allow []netip.Prefix
	// LookupNetIP resolves a host name; nil means net.DefaultResolver.
	// Tests use it to make a name resolve to any address.
	LookupNetIP func(ctx context.Context, network, host string) ([]netip.Addr, error)
	// DialTimeout bounds one connection attempt; 0 means 10 seconds.
	DialTimeout time.Duration
	// IdleConnsPerHost is how many idle connections a Transport keeps
	// per host; 0 means 4. The local runtime, which checks many monitors
	// of one target at once, keeps more.
	IdleConnsPerHost int
	// Logger, when set, receives a WARN record of every refused dial
	// with the host, the address and the reason (see logRefused): what
	// RefusedError.Error leaves out of a resolved name's refusal.
	Logger *slog.Logger
}

// Guard dials only permitted addresses. Its methods are safe for
// concurrent use.
type Guard struct {
	opts   Options
	dialer *net.Dialer
	// connecting, when set, is called right before each connection
	// attempt with the address being dialled. Tests use it to prove that a
	// refused address is never dialled.
	connecting func(network, address string)
}

// New returns a Guard with the given options.
func New(opts Options) *Guard {
	if opts.LookupNetIP == nil {
		opts.LookupNetIP = net.DefaultResolver.LookupNetIP
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.IdleConnsPerHost == 0 {
		opts.IdleConnsPerHost = 4
	}
	g := &Guard{opts: opts}
	g.dialer = &net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second, Control: g.Control}
	return g
}

// Permit reports why the guard refuses addr, or nil when it may be dialled.
func (g *Guard) Permit(addr netip.Addr) error {
	if g.opts.AllowPrivate {
		return nil
	}
	a := addr.WithZone("").Unmap()
	for _, p := range g.opts.Allow {
		if p.Contains(a) {
			return nil
		}
	}
	err := Check(addr)
	if re, ok := err.(*RefusedError); ok && len(g.opts.Allow) > 0 {
		re.Allowed = g.opts.Allow
	}
	return err
}

// loopbackAddrs are the addresses localhost stands for.
var loopbackAddrs = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}

// PermitHost reports why the guard refuses host, a URL's host, as far as
// it can tell without resolving it: an IP literal (brackets and a zone
// allowed) that Permit refuses, or localhost or a name under .localhost,
// which resolve to loopback addresses (RFC 6761) that Permit refuses. It
// permits any other name: the addresses a name resolves to are checked
// when it is dialled. A refusal is a *RefusedError with Host set. A host
// that is not ASCII is read as net/http will dial it, mapped to ASCII
// (IDNA): "１２７.０.０.１" is 127.0.0.1, "ｌｏｃａｌｈｏｓｔ" localhost.
func (g *Guard) PermitHost(host string) error {
	name := host
	if !isASCII(host) {
		if a, err := idna.Lookup.ToASCII(host); err == nil {
			name = a
		}
	}
	addrs := loopbackAddrs
	if !isLocalhost(name) {
		a, err := netip.ParseAddr(strings.Trim(name, "[]"))
		if err != nil {
			return nil
		}
		addrs = []netip.Addr{a}
	}
	for _, a := range addrs {
		if err := g.Permit(a); err != nil {
			re := err.(*RefusedError)
			re.Host = host
			return re
		}
	}
	return nil
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isLocalhost reports whether host is localhost or a name under
// .localhost, which stand for loopback addresses (RFC 6761).
func isLocalhost(host string) bool {
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// logRefused logs re, a refused dial, with its address and reason for the
// operators (Options.Logger).
func (g *Guard) logRefused(ctx context.Context, re *RefusedError) {
	if g.opts.Logger == nil {
		return
	}
	g.opts.Logger.WarnContext(ctx, "egress: destination refused", "host", re.Host, "addr", re.Addr.String(),
		"reason", re.Reason, "policy", re.Policy())
}

// Control is a net.Dialer Control hook: it runs after the socket is
// created and before connect(2), and refuses address unless it is
// permitted. It is the last line of defence; DialContext has already
// checked every resolved address.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("egress: control: %w", err) // err names the address
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("egress: control %s: not an IP address", address)
	}
	if err := g.Permit(addr); err != nil {
		re := err.(*RefusedError)
		re.Resolved = true
		g.logRefused(context.Background(), re)
		return re
	}
	if g.connecting != nil {
		g.connecting(network, address)
	}
	return nil
}

// DialContext resolves addr's host, refuses the dial when any resolved
// address is not permitted (so a name cannot smuggle a private address in
// next to a public one), then dials the checked addresses in turn. Its
// signature is http.Transport's DialContext.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("egress: dial: %w", err) // err names the address
	}
	var addrs []netip.Addr
	resolved, named := false, false
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		named = true
		resolved = !isLocalhost(host)
		lookupNet := "ip"
		switch network {
		case "tcp4", "udp4":
			lookupNet = "ip4"
		case "tcp6", "udp6":
			lookupNet = "ip6"
		}
		addrs, err = g.opts.LookupNetIP(ctx, lookupNet, host)
		if err != nil {
			return nil, fmt.Errorf("egress: resolve %s: %w", host, withoutResolver(err))
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("egress: resolve %s: no addresses", host)
		}
	}
	for _, a := range addrs {
		if err := g.Permit(a); err != nil {
			re := err.(*RefusedError)
			re.Host, re.Resolved = host, resolved
			g.logRefused(ctx, re)
			return nil, re
		}
	}
	var firstErr error
	for _, a := range addrs {
		conn, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			if named {
				return quietConn{Conn: conn, remote: namedAddr{network: network, hostPort: net.JoinHostPort(host, port)}}, nil
			}
			return quietConn{Conn: conn, remote: conn.RemoteAddr()}, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if named {
		return nil, naming(firstErr, namedAddr{network: network, hostPort: net.JoinHostPort(host, port)})
	}
	return nil, naming(firstErr, nil)
}

// naming returns err, when it is a *net.OpError, naming remote (when not
// nil) where it names the address dialled, and without the local address
// ("read tcp 10.0.3.7:41872->10.1.2.3:443: read: connection reset by
// peer" becomes "read tcp jobs.example:443: read: connection reset by
// peer"): the error reaches whoever chose the destination, in a monitor's
// detail, and the addresses would tell them what an internal name stands
// for and where in the network the function runs. The error's other
// fields are kept, and with them errors.Is and Timeout.
func naming(err error, remote net.Addr) error {
	oe, ok := err.(*net.OpError)
	if !ok {
		return err
	}
	c := *oe
	c.Source = nil
	if remote != nil && c.Addr != nil {
		c.Addr = remote
	}
	return &c
}

// quietConn is a connection the guard dialled. Its read and write errors
// name remote, the host and port asked for, and not the local address
// (see naming); a failure after the connection was made (a reset, a
// deadline) reaches the same callers a failed dial does.
type quietConn struct {
	net.Conn
	remote net.Addr
}

func (c quietConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		err = naming(err, c.remote)
	}
	return n, err
}

func (c quietConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		err = naming(err, c.remote)
	}
	return n, err
}

// namedAddr is a net.Addr that is a host name and port.
type namedAddr struct{ network, hostPort string }

func (a namedAddr) Network() string { return a.network }
func (a namedAddr) String() string  { return a.hostPort }

// withoutResolver returns err, a failed lookup, without the resolver's
// address a *net.DNSError names ("lookup jobs.example on 10.0.0.2:53: no
// such host"): the error reaches whoever chose the destination, in a
// monitor's detail, and the address would tell them the network's (in a
// VPC, its range). The error's other fields are kept, and with them
// errors.Is and net.DNSError's IsNotFound and IsTimeout.
func withoutResolver(err error) error {
	de, ok := err.(*net.DNSError)
	if !ok || de.Server == "" {
		return err
	}
	c := *de
	c.Server = ""
	return &c
}

// ResponseHeaderTimeout is how long a Transport waits for an answer's
// headers after sending a request. It is a backstop for a request nothing
// else bounds, not the limit callers rely on: each caller bounds its own
// requests with a context or Client.Timeout (an HTTP check by its target's
// requestTimeoutSeconds, at most 60 seconds; a webhook by 10 seconds), and
// this is set well above the longest of those so that it never cuts one
// short, yet below the check function's 90-second Lambda timeout.
const ResponseHeaderTimeout = 75 * time.Second

// MaxResponseHeaderBytes bounds an answer's headers. Go's default is 10
// MB; a check target, a webhook or an API needs a few kilobytes.
const MaxResponseHeaderBytes = 64 << 10

// Transport returns an http.Transport that dials through the guard. It
// never uses a proxy from the environment, which would move the dial out of
// the guard's sight. It waits up to ResponseHeaderTimeout for an answer;
// callers bound their requests more tightly. An answer's headers may hold
// MaxResponseHeaderBytes.
func (g *Guard) Transport() *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            g.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           max(100, 4*g.opts.IdleConnsPerHost),
		MaxIdleConnsPerHost:    g.opts.IdleConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  ResponseHeaderTimeout,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		ExpectContinueTimeout:  time.Second,
	}
}

// MaxRedirects is how many redirects a Client follows; it refuses the
// next one.
const MaxRedirects = 5

// Client returns an http.Client that dials through the guard, follows at
// most MaxRedirects redirects (each one dialled, so checked, anew, and
// without a Referer) and
// gives up on a request after timeout (0 for no limit beyond the
// request's context and, for the answer's headers, ResponseHeaderTimeout).
// A redirect whose Location does not parse is handed back as an answer
// with none (see readableLocation).
func (g *Guard) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: readableLocation{g.Transport()},
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// via holds the first request and every redirect so far.
			if len(via) > MaxRedirects {
				return fmt.Errorf("egress: stopped after %d redirects", MaxRedirects)
			}
			// net/http sends the previous URL along as the Referer; its
			// query may hold a token.
			req.Header.Del("Referer")
			return nil
		},
	}
}

// readableLocation drops the Location of a redirect answer when it does
// not parse as a URL relative to its request's. net/http's Client fails
// such an answer with the Location quoted in its error ("failed to parse
// Location header ..."), query and path and all: a signed URL's signature,
// a webhook's key, in a detail every caller of the API reads. Without it
// the Client hands the answer back, a redirect it did not follow, which
// its caller reports by its status (a webhook's redirect is refused as
// one, an HTTP check's is an error of that status).
type readableLocation struct{ next http.RoundTripper }

// Unwrap returns the transport readableLocation wraps, the guard's.
func (t readableLocation) Unwrap() http.RoundTripper { return t.next }

func (t readableLocation) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if loc := resp.Header.Get("Location"); loc != "" {
			if _, err := req.URL.Parse(loc); err != nil {
				resp.Header.Del("Location")
			}
		}
	}
	return resp, nil
}
