package local

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// TestListRefusesForgedTokens pages GET /monitors with tokens the API did
// not issue: each is 400, while the tokens it issues page on.
func TestListRefusesForgedTokens(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	for i := range 3 {
		body := fmt.Sprintf(`{"instanceId":"tok-%d","target":{"type":"simulated"},"pollingIntervalSeconds":60}`, i)
		wantStatus(t, call(t, http.MethodPost, base+"/monitors", body), http.StatusAccepted, "start")
	}
	a := call(t, http.MethodGet, base+"/monitors?top=1", "")
	wantStatus(t, a, http.StatusOK, "list")
	issued, _ := a.json(t)["continuationToken"].(string)
	if issued == "" {
		t.Fatalf("first page has no continuationToken: %s", a.body)
	}
	wantStatus(t, call(t, http.MethodGet, base+"/monitors?top=1&continuationToken="+url.QueryEscape(issued), ""), http.StatusOK, "next page")
	for _, forged := range []string{
		base64.RawURLEncoding.EncodeToString([]byte(`{"c":1,"i":"x"}`)),
		base64.StdEncoding.EncodeToString([]byte(`{"c":1,"i":"x"}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"c":1,"i":"x"}`)) + issued[len(issued)-23:],
	} {
		a := call(t, http.MethodGet, base+"/monitors?continuationToken="+url.QueryEscape(forged), "")
		wantStatus(t, a, http.StatusBadRequest, "list with forged token "+forged)
	}
}
