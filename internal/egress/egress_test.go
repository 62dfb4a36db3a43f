package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/testtool"
)

// checkCases are addresses and the reason Check gives for each ("" when
// it permits it): at least one address in every blocked range
// (TestCheckCasesCoverEveryRange), so that a range dropped from the list
// fails a case.
var checkCases = []struct {
	addr   string
	reason string // "" means permitted, else a part of the reason
}{
	{"8.8.8.8", ""},
	{"93.184.216.34", ""},
	{"2606:4700:4700::1111", ""},
	{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8
	{"169.254.169.254", "link-local"},
	{"169.254.170.2", "link-local"},
	{"10.0.0.1", "private address (10.0.0.0/8)"},
	{"172.16.5.4", "private address (172.16.0.0/12)"},
	{"172.32.0.1", ""},
	{"192.168.1.1", "private address (192.168.0.0/16)"},
	{"100.64.0.1", "carrier-grade NAT"},
	{"127.0.0.1", "loopback"},
	{"127.1.2.3", "loopback"},
	{"0.0.0.0", "unspecified"},
	{"224.0.0.1", "multicast"},
	{"255.255.255.255", "reserved"},
	{"::", "unspecified"},
	{"::1", "loopback"},
	{"::127.0.0.1", "IPv4-compatible"},
	{"::a9fe:a9fe", "IPv4-compatible"}, // ::169.254.169.254
	{"::8.8.8.8", "IPv4-compatible"},
	{"::2", "IPv4-compatible"},
	{"::ffff:0:7f00:1", "IPv4-translated"}, // SIIT form of 127.0.0.1
	{"::ffff:0:808:808", "IPv4-translated"},
	{"::1:0:0:1", ""}, // outside ::/96
	{"::ffff:169.254.169.254", "link-local"},
	{"::ffff:10.0.0.1", "private"},
	{"64:ff9b::a00:1", "NAT64 address of a private"},
	{"2002:a00:1::1", "6to4 address of a private"},
	{"fd00:ec2::254", "unique-local"},
	{"fc00::1", "unique-local"},
	{"fe80::1%eth0", "link-local address (fe80::/10)"},
	{"ff02::1", "multicast"},
	{"2001:db8::1", "documentation"},
	// IANA's special-purpose IPv6 ranges that are not globally reachable.
	{"3fff::1", "documentation address (3fff::/20)"},
	{"3fff:fff:ffff::1", "documentation"},
	{"2001:2::1", "benchmarking"},
	{"2001:10::1", "ORCHID"},
	{"5f00::1", "SRv6"},
	{"100:0:0:1::1", "dummy"},
	{"2001:20::1", ""}, // ORCHIDv2, globally reachable
	{"2001:4860:4860::8888", ""},
	{"192.0.0.192", "IETF protocol assignment"}, // once a cloud metadata address
	{"192.0.2.1", "documentation address (192.0.2.0/24)"},
	{"192.88.99.1", "6to4 relay anycast"},
	{"198.18.0.1", "benchmarking address (198.18.0.0/15)"},
	{"198.19.255.255", "benchmarking address (198.18.0.0/15)"},
	{"198.20.0.1", ""},
	{"198.51.100.1", "documentation address (198.51.100.0/24)"},
	{"203.0.113.1", "documentation address (203.0.113.0/24)"},
	{"64:ff9b:1::a00:1", "local-use NAT64"},
	{"100::1", "discard-only"},
	{"2001:0:4136:e378::1", "Teredo"},
	{"fec0::1", "site-local"},
}

// TestCheck: Check refuses every address that is not public unicast, with
// the reason of its range, and permits public addresses.
func TestCheck(t *testing.T) {
	for _, tt := range checkCases {
		t.Run(tt.addr, func(t *testing.T) {
			err := Check(netip.MustParseAddr(tt.addr))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want nil", tt.addr, err)
				}
				return
			}
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("Check(%s) = %v, want *RefusedError", tt.addr, err)
			}
			if !strings.Contains(re.Reason, tt.reason) {
				t.Errorf("Check(%s) reason = %q, want it to contain %q", tt.addr, re.Reason, tt.reason)
			}
		})
	}
}

// Every range Check refuses has a case in checkCases: a range added to the
// list is tested, and one dropped from it fails its case.
func TestCheckCasesCoverEveryRange(t *testing.T) {
	reasons := map[string]bool{}
	for _, tt := range checkCases {
		var re *RefusedError
		if errors.As(Check(netip.MustParseAddr(tt.addr)), &re) {
			reasons[re.Reason] = true
		}
	}
	for _, b := range blocked {
		if !reasons[b.reason] {
			t.Errorf("no case of checkCases falls in %s (%s)", b.prefix, b.reason)
		}
	}
}

