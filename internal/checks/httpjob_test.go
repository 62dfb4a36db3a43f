package checks

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
)

func localHTTPJob() *HTTPJob {
	return NewHTTPJob(HTTPJobOptions{Client: egress.New(egress.Options{AllowPrivate: true}).Client(0)})
}

func httpTarget(url string) monitor.Target {
	return monitor.Target{Type: monitor.TargetHTTP, URL: url, Method: "GET", StatusPath: "$.status",
		DoneValues: []string{"Completed"}, FailedValues: []string{"Failed"}, RequestTimeoutSeconds: 5}
}

func TestHTTPJobStatuses(t *testing.T) {
	big := `{"status":"Running","pad":"` + strings.Repeat("x", 2<<20) + `"}`
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		mod    func(*monitor.Target)
		want   string
		done   bool
		detail string
	}{
		{name: "running", body: `{"status":"Running"}`, want: monitor.StatusRunning, detail: `status "Running"`},
		// RFC 8259 lets a parser ignore a byte order mark, and some
		// servers (.NET's, a file served as it was saved) send one.
		{name: "byte order mark", body: "\ufeff" + `{"status":"Completed"}`, want: monitor.StatusCompleted, done: true},
		{name: "any other value is running", body: `{"status":"Queued"}`, want: monitor.StatusRunning},
		{name: "completed", body: `{"status":"Completed","id":1}`, want: monitor.StatusCompleted, done: true},
		{name: "failed, case-insensitive", body: `{"status":"FAILED"}`, want: monitor.StatusFailed, done: true},
		{name: "nested path", body: `{"job":{"state":"done"}}`, want: monitor.StatusCompleted, done: true,
			mod: func(t *monitor.Target) { t.StatusPath = "$.job.state"; t.DoneValues = []string{"done"} }},
		{name: "array filter", body: `{"steps":[{"name":"a","state":"ok"},{"name":"b","state":"error"}]}`, want: monitor.StatusFailed, done: true,
			mod: func(t *monitor.Target) {
				t.StatusPath = `$.steps[?@.name=="b"].state`
				t.FailedValues = []string{"error"}
			}},
		{name: "numeric status", body: `{"code":2}`, want: monitor.StatusCompleted, done: true,
			mod: func(t *monitor.Target) { t.StatusPath = "$.code"; t.DoneValues = []string{"2"} }},
		{name: "boolean status", body: `{"finished":true}`, want: monitor.StatusCompleted, done: true,
			mod: func(t *monitor.Target) { t.StatusPath = "$.finished"; t.DoneValues = []string{"true"} }},
		{name: "unexpected value with running values", body: `{"status":"Exploded"}`, want: monitor.StatusUnknown, detail: `unexpected status "Exploded"`,
			mod: func(t *monitor.Target) { t.RunningValues = []string{"Running", "Queued"} }},
		{name: "listed running value", body: `{"status":"Queued"}`, want: monitor.StatusRunning,
			mod: func(t *monitor.Target) { t.RunningValues = []string{"Running", "Queued"} }},
		{name: "missing field", body: `{"state":"Running"}`, want: monitor.StatusUnknown, detail: "status field $.status missing"},
		{name: "object field", body: `{"status":{"a":1}}`, want: monitor.StatusUnknown, detail: "not a string"},
		{name: "not JSON", body: `<html>OK</html>`, header: map[string]string{"Content-Type": "text/html"}, want: monitor.StatusUnknown, detail: "not JSON (Content-Type text/html)"},
		{name: "trailing garbage", body: `{"status":"Running"} {}`, want: monitor.StatusUnknown, detail: "not JSON"},
		{name: "trailing brace", body: `{"status":"Running"}}`, want: monitor.StatusUnknown, detail: "not JSON"},
		{name: "trailing bracket", body: `{"status":"Running"}]`, want: monitor.StatusUnknown, detail: "not JSON"},
		{name: "trailing newline", body: "{\"status\":\"Running\"}\r\n", want: monitor.StatusRunning},
		{name: "empty body", body: ``, want: monitor.StatusUnknown, detail: "empty body"},
		{name: "huge body", body: big, want: monitor.StatusUnknown, detail: "larger than 1 MiB"},
		{name: "server error", status: 503, body: `{"status":"Completed"}`, want: monitor.StatusError, detail: "HTTP 503"},
		{name: "not found", status: 404, body: `nope`, want: monitor.StatusError, detail: "HTTP 404"},
	}
	job := localHTTPJob()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			target := httpTarget(srv.URL + "/jobs/1")
			if tt.mod != nil {
				tt.mod(&target)
			}
			obs, err := job.Check(context.Background(), monitor.CheckRequest{Target: target, Number: 1})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if obs.Status != tt.want || obs.Done != tt.done {
				t.Errorf("Status %q Done %v (Detail %q), want %q %v", obs.Status, obs.Done, obs.Detail, tt.want, tt.done)
			}
			if !strings.Contains(obs.Detail, tt.detail) {
				t.Errorf("Detail = %q, want it to contain %q", obs.Detail, tt.detail)
			}
		})
	}
}

