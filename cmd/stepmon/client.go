package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/smithy-go/logging"

	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/syserr"
)

// defaultEndpoint is where stepmon serve listens by default.
const defaultEndpoint = "http://127.0.0.1:8080"

// clientFlags are the flags every client command takes.
type clientFlags struct {
	endpoint    string
	envEndpoint string // STEPMON_ENDPOINT, to name it when its value is wrong
	apiKey      string
	// endpointSet records that --endpoint was given on the command line.
	endpointSet bool
	sigv4       optionalBool
	region      string
	timeout     time.Duration
	// profile is the AWS profile whose credentials sign: --profile, else
	// AWS_PROFILE; profileSource says which ("--profile"), for messages.
	profile, profileSource string
	// awsFiles names the AWS config and credentials files, for a message
	// about a profile that is in neither.
	awsFiles string
	// stderr receives warnings about the flags; none when nil.
	stderr io.Writer
	// caBundle is AWS_CA_BUNDLE: a PEM file of certificate authorities
	// to trust besides the system's, as the AWS CLI and SDKs take it
	// (behind a TLS-inspecting proxy, a private CA's custom domain);
	// read for https endpoints only.
	caBundle string
}

func (f *clientFlags) register(fs *flag.FlagSet, c *cli) {
	ep := c.getenv("STEPMON_ENDPOINT")
	f.envEndpoint = ep
	if ep == "" {
		ep = defaultEndpoint
	}
	f.endpoint = ep
	f.profile, f.profileSource = c.getenv("AWS_PROFILE"), "AWS_PROFILE"
	f.awsFiles = cmp.Or(c.getenv("AWS_CONFIG_FILE"), config.DefaultSharedConfigFilename()) + " and " +
		cmp.Or(c.getenv("AWS_SHARED_CREDENTIALS_FILE"), config.DefaultSharedCredentialsFilename())
	f.stderr = c.stderr
	f.caBundle = c.getenv("AWS_CA_BUNDLE")
	fs.Var(&endpointValue{f}, "endpoint", "base `URL` of the monitor API (env STEPMON_ENDPOINT), e.g. https://abc.execute-api.us-east-1.amazonaws.com/v1")
	// The key's value is never shown: the help prints a flag's default,
	// and the help ends up in terminals, logs and pasted output.
	f.apiKey = c.getenv("STEPMON_API_KEY")
	keyUsage := "API `key` sent as x-api-key (env STEPMON_API_KEY)"
	if f.apiKey != "" {
		keyUsage = "API `key` sent as x-api-key (default: set from STEPMON_API_KEY, not shown)"
	}
	fs.Var((*secretValue)(&f.apiKey), "api-key", keyUsage)
	fs.Var(&f.sigv4, "sigv4", "sign requests with SigV4, credentials from the default AWS chain: automatic for execute-api hosts unless an API key is given; --sigv4 forces it (a custom domain, or with an API key), --sigv4=false turns it off")
	fs.StringVar(&f.region, "region", "", "AWS region for SigV4 (default: from the host, then AWS_REGION, AWS_DEFAULT_REGION or the AWS config file)")
	fs.Func("profile", "AWS `profile` of the config and credentials files whose credentials sign with SigV4 (default AWS_PROFILE, else the default profile)", func(s string) error {
		f.profile, f.profileSource = s, "--profile"
		return nil
	})
	f.timeout = 30 * time.Second
	fs.Var((*durationValue)(&f.timeout), "http-timeout", "timeout of one HTTP request: a `duration` (30s) or whole seconds (30)")
}

// endpointValue is the --endpoint flag of f. Its String, which the help
// prints as the default, redacts a password in the URL (one that
// STEPMON_ENDPOINT gives); Set records that the flag was given.
type endpointValue struct{ f *clientFlags }

func (v *endpointValue) String() string {
	if v == nil || v.f == nil {
		return ""
	}
	return redactedURL(v.f.endpoint)
}

func (v *endpointValue) Set(s string) error {
	v.f.endpoint, v.f.endpointSet = s, true
	return nil
}