// Check and Permit fail closed on an invalid address (the zero Addr a
// faulty resolver could hand over), and Control on an address that is no
// IP address: none of them lets it through.
func TestInvalidAddressesRefused(t *testing.T) {
	var re *RefusedError
	if err := Check(netip.Addr{}); !errors.As(err, &re) {
		t.Errorf("Check(zero Addr) = %v, want a *RefusedError", err)
	}
	if err := New(Options{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}).Permit(netip.Addr{}); err == nil {
		t.Error("Permit(zero Addr) = nil, want a refusal")
	}
	for _, addr := range []string{"example.com:80", "localhost:80", "no-port"} {
		if err := New(Options{}).Control("tcp", addr, nil); err == nil {
			t.Errorf("Control(%s) = nil, want an error", addr)
		}
	}
}

// The guard's transport never takes a proxy from the environment
// (HTTP_PROXY, HTTPS_PROXY): the dial would go to the proxy, whose
// address is all the guard would check, and the proxy would connect to
// the refused address itself.
func TestTransportUsesNoProxy(t *testing.T) {
	g := New(Options{})
	if g.Transport().Proxy != nil {
		t.Error("Transport().Proxy is set, want nil")
	}
	tr, ok := g.Client(time.Second).Transport.(interface{ Unwrap() http.RoundTripper }).Unwrap().(*http.Transport)
	if !ok || tr.Proxy != nil {
		t.Errorf("Client's transport = %T with a proxy, want the guard's transport without one", g.Client(time.Second).Transport)
	}
}

// A resolver that answers no addresses and no error makes the dial
// fail, naming the host, rather than return neither a connection nor an
// error.
func TestDialNoAddresses(t *testing.T) {
	g := New(Options{LookupNetIP: func(context.Context, string, string) ([]netip.Addr, error) { return nil, nil }})
	conn, err := g.DialContext(context.Background(), "tcp", "empty.example:80")
	if conn != nil {
		conn.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "empty.example: no addresses") {
		t.Errorf("DialContext = %v, %v; want an error saying empty.example has no addresses", conn, err)
	}
}

// A redirect is followed without a Referer: the previous URL's query may
// hold a token, and the redirect may lead to another host.
func TestRedirectDropsReferer(t *testing.T) {
	var mu sync.Mutex
	referer := "unset"
	to := newCountingServer(t, "tcp4", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		referer = r.Header.Get("Referer")
	}))
	from := newCountingServer(t, "tcp4", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to.URL+"/next", http.StatusFound)
	}))
	resp, err := New(Options{AllowPrivate: true}).Client(5 * time.Second).Get(from.URL + "/start?token=SECRET")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if referer != "" {
		t.Errorf("the redirect's target got Referer %q, want none", referer)
	}
}

// countingServer is a loopback HTTP server that counts the connections it
// accepts.
type countingServer struct {
	*httptest.Server
	conns atomic.Int64
}

func newCountingServer(t *testing.T, network, addr string, h http.Handler) *countingServer {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		testtool.Missing(t, fmt.Sprintf("listen %s %s: %v (macOS has no 127.0.0.2 until it is aliased: sudo ifconfig lo0 alias 127.0.0.2)", network, addr, err))
	}
	cs := &countingServer{}
	cs.Server = httptest.NewUnstartedServer(h)
	cs.Server.Listener.Close()
	cs.Server.Listener = ln
	cs.Server.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cs.conns.Add(1)
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

func (cs *countingServer) port() string {
	_, p, _ := net.SplitHostPort(cs.Listener.Addr().String())
	return p
}

// recorder records every connection attempt the guard lets through.
type recorder struct {
	mu    sync.Mutex
	dials []string
}

func (r *recorder) hook(_, address string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dials = append(r.dials, address)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.dials...)
}

func fakeResolver(names map[string][]string) func(context.Context, string, string) ([]netip.Addr, error) {
	return func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		if host == "localhost" {
			return net.DefaultResolver.LookupNetIP(ctx, network, host)
		}
		var out []netip.Addr
		for _, s := range names[host] {
			out = append(out, netip.MustParseAddr(s))
		}
		if out == nil {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return out, nil
	}
}

