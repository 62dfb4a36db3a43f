package local

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/monitor"
)

// maxProxyBody is API Gateway's payload limit.
const maxProxyBody = 10 << 20

// maxInvokePayload is Lambda's limit on a synchronous invocation's
// request payload, 6 MiB: a proxy event larger than this (a body API
// Gateway takes, of up to maxProxyBody, grown by its JSON escapes) never
// reaches the function, and API Gateway answers 5XX.
const maxInvokePayload = 6 << 20

// invokeFunc invokes a Lambda function by name with a JSON payload.
type invokeFunc func(ctx context.Context, function string, payload []byte) ([]byte, error)

// proxy serves HTTP requests by building API Gateway REST proxy events,
// invoking the function that serves the route on AWS (through the same
// JSON invoke path as the Lambda runtime) and writing its proxy response.
type proxy struct {
	invoke   invokeFunc
	function func(r *http.Request) string // the function serving a request
	resource string                       // the API Gateway resource, e.g. "/monitors/{id}"
	params   []string                     // path parameter names of resource
	// texts maps the query parameters that the function checks as text
	// to that check (monitor.CheckReason for terminate's reason).
	texts  map[string]func(string) error
	logger *slog.Logger
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, err := proxyRequest(r, p.resource, p.params)
	if err != nil {
		var mbe *http.MaxBytesError
		var mqe *malformedQueryError
		var uee *unsupportedEncodingError
		switch {
		case errors.As(err, &mbe):
			writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Too Long")
		case errors.As(err, &uee):
			writeGatewayError(w, http.StatusUnsupportedMediaType, "Unsupported Media Type")
		case errors.As(err, &mqe):
			writeGatewayError(w, http.StatusBadRequest, mqe.Error())
		default:
			writeGatewayError(w, http.StatusBadRequest, "could not read the request body")
		}
		return
	}
	if err := p.checkText(ev); err != nil {
		writeProxyResponse(w, apigw.ErrorResponse(err))
		return
	}
	fn := p.function(r)
	// Judged before the event is encoded: a body of control bytes grows
	// sixfold in JSON, and each such request would hold 60 MB for an
	// event no function takes.
	if encodedLen(ev.Body) > maxInvokePayload {
		p.tooLarge(w, r, fn)
		return
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		writeGatewayError(w, http.StatusInternalServerError, "Internal server error")
		return
	}
	if len(payload) > maxInvokePayload {
		p.tooLarge(w, r, fn)
		return
	}
	// API Gateway does not cancel the invocation when the client goes
	// away: the function runs to its end (its timeout still bounds it),
	// and a start whose client gave up still starts its monitor.
	out, err := p.invoke(context.WithoutCancel(r.Context()), fn, payload)
	if err != nil {
		// API Gateway answers 502 when the integration fails.
		p.logger.ErrorContext(r.Context(), "api: function failed", "function", fn, "method", r.Method, "path", r.URL.Path, "err", err)
		writeGatewayError(w, http.StatusBadGateway, "Internal server error")
		return
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		p.logger.ErrorContext(r.Context(), "api: malformed proxy response", "function", fn, "err", err)
		writeGatewayError(w, http.StatusBadGateway, "Internal server error")
		return
	}
	writeProxyResponse(w, resp)
}

// tooLarge answers a request whose event is over Lambda's invoke limit
// as API Gateway does, 502 without invoking the function.
func (p *proxy) tooLarge(w http.ResponseWriter, r *http.Request, fn string) {
	p.logger.WarnContext(r.Context(), "api: the request's event is over Lambda's 6 MiB invoke limit; answered 502 without the function, as API Gateway does",
		"function", fn, "method", r.Method, "path", r.URL.Path, "bodyBytes", r.ContentLength)
	writeGatewayError(w, http.StatusBadGateway, "Internal server error")
}

// encodedLen returns the length of s encoded as a JSON string by
// encoding/json (quoted, escaped, HTML-safe), without encoding it.
func encodedLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == '"' || b == '\\' || b == '\n' || b == '\r' || b == '\t' || b == '\b' || b == '\f':
				n += 2
			case b < 0x20 || b == '<' || b == '>' || b == '&':
				n += 6 // \u00XX
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			n += 6 // \ufffd, \u2028, \u2029
		} else {
			n += size
		}
		i += size
	}
	return n
}

