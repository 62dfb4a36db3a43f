package local

import (
	"encoding/json"
	"math"
	"net/http"
	"path"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/dashboard"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/httpgzip"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/sfnapi"
)

// compressMin is the smallest answer of the API routes the runtime gzips,
// in bytes: the deployed REST API's minimum compression size
// (infra.MinimumCompressionSize).
const compressMin = 1024

// textParams maps the query parameters the functions check as free text
// to that check, for the routes that take them (see proxy.checkText).
var textParams = map[string]func(string) error{"reason": monitor.CheckReason}

// pathParams returns the names of resource's path parameters, in order:
// "id" and "name" for "/monitors/{id}/raiseEvent/{name}".
func pathParams(resource string) []string {
	var names []string
	for seg := range strings.SplitSeq(resource, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			names = append(names, strings.TrimSuffix(name, "}"))
		}
	}
	return names
}

// mux routes the runtime's HTTP endpoints:
//
//	/monitors...   the API Gateway routes, through the start and status functions
//	POST /         the Step Functions API (awsJson1_0, X-Amz-Target)
//	/ui/           the dashboard
//	/healthz       liveness: 200 once the pending executions are re-armed
//
// behind guard, which refuses cross-site changes and DNS rebinding, and
// logRequests, which logs each request at Debug. The API routes and the
// Step Functions API gzip answers of compressMin bytes or more for clients
// that ask, as the deployed API does (the dashboard compresses its own),
// and take their large bodies from one budget (bodyBudget): a request
// that finds no room in time is throttled as the AWS service would.
func (r *Runtime) mux() http.Handler {
	mux := http.NewServeMux()
	fn := func(req *http.Request) string {
		// POST /monitors is the start function's route on AWS; the status
		// function serves the others.
		if req.Method == http.MethodPost && strings.TrimSuffix(req.URL.Path, "/") == "/monitors" {
			return StartFunction
		}
		return StatusFunction
	}
	// apiRoute serves an API route through its proxy, as the deployed
	// API does: gzipped answers, and large bodies within the budget.
	apiRoute := func(p *proxy) http.Handler {
		return budgeted(r.bodies, maxProxyBody, apiThrottled, httpgzip.Handler(p, compressMin))
	}
	// The API's routes, each as its resource: ServeMux's patterns write
	// path parameters as API Gateway's resources do.
	for _, resource := range apigw.Resources() {
		h := apiRoute(&proxy{invoke: r.funcs.Invoke, function: fn, resource: resource, params: pathParams(resource),
			texts: textParams, logger: r.log.With("component", "api")})
		mux.Handle(resource, h)
		// The path with one trailing slash, which API Gateway routes to
		// the same resource, with the same path parameters.
		mux.Handle(resource+"/{$}", h)
	}
	// Paths under /monitors/ that are no route: the API's own 404.
	mux.Handle("/monitors/", apiRoute(&proxy{invoke: r.funcs.Invoke, function: fn, resource: "/{proxy+}", logger: r.log.With("component", "api")}))

	mux.Handle("POST /{$}", budgeted(r.bodies, sfnapi.MaxBody, sfnapi.Throttled, httpgzip.Handler(r.sfnAPI, compressMin)))
	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler()))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, "/ui/", http.StatusFound)
	})
	// Any other path: the deployed API's answer to a route it does not
	// have (its NoRoute gateway response), not net/http's plain text.
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeGatewayAnswer(w, http.StatusNotFound, "not_found", "no such route")
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		writeGatewayAnswer(w, http.StatusMethodNotAllowed, "method_not_allowed", req.Method+" is not allowed on /healthz; use GET")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, req *http.Request) {
		undelivered, noticeErr := r.notifier.undelivered()
		failing, writeErr := r.statusHealth.writesFailing()
		code, h := healthOf(r.engine.StoreHealth(), undelivered, noticeErr, failing, writeErr)
		recovered, _ := r.Recovered()
		h.StateMachineArn, h.Recovered, h.Timers = r.smArn, recovered, timersOf(r.engine.TimerStats())
		h.Process = processNow()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(h)
	})
	return logRequests(r.log.With("component", "http"), guard(misdirectedSFN(uncleanPaths(asGatewayPaths(mux))), r.allowedHosts))
}