// redactedURL is s, a URL, with the password of its user information,
// its query and its fragment (where keys go: ?key=..., #key=...) replaced
// by "xxxxx"; a value with an "@" that does not parse as a URL is not
// shown at all, since it may hold a password.
func redactedURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err == nil && u.User == nil && u.RawQuery == "" && u.Fragment == "":
		return s
	case err == nil:
		if u.RawQuery != "" {
			u.RawQuery = "xxxxx"
		}
		if u.Fragment != "" {
			u.Fragment, u.RawFragment = "xxxxx", ""
		}
		return u.Redacted()
	case strings.Contains(s, "@"):
		return "(not shown: it may hold a password)"
	}
	return s
}

// secretValue is a string flag whose value is never shown: its String,
// which the help prints as the default, is always "".
type secretValue string

func (v *secretValue) String() string { return "" }

func (v *secretValue) Set(s string) error {
	*v = secretValue(s)
	return nil
}

// optionalBool is a boolean flag that knows whether it was given, so that
// an explicit --sigv4=false can differ from no --sigv4.
type optionalBool struct{ set, value bool }

func (b *optionalBool) String() string { return strconv.FormatBool(b != nil && b.value) }

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	b.set, b.value = true, v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

// apiClient calls the monitor HTTP API.
type apiClient struct {
	base *url.URL
	// baseSource is where base was given, "--endpoint" or
	// "STEPMON_ENDPOINT", for the hints of messages about it; "" for
	// --endpoint.
	baseSource string
	apiKey     string
	http       *http.Client
	// signer and creds are set when requests are signed with SigV4.
	signer *v4.Signer
	creds  aws.CredentialsProvider
	region string
	// autoSigned is set when the signing was not asked for with --sigv4
	// but follows from an execute-api host.
	autoSigned bool
	// profile is the AWS profile, and profileSource where it was given
	// ("--profile", "AWS_PROFILE"), for a message when no credentials
	// load.
	profile, profileSource string
}

// parseBase parses a base URL of the API given with --endpoint.
func parseBase(s string) (*url.URL, error) { return httpURL("--endpoint", s) }

// httpURL parses value, given as source (a flag or an environment
// variable), as an absolute http(s) URL without a trailing slash; anything
// else is a usage error naming source. A base URL has no query or
// fragment: the requests would leave them out without a word. The value
// is shown with its password redacted.
func httpURL(source, value string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(value, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// A host and port without a scheme (127.0.0.1:8080, as serve's
		// --addr takes them and prints its address) is likely meant as
		// http; a bare name may as well be https.
		hint := ""
		if guess, gerr := url.Parse("http://" + value); value != "" && !strings.Contains(value, "://") &&
			gerr == nil && guess.Port() != "" && guess.User == nil && redactedURL(value) == value {
			scheme := "http://"
			if guess.Port() == "443" {
				scheme = "https://" // TLS's port: API Gateway's, a proxy's
			}
			hint = fmt.Sprintf("; did you mean %q?", scheme+value)
		}
		return nil, usageError("%s %q is not an http(s) URL%s", source, redactedURL(value), hint)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(value, "#") {
		return nil, usageError("%s %q has a query or a fragment: give a base URL, without ? or #", source, redactedURL(value))
	}
	return u, nil
}

// newClient builds the client the flags describe.
func (f *clientFlags) newClient(ctx context.Context) (*apiClient, error) {
	// A wrong value is named by where it came from: the flag when it was
	// given (also as --endpoint ""), else the environment.
	source := "--endpoint"
	if !f.endpointSet && f.envEndpoint != "" {
		source = "STEPMON_ENDPOINT"
	}
	u, err := httpURL(source, f.endpoint)
	if err != nil {
		return nil, err
	}
	if f.stderr != nil && strings.HasSuffix(u.Path, "/monitors") {
		// Each command adds /monitors: the statusQueryGetUri's prefix,
		// an easy thing to paste, gives /monitors/monitors/... . A stage
		// or base path named "monitors" is possible, so this only warns.
		fmt.Fprintf(f.stderr, "stepmon: warning: %s %s ends in /monitors, which each command adds: the API's base URL is its stage's URL (%s), unless the stage itself is named monitors\n",
			source, u.Redacted(), strings.TrimSuffix(u.Redacted(), "/monitors"))
	}
	c := &apiClient{base: u, baseSource: source, apiKey: f.apiKey, http: &http.Client{Timeout: f.timeout, CheckRedirect: noRedirects}}
	if f.caBundle != "" && u.Scheme == "https" {
		pool, err := caPool(f.caBundle)
		if err != nil {
			return nil, err
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: pool}
		c.http.Transport = t
	}
	hostRegion := executeAPIRegion(u.Hostname())
	// An execute-api host is signed unless the caller said otherwise: an
	// explicit --sigv4 or --sigv4=false decides, and an API key means an
	// auth=apiKey deployment, whose callers need no AWS credentials.
	sign := hostRegion != "" && f.apiKey == ""
	if f.sigv4.set {
		sign = f.sigv4.value
	}
	f.warnSigning(u, hostRegion, sign)
	if sign {
		region := f.region
		if region == "" {
			region = hostRegion
		}
		// The SDK's own log lines (its fallback from IMDSv2 to IMDSv1
		// while it looks for credentials) would come before the
		// command's one-line error; what matters is in that error.
		opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
		if region != "" {
			opts = append(opts, config.WithRegion(region))
		}
		if f.profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(f.profile))
		}
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) && missing.Profile == f.profile {
			return nil, usageError("%s %q names no profile in the AWS config and credentials files (%s): check its name, or create it (aws configure --profile %s)",
				f.profileSource, f.profile, f.awsFiles, f.profile)
		}
		if err != nil {
			return nil, fmt.Errorf("load AWS credentials for SigV4: %w", err)
		}
		if cfg.Region == "" {
			return nil, usageError("SigV4 needs a region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or name one in the AWS config file")
		}
		c.signer = v4.NewSigner()
		c.creds = cfg.Credentials
		c.region = cfg.Region
		c.autoSigned = !f.sigv4.set
		c.profile, c.profileSource = f.profile, f.profileSource
	}
	return c, nil
}

