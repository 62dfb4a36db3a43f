package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
)

func TestStartOnAPIGateway(t *testing.T) {
	e := newEnv(t)
	e.h.API.NewID = func() string { return "0123456789abcdef0123456789abcdef" }
	resp := e.do(t, proxyFixture(t, "start-execute-api.json"))
	wantStatus(t, resp, http.StatusAccepted)
	base := "https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1/monitors/0123456789abcdef0123456789abcdef"
	want := StartResponse{
		ID:                    "0123456789abcdef0123456789abcdef",
		StatusQueryGetURI:     base,
		SendEventPostURI:      base + "/raiseEvent/{eventName}",
		TerminatePostURI:      base + "/terminate?reason={text}",
		PurgeHistoryDeleteURI: base,
	}
	if got := decode[StartResponse](t, resp); got != want {
		t.Errorf("body = %+v\nwant   %+v", got, want)
	}
	if got := resp.Headers["Location"]; got != base {
		t.Errorf("Location = %q", got)
	}
	if got := resp.Headers["Retry-After"]; got != "10" {
		t.Errorf("Retry-After = %q, want the polling interval 10", got)
	}
	if strings.Contains(resp.Body, `\u0026`) || !strings.Contains(resp.Body, "?reason={text}") {
		t.Errorf("body escapes URLs: %s", resp.Body)
	}
	if starts, _ := e.wf.calls(); starts != 1 {
		t.Errorf("workflow starts = %d", starts)
	}
}

func TestStartAnswers(t *testing.T) {
	e := newEnv(t)
	resp := e.do(t, local("POST", "/monitors", `{"instanceId":"s1","target":{"type":"simulated"},"pollingIntervalSeconds":300}`))
	wantStatus(t, resp, http.StatusAccepted)
	if got := resp.Headers["Location"]; got != "http://127.0.0.1:8080/monitors/s1" {
		t.Errorf("Location = %q", got)
	}
	if got := resp.Headers["Retry-After"]; got != "60" {
		t.Errorf("Retry-After = %q, want 60 (capped)", got)
	}

	resp = e.do(t, local("POST", "/monitors", `{"instanceId":"s1","target":{"type":"simulated"}}`))
	wantStatus(t, resp, http.StatusConflict)
	if body := decode[ErrorBody](t, resp); body.Error != "conflict" || body.Message != `a monitor with instance id "s1" already exists` {
		t.Errorf("body = %+v", body)
	}

	e.wf.startErr = monitor.Errorf(monitor.KindUnavailable, "stepfunctions: start s2", "Step Functions is unavailable; retry later")
	resp = e.do(t, local("POST", "/monitors", `{"instanceId":"s2","target":{"type":"simulated"}}`))
	wantStatus(t, resp, http.StatusServiceUnavailable)
	if body := decode[ErrorBody](t, resp); body.Error != "unavailable" || !strings.Contains(body.Message, "nothing was started") {
		t.Errorf("body = %+v", body)
	}
	wantStatus(t, e.do(t, local("GET", "/monitors/s2", "")), http.StatusNotFound)

	// Base64 bodies and charset parameters are fine.
	e.wf.startErr = nil
	req := withHeader(local("POST", "/monitors", "eyJqb2JfaWQiOiJiNjQifQ=="), "content-type", "application/json; charset=utf-8")
	req.IsBase64Encoded = true
	wantStatus(t, e.do(t, req), http.StatusAccepted)
	// curl -d without a Content-Type header sends form-urlencoded.
	req = withHeader(local("POST", "/monitors", `{"job_id":"curl"}`), "Content-Type", "application/x-www-form-urlencoded")
	wantStatus(t, e.do(t, req), http.StatusAccepted)
}

// The media types docs/api.md accepts for a JSON body: absent,
// application/json or any +json type (application/merge-patch+json, a
// vendor type), text/plain and application/x-www-form-urlencoded (what
// curl -d sends); any other is 415. A request without a body has nothing
// to be of the wrong type: a raiseEvent whose client sends a Content-Type
// with no data is taken, not refused.
func TestContentTypes(t *testing.T) {
	start := `{"target":{"type":"simulated"}}`
	for _, tc := range []struct {
		name, path, contentType, body string
		status                        int
		message                       string // the 415's message, when set
	}{
		{"malformed", "/monitors", "application/json;;", start, 415, `Content-Type "application/json;;" is malformed (invalid media parameter): send Content-Type: application/json`},
		{"a parameter without a value", "/monitors", "application/json; charset", start, 415, `Content-Type "application/json; charset" is malformed (invalid media parameter): send Content-Type: application/json`},
		{"absent", "/monitors", "", start, 202, ""},
		{"application/json", "/monitors", "application/json", start, 202, ""},
		{"a vendor +json type", "/monitors", "application/vnd.api+json", start, 202, ""},
		{"merge-patch+json with a charset", "/monitors", "application/merge-patch+json; charset=utf-8", start, 202, ""},
		{"text/plain", "/monitors", "text/plain", start, 202, ""},
		{"form-urlencoded", "/monitors", "application/x-www-form-urlencoded", start, 202, ""},
		{"xml", "/monitors", "application/xml", start, 415, ""},
		{"json as a suffix without +", "/monitors", "application/xjson", start, 415, ""},
		{"event data with a +json type", "/monitors/ct/raiseEvent/note", "application/problem+json", `{"a":1}`, 202, ""},
		{"event without data, xml", "/monitors/ct/raiseEvent/complete", "application/xml", "", 202, ""},
		{"event with data, xml", "/monitors/ct/raiseEvent/note", "application/xml", `{"a":1}`, 415, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.start(t, `{"instanceId":"ct","target":{"type":"simulated"}}`)
			req := local("POST", tc.path, tc.body)
			if tc.contentType != "" {
				req = withHeader(req, "Content-Type", tc.contentType)
			}
			resp := e.do(t, req)
			wantStatus(t, resp, tc.status)
			if tc.status == 415 {
				body := decode[ErrorBody](t, resp)
				if body.Error != "unsupported_media_type" {
					t.Errorf("got error %q, want unsupported_media_type", body.Error)
				}
				if tc.message != "" && body.Message != tc.message {
					t.Errorf("message %q, want %q", body.Message, tc.message)
				}
			}
		})
	}
}