func TestHTTPJobRequest(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.Write([]byte(`{"status":"Running"}`))
	}))
	defer srv.Close()
	target := httpTarget(srv.URL + "/jobs/7?x=1")
	target.Method = "POST"
	target.Headers = map[string]string{"X-Api-Key": "k1", "Accept": "application/vnd.jobs+json"}
	if _, err := localHTTPJob().Check(context.Background(), monitor.CheckRequest{Target: target}); err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.URL.String() != "/jobs/7?x=1" || got.Header.Get("X-Api-Key") != "k1" ||
		got.Header.Get("Accept") != "application/vnd.jobs+json" || got.Header.Get("User-Agent") != "stepmon" {
		t.Errorf("request = %s %s %v", got.Method, got.URL, got.Header)
	}
}

// User-Agent and Accept have defaults; a target's own value wins (a job
// API behind a gateway may require a registered User-Agent).
func TestHTTPJobDefaultHeaders(t *testing.T) {
	tests := []struct {
		name          string
		headers       map[string]string
		wantUA, wantA string
	}{
		{"defaults", nil, "stepmon", "application/json"},
		{"target's User-Agent", map[string]string{"User-Agent": "my-client/1.0"}, "my-client/1.0", "application/json"},
		{"target's user-agent in lower case", map[string]string{"user-agent": "my-client/1.0"}, "my-client/1.0", "application/json"},
		{"target's Accept", map[string]string{"Accept": "application/vnd.jobs+json"}, "stepmon", "application/vnd.jobs+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ua, accept string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ua, accept = r.Header.Get("User-Agent"), r.Header.Get("Accept")
				w.Write([]byte(`{"status":"Running"}`))
			}))
			defer srv.Close()
			target := httpTarget(srv.URL)
			target.Headers = tt.headers
			if _, err := localHTTPJob().Check(context.Background(), monitor.CheckRequest{Target: target, Number: 1}); err != nil {
				t.Fatal(err)
			}
			if ua != tt.wantUA || accept != tt.wantA {
				t.Errorf("User-Agent %q, Accept %q; want %q, %q", ua, accept, tt.wantUA, tt.wantA)
			}
		})
	}
}

