package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/monitor"
)

// ContinuationHeader carries the List continuation token in requests and
// answers, as in Durable Functions.
const ContinuationHeader = "x-ms-continuation-token"

// Handler serves the HTTP API's routes from API Gateway REST proxy events.
type Handler struct {
	API *monitor.API
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// NewHandler returns a Handler serving api.
func NewHandler(api *monitor.API, logger *slog.Logger) *Handler {
	return &Handler{API: api, Logger: logger}
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.Default()
	}
	return h.Logger
}

// Route names.
const (
	routeCollection = "/monitors"
	routeItem       = "/monitors/{id}"
	routeTerminate  = "/monitors/{id}/terminate"
	routeRaiseEvent = "/monitors/{id}/raiseEvent/{name}"
)

// routes lists each route's methods and the query parameters each method
// accepts.
var routes = map[string]map[string][]string{
	routeCollection: {
		http.MethodGet:  {"runtimeStatus", "createdTimeFrom", "createdTimeTo", "top", "continuationToken"},
		http.MethodPost: {},
	},
	routeItem: {
		http.MethodGet:    {},
		http.MethodDelete: {},
	},
	routeTerminate:  {http.MethodPost: {"reason"}},
	routeRaiseEvent: {http.MethodPost: {}},
}

// Resources returns the API's route resources, sorted, as API Gateway
// names them ("/monitors/{id}/terminate": each path parameter in braces).
// stepmon serve routes these paths to the functions.
func Resources() []string { return slices.Sorted(maps.Keys(routes)) }

// TakesQueryParameter reports whether the route resource (an API Gateway
// resource such as "/monitors/{id}/terminate") takes the query parameter
// name with method. Any other parameter is refused, named, whatever its
// value.
func TakesQueryParameter(resource, method, name string) bool {
	return slices.Contains(routes[resource][method], name)
}

// Handle serves one request. It always answers with a response and a nil
// error: failures become JSON error bodies (an error returned to API
// Gateway would reach the caller as a bare 502).
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return h.serve(ctx, &req), nil
}

// NoRoute is the answer to a request for method and path that is none of
// the API's routes: 404 not_found, naming them.
func NoRoute(method, path string) events.APIGatewayProxyResponse {
	return errorResponse(http.StatusNotFound, ErrorBody{Error: string(monitor.KindNotFound),
		Message: fmt.Sprintf("no route %s %s; see docs/api.md", method, monitor.TruncateBytes(path, 200))})
}

// match finds the route of req: from the resource API Gateway matched when
// it is one of the API's, otherwise from the path (a {proxy+} resource, or
// stepmon serve).
func match(req *events.APIGatewayProxyRequest) (route, id, name string, ok bool) {
	if _, known := routes[req.Resource]; known {
		return req.Resource, req.PathParameters["id"], req.PathParameters["name"], true
	}
	p := req.Path
	if p != "/" {
		p = strings.TrimSuffix(p, "/")
	}
	seg := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if seg[0] != "monitors" {
		return "", "", "", false
	}
	switch {
	case len(seg) == 1:
		return routeCollection, "", "", true
	case len(seg) == 2:
		return routeItem, seg[1], "", true
	case len(seg) == 3 && seg[2] == "terminate":
		return routeTerminate, seg[1], "", true
	case len(seg) == 4 && seg[2] == "raiseEvent":
		return routeRaiseEvent, seg[1], seg[3], true
	}
	return "", "", "", false
}

// routePath is the path of a matched route as the API defines it.
func routePath(route, id, name string) string {
	return strings.NewReplacer("{id}", id, "{name}", name).Replace(route)
}

