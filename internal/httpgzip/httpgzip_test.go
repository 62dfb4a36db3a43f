package httpgzip

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZIP"}, true},
		{[]string{"gzip, deflate, br"}, true},
		{[]string{"deflate, gzip;q=0.5"}, true},
		{[]string{"br", "gzip"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.0"}, false},
		{[]string{"gzip;Q=0"}, false},
		{[]string{"*"}, false},
		{[]string{"identity"}, false},
		{[]string{"br, deflate"}, false},
		{[]string{"x-gzip"}, false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, v := range tc.header {
			r.Header.Add("Accept-Encoding", v)
		}
		if got := AcceptsGzip(r); got != tc.want {
			t.Errorf("Accept-Encoding %q: got %v, want %v", tc.header, got, tc.want)
		}
	}
}

// answer is a handler that answers code with body, declaring its length
// unless unsized, and with the given Content-Encoding when not empty.
func answer(code int, body string, unsized bool, encoding string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if !unsized {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		if encoding != "" {
			w.Header().Set("Content-Encoding", encoding)
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	})
}

func TestHandler(t *testing.T) {
	const minSize = 1024
	big := `{"items":"` + strings.Repeat("monitor ", 300) + `"}`
	small := `{"ok":true}`
	for _, tc := range []struct {
		name     string
		method   string
		accept   string
		next     http.Handler
		wantGzip bool
		wantVary bool
		wantBody string
	}{
		{"asked, large", "GET", "gzip, deflate", answer(200, big, false, ""), true, true, big},
		{"asked, large, no length", "POST", "gzip", answer(200, big, true, ""), true, true, big},
		{"asked, exactly the minimum", "GET", "gzip", answer(200, big[:minSize], false, ""), true, true, big[:minSize]},
		{"asked, one byte short", "GET", "gzip", answer(200, big[:minSize-1], false, ""), false, false, big[:minSize-1]},
		{"asked, small", "GET", "gzip", answer(200, small, false, ""), false, false, small},
		{"asked, error answer", "GET", "gzip", answer(404, big, false, ""), true, true, big},
		{"not asked", "GET", "", answer(200, big, false, ""), false, true, big},
		{"wildcard", "GET", "*", answer(200, big, false, ""), false, true, big},
		{"refused", "GET", "gzip;q=0", answer(200, big, false, ""), false, true, big},
		{"encoded already", "GET", "gzip", answer(200, big, false, "identity"), false, false, big},
		{"no content", "GET", "gzip", answer(204, "", true, ""), false, false, ""},
		{"not modified", "GET", "gzip", answer(304, "", true, ""), false, false, ""},
		{"head", "HEAD", "gzip", answer(200, "", true, ""), false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: the second answer gets a writer back from the pool.
			for range 2 {
				r := httptest.NewRequest(tc.method, "/monitors", nil)
				if tc.accept != "" {
					r.Header.Set("Accept-Encoding", tc.accept)
				}
				rec := httptest.NewRecorder()
				Handler(tc.next, minSize).ServeHTTP(rec, r)
				res := rec.Result()
				body := rec.Body.Bytes()
				if got := res.Header.Get("Content-Encoding") == "gzip"; got != tc.wantGzip {
					t.Fatalf("Content-Encoding %q, want gzip: %v", res.Header.Get("Content-Encoding"), tc.wantGzip)
				}
				if got := res.Header.Get("Vary") == "Accept-Encoding"; got != tc.wantVary {
					t.Errorf("Vary %q, want Accept-Encoding: %v", res.Header.Get("Vary"), tc.wantVary)
				}
				if tc.wantGzip {
					if cl := res.Header.Get("Content-Length"); cl != "" {
						t.Errorf("compressed answer keeps Content-Length %s", cl)
					}
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatalf("gzip.NewReader: %v", err)
					}
					if body, err = io.ReadAll(zr); err != nil {
						t.Fatalf("gunzip: %v", err)
					}
				}
				if string(body) != tc.wantBody {
					t.Errorf("body %q..., want %q...", trim(string(body)), trim(tc.wantBody))
				}
			}
		})
	}
}

// trim shortens s for a failure message.
func trim(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

// TestHandlerOverHTTP reads a compressed answer through net/http's client,
// which asks for gzip itself and undoes it, and flushes midway: the body
// arrives whole.
func TestHandlerOverHTTP(t *testing.T) {
	body := strings.Repeat(`{"event":"TaskSucceeded"}`, 200)
	srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		io.WriteString(w, body[:100])
		http.NewResponseController(w).Flush()
		io.WriteString(w, body[100:])
	}), 1024))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Uncompressed {
		t.Error("the client did not get a gzip answer")
	}
	if string(got) != body {
		t.Errorf("body: got %d bytes, want %d", len(got), len(body))
	}
}

// BenchmarkHandler gzips a list answer of 100 monitors' size (75 KB of
// similar records), the dashboard's most frequent read.
func BenchmarkHandler(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"monitors":[`)
	for i := 0; sb.Len() < 75_000; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"monitor","instanceId":"bench-%05d","runtimeStatus":"Running","customStatus":{"check_count":%d,"job_status":"Running","next_check_at":"2026-12-05T21:%02d:%02dZ"},"createdTime":"2026-12-05T20:00:00Z","lastUpdatedTime":"2026-12-05T21:00:%02dZ"}`, i, i*7, i%60, i%60, i%60)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}), 1024)
	r := httptest.NewRequest(http.MethodGet, "/monitors", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	w := &countingWriter{header: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		h.ServeHTTP(w, r)
	}
	b.ReportMetric(float64(w.n)/float64(b.N), "gzipped-bytes/op")
}

// countingWriter is a ResponseWriter that counts the bytes written.
type countingWriter struct {
	header http.Header
	n      int
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(int)     {}
func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