// TestHTTPJobGzipAnswerDespiteTargetAcceptEncoding: a monitor started
// before Accept-Encoding was refused in target.headers still gets its
// gzip answer decompressed; given, the header stopped net/http doing it,
// and every check read the job's status as an answer that is not JSON.
func TestHTTPJobGzipAnswerDespiteTargetAcceptEncoding(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Write([]byte(`{"status":"Completed"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write([]byte(`{"status":"Completed"}`))
		zw.Close()
	}))
	defer srv.Close()
	target := httpTarget(srv.URL)
	target.Headers = map[string]string{"Accept-Encoding": "gzip, deflate, br"}
	obs, err := localHTTPJob().Check(context.Background(), monitor.CheckRequest{Target: target, Number: 1})
	if err != nil {
		t.Fatal(err)
	}
	if obs.Status != monitor.StatusCompleted {
		t.Errorf("status %q (%s), want %q", obs.Status, obs.Detail, monitor.StatusCompleted)
	}
}

// A 429 or 503's Retry-After pushes the next check back by MaxRetryAfter
// at most: a maintenance page naming a day (or a year) must not keep the
// monitor from seeing the job end until it times out.
func TestHTTPJobRetryAfterBounded(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	job := NewHTTPJob(HTTPJobOptions{
		Client: egress.New(egress.Options{AllowPrivate: true}).Client(0),
		Clock:  monitor.ClockFunc(func() time.Time { return now }),
	})
	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       time.Time
	}{
		{"seconds", http.StatusTooManyRequests, "90", now.Add(90 * time.Second)},
		{"an hour", http.StatusServiceUnavailable, "3600", now.Add(MaxRetryAfter)},
		{"a day", http.StatusServiceUnavailable, "86400", now.Add(MaxRetryAfter)},
		{"a year", http.StatusServiceUnavailable, "31536000", now.Add(MaxRetryAfter)},
		{"a date a week ahead", http.StatusTooManyRequests, now.Add(7 * 24 * time.Hour).Format(http.TimeFormat), now.Add(MaxRetryAfter)},
		{"a date ten minutes ahead", http.StatusTooManyRequests, now.Add(10 * time.Minute).Format(http.TimeFormat), now.Add(10 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tt.retryAfter)
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			obs, err := job.Check(context.Background(), monitor.CheckRequest{Target: httpTarget(srv.URL), Number: 1})
			if err != nil || obs.Status != monitor.StatusError || !obs.NotBefore.Equal(tt.want) {
				t.Errorf("= %+v, %v; want Error with NotBefore %s", obs, err, tt.want)
			}
			if want := "retry after " + tt.want.Format(time.RFC3339); !strings.Contains(obs.Detail, want) {
				t.Errorf("detail %q does not say %q", obs.Detail, want)
			}
		})
	}
}

func TestHTTPJobFaults(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	job := NewHTTPJob(HTTPJobOptions{
		Client: egress.New(egress.Options{AllowPrivate: true}).Client(0),
		Clock:  monitor.ClockFunc(func() time.Time { return now }),
	})

	t.Run("timeout", func(t *testing.T) {
		gaveUp := make(chan struct{}, 1) // the client cancelled the request
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
				gaveUp <- struct{}{}
			case <-time.After(5 * time.Second): // an answer, too late
			}
		}))
		defer srv.Close()
		target := httpTarget(srv.URL)
		target.RequestTimeoutSeconds = 1
		obs, err := job.Check(context.Background(), monitor.CheckRequest{Target: target})
		if err != nil {
			t.Fatal(err)
		}
		if obs.Status != monitor.StatusError || !strings.Contains(obs.Detail, "no answer within 1s") {
			t.Errorf("Status %q Detail %q", obs.Status, obs.Detail)
		}
		select {
		case <-gaveUp:
		case <-time.After(10 * time.Second):
			t.Error("the target never saw the request cancelled")
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		obs, err := job.Check(context.Background(), monitor.CheckRequest{Target: httpTarget("http://" + addr + "/")})
		if err != nil || obs.Status != monitor.StatusError || !strings.Contains(obs.Detail, "request failed") {
			t.Errorf("= %+v, %v", obs, err)
		}
	})

	t.Run("429 with Retry-After", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "90")
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		defer srv.Close()
		obs, err := job.Check(context.Background(), monitor.CheckRequest{Target: httpTarget(srv.URL)})
		if err != nil || obs.Status != monitor.StatusError || !obs.NotBefore.Equal(now.Add(90*time.Second)) {
			t.Errorf("= %+v, %v; want Error with NotBefore now+90s", obs, err)
		}
	})

	t.Run("cancelled invocation", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := job.Check(ctx, monitor.CheckRequest{Target: httpTarget(srv.URL)})
		var te *monitor.TransientError
		if !errors.As(err, &te) {
			t.Errorf("err = %v, want *monitor.TransientError", err)
		}
	})

	// A path that does not parse, or (from a record made before the start
	// refused it) one whose evaluation is not linear, fails the monitor
	// before any request: $..[?@..[?@..*]] held a CPU for minutes over a
	// kilobyte of nested arrays, past every timeout.
	for _, p := range []string{"$[?", "$..[?@..[?@..*]]"} {
		t.Run("bad status path "+p, func(t *testing.T) {
			target := httpTarget("http://127.0.0.1:1/")
			target.StatusPath = p
			_, err := job.Check(context.Background(), monitor.CheckRequest{Target: target})
			var pe *monitor.PermanentError
			if !errors.As(err, &pe) || !pe.Input {
				t.Errorf("err = %#v, want *monitor.PermanentError blaming the monitor's input", err)
			}
		})
	}
}

func TestHTTPJobRefusesPrivateTargets(t *testing.T) {
	var conns atomic.Int64
	private := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"Completed"}`))
	}))
	private.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	private.Start()
	defer private.Close()

	strict := NewHTTPJob(HTTPJobOptions{}) // the AWS configuration
	_, port, _ := net.SplitHostPort(private.Listener.Addr().String())
	tests := []struct{ url, reason string }{
		{"http://169.254.169.254/latest/meta-data/", "link-local address (169.254.0.0/16, includes the instance metadata service)"},
		{"http://10.0.0.1/jobs/1", "private address (10.0.0.0/8)"},
		{private.URL + "/jobs/1", "loopback"},
		{"http://localhost:" + port + "/jobs/1", "loopback"},
		{"http://[::1]:" + port + "/", "loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := strict.Check(context.Background(), monitor.CheckRequest{Target: httpTarget(tt.url)})
			var pe *monitor.PermanentError
			if !errors.As(err, &pe) || err != error(pe) || !pe.Input {
				t.Fatalf("err = %#v, want an unwrapped *monitor.PermanentError blaming the monitor's input", err)
			}
			if !strings.Contains(pe.Message, tt.reason) || !strings.Contains(pe.Message, tt.url) {
				t.Errorf("message = %q, want the URL and %q", pe.Message, tt.reason)
			}
		})
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the loopback target accepted %d connections, want 0", n)
	}

	t.Run("redirect to metadata", func(t *testing.T) {
		public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusFound)
		}))
		defer public.Close()
		job := NewHTTPJob(HTTPJobOptions{Client: egress.New(egress.Options{
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, // stands for a public address
		}).Client(0)})
		_, err := job.Check(context.Background(), monitor.CheckRequest{Target: httpTarget(public.URL)})
		var pe *monitor.PermanentError
		if !errors.As(err, &pe) || !strings.Contains(pe.Message, "169.254.169.254") {
			t.Fatalf("err = %v, want a refusal naming 169.254.169.254", err)
		}
	})
}

