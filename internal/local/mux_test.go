package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/stepmon/stepmon/internal/engine"
)

// TestMuxEdges checks the answers of paths and methods next to the
// routes: the API's paths are answered in its JSON error shape (never
// net/http's redirect to a cleaned path or its plain text), and a known
// path with another method is 405 with an Allow header.
func TestMuxEdges(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	tests := []struct {
		method, path string
		status       int
		kind         string // the JSON error's kind; "" for an answer that is not JSON
		allow        string
	}{
		{http.MethodGet, "/monitors//", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/monitors//x", http.StatusNotFound, "not_found", ""},
		{http.MethodDelete, "/monitors/x//", http.StatusNotFound, "not_found", ""},
		{http.MethodPost, "/monitors/x/./terminate", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/monitors/x/..", http.StatusNotFound, "not_found", ""},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodDelete, "/healthz", http.StatusMethodNotAllowed, "method_not_allowed", "GET, HEAD"},
		{http.MethodPost, "/ui/", http.StatusMethodNotAllowed, "", "GET, HEAD"},
		{http.MethodGet, "/healthz", http.StatusOK, "", ""},
		{http.MethodHead, "/healthz", http.StatusOK, "", ""},
		// The deployed API defines no HEAD methods: API Gateway answers
		// HEAD itself, as any method a resource lacks.
		{http.MethodHead, "/monitors", http.StatusMethodNotAllowed, "", "GET, POST"},
		{http.MethodHead, "/monitors/x", http.StatusMethodNotAllowed, "", "DELETE, GET"},
		// Methods are case-sensitive, in API Gateway as in HTTP.
		{"post", "/monitors", http.StatusMethodNotAllowed, "method_not_allowed", "GET, POST"},
		{"get", "/monitors/x", http.StatusMethodNotAllowed, "method_not_allowed", "DELETE, GET"},
		// Path parameters reach the functions undecoded, as API Gateway
		// passes them: an escaped slash is no route's slash (it was the
		// collection: a list, or a start through the status function),
		// an escaped letter no letter (it named monitor m1).
		{http.MethodGet, "/monitors/%2F", http.StatusBadRequest, "invalid", ""},
		{http.MethodPost, "/monitors/%2F", http.StatusMethodNotAllowed, "method_not_allowed", "DELETE, GET"},
		{http.MethodPost, "/monitors/%2F/terminate", http.StatusBadRequest, "invalid", ""},
		{http.MethodGet, "/monitors/a%2Fb", http.StatusBadRequest, "invalid", ""},
		{http.MethodGet, "/monitors/%6D1", http.StatusBadRequest, "invalid", ""},
		{http.MethodPost, "/monitors/m1/%74erminate", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/monitors/%2E%2E", http.StatusBadRequest, "invalid", ""},
		// An escape in the route's own name makes it no route.
		{http.MethodGet, "/%6Donitors/x", http.StatusNotFound, "not_found", ""},
		{http.MethodGet, "/%6Donitors", http.StatusNotFound, "not_found", ""},
		{http.MethodPost, "/%6Donitors/%2F", http.StatusNotFound, "not_found", ""},
		{http.MethodPost, "/monitors%2Fx/terminate", http.StatusNotFound, "not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The path as written: no client-side cleaning.
			req.URL.Opaque = "//" + req.URL.Host + tt.path
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			if tt.kind == "" || tt.method == http.MethodHead {
				return
			}
			a := call(t, tt.method, base+tt.path, "")
			if m := a.json(t); m["error"] != tt.kind || m["message"] == "" {
				t.Errorf("body %s, want error %q with a message", a.body, tt.kind)
			}
		})
	}
}

// /healthz is 200 ok while the store takes the engine's commits, and 503
// degraded, with the commits waiting and the store's error, while it
// fails them: monitors stuck behind a full disk or a damaged database
// otherwise look merely idle. The same goes for the status store's writes.
func TestHealthOf(t *testing.T) {
	const (
		full       = "TransientError: database or disk is full (13)"
		statusFull = "record: sqlitestore: record check f2: the database or the disk is full: database or disk is full (13)"
	)
	tests := []struct {
		name        string
		store       engine.StoreHealth
		undelivered int
		wantCode    int
		wantStatus  string
		wantStore   *storeHealth
		wantChanges *statusChangeHealth
		// writesFailing is the status store's failing writes, with
		// statusFull as the error.
		writesFailing   int
		wantStatusStore *statusStoreHealth
	}{
		{"store takes commits", engine.StoreHealth{}, 0, http.StatusOK, "ok", nil, nil, 0, nil},
		{"store fails commits", engine.StoreHealth{CommitsWaiting: 20, LastError: "database disk image is malformed (11)"}, 0,
			http.StatusServiceUnavailable, "degraded", &storeHealth{CommitsWaiting: 20, Error: "database disk image is malformed (11)"}, nil, 0, nil},
		{"status function fails ends", engine.StoreHealth{}, 3,
			http.StatusServiceUnavailable, "degraded", nil, &statusChangeHealth{Undelivered: 3, Error: full}, 0, nil},
		{"store fails resumes", engine.StoreHealth{ResumesWaiting: 3, LastError: "database is locked (5)"}, 0,
			http.StatusServiceUnavailable, "degraded", &storeHealth{ResumesWaiting: 3, Error: "database is locked (5)"}, nil, 0, nil},
		{"status store fails writes", engine.StoreHealth{}, 0,
			http.StatusServiceUnavailable, "degraded", nil, nil, 6, &statusStoreHealth{WritesFailing: 6, Error: statusFull}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noticeErr := ""
			if tt.undelivered > 0 {
				noticeErr = full
			}
			writeErr := ""
			if tt.writesFailing > 0 {
				writeErr = statusFull
			}
			code, h := healthOf(tt.store, tt.undelivered, noticeErr, tt.writesFailing, writeErr)
			if code != tt.wantCode || h.Status != tt.wantStatus || !reflect.DeepEqual(h.Store, tt.wantStore) || !reflect.DeepEqual(h.StatusChanges, tt.wantChanges) ||
				!reflect.DeepEqual(h.StatusStore, tt.wantStatusStore) {
				t.Errorf("healthOf(%+v, %d, %d) = %d, %+v; want %d, status %s, store %+v, status changes %+v, status store %+v",
					tt.store, tt.undelivered, tt.writesFailing, code, h, tt.wantCode, tt.wantStatus, tt.wantStore, tt.wantChanges, tt.wantStatusStore)
			}
		})
	}
}

// Every path under /monitors that is no route gets the same 404: the
// status function's, naming the method and path, whether the path has an
// empty, "." or ".." segment (which the ServeMux would redirect) or not;
// so does any other path with such a segment ("//monitors"), which the
// ServeMux would redirect, a POST too.
func TestNoRouteUnderMonitorsIsOneShape(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/monitors/x/TERMINATE"},
		{http.MethodGet, "/monitors/x/y/z"},
		{http.MethodGet, "/monitors//"},
		{http.MethodGet, "/monitors//x"},
		{http.MethodDelete, "/monitors/x//"},
		{http.MethodPost, "/monitors/x/./terminate"},
		{http.MethodGet, "/monitors/x/.."},
		{http.MethodPost, "//monitors"},
		{http.MethodGet, "/x/../monitors"},
		{http.MethodGet, "//"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = "//" + req.URL.Host + tt.path
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			want := "no route " + tt.method + " " + tt.path + "; see docs/api.md"
			if resp.StatusCode != http.StatusNotFound || body["error"] != "not_found" || body["message"] != want {
				t.Errorf("HTTP %d %v, want 404 not_found %q", resp.StatusCode, body, want)
			}
			if got := resp.Header.Get("x-amzn-ErrorType"); got != "" {
				t.Errorf("x-amzn-ErrorType %q, want none, as the status function answers", got)
			}
		})
	}
}

