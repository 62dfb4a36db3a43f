package apigw_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// printWorkflow is a monitor.Workflow that only says what it would do.
type printWorkflow struct{}

func (printWorkflow) Start(_ context.Context, name string, _ []byte) (string, error) {
	fmt.Println("start execution", name)
	return "arn:aws:states:us-east-1:123456789012:execution:stepmon-monitor:" + name, nil
}

func (printWorkflow) Stop(_ context.Context, arn, _, _ string) error { return nil }

// A proxy request in, a proxy response out: what the start Lambda does on
// AWS and what stepmon serve does for each HTTP request.
func ExampleHandler_Handle() {
	api := &monitor.API{Store: memstore.New(), Workflow: printWorkflow{}}
	h := apigw.NewHandler(api, slog.New(slog.DiscardHandler))

	resp, _ := h.Handle(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "POST",
		Path:       "/monitors",
		Headers:    map[string]string{"Host": "127.0.0.1:8080", "X-Forwarded-Proto": "http", "Content-Type": "application/json"},
		Body:       `{"instanceId": "nightly", "target": {"type": "simulated"}, "pollingIntervalSeconds": 5}`,
		RequestContext: events.APIGatewayProxyRequestContext{
			Stage: "$default",
		},
	})
	fmt.Println(resp.StatusCode, resp.Headers["Location"], resp.Headers["Retry-After"])
	// Output:
	// start execution nightly
	// 202 http://127.0.0.1:8080/monitors/nightly 5
}