func TestHTTPJobDropsHeadersOnCrossHostRedirect(t *testing.T) {
	var seen, referer atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("X-Api-Key"))
		referer.Store(r.Header.Get("Referer"))
		w.Write([]byte(`{"status":"Running"}`))
	}))
	defer other.Close()
	_, port, _ := net.SplitHostPort(other.Listener.Addr().String())
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+port+"/", http.StatusFound)
	}))
	defer first.Close()
	// Nor does the URL go along as the Referer, which Go's client adds:
	// its query may hold a token too. With or without headers.
	for _, headers := range []map[string]string{{"X-Api-Key": "secret"}, nil} {
		target := httpTarget(first.URL + "/job?token=s3cret")
		target.Headers = headers
		obs, err := localHTTPJob().Check(context.Background(), monitor.CheckRequest{Target: target})
		if err != nil || obs.Status != monitor.StatusRunning {
			t.Fatalf("= %+v, %v", obs, err)
		}
		if v := seen.Load(); v != "" {
			t.Errorf("redirect target saw X-Api-Key %q, want none", v)
		}
		if v := referer.Load(); v != "" {
			t.Errorf("redirect target saw Referer %q, want none", v)
		}
	}
}

// A target that redirects to itself is given up on after 10 redirects,
// as net/http does, also when the client NewHTTPJob was given has no
// redirect policy of its own and the target has headers (whose redirect
// policy clientFor installs): otherwise the check would follow the loop
// until its request timeout, asking the target all the while.
func TestHTTPJobRedirectLoopStops(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
	}{
		{"without headers", nil},
		{"with headers", map[string]string{"X-Api-Key": "key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				http.Redirect(w, r, "/loop", http.StatusFound)
			}))
			defer srv.Close()
			target := httpTarget(srv.URL + "/loop")
			target.Headers = tc.headers
			target.RequestTimeoutSeconds = 2
			obs, err := NewHTTPJob(HTTPJobOptions{Client: &http.Client{}}).Check(context.Background(), monitor.CheckRequest{Target: target})
			if err != nil {
				t.Fatal(err)
			}
			if obs.Status != monitor.StatusError || !strings.Contains(obs.Detail, "stopped after 10 redirects") {
				t.Errorf("got status %q, detail %q; want %q, stopped after 10 redirects", obs.Status, obs.Detail, monitor.StatusError)
			}
			if got := requests.Load(); got != 10 {
				t.Errorf("got %d requests, want 10", got)
			}
		})
	}
}

// An answer nested deeper than MaxAnswerDepth is not read: a status path's
// deep comparisons ($..[?@==@]) cost the answer's size times its depth,
// 42 s for 430 KB of nested arrays.
func TestHTTPJobRefusesDeepAnswers(t *testing.T) {
	for _, tt := range []struct {
		depth int
		want  string
	}{{MaxAnswerDepth, monitor.StatusRunning}, {MaxAnswerDepth + 1, monitor.StatusUnknown}} {
		body := strings.Repeat(`{"a":`, tt.depth-1) + `{"status":"Running"}` + strings.Repeat("}", tt.depth-1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
		target := httpTarget(srv.URL)
		target.StatusPath = "$..status"
		obs, err := localHTTPJob().Check(context.Background(), monitor.CheckRequest{Target: target})
		srv.Close()
		if err != nil || obs.Status != tt.want {
			t.Errorf("answer nested %d deep: %+v, %v; want %s", tt.depth, obs, err, tt.want)
		}
		if tt.want == monitor.StatusUnknown && !strings.Contains(obs.Detail, "nested deeper than") {
			t.Errorf("detail %q does not say why", obs.Detail)
		}
	}
}

func TestSimulated(t *testing.T) {
	tests := []struct {
		after   int
		outcome string
		number  int
		want    string
		done    bool
	}{
		{4, "", 1, monitor.StatusRunning, false},
		{4, "", 3, monitor.StatusRunning, false},
		{4, "", 4, monitor.StatusCompleted, true},
		{4, monitor.StatusFailed, 4, monitor.StatusFailed, true},
		{1, monitor.StatusCompleted, 1, monitor.StatusCompleted, true},
		{2, "", 5, monitor.StatusCompleted, true},
	}
	for _, tt := range tests {
		obs, err := Simulated{}.Check(context.Background(), monitor.CheckRequest{Number: tt.number,
			Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: tt.after, Outcome: tt.outcome}})
		if err != nil || obs.Status != tt.want || obs.Done != tt.done {
			t.Errorf("after %d outcome %q check %d = %q %v %v, want %q %v", tt.after, tt.outcome, tt.number, obs.Status, obs.Done, err, tt.want, tt.done)
		}
	}
}