func (h *Handler) serve(ctx context.Context, req *events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	route, id, name, ok := match(req)
	if !ok {
		return NoRoute(req.HTTPMethod, req.Path)
	}
	// Methods are case-sensitive (RFC 9110), and API Gateway routes "post"
	// to no POST method: it is another method.
	method := req.HTTPMethod
	params, allowed := routes[route][method]
	if !allowed {
		methods := make([]string, 0, 2)
		for m := range routes[route] {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		resp := errorResponse(http.StatusMethodNotAllowed, ErrorBody{Error: codeMethodNotAllowed,
			Message: fmt.Sprintf("%s is not allowed on %s; use %s", monitor.TruncateBytes(req.HTTPMethod, 20), route, strings.Join(methods, " or "))})
		resp.Headers["Allow"] = strings.Join(methods, ", ")
		return resp
	}
	query, err := queryOf(req, params)
	if err != nil {
		if route == routeCollection && method == http.MethodGet {
			// Report the filters' problems with the unknown parameters.
			_, lerr := listQueryOf(req, query)
			err = withFieldsOf(err, lerr)
		}
		return h.fail(ctx, req, err)
	}
	base := baseURL(req, routePath(route, id, name))
	switch {
	case route == routeCollection && method == http.MethodPost:
		return h.start(ctx, req, base)
	case route == routeCollection:
		return h.list(ctx, req, query)
	case route == routeItem && method == http.MethodGet:
		return h.get(ctx, req, id, base)
	case route == routeItem:
		return h.purge(ctx, req, id)
	case route == routeTerminate:
		return h.terminate(ctx, req, id, query.Get("reason"))
	default:
		return h.raiseEvent(ctx, req, id, name)
	}
}

func (h *Handler) start(ctx context.Context, req *events.APIGatewayProxyRequest, base string) events.APIGatewayProxyResponse {
	if resp, bad := checkContentType(req); bad {
		return resp
	}
	body, err := jsonBodyOf(req, monitor.MaxBodyBytes)
	if err != nil {
		return h.fail(ctx, req, err)
	}
	sr, err := h.API.ParseStartRequest(body)
	if err != nil {
		return h.fail(ctx, req, err)
	}
	rec, err := h.API.Start(ctx, sr)
	if err != nil {
		return h.fail(ctx, req, err)
	}
	urls := managementURLs(base, rec.InstanceID)
	resp := jsonResponse(http.StatusAccepted, urls)
	resp.Headers["Location"] = urls.StatusQueryGetURI
	resp.Headers["Retry-After"] = strconv.Itoa(monitor.RetryAfterSeconds(rec.Input))
	return resp
}

func (h *Handler) get(ctx context.Context, req *events.APIGatewayProxyRequest, id, base string) events.APIGatewayProxyResponse {
	rec, err := h.API.Get(ctx, id)
	if err != nil {
		return h.fail(ctx, req, err)
	}
	if rec.RuntimeStatus.Final() {
		return jsonResponse(http.StatusOK, NewStatusResponse(rec))
	}
	resp := jsonResponse(http.StatusAccepted, NewStatusResponse(rec))
	resp.Headers["Location"] = managementURLs(base, rec.InstanceID).StatusQueryGetURI
	resp.Headers["Retry-After"] = strconv.Itoa(rec.RetryAfterSeconds())
	return resp
}

func (h *Handler) list(ctx context.Context, req *events.APIGatewayProxyRequest, query queryValues) events.APIGatewayProxyResponse {
	q, err := listQueryOf(req, query)
	if err != nil {
		return h.fail(ctx, req, err)
	}
	page, err := h.API.List(ctx, q)
	if err != nil {
		return h.fail(ctx, req, err)
	}
	resp := listResponse(page)
	if len(resp.Body) > maxListBody-listPageReserve {
		// Fewer records, read again so that the store's token continues
		// after the last one shown.
		q.Top = max(fitting(listBody(page).Monitors, maxListBody), 1)
		if page, err = h.API.List(ctx, q); err != nil {
			return h.fail(ctx, req, err)
		}
		resp = listResponse(page)
	}
	return resp
}

// listResponse is the answer with page, its token in the body and in the
// ContinuationHeader.
func listResponse(page monitor.ListPage) events.APIGatewayProxyResponse {
	body := listBody(page)
	if page.ContinuationToken != "" {
		body.ContinuationToken = &page.ContinuationToken
	}
	resp := jsonResponse(http.StatusOK, body)
	if page.ContinuationToken != "" && resp.StatusCode == http.StatusOK {
		resp.Headers[ContinuationHeader] = page.ContinuationToken
	}
	return resp
}

// maxListBody bounds the body of a page of GET /monitors. A Lambda
// function's answer may hold 6 MB, and API Gateway's proxy answer carries
// the body as a JSON string, where escaping can double it: a page of 1,000
// large records (a status can take 16 KB) would fail on AWS with a 5XX.
// A variable for tests.
var maxListBody = 3 << 20

// listBody is the answer's body for page.
func listBody(page monitor.ListPage) ListResponse {
	body := ListResponse{Monitors: make([]StatusResponse, 0, len(page.Records))}
	for _, rec := range page.Records {
		// A listed record has no alert retry time on AWS (DynamoDB's list
		// index does not project it): nor has it locally.
		rec.Alert.RetryAt = time.Time{}
		body.Monitors = append(body.Monitors, NewStatusResponse(rec))
	}
	return body
}

// listPageReserve is the room a page keeps for its own fields
// ({"monitors":[...],"continuationToken":"..."}).
const listPageReserve = 8 << 10

// fitting returns how many of the first monitors fit in a body of limit
// bytes, with room for the page's own fields.
func fitting(monitors []StatusResponse, limit int) int {
	n := listPageReserve
	for i, m := range monitors {
		b, err := json.Marshal(m)
		if err != nil {
			return i
		}
		if n += len(b) + 1; n > limit {
			return i
		}
	}
	return len(monitors)
}

func (h *Handler) terminate(ctx context.Context, req *events.APIGatewayProxyRequest, id, reason string) events.APIGatewayProxyResponse {
	if err := checkNoBody(req); err != nil {
		return h.fail(ctx, req, err)
	}
	rec, err := h.API.Terminate(ctx, id, reason)
	if err != nil {
		return h.fail(ctx, req, err)
	}
	return jsonResponse(http.StatusAccepted, NewStatusResponse(rec))
}

func (h *Handler) raiseEvent(ctx context.Context, req *events.APIGatewayProxyRequest, id, name string) events.APIGatewayProxyResponse {
	if resp, bad := checkContentType(req); bad {
		return resp
	}
	body, err := jsonBodyOf(req, monitor.MaxEventDataBytes)
	if err != nil {
		return h.fail(ctx, req, err)
	}
	if err := h.API.RaiseEvent(ctx, id, name, body); err != nil {
		return h.fail(ctx, req, err)
	}
	return jsonResponse(http.StatusAccepted, EventResponse{InstanceID: id, EventName: name})
}

func (h *Handler) purge(ctx context.Context, req *events.APIGatewayProxyRequest, id string) events.APIGatewayProxyResponse {
	if err := h.API.Purge(ctx, id); err != nil {
		return h.fail(ctx, req, err)
	}
	return jsonResponse(http.StatusOK, purgeResponse{InstancesDeleted: 1})
}

// checkNoBody refuses the body of a terminate request, which takes its
// reason in the query: a reason sent in the body would otherwise be lost
// without a word, where an unknown query parameter is refused. A blank
// body, or an empty JSON object that some clients always send, says
// nothing and is accepted, with or without a byte order mark.
func checkNoBody(req *events.APIGatewayProxyRequest) error {
	body := req.Body
	if req.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(body); err == nil {
			body = string(b)
		}
	}
	// A byte order mark says nothing either, as in start and raiseEvent
	// bodies.
	body = strings.TrimSpace(strings.TrimPrefix(body, "\ufeff"))
	if inner, ok := strings.CutPrefix(body, "{"); ok {
		if inner, ok = strings.CutSuffix(inner, "}"); ok && strings.TrimSpace(inner) == "" {
			body = ""
		}
	}
	if body == "" {
		return nil
	}
	return &monitor.Error{Kind: monitor.KindInvalid, Op: "apigw: terminate", Message: "invalid request",
		Fields: []monitor.FieldError{{Field: "body", Problem: "must be empty: terminate takes the reason in the query: ?reason=..."}}}
}

