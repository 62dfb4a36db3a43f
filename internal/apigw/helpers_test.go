package apigw

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
)

const arnPrefix = "arn:aws:states:eu-west-1:123456789012:execution:stepmon-monitor:"

var t0 = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// fakeWorkflow is an in-process monitor.Workflow that records its calls.
type fakeWorkflow struct {
	mu       sync.Mutex
	starts   []string
	stops    []string
	startErr error
	stopErr  error
}

func (w *fakeWorkflow) Start(_ context.Context, name string, _ []byte) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.starts = append(w.starts, name)
	if w.startErr != nil {
		return "", w.startErr
	}
	return arnPrefix + name, nil
}

func (w *fakeWorkflow) Stop(_ context.Context, arn, _, _ string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stops = append(w.stops, arn)
	return w.stopErr
}

func (w *fakeWorkflow) calls() (starts, stops int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.starts), len(w.stops)
}

// flakyStore is a monitor.Store whose Get fails with err when err is set.
type flakyStore struct {
	*memstore.Store
	err error
}

func (s *flakyStore) Get(ctx context.Context, id string) (monitor.Record, error) {
	if s.err != nil {
		return monitor.Record{}, s.err
	}
	return s.Store.Get(ctx, id)
}

type env struct {
	h     *Handler
	store *flakyStore
	wf    *fakeWorkflow
	now   time.Time
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{store: &flakyStore{Store: memstore.New()}, wf: &fakeWorkflow{}, now: t0}
	api := &monitor.API{Store: e.store, Workflow: e.wf, Logger: slog.New(slog.DiscardHandler),
		Clock: monitor.ClockFunc(func() time.Time { return e.now })}
	e.h = NewHandler(api, slog.New(slog.DiscardHandler))
	return e
}

// do serves req and fails the test on a non-nil error.
func (e *env) do(t testing.TB, req events.APIGatewayProxyRequest) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := e.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned error %v; it must always answer", err)
	}
	return resp
}

// local returns a request as stepmon serve builds it.
func local(method, path, body string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{
		HTTPMethod: method,
		Path:       path,
		Headers:    map[string]string{"Host": "127.0.0.1:8080", "X-Forwarded-Proto": "http"},
		Body:       body,
		RequestContext: events.APIGatewayProxyRequestContext{
			Stage: "$default", Path: path, HTTPMethod: method, DomainName: "127.0.0.1",
		},
	}
}

// withQuery adds single-valued query parameters.
func withQuery(req events.APIGatewayProxyRequest, kv ...string) events.APIGatewayProxyRequest {
	req.QueryStringParameters = map[string]string{}
	req.MultiValueQueryStringParameters = map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		req.QueryStringParameters[kv[i]] = kv[i+1]
		req.MultiValueQueryStringParameters[kv[i]] = append(req.MultiValueQueryStringParameters[kv[i]], kv[i+1])
	}
	return req
}

func withHeader(req events.APIGatewayProxyRequest, name, value string) events.APIGatewayProxyRequest {
	h := map[string]string{}
	for k, v := range req.Headers {
		h[k] = v
	}
	h[name] = value
	req.Headers = h
	return req
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func proxyFixture(t testing.TB, name string) events.APIGatewayProxyRequest {
	t.Helper()
	var req events.APIGatewayProxyRequest
	if err := json.Unmarshal(fixture(t, name), &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

func decode[T any](t testing.TB, resp events.APIGatewayProxyResponse) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return v
}

func wantStatus(t testing.TB, resp events.APIGatewayProxyResponse, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	if ct := resp.Headers["Content-Type"]; ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
}

// start starts a monitor through the API and returns its id.
func (e *env) start(t testing.TB, body string) string {
	t.Helper()
	resp := e.do(t, local("POST", "/monitors", body))
	wantStatus(t, resp, 202)
	return decode[StartResponse](t, resp).ID
}

// finish terminates a monitor directly, without the handler.
func (e *env) finish(t testing.TB, id string) {
	t.Helper()
	if _, err := e.h.API.Terminate(context.Background(), id, "done"); err != nil {
		t.Fatal(err)
	}
}

// snapshot returns everything the store holds, as JSON.
func (e *env) snapshot(t testing.TB) string {
	t.Helper()
	page, err := e.store.List(context.Background(), monitor.ListQuery{Top: monitor.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var recs []monitor.Record
	for _, r := range page.Records {
		full, err := e.store.Store.Get(context.Background(), r.InstanceID)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, full)
	}
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var errBoom = errors.New("dynamodb: connection reset by peer")