// The text a check leaves (its detail, or the message of an error that
// becomes the monitor's failure detail) never holds the target URL's query,
// fragment or user information, nor those of a URL the target sent back.
func TestHTTPJobDetailHidesURLSecrets(t *testing.T) {
	const secret = "s3cr3t"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bad-location":
			w.Header().Set("Location", "http://user:"+secret+"@example.com/%zz?token="+secret)
			w.WriteHeader(http.StatusFound)
		case "/bad-relative-location":
			w.Header().Set("Location", "/%zz?X-Amz-Signature="+secret)
			w.WriteHeader(http.StatusFound)
		case "/bad-spaced-location":
			w.Header().Set("Location", "https://bucket.example/a b/%zz?X-Amz-Signature="+secret)
			w.WriteHeader(http.StatusTemporaryRedirect)
		case "/bad-schemeless-location":
			w.Header().Set("Location", "//bucket.example/%zz?X-Amz-Signature="+secret)
			w.WriteHeader(http.StatusMovedPermanently)
		case "/slow":
			<-r.Context().Done()
		default:
			w.Write([]byte(`{"status":"Running"}`))
		}
	}))
	defer srv.Close()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		job  *HTTPJob
		ctx  context.Context
		url  string
		want string // in the text
	}{
		{"unparsable redirect", localHTTPJob(), context.Background(), srv.URL + "/bad-location?api_key=" + secret, "HTTP 302 redirect without a Location"},
		// net/http quoted these in full: scrubURLs finds no absolute URL
		// in the first and third, and stops at the space in the second.
		{"unparsable relative redirect", localHTTPJob(), context.Background(), srv.URL + "/bad-relative-location", "HTTP 302 redirect without a Location"},
		{"unparsable redirect with a space", localHTTPJob(), context.Background(), srv.URL + "/bad-spaced-location", "HTTP 307 redirect without a Location"},
		{"unparsable scheme-relative redirect", localHTTPJob(), context.Background(), srv.URL + "/bad-schemeless-location", "HTTP 301 redirect without a Location"},
		{"refused private target", NewHTTPJob(HTTPJobOptions{}), context.Background(), srv.URL + "/job?api_key=" + secret + "#" + secret, "/job?(redacted)#(redacted)"},
		{"canceled", localHTTPJob(), canceled, srv.URL + "/slow?api_key=" + secret, "/slow?(redacted)"},
		{"bad URL", localHTTPJob(), context.Background(), "http://x y/?api_key=" + secret, "http: request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, err := tt.job.Check(tt.ctx, monitor.CheckRequest{Target: httpTarget(tt.url)})
			text := obs.Detail
			if err != nil {
				text = err.Error()
			}
			if strings.Contains(text, secret) || !strings.Contains(text, tt.want) {
				t.Errorf("text = %q; want it to contain %q and not %q", text, tt.want, secret)
			}
		})
	}
}

// A target whose name resolves to a refused address fails the monitor on
// its input, with a detail every API caller reads: in a VPC the resolver
// answers for private zones, so the detail names neither the address nor
// its range, which go to the guard's log for the operators.
func TestHTTPJobRefusedNameKeepsItsAddress(t *testing.T) {
	var logged strings.Builder
	guard := egress.New(egress.Options{
		LookupNetIP: func(ctx context.Context, network, host string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("10.20.30.40")}, nil
		},
		Logger: slog.New(slog.NewTextHandler(&logged, nil)),
	})
	job := NewHTTPJob(HTTPJobOptions{Client: guard.Client(0)})
	_, err := job.Check(context.Background(), monitor.CheckRequest{InstanceID: "m1", Number: 1,
		Target: httpTarget("https://db-primary.corp.internal/status")})
	var pe *monitor.PermanentError
	if !errors.As(err, &pe) || !pe.Input {
		t.Fatalf("err = %#v, want a *monitor.PermanentError blaming the input", err)
	}
	want := "http: target https://db-primary.corp.internal/status refused db-primary.corp.internal: it resolves to a non-public address; this deployment does not allow private targets"
	if pe.Message != want {
		t.Errorf("message = %q, want %q", pe.Message, want)
	}
	for _, leak := range []string{"10.20.30.40", "10.0.0.0/8", "private address"} {
		if strings.Contains(pe.Message, leak) {
			t.Errorf("message %q names %q", pe.Message, leak)
		}
	}
	if !strings.Contains(logged.String(), "host=db-primary.corp.internal addr=10.20.30.40") {
		t.Errorf("log = %q, want the host and its address", logged.String())
	}
}

func TestScrubURLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{`failed to parse Location header "http://u:p@h.example/a?k=v": bad`, `failed to parse Location header "http://(redacted)@h.example/a?(redacted)": bad`},
		{"GET https://api.github.com/repos/o/r/issues?per_page=100&state=open: 418 []", "GET https://api.github.com/repos/o/r/issues?(redacted) 418 []"},
		{"no url here", "no url here"},
		{"see https://h.example/path and HTTPS://H.example/p#frag", "see https://h.example/path and https://H.example/p#(redacted)"},
	}
	for _, tt := range tests {
		if got := scrubURLs(tt.in); got != tt.want {
			t.Errorf("scrubURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The target's requestTimeoutSeconds governs how long a check waits: no
// timeout of the client or its transport may be shorter than the longest
// one the API accepts.
func TestHTTPJobClientOutlastsRequestTimeout(t *testing.T) {
	longest := monitor.MaxRequestTimeout * time.Second
	clients := map[string]*http.Client{
		"default":      NewHTTPJob(HTTPJobOptions{}).client,
		"guard":        egress.New(egress.Options{}).Client(0),
		"allowPrivate": egress.New(egress.Options{AllowPrivate: true}).Client(0),
	}
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			if c.Timeout != 0 && c.Timeout <= longest {
				t.Errorf("client timeout %v, want 0 or more than %v", c.Timeout, longest)
			}
			rt := c.Transport
			if u, ok := rt.(interface{ Unwrap() http.RoundTripper }); ok {
				rt = u.Unwrap() // the guard's redirect check around its transport
			}
			tr, ok := rt.(*http.Transport)
			if !ok {
				t.Fatalf("transport is %T, want *http.Transport", c.Transport)
			}
			if d := tr.ResponseHeaderTimeout; d != 0 && d <= longest {
				t.Errorf("ResponseHeaderTimeout = %v, want 0 or more than %v", d, longest)
			}
		})
	}
}

// A slow answer within the target's timeout is read, one that comes after
// it is not.
func TestHTTPJobWaitsForSlowAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(1200 * time.Millisecond):
		}
		w.Write([]byte(`{"status":"Completed"}`))
	}))
	defer srv.Close()
	tests := []struct {
		timeout int
		want    string
	}{
		{2, monitor.StatusCompleted},
		{1, monitor.StatusError},
	}
	for _, tt := range tests {
		target := httpTarget(srv.URL)
		target.RequestTimeoutSeconds = tt.timeout
		obs, err := localHTTPJob().Check(context.Background(), monitor.CheckRequest{Target: target})
		if err != nil || obs.Status != tt.want {
			t.Errorf("timeout %ds: = %+v, %v; want status %s", tt.timeout, obs, err, tt.want)
		}
	}
}

// The target's headers follow a redirect only to the same host without a
// downgrade from https to http, which would send them in plaintext.
func TestHTTPJobRedirectHeaders(t *testing.T) {
	headers := map[string]string{"Authorization": "Bearer secret", "X-Api-Key": "key"}
	tests := []struct {
		name     string
		original string
		via      []string // hops between the original request and the redirect
		to       string
		keep     bool
	}{
		{"same host https", "https://jobs.example/jobs/1", nil, "https://jobs.example/jobs/1/status", true},
		{"same host http", "http://jobs.example/jobs/1", nil, "http://jobs.example/jobs/1/status", true},
		{"upgrade to https", "http://jobs.example/jobs/1", nil, "https://jobs.example/jobs/1", true},
		{"downgrade to http", "https://jobs.example/jobs/1", nil, "http://jobs.example/jobs/1", false},
		{"downgrade after a hop", "https://jobs.example/jobs/1", []string{"https://jobs.example/a"}, "http://jobs.example/b", false},
		{"other host", "https://jobs.example/jobs/1", nil, "https://elsewhere.example/", false},
		{"other port", "https://jobs.example/jobs/1", nil, "https://jobs.example:8443/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig, _ := http.NewRequest(http.MethodGet, tt.original, nil)
			c := localHTTPJob().clientFor(orig, headers)
			via := []*http.Request{orig}
			for _, u := range tt.via {
				r, _ := http.NewRequest(http.MethodGet, u, nil)
				via = append(via, r)
			}
			next, _ := http.NewRequest(http.MethodGet, tt.to, nil)
			for k, v := range headers {
				next.Header.Set(k, v) // as net/http copies them
			}
			next.Header.Set("User-Agent", "stepmon")
			if err := c.CheckRedirect(next, via); err != nil {
				t.Fatalf("CheckRedirect: %v", err)
			}
			for k, v := range headers {
				if got := next.Header.Get(k); (got == v) != tt.keep {
					t.Errorf("%s = %q after redirect to %s, want kept %v", k, got, tt.to, tt.keep)
				}
			}
			if next.Header.Get("User-Agent") != "stepmon" {
				t.Errorf("User-Agent dropped")
			}
		})
	}
}