// warnSigning warns on f.stderr about signing flags that cannot work for
// the endpoint u, whose host names hostRegion ("" for none), when sign
// says whether its requests are signed: a --region other than the
// host's, which API Gateway refuses (the signature's region must be the
// API's; the request still goes, and its 403 says the same), and a
// --profile for requests that are not signed.
func (f *clientFlags) warnSigning(u *url.URL, hostRegion string, sign bool) {
	switch {
	case f.stderr == nil:
	case sign && hostRegion != "" && f.region != "" && f.region != hostRegion:
		fmt.Fprintf(f.stderr, "stepmon: warning: --region %s is not the region of %s (%s): API Gateway refuses a request signed for another region than its API's; leave --region out to sign for %s\n",
			f.region, u.Hostname(), hostRegion, hostRegion)
	case sign && u.Scheme == "http" && !loopbackName(u.Hostname()):
		// A signed request sent in clear shows the session token to the
		// network and can be replayed within the signature's five
		// minutes (API Gateway itself answers only HTTPS: a proxy on the
		// way may not).
		fmt.Fprintf(f.stderr, "stepmon: warning: requests to %s are signed but sent over plain http: anyone on the way sees the session token and may replay a request for five minutes; use https\n", u.Hostname())
	case !sign && f.profileSource == "--profile":
		fmt.Fprintf(f.stderr, "stepmon: warning: --profile %s has no effect: requests to %s are not signed (add --sigv4 to sign them)\n", f.profile, u.Hostname())
	}
	// An API key or a password, unlike a signature, is good until it is
	// revoked: in clear, anyone on the way may keep it.
	if _, pw := u.User.Password(); f.stderr != nil && u.Scheme == "http" && !loopbackName(u.Hostname()) {
		switch {
		case f.apiKey != "":
			fmt.Fprintf(f.stderr, "stepmon: warning: requests to %s carry the API key but are sent over plain http: anyone on the way may read it and use it until it is revoked; use https\n", u.Hostname())
		case pw:
			fmt.Fprintf(f.stderr, "stepmon: warning: requests to %s carry the endpoint's password but are sent over plain http: anyone on the way may read it; use https\n", u.Hostname())
		}
	}
}