// TestMisdirectedStepFunctionsRequest: a Step Functions client given
// another path than the API's (the API Gateway routes' URL, the
// dashboard's) is told where the API is, in an error the SDK reads; a
// request without an operation is told what names one.
func TestMisdirectedStepFunctionsRequest(t *testing.T) {
	rt := newTestRuntime(t)
	host := strings.TrimPrefix(rt.URL(), "http://")
	for _, path := range []string{"/monitors", "/monitors/m1", "/ui/", "/healthz"} {
		t.Run(path, func(t *testing.T) {
			client := sfn.New(sfn.Options{
				Region:       localRegion,
				Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
				BaseEndpoint: aws.String(rt.URL() + path),
			})
			_, err := client.ListStateMachines(t.Context(), &sfn.ListStateMachinesInput{})
			var apiErr smithy.APIError
			want := "is not the Step Functions API, which is at POST / on this server: give the endpoint without a path (--endpoint-url http://" + host + ")"
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnknownOperationException" || !strings.Contains(apiErr.ErrorMessage(), want) {
				t.Errorf("ListStateMachines at %s: %v; want UnknownOperationException saying %q", path, err, want)
			}
		})
	}
	a := call(t, http.MethodPost, rt.URL()+"/", `{}`)
	if m := a.json(t); a.status != http.StatusBadRequest || m["__type"] != "com.amazon.coral.service#UnknownOperationException" ||
		!strings.Contains(fmt.Sprint(m["message"]), "the X-Amz-Target header names it (AWSStepFunctions.ListStateMachines, say)") {
		t.Errorf("POST / without X-Amz-Target: HTTP %d %v", a.status, m)
	}
}

