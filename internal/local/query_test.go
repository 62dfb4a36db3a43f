package local

import (
	"encoding/json"
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

// TestQueryNotUTF8 sends query values and path parameters that are not
// UTF-8, which an API Gateway event (JSON) cannot carry: each is 400 with
// the field of the parameter, as the function answers a value that breaks
// the parameter's rules, and nothing changes. A terminate reason that is
// not UTF-8 gets the very answer of a reason with a control character; a
// parameter the route does not take is refused as such, whatever its value.
func TestQueryNotUTF8(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	body := `{"instanceId":"u1","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":3600,"timeoutSeconds":7200}`
	wantStatus(t, call(t, http.MethodPost, base+"/monitors", body), http.StatusAccepted, "start u1")

	controlChar := call(t, http.MethodPost, base+"/monitors/u1/terminate?reason=bell%07", "")
	wantStatus(t, controlChar, http.StatusBadRequest, "terminate with a control character")
	tests := []struct {
		name, method, path string
		wantField          string
		wantProblem        string // a part of the field's problem, when set
		wantBody           string // the whole body, when set
	}{
		{"terminate reason", http.MethodPost, "/monitors/u1/terminate?reason=%FF", "reason", "", string(controlChar.body)},
		{"terminate reason, partly text", http.MethodPost, "/monitors/u1/terminate?reason=d%C3%A9plac%C3", "reason", "", string(controlChar.body)},
		// A path with one trailing slash is the same route.
		{"terminate reason, trailing slash", http.MethodPost, "/monitors/u1/terminate/?reason=%FF", "reason", "", string(controlChar.body)},
		{"list top", http.MethodGet, "/monitors?top=%FF", "top", "must be UTF-8 text", ""},
		{"list runtimeStatus", http.MethodGet, "/monitors?runtimeStatus=Running%C0%80", "runtimeStatus", "", ""},
		{"list continuationToken", http.MethodGet, "/monitors?continuationToken=%FE%FF", "continuationToken", "", ""},
		{"list runtimeStatus twice, one field", http.MethodGet, "/monitors?runtimeStatus=%FF&runtimeStatus=%FE", "runtimeStatus", "", ""},
		{"status id", http.MethodGet, "/monitors/u1%FF", "id", "", ""},
		{"terminate id", http.MethodPost, "/monitors/u%FF/terminate?reason=x", "id", "", ""},
		{"event name", http.MethodPost, "/monitors/u1/raiseEvent/complete%FF", "eventName", "", ""},
		// A parameter the route does not take: its value is not looked at.
		{"list, unknown parameter", http.MethodGet, "/monitors?colour=%FF", "colour", "is not a parameter of this route; it accepts runtimeStatus", ""},
		{"status, unknown parameter", http.MethodGet, "/monitors/u1?colour=%FF", "colour", "is not a parameter of this route", ""},
		{"terminate, unknown parameter", http.MethodPost, "/monitors/u1/terminate?reason=x&colour=%FF", "colour", "is not a parameter of this route; it accepts reason", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, tt.method, base+tt.path, "")
			wantStatus(t, a, http.StatusBadRequest, tt.method+" "+tt.path)
			if tt.wantBody != "" && string(a.body) != tt.wantBody {
				t.Errorf("body %s, want %s", a.body, tt.wantBody)
			}
			var got struct {
				Error  string `json:"error"`
				Fields []struct {
					Field   string `json:"field"`
					Problem string `json:"problem"`
				} `json:"fields"`
			}
			if err := json.Unmarshal(a.body, &got); err != nil || got.Error != "invalid" || len(got.Fields) != 1 || got.Fields[0].Field != tt.wantField {
				t.Fatalf("body %s, want error invalid with the field %s", a.body, tt.wantField)
			}
			if !strings.Contains(got.Fields[0].Problem, tt.wantProblem) {
				t.Errorf("problem %q, want it to contain %q", got.Fields[0].Problem, tt.wantProblem)
			}
		})
	}
	if rec := call(t, http.MethodGet, base+"/monitors/u1", "").json(t); rec["runtimeStatus"] == "Terminated" {
		t.Fatalf("u1 was terminated: %v", rec)
	}
	// A reason in UTF-8 is recorded as it is.
	wantStatus(t, call(t, http.MethodPost, base+"/monitors/u1/terminate?reason=d%C3%A9plac%C3%A9", ""), http.StatusAccepted, "terminate")
	if out := output(t, call(t, http.MethodGet, base+"/monitors/u1", "").json(t)); out["detail"] != "terminated: déplacé" {
		t.Errorf("detail %q, want %q", out["detail"], "terminated: déplacé")
	}
}