func TestClientRefusesBeforeConnecting(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "reached") })
	v4 := newCountingServer(t, "tcp4", "127.0.0.1:0", ok)
	var v6 *countingServer
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		ln.Close()
		v6 = newCountingServer(t, "tcp6", "[::1]:0", ok)
	}

	rec := &recorder{}
	var logged strings.Builder
	g := New(Options{LookupNetIP: fakeResolver(map[string][]string{
		"evil.test":  {"10.0.0.1"},
		"meta.test":  {"169.254.169.254"},
		"mixed.test": {"8.8.8.8", "127.0.0.1"},
	}), Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	g.connecting = rec.hook
	client := g.Client(2 * time.Second)

	// An address the URL spells is named with its range; one a name
	// resolves to (resolvedTo) is named neither in the error, which API
	// callers read, nor by its range, only in the log.
	const hidden = "it resolves to a non-public address"
	tests := []struct {
		name       string
		url        string
		reason     string
		resolvedTo string
	}{
		{"metadata", "http://169.254.169.254/latest/meta-data/", "link-local", ""},
		{"private", "http://10.0.0.1/", "private address (10.0.0.0/8)", ""},
		{"loopback v4", "http://127.0.0.1:" + v4.port() + "/", "loopback", ""},
		{"loopback v6", "http://[::1]:" + v4.port() + "/", "loopback", ""},
		{"localhost", "http://localhost:" + v4.port() + "/", "loopback", ""},
		{"name resolving to private", "http://evil.test/", hidden, "10.0.0.1"},
		{"name resolving to metadata", "http://meta.test/", hidden, "169.254.169.254"},
		{"name resolving to public and loopback", "http://mixed.test:" + v4.port() + "/", hidden, "127.0.0.1"},
		{"unspecified", "http://0.0.0.0:" + v4.port() + "/", "unspecified", ""},
	}
	if v6 != nil {
		tests = append(tests, struct{ name, url, reason, resolvedTo string }{"loopback v6 listener", "http://[::1]:" + v6.port() + "/", "loopback", ""})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, tt.url, nil)
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s succeeded, want it refused", tt.url)
			}
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("GET %s: %v, want a *RefusedError", tt.url, err)
			}
			if !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), "does not allow private targets") {
				t.Errorf("error = %q, want it to name %q", err, tt.reason)
			}
			if tt.resolvedTo != "" {
				for _, leak := range []string{tt.resolvedTo, re.Reason, "link-local", "loopback", "10.0.0.0/8"} {
					if strings.Contains(err.Error(), leak) {
						t.Errorf("error = %q names %q, what the name resolved to", err, leak)
					}
				}
				if want := "addr=" + tt.resolvedTo + " reason=\"" + re.Reason; !strings.Contains(logged.String(), want) {
					t.Errorf("log = %q, want %s", logged.String(), want)
				}
			}
			if ctx.Err() != nil {
				t.Errorf("the refusal came at the request's deadline; it must not wait on a connection")
			}
		})
	}
	if got := rec.list(); len(got) != 0 {
		t.Errorf("connection attempts = %v, want none", got)
	}
	if n := v4.conns.Load(); n != 0 {
		t.Errorf("IPv4 loopback server accepted %d connections, want 0", n)
	}
	if v6 != nil && v6.conns.Load() != 0 {
		t.Errorf("IPv6 loopback server accepted %d connections, want 0", v6.conns.Load())
	}
}

func TestRedirectToPrivateRefused(t *testing.T) {
	var target atomic.Value
	inner := newCountingServer(t, "tcp4", "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "private data")
	}))
	outer := newCountingServer(t, "tcp4", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.Load().(string), http.StatusFound)
	}))

	rec := &recorder{}
	g := New(Options{
		Allow:       []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, // the "public" server
		LookupNetIP: fakeResolver(map[string][]string{"internal.test": {"10.1.2.3"}}),
	})
	g.connecting = rec.hook
	client := g.Client(2 * time.Second)

	for _, to := range []string{
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"http://127.0.0.2:" + inner.port() + "/",
		"http://internal.test/",
		"http://[fd00:ec2::254]/latest/meta-data/",
	} {
		t.Run(to, func(t *testing.T) {
			target.Store(to)
			resp, err := client.Get(outer.URL + "/start")
			if err == nil {
				resp.Body.Close()
				t.Fatalf("redirect to %s followed, want it refused", to)
			}
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a refusal", err)
			}
		})
	}
	for _, d := range rec.list() {
		if !strings.HasPrefix(d, "127.0.0.1:") {
			t.Errorf("connection attempt to %s, want only the allowed server", d)
		}
	}
	if outer.conns.Load() == 0 {
		t.Error("the allowed server was never reached")
	}
	if n := inner.conns.Load(); n != 0 {
		t.Errorf("private server accepted %d connections, want 0", n)
	}
}