// caPool returns the system's certificate authorities and those of the
// PEM file path (AWS_CA_BUNDLE); a file that cannot be read or holds no
// certificate is a usage error.
func caPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError("AWS_CA_BUNDLE: %v", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usageError("AWS_CA_BUNDLE %q holds no PEM certificate", path)
	}
	return pool, nil
}

// loopbackName reports whether host is this machine: localhost or a
// loopback address.
func loopbackName(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// executeAPIRegion returns the region of an API Gateway host, or "" for
// any other host. The host (in any case, with or without a final dot) must
// be exactly {id}.execute-api.{region}.amazonaws.com or .amazonaws.com.cn:
// a regional or edge-optimized API, a private API by its private DNS
// name, or by its Route 53 alias {api-id}-{vpce-id}; or a VPC endpoint's
// own name, {vpce-name}.execute-api.{region}.vpce.amazonaws.com (.cn).
// Nothing else is an execute-api host: a look-alike such as
// abc.execute-api.us-east-1.amazonaws.com.evil.test must never be sent
// the caller's access key id and session token without being asked.
func executeAPIRegion(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, suffix := range []string{".vpce.amazonaws.com", ".vpce.amazonaws.com.cn", ".amazonaws.com", ".amazonaws.com.cn"} {
		rest, ok := strings.CutSuffix(host, suffix)
		if !ok {
			continue
		}
		labels := strings.Split(rest, ".")
		if len(labels) == 3 && dnsLabel(labels[0]) && labels[1] == "execute-api" && dnsLabel(labels[2]) {
			return labels[2]
		}
		return ""
	}
	return ""
}

// dnsLabel reports whether s is a DNS label in lower case: 1 to 63
// letters, digits and hyphens, neither first nor last a hyphen.
func dnsLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// apiError is an answer of the API with a status of 400 or more.
type apiError struct {
	Status  int
	Message string
	// Fields are the answer's per-field problems, in its order (the
	// message names them too).
	Fields []fieldProblem
	// RetryAfter is the answer's Retry-After, 0 when it has none.
	RetryAfter time.Duration
	// detail follows the status in the message: the request, for an
	// error that is about the request rather than a monitor (no such
	// route, an invalid query, 403), with a hint about the endpoint or the
	// signing.
	detail string
	// pageType is the content type of an answer that is another server's
	// page or text rather than the API's JSON error, pageStart the start
	// of a text that is not a web page, and request the request it
	// answered; all are empty for the API's own errors.
	pageType, pageStart, request string
}

// transportError is a request that got no answer: the connection was
// refused or broken, or the request timed out.
type transportError struct {
	request string        // "GET http://…/monitors/x", the URL redacted
	err     error         // from the HTTP client: a *url.Error, which names the URL again
	timeout time.Duration // the client's timeout, --http-timeout
}

func (e *transportError) Error() string {
	msg := e.request + ": " + e.cause()
	if syserr.ConnRefused(e.err) {
		msg += " (nothing listens there: start `stepmon serve`, or give the API's URL with --endpoint or STEPMON_ENDPOINT)"
	}
	return msg
}

func (e *transportError) Unwrap() error { return e.err }

// cause says why the request failed: the innermost error, or, for the
// client's timeout, which Go words "context deadline exceeded
// (Client.Timeout exceeded while awaiting headers)", the flag that sets
// it. The commands' contexts have no deadline, so a deadline is that
// timeout's.
func (e *transportError) cause() string {
	if e.timeout > 0 && errors.Is(e.err, context.DeadlineExceeded) {
		return fmt.Sprintf("timed out after %v (--http-timeout; give a longer one for a slow endpoint)", e.timeout)
	}
	return rootCause(e.err)
}

// retryAfter is how long an answer's Retry-After asks to wait; 0 when it
// has none.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if at, ok := egress.RetryAfter(h, now); ok {
		return max(at.Sub(now), 0)
	}
	return 0
}

func (e *apiError) Error() string {
	if e.pageType != "" {
		what := e.pageType
		if e.pageStart != "" {
			what += " " + e.pageStart
		}
		return fmt.Sprintf("HTTP %d from %s (%s, not the monitor API's JSON error)", e.Status, e.request, what)
	}
	return fmt.Sprintf("%s (HTTP %d)%s", e.Message, e.Status, e.detail)
}

