package local

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestCompressedAnswers: the API routes and the Step Functions API gzip an
// answer of a kilobyte or more for a client that asks, as the deployed
// REST API does, and leave smaller answers and other clients' alone.
func TestCompressedAnswers(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	for i := range 8 {
		a := call(t, http.MethodPost, base+"/monitors", fmt.Sprintf(
			`{"instanceId":"gz-%d","target":{"type":"simulated","completeAfterChecks":1000},"pollingIntervalSeconds":3600,"timeoutSeconds":7200}`, i))
		wantStatus(t, a, http.StatusAccepted, "start")
	}
	st := call(t, http.MethodGet, base+"/monitors/gz-0", "")
	wantStatus(t, st, http.StatusAccepted, "status")
	arn, _ := st.json(t)["executionArn"].(string)
	if arn == "" {
		t.Fatalf("status has no executionArn: %s", st.body)
	}
	history := `{"executionArn":"` + arn + `"}`
	for _, tc := range []struct {
		name string
		// path is a route of the API with GET, or op an operation of
		// the Step Functions API with its body.
		path, op, body string
		accept         string // "": no Accept-Encoding
		wantGzip       bool
		wantStatus     int
		wantInBody     string
	}{
		{name: "list, asked", path: "/monitors", accept: "gzip", wantGzip: true, wantStatus: 200, wantInBody: `"gz-7"`},
		{name: "list, not asked", path: "/monitors", wantStatus: 200, wantInBody: `"gz-7"`},
		{name: "list, identity", path: "/monitors", accept: "identity", wantStatus: 200, wantInBody: `"gz-7"`},
		{name: "list, gzip refused", path: "/monitors", accept: "gzip;q=0, identity", wantStatus: 200, wantInBody: `"gz-7"`},
		{name: "no such monitor, small", path: "/monitors/none", accept: "gzip", wantStatus: 404, wantInBody: `not_found`},
		{name: "history, asked", op: "GetExecutionHistory", body: history, accept: "gzip", wantGzip: true, wantStatus: 200, wantInBody: `"ExecutionStarted"`},
		{name: "history, not asked", op: "GetExecutionHistory", body: history, wantStatus: 200, wantInBody: `"ExecutionStarted"`},
		{name: "state machines, small", op: "ListStateMachines", body: `{}`, accept: "gzip", wantStatus: 200, wantInBody: `"stateMachines"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, base+tc.path, nil)
			if tc.op != "" {
				req, err = http.NewRequest(http.MethodPost, base+"/", strings.NewReader(tc.body))
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.op != "" {
				req.Header.Set("X-Amz-Target", "AWSStepFunctions."+tc.op)
				req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			}
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			// No transport compression: the answer is read as it comes.
			tr := &http.Transport{DisableCompression: true}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			rd := io.Reader(resp.Body)
			if got := resp.Header.Get("Content-Encoding"); (got == "gzip") != tc.wantGzip {
				t.Fatalf("Content-Encoding %q, want gzip: %v", got, tc.wantGzip)
			}
			if tc.wantGzip {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatalf("not gzip: %v", err)
				}
				rd = zr
			}
			b, err := io.ReadAll(rd)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(b) || !strings.Contains(string(b), tc.wantInBody) {
				t.Errorf("body %.200s, want JSON with %s", b, tc.wantInBody)
			}
			if vary := resp.Header.Get("Vary"); tc.wantGzip && vary != "Accept-Encoding" {
				t.Errorf("Vary %q, want Accept-Encoding", vary)
			}
		})
	}
}
