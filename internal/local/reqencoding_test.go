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
	"math/rand/v2"
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
// however small it was sent. One that unpacks to a proxy event over
// Lambda's 6 MiB invoke limit (zeros grow sixfold in JSON, to \u0000) is
// API Gateway's 502, without the function.
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
	underInvokeLimit := bytes.Repeat([]byte("a"), maxInvokePayload-64<<10)
	controls := bytes.Repeat([]byte{1}, maxInvokePayload/5)
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
		{"gzip, unpacking to the limit", []string{"gzip"}, atLimit, 502, nil},
		{"gzip, unpacking to an event under Lambda's limit", []string{"gzip"}, compressed(t, underInvokeLimit, gzip.NewWriter), 200, underInvokeLimit},
		{"control bytes, an event over Lambda's limit", nil, controls, 502, nil},
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
				want := map[int]string{413: "Request Too Long", 415: "Unsupported Media Type", 502: "Internal server error"}[tt.wantStatus]
				kind := "rejected"
				if tt.wantStatus >= 500 {
					kind = "internal"
				}
				var answer map[string]string
				if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil || answer["error"] != kind || answer["message"] != want {
					t.Errorf("answer %s, want error %s, message %q", w.Body.String(), kind, want)
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

// encodedLen is the length encoding/json gives a string, escapes, HTML
// escapes and invalid UTF-8's replacement included.
func TestEncodedLen(t *testing.T) {
	texts := []string{"", "a", `"\`, "\n\r\t\b\f", "\x00\x01\x1f\x7f", "<>&", "é€𝄞", "\u2028\u2029",
		"\xff", "a\xfe\xffb", "\xe2\x82", "\xed\xa0\x80", `{"instanceId":"x"}`}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		want, _ := json.Marshal(s)
		if got := encodedLen(s); got != len(want) {
			t.Errorf("encodedLen(%q) = %d, want %d (%s)", s, got, len(want), want)
		}
	}
}
