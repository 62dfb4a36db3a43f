package local

import (
	"net/http"
	"testing"
)

// TestMuxEdges checks the answers of paths and methods next to the
// routes: the API's paths are answered in its JSON error shape (never
// net/http's redirect to a cleaned path or its plain text), and a known
// path with another method is 405 with an Allow header.
func TestMuxEdges(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	tests := []struct {
		method, path string
		status       int
		kind         string // the JSON error's kind; "" for an answer that is not JSON
		allow        string
	}{
		{http.MethodGet, "/monitors//", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/monitors//x", http.StatusNotFound, "not_found", ""},
		{http.MethodDelete, "/monitors/x//", http.StatusNotFound, "not_found", ""},
		{http.MethodPost, "/monitors/x/./terminate", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/monitors/x/..", http.StatusNotFound, "not_found", ""},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodDelete, "/healthz", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodPost, "/ui/", http.StatusMethodNotAllowed, "", "GET, HEAD"},
		{http.MethodGet, "/healthz", http.StatusOK, "", ""},
		{http.MethodHead, "/healthz", http.StatusOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The path as written: no client-side cleaning.
			req.URL.Opaque = "//" + req.URL.Host + tt.path
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			if tt.kind == "" || tt.method == http.MethodHead {
				return
			}
			a := call(t, tt.method, base+tt.path, "")
			if m := a.json(t); m["error"] != tt.kind || m["message"] == "" {
				t.Errorf("body %s, want error %q with a message", a.body, tt.kind)
			}
		})
	}
}
