package dynamostore_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// SetExecution on a record created without an update time sets the
// update time as well as the ARN: no stored time is later than its own.
func testSetExecutionWithoutUpdateTime(t *testing.T, client *dynamodb.Client) {
	s := dynamostore.New(client, newTable(t, client))
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := s.Create(ctx, monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending, CreatedTime: t0}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	arn := "arn:aws:states:us-east-1:123456789012:execution:sm:m1"
	at := t0.Add(time.Second)
	if err := s.SetExecution(ctx, "m1", t0, arn, at); err != nil {
		t.Fatalf("SetExecution: %v", err)
	}
	got, err := s.Get(ctx, "m1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.ExecutionArn != arn || !got.LastUpdatedTime.Equal(at) {
		t.Errorf("after SetExecution: arn %q, last updated %v; want %q, %v", got.ExecutionArn, got.LastUpdatedTime, arn, at)
	}
}

// A record created with a purge time (one created finished) has its TTL
// at the purge time, not at its ExpiresAt plus the retention.
func testCreateWithPurgeTime(t *testing.T, client *dynamodb.Client) {
	table := newTable(t, client)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := dynamostore.New(client, table, clockAt(t0))
	purge := t0.Add(3 * time.Hour)
	rec := monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeCompleted, CreatedTime: t0,
		LastUpdatedTime: t0, ExpiresAt: t0.Add(time.Hour), PurgeAt: purge}
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	want := strconv.FormatInt(purge.Unix(), 10)
	if ttl, ok := getItem(t, client, table, "m1")["ttl"].(*types.AttributeValueMemberN); !ok || ttl.Value != want {
		t.Errorf("ttl after Create = %#v, want N %s (PurgeAt)", ttl, want)
	}
}

// A claim whose execution was recorded with an empty ARN has started no
// execution: ReleaseClaim deletes it.
func testReleaseClaimWithEmptyArn(t *testing.T, client *dynamodb.Client) {
	s := dynamostore.New(client, newTable(t, client))
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := s.Create(ctx, monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending, CreatedTime: t0, LastUpdatedTime: t0}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s.SetExecution(ctx, "m1", t0, "", t0.Add(time.Second)); err != nil {
		t.Fatalf("SetExecution: %v", err)
	}
	if err := s.ReleaseClaim(ctx, "m1", t0); err != nil {
		t.Errorf("ReleaseClaim of a claim with an empty ARN: %v", err)
	}
	if _, err := s.Get(ctx, "m1"); monitor.KindOf(err) != monitor.KindNotFound {
		t.Errorf("Get after ReleaseClaim = %v, want kind %s", err, monitor.KindNotFound)
	}
}

// A record written before Create set a TTL (an earlier version's, still
// running across the upgrade) gets Create's TTL at its next check, so
// that it leaves the table even if its end is never recorded; a record
// with a TTL keeps it.
func testRecordCheckSetsMissingTTL(t *testing.T, client *dynamodb.Client) {
	table := newTable(t, client)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := dynamostore.New(client, table, clockAt(t0))
	ctx := t.Context()
	exp := t0.Add(time.Hour)
	if err := s.Create(ctx, monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0,
		LastUpdatedTime: t0, ExpiresAt: exp}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	// As an earlier version wrote it: no ttl.
	if _, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "MON#m1"}, "sk": &types.AttributeValueMemberS{Value: "STATUS"}},
		UpdateExpression: aws.String("REMOVE #ttl"), ExpressionAttributeNames: map[string]string{"#ttl": "ttl"}}); err != nil {
		t.Fatalf("remove ttl: %v", err)
	}
	ttl := func() string {
		n, _ := getItem(t, client, table, "m1")["ttl"].(*types.AttributeValueMemberN)
		if n == nil {
			return "none"
		}
		return n.Value
	}
	want := strconv.FormatInt(exp.Add(monitor.DefaultRetention).Unix(), 10)
	for i, expires := range []time.Time{exp, exp.Add(24 * time.Hour)} {
		applied, err := s.RecordCheck(ctx, "m1", monitor.CheckUpdate{CustomStatus: monitor.CustomStatus{CheckCount: i + 1},
			At: t0.Add(time.Duration(i+1) * time.Minute), Created: t0, ExpiresAt: expires})
		if err != nil || !applied {
			t.Fatalf("RecordCheck %d = %v, %v", i+1, applied, err)
		}
		if got := ttl(); got != want {
			t.Errorf("ttl after check %d = %s, want %s (the first ExpiresAt + the retention, kept)", i+1, got, want)
		}
	}
}
