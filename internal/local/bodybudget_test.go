package local

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBodyWeight(t *testing.T) {
	const limit = 10 << 20
	for _, tc := range []struct {
		name     string
		length   int64 // the request's ContentLength; -1 unknown (chunked)
		encoding string
		noBody   bool
		want     int64
	}{
		{"no body", 0, "", true, 0},
		{"a start's spec", 2 << 10, "", false, 0},
		{"at the small size", smallBody, "", false, 0},
		{"past the small size", smallBody + 1, "", false, smallBody + 1},
		{"at the limit", limit, "", false, limit},
		{"past the limit", limit + 1, "", false, limit},
		{"chunked", -1, "", false, limit},
		{"small but compressed", 100, "gzip", false, limit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/monitors", strings.NewReader("{}"))
			r.ContentLength = tc.length
			if tc.noBody {
				r.Body = http.NoBody
			}
			if tc.encoding != "" {
				r.Header.Set("Content-Encoding", tc.encoding)
			}
			if got := bodyWeight(r, limit); got != tc.want {
				t.Errorf("bodyWeight = %d, want %d", got, tc.want)
			}
		})
	}
}

// largeRequest is a request whose body takes n bytes of the budget.
func largeRequest(ctx context.Context, n int64) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/monitors", strings.NewReader("{}")).WithContext(ctx)
	r.ContentLength = n
	return r
}

// A request that finds the budget taken waits for room, and is throttled
// when none is made in time; a small body never waits; room given back
// lets the next large body in.
func TestBudgetedThrottlesLargeBodies(t *testing.T) {
	const size = 1 << 20
	b := newBodyBudget(size, 50*time.Millisecond)
	entered, hold := make(chan struct{}, 4), make(chan struct{})
	h := budgeted(b, 10<<20, apiThrottled, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-hold
		w.WriteHeader(http.StatusAccepted)
	}))

	first := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(first, largeRequest(context.Background(), size))
	}()
	<-entered

	// The budget is taken: a large body waits, then is throttled, as API
	// Gateway throttles, without reaching the handler.
	second := httptest.NewRecorder()
	h.ServeHTTP(second, largeRequest(context.Background(), smallBody+1))
	if second.Code != http.StatusTooManyRequests || second.Header().Get("Retry-After") != "2" ||
		!strings.Contains(second.Body.String(), `"error":"rate_limited"`) {
		t.Errorf("a large body past the budget: %d, Retry-After %q, %s; want 429 rate_limited, Retry-After 2",
			second.Code, second.Header().Get("Retry-After"), second.Body)
	}

	// A small body takes no room: it reaches the handler at once.
	small := httptest.NewRecorder()
	smallDone := make(chan struct{})
	go func() {
		defer close(smallDone)
		h.ServeHTTP(small, largeRequest(context.Background(), 2<<10))
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("a small body did not reach the handler while the budget was taken")
	}

	// A client that goes away while it waits is not answered, and its
	// request never reaches the handler.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	left := httptest.NewRecorder()
	h.ServeHTTP(left, largeRequest(gone, size))
	if left.Code != http.StatusOK || left.Body.Len() != 0 {
		t.Errorf("a request whose client went away: %d %q; want nothing written", left.Code, left.Body)
	}

	close(hold)
	<-done
	<-smallDone
	if first.Code != http.StatusAccepted || small.Code != http.StatusAccepted {
		t.Fatalf("requests let in: %d and %d, want 202", first.Code, small.Code)
	}

	// The room given back lets the next large body in.
	entered2 := make(chan struct{}, 1)
	h = budgeted(b, 10<<20, apiThrottled, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered2 <- struct{}{}
		w.WriteHeader(http.StatusAccepted)
	}))
	third := httptest.NewRecorder()
	h.ServeHTTP(third, largeRequest(context.Background(), size))
	if third.Code != http.StatusAccepted {
		t.Errorf("a large body after the room was given back: %d %s, want 202", third.Code, third.Body)
	}
}

// The runtime's API routes and its Step Functions API share one budget:
// with it taken, a large body is throttled as each service throttles (API
// Gateway's 429 rate_limited; Step Functions' ThrottlingException, which
// the SDKs retry), while a start of an ordinary size is served.
func TestRuntimeThrottlesLargeBodies(t *testing.T) {
	rt := newTestRuntimeThen(t, Config{}, func(rt *Runtime) {
		rt.bodies.wait = 20 * time.Millisecond
		if !rt.bodies.sem.TryAcquire(rt.bodies.size) {
			t.Fatal("the budget of a new runtime is not free")
		}
	})
	large := `{"instanceId":"big","target":{"type":"simulated"},"pad":"` + strings.Repeat("x", 2*smallBody) + `"}`
	a := call(t, http.MethodPost, rt.URL()+"/monitors", large)
	if a.status != http.StatusTooManyRequests || a.json(t)["error"] != "rate_limited" || a.header.Get("Retry-After") != "2" {
		t.Errorf("a large start with the budget taken: %d %s, Retry-After %q; want 429 rate_limited, Retry-After 2",
			a.status, a.body, a.header.Get("Retry-After"))
	}

	req, err := http.NewRequest(http.MethodPost, rt.URL()+"/", io.NopCloser(strings.NewReader(`{"maxResults":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1 // chunked: its size is not known before it is read
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "#ThrottlingException") {
		t.Errorf("a chunked Step Functions request with the budget taken: %d %s; want 400 ThrottlingException", resp.StatusCode, body)
	}

	ok := call(t, http.MethodPost, rt.URL()+"/monitors", `{"instanceId":"small","target":{"type":"simulated"}}`)
	wantStatus(t, ok, http.StatusAccepted, "a start of an ordinary size with the budget taken")

	rt.bodies.sem.Release(rt.bodies.size)
	a = call(t, http.MethodPost, rt.URL()+"/monitors", large)
	if a.status == http.StatusTooManyRequests {
		t.Errorf("a large start with the budget free: %d %s; want the function's answer", a.status, a.body)
	}
}

// A client that writes its whole body before it reads the answer, as
// Python's http.client does, gets the throttled answer, not a connection
// closed under its writes; a client that waits for "100 Continue" gets it
// without sending its body.
func TestBudgetedAnswersAClientThatWritesFirst(t *testing.T) {
	const size = 1 << 20
	b := newBodyBudget(size, 20*time.Millisecond)
	if !b.sem.TryAcquire(size) {
		t.Fatal("a new budget is not free")
	}
	srv := httptest.NewServer(budgeted(b, 10<<20, apiThrottled, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request past the budget reached the handler")
	})))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	body := strings.Repeat("x", 9<<20)

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	req := fmt.Sprintf("POST /monitors HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, len(body))
	if _, err := io.WriteString(conn, req+body); err != nil {
		t.Fatalf("writing the whole request: %v; want it read, then answered", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("answer %d, want 429", resp.StatusCode)
	}

	// Expect: 100-continue: answered before the body is sent.
	conn2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	conn2.SetDeadline(time.Now().Add(30 * time.Second))
	req = fmt.Sprintf("POST /monitors HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", addr, len(body))
	if _, err := io.WriteString(conn2, req); err != nil {
		t.Fatal(err)
	}
	resp, err = http.ReadResponse(bufio.NewReader(conn2), nil)
	if err != nil {
		t.Fatalf("reading the answer to a request that waits for 100 Continue: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("answer to a request that waits for 100 Continue: %d, want 429", resp.StatusCode)
	}
}