func TestGetAnswers(t *testing.T) {
	e := newEnv(t)
	e.start(t, `{"instanceId":"my-job-123","target":{"type":"simulated"},"pollingIntervalSeconds":10}`)
	if err := e.h.API.RaiseEvent(t.Context(), "my-job-123", "checkNow", nil); err != nil {
		t.Fatal(err)
	}

	resp := e.do(t, proxyFixture(t, "get-execute-api.json"))
	wantStatus(t, resp, http.StatusAccepted)
	if got := resp.Headers["Location"]; got != "https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1/monitors/my-job-123" {
		t.Errorf("Location = %q", got)
	}
	if got := resp.Headers["Retry-After"]; got != "10" {
		t.Errorf("Retry-After = %q", got)
	}
	st := decode[StatusResponse](t, resp)
	if st.InstanceID != "my-job-123" || st.Name != "JobMonitor" || st.RuntimeStatus != monitor.RuntimePending ||
		st.ExecutionArn != arnPrefix+"my-job-123" || st.PendingEvents != 1 || st.Output != nil ||
		!st.CreatedTime.Equal(t0) || st.Input.Target.Type != "simulated" {
		t.Errorf("status = %+v", st)
	}
	// Once a check has recorded the interval it uses (after a
	// setInterval, a backoff), Retry-After follows it.
	if _, err := e.store.RecordCheck(t.Context(), "my-job-123", monitor.CheckUpdate{At: t0.Add(time.Second),
		CustomStatus: monitor.CustomStatus{CheckCount: 1, Status: "Running", LastCheckTime: t0.Add(time.Second), IntervalSeconds: 25}}); err != nil {
		t.Fatal(err)
	}
	if got := e.do(t, proxyFixture(t, "get-execute-api.json")).Headers["Retry-After"]; got != "25" {
		t.Errorf("Retry-After = %q, want the current interval 25", got)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(resp.Body), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime", "lastUpdatedTime", "executionArn"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("status lacks %q: %s", k, resp.Body)
		}
	}
	if _, ok := raw["events"]; ok {
		t.Errorf("status shows raw events: %s", resp.Body)
	}

	e.now = t0.Add(time.Minute)
	e.finish(t, "my-job-123")
	resp = e.do(t, proxyFixture(t, "get-execute-api.json"))
	wantStatus(t, resp, http.StatusOK)
	if _, ok := resp.Headers["Location"]; ok {
		t.Errorf("a finished monitor's status has a Location header")
	}
	st = decode[StatusResponse](t, resp)
	if st.RuntimeStatus != monitor.RuntimeTerminated || st.Output == nil || st.Output.FinalStatus != monitor.FinalTerminated ||
		st.Output.MonitoringDurationSeconds != 60 {
		t.Errorf("finished status = %+v, output %+v", st, st.Output)
	}

	resp = e.do(t, local("GET", "/monitors/unknown", ""))
	wantStatus(t, resp, http.StatusNotFound)
	if body := decode[ErrorBody](t, resp); body.Error != "not_found" || body.Message != `no monitor with instance id "unknown"` {
		t.Errorf("body = %+v", body)
	}
}

