package dashboard_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/dashboard"
	"github.com/stepmon/stepmon/internal/monitor"
)

// mounted returns the dashboard mounted the way the local runtime mounts it.
func mounted() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler()))
	return mux
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerServesFiles(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.Handler
		path     string
		wantType string
		wantBody string
	}{
		{"index at mount point", mounted(), "/ui/", "text/html; charset=utf-8", "<title>stepmon</title>"},
		{"index by name", mounted(), "/ui/index.html", "text/html; charset=utf-8", `<script type="module" src="app.js">`},
		{"module", mounted(), "/ui/app.js", "text/javascript; charset=utf-8", "import * as api"},
		{"timeline module", mounted(), "/ui/timeline.js", "text/javascript; charset=utf-8", "export function buildTimeline"},
		{"stylesheet", mounted(), "/ui/style.css", "text/css; charset=utf-8", ".badge.Completed"},
		{"icon", mounted(), "/ui/favicon.svg", "image/svg+xml", "<svg"},
		{"unstripped mount", unstripped(), "/ui/app.js", "text/javascript; charset=utf-8", "import * as api"},
		{"unstripped index", unstripped(), "/ui/", "text/html; charset=utf-8", "<title>stepmon</title>"},
		{"at the root", dashboard.Handler(), "/style.css", "text/css; charset=utf-8", ".badge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, tt.handler, http.MethodGet, tt.path, nil)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: got status %d, want 200", tt.path, res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("GET %s: got Content-Type %q, want %q", tt.path, got, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("GET %s: body lacks %q", tt.path, tt.wantBody)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("GET %s: got X-Content-Type-Options %q, want nosniff", tt.path, got)
			}
			if etag := res.Header.Get("ETag"); !etagRe.MatchString(etag) {
				t.Errorf("GET %s: ETag %q, want a quoted 16-character hash", tt.path, etag)
			}
			if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("GET %s: got Referrer-Policy %q, want no-referrer", tt.path, got)
			}
		})
	}
}

// etagRe is the form of a file's ETag: 12 bytes of its hash in base64.
var etagRe = regexp.MustCompile(`^"[A-Za-z0-9_-]{16}"$`)

func unstripped() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ui/", dashboard.Handler())
	return mux
}

func TestHandlerErrors(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		want   int
	}{
		{"unknown file", http.MethodGet, "/ui/nope.js", http.StatusNotFound},
		{"directory escape", http.MethodGet, "/ui/../go.mod", http.StatusNotFound},
		{"source file", http.MethodGet, "/ui/dashboard.go", http.StatusNotFound},
		{"static prefix", http.MethodGet, "/ui/static/app.js", http.StatusNotFound},
		{"post", http.MethodPost, "/ui/", http.StatusMethodNotAllowed},
		{"delete", http.MethodDelete, "/ui/app.js", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, mounted(), tt.method, tt.path, nil)
			// ServeMux answers unclean paths with a redirect to the clean one.
			redirected := tt.want == http.StatusNotFound && res.StatusCode/100 == 3 && res.Header.Get("Location") == "/go.mod"
			if res.StatusCode != tt.want && !redirected {
				t.Errorf("%s %s: got status %d, want %d", tt.method, tt.path, res.StatusCode, tt.want)
			}
			if allow := res.Header.Get("Allow"); tt.want == http.StatusMethodNotAllowed && allow != "GET, HEAD" {
				t.Errorf("%s %s: got Allow %q, want GET, HEAD", tt.method, tt.path, allow)
			}
		})
	}
}

// GET /ui is sent to /ui/: by the ServeMux of a "/ui/" pattern, or for
// good (301) by the handler itself at the root; a path that only begins
// with "ui" is no file.
func TestHandlerRedirectsBareMount(t *testing.T) {
	if res := get(t, dashboard.Handler(), http.MethodGet, "/uiapp.js", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /uiapp.js: got status %d, want 404", res.StatusCode)
	}
	for name, h := range map[string]http.Handler{"stripped": mounted(), "unstripped": unstripped(), "at the root": dashboard.Handler()} {
		t.Run(name, func(t *testing.T) {
			res := get(t, h, http.MethodGet, "/ui", nil)
			if res.StatusCode/100 != 3 || (name == "at the root" && res.StatusCode != http.StatusMovedPermanently) {
				t.Fatalf("GET /ui: got status %d, want a redirect (301 from the handler)", res.StatusCode)
			}
			if got := res.Header.Get("Location"); got != "/ui/" {
				t.Errorf("GET /ui: got Location %q, want /ui/", got)
			}
		})
	}
}

func TestHandlerRevalidates(t *testing.T) {
	h := mounted()
	first := get(t, h, http.MethodGet, "/ui/app.js", nil)
	etag := first.Header.Get("ETag")
	if got := first.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("got Cache-Control %q, want no-cache", got)
	}
	again := get(t, h, http.MethodGet, "/ui/app.js", map[string]string{"If-None-Match": etag})
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("GET with If-None-Match: got status %d, want 304", again.StatusCode)
	}
	head := get(t, h, http.MethodHead, "/ui/", nil)
	if head.StatusCode != http.StatusOK {
		t.Errorf("HEAD /ui/: got status %d, want 200", head.StatusCode)
	}
}

func TestHandlerRejectsEscapes(t *testing.T) {
	for _, p := range []string{"/../go.mod", "/..%2fgo.mod", "/ui/../dashboard.go", "/static/index.html"} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = p
		rec := httptest.NewRecorder()
		dashboard.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: got status %d, want 404", p, rec.Code)
		}
	}
}