// exitCode is the exit status of a command that failed with e: the API's
// own answer that there is no such monitor (404) is exitNotFound, and
// that the monitor's state forbids the request (409, 410) exitConflict.
// Any other error is 1, also a 404 of no such route (a wrong --endpoint)
// and another server's 404 page: neither says anything of the monitor.
func (e *apiError) exitCode() int {
	if e.pageType != "" || e.detail != "" {
		return 1
	}
	switch e.Status {
	case http.StatusNotFound:
		return exitNotFound
	case http.StatusConflict, http.StatusGone:
		return exitConflict
	}
	return 1
}

// response is an API answer with a status below 400.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// shape is the least that a route's successful answer holds: a JSON
// object with these members.
type shape struct {
	what string // "a status record"
	// strs are members that are non-empty strings; arrays members that
	// are arrays; nums members that are numbers.
	strs, arrays, nums []string
}

// The shapes of the routes' successful answers (docs/api.md).
var (
	startedShape = shape{what: "a start answer", strs: []string{"id", "statusQueryGetUri"}}
	recordShape  = shape{what: "a status record", strs: []string{"instanceId", "runtimeStatus"}}
	listShape    = shape{what: "a list of monitors", arrays: []string{"monitors"}}
	purgedShape  = shape{what: "a purge answer", nums: []string{"instancesDeleted"}}
	raisedShape  = shape{what: "a raise answer", strs: []string{"instanceId", "eventName"}}
)

// fits reports whether b is a JSON object of shape s.
func (s shape) fits(b []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || m == nil {
		return false
	}
	for _, k := range s.strs {
		var v string
		if json.Unmarshal(m[k], &v) != nil || v == "" {
			return false
		}
	}
	for _, k := range s.arrays {
		var v []json.RawMessage
		if json.Unmarshal(m[k], &v) != nil || v == nil {
			return false
		}
	}
	for _, k := range s.nums {
		var v *float64
		if json.Unmarshal(m[k], &v) != nil || v == nil {
			return false
		}
	}
	return true
}

// String describes s for a message: "a status record, a JSON object with
// instanceId and runtimeStatus".
func (s shape) String() string {
	members := append([]string(nil), s.strs...)
	for _, k := range s.arrays {
		members = append(members, k+" (an array)")
	}
	for _, k := range s.nums {
		members = append(members, k+" (a number)")
	}
	return s.what + ", a JSON object with " + strings.Join(members, " and ")
}

// notAPIError is a successful answer that is not what the monitor API
// answers: the endpoint is some other server.
type notAPIError struct {
	request     string // "GET http://…/monitors/x", the URL redacted
	status      int
	contentType string
	body        []byte
	want        shape
}

func (e *notAPIError) Error() string {
	ct := e.contentType
	if ct == "" {
		ct = "no content type"
	}
	got := "an empty body"
	if len(e.body) > 0 {
		got = quoteStart(e.body)
	}
	return fmt.Sprintf("%s did not answer like the stepmon monitor API: HTTP %d, %s, %s; want %s (is the endpoint the monitor API?)",
		e.request, e.status, ct, got, e.want)
}

// quoteStart quotes the first 40 bytes of b, with "..." when there are more.
func quoteStart(b []byte) string {
	start := b
	if len(start) > 40 {
		start = start[:40]
	}
	q := strconv.Quote(string(start))
	if len(start) < len(b) {
		q += "..."
	}
	return q
}

// mediaType is the media type of a Content-Type header, without its
// parameters: "text/html" for "text/html; charset=utf-8".
func mediaType(contentType string) string {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		return mt
	}
	return strings.TrimSpace(contentType)
}

// isHTML reports whether an answer is a web page: by its content type, or
// by a body that starts like one.
func isHTML(contentType string, body []byte) bool {
	switch mediaType(contentType) {
	case "text/html", "application/xhtml+xml":
		return true
	}
	return bytes.HasPrefix(bytes.TrimSpace(body), []byte("<"))
}