// No answer that shows a monitor shows its secrets: header values, a
// target URL's query, a webhook URL's path.
func TestAnswersRedactSecrets(t *testing.T) {
	e := newEnv(t)
	e.start(t, `{"instanceId":"sec","target":{"type":"http","url":"https://jobs.example.com/jobs/42?api_key=s3cret-query",
		"headers":{"Authorization":"Bearer s3cret-header"}},
		"alert":{"webhookUrl":"https://hooks.slack.com/services/T000/B000/s3cret-path"}}`)
	answers := map[string]events.APIGatewayProxyResponse{
		"get":  e.do(t, local("GET", "/monitors/sec", "")),
		"list": e.do(t, local("GET", "/monitors", "")),
	}
	answers["terminate"] = e.do(t, local("POST", "/monitors/sec/terminate", ""))
	for name, resp := range answers {
		if resp.StatusCode >= 300 {
			t.Fatalf("%s: status %d: %s", name, resp.StatusCode, resp.Body)
		}
		if strings.Contains(resp.Body, "s3cret") {
			t.Errorf("%s answer shows a secret: %s", name, resp.Body)
		}
		for _, want := range []string{`"Authorization":"(redacted)"`, `https://jobs.example.com/jobs/42?(redacted)`, `https://hooks.slack.com/(redacted)`} {
			if !strings.Contains(resp.Body, want) {
				t.Errorf("%s answer lacks %s: %s", name, want, resp.Body)
			}
		}
	}
	// The store keeps the spec whole: the checks need it.
	rec, err := e.store.Get(t.Context(), "sec")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Input.Target.Headers["Authorization"] != "Bearer s3cret-header" {
		t.Errorf("stored headers = %v", rec.Input.Target.Headers)
	}
}

func TestStartRefusesTopicNotAllowed(t *testing.T) {
	e := newEnv(t)
	list, err := monitor.NewTopicAllowList("arn:aws:sns:eu-west-1:123456789012:stepmon-alerts")
	if err != nil {
		t.Fatal(err)
	}
	e.h.API.AlertTopics = list
	resp := e.do(t, local("POST", "/monitors", `{"target":{"type":"simulated"},"alert":{"topicArn":"arn:aws:sns:eu-west-1:210987654321:elsewhere"}}`))
	wantStatus(t, resp, http.StatusBadRequest)
	body := decode[ErrorBody](t, resp)
	if body.Error != "invalid" || len(body.Fields) != 1 || body.Fields[0].Field != "alert.topicArn" {
		t.Errorf("body = %+v", body)
	}
	if starts, _ := e.wf.calls(); starts != 0 {
		t.Errorf("%d executions started", starts)
	}
	resp = e.do(t, local("POST", "/monitors", `{"target":{"type":"simulated"},"alert":{"topicArn":"arn:aws:sns:eu-west-1:123456789012:stepmon-alerts"}}`))
	wantStatus(t, resp, http.StatusAccepted)
}

// A start that breaks the deployment's alert rules (topics, SMS channels)
// and others lists every problem at once, in input order, as it does
// for the request's own problems.
func TestStartListsDeploymentProblemsWithTheOthers(t *testing.T) {
	const (
		allowed = "arn:aws:sns:eu-west-1:123456789012:stepmon-alerts"
		foreign = "arn:aws:sns:eu-west-1:210987654321:elsewhere"
		phone   = `"phone":"+14255550100"`
	)
	tests := []struct {
		name string
		sms  monitor.SMSChannels
		body string
		want []string // fields, in order
	}{
		{"topic first", nil, `{"target":{"type":"simulated"},"alert":{"topicArn":"` + foreign + `"},"timeoutSeconds":0}`,
			[]string{"alert.topicArn", "timeoutSeconds"}},
		{"topic last", nil, `{"pollingIntervalSeconds":0,"target":{"type":"simulated"},"alert":{"topicArn":"` + foreign + `"}}`,
			[]string{"pollingIntervalSeconds", "alert.topicArn"}},
		{"channel", monitor.SMSChannels{"sns"}, `{"target":{"type":"simulated","completeAfterChecks":0},"alert":{` + phone + `,"channel":"twilio"}}`,
			[]string{"target.completeAfterChecks", "alert.channel"}},
		{"github seed", monitor.SMSChannels{}, `{"repo":"not a repo",` + phone + `}`,
			[]string{"repo", "phone"}},
		{"an alert's own problem only", nil, `{"target":{"type":"simulated"},"alert":{"topicArn":"arn:nope"},"timeoutSeconds":0}`,
			[]string{"alert.topicArn", "timeoutSeconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			list, err := monitor.NewTopicAllowList(allowed)
			if err != nil {
				t.Fatal(err)
			}
			e.h.API.AlertTopics, e.h.API.SMSChannels = list, tt.sms
			resp := e.do(t, local("POST", "/monitors", tt.body))
			wantStatus(t, resp, http.StatusBadRequest)
			var got []string
			for _, f := range decode[ErrorBody](t, resp).Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("fields = %q, want %q; body %s", got, tt.want, resp.Body)
			}
			if starts, _ := e.wf.calls(); starts != 0 {
				t.Errorf("%d executions started", starts)
			}
		})
	}
}