// A status path that selects across an object's members reads the first
// node in the answer's document order, whatever order Go's maps iterate
// in: the same answer gives the same status on every check.
func TestHTTPJobFirstNodeInDocumentOrder(t *testing.T) {
	tests := []struct {
		name, body, path, want string
		done                   string // the target's done value; "" keeps Completed
	}{
		{"descendant", `{"job":{"state":"Running"},"lastRun":{"state":"Failed"},"previousRun":{"state":"Completed"}}`, "$..state", monitor.StatusRunning, ""},
		{"wildcard", `{"job":{"state":"Running"},"lastRun":{"state":"Failed"},"previousRun":{"state":"Completed"}}`, "$.*.state", monitor.StatusRunning, ""},
		{"filter on an object", `{"job":{"state":"Running"},"lastRun":{"state":"Failed"},"previousRun":{"state":"Completed"}}`, "$[?@.state].state", monitor.StatusRunning, ""},
		{"members not in name order", `{"z":{"state":"Failed"},"b":{"state":"Completed"},"a":{"state":"Running"}}`, "$.*.state", monitor.StatusFailed, ""},
		{"descendant before a later member", `{"x":{"y":{"state":"Completed"}},"state":"Running"}`, "$..state", monitor.StatusCompleted, ""},
		{"array order", `{"runs":[{"state":"Failed"},{"state":"Running"}]}`, "$..state", monitor.StatusFailed, ""},
		// The string "2" first: a number 2 of the same text does not
		// agree with it, since only the number matches 2.0 by value.
		{"a string and a number of one text", `{"a":"2","b":2,"c":"2","d":2,"e":"2","f":2}`, "$.*", monitor.StatusRunning, "2.0"},
		// The outer object first, which is no status.
		{"an ancestor before its descendant", `{"status":{"status":"Completed"}}`, "$..status", monitor.StatusUnknown, ""},
	}
	job := localHTTPJob()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(tt.body)) }))
			defer srv.Close()
			target := httpTarget(srv.URL)
			target.StatusPath = tt.path
			if tt.done != "" {
				target.DoneValues = []string{tt.done}
			}
			got := map[string]int{}
			for range 200 {
				obs, err := job.Check(context.Background(), monitor.CheckRequest{Target: target})
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				got[obs.Status+" "+obs.Detail]++
			}
			if len(got) != 1 {
				t.Fatalf("200 checks of one answer gave %v; want one status", got)
			}
			for s := range got {
				if !strings.HasPrefix(s, tt.want+" ") {
					t.Errorf("status %s; want %s", s, tt.want)
				}
			}
		})
	}
}

// Locating the nodes of a deep, large answer costs memory for each node
// times its depth: past maxLocatedWeight, selected nodes that disagree
// make the status Unknown rather than a node picked at random.
func TestHTTPJobTooLargeToOrder(t *testing.T) {
	deep := strings.Repeat("[", 60) + strings.Repeat("0,", maxLocatedWeight/60) + "0" + strings.Repeat("]", 60)
	for _, tt := range []struct {
		name, last, want, detail string
	}{
		{"disagree", "Failed", monitor.StatusUnknown, "too large to tell which comes first"},
		{"agree", "Running", monitor.StatusRunning, `status "Running"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"first":{"state":"Running"},"deep":` + deep + `,"last":{"state":"` + tt.last + `"}}`
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
			defer srv.Close()
			target := httpTarget(srv.URL)
			target.StatusPath = "$.*.state"
			obs, err := localHTTPJob().Check(context.Background(), monitor.CheckRequest{Target: target})
			if err != nil || obs.Status != tt.want || !strings.Contains(obs.Detail, tt.detail) {
				t.Errorf("Check: %+v, %v; want %s with %q", obs, err, tt.want, tt.detail)
			}
		})
	}
}

// An answer that gives a key on the way to the status more than once has
// no status: which of its values counts is the parser's choice. A key
// given twice elsewhere does not matter.
func TestHTTPJobDuplicateKeys(t *testing.T) {
	deep := strings.Repeat("[", 60) + strings.Repeat("0,", maxLocatedWeight/60) + "0" + strings.Repeat("]", 60)
	tests := []struct {
		name, body, path, want, detail string
	}{
		{"status twice", `{"status":"Running","status":"Completed"}`, "$.status", monitor.StatusUnknown, `the answer gives "status" more than once`},
		{"parent twice", `{"job":{"state":"Running"},"job":{"state":"Completed"}}`, "$.job.state", monitor.StatusUnknown, `the answer gives "job" more than once`},
		{"through a wildcard", `{"job":{"state":"Completed","state":"Running"}}`, "$.*.state", monitor.StatusUnknown, `the answer gives "state" more than once`},
		{"elsewhere", `{"status":"Running","meta":{"x":1,"x":2}}`, "$.status", monitor.StatusRunning, `status "Running"`},
		{"in a later node", `{"a":{"state":"Running"},"b":{"state":"Failed","state":"Completed"}}`, "$..state", monitor.StatusRunning, `status "Running"`},
		{"elsewhere in a large answer", `{"status":"Running","deep":` + deep + `,"x":1,"x":2}`, "$.status", monitor.StatusRunning, `status "Running"`},
		{"large answer, path not singular", `{"a":{"state":"Running"},"deep":` + deep + `,"x":1,"x":2}`, "$..state", monitor.StatusUnknown, "too large to tell whether"},
	}
	job := localHTTPJob()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(tt.body)) }))
			defer srv.Close()
			target := httpTarget(srv.URL)
			target.StatusPath = tt.path
			obs, err := job.Check(context.Background(), monitor.CheckRequest{Target: target})
			if err != nil || obs.Status != tt.want || !strings.Contains(obs.Detail, tt.detail) {
				t.Errorf("Check: %+v, %v; want %s with %q", obs, err, tt.want, tt.detail)
			}
		})
	}
}

