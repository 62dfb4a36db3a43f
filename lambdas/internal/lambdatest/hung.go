package lambdatest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// HungFirstAttempt starts a server on loopback, stopped when the test
// ends, whose first request gets no answer until then and whose later
// requests get answer as an AWS JSON 1.0 body; it returns the server's
// URL and the count of requests it has received. An answer from it within
// a deadline shorter than the test proves that the caller cut its first
// attempt and tried again, without timing the call.
func HungFirstAttempt(t *testing.T, answer string) (string, *atomic.Int32) {
	t.Helper()
	hang := make(chan struct{})
	requests := new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(hang) })
	return srv.URL, requests
}
