package local

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// proxyRequest builds the event API Gateway's REST proxy integration
// sends: the last value of a repeated header or query parameter in the
// single-value maps and every value in the multi-value ones, the
// forwarding headers API Gateway adds, the path parameters, the caller's
// API key, and a body that is not UTF-8 as base64.
func TestProxyRequestEvent(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "http://localhost:8080/monitors/m-1/raiseEvent/go?a=1&a=2&b=x", strings.NewReader(`{"k":"v"}`))
	r.Host = "localhost:8080"
	r.RemoteAddr = "127.0.0.1:54321"
	r.Header["X-Multi"] = []string{"first", "last"}
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	r.Header.Set("X-Api-Key", "key-1")
	r.Header.Set("User-Agent", "curl/8")
	r.SetPathValue("id", "m-1")
	r.SetPathValue("name", "go")
	before := time.Now().UTC().Truncate(time.Second)

	ev, err := proxyRequest(r, "/monitors/{id}/raiseEvent/{name}", []string{"id", "name"})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"X-Multi": "last", "Host": "localhost:8080", "X-Forwarded-Proto": "http",
		"X-Forwarded-For": "203.0.113.7, 127.0.0.1", "X-Forwarded-Port": "54321",
	} {
		if got := ev.Headers[k]; got != want {
			t.Errorf("Headers[%s] = %q, want %q", k, got, want)
		}
	}
	if got := ev.MultiValueHeaders["X-Multi"]; !reflect.DeepEqual(got, []string{"first", "last"}) {
		t.Errorf("MultiValueHeaders[X-Multi] = %q, want both values", got)
	}
	if got := ev.QueryStringParameters; !reflect.DeepEqual(got, map[string]string{"a": "2", "b": "x"}) {
		t.Errorf("QueryStringParameters = %v, want the last value of each", got)
	}
	if got := ev.MultiValueQueryStringParameters["a"]; !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Errorf("MultiValueQueryStringParameters[a] = %q, want both values", got)
	}
	if got := ev.PathParameters; !reflect.DeepEqual(got, map[string]string{"id": "m-1", "name": "go"}) {
		t.Errorf("PathParameters = %v", got)
	}
	if ev.Resource != "/monitors/{id}/raiseEvent/{name}" || ev.RequestContext.ResourcePath != ev.Resource ||
		ev.Path != "/monitors/m-1/raiseEvent/go" || ev.HTTPMethod != http.MethodPost {
		t.Errorf("resource %q, resource path %q, path %q, method %q", ev.Resource, ev.RequestContext.ResourcePath, ev.Path, ev.HTTPMethod)
	}
	id := ev.RequestContext.Identity
	if id.APIKey != "key-1" || id.SourceIP != "127.0.0.1" || id.UserAgent != "curl/8" {
		t.Errorf("identity %+v, want the caller's API key, address and user agent", id)
	}
	at, err := time.Parse("02/Jan/2006:15:04:05 -0700", ev.RequestContext.RequestTime)
	epoch := time.UnixMilli(ev.RequestContext.RequestTimeEpoch).UTC().Truncate(time.Second)
	if err != nil || at.Before(before) || !epoch.Equal(at) {
		t.Errorf("requestTime %q (%v), epoch %d: want API Gateway's format, the same instant", ev.RequestContext.RequestTime, err, ev.RequestContext.RequestTimeEpoch)
	}
	if ev.Body != `{"k":"v"}` || ev.IsBase64Encoded {
		t.Errorf("body %q (base64 %v), want the text as sent", ev.Body, ev.IsBase64Encoded)
	}

	// No query, no path parameters, no forwarding header, a body that is
	// not UTF-8.
	bin := []byte{0xff, 0x00, 'a'}
	r = httptest.NewRequest(http.MethodPost, "http://localhost/monitors", strings.NewReader(string(bin)))
	r.RemoteAddr = "[::1]:4000"
	ev, err = proxyRequest(r, "/monitors", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.QueryStringParameters != nil || ev.MultiValueQueryStringParameters != nil || ev.PathParameters != nil {
		t.Errorf("query %v, multi %v, path %v; want null, as API Gateway sends them", ev.QueryStringParameters, ev.MultiValueQueryStringParameters, ev.PathParameters)
	}
	if ev.Headers["X-Forwarded-For"] != "::1" || ev.Headers["X-Forwarded-Port"] != "4000" {
		t.Errorf("X-Forwarded-For %q, X-Forwarded-Port %q; want ::1 and 4000", ev.Headers["X-Forwarded-For"], ev.Headers["X-Forwarded-Port"])
	}
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString(bin) {
		t.Errorf("body %q (base64 %v), want the bytes in base64", ev.Body, ev.IsBase64Encoded)
	}

	// A caller without a port (a Unix socket, a test's request) adds no
	// X-Forwarded-Port.
	r = httptest.NewRequest(http.MethodGet, "http://localhost/monitors", nil)
	r.RemoteAddr = "pipe"
	if ev, err = proxyRequest(r, "/monitors", nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := ev.Headers["X-Forwarded-Port"]; ok || ev.Headers["X-Forwarded-For"] != "pipe" {
		t.Errorf("headers %v; want X-Forwarded-For pipe and no X-Forwarded-Port", ev.Headers)
	}
	if ev.Body != "" || ev.IsBase64Encoded {
		t.Errorf("body %q (base64 %v), want none", ev.Body, ev.IsBase64Encoded)
	}
}

// writeProxyResponse writes a function's proxy response as API Gateway
// does: multi-value headers replace single-value ones of the same name, a
// base64 body is decoded (an undecodable one is the integration's failure,
// 502), and a body without a Content-Type is sent as JSON.
func TestWriteProxyResponse(t *testing.T) {
	tests := []struct {
		name       string
		resp       events.APIGatewayProxyResponse
		wantStatus int
		wantBody   string
		wantHeader http.Header
	}{
		{"multi-value headers win", events.APIGatewayProxyResponse{StatusCode: 200, Body: "{}",
			Headers:           map[string]string{"X-A": "single", "X-B": "b"},
			MultiValueHeaders: map[string][]string{"X-A": {"m1", "m2"}}},
			200, "{}", http.Header{"X-A": {"m1", "m2"}, "X-B": {"b"}, "Content-Type": {"application/json"}, "Content-Length": {"2"}}},
		{"base64 body", events.APIGatewayProxyResponse{StatusCode: 201, Body: base64.StdEncoding.EncodeToString([]byte("raw")),
			IsBase64Encoded: true, Headers: map[string]string{"Content-Type": "text/plain"}},
			201, "raw", http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"3"}}},
		{"no body, no content type", events.APIGatewayProxyResponse{StatusCode: 204},
			204, "", http.Header{"Content-Length": {"0"}}},
		{"undecodable base64", events.APIGatewayProxyResponse{StatusCode: 200, Body: "%%%", IsBase64Encoded: true},
			502, `{"error":"internal","message":"Internal server error"}`,
			http.Header{"Content-Type": {"application/json"}, "X-Amzn-Errortype": {"BadGatewayException"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			writeProxyResponse(w, tt.resp)
			if w.Code != tt.wantStatus || w.Body.String() != tt.wantBody {
				t.Errorf("answer %d %q, want %d %q", w.Code, w.Body.String(), tt.wantStatus, tt.wantBody)
			}
			for k, want := range tt.wantHeader {
				if got := w.Header().Values(k); !reflect.DeepEqual(got, want) {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if tt.wantHeader.Get("Content-Type") == "" && w.Header().Get("Content-Type") != "" {
				t.Errorf("Content-Type %q on an empty answer, want none", w.Header().Get("Content-Type"))
			}
		})
	}
}

// API Gateway's own answers carry the API's error shape: kind "rejected"
// for a 4XX and "internal" for a 5XX, and x-amzn-ErrorType named after the
// status.
func TestWriteGatewayError(t *testing.T) {
	for _, tt := range []struct {
		status             int
		wantKind, wantType string
	}{
		{400, "rejected", "BadRequestException"},
		{413, "rejected", "RequestEntityTooLargeException"},
		{500, "internal", "InternalServerErrorException"},
		{502, "internal", "BadGatewayException"},
	} {
		w := httptest.NewRecorder()
		writeGatewayError(w, tt.status, "msg")
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%d: body %q: %v", tt.status, w.Body.String(), err)
		}
		if w.Code != tt.status || body["error"] != tt.wantKind || body["message"] != "msg" {
			t.Errorf("%d: answer %d %v, want kind %q", tt.status, w.Code, body, tt.wantKind)
		}
		if got := w.Header().Get("x-amzn-ErrorType"); got != tt.wantType {
			t.Errorf("%d: x-amzn-ErrorType %q, want %q", tt.status, got, tt.wantType)
		}
	}
}

// The proxy answers as API Gateway does when the request or the
// function fails: 413 for a body over API Gateway's 10 MiB, 502 for an
// event over Lambda's 6 MiB invoke limit (a body API Gateway takes), for a
// function that fails or answers something that is not a proxy response
// (no status code).
func TestProxyGatewayAnswers(t *testing.T) {
	answer := func(out string, err error) invokeFunc {
		return func(context.Context, string, []byte) ([]byte, error) { return []byte(out), err }
	}
	tests := []struct {
		name       string
		invoke     invokeFunc
		bodyLen    int
		wantStatus int
	}{
		{"a body within Lambda's limit", answer(`{"statusCode":200,"body":"ok"}`, nil), 6<<20 - 4<<10, 200},
		{"a body over Lambda's limit", answer(`{"statusCode":200,"body":"ok"}`, nil), 6<<20 + 1, 502},
		{"a body of API Gateway's limit", answer(`{"statusCode":200,"body":"ok"}`, nil), 10 << 20, 502},
		{"a body over API Gateway's limit", answer(`{"statusCode":200,"body":"ok"}`, nil), 10<<20 + 1, 413},
		{"a function that fails", answer("", io.ErrUnexpectedEOF), 2, 502},
		{"an answer without a status code", answer(`{"body":"ok"}`, nil), 2, 502},
		{"an answer that is not JSON", answer(`ok`, nil), 2, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &proxy{invoke: tt.invoke, function: func(*http.Request) string { return StartFunction },
				resource: "/monitors", logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			r := httptest.NewRequest(http.MethodPost, "http://localhost/monitors", strings.NewReader(strings.Repeat("a", tt.bodyLen)))
			w := httptest.NewRecorder()
			p.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Errorf("status %d (%s), want %d", w.Code, w.Body.String(), tt.wantStatus)
			}
		})
	}
}
