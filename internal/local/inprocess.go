package local

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// inProcess is the transport of the start function's sfn client: it
// serves each request with the runtime's Step Functions API handler on
// the caller's goroutine, through no connection. The requests still go
// through the SDK (encoding, signing, retries, error names) as on AWS,
// but not through the listener: a graceful stop closes that first, and
// a start in progress between its claim and StartExecution then failed
// to reach the engine (503) instead of finishing; its unused spare
// connections also held the server's Shutdown up.
type inProcess struct{ h http.Handler }

// RoundTrip implements http.RoundTripper.
func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	if in.Body == nil {
		in.Body = http.NoBody
	}
	w := &answerBuffer{header: make(http.Header)}
	t.h.ServeHTTP(w, in)
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", w.code, http.StatusText(w.code)),
		StatusCode: w.code,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        w.header,
		Body:          io.NopCloser(&w.body),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// answerBuffer is the http.ResponseWriter of an inProcess request: the
// answer in memory.
type answerBuffer struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *answerBuffer) Header() http.Header { return w.header }

func (w *answerBuffer) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *answerBuffer) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}