func TestListAnswers(t *testing.T) {
	e := newEnv(t)
	for i, id := range []string{"l1", "l2", "l3"} {
		e.now = t0.Add(time.Duration(i) * time.Minute)
		e.start(t, `{"instanceId":"`+id+`","target":{"type":"simulated"}}`)
	}
	e.finish(t, "l2")

	// Page 1 on a custom domain: Running or Pending, one per page.
	resp := e.do(t, proxyFixture(t, "list-custom-domain.json"))
	wantStatus(t, resp, http.StatusOK)
	page := decode[ListResponse](t, resp)
	if len(page.Monitors) != 1 || page.Monitors[0].InstanceID != "l3" || page.ContinuationToken == nil {
		t.Fatalf("page 1 = %+v", page)
	}
	token := *page.ContinuationToken
	if got := resp.Headers[ContinuationHeader]; got != token {
		t.Errorf("%s header = %q, want %q", ContinuationHeader, got, token)
	}

	// Page 2 with the token in the header, as Durable clients send it.
	req := withHeader(proxyFixture(t, "list-custom-domain.json"), "x-ms-continuation-token", token)
	resp = e.do(t, req)
	wantStatus(t, resp, http.StatusOK)
	page = decode[ListResponse](t, resp)
	if len(page.Monitors) != 1 || page.Monitors[0].InstanceID != "l1" {
		t.Fatalf("page 2 = %+v", page)
	}
	// l1 was the last match: page 3 is empty, the token null.
	if page.ContinuationToken != nil {
		resp = e.do(t, withQuery(local("GET", "/monitors", ""), "runtimeStatus", "Running,Pending", "top", "1", "continuationToken", *page.ContinuationToken))
		wantStatus(t, resp, http.StatusOK)
		page = decode[ListResponse](t, resp)
		if len(page.Monitors) != 0 || page.ContinuationToken != nil {
			t.Fatalf("page 3 = %+v", page)
		}
	}
	if !strings.Contains(resp.Body, `"continuationToken":null`) || !strings.Contains(resp.Body, `"monitors":[`) {
		t.Errorf("last page body = %s", resp.Body)
	}
	if _, ok := resp.Headers[ContinuationHeader]; ok {
		t.Errorf("last page has a %s header", ContinuationHeader)
	}

	// Filters by time: only l2 was created in [t0+1m, t0+2m).
	resp = e.do(t, withQuery(local("GET", "/monitors", ""), "createdTimeFrom", "2026-01-02T15:05:05Z", "createdTimeTo", "2026-01-02T15:06:05Z"))
	wantStatus(t, resp, http.StatusOK)
	if page := decode[ListResponse](t, resp); len(page.Monitors) != 1 || page.Monitors[0].InstanceID != "l2" {
		t.Errorf("time filter = %+v", page)
	}
	resp = e.do(t, withQuery(local("GET", "/monitors/", ""), "runtimeStatus", "terminated"))
	wantStatus(t, resp, http.StatusOK)
	if page := decode[ListResponse](t, resp); len(page.Monitors) != 1 || page.Monitors[0].RuntimeStatus != monitor.RuntimeTerminated {
		t.Errorf("status filter = %+v", page)
	}
}

// An empty continuationToken is refused, not read as the first page: a
// client that sends back an empty token (a null read as "") would
// otherwise start the listing again and page forever. Leaving the
// parameter out asks for the first page.
func TestListRefusesAnEmptyToken(t *testing.T) {
	e := newEnv(t)
	e.start(t, `{"instanceId":"l1","target":{"type":"simulated"}}`)
	want := []monitor.FieldError{{Field: "continuationToken", Problem: "is empty; leave it out for the first page"}}
	for _, tc := range []struct {
		name string
		req  events.APIGatewayProxyRequest
	}{
		{"empty in the query", withQuery(local("GET", "/monitors", ""), "continuationToken", "")},
		{"empty with other filters", withQuery(local("GET", "/monitors", ""), "top", "1", "continuationToken", "")},
		{"empty in the query and the header", withHeader(withQuery(local("GET", "/monitors", ""), "continuationToken", ""), ContinuationHeader, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(t, tc.req)
			wantStatus(t, resp, http.StatusBadRequest)
			if got := decode[ErrorBody](t, resp).Fields; !slices.Equal(got, want) {
				t.Errorf("got fields %q, want %q", got, want)
			}
		})
	}
	wantStatus(t, e.do(t, local("GET", "/monitors", "")), http.StatusOK)
}

func TestTerminateAnswers(t *testing.T) {
	e := newEnv(t)
	e.start(t, `{"instanceId":"t1","target":{"type":"simulated"}}`)
	e.start(t, `{"instanceId":"t2","target":{"type":"simulated"}}`)

	resp := e.do(t, withQuery(local("POST", "/monitors/t1/terminate", ""), "reason", "no longer needed"))
	wantStatus(t, resp, http.StatusAccepted)
	st := decode[StatusResponse](t, resp)
	if st.RuntimeStatus != monitor.RuntimeTerminated || st.Output.Detail != "terminated: no longer needed" {
		t.Errorf("status = %+v", st)
	}
	if _, stops := e.wf.calls(); stops != 1 || e.wf.stops[0] != arnPrefix+"t1" {
		t.Errorf("stops = %v", e.wf.stops)
	}

	resp = e.do(t, local("POST", "/monitors/t1/terminate", ""))
	wantStatus(t, resp, http.StatusGone)
	if body := decode[ErrorBody](t, resp); body.Error != "gone" || !strings.Contains(body.Message, "already finished (Terminated)") {
		t.Errorf("body = %+v", body)
	}
	wantStatus(t, e.do(t, local("POST", "/monitors/nope/terminate", "")), http.StatusNotFound)

	e.wf.stopErr = monitor.Errorf(monitor.KindUnavailable, "stepfunctions: stop", "throttled")
	resp = e.do(t, local("POST", "/monitors/t2/terminate", ""))
	wantStatus(t, resp, http.StatusServiceUnavailable)
	wantStatus(t, e.do(t, local("GET", "/monitors/t2", "")), http.StatusAccepted)
}

