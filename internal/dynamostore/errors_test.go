package dynamostore_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// An error answer of an HTTP status that says the service is overloaded
// or failing (429, 5xx) is KindUnavailable, so that callers retry, also
// when its error code is one the store does not know; another status
// with such a code is KindInternal.
func TestResponseStatusKinds(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   monitor.Kind
	}{
		{http.StatusTooManyRequests, monitor.KindUnavailable},
		{http.StatusInternalServerError, monitor.KindUnavailable},
		{http.StatusBadGateway, monitor.KindUnavailable},
		{http.StatusServiceUnavailable, monitor.KindUnavailable},
		{http.StatusBadRequest, monitor.KindInternal},
		{http.StatusForbidden, monitor.KindInternal},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#SomeNewException","message":"something new"}`)
			}))
			defer srv.Close()
			cfg := motoConfig(srv.URL)
			cfg.RetryMaxAttempts = 1
			s := dynamostore.New(dynamodb.NewFromConfig(cfg), "t")
			_, err := s.Get(t.Context(), "m1")
			if got := monitor.KindOf(err); got != tc.want {
				t.Errorf("Get answered %d: kind %s (%v), want %s", tc.status, got, err, tc.want)
			}
		})
	}
}

// A record that would pass DynamoDB's item size limit is KindTooLarge,
// on Create (its input) as on AddEvent (its events), and is left as it
// was.
func testTooLarge(t *testing.T, client *dynamodb.Client) {
	s := dynamostore.New(client, newTable(t, client))
	ctx := t.Context()
	big := strings.Repeat("x", 300<<10)
	rec := monitor.Record{InstanceID: "big", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending,
		Input: monitor.Spec{JobID: "j", Target: monitor.Target{Type: monitor.TargetHTTP, URL: "https://jobs.example.com/" + big + big}}}
	if err := s.Create(ctx, rec); monitor.KindOf(err) != monitor.KindTooLarge {
		t.Errorf("Create of a record over the limit = %v, want kind %s", err, monitor.KindTooLarge)
	}
	rec.InstanceID, rec.Input.Target.URL = "m1", "https://jobs.example.com/1"
	if err := s.Create(ctx, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	data := []byte(`"` + big + `"`)
	if err := s.AddEvent(ctx, "m1", monitor.Event{Name: "a", Data: data}); err != nil {
		t.Fatalf("first AddEvent: %v", err)
	}
	if err := s.AddEvent(ctx, "m1", monitor.Event{Name: "b", Data: data}); monitor.KindOf(err) != monitor.KindTooLarge {
		t.Errorf("AddEvent past the limit = %v, want kind %s", err, monitor.KindTooLarge)
	}
	if got, err := s.Get(ctx, "m1"); err != nil || len(got.Events) != 1 {
		t.Errorf("Get after AddEvent past the limit = %d events, %v; want 1", len(got.Events), err)
	}
}

// readsTransport keeps the bodies of the GetItem and Scan requests sent
// through it.
type readsTransport struct {
	base  http.RoundTripper
	mu    sync.Mutex
	reads map[string][][]byte // by operation
}

func (c *readsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	for _, op := range []string{"GetItem", "Scan"} {
		body, err := requestBody(r, op)
		if err != nil {
			return nil, err
		}
		if body != nil {
			c.mu.Lock()
			c.reads[op] = append(c.reads[op], body)
			c.mu.Unlock()
		}
	}
	return c.base.RoundTrip(r)
}

// Every read of a record, and HasRecords' scan, is a consistent read: a
// write that has succeeded is seen (moto answers every read
// consistently, so the requests are checked).
func testReadsConsistent(t *testing.T, endpoint string, client *dynamodb.Client) {
	cfg := motoConfig(endpoint)
	rt := &readsTransport{base: cfg.HTTPClient.(*http.Client).Transport, reads: map[string][][]byte{}}
	cfg.HTTPClient = &http.Client{Transport: rt}
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client))
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := s.Create(ctx, monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := s.Get(ctx, "m1"); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if _, err := s.ConsumeEvents(ctx, "m1", time.Time{}, 1); err != nil {
		t.Fatalf("ConsumeEvents: %v", err)
	}
	if ok, err := s.HasRecords(ctx); err != nil || !ok {
		t.Fatalf("HasRecords = %v, %v", ok, err)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for op, want := range map[string]int{"GetItem": 2, "Scan": 1} {
		if got := len(rt.reads[op]); got != want {
			t.Errorf("%d %s requests, want %d", got, op, want)
		}
		for _, body := range rt.reads[op] {
			if !bytes.Contains(body, []byte(`"ConsistentRead":true`)) {
				t.Errorf("%s request %s is not a consistent read", op, body)
			}
		}
	}
}

// emptyItemTransport adds an empty Item to every answer of a failed
// condition that has none, as an answer may name the item as it was
// (ReturnValuesOnConditionCheckFailure) with no attributes at all.
type emptyItemTransport struct{ base http.RoundTripper }

func (c *emptyItemTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		return resp, err
	}
	body, err := answerBody(resp)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(body, []byte("ConditionalCheckFailedException")) && !bytes.Contains(body, []byte(`"Item"`)) {
		body = append([]byte(`{"Item":{},`), bytes.TrimPrefix(bytes.TrimSpace(body), []byte("{"))...)
	}
	return withBody(resp, body), nil
}

// A failed condition whose answer names an item without attributes is
// one on no item: the writes to a missing record are KindNotFound.
func testEmptyItemIsNone(t *testing.T, endpoint string, client *dynamodb.Client) {
	cfg := motoConfig(endpoint)
	cfg.HTTPClient = &http.Client{Transport: &emptyItemTransport{base: cfg.HTTPClient.(*http.Client).Transport}}
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client))
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for name, call := range map[string]func() error{
		"SetExecution": func() error { return s.SetExecution(ctx, "missing", time.Time{}, "arn:x", t0) },
		"RecordCheck": func() error {
			_, err := s.RecordCheck(ctx, "missing", monitor.CheckUpdate{At: t0, CustomStatus: monitor.CustomStatus{JobID: "j", CheckCount: 1}})
			return err
		},
		"Finish": func() error {
			return s.Finish(ctx, "missing", monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: t0})
		},
		"AddEvent": func() error { return s.AddEvent(ctx, "missing", monitor.Event{Name: "a", RaisedAt: t0}) },
		"ClaimAlert": func() error {
			_, _, err := s.ClaimAlert(ctx, "missing", time.Time{}, monitor.ChannelSNS, t0)
			return err
		},
		"CompleteAlert":  func() error { return s.CompleteAlert(ctx, "missing", monitor.AlertResult{Sent: true, At: t0}) },
		"DeleteFinished": func() error { return s.DeleteFinished(ctx, "missing", t0) },
		"ReleaseClaim":   func() error { return s.ReleaseClaim(ctx, "missing", t0) },
	} {
		if err := call(); monitor.KindOf(err) != monitor.KindNotFound {
			t.Errorf("%s of a missing record = %v, want kind %s", name, err, monitor.KindNotFound)
		}
	}
}