func TestIndexPolicy(t *testing.T) {
	res := get(t, mounted(), http.MethodGet, "/ui/", nil)
	csp := res.Header.Get("Content-Security-Policy")
	// Trusted Types: the page writes text, never HTML, so any HTML sink
	// (innerHTML and the like) throws instead of injecting markup.
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'",
		"require-trusted-types-for 'script'", "trusted-types 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if got := res.Header.Get("Cross-Origin-Opener-Policy"); got != "same-origin" {
		t.Errorf("Cross-Origin-Opener-Policy: got %q, want same-origin", got)
	}
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options: got %q, want DENY", got)
	}
}

func TestFilesPolicy(t *testing.T) {
	// Other origins may not load the page's files into theirs.
	for _, name := range []string{"", "app.js", "style.css", "favicon.svg"} {
		res := get(t, mounted(), http.MethodGet, "/ui/"+name, nil)
		if got := res.Header.Get("Cross-Origin-Resource-Policy"); got != "same-origin" {
			t.Errorf("GET /ui/%s: Cross-Origin-Resource-Policy %q, want same-origin", name, got)
		}
	}
}

func TestPageReferencesOnlyOwnFiles(t *testing.T) {
	// Every file the page and its modules name must be served: no build step,
	// nothing from other origins.
	h := mounted()
	for _, name := range []string{"index.html", "app.js", "api.js", "format.js", "timeline.js", "redact.js", "style.css"} {
		res := get(t, h, http.MethodGet, "/ui/"+name, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /ui/%s: got status %d", name, res.StatusCode)
		}
		for _, bad := range []string{"http://", "https://", "//cdn"} {
			if strings.Contains(string(body), bad) {
				t.Errorf("%s mentions %q: the page must not load anything from elsewhere", name, bad)
			}
		}
		for _, ref := range refs(string(body)) {
			if r := get(t, h, http.MethodGet, "/ui/"+ref, nil); r.StatusCode != http.StatusOK {
				t.Errorf("%s refers to %s, which is not served (status %d)", name, ref, r.StatusCode)
			}
		}
	}
}

// refs finds the local files a page or module names: src="x", href="x"
// and import ... from "./x".
func refs(s string) []string {
	var out []string
	for _, pre := range []string{`src="`, `href="`, `from "./`} {
		rest := s
		for {
			i := strings.Index(rest, pre)
			if i < 0 {
				break
			}
			rest = rest[i+len(pre):]
			j := strings.IndexByte(rest, '"')
			if j < 0 {
				break
			}
			ref := rest[:j]
			if ref != "" && !strings.HasPrefix(ref, "#") && !strings.Contains(ref, "$") {
				out = append(out, ref)
			}
		}
	}
	return out
}

func TestHandlerCompresses(t *testing.T) {
	h := mounted()
	plain := get(t, h, http.MethodGet, "/ui/app.js", nil)
	plainBody, _ := io.ReadAll(plain.Body)
	tests := []struct {
		accept string
		gzip   bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			res := get(t, h, http.MethodGet, "/ui/app.js", map[string]string{"Accept-Encoding": tt.accept})
			body, _ := io.ReadAll(res.Body)
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tt.gzip {
				t.Fatalf("Accept-Encoding %q: got gzip %v, want %v", tt.accept, got, tt.gzip)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("no Vary: Accept-Encoding")
			}
			if !tt.gzip {
				return
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			unz, _ := io.ReadAll(zr)
			if !bytes.Equal(unz, plainBody) {
				t.Errorf("gzipped body differs from the plain one")
			}
			if res.Header.Get("ETag") == plain.Header.Get("ETag") {
				t.Errorf("gzipped and plain bodies share the ETag %s", res.Header.Get("ETag"))
			}
		})
	}
}

// A range of a gzipped answer would be a range of the compressed bytes,
// which clients take for one of the file: a client that accepts gzip gets
// the whole file, compressed; one that does not gets its range.
func TestHandlerRangeAndGzip(t *testing.T) {
	h := mounted()
	res := get(t, h, http.MethodGet, "/ui/app.js", map[string]string{"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("a range with gzip: got status %d, Content-Encoding %q; want 200, gzip", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	res = get(t, h, http.MethodGet, "/ui/app.js", map[string]string{"Range": "bytes=0-9"})
	if body, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusPartialContent || len(body) != 10 {
		t.Errorf("a range without gzip: got status %d and %d bytes; want 206 and 10", res.StatusCode, len(body))
	}
}

// The demo form's number fields are bounded as the API bounds them, so
// that the browser refuses a value at the field instead of the API in a
// notice away from it.
func TestDemoFormLimitsAreTheAPIs(t *testing.T) {
	resp := get(t, mounted(), http.MethodGet, "/ui/", nil)
	page, _ := io.ReadAll(resp.Body)
	for _, tt := range []struct {
		name     string
		min, max int
	}{
		{"polling_interval_seconds", 1, monitor.MaxIntervalSeconds},
		{"timeout_seconds", 1, monitor.MaxTimeoutSeconds},
	} {
		input := regexp.MustCompile(`<input name="` + tt.name + `"[^>]*>`).Find(page)
		if input == nil {
			t.Errorf("no input %s in the page", tt.name)
			continue
		}
		want := fmt.Sprintf(`min="%d" max="%d"`, tt.min, tt.max)
		if !bytes.Contains(input, []byte(want)) {
			t.Errorf("input %s: %s, want %s as the API's limits", tt.name, input, want)
		}
	}
}