func TestRaiseEventAnswers(t *testing.T) {
	e := newEnv(t)
	e.start(t, `{"instanceId":"my-job-123","target":{"type":"simulated"}}`)

	resp := e.do(t, proxyFixture(t, "raise-event-base64.json"))
	wantStatus(t, resp, http.StatusAccepted)
	if got := decode[EventResponse](t, resp); got != (EventResponse{InstanceID: "my-job-123", EventName: "setInterval"}) {
		t.Errorf("body = %+v", got)
	}
	rec, err := e.store.Get(t.Context(), "my-job-123")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Events) != 1 || rec.Events[0].Name != "setInterval" || !strings.Contains(string(rec.Events[0].Data), "30") {
		t.Errorf("events = %+v", rec.Events)
	}
	wantStatus(t, e.do(t, local("POST", "/monitors/my-job-123/raiseEvent/complete", "")), http.StatusAccepted)
	wantStatus(t, e.do(t, local("POST", "/monitors/nope/raiseEvent/complete", "")), http.StatusNotFound)
	e.finish(t, "my-job-123")
	resp = e.do(t, local("POST", "/monitors/my-job-123/raiseEvent/complete", ""))
	wantStatus(t, resp, http.StatusGone)
	if body := decode[ErrorBody](t, resp); body.Message != `monitor "my-job-123" has already finished (Terminated)` {
		t.Errorf("body = %+v", body)
	}
}

func TestPurgeAnswers(t *testing.T) {
	e := newEnv(t)
	e.start(t, `{"instanceId":"p1","target":{"type":"simulated"}}`)
	resp := e.do(t, local("DELETE", "/monitors/p1", ""))
	wantStatus(t, resp, http.StatusConflict)
	if body := decode[ErrorBody](t, resp); !strings.Contains(body.Message, "terminate it first") {
		t.Errorf("body = %+v", body)
	}
	e.finish(t, "p1")
	resp = e.do(t, local("DELETE", "/monitors/p1", ""))
	wantStatus(t, resp, http.StatusOK)
	if resp.Body != `{"instancesDeleted":1}` {
		t.Errorf("body = %s", resp.Body)
	}
	wantStatus(t, e.do(t, local("DELETE", "/monitors/p1", "")), http.StatusNotFound)
}

func TestInternalErrorsSayNothing(t *testing.T) {
	e := newEnv(t)
	e.store.err = errBoom
	resp := e.do(t, local("GET", "/monitors/x", ""))
	wantStatus(t, resp, http.StatusInternalServerError)
	if resp.Body != `{"error":"internal","message":"internal error"}` {
		t.Errorf("body = %s", resp.Body)
	}
	e.store.err = monitor.WrapError(monitor.KindUnavailable, "dynamostore: get x", errBoom, "throttled")
	resp = e.do(t, local("GET", "/monitors/x", ""))
	wantStatus(t, resp, http.StatusServiceUnavailable)
	if strings.Contains(resp.Body, "connection reset") {
		t.Errorf("body leaks the cause: %s", resp.Body)
	}
	if got := resp.Headers["Retry-After"]; got != "5" {
		t.Errorf("503 Retry-After = %q, want 5", got)
	}
	e.store.err = monitor.Errorf(monitor.KindRateLimited, "dynamostore: get x", "throttled")
	resp = e.do(t, local("GET", "/monitors/x", ""))
	wantStatus(t, resp, http.StatusTooManyRequests)
	if got := resp.Headers["Retry-After"]; got != "2" {
		t.Errorf("429 Retry-After = %q, want 2", got)
	}
	e.store.err = errBoom
	if resp = e.do(t, local("GET", "/monitors/x", "")); resp.Headers["Retry-After"] != "" {
		t.Errorf("500 has Retry-After %q, want none", resp.Headers["Retry-After"])
	}
}

