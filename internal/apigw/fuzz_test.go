package apigw

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzHandle sends requests with any method, path, query and body: the
// handler always answers (never an error, never a panic), never 500 (a
// bug), and every error answer is JSON with an error kind.
func FuzzHandle(f *testing.F) {
	methods := []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut}
	for _, seed := range []struct {
		method     uint8
		path, k, v string
		body       string
	}{
		{1, "/monitors", "", "", `{"target":{"type":"simulated"},"instanceId":"a"}`},
		{1, "/monitors", "", "", `{"job_id":"j"}`},
		{0, "/monitors", "runtimeStatus", "Running,pending", ""},
		{0, "/monitors", "continuationToken", "eyJjIjoxfQ", ""},
		{0, "/monitors/a", "", "", ""},
		{1, "/monitors/a/terminate", "reason", "x", ""},
		{1, "/monitors/a/raiseEvent/setInterval", "", "", `{"pollingIntervalSeconds":5}`},
		{2, "/monitors/a", "", "", ""},
		{3, "/monitors/%2e%2e", "top", "-1", "{"},
	} {
		f.Add(seed.method, seed.path, seed.k, seed.v, []byte(seed.body))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, method uint8, path, key, value string, body []byte) {
		req := local(methods[int(method)%len(methods)], path, string(body))
		if key != "" {
			req = withQuery(req, key, value)
		}
		resp := e.do(t, req)
		if resp.StatusCode == http.StatusInternalServerError {
			t.Fatalf("%s %s ?%s=%s %q: 500 %s", req.HTTPMethod, path, key, value, body, resp.Body)
		}
		if resp.StatusCode >= 400 {
			var m map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &m); err != nil || m["error"] == nil {
				t.Fatalf("%s %s: answer %d %q has no error kind", req.HTTPMethod, path, resp.StatusCode, resp.Body)
			}
		}
	})
}
