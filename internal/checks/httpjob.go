package checks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/theory/jsonpath"

	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
)

// DefaultMaxBodyBytes caps a job-status answer.
const DefaultMaxBodyBytes = 1 << 20

// MaxAnswerDepth caps how deep a job-status answer may nest. A status path
// is linear in the answer's size for a bounded depth only: comparing nodes
// ($..[?@==@]) walks each node's subtree, so its cost is the size times
// the depth.
const MaxAnswerDepth = 64

// MaxRetryAfter bounds how far a 429 or 503 answer's Retry-After pushes
// an HTTP target's next check back, as GitHub's rate-limit hold is
// bounded: a misconfigured maintenance page naming a day or a date far
// ahead would otherwise hold the monitor until it expires, and a job that
// ends meanwhile would go unseen. A polling interval longer than this
// still applies in full.
const MaxRetryAfter = time.Hour

// HTTPJobOptions configures an HTTP job-status checker.
type HTTPJobOptions struct {
	// Client sends the requests. nil means a client that dials through a
	// strict egress.Guard, the AWS configuration: loopback, private,
	// link-local and unique-local targets are refused. The local runtime
	// passes egress.New(egress.Options{AllowPrivate: true}).Client(0).
	Client *http.Client
	// MaxBodyBytes caps the answer read; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// UserAgent is sent with every request whose target sets none; ""
	// means "stepmon".
	UserAgent string
	// Clock turns Retry-After into a time; nil means the system clock.
	Clock monitor.Clock
}

// HTTPJob reads a job's status from an HTTP endpoint: it sends
// Target.Method to Target.URL with Target.Headers, within
// Target.RequestTimeoutSeconds, reads the JSON answer, selects
// Target.StatusPath (RFC 9535 JSONPath; the first node selected in the
// answer's document order, an object's members in the order the answer
// gives them) and compares the value, case-insensitively, with the
// target's values, a number also by value with those that are numbers
// (monitor.StatusNumber):
//
//   - one of DoneValues: StatusCompleted, Done;
//   - one of FailedValues: StatusFailed, Done;
//   - one of RunningValues, or anything when RunningValues is empty:
//     StatusRunning;
//   - anything else (when RunningValues is set): StatusUnknown.
//
// A non-2xx answer is StatusError with Detail "HTTP 503" (a 429's or
// 503's Retry-After sets NotBefore, MaxRetryAfter ahead at most); a timeout or network error is StatusError;
// an answer that is not JSON, lacks the field, gives a key on the way to
// it more than once or exceeds the size cap is StatusUnknown. In all these
// cases the monitor keeps polling. A target the
// egress guard refuses is a *monitor.PermanentError naming the address and
// the reason: the monitor ends Failed with that message.
type HTTPJob struct {
	client    *http.Client
	maxBody   int64
	userAgent string
	clock     monitor.Clock
	paths     pathCache
}

// pathCache keeps parsed status paths: a monitor checks with the same
// path every time, and parsing it cost more than reading the status.
type pathCache struct {
	mu    sync.Mutex
	paths map[string]*jsonpath.Path
}

// maxCachedPaths bounds the cache; paths beyond it are parsed each time.
const maxCachedPaths = 4096

