package local

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/stepmon/stepmon/internal/monitor"
)

// bodyBudget bounds the request-body bytes the API server holds at once.
// Each API request may carry up to maxProxyBody (10 MiB, API Gateway's
// limit), and a request holds its body, and the proxy event built from
// it, until the function has answered: without a bound, a few hundred
// concurrent large bodies take gigabytes. On AWS each function instance
// holds one request and API Gateway throttles the rest; here, a request
// that would take the bodies in flight past the budget waits for room,
// in turn, for at most wait, and is then refused as the service throttles
// one (budgeted's refuse: the API's 429, Step Functions'
// ThrottlingException).
//
// Small bodies, those whose Content-Length says at most smallBody bytes
// and that are not compressed, take no part: the API's own requests (a
// start's spec is at most monitor.MaxBodyBytes) never wait.
type bodyBudget struct {
	sem  *semaphore.Weighted
	size int64
	wait time.Duration
}

// Defaults of the API server's body budget: room for six bodies of the
// largest size at once, and the wait before a 429.
const (
	bodyBudgetBytes = 64 << 20
	bodyBudgetWait  = 10 * time.Second
	smallBody       = 256 << 10
)

func newBodyBudget(size int64, wait time.Duration) *bodyBudget {
	return &bodyBudget{sem: semaphore.NewWeighted(size), size: size, wait: wait}
}

// errBodyBudget is a request that found no room in the budget in time.
var errBodyBudget = errors.New("too many large request bodies in flight")

// reserve takes room for r's body, at most limit bytes (the route's
// limit, which bounds a body also as decompressed), and returns the
// function that gives it back. It fails with errBodyBudget when no room
// was made within b.wait, and with the request's context error when the
// client went away while it waited.
func (b *bodyBudget) reserve(r *http.Request, limit int64) (release func(), err error) {
	n := bodyWeight(r, limit)
	if n == 0 {
		return func() {}, nil
	}
	n = min(n, b.size)
	ctx, cancel := context.WithTimeout(r.Context(), b.wait)
	defer cancel()
	if err := b.sem.Acquire(ctx, n); err != nil {
		if r.Context().Err() != nil {
			return nil, r.Context().Err()
		}
		return nil, errBodyBudget
	}
	return func() { b.sem.Release(n) }, nil
}

// bodyWeight is the room r's body takes in the budget: 0 for a small
// body, its length for a larger one, and limit when its length is not
// known in advance (chunked) or it is compressed (a small body may
// unpack to limit).
func bodyWeight(r *http.Request, limit int64) int64 {
	switch {
	case r.Body == nil || r.Body == http.NoBody:
		return 0
	case r.Header.Get("Content-Encoding") != "" || r.ContentLength < 0:
		return limit
	case r.ContentLength <= smallBody:
		return 0
	}
	return min(r.ContentLength, limit)
}

// budgeted serves h with the room for each request's body, at most limit
// bytes, taken from b; a request that finds none in time gets refuse's
// answer. A request whose client went away while it waited gets none.
func budgeted(b *bodyBudget, limit int64, refuse http.HandlerFunc, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := b.reserve(r, limit)
		switch {
		case errors.Is(err, errBodyBudget):
			// Read what the client sends, unkept, so that one that
			// writes its whole body before it reads the answer gets
			// it: with more than 256 KiB unread, the server would close
			// the connection under its writes instead. A client that
			// waits for "100 Continue" has sent nothing and need not.
			if !strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
				io.Copy(io.Discard, io.LimitReader(r.Body, limit))
			}
			refuse(w, r)
			return
		case err != nil:
			return
		}
		defer release()
		h.ServeHTTP(w, r)
	})
}

// apiThrottled is the API's answer to a request refused for want of
// room: API Gateway's throttled answer as the deployed API configures it
// (infra's THROTTLED gateway response).
func apiThrottled(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", "2")
	writeGatewayAnswer(w, http.StatusTooManyRequests, string(monitor.KindRateLimited), "too many requests; retry after Retry-After seconds")
}