// An internal error's answer, the handler's as the local runtime's, says
// only "internal error": the field problems it carries, like its message,
// may name what the caller must not see (a table, a key, a value read
// from the store), so they stay in the log. A caller's error keeps its
// fields, which say what to fix.
func TestInternalErrorAnswerHasNoFields(t *testing.T) {
	secret := []monitor.FieldError{{Field: "stepmon-monitors.pk", Problem: "secret value s3cr3t"}}
	internal := &monitor.Error{Kind: monitor.KindInternal, Op: "dynamostore: get x", Message: "decode", Fields: secret}
	tests := []struct {
		name   string
		err    error
		status int
		want   string // the whole body
	}{
		{"internal", internal, 500, `{"error":"internal","message":"internal error"}`},
		{"wrapped internal", fmt.Errorf("get: %w", internal), 500, `{"error":"internal","message":"internal error"}`},
		{"invalid", &monitor.Error{Kind: monitor.KindInvalid, Op: "start", Message: "invalid request",
			Fields: []monitor.FieldError{{Field: "target", Problem: "is required"}}}, 400,
			`{"error":"invalid","message":"invalid request: target is required","fields":[{"field":"target","problem":"is required"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ErrorResponse(tt.err)
			wantStatus(t, resp, tt.status)
			if resp.Body != tt.want {
				t.Errorf("got body %s, want %s", resp.Body, tt.want)
			}
		})
	}
}

// endingStore is a monitor.Store whose Get waits for its context to end
// and then fails as the real stores do: with err, or with the context's
// end as KindUnavailable when err is nil.
type endingStore struct {
	monitor.Store
	err error
}

func (s endingStore) Get(ctx context.Context, id string) (monitor.Record, error) {
	<-ctx.Done()
	if s.err != nil {
		return monitor.Record{}, s.err
	}
	return monitor.Record{}, monitor.WrapError(monitor.KindUnavailable, "sqlitestore: get "+id, ctx.Err(), "the request was cancelled")
}

// A request cancelled before its answer (the client leaves, stepmon serve
// closes its connection at shutdown), and the store call with it, is no
// failure of ours: it is logged at info, not as a failed request. A
// failure of the store's own while the request was ending is still an
// error, and so is a passed deadline (the function was too slow).
func TestRequestEndedIsNoFailure(t *testing.T) {
	cancelled := func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx, cancel
	}
	pastDeadline := func() (context.Context, context.CancelFunc) {
		return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	}
	for _, tc := range []struct {
		name      string
		ctx       func() (context.Context, context.CancelFunc)
		err       error
		wantLevel string
	}{
		{"the store call ends with the request", cancelled, nil, "level=INFO"},
		{"the store fails on its own", cancelled, errBoom, "level=ERROR"},
		{"the deadline passed", pastDeadline, nil, "level=ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			api := &monitor.API{Store: endingStore{Store: memstore.New(), err: tc.err}, Logger: slog.New(slog.DiscardHandler)}
			h := NewHandler(api, slog.New(slog.NewTextHandler(&logs, nil)))
			ctx, cancel := tc.ctx()
			defer cancel()
			resp, err := h.Handle(ctx, local("GET", "/monitors/x1", ""))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if tc.err == nil && resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("status = %d; want the store's 503, not an internal error", resp.StatusCode)
			}
			if line := logs.String(); !strings.Contains(line, tc.wantLevel) {
				t.Errorf("log = %q; want a line at %s", line, tc.wantLevel)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	for kind, want := range map[monitor.Kind]int{
		monitor.KindInvalid: 400, monitor.KindTooLarge: 413, monitor.KindNotFound: 404, monitor.KindConflict: 409,
		monitor.KindGone: 410, monitor.KindRateLimited: 429, monitor.KindUnavailable: 503, monitor.KindInternal: 500,
	} {
		if got := StatusOf(monitor.Errorf(kind, "op", "x")); got != want {
			t.Errorf("StatusOf(%s) = %d, want %d", kind, got, want)
		}
	}
	if got := StatusOf(errBoom); got != 500 {
		t.Errorf("StatusOf(plain error) = %d", got)
	}
}

func TestTakesQueryParameter(t *testing.T) {
	tests := []struct {
		resource, method, name string
		want                   bool
	}{
		{"/monitors/{id}/terminate", http.MethodPost, "reason", true},
		{"/monitors", http.MethodGet, "top", true},
		{"/monitors", http.MethodPost, "top", false},        // start takes no query
		{"/monitors/{id}", http.MethodGet, "reason", false}, // another route's
		{"/monitors/{id}/terminate", http.MethodGet, "reason", false},
		{"/{proxy+}", http.MethodGet, "top", false},
	}
	for _, tt := range tests {
		if got := TakesQueryParameter(tt.resource, tt.method, tt.name); got != tt.want {
			t.Errorf("TakesQueryParameter(%q, %s, %q) = %v, want %v", tt.resource, tt.method, tt.name, got, tt.want)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct {
		name  string
		req   events.APIGatewayProxyRequest
		want  string
		route string // the route's path; "/monitors" when empty
	}{
		{"execute-api with stage", events.APIGatewayProxyRequest{
			Headers:        map[string]string{"Host": "abc.execute-api.us-east-1.amazonaws.com"},
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "prod", Path: "/prod/monitors"},
		}, "https://abc.execute-api.us-east-1.amazonaws.com/prod", ""},
		{"execute-api $default", events.APIGatewayProxyRequest{
			Headers:        map[string]string{"host": "abc.execute-api.us-east-1.amazonaws.com"},
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "$default"},
		}, "https://abc.execute-api.us-east-1.amazonaws.com", ""},
		{"domain name when no Host header", events.APIGatewayProxyRequest{
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", DomainName: "abc.execute-api.eu-west-1.amazonaws.com"},
		}, "https://abc.execute-api.eu-west-1.amazonaws.com/v1", ""},
		{"custom domain with a base path", events.APIGatewayProxyRequest{
			MultiValueHeaders: map[string][]string{"Host": {"api.example.com"}},
			RequestContext:    events.APIGatewayProxyRequestContext{Stage: "v1", Path: "/stepmon/monitors"},
		}, "https://api.example.com/stepmon", ""},
		{"custom domain at the root", events.APIGatewayProxyRequest{
			Headers:        map[string]string{"Host": "api.example.com"},
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", Path: "/monitors"},
		}, "https://api.example.com", ""},
		// A path may end in one "/", which API Gateway routes as the
		// path without it (docs/api.md).
		{"custom domain with a base path, trailing slash", events.APIGatewayProxyRequest{
			Headers:        map[string]string{"Host": "api.example.com"},
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", Path: "/stepmon/monitors/"},
		}, "https://api.example.com/stepmon", ""},
		{"custom domain with a base path, item with a trailing slash", events.APIGatewayProxyRequest{
			Headers:        map[string]string{"Host": "api.example.com"},
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", Path: "/stepmon/monitors/abc/"},
		}, "https://api.example.com/stepmon", "/monitors/abc"},
		{"custom domain at the root, trailing slash", events.APIGatewayProxyRequest{
			Headers:        map[string]string{"Host": "api.example.com"},
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", Path: "/monitors/"},
		}, "https://api.example.com", ""},
		// A base path is a path: one holding a query or a fragment is
		// not taken into the URLs answered.
		{"custom domain, base path with a ?", events.APIGatewayProxyRequest{
			Headers:        map[string]string{"Host": "api.example.com"},
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", Path: "/a?b/monitors"},
		}, "https://api.example.com", ""},
		{"custom domain, base path with a #", events.APIGatewayProxyRequest{
			Headers:        map[string]string{"Host": "api.example.com"},
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", Path: "/a#b/monitors/abc"},
		}, "https://api.example.com", "/monitors/abc"},
		{"local", local("POST", "/monitors", ""), "http://127.0.0.1:8080", ""},
		{"forwarded proto list", events.APIGatewayProxyRequest{
			Headers: map[string]string{"Host": "localhost:9000", "X-Forwarded-Proto": "HTTP, https"},
		}, "http://localhost:9000", ""},
		{"bogus proto", events.APIGatewayProxyRequest{
			Headers: map[string]string{"Host": "localhost:9000", "X-Forwarded-Proto": "gopher"},
		}, "https://localhost:9000", ""},
		{"bogus host falls back", events.APIGatewayProxyRequest{
			Headers:        map[string]string{"Host": "evil.example.com/path?"},
			RequestContext: events.APIGatewayProxyRequestContext{DomainName: "api.example.com"},
		}, "https://api.example.com", ""},
		{"IPv6 host", events.APIGatewayProxyRequest{
			Headers: map[string]string{"Host": "[::1]:8080", "X-Forwarded-Proto": "http"},
		}, "http://[::1]:8080", ""},
		{"no host at all", events.APIGatewayProxyRequest{}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			route := tc.route
			if route == "" {
				route = "/monitors"
			}
			if got := baseURL(&tc.req, route); got != tc.want {
				t.Errorf("baseURL = %q, want %q", got, tc.want)
			}
		})
	}
}

// On a custom domain with a base path, a request path with the trailing
// "/" that docs/api.md allows keeps the base path in the URLs answered.
func TestCustomDomainTrailingSlash(t *testing.T) {
	e := newEnv(t)
	req := func(method, resource, path, id, body string) events.APIGatewayProxyRequest {
		return events.APIGatewayProxyRequest{
			HTTPMethod: method, Resource: resource, Path: path, Body: body,
			PathParameters: map[string]string{"id": id},
			Headers:        map[string]string{"Host": "api.example.com", "Content-Type": "application/json"},
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", Path: path,
				ResourcePath: resource, DomainName: "api.example.com"},
		}
	}
	const want = "https://api.example.com/stepmon/monitors/slash"
	resp := e.do(t, req("POST", "/monitors", "/stepmon/monitors/", "", `{"instanceId":"slash","target":{"type":"simulated"}}`))
	wantStatus(t, resp, http.StatusAccepted)
	if got := resp.Headers["Location"]; got != want {
		t.Errorf("POST /stepmon/monitors/: Location = %q, want %q", got, want)
	}
	if got := decode[StartResponse](t, resp).StatusQueryGetURI; got != want {
		t.Errorf("POST /stepmon/monitors/: statusQueryGetUri = %q, want %q", got, want)
	}
	resp = e.do(t, req("GET", "/monitors/{id}", "/stepmon/monitors/slash/", "slash", ""))
	wantStatus(t, resp, http.StatusAccepted)
	if got := resp.Headers["Location"]; got != want {
		t.Errorf("GET /stepmon/monitors/slash/: Location = %q, want %q", got, want)
	}
}

// A page of GET /monitors holds no more than maxListBody of records,
// whatever top asks: on AWS a larger answer exceeds the function's 6 MB
// and API Gateway answers 5XX. The token continues after the last record
// shown, so paging still sees every monitor once.
func TestListPageBoundedBySize(t *testing.T) {
	e := newEnv(t)
	const n = 7
	for i := range n {
		e.now = t0.Add(time.Duration(i) * time.Minute)
		e.start(t, fmt.Sprintf(`{"instanceId":"big-%d","target":{"type":"simulated"}}`, i))
	}
	one, err := json.Marshal(NewStatusResponse(monitor.Record{InstanceID: "big-0"}))
	if err != nil {
		t.Fatal(err)
	}
	defer func(old int) { maxListBody = old }(maxListBody)
	maxListBody = 8<<10 + 3*(len(one)+200) // about three records
	seen := map[string]int{}
	token := ""
	for pages := 1; ; pages++ {
		req := withQuery(local("GET", "/monitors", ""), "top", "1000")
		if token != "" {
			req = withQuery(local("GET", "/monitors", ""), "top", "1000", "continuationToken", token)
		}
		resp := e.do(t, req)
		wantStatus(t, resp, http.StatusOK)
		if len(resp.Body) > maxListBody {
			t.Errorf("page %d: %d bytes, over the bound %d", pages, len(resp.Body), maxListBody)
		}
		page := decode[ListResponse](t, resp)
		if len(page.Monitors) == 0 || len(page.Monitors) == n {
			t.Fatalf("page %d holds %d monitors; want some, not all", pages, len(page.Monitors))
		}
		for _, m := range page.Monitors {
			seen[m.InstanceID]++
		}
		if page.ContinuationToken == nil {
			break
		}
		token = *page.ContinuationToken
		if pages > n {
			t.Fatalf("more than %d pages", n)
		}
	}
	for i := range n {
		if id := fmt.Sprintf("big-%d", i); seen[id] != 1 {
			t.Errorf("%s listed %d times, want once", id, seen[id])
		}
	}
}

// A finished monitor whose alert's send was cut off shows the alert
// "unknown", as its output does, not "sending"; a running one shows the
// claim as it is.
func TestStatusResponseAlertCutOff(t *testing.T) {
	for _, tc := range []struct {
		status monitor.RuntimeStatus
		want   monitor.AlertStatus
	}{
		{monitor.RuntimeCompleted, AlertUnknown},
		{monitor.RuntimeRunning, monitor.AlertSending},
	} {
		rec := monitor.Record{InstanceID: "m", RuntimeStatus: tc.status, Alert: monitor.AlertState{Status: monitor.AlertSending, Channel: "webhook", Attempts: 1}}
		if got := NewStatusResponse(rec).Alert; got == nil || got.Status != tc.want {
			t.Errorf("%s monitor's alert = %+v, want status %s", tc.status, got, tc.want)
		}
	}
}

// A failed alert's planned retry is shown while the monitor runs, and
// not once it ended (terminated while waiting to retry, or failed for
// good): no attempt will come.
func TestStatusResponseAlertRetryAt(t *testing.T) {
	at := time.Date(2026, 12, 7, 5, 0, 40, 0, time.UTC)
	for _, tc := range []struct {
		status monitor.RuntimeStatus
		alert  monitor.AlertStatus
		want   time.Time
	}{
		{monitor.RuntimeRunning, monitor.AlertFailed, at},
		{monitor.RuntimeTerminated, monitor.AlertFailed, time.Time{}},
		{monitor.RuntimeFailed, monitor.AlertFailed, time.Time{}},
		{monitor.RuntimeRunning, monitor.AlertSent, time.Time{}},
	} {
		rec := monitor.Record{InstanceID: "m", RuntimeStatus: tc.status,
			Alert: monitor.AlertState{Status: tc.alert, Channel: "webhook", Attempts: 3, RetryAt: at}}
		got := NewStatusResponse(rec).Alert
		if got == nil || !got.RetryAt.Equal(tc.want) {
			t.Errorf("%s monitor with a %s alert: alert = %+v, want retryAt %v", tc.status, tc.alert, got, tc.want)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(string(b), `"retryAt"`); has != !tc.want.IsZero() {
			t.Errorf("%s monitor with a %s alert: JSON %s", tc.status, tc.alert, b)
		}
	}
}

// A listed record shows no alert retry time, on either runtime: DynamoDB's
// list index does not hold it, and the local stores' lists do.
func TestListLeavesOutAlertRetryAt(t *testing.T) {
	rec := monitor.Record{InstanceID: "m", RuntimeStatus: monitor.RuntimeRunning,
		Alert: monitor.AlertState{Status: monitor.AlertFailed, Attempts: 3, RetryAt: t0.Add(time.Minute)}}
	body := listBody(monitor.ListPage{Records: []monitor.Record{rec}})
	if a := body.Monitors[0].Alert; a == nil || a.Status != monitor.AlertFailed || !a.RetryAt.IsZero() {
		t.Errorf("listed alert = %+v, want failed without retryAt", a)
	}
	if got := NewStatusResponse(rec).Alert; got == nil || got.RetryAt.IsZero() {
		t.Errorf("the record's own status: alert = %+v, want its retryAt", got)
	}
}