// The root redirects to the dashboard, temporarily (a later version may
// serve something else there); POST /monitors/ is the start route, as
// API Gateway matches a trailing slash; /healthz is never cached.
func TestMuxRootStartAndHealthHeaders(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /: HTTP %d to %q, want 302 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
	}

	a := call(t, http.MethodPost, base+"/monitors/", `{"instanceId":"slash","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":1}`)
	wantStatus(t, a, http.StatusAccepted, "POST /monitors/")
	if id := a.json(t)["id"]; id != "slash" {
		t.Errorf("POST /monitors/ answered id %v, want slash", id)
	}

	resp, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc, ct := resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"); cc != "no-store" || ct != "application/json" {
		t.Errorf("/healthz: Cache-Control %q, Content-Type %q; want no-store and application/json", cc, ct)
	}
}

// /healthz gives the timers' lateness in milliseconds to the microsecond,
// the window's start in UTC, and the pause of the process in it.
func TestTimersOf(t *testing.T) {
	from := time.Date(2026, 12, 6, 7, 8, 0, 0, time.FixedZone("CET", 3600))
	got := timersOf(engine.TimerStats{Waiting: 7, Due: 2, Tasks: 3, LastMinute: engine.TimerLateness{
		From: from, To: from.Add(time.Minute), Resumed: 40,
		P50: 1234567 * time.Nanosecond, P99: 1250 * time.Millisecond, Max: 1500 * time.Nanosecond,
		Paused: 6200 * time.Millisecond, AfterPause: 3,
	}})
	want := timers{Waiting: 7, Due: 2, Tasks: 3, LastMinute: timerLateness{From: "2026-12-06T06:08:00Z", Resumed: 40,
		P50Ms: 1.235, P99Ms: 1250, MaxMs: 0.002, Late: true, PausedMs: 6200, AfterPause: 3}}
	if got != want {
		t.Errorf("timersOf = %+v, want %+v", got, want)
	}
}

// heapSink keeps TestHealthHeapIsLive's garbage from being optimised away.
var heapSink []byte

// /healthz's heapBytes is the heap the last collection found live, not the
// heap's objects with the garbage not yet collected: those swing by up to
// GOGC per cent between collections and would hide a leak's slow climb.
func TestHealthHeapIsLive(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	base := processNow().HeapBytes
	for range 32 {
		heapSink = make([]byte, 1<<20) // garbage at the next assignment
	}
	heapSink = nil
	if got := processNow().HeapBytes; got > base+16<<20 {
		t.Errorf("heapBytes %d after 32 MiB of garbage, %d before: it counts the garbage", got, base)
	}
	if base == 0 {
		t.Error("heapBytes 0 after a collection")
	}
}

func TestPathParams(t *testing.T) {
	for _, tt := range []struct {
		resource string
		want     []string
	}{
		{"/monitors", nil},
		{"/monitors/{id}", []string{"id"}},
		{"/monitors/{id}/terminate", []string{"id"}},
		{"/monitors/{id}/raiseEvent/{name}", []string{"id", "name"}},
	} {
		if got := pathParams(tt.resource); !slices.Equal(got, tt.want) {
			t.Errorf("pathParams(%q) = %q, want %q", tt.resource, got, tt.want)
		}
	}
}
