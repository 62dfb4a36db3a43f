package apigw_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/motoserver"
	"github.com/stepmon/stepmon/internal/stepfunctions"
)

// TestOnMoto runs the status Lambda's handler on the real adapters
// (DynamoDB store, Step Functions workflow) against moto_server, as the
// Lambdas are wired on AWS.
func TestOnMoto(t *testing.T) {
	ctx := t.Context()
	cfg := motoserver.Config(motoserver.Start(t))
	db, sf := dynamodb.NewFromConfig(cfg), sfn.NewFromConfig(cfg)
	if err := dynamostore.CreateTable(ctx, db, "stepmon-status"); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	sm, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String("stepmon-monitor"),
		Definition: aws.String(`{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::" + motoserver.AccountID + ":role/stepmon-states"),
	})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	logger := slog.New(slog.DiscardHandler)
	api := &monitor.API{
		Store:    dynamostore.New(db, "stepmon-status"),
		Workflow: stepfunctions.New(sf, aws.ToString(sm.StateMachineArn)),
		Logger:   logger,
	}
	fn := apigw.NewFunction(apigw.NewHandler(api, logger))

	call := func(method, path, body string, query ...string) events.APIGatewayProxyResponse {
		t.Helper()
		req := events.APIGatewayProxyRequest{
			HTTPMethod: method, Path: path, Body: body,
			Headers:        map[string]string{"Host": "abc123defg.execute-api.us-east-1.amazonaws.com", "Content-Type": "application/json"},
			RequestContext: events.APIGatewayProxyRequestContext{Stage: "v1", Path: "/v1" + path, RequestID: "r"},
		}
		if len(query) > 0 {
			req.QueryStringParameters = map[string]string{query[0]: query[1]}
		}
		payload, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		out, err := fn.Invoke(ctx, payload)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return out.(events.APIGatewayProxyResponse)
	}
	want := func(resp events.APIGatewayProxyResponse, status int) {
		t.Helper()
		if resp.StatusCode != status {
			t.Fatalf("status = %d, want %d: %s", resp.StatusCode, status, resp.Body)
		}
	}
	executions := func() []types.ExecutionListItem {
		t.Helper()
		out, err := sf.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn})
		if err != nil {
			t.Fatal(err)
		}
		return out.Executions
	}

	// Bad input starts and stores nothing.
	want(call("POST", "/monitors", `{"job_id":"j","polling_interval_seconds":0}`), http.StatusBadRequest)
	want(call("POST", "/monitors", `{"repo":"octocat/hello-world","phone":"555"}`), http.StatusBadRequest)
	if n := len(executions()); n != 0 {
		t.Fatalf("%d executions after bad requests", n)
	}
	resp := call("GET", "/monitors", "")
	want(resp, http.StatusOK)
	if resp.Body != `{"monitors":[],"continuationToken":null}` {
		t.Fatalf("list after bad requests = %s", resp.Body)
	}

	resp = call("POST", "/monitors", `{"instanceId":"nightly","target":{"type":"simulated"},"pollingIntervalSeconds":5}`)
	want(resp, http.StatusAccepted)
	if got := resp.Headers["Location"]; got != "https://abc123defg.execute-api.us-east-1.amazonaws.com/v1/monitors/nightly" {
		t.Errorf("Location = %q", got)
	}
	want(call("POST", "/monitors", `{"instanceId":"nightly","target":{"type":"simulated"}}`), http.StatusConflict)
	ex := executions()
	if len(ex) != 1 || aws.ToString(ex[0].Name) != "nightly" || ex[0].Status != types.ExecutionStatusRunning {
		t.Fatalf("executions = %+v", ex)
	}

	resp = call("GET", "/monitors/nightly", "")
	want(resp, http.StatusAccepted)
	var st apigw.StatusResponse
	if err := json.Unmarshal([]byte(resp.Body), &st); err != nil {
		t.Fatal(err)
	}
	if st.RuntimeStatus != monitor.RuntimePending || st.ExecutionArn != aws.ToString(ex[0].ExecutionArn) {
		t.Errorf("status = %+v", st)
	}
	want(call("POST", "/monitors/nightly/raiseEvent/checkNow", `{"why":"test"}`), http.StatusAccepted)
	want(call("DELETE", "/monitors/nightly", ""), http.StatusConflict)

	want(call("POST", "/monitors/nightly/terminate", "", "reason", "done testing"), http.StatusAccepted)
	if ex := executions(); ex[0].Status != types.ExecutionStatusAborted {
		t.Errorf("execution after terminate = %s, want ABORTED", ex[0].Status)
	}
	want(call("GET", "/monitors/nightly", ""), http.StatusOK)
	want(call("POST", "/monitors/nightly/terminate", ""), http.StatusGone)
	want(call("POST", "/monitors/nightly/raiseEvent/complete", ""), http.StatusGone)

	// The ABORTED event that follows our own StopExecution changes nothing.
	event, _ := json.Marshal(map[string]any{
		"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
		"detail": map[string]any{"executionArn": st.ExecutionArn, "status": "ABORTED", "name": "nightly"},
	})
	out, err := fn.Invoke(ctx, event)
	if err != nil || out.(apigw.RecordResult).Recorded {
		t.Errorf("ABORTED event after terminate = %+v, %v", out, err)
	}

	want(call("DELETE", "/monitors/nightly", ""), http.StatusOK)
	want(call("GET", "/monitors/nightly", ""), http.StatusNotFound)
	// Step Functions keeps the name: the id cannot be reused yet, and the
	// failed start leaves no record behind.
	want(call("POST", "/monitors", `{"instanceId":"nightly","target":{"type":"simulated"}}`), http.StatusConflict)
	want(call("GET", "/monitors/nightly", ""), http.StatusNotFound)
}