func TestAllowPrivate(t *testing.T) {
	srv := newCountingServer(t, "tcp4", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	client := New(Options{AllowPrivate: true}).Client(2 * time.Second)
	for _, u := range []string{srv.URL, "http://localhost:" + srv.port()} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" {
			t.Errorf("GET %s body = %q, want ok", u, body)
		}
	}
}

// PermitHost judges a URL's host without resolving it: IP literals as
// Permit does, localhost as the loopback addresses it stands for, and any
// other name not at all (it is checked when dialled).
func TestPermitHost(t *testing.T) {
	strict := New(Options{LookupNetIP: func(context.Context, string, string) ([]netip.Addr, error) {
		t.Error("PermitHost resolved a name")
		return nil, errors.New("no lookups")
	}})
	subnet := New(Options{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}})
	lax := New(Options{AllowPrivate: true})
	tests := []struct {
		guard      *Guard
		host       string
		wantReason string // "" when permitted
	}{
		{strict, "169.254.169.254", "link-local address"},
		{strict, "127.0.0.1", "loopback address (127.0.0.0/8)"},
		{strict, "::1", "loopback address (::1)"},
		{strict, "[::1]", "loopback address (::1)"},
		{strict, "fe80::1%eth0", "link-local address (fe80::/10)"},
		{strict, "::ffff:10.0.0.5", "private address (10.0.0.0/8)"},
		{strict, "localhost", "loopback address (127.0.0.0/8)"},
		{strict, "LocalHost.", "loopback address (127.0.0.0/8)"},
		{strict, "api.localhost", "loopback address (127.0.0.0/8)"},
		{strict, "93.184.216.34", ""},
		{strict, "2606:2800:220:1::1", ""},
		{strict, "jobs.example.com", ""},
		{strict, "localhost.example.com", ""},
		{subnet, "10.1.2.3", ""},
		{subnet, "10.2.0.1", "private address (10.0.0.0/8)"},
		{lax, "169.254.169.254", ""},
		{lax, "localhost", ""},
		// Spelled in full-width characters, which net/http maps to ASCII
		// (IDNA) before it dials: the same hosts.
		{strict, "１６９.２５４.１６９.２５４", "link-local address"},
		{strict, "１２７．０．０．１", "loopback address (127.0.0.0/8)"},
		{strict, "ｌｏｃａｌｈｏｓｔ", "loopback address (127.0.0.0/8)"},
		{strict, "bücher.example", ""},
	}
	for _, tt := range tests {
		err := tt.guard.PermitHost(tt.host)
		var re *RefusedError
		switch {
		case tt.wantReason == "" && err != nil:
			t.Errorf("PermitHost(%q) = %v, want it permitted", tt.host, err)
		case tt.wantReason != "" && (!errors.As(err, &re) || !strings.HasPrefix(re.Reason, tt.wantReason) || re.Host != tt.host):
			t.Errorf("PermitHost(%q) = %#v, want a *RefusedError of host %q for a %s", tt.host, err, tt.host, tt.wantReason)
		}
	}
}

func TestControlRefuses(t *testing.T) {
	g := New(Options{})
	for _, addr := range []string{"169.254.169.254:80", "10.0.0.1:443", "[::1]:80", "[fd00:ec2::254]:80", "[::a9fe:a9fe]:80", "[::ffff:0:a00:1]:443"} {
		var re *RefusedError
		if err := g.Control("tcp", addr, nil); !errors.As(err, &re) {
			t.Errorf("Control(%s) = %v, want a refusal", addr, err)
		}
	}
	if err := g.Control("tcp", "8.8.8.8:53", nil); err != nil {
		t.Errorf("Control(8.8.8.8:53) = %v, want nil", err)
	}
}

