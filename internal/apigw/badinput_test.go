package apigw

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/monitor"
)

// TestBadInput sends malformed requests to every route and checks that each
// gets a 4xx whose message names the problem, and that nothing was started,
// stopped or stored.
func TestBadInput(t *testing.T) {
	native := func(extra string) string {
		return `{"target":{"type":"simulated"}` + extra + `}`
	}
	post := func(body string) events.APIGatewayProxyRequest { return local("POST", "/monitors", body) }
	long := strings.Repeat("a", 65)

	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		want   string // in the message
	}{
		// POST /monitors: the body.
		{"malformed JSON", post(`{"target":`), 400, "not a JSON object"},
		{"JSON array", post(`[1,2,3]`), 400, "not a JSON object"},
		{"empty body", post(``), 400, "request body is empty"},
		{"blank body", post("  \n "), 400, "request body is empty"},
		{"wrong type", post(native(`,"pollingIntervalSeconds":"10"`)), 400, `pollingIntervalSeconds must be a whole number, not the string "10"`},
		{"unknown field", post(native(`,"colour":"red"`)), 400, "colour is not a known field"},
		{"unrecognised shape", post(`{"foo":1}`), 400, "unrecognised request"},
		{"miscased field", post(`{"instanceId":"x","target":{"type":"simulated"},"PollingIntervalSeconds":5}`), 400, "PollingIntervalSeconds is not a known field"},
		{"miscased target field", post(`{"instanceId":"x","target":{"type":"simulated","OUTCOME":"Failed"}}`), 400, "target.OUTCOME is not a known field"},
		{"instance id twice", post(`{"instanceId":"a","instanceId":"b","target":{"type":"simulated"}}`), 400, "instanceId is given more than once"},
		{"seed field twice", post(`{"job_id":"a","job_id":"b"}`), 400, "job_id is given more than once"},
		{"header twice", post(`{"target":{"type":"http","url":"https://jobs.example.com/42","headers":{"X-A":"1","X-A":"2"}}}`), 400, "target.headers.X-A is given more than once"},
		{"trailing data", post(`{"job_id":"x"} {"job_id":"y"}`), 400, "trailing data"},
		{"huge body", post(`{"job_id":"` + strings.Repeat("x", 17<<10) + `"}`), 413, "the limit is 16384"},
		{"huge base64 body", func() events.APIGatewayProxyRequest {
			r := post(base64.StdEncoding.EncodeToString([]byte(`{"job_id":"` + strings.Repeat("x", 17<<10) + `"}`)))
			r.IsBase64Encoded = true
			return r
		}(), 413, "the limit is 16384"},
		{"bad base64", func() events.APIGatewayProxyRequest {
			r := post(`{not base64}`)
			r.IsBase64Encoded = true
			return r
		}(), 400, "not valid base64"},
		{"xml content type", withHeader(post(native("")), "Content-Type", "application/xml"), 415, `Content-Type must be JSON (application/json or a +json type; text/plain and application/x-www-form-urlencoded, which curl -d sends, are read as JSON too), not "application/xml"`},
		{"bad instance id", post(`{"instanceId":"a b","target":{"type":"simulated"}}`), 400, "instanceId must be 1 to 64"},
		{"empty instance id", post(`{"instanceId":"","target":{"type":"simulated"}}`), 400, "instanceId must be 1 to 64"},
		{"empty job id", post(`{"jobId":"","target":{"type":"simulated"}}`), 400, "jobId must be 1 to 128"},
		{"long instance id", post(`{"instanceId":"` + long + `","target":{"type":"simulated"}}`), 400, "instanceId must be 1 to 64"},
		{"bad phone", post(`{"repo":"octocat/hello-world","phone":"4255550100"}`), 400, "phone must be an E.164 number"},
		{"bad repo", post(`{"repo":"not a repo","phone":"+14255550100"}`), 400, "repo must be owner/name"},
		{"interval 0", post(native(`,"pollingIntervalSeconds":0`)), 400, "pollingIntervalSeconds must be between 1 and 86400"},
		{"completeAfterChecks 0", post(`{"target":{"type":"simulated","completeAfterChecks":0}}`), 400, "target.completeAfterChecks must be between 1 and 1000"},
		{"minOpenIssues 0", post(`{"target":{"type":"github","repo":"a/b","minOpenIssues":0},"alert":{"webhookUrl":"https://hooks.example.com/x"}}`), 400, "target.minOpenIssues must be between 1 and 10000: a check reads at most 100 pages"},
		{"requestTimeoutSeconds 0", post(`{"target":{"type":"http","url":"https://jobs.example.com/42","requestTimeoutSeconds":0}}`), 400, "target.requestTimeoutSeconds must be between 1 and 60"},
		{"interval 86401", post(`{"job_id":"j","polling_interval_seconds":86401}`), 400, "polling_interval_seconds must be between 1 and 86400"},
		{"timeout over a year", post(`{"job_id":"j","timeout_seconds":31536001}`), 400, "timeout_seconds must be between 1 and 31536000"},
		{"ftp target url", post(`{"target":{"type":"http","url":"ftp://jobs.example.com/42"}}`), 400, "target.url must be an absolute http or https URL"},
		{"javascript webhook", post(native(`,"alert":{"webhookUrl":"javascript:alert(1)"}`)), 400, "alert.webhookUrl must be an absolute http or https URL"},
		{"two alert channels", post(native(`,"alert":{"phone":"+14255550100","webhookUrl":"https://hooks.example.com/x"}`)), 400, "alert must have exactly one of phone, topicArn and webhookUrl"},
		{"bad topic arn", post(native(`,"alert":{"topicArn":"arn:aws:sqs:eu-west-1:123456789012:q"}`)), 400, "alert.topicArn must be an SNS topic ARN"},
		{"github without alert", post(`{"target":{"type":"github","repo":"octocat/hello-world"}}`), 400, "alert is required for a github target"},
		{"field of another target", post(`{"target":{"type":"simulated","repo":"a/b"}}`), 400, "target.repo does not apply to a simulated target, which takes only completeAfterChecks and outcome"},
		{"unknown target type", post(`{"target":{"type":"ftp"}}`), 400, `target.type must be github, http or simulated, not "ftp"`},
		{"empty job id", post(`{"job_id":""}`), 400, "job_id must be 1 to 128"},
		{"bad backoff", post(native(`,"backoff":{"multiplier":-2,"maxIntervalSeconds":100}`)), 400, "backoff.multiplier must be between 1 and 10"},
		{"bad http method", post(`{"target":{"type":"http","url":"https://jobs.example.com/42","method":"DELETE"}}`), 400, "target.method must be GET or POST"},

		// GET /monitors/{id}.
		{"get: bad id", local("GET", "/monitors/bad$id", ""), 400, "id must be 1 to 64"},
		{"get: long id", local("GET", "/monitors/"+long, ""), 400, "id must be 1 to 64"},
		{"get: unknown parameter", withQuery(local("GET", "/monitors/live1", ""), "showHistory", "true"), 400, "showHistory is not a parameter of this route"},

		// GET /monitors.
		{"list: bad status", withQuery(local("GET", "/monitors", ""), "runtimeStatus", "Running,Sleeping"), 400, `runtimeStatus must be a comma-separated list of Pending, Running, Completed, Failed and Terminated, not "Sleeping"`},
		{"list: a final status", withQuery(local("GET", "/monitors", ""), "runtimeStatus", "Timeout"), 400,
			`runtimeStatus must be a comma-separated list of Pending, Running, Completed, Failed and Terminated, not "Timeout"; Timeout is an output's final_status, not a runtime status: a monitor that timed out is Completed, or Failed when its Step Functions execution timed out`},
		{"list: top 0", withQuery(local("GET", "/monitors", ""), "top", "0"), 400, "top must be a whole number between 1 and 1000"},
		{"list: top 1001", withQuery(local("GET", "/monitors", ""), "top", "1001"), 400, "top must be a whole number between 1 and 1000"},
		{"list: top not a number", withQuery(local("GET", "/monitors", ""), "top", "ten"), 400, `not "ten"`},
		{"list: bad time", withQuery(local("GET", "/monitors", ""), "createdTimeFrom", "yesterday"), 400, "createdTimeFrom must be an RFC 3339 time"},
		{"list: from after to", withQuery(local("GET", "/monitors", ""), "createdTimeFrom", "2026-02-01T00:00:00Z", "createdTimeTo", "2026-01-01T00:00:00Z"), 400, "createdTimeFrom must not be after createdTimeTo"},
		{"list: from after to and a bad status", withQuery(local("GET", "/monitors", ""), "createdTimeFrom", "2026-02-01T00:00:00Z", "createdTimeTo", "2026-01-01T00:00:00Z", "runtimeStatus", "foo"), 400,
			`runtimeStatus must be a comma-separated list of Pending, Running, Completed, Failed and Terminated, not "foo"; createdTimeFrom must not be after createdTimeTo`},
		{"list: foreign token", withQuery(local("GET", "/monitors", ""), "continuationToken", "bm90IGEgdG9rZW4"), 400, "continuationToken is not a token returned by this API"},
		{"list: foreign token in header", withHeader(local("GET", "/monitors", ""), "x-ms-continuation-token", "%%%"), 400, "continuationToken is not a token returned by this API"},
		{"list: header and query differ", withHeader(withQuery(local("GET", "/monitors", ""), "continuationToken", "abc"), "X-Ms-Continuation-Token", "def"), 400, "continuationToken differs from the x-ms-continuation-token header"},
		{"list: repeated parameter", withQuery(local("GET", "/monitors", ""), "top", "1", "top", "2"), 400, "top must be given at most once"},
		{"list: unknown parameter", withQuery(local("GET", "/monitors", ""), "status", "Running"), 400, "status is not a parameter of this route; it accepts runtimeStatus"},
		{"list: parameter without a name", withQuery(local("GET", "/monitors", ""), "", "x"), 400, "invalid query: query has a parameter without a name; it accepts runtimeStatus"},
		{"terminate: parameter without a name", withQuery(local("POST", "/monitors/live1/terminate", ""), "", ""), 400, "invalid query: query has a parameter without a name; it accepts reason"},
		{"list: unknown parameter and bad values", withQuery(local("GET", "/monitors", ""), "foo", "1", "top", "0", "runtimeStatus", "Bogus"), 400,
			`foo is not a parameter of this route; it accepts runtimeStatus, createdTimeFrom, createdTimeTo, top, continuationToken; runtimeStatus must be a comma-separated list of Pending, Running, Completed, Failed and Terminated, not "Bogus"; top must be a whole number`},

		// POST /monitors/{id}/terminate.
		{"terminate: long reason", withQuery(local("POST", "/monitors/live1/terminate", ""), "reason", strings.Repeat("r", 257)), 400, "reason must be UTF-8 text of at most 256 characters"},
		{"terminate: NUL in reason", withQuery(local("POST", "/monitors/live1/terminate", ""), "reason", "a\x00b"), 400, "reason must be UTF-8 text of at most 256 characters, without control characters, line breaks or bidirectional formatting characters"},
		{"terminate: escape in reason", withQuery(local("POST", "/monitors/live1/terminate", ""), "reason", "\x1b[31mred"), 400, "reason must be UTF-8 text"},
		{"terminate: newline in reason", withQuery(local("POST", "/monitors/live1/terminate", ""), "reason", "two\nlines"), 400, "reason must be UTF-8 text"},
		{"terminate: bad id", local("POST", "/monitors/a.b/terminate", ""), 400, "id must be 1 to 64"},
		{"terminate: empty id", local("POST", "/monitors//terminate", ""), 400, "id must be 1 to 64"},
		{"terminate: unknown parameter", withQuery(local("POST", "/monitors/live1/terminate", ""), "why", "x"), 400, "why is not a parameter of this route; it accepts reason"},

		// POST /monitors/{id}/raiseEvent/{name}.
		{"event: bad name", local("POST", "/monitors/live1/raiseEvent/set.interval", ""), 400, "eventName must be 1 to 64 letters"},
		{"event: long name", local("POST", "/monitors/live1/raiseEvent/"+long, ""), 400, "eventName must be 1 to 64 letters"},
		{"event: bad id", local("POST", "/monitors/live~1/raiseEvent/complete", ""), 400, `id must be 1 to 64 letters, digits, '-' or '_', not "live~1"`},
		{"event: bad JSON", local("POST", "/monitors/live1/raiseEvent/complete", `{"a":`), 400, "body must be JSON"},
		{"setInterval: zero", local("POST", "/monitors/live1/raiseEvent/setInterval", `{"pollingIntervalSeconds": 0}`), 400, "pollingIntervalSeconds must be between 1 and 86400 seconds"},
		{"setInterval: over a day", local("POST", "/monitors/live1/raiseEvent/setInterval", `{"pollingIntervalSeconds": 100000}`), 400, "pollingIntervalSeconds must be between 1 and 86400 seconds"},
		{"setInterval: string", local("POST", "/monitors/live1/raiseEvent/setInterval", `{"pollingIntervalSeconds": "x"}`), 400, `pollingIntervalSeconds must be a whole number, not the string "x"`},
		{"setInterval: miscased", local("POST", "/monitors/live1/raiseEvent/setInterval", `{"pollingintervalseconds": 30}`), 400, "pollingintervalseconds is not a known field"},
		{"setInterval: twice", local("POST", "/monitors/live1/raiseEvent/setInterval", `{"pollingIntervalSeconds": 30, "pollingIntervalSeconds": 60}`), 400, "pollingIntervalSeconds is given more than once"},
		{"event: key twice", local("POST", "/monitors/live1/raiseEvent/note", `{"who": {"id": 1, "id": 2}}`), 400, "who.id is given more than once"},
		{"setInterval: bare string", local("POST", "/monitors/live1/raiseEvent/setInterval", `"x"`), 400, `body must be a JSON object such as {"pollingIntervalSeconds": 30}`},
		{"setInterval: no body", local("POST", "/monitors/live1/raiseEvent/setInterval", ``), 400, `body must be a JSON object such as {"pollingIntervalSeconds": 30}`},
		{"event: huge data", local("POST", "/monitors/live1/raiseEvent/complete", `"`+strings.Repeat("x", monitor.MaxEventDataBytes)+`"`), 413, fmt.Sprintf("the limit is %d", monitor.MaxEventDataBytes)},
		{"event: multipart", withHeader(local("POST", "/monitors/live1/raiseEvent/complete", `{}`), "content-type", "multipart/form-data; boundary=x"), 415, "Content-Type must be JSON (application/json or a +json type"},

		// DELETE /monitors/{id}.
		{"purge: bad id", local("DELETE", "/monitors/x%20y", ""), 400, "id must be 1 to 64"},

		// Routes and methods.
		{"unknown route", local("GET", "/monitor", ""), 404, "no route GET /monitor"},
		{"too deep", local("GET", "/monitors/live1/history", ""), 404, "no route GET /monitors/live1/history"},
		{"PUT collection", local("PUT", "/monitors", native("")), 405, "PUT is not allowed on /monitors; use GET or POST"},
		{"PATCH item", local("PATCH", "/monitors/live1", ""), 405, "use DELETE or GET"},
		{"GET terminate", local("GET", "/monitors/live1/terminate", ""), 405, "use POST"},
		// Methods are case-sensitive: API Gateway routes none of these.
		{"lowercase post", local("post", "/monitors", native("")), 405, "post is not allowed on /monitors; use GET or POST"},
		{"lowercase delete", local("delete", "/monitors/live1", ""), 405, "delete is not allowed on /monitors/{id}; use DELETE or GET"},
		{"mixed-case terminate", local("Post", "/monitors/live1/terminate", ""), 405, "Post is not allowed on /monitors/{id}/terminate; use POST"},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d malformed requests", len(tests))
	}
	// Each method of each route has a malformed request of its own: a
	// route added to routes needs its cases here.
	covered := map[string]bool{}
	for _, tc := range tests {
		if route, _, _, ok := match(&tc.req); ok && tc.status != http.StatusMethodNotAllowed {
			covered[tc.req.HTTPMethod+" "+route] = true
		}
	}
	for route, methods := range routes {
		for method := range methods {
			if !covered[method+" "+route] {
				t.Errorf("no malformed request to %s %s: add cases for it", method, route)
			}
		}
	}

	e := newEnv(t)
	e.start(t, `{"instanceId":"live1","target":{"type":"simulated"}}`)
	before := e.snapshot(t)
	starts0, stops0 := e.wf.calls()

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(t, tc.req)
			wantStatus(t, resp, tc.status)
			body := decode[ErrorBody](t, resp)
			if !strings.Contains(body.Message, tc.want) {
				t.Errorf("message = %q, want it to contain %q", body.Message, tc.want)
			}
			if body.Error == "" {
				t.Errorf("error code is empty")
			}
			if starts, stops := e.wf.calls(); starts != starts0 || stops != stops0 {
				t.Errorf("workflow calls = %d starts, %d stops; want %d, %d", starts, stops, starts0, stops0)
			}
			if after := e.snapshot(t); after != before {
				t.Errorf("the store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

func TestBadInputFieldsAndAllow(t *testing.T) {
	e := newEnv(t)
	resp := e.do(t, local("POST", "/monitors", `{"target":{"type":"http","url":"ftp://x"},"pollingIntervalSeconds":0,"alert":{"phone":"1"}}`))
	wantStatus(t, resp, 400)
	body := decode[ErrorBody](t, resp)
	if body.Error != "invalid" {
		t.Errorf("error = %q", body.Error)
	}
	fields := map[string]bool{}
	for _, f := range body.Fields {
		fields[f.Field] = true
	}
	for _, f := range []string{"target.url", "pollingIntervalSeconds", "alert.phone"} {
		if !fields[f] {
			t.Errorf("fields %+v lack %s", body.Fields, f)
		}
	}

	// Type errors and unknown fields are fields too, all in input order.
	resp = e.do(t, local("POST", "/monitors", `{"job_id":5,"polling_interval_seconds":"x","timeout_seconds":-1,"colour":1}`))
	wantStatus(t, resp, 400)
	want := []monitor.FieldError{
		{Field: "job_id", Problem: "must be a string, not the number 5"},
		{Field: "polling_interval_seconds", Problem: `must be a whole number, not the string "x"`},
		{Field: "timeout_seconds", Problem: "must be between 1 and 31536000 seconds (one year)"},
		{Field: "colour", Problem: "is not a known field"},
	}
	if got := decode[ErrorBody](t, resp).Fields; !slices.Equal(got, want) {
		t.Errorf("fields = %q, want %q", got, want)
	}
	resp = e.do(t, local("POST", "/monitors/nobody/raiseEvent/setInterval", `{"pollingIntervalSeconds":0}`))
	wantStatus(t, resp, 400)
	want = []monitor.FieldError{{Field: "pollingIntervalSeconds", Problem: "must be between 1 and 86400 seconds"}}
	if got := decode[ErrorBody](t, resp).Fields; !slices.Equal(got, want) {
		t.Errorf("setInterval fields = %q, want %q", got, want)
	}

	resp = e.do(t, local("PUT", "/monitors", ""))
	wantStatus(t, resp, 405)
	if got := resp.Headers["Allow"]; got != "GET, POST" {
		t.Errorf("Allow = %q", got)
	}
	if got := decode[ErrorBody](t, resp).Error; got != "method_not_allowed" {
		t.Errorf("error = %q", got)
	}
}

// Input echoed in a message is cut to the stated number of bytes, "…"
// included, on a character boundary.
func TestEchoedInputIsClipped(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/" + strings.Repeat("x", 300), "/" + strings.Repeat("é", 300)} {
		resp := e.do(t, local("GET", path, ""))
		wantStatus(t, resp, 404)
		msg := decode[ErrorBody](t, resp).Message
		echoed, ok := strings.CutPrefix(msg, "no route GET ")
		if ok {
			echoed, _, ok = strings.Cut(echoed, "; see docs/api.md")
		}
		if !ok || !strings.HasSuffix(echoed, "…") || len(echoed) > 200 || !utf8.ValidString(echoed) || !strings.HasPrefix(path, strings.TrimSuffix(echoed, "…")) {
			t.Errorf("message = %q, want the path cut to at most 200 bytes with a …", msg)
		}
	}
}
