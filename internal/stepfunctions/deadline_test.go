package stepfunctions_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/stepfunctions"
)

// hangingClient is a client whose StartExecution and StopExecution wait
// for their context to end, a black-holed connection. Its
// DescribeExecution answers at once that there is no such execution, as
// Step Functions does, unless its context has already ended; it records
// when it answered.
type hangingClient struct {
	mu         sync.Mutex
	described  bool
	answeredAt time.Time
}

func (*hangingClient) StartExecution(ctx context.Context, _ *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (*hangingClient) StopExecution(ctx context.Context, _ *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (c *hangingClient) DescribeExecution(ctx context.Context, _ *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.described = true
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.answeredAt = time.Now()
	return nil, &types.ExecutionDoesNotExist{Message: aws.String("execution does not exist")}
}

// releaseClock is a store that records when a claim was released.
type releaseClock struct {
	*memstore.Store
	mu         sync.Mutex
	releasedAt time.Time
}

func (s *releaseClock) ReleaseClaim(ctx context.Context, id string, created time.Time) error {
	s.mu.Lock()
	s.releasedAt = time.Now()
	s.mu.Unlock()
	return s.Store.ReleaseClaim(ctx, id, created)
}

// A start whose StartExecution hangs until the invocation's deadline (on
// Lambda, the function's timeout, after which nothing runs) still looks for
// the execution, releases its claim and answers 503 unavailable before that
// deadline, so that a retry of the same body can start the monitor.
func TestStartHangingUntilDeadlineCleansUpInTime(t *testing.T) {
	client := &hangingClient{}
	store := &releaseClock{Store: memstore.New()}
	api := &monitor.API{Store: store,
		Workflow: stepfunctions.New(client, "arn:aws:states:eu-west-1:123456789012:stateMachine:stepmon-monitor"),
		Logger:   slog.New(slog.DiscardHandler)}
	h := apigw.NewHandler(api, slog.New(slog.DiscardHandler))

	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	resp, err := h.Handle(ctx, events.APIGatewayProxyRequest{
		HTTPMethod: http.MethodPost, Resource: "/monitors", Path: "/monitors",
		Headers: map[string]string{"Host": "api.example.com", "Content-Type": "application/json"},
		Body:    `{"instanceId":"dl","target":{"type":"simulated"}}`,
		RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", Path: "/v1/monitors",
			ResourcePath: "/monitors", DomainName: "api.example.com"},
	})
	answered := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if answered.After(deadline) {
		t.Errorf("answered %v after the deadline", answered.Sub(deadline).Round(time.Millisecond))
	}
	var body struct{ Error string }
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || body.Error != "unavailable" || resp.Headers["Retry-After"] == "" {
		t.Errorf("answer = %d %s (Retry-After %q), want 503 unavailable with Retry-After",
			resp.StatusCode, resp.Body, resp.Headers["Retry-After"])
	}
	client.mu.Lock()
	described, describeAnswered := client.described, client.answeredAt
	client.mu.Unlock()
	switch {
	case !described:
		t.Error("the start did not look for an execution its lost answer may have started")
	case describeAnswered.IsZero():
		t.Error("the look for an execution was left no time to be answered")
	case describeAnswered.After(deadline):
		t.Errorf("the look for an execution was answered %v after the deadline", describeAnswered.Sub(deadline).Round(time.Millisecond))
	}
	store.mu.Lock()
	releasedAt := store.releasedAt
	store.mu.Unlock()
	switch {
	case releasedAt.IsZero():
		t.Error("the claim was not released")
	case releasedAt.After(deadline):
		t.Errorf("the claim was released %v after the deadline", releasedAt.Sub(deadline).Round(time.Millisecond))
	}
	if _, err := store.Get(t.Context(), "dl"); monitor.KindOf(err) != monitor.KindNotFound {
		t.Errorf("Get(dl) after the failed start = %v, want not found", err)
	}
}

// Start keeps back part of its caller's deadline from a StartExecution
// that gets no answer, so that its look for an execution the start may
// have started is still answered; the start then fails as unavailable.
func TestStartHangingLeavesTimeToLook(t *testing.T) {
	client := &hangingClient{}
	w := stepfunctions.New(client, "arn:aws:states:eu-west-1:123456789012:stateMachine:stepmon-monitor")
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := w.Start(ctx, "dl", []byte(`{}`))
	if monitor.KindOf(err) != monitor.KindUnavailable {
		t.Errorf("Start = %v, want unavailable", err)
	}
	client.mu.Lock()
	defer client.mu.Unlock()
	if !client.described || client.answeredAt.IsZero() {
		t.Errorf("looked for the execution: %t, answered: %t; want both", client.described, !client.answeredAt.IsZero())
	}
}