// fail answers with err's status code and caller-safe body, and logs
// server-side failures. A request cancelled before its answer (the
// client left, stepmon serve closes its connection at shutdown), and the
// operation with it, is no failure: nobody reads the answer, and it is
// logged at info. A failure of the operation's own while the request was
// ending is still an error, and so is a passed deadline: the function was
// too slow (API Gateway answers 504).
func (h *Handler) fail(ctx context.Context, req *events.APIGatewayProxyRequest, err error) events.APIGatewayProxyResponse {
	status := StatusOf(err)
	switch {
	case errors.Is(ctx.Err(), context.Canceled) && errors.Is(err, context.Canceled):
		h.logger().InfoContext(ctx, "the request ended before its answer", "method", req.HTTPMethod, "path", monitor.TruncateBytes(req.Path, 200),
			"requestId", req.RequestContext.RequestID, "status", status, "err", err)
	case status >= 500:
		h.logger().ErrorContext(ctx, "request failed", "method", req.HTTPMethod, "path", monitor.TruncateBytes(req.Path, 200),
			"requestId", req.RequestContext.RequestID, "status", status, "err", err)
	}
	resp := errorResponse(status, errorBodyOf(err))
	if secs, ok := retryAfter[status]; ok {
		// A dependency failed transiently (a throttled or full store, Step
		// Functions unavailable): tell clients when to try again.
		resp.Headers["Retry-After"] = strconv.Itoa(secs)
	}
	return resp
}