// The detail shows a long status cut on a character boundary: %q would
// show half a character as \xc3.
func TestHTTPJobLongStatusCutOnARune(t *testing.T) {
	value := "a" + strings.Repeat("é", 80)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"` + value + `"}`))
	}))
	defer srv.Close()
	target := httpTarget(srv.URL)
	target.RunningValues = []string{"x"}
	obs, err := localHTTPJob().Check(context.Background(), monitor.CheckRequest{Target: target})
	if err != nil || obs.Status != monitor.StatusUnknown {
		t.Fatalf("Check: %+v, %v; want Unknown", obs, err)
	}
	if strings.Contains(obs.Detail, `\x`) || !utf8.ValidString(obs.Detail) {
		t.Errorf("Detail = %q, want whole characters", obs.Detail)
	}
	if !strings.Contains(obs.Detail, "aéé") || !strings.Contains(obs.Detail, "…") {
		t.Errorf("Detail = %q, want the value's start and a cut", obs.Detail)
	}
}

// A number in the answer matches list values that are equal numbers,
// however either is written; a string compares as text.
func TestHTTPJobNumbersCompareByValue(t *testing.T) {
	tests := []struct {
		body string
		done string
		want string
	}{
		{`2.0`, "2", monitor.StatusCompleted},
		{`1e0`, "1", monitor.StatusCompleted},
		{`2`, "2.0", monitor.StatusCompleted},
		{`200`, "2E2", monitor.StatusCompleted},
		{`-0`, "0", monitor.StatusCompleted},
		{`0.1`, "0.10", monitor.StatusCompleted},
		{`1e99999999999`, "10e99999999998", monitor.StatusCompleted},
		{`2.5`, "2", monitor.StatusUnknown},
		{`-2`, "2", monitor.StatusUnknown},
		{`20`, "2", monitor.StatusUnknown},
		{`9007199254740993`, "9007199254740992", monitor.StatusUnknown},
		{`"2.0"`, "2", monitor.StatusUnknown},
		{`"2"`, "2.0", monitor.StatusUnknown},
		{`2`, " 2", monitor.StatusUnknown},
		{`2`, "+2", monitor.StatusUnknown},
	}
	job := localHTTPJob()
	for _, tt := range tests {
		t.Run(tt.body+" "+tt.done, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"code":` + tt.body + `}`))
			}))
			defer srv.Close()
			target := httpTarget(srv.URL)
			target.StatusPath = "$.code"
			target.DoneValues = []string{tt.done}
			target.RunningValues = []string{"queued"}
			obs, err := job.Check(context.Background(), monitor.CheckRequest{Target: target})
			if err != nil || obs.Status != tt.want {
				t.Errorf("Check: %+v, %v; want %s", obs, err, tt.want)
			}
		})
	}
}

// Only the statuses net/http follows as redirects are called redirects in
// the detail of an answer the check did not follow: 304 (a target that
// honours a monitor's If-None-Match) and 300 are their status alone.
func TestHTTPJobUnfollowedStatuses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if code == http.StatusMultipleChoices {
			w.Header().Set("Location", "/job")
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()
	for code, want := range map[int]string{
		http.StatusNotModified:       "HTTP 304",
		http.StatusMultipleChoices:   "HTTP 300",
		http.StatusFound:             "HTTP 302 redirect without a Location to follow",
		http.StatusPermanentRedirect: "HTTP 308 redirect without a Location to follow",
	} {
		obs, err := localHTTPJob().Check(context.Background(), monitor.CheckRequest{Target: httpTarget(fmt.Sprintf("%s/%d", srv.URL, code))})
		if err != nil || obs.Status != monitor.StatusError || obs.Detail != want {
			t.Errorf("HTTP %d: %q %q, %v; want Error %q", code, obs.Status, obs.Detail, err, want)
		}
	}
}
