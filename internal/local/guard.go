package local

import (
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
//     127.0.0.1, so that the browser counts the runtime as the page's
//     origin and lets it read the answers: on a connection to a loopback
//     address, a Host that is not a loopback name or address is refused.
//
// A runtime serving a non-loopback address (--addr 0.0.0.0:8080) is
// exposed on purpose and takes any Host there; connections to its
// loopback address are still checked.
func guard(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeGatewayAnswer(w, http.StatusForbidden, "rejected",
			"cross-origin request refused: the local runtime takes changes only from its own pages and from programs that are not browsers")
	}))
	protected := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if onLoopback(r) && !loopbackHost(r.Host) {
			writeGatewayAnswer(w, http.StatusForbidden, "rejected",
				"host "+clipHost(r.Host)+" refused: the local runtime answers loopback names only (localhost, a name under .localhost, or a loopback address such as 127.0.0.1 or [::1])")
			return
		}
		protected.ServeHTTP(w, r)
	})
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
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.ToLower(strings.Trim(name, "[]")), ".")
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