// ErrorResponse is the answer the handler gives for err: the status of
// its kind and the API's JSON error body. The local runtime answers with
// it the requests it refuses before it can build their event.
func ErrorResponse(err error) events.APIGatewayProxyResponse {
	return errorResponse(StatusOf(err), errorBodyOf(err))
}

// retryAfter is the Retry-After hint, in seconds, of the answers that
// mean "try again later".
var retryAfter = map[int]int{
	http.StatusTooManyRequests:    2,
	http.StatusServiceUnavailable: 5,
}

// queryValues holds a request's query parameters, one value each.
type queryValues map[string]string

// Get returns the value of the named parameter, or "".
func (q queryValues) Get(name string) string { return q[name] }

// queryOf reads the query parameters of req, accepting only those named in
// allowed and each at most once. With an error it still returns the
// parameters it accepted.
func queryOf(req *events.APIGatewayProxyRequest, allowed []string) (queryValues, error) {
	multi := req.MultiValueQueryStringParameters
	if len(multi) == 0 {
		multi = make(map[string][]string, len(req.QueryStringParameters))
		for k, v := range req.QueryStringParameters {
			multi[k] = []string{v}
		}
	}
	names := make([]string, 0, len(multi))
	for k := range multi {
		names = append(names, k)
	}
	slices.Sort(names)
	q := make(queryValues, len(multi))
	var fields []monitor.FieldError
	for _, k := range names {
		vs := multi[k]
		switch {
		case !slices.Contains(allowed, k):
			field, problem := monitor.TruncateBytes(k, 64), "is not a parameter of this route"
			if k == "" {
				// "?=x": named as the body's own problems are.
				field, problem = "query", "has a parameter without a name"
			}
			if len(allowed) > 0 {
				problem += "; it accepts " + strings.Join(allowed, ", ")
			}
			fields = append(fields, monitor.FieldError{Field: field, Problem: problem})
		case len(vs) > 1:
			fields = append(fields, monitor.FieldError{Field: k, Problem: "must be given at most once"})
		case len(vs) == 1:
			q[k] = vs[0]
		}
	}
	if len(fields) > 0 {
		return q, &monitor.Error{Kind: monitor.KindInvalid, Op: "apigw: query", Message: "invalid query", Fields: fields}
	}
	return q, nil
}