// url returns the URL of path (unescaped, "/monitors/{id}/...") under the
// base URL. Each segment of path is escaped once; an empty, "." or ".."
// segment is an error, so that a request never names another resource
// than the one its segments say.
func (c *apiClient) url(path string) (*url.URL, error) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	escaped := make([]string, len(segs))
	for i, seg := range segs {
		if seg == "" || seg == "." || seg == ".." {
			return nil, fmt.Errorf("path %q has an empty, \".\" or \"..\" segment", path)
		}
		escaped[i] = url.PathEscape(seg)
	}
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + "/" + strings.Join(segs, "/")
	u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + "/" + strings.Join(escaped, "/")
	return &u, nil
}

// monitorPath is the path of a monitor, or of one of its sub-resources
// (monitorPath(id, "terminate")). id must be valid (see checkID).
func monitorPath(id string, sub ...string) string {
	return "/" + strings.Join(append([]string{"monitors", id}, sub...), "/")
}

// checkID returns a usage error unless id is an instance id by the API's
// rule (monitor.ValidInstanceID). The API decides about the rest (ids
// that a new monitor may not take).
func checkID(what, id string) error {
	if !monitor.ValidInstanceID(id) {
		return usageError("%s %q is not an instance id: ids are 1 to %d letters, digits, '-' or '_'", what, id, monitor.MaxInstanceIDLen)
	}
	return nil
}

