package dynamostore_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stepmon/stepmon/internal/dynamostore"
)

// ttlStatus matches the TTL status in a DescribeTimeToLive answer.
var ttlStatus = regexp.MustCompile(`"TimeToLiveStatus":\s*"ENABLED"`)

// ttlTransport shows the TTL of a table that has it on as another state:
// being turned on (enabling), or, to the first DescribeTimeToLive only,
// off (firstOff). With refuseUpdate it answers UpdateTimeToLive as
// DynamoDB does when TTL is on already, without forwarding it.
type ttlTransport struct {
	base         http.RoundTripper
	enabling     bool
	firstOff     atomic.Bool
	refuseUpdate bool
	updates      atomic.Int32
}

func (c *ttlTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	target := r.Header.Get("X-Amz-Target")
	if strings.HasSuffix(target, ".UpdateTimeToLive") {
		c.updates.Add(1)
		if c.refuseUpdate {
			return errorAnswer(r, "com.amazon.coral.validation#ValidationException", "TimeToLive is already enabled"), nil
		}
	}
	resp, err := c.base.RoundTrip(r)
	if err != nil || !strings.HasSuffix(target, ".DescribeTimeToLive") {
		return resp, err
	}
	body, err := answerBody(resp)
	if err != nil {
		return nil, err
	}
	switch {
	case c.firstOff.CompareAndSwap(true, false):
		body = ttlStatus.ReplaceAll(body, []byte(`"TimeToLiveStatus":"DISABLED"`))
	case c.enabling:
		body = ttlStatus.ReplaceAll(body, []byte(`"TimeToLiveStatus":"ENABLING"`))
	}
	return withBody(resp, body), nil
}

// CreateTable on an existing table leaves TTL alone while it is being
// turned on, and takes a refused UpdateTimeToLive for success when TTL
// has been turned on meanwhile (by another process opening the table).
func testTTLBeingTurnedOn(t *testing.T, endpoint string, client *dynamodb.Client) {
	for _, tc := range []struct {
		name        string
		tt          *ttlTransport
		wantUpdates int32
	}{
		{"enabling", &ttlTransport{enabling: true}, 0},
		{"turned on meanwhile", func() *ttlTransport {
			tt := &ttlTransport{refuseUpdate: true}
			tt.firstOff.Store(true)
			return tt
		}(), 1},
	} {
		name := newTable(t, client)
		cfg := motoConfig(endpoint)
		tc.tt.base = cfg.HTTPClient.(*http.Client).Transport
		cfg.HTTPClient = &http.Client{Transport: tc.tt}
		if err := dynamostore.CreateTable(t.Context(), dynamodb.NewFromConfig(cfg), name); err != nil {
			t.Errorf("%s: CreateTable on the existing table: %v", tc.name, err)
		}
		if got := tc.tt.updates.Load(); got != tc.wantUpdates {
			t.Errorf("%s: %d UpdateTimeToLive requests, want %d", tc.name, got, tc.wantUpdates)
		}
	}
}

// indexTransport shows the list index as being built (CREATING) to the
// first creating DescribeTable answers that name it ACTIVE, and answers
// UpdateTable, without forwarding it, with refusal when it is set.
type indexTransport struct {
	base      http.RoundTripper
	creating  atomic.Int32
	describes atomic.Int32 // DescribeTable answers that named the index ACTIVE
	refusal   string
}

// setIndexCreating rewrites body, a DescribeTable answer, to show the
// list index as CREATING; false when it does not show it ACTIVE.
func setIndexCreating(body []byte) ([]byte, bool, error) {
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, false, err
	}
	table, _ := out["Table"].(map[string]any)
	gsis, _ := table["GlobalSecondaryIndexes"].([]any)
	for _, g := range gsis {
		if gsi, _ := g.(map[string]any); gsi["IndexName"] == dynamostore.IndexName && gsi["IndexStatus"] == "ACTIVE" {
			gsi["IndexStatus"] = "CREATING"
			body, err := json.Marshal(out)
			return body, true, err
		}
	}
	return body, false, nil
}

func (c *indexTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	target := r.Header.Get("X-Amz-Target")
	if c.refusal != "" && strings.HasSuffix(target, ".UpdateTable") {
		return errorAnswer(r, "com.amazonaws.dynamodb.v20120810#LimitExceededException", c.refusal), nil
	}
	resp, err := c.base.RoundTrip(r)
	if err != nil || !strings.HasSuffix(target, ".DescribeTable") {
		return resp, err
	}
	body, err := answerBody(resp)
	if err != nil {
		return nil, err
	}
	creating, active, err := setIndexCreating(body)
	if err != nil {
		return nil, err
	}
	if active {
		if c.creating.Add(-1) >= 0 {
			body = creating
		} else {
			c.describes.Add(1)
		}
	}
	return withBody(resp, body), nil
}

// CreateTable on an existing table whose list index is being built waits
// until the index is ACTIVE; when adding a missing index fails and the
// index is still missing, it returns the failure at once.
func testListIndexBeingBuilt(t *testing.T, endpoint string, client *dynamodb.Client) {
	ctx := t.Context()
	newClient := func(it *indexTransport) *dynamodb.Client {
		cfg := motoConfig(endpoint)
		it.base = cfg.HTTPClient.(*http.Client).Transport
		cfg.HTTPClient = &http.Client{Transport: it}
		return dynamodb.NewFromConfig(cfg)
	}

	existing := newTable(t, client)
	building := &indexTransport{}
	building.creating.Store(3)
	if err := dynamostore.CreateTable(ctx, newClient(building), existing); err != nil {
		t.Errorf("CreateTable while the index is built: %v", err)
	}
	if n := building.describes.Load(); building.creating.Load() >= 0 || n != 1 {
		t.Errorf("CreateTable returned with %d CREATING answers left and %d ACTIVE answers, want none left and 1",
			max(building.creating.Load(), 0), n)
	}

	name := "stepmon-test-noindex-" + strconv.FormatInt(tables.Add(1), 10)
	createTableAsBefore(t, client, name, types.GlobalSecondaryIndex{
		IndexName: aws.String("byCreated"),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("gsi1pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("gsi1sk"), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
	})
	refused := &indexTransport{refusal: "too many indexes being built"}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err := dynamostore.CreateTable(ctx, newClient(refused), name)
	if err == nil || !strings.Contains(err.Error(), refused.refusal) {
		t.Errorf("CreateTable when adding the index fails = %v, want the failure", err)
	}
}

// A table CreateTable creates has TTL on, on ttl, once the call returns.
func testNewTableHasTTL(t *testing.T, client *dynamodb.Client) {
	name := "stepmon-test-fresh-" + strconv.FormatInt(tables.Add(1), 10)
	if err := dynamostore.CreateTable(t.Context(), client, name); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	out, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: &name})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	if d := out.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "ttl" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL of a new table = %+v, want enabled on ttl", d)
	}
}
