package local

import (
	"net/http"
	"strings"
	"testing"
)

// TestMalformedQuery sends query strings that do not parse (a '%' without
// two hex digits, a ';'): each is 400, as API Gateway answers them itself,
// naming the query as malformed, and changes nothing; the same requests
// with a well-formed query are served.
func TestMalformedQuery(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	start := func(id string) {
		t.Helper()
		body := `{"instanceId":"` + id + `","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":3600,"timeoutSeconds":7200}`
		wantStatus(t, call(t, http.MethodPost, base+"/monitors", body), http.StatusAccepted, "start "+id)
	}
	start("p3")
	start("ku1")
	wantStatus(t, call(t, http.MethodPost, base+"/monitors/ku1/terminate", ""), http.StatusAccepted, "terminate ku1")

	tests := []struct {
		name, method, path, body string
	}{
		{"terminate reason", http.MethodPost, "/monitors/p3/terminate?reason=bad%ZZreason", ""},
		{"list top", http.MethodGet, "/monitors?top=0%ZZ", ""},
		{"list semicolon", http.MethodGet, "/monitors?top=1;bogus=1", ""},
		{"start", http.MethodPost, "/monitors?x=%ZZ", `{"instanceId":"never","target":{"type":"simulated"}}`},
		{"purge", http.MethodDelete, "/monitors/ku1?force=%ZZ", ""},
		{"status", http.MethodGet, "/monitors/p3?%", ""},
		{"raise event", http.MethodPost, "/monitors/p3/raiseEvent/complete?a=%2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, tt.method, base+tt.path, tt.body)
			wantStatus(t, a, http.StatusBadRequest, tt.method+" "+tt.path)
			m := a.json(t)
			// API Gateway's own answer, in the API's error shape as the
			// deployed gateway responses give it.
			if msg, _ := m["message"].(string); m["error"] != "rejected" || !strings.Contains(msg, "malformed query string") {
				t.Errorf("body %s, want error rejected with a message about the malformed query string", a.body)
			}
		})
	}
	// Nothing changed.
	if rec := call(t, http.MethodGet, base+"/monitors/p3", "").json(t); rec["runtimeStatus"] == "Terminated" {
		t.Errorf("p3 was terminated: %v", rec)
	}
	wantStatus(t, call(t, http.MethodGet, base+"/monitors/never", ""), http.StatusNotFound, "status of never")
	wantStatus(t, call(t, http.MethodGet, base+"/monitors/ku1", ""), http.StatusOK, "status of ku1")
	// Well-formed queries are served.
	wantStatus(t, call(t, http.MethodGet, base+"/monitors?top=1", ""), http.StatusOK, "list top=1")
	wantStatus(t, call(t, http.MethodGet, base+"/monitors?top=1%30", ""), http.StatusOK, "list top=1%30")
}
