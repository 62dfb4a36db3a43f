package apienv

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/motoserver"
	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
)

// request is an API Gateway proxy request for method and path.
func request(method, path, body string) events.APIGatewayProxyRequest {
	return events.APIGatewayProxyRequest{HTTPMethod: method, Path: path, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1"}}
}

// The DynamoDB actions the start and status functions call, through the
// store NewHandler builds, are the ones the stack grants each: starts (a
// repeated one, one of an instance id already taken, one whose execution
// cannot start) for
// start; reads, lists, an event, a terminate, a purge, and the state
// machine's and EventBridge's reports of an execution's end for status.
func TestTableActions(t *testing.T) {
	db := lambdatest.NewDynamoDB(t)
	ctx := t.Context()
	out, err := sfn.NewFromConfig(motoserver.Config(db.Endpoint)).CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String("stepmon-monitor"),
		Definition: aws.String(`{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::" + motoserver.AccountID + ":role/stepmon-states"),
	})
	if err != nil {
		t.Fatal(err)
	}
	smArn := aws.ToString(out.StateMachineArn)
	env := func(smArn string) func(string) string {
		return func(k string) string {
			return map[string]string{"TABLE_NAME": lambdatest.TableName, "STATE_MACHINE_ARN": smArn}[k]
		}
	}
	do := func(t *testing.T, h *apigw.Handler, req events.APIGatewayProxyRequest, want int) events.APIGatewayProxyResponse {
		t.Helper()
		resp, _ := h.Handle(ctx, req)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", req.HTTPMethod, req.Path, resp.StatusCode, resp.Body, want)
		}
		return resp
	}
	body := func(id string) string { return `{"instanceId":"` + id + `","target":{"type":"simulated"}}` }

	t.Run("start", func(t *testing.T) {
		ops := db.Record(t)
		h, err := NewHandler(ctx, "start", env(smArn), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"mon-1", "mon-2"} {
			do(t, h, request(http.MethodPost, "/monitors", body(id)), http.StatusAccepted)
		}
		do(t, h, request(http.MethodPost, "/monitors", body("mon-1")), http.StatusAccepted) // a repeat
		do(t, h, request(http.MethodPost, "/monitors", `{"instanceId":"mon-1","target":{"type":"simulated"},"pollingIntervalSeconds":30}`), http.StatusConflict)
		broken, err := NewHandler(ctx, "start", env(smArn+"-gone"), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := broken.Handle(ctx, request(http.MethodPost, "/monitors", body("mon-3")))
		if resp.StatusCode < 400 {
			t.Fatalf("start on a state machine that does not exist: %d %s, want an error", resp.StatusCode, resp.Body)
		}
		lambdatest.WantGranted(t, "start", ops)
	})

	t.Run("status", func(t *testing.T) {
		ops := db.Record(t)
		h, err := NewHandler(ctx, "status", env(smArn), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		fn := apigw.NewFunction(h)
		invoke := func(payload any) any {
			t.Helper()
			b, err := json.Marshal(payload)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fn.Invoke(ctx, b)
			if err != nil {
				t.Fatalf("invoke %s: %v", b, err)
			}
			return got
		}
		var rec struct{ ExecutionArn string }
		resp := do(t, h, request(http.MethodGet, "/monitors/mon-1", ""), http.StatusAccepted)
		if err := json.Unmarshal([]byte(resp.Body), &rec); err != nil || rec.ExecutionArn == "" {
			t.Fatalf("GET /monitors/mon-1: %s (%v), want a record with its execution", resp.Body, err)
		}
		do(t, h, request(http.MethodGet, "/monitors", ""), http.StatusOK)
		do(t, h, request(http.MethodPost, "/monitors/mon-1/raiseEvent/complete", `{}`), http.StatusAccepted)
		do(t, h, request(http.MethodPost, "/monitors/mon-1/terminate", ""), http.StatusAccepted)
		do(t, h, request(http.MethodDelete, "/monitors/mon-1", ""), http.StatusOK)
		invoke(apigw.RecordFailureRequest{Action: apigw.ActionRecordFailure, InstanceID: "mon-2", ExecutionArn: "arn:aws:states:us-east-1:" +
			motoserver.AccountID + ":execution:stepmon-monitor:mon-2"})
		invoke(map[string]any{"source": apigw.StatusChangeSource, "detail-type": apigw.StatusChangeDetailType,
			"detail": apigw.ExecutionStatusChange{ExecutionArn: rec.ExecutionArn, Status: "SUCCEEDED", Input: `{"instanceId":"mon-1"}`}})
		lambdatest.WantGranted(t, "status", ops)
	})
}
