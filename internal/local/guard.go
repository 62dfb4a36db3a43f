package local

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// guard protects the runtime from web pages in the user's browser. The
// runtime has no authentication: anything that can reach its address
// may use it, which on loopback means the user's own programs. Web pages
// the user visits can reach it too, in two ways:
//
//   - a cross-site request (a form or a no-cors fetch from another site)
//     that starts, terminates or purges monitors, or makes the runtime
//     poll an address of the user's network: refused for every method
//     that changes state (http.CrossOriginProtection: Sec-Fetch-Site, or
//     Origin against Host);
//   - DNS rebinding, where a page's own host name is made to resolve to
//     the runtime's address, so that the browser counts the runtime as
//     the page's origin and lets it read the answers (and sends its
//     changes as same-origin): on a connection to a loopback address, a
//     Host that is not a loopback name or address is refused; on a
//     connection to another address (--addr 0.0.0.0:8080, exposed on
//     purpose), a Host that is neither an IP address nor a loopback
//     name, since a rebound name is always a name. A name of allowed
//     (--allowed-host) is answered on either.
//
// allowed holds host names as hostName returns them.
func guard(next http.Handler, allowed map[string]bool) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeGatewayAnswer(w, http.StatusForbidden, "rejected",
			"cross-origin request refused: the local runtime takes changes only from its own pages and from programs that are not browsers")
	}))
	protected := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case loopbackHost(r.Host), allowed[hostName(r.Host)]:
			// A name given with --allowed-host is the operator's on any
			// address: on Debian the machine's own name resolves to
			// 127.0.1.1.
		case onLoopback(r):
			writeGatewayAnswer(w, http.StatusForbidden, "rejected",
				"host "+clipHost(r.Host)+" refused: the local runtime answers loopback names only (localhost, a name under .localhost, or a loopback address such as 127.0.0.1 or [::1]) and the names given with serve --allowed-host")
			return
		case net.ParseIP(hostName(r.Host)) == nil:
			writeGatewayAnswer(w, http.StatusForbidden, "rejected",
				"host "+clipHost(r.Host)+" refused: the local runtime answers IP addresses, loopback names and the names given with serve --allowed-host only (a web page can make any other name resolve to this address)")
			return
		}
		protected.ServeHTTP(w, r)
	})
}

// hostName returns the name or address of a Host header, without its
// port, brackets or final dot, in lower case.
func hostName(host string) string {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(name, "[]")), ".")
}

// onLoopback reports whether r came in on a connection to a loopback
// address.
func onLoopback(r *http.Request) bool {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// loopbackHost reports whether a Host header names this machine's
// loopback: localhost (or a name under .localhost, which resolvers keep on
// loopback), or a loopback IP address, with any port.
func loopbackHost(host string) bool {
	name := hostName(host)
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// clipHost keeps a refused Host short in the answer.
func clipHost(h string) string {
	if len(h) > 64 {
		return h[:64] + "…"
	}
	return h
}

// CheckAllowedHost returns what is wrong with name as one of
// Config.AllowedHosts, or nil.
func CheckAllowedHost(name string) error {
	if n := strings.TrimSuffix(name, "."); n == "" || strings.ContainsAny(n, ":/[]@ \t") {
		return errors.New("give a host name alone, such as devbox.lan (no scheme, port or path)")
	}
	return nil
}

// allowedHosts returns names (Config.AllowedHosts) as guard compares
// them, or what is wrong with one.
func allowedHosts(names []string) (map[string]bool, error) {
	m := map[string]bool{}
	for _, n := range names {
		if err := CheckAllowedHost(n); err != nil {
			return nil, fmt.Errorf("local: allowed host %q: %w", n, err)
		}
		m[hostName(n)] = true
	}
	return m, nil
}
