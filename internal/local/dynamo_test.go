package local

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

	wantRefused(t, cfg("stepmon-b"), "the DynamoDB table stepmon-b", "1 running", "Restore the table (or choose the table and endpoint that hold the records)")
	if n := runningExecutions(t, dir); n != 1 {
		t.Errorf("%d executions RUNNING after the refused start, want 1", n)
	}
	newTestRuntimeWith(t, cfg("stepmon-a"))
}

// Records in DynamoDB get the table's TTL from the runtime's retention: a
// running monitor's record is purged the retention after its expiry, as
// the status Lambda's store does it on AWS with the stack's retention.
func TestDynamoDBStatusStoreRetention(t *testing.T) {
	endpoint := motoserver.Start(t)
	const table, retention = "stepmon-retention-test", 5 * time.Hour
	rt := newTestRuntimeWith(t, Config{DynamoDBEndpoint: endpoint, DynamoDBTable: table, AWSRegion: motoserver.Region,
		AWSAccessKeyID: "test", AWSSecretAccessKey: "test", Retention: retention})
	body := `{"instanceId":"ddb-ttl","target":{"type":"simulated","completeAfterChecks":1000},"pollingIntervalSeconds":3600,"timeoutSeconds":86400}`
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start")

	ctx := context.Background()
	client := dynamodb.NewFromConfig(motoserver.Config(endpoint))
	rec, err := dynamostore.New(client, table).Get(ctx, "ddb-ttl")
	if err != nil || rec.ExpiresAt.IsZero() {
		t.Fatalf("the record in DynamoDB: %+v, %v; want one with an expiry", rec, err)
	}
	item, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "MON#ddb-ttl"}, "sk": &types.AttributeValueMemberS{Value: "STATUS"}}})
	if err != nil {
		t.Fatal(err)
	}
	ttl, _ := item.Item["ttl"].(*types.AttributeValueMemberN)
	if want := strconv.FormatInt(rec.ExpiresAt.Add(retention).Unix(), 10); ttl == nil || ttl.Value != want {
		t.Errorf("the record's ttl = %v, want %s (its expiry %s plus the retention %s)", item.Item["ttl"], want, rec.ExpiresAt, retention)
	}
}

// A DynamoDB status store that cannot be had refuses the start and says
// why: no table name, or a table that cannot be created (here: nothing
// listens at the endpoint). A missing name is refused before the data
// directory is made, as the other errors of the configuration are.
func TestDynamoDBStatusStoreRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "http://" + l.Addr().String()
	l.Close()
	for _, tt := range []struct {
		name  string
		table string
		want  string
	}{
		{"no table", "", "a DynamoDB table name is required"},
		{"unreachable", "stepmon-status", "create the DynamoDB table stepmon-status"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			rt, err := New(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: dir,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DynamoDBEndpoint: nobody, DynamoDBTable: tt.table})
			if err == nil {
				rt.Shutdown(context.Background())
				t.Fatalf("New with the status store at %s, table %q, succeeded; want an error saying %q", nobody, tt.table, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v; want it to say %q", err, tt.want)
			}
			if _, err := os.Stat(dir); tt.table == "" && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the data directory after the refusal: %v, want none made", err)
			}
		})
	}
}