// checkText refuses query values that are not UTF-8, which the event
// cannot carry: json.Marshal would turn each bad byte into U+FFFD, and the
// function would judge another value than the one sent. A parameter in
// p.texts is answered as its check answers such a value; any other the
// route takes as a value the function refuses, 400 with the parameter as
// the field. A parameter the route does not take is left to the function,
// which refuses it whatever its value, naming the parameters the route
// takes. Path parameters need no check: instance ids and event names are
// ASCII, so the function refuses the U+FFFD they would hold.
func (p *proxy) checkText(ev events.APIGatewayProxyRequest) error {
	names := make([]string, 0, len(ev.MultiValueQueryStringParameters))
	for k := range ev.MultiValueQueryStringParameters {
		names = append(names, k)
	}
	slices.Sort(names)
	var fields []monitor.FieldError
	for _, k := range names {
		for _, v := range ev.MultiValueQueryStringParameters[k] {
			if utf8.ValidString(v) || !apigw.TakesQueryParameter(p.resource, ev.HTTPMethod, k) {
				continue
			}
			if check, ok := p.texts[k]; ok {
				return check(v)
			}
			fields = append(fields, monitor.FieldError{Field: k, Problem: "must be UTF-8 text"})
			break
		}
	}
	if len(fields) > 0 {
		return &monitor.Error{Kind: monitor.KindInvalid, Op: "local: query", Message: "invalid query", Fields: fields}
	}
	return nil
}

// malformedQueryError is a query string that does not parse: a '%' not
// followed by two hex digits, which API Gateway answers itself with 400,
// or a ';', which API Gateway splits the query at (the route then meets a
// parameter it does not take) and this server refuses. r.URL.Query would
// drop the pair silently and serve the request without it.
type malformedQueryError struct{ err error }

func (e *malformedQueryError) Error() string { return "malformed query string: " + e.err.Error() }

// proxyRequest builds the API Gateway REST proxy event API Gateway would
// send for r on a resource with path parameters params, stage $default,
// with r's body decompressed as API Gateway does (readBody). A query
// string that does not parse is a *malformedQueryError.
func proxyRequest(r *http.Request, resource string, params []string) (events.APIGatewayProxyRequest, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return events.APIGatewayProxyRequest{}, &malformedQueryError{err}
	}
	body, err := readBody(r, maxProxyBody)
	if err != nil {
		return events.APIGatewayProxyRequest{}, err
	}
	headers := map[string]string{}
	multiHeaders := map[string][]string{}
	for k, vs := range r.Header {
		if len(vs) == 0 {
			continue
		}
		headers[k] = vs[len(vs)-1]
		multiHeaders[k] = append([]string(nil), vs...)
	}
	host := r.Host
	headers["Host"] = host
	multiHeaders["Host"] = []string{host}
	headers["X-Forwarded-Proto"] = "http"
	multiHeaders["X-Forwarded-Proto"] = []string{"http"}
	sourceIP, port, _ := net.SplitHostPort(r.RemoteAddr)
	if sourceIP == "" {
		sourceIP = r.RemoteAddr
	}
	xff := sourceIP
	if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
		xff = prior + ", " + sourceIP
	}
	headers["X-Forwarded-For"] = xff
	multiHeaders["X-Forwarded-For"] = []string{xff}
	if port != "" {
		headers["X-Forwarded-Port"] = port
		multiHeaders["X-Forwarded-Port"] = []string{port}
	}

	var query map[string]string
	var multiQuery map[string][]string
	if len(q) > 0 {
		query = map[string]string{}
		multiQuery = map[string][]string{}
		for k, vs := range q {
			query[k] = vs[len(vs)-1]
			multiQuery[k] = vs
		}
	}
	var pathParams map[string]string
	if len(params) > 0 {
		pathParams = map[string]string{}
		for _, name := range params {
			pathParams[name] = r.PathValue(name)
		}
	}
	now := time.Now().UTC()
	ev := events.APIGatewayProxyRequest{
		Resource:                        resource,
		Path:                            r.URL.Path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multiHeaders,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  pathParams,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:        localAccount,
			ResourceID:       "local",
			Stage:            "$default",
			RequestID:        asl.NewUUID(),
			ResourcePath:     resource,
			HTTPMethod:       r.Method,
			APIID:            "local",
			Path:             r.URL.Path,
			Protocol:         r.Proto,
			DomainName:       host,
			RequestTime:      now.Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: now.UnixMilli(),
			Identity: events.APIGatewayRequestIdentity{
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
				APIKey:    r.Header.Get("x-api-key"),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev, nil
}

// writeProxyResponse writes a proxy integration's response.
func writeProxyResponse(w http.ResponseWriter, resp events.APIGatewayProxyResponse) {
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			writeGatewayError(w, http.StatusBadGateway, "Internal server error")
			return
		}
		body = b
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

// writeGatewayError answers the way the deployed API Gateway does when it
// answers itself, without a function: its gateway responses (infra) give
// such answers the API's error shape, kind "rejected" for a 4XX and
// "internal" for a 5XX, with API Gateway's message.
func writeGatewayError(w http.ResponseWriter, status int, message string) {
	kind := "rejected"
	if status >= 500 {
		kind = "internal"
	}
	writeGatewayAnswer(w, status, kind, message)
}

// writeGatewayAnswer writes an answer of API Gateway's own in the API's
// error shape.
func writeGatewayAnswer(w http.ResponseWriter, status int, kind, message string) {
	b, _ := json.Marshal(map[string]string{"error": kind, "message": message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", strings.ReplaceAll(http.StatusText(status), " ", "")+"Exception")
	w.WriteHeader(status)
	w.Write(b)
}
