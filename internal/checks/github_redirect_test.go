package checks

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
)

// An https API that redirects to http on its own host name must not get
// the token sent in plaintext: the token goes only where the scheme, the
// host and the port are the base URL's.
func TestGitHubTokenNotSentOnRedirectToHTTP(t *testing.T) {
	var mu sync.Mutex
	var secureAuth, plainAuth []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		plainAuth = append(plainAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[]`))
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		secureAuth = append(secureAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		http.Redirect(w, r, "http://ghe.test"+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer secure.Close()

	// ghe.test:443 is the TLS server, ghe.test:80 the plain one.
	tr := secure.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com" // the test certificate's name
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		switch addr {
		case "ghe.test:443":
			return d.DialContext(ctx, network, secure.Listener.Addr().String())
		case "ghe.test:80":
			return d.DialContext(ctx, network, plain.Listener.Addr().String())
		}
		t.Errorf("dial %s, want ghe.test:443 or ghe.test:80", addr)
		return nil, net.UnknownNetworkError(addr)
	}
	g, err := NewGitHub(GitHubOptions{BaseURL: "https://ghe.test/api/v3/", Token: StaticToken(testToken),
		HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Check(context.Background(), githubReq("octo/r", 3, nil)); err != nil {
		t.Fatalf("Check: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(secureAuth) == 0 || secureAuth[0] != "Bearer "+testToken {
		t.Errorf("https API got Authorization %q, want the token", secureAuth)
	}
	if len(plainAuth) == 0 {
		t.Fatalf("the redirect to http was not followed")
	}
	for _, a := range plainAuth {
		if a != "" {
			t.Errorf("plain http server got Authorization %q, want none", a)
		}
	}
}

// The token and the next-page links are for the API's origin: its scheme,
// its host (ignoring case) and its port, a missing port being the
// scheme's default. An http URL on the https port is another origin:
// a Link header or a redirect naming http://api.github.com:443/ would
// otherwise get the token sent in plaintext.
func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"https://api.github.com/", "https://api.github.com/repos/o/r", true},
		{"https://api.github.com/", "https://API.GitHub.com:443/x", true},
		{"HTTPS://ghe.example.com/api/v3/", "https://ghe.example.com/x", true},
		{"http://ghe.example.com/", "http://ghe.example.com:80/x", true},
		{"https://api.github.com:443/", "http://api.github.com:443/x", false},
		{"https://api.github.com/", "http://api.github.com/x", false},
		{"https://api.github.com/", "https://api.github.com:8443/x", false},
		{"https://api.github.com/", "https://github.com/x", false},
	} {
		t.Run(tc.a+" "+tc.b, func(t *testing.T) {
			a, err := url.Parse(tc.a)
			if err != nil {
				t.Fatal(err)
			}
			b, err := url.Parse(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if got := sameOrigin(a, b); got != tc.want {
				t.Errorf("got %t, want %t", got, tc.want)
			}
		})
	}
}

// The requests a check sends stay on the API's host: its name, and its
// port or, for a redirect between http and https, each scheme's default
// port, written or not.
func TestSameHost(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"https://ghe.example.com/api/v3/", "https://GHE.example.com:443/x", true},
		{"https://ghe.example.com/api/v3/", "http://ghe.example.com/x", true},
		{"https://ghe.example.com:443/api/v3/", "http://ghe.example.com/x", true},
		{"http://ghe.example.com:80/", "https://ghe.example.com:443/x", true},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/x", true},
		{"https://[::1]:8443/", "https://[::1]:8443/x", true},
		{"https://ghe.example.com/", "http://ghe.example.com:8080/x", false},
		{"https://ghe.example.com/", "https://ghe.example.com:8443/x", false},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8081/x", false},
		{"https://ghe.example.com/", "https://other.example.com/x", false},
		{"https://ghe.example.com/", "https://ghe.example.com.evil.example/x", false},
	} {
		a, _ := url.Parse(tc.a)
		b, _ := url.Parse(tc.b)
		if got := sameHost(b, a); got != tc.want {
			t.Errorf("sameHost(%s, %s) = %t, want %t", tc.b, tc.a, got, tc.want)
		}
	}
}

// A check's requests go only to the API's host, whatever names another:
// a redirect, a Link header whose path begins with "//" (which, kept in
// the memo as a path, reads back as another host), or a memo's stored
// next-page link (a memo is the execution's state, which whoever may
// start executions can write). The base URL is the deployment's and is
// not held to the egress guard, so nothing else would stop these.
func TestGitHubRequestsStayOnTheAPIHost(t *testing.T) {
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[]`))
	}))
	defer other.Close()
	otherHost := other.Listener.Addr().String()

	tests := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request, api string)
		memo   string
	}{
		{"redirect", func(w http.ResponseWriter, r *http.Request, api string) {
			http.Redirect(w, r, "http://"+otherHost+"/steal", http.StatusFound)
		}, ""},
		{"link path with two slashes", func(w http.ResponseWriter, r *http.Request, api string) {
			w.Header().Set("Link", "<"+api+"//"+otherHost+"/steal?page=2>; rel=\"next\"")
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[]`))
		}, ""},
		{"memo's link", func(w http.ResponseWriter, r *http.Request, api string) {
			if r.Header.Get("If-None-Match") == `"e1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`[]`))
		}, `{"repo":"octo/r","count":0,"pages":[{"etag":"\"e1\"","issues":0,"items":100,"next":true,"link":"http://` + otherHost + `/steal"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var api *httptest.Server
			api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.answer(w, r, api.URL)
			}))
			defer api.Close()
			g, err := NewGitHub(GitHubOptions{BaseURL: api.URL + "/", Token: StaticToken(testToken)})
			if err != nil {
				t.Fatal(err)
			}
			var memo []byte
			if tt.memo != "" {
				memo = []byte(tt.memo)
			}
			obs, err := g.Check(context.Background(), githubReq("octo/r", 3, memo))
			mu.Lock()
			defer mu.Unlock()
			if len(elsewhere) > 0 {
				t.Errorf("another host got %q", elsewhere)
			}
			elsewhere = nil
			if err != nil || obs.Status != monitor.StatusError || !strings.Contains(obs.Detail, "host") {
				t.Errorf("Check = %+v, %v; want status %s with a detail naming the other host", obs, err, monitor.StatusError)
			}
		})
	}
}