// asGatewayPaths hands the routes under /monitors their path as the client
// wrote it, percent-escapes undecoded, as API Gateway's REST API gives a
// proxy integration its path and path parameters: /monitors/%6D1 names
// the id "%6D1" (refused: not an id), not m1, /monitors/%2F the id "%2F",
// not the collection, which the ServeMux took it for, and /%6Donitors/m1
// no route. The ServeMux then sees the escaped text as the path, and its
// path values are that text's segments.
func asGatewayPaths(next http.Handler) http.Handler {
	under := func(p string) bool { return p == "/monitors" || strings.HasPrefix(p, "/monitors/") }
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := req.URL.EscapedPath()
		if p == req.URL.Path || !(under(p) || under(req.URL.Path)) {
			next.ServeHTTP(w, req)
			return
		}
		r2 := req.WithContext(req.Context())
		u := *req.URL
		u.Path, u.RawPath = p, ""
		r2.URL = &u
		next.ServeHTTP(w, r2)
	})
}

// misdirectedSFN answers a Step Functions request (one with an
// X-Amz-Target header) for any other path than "/" with where the API is
// (sfnapi.Misdirected): an AWS CLI given the API Gateway routes' URL
// (--endpoint-url http://127.0.0.1:8080/monitors) would otherwise get
// that route's answer to a body it cannot read.
func misdirectedSFN(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Header.Get("X-Amz-Target") != "" && req.URL.Path != "/" {
			sfnapi.Misdirected(w, req)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// uncleanPaths answers a request for a path with an empty, "." or ".."
// segment ("/monitors//x", "//monitors") as a path that is no route, as
// the status function answers any path under /monitors that is none
// (apigw.NoRoute): the ServeMux would redirect it to the cleaned path
// (a POST too) with an HTML body, which API Gateway never does. The
// dashboard's paths, under /ui/, are left to its own handler.
func uncleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := req.URL.EscapedPath()
		if !strings.HasPrefix(p, "/ui/") && cleanPath(p) != p {
			writeProxyResponse(w, apigw.NoRoute(req.Method, req.URL.Path))
			return
		}
		next.ServeHTTP(w, req)
	})
}