// noRedirects makes an http.Client return redirects instead of following
// them.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// do sends a request to path (with query) and returns the answer; statuses
// of 400 and more are returned as *apiError with the API's message. A
// successful answer that is not of the route's shape want is a
// *notAPIError.
func (c *apiClient) do(ctx context.Context, method, path string, query url.Values, body []byte, want shape) (*response, error) {
	u, err := c.url(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("x-api-key", c.apiKey)
	}
	if c.signer != nil {
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			if ctx.Err() != nil {
				// Ctrl-C: ends quietly, as a request in flight does.
				return nil, context.Cause(ctx)
			}
			return nil, c.credentialsError(err)
		}
		sum := sha256.Sum256(body)
		if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", c.region, time.Now()); err != nil {
			return nil, fmt.Errorf("SigV4 sign: %w", err)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &transportError{method + " " + u.Redacted(), err, c.http.Timeout}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, &transportError{method + " " + u.Redacted() + ": read answer", err, c.http.Timeout}
	}
	request := method + " " + u.Redacted()
	contentType := resp.Header.Get("Content-Type")
	if resp.StatusCode >= 400 {
		msg, fields, ours := errorMessage(resp.StatusCode, b)
		e := &apiError{Status: resp.StatusCode, Message: msg, Fields: fields, RetryAfter: retryAfter(resp.Header, time.Now())}
		if ours {
			e.detail = c.requestDetail(request, resp.StatusCode, msg)
		} else {
			// The API's errors are JSON with a message: this is another
			// server's error (a web page, Go's "404 page not found", JSON
			// of another shape). Say whose it is, and what a short text
			// says, never what markup reads; a plain 404 must not read
			// like an unknown monitor.
			e.request, e.pageType = request, mediaType(contentType)
			switch {
			case isHTML(contentType, b):
				if e.pageType == "" {
					e.pageType = "a web page"
				}
			case len(b) == 0:
				e.pageType = cmp.Or(e.pageType, "no content type") + ", an empty body"
			default:
				e.pageType = cmp.Or(e.pageType, "no content type")
				e.pageStart = quoteStart(b)
			}
		}
		return nil, e
	}
	if resp.StatusCode >= 300 {
		// The API never redirects: this is not the API (a dashboard, a
		// login page), and following it would only fail to parse. As
		// another server's other answers, it names the request.
		return nil, &apiError{Status: resp.StatusCode,
			Message: fmt.Sprintf("unexpected redirect to %q from %s: is %s the monitor API?", resp.Header.Get("Location"), request, c.endpointName())}
	}
	if !want.fits(b) {
		return nil, &notAPIError{request: request, status: resp.StatusCode, contentType: mediaType(contentType), body: b, want: want}
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// credentialsError is the error of a request that could not be signed
// because err, the AWS SDK's, kept the credentials from loading. It says
// what to do by case: with a profile (--profile, AWS_PROFILE), that
// profile's credentials failed; without one, none were found. The SDK's
// text is kept, except that of a credential_process, which quotes the
// process's output: that may hold a secret access key.
func (c *apiClient) credentialsError(err error) error {
	cause := err.Error()
	var pe *processcreds.ProviderError
	switch {
	case errors.As(err, &pe):
		cause = "the profile's credential_process failed (its output is not shown: it may hold secrets)"
	case c.profile == "" && strings.Contains(cause, "EC2 IMDS"):
		// The last place the SDK looks, after the environment and the
		// files: its error is about the instance metadata service
		// alone, in a chain of its clients' messages.
		cause = "none in the environment, the AWS config and credentials files, or the EC2 instance metadata service"
	}
	var alternatives string
	if c.autoSigned {
		alternatives = "; or use --api-key or --sigv4=false"
	}
	var what string
	if c.profile != "" {
		what = fmt.Sprintf("the AWS credentials of profile %q (%s) could not be loaded (check the profile in the AWS config and credentials files%s)", c.profile, c.profileSource, alternatives)
	} else {
		what = fmt.Sprintf("no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile with --profile or AWS_PROFILE%s)", alternatives)
	}
	if c.autoSigned {
		what += " to sign for " + c.base.Hostname()
	} else {
		what += " for --sigv4"
	}
	return errors.New(what + ": " + cause)
}

// requestDetail is what the message of the API's error (status, msg) to
// request adds when the error is about the request, not a monitor: the
// request itself, for a route that does not exist or an invalid query (a
// wrong base path in --endpoint), and for a 403 (no access); with a hint
// for an unsigned request, which an API with IAM auth refuses, and for
// API Gateway's "Missing Authentication Token", which it also answers to a
// path it has no route for. Other errors get "".
func (c *apiClient) requestDetail(request string, status int, msg string) string {
	switch {
	case status == http.StatusNotFound && (msg == "no such route" || strings.HasPrefix(msg, "no route ")):
		return " for " + request + ": is " + c.endpointName() + " the API's base URL (its stage's URL, without /monitors)?"
	case status == http.StatusBadRequest && strings.HasPrefix(msg, "invalid query"):
		return " for " + request
	case status != http.StatusForbidden:
		return ""
	case strings.Contains(msg, "refused: the local runtime "):
		// stepmon serve's refusal of a Host or a cross-site request,
		// which says why; no signature or key would change it.
		return " for " + request
	case c.signer == nil && c.apiKey == "":
		return " for " + request + "; the request was not signed: for an API with IAM auth add --sigv4 (with --region for a custom domain), for one with API keys give --api-key"
	case c.signer == nil:
		return " for " + request + "; the request carried an API key and was not signed: check the key, or add --sigv4 (with --region for a custom domain) for an API with IAM auth"
	case msg == "Missing Authentication Token":
		return " for " + request + "; API Gateway answers this to a signed request for a path it has no route for: is " + c.endpointName() + " the API's base URL?"
	}
	return " for " + request
}

// endpointName names where the base URL was given, for hints about it:
// "--endpoint" or "STEPMON_ENDPOINT".
func (c *apiClient) endpointName() string { return cmp.Or(c.baseSource, "--endpoint") }

// fieldProblem is one invalid field of a request, as the API names it.
type fieldProblem struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// errorMessage extracts the message of an error answer: {"message": ...},
// {"error": "..."} or {"error": {"message": ...}}, the shapes of the API's
// and API Gateway's errors (ours is true), or else the body itself; and
// the answer's field problems. A 404 is ours only with an "error" code,
// as the API's and the deployed stack's gateway responses have it: a bare
// {"message": "Not Found"} is another server's (GitHub's), and must not
// read as a monitor that does not exist (exitNotFound).
func errorMessage(status int, b []byte) (msg string, fields []fieldProblem, ours bool) {
	var body struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
		Fields  []fieldProblem  `json:"fields"`
	}
	if json.Unmarshal(b, &body) == nil {
		msg = body.Message
		if msg == "" && len(body.Error) > 0 {
			var s string
			var o struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(body.Error, &s) == nil {
				msg = s
			} else if json.Unmarshal(body.Error, &o) == nil {
				msg = o.Message
			}
		}
		if msg != "" && len(body.Fields) > 0 && !strings.Contains(msg, body.Fields[0].Problem) {
			for _, f := range body.Fields {
				msg += "; " + f.Field + " " + f.Problem
			}
		}
	}
	if msg != "" && (len(body.Error) > 0 || status != http.StatusNotFound) {
		for i := range body.Fields {
			body.Fields[i].Field, body.Fields[i].Problem = printable(body.Fields[i].Field), printable(body.Fields[i].Problem)
		}
		return printable(msg), body.Fields, true
	}
	msg = strings.TrimSpace(string(b))
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return cmp.Or(printable(msg), http.StatusText(status)), nil, false
}

