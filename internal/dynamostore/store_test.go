package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/monitor/storetest"
	"github.com/stepmon/stepmon/internal/motoserver"
)

var tables atomic.Int64

// newTable creates a table of its own for one test on the server.
func newTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	name := "stepmon-test-" + strconv.FormatInt(tables.Add(1), 10)
	if err := dynamostore.CreateTable(t.Context(), client, name); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return name
}

// TestMoto runs the tests that need a DynamoDB on one moto_server, each
// with a table of its own.
func TestMoto(t *testing.T) {
	client := dynamodb.NewFromConfig(motoserver.Config(motoserver.Start(t)))
	t.Run("Store", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) monitor.Store {
			return dynamostore.New(client, newTable(t, client))
		})
	})
	t.Run("TableSchema", func(t *testing.T) { testTableSchema(t, client) })
	t.Run("FinishSetsTTL", func(t *testing.T) { testFinishSetsTTL(t, client) })
	t.Run("MissingTable", func(t *testing.T) { testMissingTable(t, client) })
}

func testTableSchema(t *testing.T, client *dynamodb.Client) {
	name := newTable(t, client)
	// Creating it again is not an error.
	if err := dynamostore.CreateTable(t.Context(), client, name); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	keys := func(ks []types.KeySchemaElement) string {
		s := ""
		for _, k := range ks {
			s += *k.AttributeName + ":" + string(k.KeyType) + " "
		}
		return s
	}
	if got, want := keys(out.Table.KeySchema), "pk:HASH sk:RANGE "; got != want {
		t.Errorf("key schema = %q, want %q", got, want)
	}
	if len(out.Table.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("GSIs = %d, want 1", len(out.Table.GlobalSecondaryIndexes))
	}
	gsi := out.Table.GlobalSecondaryIndexes[0]
	if *gsi.IndexName != dynamostore.IndexName || keys(gsi.KeySchema) != "gsi1pk:HASH gsi1sk:RANGE " || gsi.Projection.ProjectionType != types.ProjectionTypeAll {
		t.Errorf("GSI = %s %q %s, want byCreated, gsi1pk/gsi1sk, ALL", *gsi.IndexName, keys(gsi.KeySchema), gsi.Projection.ProjectionType)
	}
	ttl, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: &name})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.AttributeName == nil || *d.AttributeName != "ttl" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL = %+v, want enabled on ttl", d)
	}
}

func testFinishSetsTTL(t *testing.T, client *dynamodb.Client) {
	name := newTable(t, client)
	s := dynamostore.New(client, name)
	ctx := t.Context()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := s.Create(ctx, monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending, CreatedTime: now}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	purge := now.Add(7 * 24 * time.Hour)
	if err := s.Finish(ctx, "m1", monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: now, PurgeAt: purge.Add(300 * time.Millisecond)}); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &name, Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "MON#m1"}, "sk": &types.AttributeValueMemberS{Value: "STATUS"},
	}})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	ttl, ok := out.Item["ttl"].(*types.AttributeValueMemberN)
	if !ok || ttl.Value != strconv.FormatInt(purge.Unix(), 10) {
		t.Fatalf("ttl = %#v, want N %d (epoch seconds of PurgeAt)", out.Item["ttl"], purge.Unix())
	}
}

func TestUnavailable(t *testing.T) {
	// Nothing listens on a port just closed: a network failure is
	// KindUnavailable, so that callers retry.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close()
	cfg := motoserver.Config(endpoint)
	cfg.RetryMaxAttempts = 1
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), "t")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = s.Get(ctx, "m1")
	if got := monitor.KindOf(err); got != monitor.KindUnavailable {
		t.Fatalf("Get against a closed port: kind %s (%v), want unavailable", got, err)
	}
	var me *monitor.Error
	if !errors.As(err, &me) || me.Op == "" {
		t.Fatalf("error %v is not a *monitor.Error with an operation", err)
	}
}

func testMissingTable(t *testing.T, client *dynamodb.Client) {
	s := dynamostore.New(client, "no-such-table")
	_, err := s.Get(t.Context(), "m1")
	if got := monitor.KindOf(err); got != monitor.KindInternal {
		t.Fatalf("Get on a missing table: kind %s (%v), want internal", got, err)
	}
}

// This example claims an instance id, records a check and reads the
// status back. It needs a DynamoDB endpoint, so it is compiled, not run.
func Example() {
	ctx := context.Background()
	client := dynamodb.NewFromConfig(motoserver.Config("http://127.0.0.1:5000"))
	if err := dynamostore.CreateTable(ctx, client, "stepmon"); err != nil {
		fmt.Println(err)
		return
	}
	store := dynamostore.New(client, "stepmon")
	now := time.Now()
	err := store.Create(ctx, monitor.Record{InstanceID: "job-42", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending, CreatedTime: now, LastUpdatedTime: now})
	if monitor.IsKind(err, monitor.KindConflict) {
		fmt.Println("job-42 is already being monitored")
		return
	}
	applied, err := store.RecordCheck(ctx, "job-42", monitor.CheckUpdate{
		CustomStatus: monitor.CustomStatus{JobID: "job-42", Status: "Running", CheckCount: 1, LastCheckTime: now},
		At:           now,
	})
	fmt.Println(applied, err)
	rec, err := store.Get(ctx, "job-42")
	fmt.Println(rec.RuntimeStatus, rec.CustomStatus.CheckCount, err)
}