// cleanPath is p as the ServeMux cleans it: no empty, "." or ".."
// segments, a trailing slash kept.
func cleanPath(p string) string {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// health is the body of /healthz.
type health struct {
	Status          string       `json:"status"` // ok, or degraded while a store fails writes
	StateMachineArn string       `json:"stateMachineArn"`
	Recovered       int          `json:"recovered"` // executions re-armed at start-up
	Timers          timers       `json:"timers"`
	Process         process      `json:"process"`
	Store           *storeHealth `json:"store,omitempty"` // while it fails commits
	// While the status function fails to take executions' ends.
	StatusChanges *statusChangeHealth `json:"statusChanges,omitempty"`
	// While the status store fails the monitors' writes.
	StatusStore *statusStoreHealth `json:"statusStore,omitempty"`
}

// statusStoreHealth is, in /healthz, the monitors whose last write to the
// status store failed since the last write it took (statusHealth): their
// checks retry for up to about 38 minutes (statemachine.asl.json's
// Retry of TransientError), then fail.
type statusStoreHealth struct {
	WritesFailing int    `json:"writesFailing"`
	Error         string `json:"error"`
}

// statusChangeHealth is, in /healthz, the executions' ends (status
// change events) the status function failed to take, retried until it
// does (notifier.undelivered).
type statusChangeHealth struct {
	Undelivered int    `json:"undelivered"`
	Error       string `json:"error"`
}

// storeHealth is engine.StoreHealth in /healthz.
type storeHealth struct {
	CommitsWaiting int    `json:"commitsWaiting"`
	ResumesWaiting int    `json:"resumesWaiting,omitempty"`
	Error          string `json:"error"`
}

// healthOf returns the status code and the status of /healthz: 200 ok,
// or 503 degraded while the engine's store fails commits or the reads
// that resume executions (a full disk, a damaged or locked database
// file), when the monitors waiting on it would otherwise look merely idle,
// or while executions' ends wait for the status function to take them
// (undelivered, with its last error), when their monitors' records still
// say Running, or while the status store fails the monitors' writes
// (writesFailing monitors, with its last error), when their checks fail
// for good once the state machine's retries run out.
func healthOf(s engine.StoreHealth, undelivered int, noticeErr string, writesFailing int, writeErr string) (int, health) {
	if s.CommitsWaiting == 0 && s.ResumesWaiting == 0 && undelivered == 0 && writesFailing == 0 {
		return http.StatusOK, health{Status: "ok"}
	}
	h := health{Status: "degraded"}
	if s.CommitsWaiting > 0 || s.ResumesWaiting > 0 {
		h.Store = &storeHealth{CommitsWaiting: s.CommitsWaiting, ResumesWaiting: s.ResumesWaiting, Error: s.LastError}
	}
	if undelivered > 0 {
		h.StatusChanges = &statusChangeHealth{Undelivered: undelivered, Error: noticeErr}
	}
	if writesFailing > 0 {
		h.StatusStore = &statusStoreHealth{WritesFailing: writesFailing, Error: writeErr}
	}
	return http.StatusServiceUnavailable, h
}

// process is, in /healthz, what a leak would grow: the goroutines (a
// waiting monitor holds none, so they follow the work in flight, not the
// monitors) and the Go heap that the last garbage collection found live
// (about 1 KiB per waiting monitor; the heap's objects would count the
// garbage not yet swept too, up to 3 times as much with GOGC 200). Both are
// read without stopping the world.
type process struct {
	Goroutines int    `json:"goroutines"`
	HeapBytes  uint64 `json:"heapBytes"`
}

// heapLive is the runtime metric of process.HeapBytes.
const heapLive = "/gc/heap/live:bytes"

func processNow() process {
	s := []metrics.Sample{{Name: heapLive}}
	metrics.Read(s)
	p := process{Goroutines: runtime.NumGoroutine()}
	if s[0].Value.Kind() == metrics.KindUint64 {
		p.HeapBytes = s[0].Value.Uint64()
	}
	return p
}

// timers is engine.TimerStats in /healthz: whether the engine keeps up
// with the timers falling due.
type timers struct {
	Waiting    int           `json:"waiting"`
	Due        int           `json:"due"`
	Tasks      int           `json:"tasks"`
	LastMinute timerLateness `json:"lastMinute"`
}

type timerLateness struct {
	From       string  `json:"from"`
	Resumed    int     `json:"resumed"`
	P50Ms      float64 `json:"p50Ms"`
	P99Ms      float64 `json:"p99Ms"`
	MaxMs      float64 `json:"maxMs"`
	Late       bool    `json:"late"` // engine.TimerLateness.Late
	PausedMs   float64 `json:"pausedMs,omitempty"`
	AfterPause int     `json:"afterPause,omitempty"`
}

func timersOf(s engine.TimerStats) timers {
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }
	m := s.LastMinute
	return timers{Waiting: s.Waiting, Due: s.Due, Tasks: s.Tasks, LastMinute: timerLateness{
		From: m.From.UTC().Format(time.RFC3339), Resumed: m.Resumed,
		P50Ms: ms(m.P50), P99Ms: ms(m.P99), MaxMs: ms(m.Max), Late: m.Late(),
		PausedMs: ms(m.Paused), AfterPause: m.AfterPause,
	}}
}
