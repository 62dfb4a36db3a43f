package local

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// compressed returns b compressed by the writer new makes.
func compressed[W io.WriteCloser](t *testing.T, b []byte, new func(io.Writer) W) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := new(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A request body sent compressed reaches the function decompressed, as
// API Gateway hands it on: gzip and deflate (zlib) in any case, with
// identity beside them. A coding API Gateway does not take, two codings,
// or a body that is not what its coding says is 415, answered without
// the function; a body that unpacks beyond API Gateway's 10 MiB is 413,
// however small it was sent.
func TestProxyRequestBodyEncodings(t *testing.T) {
	body := []byte(`{"instanceId":"zipped","target":{"type":"simulated"}}`)
	gz := compressed(t, body, gzip.NewWriter)
	zl := compressed(t, body, zlib.NewWriter)
	raw := compressed(t, body, func(w io.Writer) *flate.Writer {
		fw, _ := flate.NewWriter(w, flate.DefaultCompression)
		return fw
	})
	bomb := compressed(t, make([]byte, maxProxyBody+1), gzip.NewWriter)
	atLimit := compressed(t, make([]byte, maxProxyBody), gzip.NewWriter)
	tests := []struct {
		name       string
		encodings  []string // Content-Encoding header values
		sent       []byte
		wantStatus int
		wantBody   []byte // the event's body, for 200
	}{
		{"none", nil, body, 200, body},
		{"identity", []string{"identity"}, body, 200, body},
		{"gzip", []string{"gzip"}, gz, 200, body},
		{"gzip in capitals", []string{"GZIP"}, gz, 200, body},
		{"gzip and identity", []string{"gzip, identity"}, gz, 200, body},
		{"gzip in a second header", []string{"identity", "gzip"}, gz, 200, body},
		{"deflate", []string{"deflate"}, zl, 200, body},
		{"gzip, unpacking to the limit", []string{"gzip"}, atLimit, 200, make([]byte, maxProxyBody)},
		{"gzip, unpacking over the limit", []string{"gzip"}, bomb, 413, nil},
		{"brotli", []string{"br"}, body, 415, nil},
		{"x-gzip", []string{"x-gzip"}, gz, 415, nil},
		{"two codings", []string{"gzip, deflate"}, gz, 415, nil},
		{"gzip twice", []string{"gzip", "gzip"}, gz, 415, nil},
		{"gzip, body not compressed", []string{"gzip"}, body, 415, nil},
		{"gzip, body cut short", []string{"gzip"}, gz[:len(gz)-6], 415, nil},
		{"deflate without zlib's header", []string{"deflate"}, raw, 415, nil},
		{"deflate, gzip body", []string{"deflate"}, gz, 415, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *events.APIGatewayProxyRequest
			p := &proxy{
				invoke: func(_ context.Context, _ string, payload []byte) ([]byte, error) {
					got = new(events.APIGatewayProxyRequest)
					if err := json.Unmarshal(payload, got); err != nil {
						t.Errorf("payload: %v", err)
					}
					return []byte(`{"statusCode":200,"body":"ok"}`), nil
				},
				function: func(*http.Request) string { return StartFunction },
				resource: "/monitors", logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			}
			r := httptest.NewRequest(http.MethodPost, "http://localhost/monitors", bytes.NewReader(tt.sent))
			for _, v := range tt.encodings {
				r.Header.Add("Content-Encoding", v)
			}
			w := httptest.NewRecorder()
			p.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body.String(), tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				if got != nil {
					t.Error("the function was invoked")
				}
				want := map[int]string{413: "Request Too Long", 415: "Unsupported Media Type"}[tt.wantStatus]
				var answer map[string]string
				if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil || answer["error"] != "rejected" || answer["message"] != want {
					t.Errorf("answer %s, want error rejected, message %q", w.Body.String(), want)
				}
				return
			}
			if got == nil {
				t.Fatal("the function was not invoked")
			}
			if got.IsBase64Encoded || got.Body != string(tt.wantBody) {
				t.Errorf("event body %.80q (base64 %v), want %.80q", got.Body, got.IsBase64Encoded, tt.wantBody)
			}
		})
	}
}

// Against the running service, a start sent gzipped (curl
// --data-binary @start.json.gz -H 'Content-Encoding: gzip') starts its
// monitor.
func TestGzippedStart(t *testing.T) {
	rt := newTestRuntime(t)
	body := compressed(t, []byte(`{"instanceId":"zipped-1","target":{"type":"simulated","completeAfterChecks":1}}`), gzip.NewWriter)
	req, err := http.NewRequest(http.MethodPost, rt.URL()+"/monitors", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(b), `"id":"zipped-1"`) {
		t.Errorf("status %d, body %s; want 202 for monitor zipped-1", resp.StatusCode, b)
	}
}