// withFieldsOf returns err, a *monitor.Error listing field problems, with
// the field problems of more added; err itself when more lists none.
func withFieldsOf(err, more error) error {
	var e, m *monitor.Error
	if !errors.As(err, &e) || !errors.As(more, &m) || len(m.Fields) == 0 {
		return err
	}
	merged := *e
	merged.Fields = append(slices.Clip(e.Fields), m.Fields...)
	return &merged
}

// listQueryOf reads GET /monitors' filters, reporting every problem at
// once.
func listQueryOf(req *events.APIGatewayProxyRequest, query queryValues) (monitor.ListQuery, error) {
	var q monitor.ListQuery
	var fields []monitor.FieldError
	bad := func(field, problem string) {
		fields = append(fields, monitor.FieldError{Field: field, Problem: problem})
	}
	if v, ok := query["runtimeStatus"]; ok {
		for s := range strings.SplitSeq(v, ",") {
			rs, ok := parseRuntimeStatus(strings.TrimSpace(s))
			if !ok {
				bad("runtimeStatus", monitor.RuntimeStatusProblem(s))
				break
			}
			if !slices.Contains(q.RuntimeStatus, rs) {
				q.RuntimeStatus = append(q.RuntimeStatus, rs)
			}
		}
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"createdTimeFrom", &q.CreatedFrom}, {"createdTimeTo", &q.CreatedTo}} {
		v, ok := query[p.name]
		if !ok {
			continue
		}
		t, err := monitor.ParseQueryTime(v)
		if err != nil {
			bad(p.name, timeProblem(v))
			continue
		}
		*p.dst = t.UTC()
	}
	if v, ok := query["top"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > monitor.MaxPageSize {
			bad("top", fmt.Sprintf("must be a whole number between 1 and %d, not %q", monitor.MaxPageSize, monitor.TruncateBytes(v, 20)))
		} else {
			q.Top = n
		}
	}
	token, inQuery := query["continuationToken"]
	if h := header(req, ContinuationHeader); h != "" {
		if inQuery && h != token {
			bad("continuationToken", "differs from the "+ContinuationHeader+" header; send one of them")
		}
		token = h
	} else if inQuery && token == "" {
		bad("continuationToken", "is empty; leave it out for the first page")
	}
	q.ContinuationToken = token
	// What the domain refuses in the values read (a reversed time range),
	// with the problems of reading them: all are reported at once.
	fields = append(fields, q.Problems()...)
	if len(fields) > 0 {
		return q, &monitor.Error{Kind: monitor.KindInvalid, Op: "apigw: list", Message: "invalid query", Fields: fields}
	}
	return q, nil
}

// timeProblem is the problem with v, a query parameter's value that is
// not an RFC 3339 time. A '+' in a query string decodes to a space, so an
// offset such as +01:00 sent as it is arrives as " 01:00": the problem
// then says so and how to send it.
func timeProblem(v string) string {
	problem := fmt.Sprintf("must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %q", monitor.TruncateBytes(v, 40))
	if plus := strings.ReplaceAll(v, " ", "+"); plus != v {
		if _, err := monitor.ParseQueryTime(plus); err == nil {
			problem += "; a '+' in a query string means a space: write it as %2B, " + monitor.TruncateBytes(strings.ReplaceAll(v, " ", "%2B"), 60)
		}
	}
	return problem
}

// parseRuntimeStatus reads a runtime status, ignoring case.
func parseRuntimeStatus(s string) (monitor.RuntimeStatus, bool) {
	for _, rs := range []monitor.RuntimeStatus{monitor.RuntimePending, monitor.RuntimeRunning,
		monitor.RuntimeCompleted, monitor.RuntimeFailed, monitor.RuntimeTerminated} {
		if strings.EqualFold(s, string(rs)) {
			return rs, true
		}
	}
	return "", false
}