// printable escapes the control characters of s (C0, DEL and C1) as Go
// does in a quoted string ("\x1b", "\u009b"), so that a message another
// server wrote cannot drive the terminal it is printed on (set its title,
// colours, or the cursor).
func printable(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80 && isControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		case isControl(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isControl reports whether r is a C0 or C1 control character, DEL, or a
// bidirectional formatting character (which reorders what follows it on
// the line: U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069).
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 ||
		r == 0x061c || r == 0x200e || r == 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// record is the part of a monitor's status record the commands show.
type record struct {
	InstanceID      string                `json:"instanceId"`
	Name            string                `json:"name"`
	RuntimeStatus   monitor.RuntimeStatus `json:"runtimeStatus"`
	Input           json.RawMessage       `json:"input"`
	CustomStatus    *customStatus         `json:"customStatus"`
	Output          json.RawMessage       `json:"output"`
	CreatedTime     time.Time             `json:"createdTime"`
	LastUpdatedTime time.Time             `json:"lastUpdatedTime"`
	ExecutionArn    string                `json:"executionArn"`
	Alert           *alertState           `json:"alert"`
}

// alertState is what a record says of its monitor's alert.
type alertState struct {
	Status   monitor.AlertStatus `json:"status"`
	Attempts int                 `json:"attempts"`
	RetryAt  time.Time           `json:"retryAt"` // zero when not given
}

// finalStatus is the output's final_status: "" while the monitor runs.
func (r record) finalStatus() string {
	var o struct {
		FinalStatus string `json:"final_status"`
	}
	_ = json.Unmarshal(r.Output, &o)
	return o.FinalStatus
}

// jobStatus is what list shows of a monitor's job, as the dashboard does:
// the final status once the monitor has finished (a terminated monitor's
// custom status still says what its last check saw), the custom status's
// before; "-" before the first check.
func (r record) jobStatus() string {
	if f := r.finalStatus(); r.RuntimeStatus.Final() && f != "" {
		return f
	}
	if r.CustomStatus != nil && r.CustomStatus.Status != "" {
		return r.CustomStatus.Status
	}
	return "-"
}

type customStatus struct {
	JobID         string    `json:"job_id"`
	Status        string    `json:"status"`
	CheckCount    int       `json:"check_count"`
	LastCheckTime time.Time `json:"last_check_time"`
	NextCheckTime time.Time `json:"next_check_time"`
	OpenIssues    *int      `json:"open_issues"`
	Detail        string    `json:"detail"`
}

// getRecord fetches a monitor's status record.
func (c *apiClient) getRecord(ctx context.Context, id string) (record, []byte, error) {
	resp, err := c.do(ctx, http.MethodGet, monitorPath(id), nil, nil, recordShape)
	if err != nil {
		return record{}, nil, err
	}
	var rec record
	if err := json.Unmarshal(resp.Body, &rec); err != nil {
		return record{}, nil, fmt.Errorf("the API answered something that is not a status record: %w", err)
	}
	return rec, resp.Body, nil
}

// writeJSON writes b indented, or as it is when it is not JSON. A failed
// write (a full disk, a closed pipe) is an error "write output: ...": the
// output is the command's result, and a script must not take exit status
// 0 without it.
func writeJSON(w io.Writer, b []byte) error {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		out.Reset()
		out.Write(b)
	}
	if out.Len() == 0 || out.Bytes()[out.Len()-1] != '\n' {
		out.WriteByte('\n')
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
