package local

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Web pages cannot drive the runtime: a cross-site request that would
// change something is refused, and so is any request whose Host is not a
// loopback name (DNS rebinding). Programs (no Origin, no Sec-Fetch-Site)
// and the runtime's own pages are served.
func TestGuardRefusesWebPages(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	u, _ := url.Parse(base)
	port := u.Port()
	start := func(id string) string {
		return `{"instanceId":"` + id + `","target":{"type":"simulated","completeAfterChecks":3},"pollingIntervalSeconds":3600}`
	}
	tests := []struct {
		name, method, path, body string
		host                     string // "" keeps the URL's
		header                   map[string]string
		want                     int
	}{
		{"a program", http.MethodPost, "/monitors", start("g-program"), "", nil, http.StatusAccepted},
		{"the runtime's own page", http.MethodPost, "/monitors", start("g-own"), "",
			map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"}, http.StatusAccepted},
		{"localhost", http.MethodGet, "/monitors", "", "localhost:" + port, nil, http.StatusOK},
		{"IPv6 loopback", http.MethodGet, "/monitors", "", "[::1]:" + port, nil, http.StatusOK},
		{"cross-site start", http.MethodPost, "/monitors", start("g-cross"), "",
			map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"cross-site start from an old browser", http.MethodPost, "/monitors", start("g-old"), "",
			map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"cross-site terminate", http.MethodPost, "/monitors/g-program/terminate?reason=x", "", "",
			map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"cross-site Step Functions call", http.MethodPost, "/", `{}`, "",
			map[string]string{"Sec-Fetch-Site": "cross-site", "X-Amz-Target": "AWSStepFunctions.ListStateMachines"}, http.StatusForbidden},
		{"rebound host reads", http.MethodGet, "/monitors", "", "evil.example:" + port, nil, http.StatusForbidden},
		{"rebound host, same origin as the page", http.MethodPost, "/monitors", start("g-rebound"), "evil.example:" + port,
			map[string]string{"Origin": "http://evil.example:" + port, "Sec-Fetch-Site": "same-origin"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.want)
			}
			if tt.want == http.StatusForbidden && !strings.Contains(string(body), `"error":"rejected"`) {
				t.Errorf("refusal body %s, want the API's error shape", body)
			}
			// A refused host is told of the way to allow it.
			if tt.want == http.StatusForbidden && tt.host != "" && !strings.Contains(string(body), "serve --allowed-host") {
				t.Errorf("refusal body %s, want it to name serve --allowed-host", body)
			}
		})
	}
	// Nothing a refused request asked for happened.
	for _, id := range []string{"g-cross", "g-old", "g-rebound"} {
		wantStatus(t, call(t, http.MethodGet, base+"/monitors/"+id, ""), http.StatusNotFound, id+" after a refused start")
	}
	if rec := call(t, http.MethodGet, base+"/monitors/g-program", "").json(t); rec["runtimeStatus"] == "Terminated" {
		t.Errorf("g-program was terminated by a refused request")
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:8080": true, "LOCALHOST.:8080": true, "app.localhost:1": true,
		"127.0.0.1:8080": true, "127.1.2.3": true, "[::1]:8080": true,
		"evil.example:8080": false, "localhost.evil.example": false, "10.0.0.1:8080": false, "": false, "[::]:80": false,
		"evillocalhost": false, "evillocalhost:8080": false, "app.localhost.evil.example": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// A refused Host is quoted in the answer at most 64 bytes long, so a
// page cannot make the runtime echo a long text back.
func TestClipHost(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tt := range []struct{ in, want string }{
		{"evil.example:8080", "evil.example:8080"},
		{long, long},
		{long + "b", long + "…"},
		{long + strings.Repeat("b", 1000), long + "…"},
	} {
		if got := clipHost(tt.in); got != tt.want {
			t.Errorf("clipHost(%d bytes) = %q, want %q", len(tt.in), got, tt.want)
		}
	}
}

// TestGuardOnNonLoopbackAddress: a runtime serving a non-loopback
// address (--addr 0.0.0.0:8080) answers IP addresses, loopback names and
// the names given with --allowed-host, and refuses any other name: a web
// page can make its own name resolve to the machine's LAN address, and
// its requests are then same-origin, which the cross-origin check lets
// through.
func TestGuardOnNonLoopbackAddress(t *testing.T) {
	allowed, err := allowedHosts([]string{"DevBox.lan."})
	if err != nil {
		t.Fatal(err)
	}
	h := guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "reached") }), allowed)
	for _, tt := range []struct {
		name, method, host string
		local              net.IP
		want               int
	}{
		{"LAN address by IP", http.MethodGet, "192.168.1.5:8080", net.IPv4(192, 168, 1, 5), http.StatusOK},
		{"LAN address by IPv6", http.MethodGet, "[fd00::5]:8080", net.ParseIP("fd00::5"), http.StatusOK},
		{"allowed name", http.MethodPost, "devbox.lan:8080", net.IPv4(192, 168, 1, 5), http.StatusOK},
		{"allowed name with a final dot", http.MethodGet, "DEVBOX.LAN.:8080", net.IPv4(192, 168, 1, 5), http.StatusOK},
		{"localhost through the LAN address", http.MethodGet, "localhost:8080", net.IPv4(192, 168, 1, 5), http.StatusOK},
		{"rebound name reads", http.MethodGet, "rebind.attacker.example:8080", net.IPv4(192, 168, 1, 5), http.StatusForbidden},
		{"rebound name changes", http.MethodPost, "rebind.attacker.example:8080", net.IPv4(192, 168, 1, 5), http.StatusForbidden},
		{"a name under the allowed one", http.MethodGet, "x.devbox.lan:8080", net.IPv4(192, 168, 1, 5), http.StatusForbidden},
		// The allowed name on loopback: Debian resolves the machine's
		// own name to 127.0.1.1.
		{"allowed name on loopback", http.MethodGet, "devbox.lan:8080", net.IPv4(127, 0, 1, 1), http.StatusOK},
		{"rebound name on loopback", http.MethodGet, "rebind.attacker.example:8080", net.IPv4(127, 0, 0, 1), http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/monitors", nil)
			req.Host = tt.host
			if tt.method == http.MethodPost {
				// Same-origin, as the browser sees a rebound page.
				req.Header.Set("Origin", "http://"+tt.host)
				req.Header.Set("Sec-Fetch-Site", "same-origin")
			}
			req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: tt.local, Port: 8080}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want == http.StatusForbidden && !tt.local.IsLoopback() &&
				!strings.Contains(rec.Body.String(), "serve --allowed-host") {
				t.Errorf("refusal %s does not name --allowed-host", rec.Body)
			}
		})
	}
}

func TestAllowedHostsRefusesWhatIsNoName(t *testing.T) {
	for _, bad := range []string{"", "devbox.lan:8080", "http://devbox.lan", "devbox.lan/ui", "[::1]", "a b"} {
		if _, err := allowedHosts([]string{bad}); err == nil || !strings.Contains(err.Error(), "give a host name alone") {
			t.Errorf("allowedHosts(%q) = %v, want an error", bad, err)
		}
	}
}