// checkContentType rejects a body sent with a media type that cannot be
// JSON. A missing Content-Type is accepted, and so are text/plain and
// application/x-www-form-urlencoded, which is what curl -d sends: the body
// must still be JSON.
func checkContentType(req *events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, bool) {
	ct := header(req, "Content-Type")
	if ct == "" || req.Body == "" {
		return events.APIGatewayProxyResponse{}, false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		mt == "text/plain" || mt == "application/x-www-form-urlencoded") {
		return events.APIGatewayProxyResponse{}, false
	}
	msg := fmt.Sprintf("Content-Type must be JSON (application/json or a +json type; text/plain and application/x-www-form-urlencoded, which curl -d sends, are read as JSON too), not %q", monitor.TruncateBytes(ct, 100))
	if err != nil {
		// "application/json;;": the type may be the right one, the
		// header around it is not.
		msg = fmt.Sprintf("Content-Type %q is malformed (%s): send Content-Type: application/json", monitor.TruncateBytes(ct, 100), strings.TrimPrefix(err.Error(), "mime: "))
	}
	return errorResponse(http.StatusUnsupportedMediaType, ErrorBody{Error: codeUnsupportedMediaType, Message: msg}), true
}

// bodyOf returns the request body, decoding base64 when API Gateway
// encoded it. A body over limit bytes is KindTooLarge.
func bodyOf(req *events.APIGatewayProxyRequest, limit int) ([]byte, error) {
	const op = "apigw: body"
	tooLarge := func(n int) error {
		return monitor.Errorf(monitor.KindTooLarge, op, "request body is %d bytes; the limit is %d", n, limit)
	}
	if !req.IsBase64Encoded {
		if len(req.Body) > limit {
			return nil, tooLarge(len(req.Body))
		}
		return []byte(req.Body), nil
	}
	if base64.StdEncoding.DecodedLen(len(req.Body)) > limit+3 {
		return nil, tooLarge(base64.StdEncoding.DecodedLen(len(req.Body)))
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, &monitor.Error{Kind: monitor.KindInvalid, Op: op, Message: "request body is marked base64-encoded but is not valid base64", Err: err}
	}
	if len(b) > limit {
		return nil, tooLarge(len(b))
	}
	return b, nil
}

// jsonBodyOf returns the request's JSON body as bodyOf does, without a
// UTF-8 byte order mark, and refuses a UTF-16 body with the fix: either
// comes from a file saved on Windows, and the JSON parser would report
// only an invalid character 'ï' or 'ÿ'.
func jsonBodyOf(req *events.APIGatewayProxyRequest, limit int) ([]byte, error) {
	body, err := bodyOf(req, limit)
	if err != nil {
		return nil, err
	}
	body, isUTF16 := monitor.DropByteOrderMark(body)
	if isUTF16 {
		return nil, &monitor.Error{Kind: monitor.KindInvalid, Op: "apigw: body", Message: "request body is UTF-16: " + monitor.UTF16Fix}
	}
	return body, nil
}

// jsonResponse answers with v as JSON.
func jsonResponse(status int, v any) events.APIGatewayProxyResponse {
	resp := events.APIGatewayProxyResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json; charset=utf-8"},
	}
	if v == nil {
		return resp
	}
	b, err := marshal(v)
	if err != nil {
		resp.StatusCode = http.StatusInternalServerError
		b = []byte(`{"error":"internal","message":"internal error"}`)
	}
	resp.Body = string(b)
	return resp
}

func errorResponse(status int, body ErrorBody) events.APIGatewayProxyResponse {
	return jsonResponse(status, body)
}

// marshal encodes v as JSON without escaping <, > and &, so that URLs read
// as they are.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("apigw: encode %T: %w", v, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