// A client follows MaxRedirects redirects and refuses the next one: a
// chain of n redirects ends at its answer when n <= MaxRedirects.
func TestRedirectLimit(t *testing.T) {
	tests := []struct {
		redirects int
		wantErr   bool
	}{
		{MaxRedirects - 1, false},
		{MaxRedirects, false},
		{MaxRedirects + 1, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.redirects), func(t *testing.T) {
			var srv *countingServer
			srv = newCountingServer(t, "tcp4", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// "/" redirects to "/x", "/x" to "/xx", and so on: the
				// path's length counts the redirects so far.
				if len(r.URL.Path)-1 < tt.redirects {
					http.Redirect(w, r, srv.URL+r.URL.Path+"x", http.StatusFound)
					return
				}
				io.WriteString(w, "ok")
			}))
			client := New(Options{AllowPrivate: true}).Client(2 * time.Second)
			resp, err := client.Get(srv.URL + "/")
			if err == nil {
				resp.Body.Close()
			}
			switch {
			case tt.wantErr && (err == nil || !strings.Contains(err.Error(), fmt.Sprintf("stopped after %d redirects", MaxRedirects))):
				t.Errorf("%d redirects: err = %v, want the redirect limit", tt.redirects, err)
			case !tt.wantErr && err != nil:
				t.Errorf("%d redirects: err = %v, want them followed", tt.redirects, err)
			}
		})
	}
}

func ExampleGuard_Client() {
	strict := New(Options{}) // the AWS configuration
	client := strict.Client(10 * time.Second)
	_, err := client.Get("http://169.254.169.254/latest/meta-data/")
	var refused *RefusedError
	if errors.As(err, &refused) {
		fmt.Println(refused)
	}
	// Output:
	// egress: refused 169.254.169.254: link-local address (169.254.0.0/16, includes the instance metadata service); this deployment does not allow private targets
}

// An answer's headers are bounded: a target may not make a client buffer
// megabytes of them (Go's default allows 10 MB), which a check then quotes.
func TestResponseHeadersBounded(t *testing.T) {
	srv := newCountingServer(t, "tcp4", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/"+strings.Repeat("x", 2*MaxResponseHeaderBytes))
		io.WriteString(w, "not json")
	}))
	client := New(Options{AllowPrivate: true}).Client(5 * time.Second)
	resp, err := client.Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET with %d bytes of headers: %s, want an error", 2*MaxResponseHeaderBytes, resp.Status)
	}
	if !strings.Contains(err.Error(), "header") {
		t.Errorf("error = %v, want one about the headers' size", err)
	}
}

func TestCheckAllow(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		want   string // "" when allowed, else a word of the reason
	}{
		{"10.1.0.0/16", ""},
		{"172.16.0.0/12", ""},
		{"192.168.10.0/24", ""},
		{"100.64.0.0/10", ""},
		{"fd12:3456:789a::/48", ""},
		{"10.1.2.3/16", "network address"},
		{"127.0.0.0/8", "loopback"},
		{"127.0.0.1/32", "loopback"},
		{"0.0.0.0/0", "this host"},
		{"128.0.0.0/1", "link-local"},
		{"169.254.169.254/32", "metadata"},
		{"169.254.170.0/24", "link-local"},
		{"::/0", "loopback"},
		{"::1/128", "loopback"},
		{"::ffff:10.0.0.0/104", "IPv4-mapped"},
		{"::ffff:0:0:0/96", "IPv4-translated"},
		{"::ffff:0:a9fe:0/112", "IPv4-translated"}, // 169.254.0.0/16, translated
		{"64:ff9b::/96", "NAT64"},
		{"2002::/16", "6to4"},
		{"fe80::/64", "link-local"},
		{"fd00::/8", "fd00:ec2::254"},
		{"fd00:ec2::/32", "fd00:ec2::254"},
	} {
		t.Run(tt.prefix, func(t *testing.T) {
			err := CheckAllow(netip.MustParsePrefix(tt.prefix))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckAllow = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckAllow = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// The CDK app (a module of its own, which cannot import this package)
// refuses allowed prefixes at synth with a copy of neverAllowed: each range
// refused here must be refused there too, or a deploy would pass with a
// prefix every function then refuses to start with.
func TestInfraRefusesTheSamePrefixes(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "infra", "config.go"))
	if err != nil {
		t.Fatal(err)
	}
	refused := map[netip.Prefix]bool{}
	for _, m := range regexp.MustCompile(`netip\.MustParsePrefix\("([^"]+)"\)`).FindAllStringSubmatch(string(src), -1) {
		refused[netip.MustParsePrefix(m[1])] = true
	}
	for _, n := range neverAllowed {
		if !refused[n.prefix] {
			t.Errorf("infra/config.go does not refuse %s (%s): add it to its neverAllowed", n.prefix, n.reason)
		}
	}
}

func TestIsTimeout(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"deadline", context.DeadlineExceeded, true},
		{"wrapped deadline", fmt.Errorf("check: %w", context.DeadlineExceeded), true},
		{"net timeout", &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}}, true},
		{"cancelled", context.Canceled, false},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := IsTimeout(tt.err); got != tt.want {
			t.Errorf("%s: IsTimeout(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