func (c *pathCache) parse(expr string) (*jsonpath.Path, error) {
	c.mu.Lock()
	p, ok := c.paths[expr]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := monitor.ParseStatusPath(expr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.paths == nil {
		c.paths = map[string]*jsonpath.Path{}
	}
	if len(c.paths) < maxCachedPaths {
		c.paths[expr] = p
	}
	c.mu.Unlock()
	return p, nil
}

var _ monitor.Checker = (*HTTPJob)(nil)

// NewHTTPJob returns an HTTP job-status checker.
func NewHTTPJob(opts HTTPJobOptions) *HTTPJob {
	j := &HTTPJob{client: opts.Client, maxBody: opts.MaxBodyBytes, userAgent: opts.UserAgent, clock: opts.Clock}
	if j.client == nil {
		j.client = egress.New(egress.Options{}).Client(0)
	}
	if j.maxBody <= 0 {
		j.maxBody = DefaultMaxBodyBytes
	}
	if j.userAgent == "" {
		j.userAgent = "stepmon"
	}
	if j.clock == nil {
		j.clock = monitor.SystemClock
	}
	return j
}

// Check reads the job's status once.
func (j *HTTPJob) Check(ctx context.Context, req monitor.CheckRequest) (monitor.Observation, error) {
	t := req.Target
	statusPath := orDefault(t.StatusPath, monitor.DefaultHTTPStatusPath)
	path, err := j.paths.parse(statusPath)
	if err != nil {
		return monitor.Observation{}, monitor.InputError("http: status path %q: %v", statusPath, err)
	}
	timeout := time.Duration(t.RequestTimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = monitor.DefaultHTTPRequestTimeout * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	method := strings.ToUpper(orDefault(t.Method, monitor.DefaultHTTPMethod))
	hreq, err := http.NewRequestWithContext(rctx, method, t.URL, nil)
	if err != nil {
		return monitor.Observation{}, monitor.InputError("http: request %s %s: %s", method, monitor.RedactURL(t.URL), clean(err))
	}
	for k, v := range t.Headers {
		hreq.Header.Set(k, v)
	}
	// A monitor started before starts refused it: given, net/http leaves
	// a gzip answer compressed, which no check can read.
	hreq.Header.Del("Accept-Encoding")
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", j.userAgent)
	}
	if hreq.Header.Get("Accept") == "" {
		hreq.Header.Set("Accept", "application/json")
	}

	resp, err := j.clientFor(hreq, t.Headers).Do(hreq)
	if err != nil {
		var refused *egress.RefusedError
		switch {
		case errors.As(err, &refused):
			return monitor.Observation{}, monitor.InputError("http: target %s %s", monitor.RedactURL(t.URL), scrubURLs(strings.TrimPrefix(refused.Error(), "egress: ")))
		case ctx.Err() != nil:
			return monitor.Observation{}, &monitor.TransientError{Message: "http: check " + monitor.RedactURL(t.URL) + ": " + ctx.Err().Error()}
		case egress.IsTimeout(err):
			return monitor.Observation{Status: monitor.StatusError, Detail: fmt.Sprintf("no answer within %v", timeout)}, nil
		default:
			return monitor.Observation{Status: monitor.StatusError, Detail: "request failed: " + clean(err)}, nil
		}
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		obs := monitor.Observation{Status: monitor.StatusError, Detail: fmt.Sprintf("HTTP %d", resp.StatusCode)}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			// A redirect the client did not follow: without a Location,
			// or one that is no URL (the guard's client drops those).
			obs.Detail += " redirect without a Location to follow"
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			now := j.clock.Now()
			if at, ok := egress.RetryAfter(resp.Header, now); ok {
				if limit := now.Add(MaxRetryAfter); at.After(limit) {
					at = limit
				}
				obs.NotBefore = at
				obs.Detail += "; retry after " + at.UTC().Format(time.RFC3339)
			}
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return obs, nil
	}

	body, err := io.ReadAll(io.LimitReader(resp.Body, j.maxBody+1))
	if err != nil {
		if egress.IsTimeout(err) || rctx.Err() != nil {
			return monitor.Observation{Status: monitor.StatusError, Detail: fmt.Sprintf("answer not complete within %v", timeout)}, nil
		}
		return monitor.Observation{Status: monitor.StatusError, Detail: "reading the answer failed: " + clean(err)}, nil
	}
	if int64(len(body)) > j.maxBody {
		return unknown(fmt.Sprintf("answer larger than %s; not read", byteSize(j.maxBody))), nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return unknown(fmt.Sprintf("HTTP %d with an empty body; expected JSON", resp.StatusCode)), nil
	}
	ans, err := decodeAnswer(body)
	switch {
	case errors.Is(err, errTooDeep):
		return unknown(fmt.Sprintf("answer nested deeper than %d levels; not read", MaxAnswerDepth)), nil
	case err != nil:
		return unknown("answer is not JSON (Content-Type " + monitor.TruncateBytes(orDefault(resp.Header.Get("Content-Type"), "none"), 100) + ")"), nil
	}

	sel, found := ans.status(path)
	switch {
	case !found:
		return unknown(fmt.Sprintf("status field %s missing from the answer", statusPath)), nil
	case sel.problem != "":
		return unknown(sel.problem), nil
	}
	value, ok := scalarText(sel.node)
	if !ok {
		return unknown(fmt.Sprintf("status field %s is not a string, number or boolean", statusPath)), nil
	}
	shown := monitor.TruncateBytes(value, 100)
	number := ""
	if n, isNumber := sel.node.(json.Number); isNumber {
		number, _ = monitor.StatusNumber(n.String())
	}
	matchAny := func(values []string) bool {
		for _, w := range values {
			if strings.EqualFold(value, w) {
				return true
			}
			if number != "" {
				if n, ok := monitor.StatusNumber(w); ok && n == number {
					return true
				}
			}
		}
		return false
	}
	switch {
	case matchAny(t.DoneValues):
		return monitor.Observation{Status: monitor.StatusCompleted, Done: true, Detail: fmt.Sprintf("status %q", shown)}, nil
	case matchAny(t.FailedValues):
		return monitor.Observation{Status: monitor.StatusFailed, Done: true, Detail: fmt.Sprintf("status %q", shown)}, nil
	case len(t.RunningValues) == 0 || matchAny(t.RunningValues):
		return monitor.Observation{Status: monitor.StatusRunning, Detail: fmt.Sprintf("status %q", shown)}, nil
	default:
		return unknown(fmt.Sprintf("unexpected status %q", shown)), nil
	}
}

// clientFor returns the client for one request: on a redirect to another
// host it drops the target's own headers (an API key must not follow a
// redirect elsewhere), as net/http does for Authorization and Cookie, and
// so it does on a redirect from https to http, which would send them in
// plaintext. The redirect itself is followed in both cases: the request
// without the headers carries nothing secret, and a target that needs them
// answers 401, which the check records.
func (j *HTTPJob) clientFor(req *http.Request, headers map[string]string) *http.Client {
	if len(headers) == 0 {
		return j.client
	}
	c := *j.client
	inner := j.client.CheckRedirect
	host, secure := req.URL.Host, req.URL.Scheme == "https"
	c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if inner != nil {
			if err := inner(r, via); err != nil {
				return err
			}
		} else if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if !strings.EqualFold(r.URL.Host, host) || (secure && r.URL.Scheme != "https") {
			for k := range headers {
				r.Header.Del(k)
			}
		}
		return nil
	}
	return &c
}

func unknown(detail string) monitor.Observation {
	return monitor.Observation{Status: monitor.StatusUnknown, Detail: detail}
}

// scalarText renders a JSON scalar as the text to compare: a string as
// itself, a number as written, a boolean as true or false.
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
