package httpgzip

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// get requests url from a server of Handler, asking for gzip when
// acceptGzip (and undoing it itself) or for the identity otherwise, and
// returns the answer. trace, when not nil, sees the informational
// answers. The request gives up after a while, so that an answer that
// never comes fails the test instead of hanging it.
func get(t *testing.T, url string, acceptGzip bool, trace *httptrace.ClientTrace) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	if trace != nil {
		ctx = httptrace.WithClientTrace(ctx, trace)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acceptGzip {
		req.Header.Set("Accept-Encoding", "gzip")
	} else {
		req.Header.Set("Accept-Encoding", "identity")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// body returns the body of res, gunzipped when it is gzipped.
func body(t *testing.T, res *http.Response) string {
	t.Helper()
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatalf("gzip.NewReader: %v", err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return string(b)
}

// TestInformationalAnswers: a 1xx answer (103 Early Hints here) that the
// wrapped handler sends before its answer goes out as it is, with its
// own headers and neither Content-Encoding nor Vary, and the answer
// that follows is compressed or not as if it had come alone.
func TestInformationalAnswers(t *testing.T) {
	const minSize = 1024
	for _, tc := range []struct {
		name     string
		body     string
		wantGzip bool
	}{
		{"small answer", `{"ok":true}`, false},
		{"large answer", strings.Repeat(`{"event":"TaskSucceeded"}`, 100), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", "</app.css>; rel=preload; as=style")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Del("Link")
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", strconv.Itoa(len(tc.body)))
				io.WriteString(w, tc.body)
			}), minSize))
			defer srv.Close()
			var codes []int
			var hints textproto.MIMEHeader
			res := get(t, srv.URL, true, &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				codes = append(codes, code)
				hints = h
				return nil
			}})
			if len(codes) != 1 || codes[0] != http.StatusEarlyHints {
				t.Fatalf("informational answers %v, want [103]", codes)
			}
			if hints.Get("Link") == "" || hints.Get("Content-Encoding") != "" || hints.Get("Vary") != "" {
				t.Errorf("103 headers %v, want a Link and neither Content-Encoding nor Vary", hints)
			}
			if res.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200", res.StatusCode)
			}
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tc.wantGzip {
				t.Errorf("Content-Encoding %q, want gzip: %v", res.Header.Get("Content-Encoding"), tc.wantGzip)
			}
			if got := body(t, res); got != tc.body {
				t.Errorf("body %q..., want %q...", trim(got), trim(tc.body))
			}
		})
	}
}

// TestFlush: what the wrapped handler has written when it flushes
// reaches the client then, compressed or not, before the handler
// writes more; and a flush before anything is written sends the
// headers of the answer as compression makes them, so that the body
// that follows can be read.
func TestFlush(t *testing.T) {
	const minSize = 1024
	first := strings.Repeat(`{"event":"TaskStarted"}`, 10)
	rest := strings.Repeat(`{"event":"TaskSucceeded"}`, 100)
	for _, tc := range []struct {
		name         string
		acceptGzip   bool
		flushAtStart bool
	}{
		{"gzipped", true, false},
		{"not gzipped", false, false},
		{"gzipped, flushed before writing", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read := make(chan struct{})
			srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				rc := http.NewResponseController(w)
				if tc.flushAtStart {
					if err := rc.Flush(); err != nil {
						t.Errorf("Flush: %v", err)
					}
				}
				io.WriteString(w, first)
				if err := rc.Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
				// The rest only once the client has read the first part.
				select {
				case <-read:
				case <-r.Context().Done():
					return
				}
				io.WriteString(w, rest)
			}), minSize))
			defer srv.Close()
			res := get(t, srv.URL, tc.acceptGzip, nil)
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != tc.acceptGzip {
				t.Fatalf("Content-Encoding %q, want gzip: %v", res.Header.Get("Content-Encoding"), tc.acceptGzip)
			}
			var r io.Reader = res.Body
			if tc.acceptGzip {
				zr, err := gzip.NewReader(res.Body)
				if err != nil {
					t.Fatalf("gzip.NewReader: %v", err)
				}
				r = zr
			}
			buf := make([]byte, len(first))
			if _, err := io.ReadFull(r, buf); err != nil || string(buf) != first {
				t.Fatalf("first part %q, %v; want %q", trim(string(buf)), err, trim(first))
			}
			close(read)
			b, err := io.ReadAll(r)
			if err != nil || string(b) != rest {
				t.Errorf("rest %q..., %v; want %q...", trim(string(b)), err, trim(rest))
			}
		})
	}
}

// TestVaryKept: an answer that varies on other request headers already
// keeps them in Vary, with Accept-Encoding added.
func TestVaryKept(t *testing.T) {
	big := strings.Repeat("monitor ", 300)
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Origin")
		io.WriteString(w, big)
	}), 1024)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if got := rec.Result().Header.Values("Vary"); strings.Join(got, ", ") != "Origin, Accept-Encoding" {
		t.Errorf("Vary %q, want [Origin Accept-Encoding]", got)
	}
}

// TestResponseController: http.ResponseController reaches the
// connection's writer through the wrapper, for what the wrapper does
// not do itself (here EnableFullDuplex).
func TestResponseController(t *testing.T) {
	errs := make(chan error, 1)
	srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		errs <- http.NewResponseController(w).EnableFullDuplex()
		io.WriteString(w, "ok")
	}), 1024))
	defer srv.Close()
	res := get(t, srv.URL, true, nil)
	if got := body(t, res); got != "ok" {
		t.Errorf("body %q, want ok", got)
	}
	if err := <-errs; err != nil {
		t.Errorf("EnableFullDuplex through the wrapper: %v", err)
	}
}
