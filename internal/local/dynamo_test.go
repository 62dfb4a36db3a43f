package local

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/motoserver"
)

// TestDynamoDBStatusStore runs a monitor to completion with the status
// records in DynamoDB (moto_server) instead of SQLite.
func TestDynamoDBStatusStore(t *testing.T) {
	endpoint := motoserver.Start(t)
	const table = "stepmon-local-test"
	ctx := context.Background()
	rt := newTestRuntimeWith(t, Config{DynamoDBEndpoint: endpoint, DynamoDBTable: table, AWSRegion: motoserver.Region,
		AWSAccessKeyID: "test", AWSSecretAccessKey: "test"})

	a := call(t, http.MethodPost, rt.URL()+"/monitors", `{"job_id":"ddb-job","polling_interval_seconds":1,"timeout_seconds":60}`)
	wantStatus(t, a, http.StatusAccepted, "start")
	id, _ := a.json(t)["id"].(string)
	rec := waitFinal(t, rt.URL()+"/monitors/"+id, 30*time.Second)
	if out := output(t, rec); out["final_status"] != "Completed" || out["checks_performed"] != 4.0 {
		t.Errorf("output = %v, want Completed after 4 checks", out)
	}

	// The record is in the table, as the status Lambda on AWS keeps it.
	store := dynamostore.New(dynamodb.NewFromConfig(motoserver.Config(endpoint)), table)
	got, err := store.Get(ctx, id)
	if err != nil {
		t.Fatalf("the record is not in DynamoDB: %v", err)
	}
	if got.RuntimeStatus != monitor.RuntimeCompleted || got.CustomStatus == nil || got.CustomStatus.CheckCount != 4 {
		t.Errorf("DynamoDB record: status %s, custom status %+v; want Completed after 4 checks", got.RuntimeStatus, got.CustomStatus)
	}
}

// With the status records in DynamoDB, a start whose table holds no
// record while the engine has running monitor executions is refused (a
// table deleted, or another table or endpoint given); the table that
// holds them starts.
func TestDynamoDBStatusStoreCrossCheck(t *testing.T) {
	endpoint := motoserver.Start(t)
	ctx := context.Background()
	dir := t.TempDir()
	cfg := func(table string) Config {
		return Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			DynamoDBEndpoint: endpoint, DynamoDBTable: table, AWSRegion: motoserver.Region,
			AWSAccessKeyID: "test", AWSSecretAccessKey: "test"}
	}
	rt, err := New(ctx, cfg("stepmon-a"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Shutdown(context.Background()) }) // on a failure; the test shuts it down itself
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx) }()
	waitHealthy(t, rt.URL())
	body := `{"instanceId":"ddb-slow","target":{"type":"simulated","completeAfterChecks":1000},"pollingIntervalSeconds":3600,"timeoutSeconds":86400}`
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start")
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}

	wantRefused(t, cfg("stepmon-b"), "the DynamoDB table stepmon-b", "1 running")
	if n := runningExecutions(t, dir); n != 1 {
		t.Errorf("%d executions RUNNING after the refused start, want 1", n)
	}
	newTestRuntimeWith(t, cfg("stepmon-a"))
}
