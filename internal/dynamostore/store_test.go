package dynamostore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// motoConfig is motoConfig(endpoint) whose client refuses what
// DynamoDB refuses and moto accepts (emptySetTransport).
func motoConfig(endpoint string) aws.Config {
	cfg := motoserver.Config(endpoint)
	cfg.HTTPClient = &http.Client{Transport: &emptySetTransport{base: cfg.HTTPClient.(*http.Client).Transport}}
	return cfg
}

// emptySet matches an empty set in a request's JSON.
var emptySet = regexp.MustCompile(`"(SS|NS|BS)":\[\]`)

// emptySetTransport answers a request that holds an empty set as
// DynamoDB does, with a ValidationException, without forwarding it: moto
// stores an empty set, so a write that holds one would pass the tests and
// fail on AWS.
type emptySetTransport struct{ base http.RoundTripper }

func (e *emptySetTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := requestBody(r, strings.TrimPrefix(path.Ext(r.Header.Get("X-Amz-Target")), "."))
	if err != nil || !emptySet.Match(body) {
		if err != nil {
			return nil, err
		}
		return e.base.RoundTrip(r)
	}
	return errorAnswer(r, "com.amazon.coral.validation#ValidationException",
		"One or more parameter values were invalid: An string set  may not be empty"), nil
}

// errorAnswer is DynamoDB's answer to r, not forwarded, of an error of
// type errType saying message (HTTP 400, the awsJson1_0 error shape).
func errorAnswer(r *http.Request, errType, message string) *http.Response {
	r.Body.Close()
	msg, _ := json.Marshal(map[string]string{"__type": errType, "message": message})
	return &http.Response{
		StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:    io.NopCloser(bytes.NewReader(msg)),
		Request: r, ContentLength: int64(len(msg)),
	}
}

// answerBody returns the body of resp, a moto answer, and leaves resp
// readable again.
func answerBody(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// withBody gives resp, an answer from moto, the body b instead of its
// own: its length, and no CRC32 of the body it replaces.
func withBody(resp *http.Response, b []byte) *http.Response {
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	resp.Header.Del("X-Amz-Crc32")
	return resp
}

// clockAt is the option of a store whose clock reads at: the tests' records
// are created around fixed times, which must not have passed their purge.
func clockAt(at time.Time) dynamostore.Option {
	return dynamostore.WithClock(monitor.ClockFunc(func() time.Time { return at }))
}

// TestMoto runs the tests that need a DynamoDB on one moto_server, each
// with a table of its own.
func TestMoto(t *testing.T) {
	endpoint := motoserver.Start(t)
	client := dynamodb.NewFromConfig(motoConfig(endpoint))
	t.Run("Store", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) monitor.Store {
			return dynamostore.New(client, newTable(t, client), clockAt(storetest.Now))
		})
	})
	t.Run("TableSchema", func(t *testing.T) { testTableSchema(t, client) })
	t.Run("FinishSetsTTL", func(t *testing.T) { testFinishSetsTTL(t, client) })
	t.Run("CreateSetsTTL", func(t *testing.T) { testCreateSetsTTL(t, client) })
	t.Run("OptionDefaults", func(t *testing.T) { testOptionDefaults(t, client) })
	t.Run("ExpiredRecordsGone", func(t *testing.T) { testExpiredRecordsGone(t, client) })
	t.Run("MissingTable", func(t *testing.T) { testMissingTable(t, client) })
	t.Run("Use", func(t *testing.T) { testUse(t, client) })
	t.Run("SetExecutionWithoutUpdateTime", func(t *testing.T) { testSetExecutionWithoutUpdateTime(t, client) })
	t.Run("CreateWithPurgeTime", func(t *testing.T) { testCreateWithPurgeTime(t, client) })
	t.Run("ReleaseClaimWithEmptyArn", func(t *testing.T) { testReleaseClaimWithEmptyArn(t, client) })
	t.Run("RecordCheckSetsMissingTTL", func(t *testing.T) { testRecordCheckSetsMissingTTL(t, client) })
	t.Run("ConsumeWrites", func(t *testing.T) { testConsumeWrites(t, endpoint, client) })
	t.Run("ListFilterBounded", func(t *testing.T) { testListFilterBounded(t, endpoint, client) })
	t.Run("ListBudgetStopsAtMatch", func(t *testing.T) { testListBudgetStopsAtMatch(t, client) })
	t.Run("ListTokenPositions", func(t *testing.T) { testListTokenPositions(t, client) })
	t.Run("ListEmptyRange", func(t *testing.T) { testListEmptyRange(t, endpoint, client) })
	t.Run("ListReadsWithinBudget", func(t *testing.T) { testListReadsWithinBudget(t, endpoint, client) })
	t.Run("ListReadsAboutAPage", func(t *testing.T) { testListReadsAboutAPage(t, endpoint, client) })
	t.Run("ListedFields", func(t *testing.T) { testListedFields(t, client) })
	t.Run("AddsListIndex", func(t *testing.T) { testAddsListIndex(t, client) })
	t.Run("EnablesTTLOnExistingTable", func(t *testing.T) { testEnablesTTLOnExistingTable(t, client) })
	t.Run("NewTableHasTTL", func(t *testing.T) { testNewTableHasTTL(t, client) })
	t.Run("TTLBeingTurnedOn", func(t *testing.T) { testTTLBeingTurnedOn(t, endpoint, client) })
	t.Run("ListIndexBeingBuilt", func(t *testing.T) { testListIndexBeingBuilt(t, endpoint, client) })
	t.Run("HasRecords", func(t *testing.T) { testHasRecords(t, client) })
	t.Run("TooLarge", func(t *testing.T) { testTooLarge(t, client) })
	t.Run("ReadsConsistent", func(t *testing.T) { testReadsConsistent(t, endpoint, client) })
	t.Run("EmptyItemIsNone", func(t *testing.T) { testEmptyItemIsNone(t, endpoint, client) })
	t.Run("OutputPatchRetried", func(t *testing.T) { testOutputPatchRetried(t, endpoint, client) })
	t.Run("FinishReturnsNoItem", func(t *testing.T) { testFinishReturnsNoItem(t, endpoint, client) })
	t.Run("PatchLeavesNewMonitorAlone", func(t *testing.T) { testPatchLeavesNewMonitorAlone(t, client) })
	t.Run("ClaimAnswerLost", func(t *testing.T) { testClaimAnswerLost(t, endpoint, client) })
	t.Run("AlertAfterClaimAnswerLost", func(t *testing.T) { testAlertAfterClaimAnswerLost(t, endpoint, client) })
	t.Run("AddEventAnswerLost", func(t *testing.T) { testAddEventAnswerLost(t, endpoint, client) })
	t.Run("ClaimRetriesFail", func(t *testing.T) { testClaimRetriesFail(t, endpoint, client) })
	t.Run("AddEventRetriesFail", func(t *testing.T) { testAddEventRetriesFail(t, endpoint, client) })
	t.Run("PurgeAnswerLost", func(t *testing.T) { testPurgeAnswerLost(t, endpoint, client) })
	t.Run("EventTokensFollowList", func(t *testing.T) { testEventTokensFollowList(t, client) })
	t.Run("ConsumeRace", func(t *testing.T) { testConsumeRace(t, endpoint, client) })
	t.Run("ConsumeGivesUp", func(t *testing.T) { testConsumeGivesUp(t, endpoint, client) })
}

// finishTransport notes whether each Finish write asked for the item back.
type finishTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	asks []bool
}

// updateItemBody returns the body of r when r is a DynamoDB UpdateItem
// request (nil otherwise), leaving r's body to be read again.
func updateItemBody(r *http.Request) ([]byte, error) { return requestBody(r, "UpdateItem") }

// requestBody returns the body of r, a DynamoDB request, when it is the
// operation op (and leaves r readable again); nil for another operation.
func requestBody(r *http.Request, op string) ([]byte, error) {
	if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+op) || r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func (c *finishTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := updateItemBody(r)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(body, []byte(`"SET #st = :st, #out = :out`)) {
		c.mu.Lock()
		c.asks = append(c.asks, bytes.Contains(body, []byte(`"ReturnValues":"ALL_NEW"`)))
		c.mu.Unlock()
	}
	return c.base.RoundTrip(r)
}

// A Finish that brings the custom status and knows its alert's outcome
// does not read the item, events and all, back from its write; one that
// must drop a stored next_check_time, or learn the alert's outcome, does.
func testFinishReturnsNoItem(t *testing.T, endpoint string, client *dynamodb.Client) {
	cfg := motoConfig(endpoint)
	ft := &finishTransport{base: cfg.HTTPClient.(*http.Client).Transport}
	cfg.HTTPClient = &http.Client{Transport: ft}
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client))
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	cs := &monitor.CustomStatus{JobID: "j", CheckCount: 1, LastCheckTime: t0}
	for i, tt := range []struct {
		name  string
		cs    *monitor.CustomStatus
		alert string
		want  bool
	}{
		{"custom status given", cs, "", false},
		{"custom status kept", nil, "", true},
		{"alert outcome unknown", cs, monitor.OutputAlertUnknown, true},
	} {
		id := fmt.Sprintf("f%d", i)
		if err := s.Create(ctx, monitor.Record{InstanceID: id, Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0}); err != nil {
			t.Fatalf("%s: Create: %v", tt.name, err)
		}
		ft.mu.Lock()
		ft.asks = nil
		ft.mu.Unlock()
		fin := monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: t0.Add(time.Second), CustomStatus: tt.cs,
			Output: monitor.Output{JobID: "j", FinalStatus: monitor.FinalCompleted, AlertStatus: tt.alert}}
		if err := s.Finish(ctx, id, fin); err != nil {
			t.Fatalf("%s: Finish: %v", tt.name, err)
		}
		ft.mu.Lock()
		asks := ft.asks
		ft.mu.Unlock()
		if len(asks) != 1 || asks[0] != tt.want {
			t.Errorf("%s: Finish writes asking for the item back = %v, want [%v]", tt.name, asks, tt.want)
		}
	}
}

// testHasRecords: HasRecords is false on an empty table and true once it
// holds a record, finished or not.
func testHasRecords(t *testing.T, client *dynamodb.Client) {
	s := dynamostore.New(client, newTable(t, client))
	if ok, err := s.HasRecords(t.Context()); err != nil || ok {
		t.Fatalf("HasRecords on an empty table = %v, %v; want false", ok, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	rec := monitor.Record{InstanceID: "h-1", Name: "h", RuntimeStatus: monitor.RuntimeCompleted, CreatedTime: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.HasRecords(t.Context()); err != nil || !ok {
		t.Errorf("HasRecords with a record = %v, %v; want true", ok, err)
	}
}

// countingTransport counts the DynamoDB operations sent through it.
type countingTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	ops  map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	op := r.Header.Get("X-Amz-Target")
	c.mu.Lock()
	c.ops[op[strings.LastIndex(op, ".")+1:]]++
	c.mu.Unlock()
	return c.base.RoundTrip(r)
}

// take returns the counts since the last call and starts again.
func (c *countingTransport) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = map[string]int{}
	return ops
}

// A check costs one read, and one write only when it has events to mark
// or a full record to make room in.
func testConsumeWrites(t *testing.T, endpoint string, client *dynamodb.Client) {
	cfg := motoConfig(endpoint)
	ct := &countingTransport{base: cfg.HTTPClient.(*http.Client).Transport, ops: map[string]int{}}
	cfg.HTTPClient = &http.Client{Transport: ct}
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client))
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := s.Create(ctx, monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	add := func(n int) {
		t.Helper()
		for i := range n {
			if err := s.AddEvent(ctx, "m1", monitor.Event{Name: fmt.Sprintf("e%d", i), RaisedAt: t0}); err != nil {
				t.Fatalf("AddEvent: %v", err)
			}
		}
	}
	for _, step := range []struct {
		what        string
		add, check  int
		got, writes int
	}{
		{"no events", 0, 1, 0, 0},
		{"a full record's worth", 100, 2, 100, 1},
		{"retried with nothing new", 0, 2, 100, 0},
		{"nothing pending in a full record", 0, 3, 0, 1},
		{"no events after the room was made", 0, 4, 0, 0},
		{"60 events", 60, 5, 60, 1},
		{"40 events, dropping check 5's", 40, 6, 40, 1},
		{"no events after events", 0, 7, 0, 0},
		{"60 events, dropping check 6's", 60, 8, 60, 1},
	} {
		add(step.add)
		ct.take()
		check := step.check
		evs, err := s.ConsumeEvents(ctx, "m1", time.Time{}, check)
		if err != nil {
			t.Fatalf("%s: ConsumeEvents(%d): %v", step.what, check, err)
		}
		ops := ct.take()
		if len(evs) != step.got || ops["GetItem"] != 1 || ops["UpdateItem"] != step.writes || len(ops) > 2 {
			t.Errorf("%s: ConsumeEvents(%d) = %d events with %v, want %d events, 1 GetItem and %d UpdateItem",
				step.what, check, len(evs), ops, step.got, step.writes)
		}
	}
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
	if *gsi.IndexName != "byCreatedV2" || keys(gsi.KeySchema) != "gsi1pk:HASH gsi1sk:RANGE " || gsi.Projection.ProjectionType != types.ProjectionTypeInclude ||
		!slices.Equal(gsi.Projection.NonKeyAttributes, dynamostore.ListAttributes) {
		t.Errorf("GSI = %s %q %s %q, want byCreatedV2, gsi1pk/gsi1sk, INCLUDE %q", *gsi.IndexName, keys(gsi.KeySchema),
			gsi.Projection.ProjectionType, gsi.Projection.NonKeyAttributes, dynamostore.ListAttributes)
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
	cfg := motoConfig(endpoint)
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

// testUse claims an instance id, records a check and reads the status
// back, the way the start and check functions use a table.
func testUse(t *testing.T, client *dynamodb.Client) {
	ctx := t.Context()
	store := dynamostore.New(client, newTable(t, client))
	now := time.Now()
	rec := monitor.Record{InstanceID: "job-42", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending, CreatedTime: now, LastUpdatedTime: now}
	if err := store.Create(ctx, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := store.Create(ctx, rec); !monitor.IsKind(err, monitor.KindConflict) {
		t.Fatalf("second Create: %v, want a conflict (job-42 is already being monitored)", err)
	}
	applied, err := store.RecordCheck(ctx, "job-42", monitor.CheckUpdate{
		CustomStatus: monitor.CustomStatus{JobID: "job-42", Status: "Running", CheckCount: 1, LastCheckTime: now},
		At:           now,
		Created:      now,
	})
	if !applied || err != nil {
		t.Fatalf("RecordCheck = %v, %v; want applied", applied, err)
	}
	got, err := store.Get(ctx, "job-42")
	if err != nil || got.RuntimeStatus != monitor.RuntimeRunning || got.CustomStatus == nil || got.CustomStatus.CheckCount != 1 {
		t.Fatalf("Get = %+v, %v; want Running after check 1", got, err)
	}
}

// newCountingStore returns a Store on a table of its own whose client
// counts the operations it sends.
func newCountingStore(t *testing.T, endpoint string, client *dynamodb.Client) (*dynamostore.Store, *countingTransport) {
	t.Helper()
	cfg := motoConfig(endpoint)
	ct := &countingTransport{base: cfg.HTTPClient.(*http.Client).Transport, ops: map[string]int{}}
	cfg.HTTPClient = &http.Client{Transport: ct}
	return dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client)), ct
}

// seedFinished creates n records, one a second from t0, each Completed
// unless failed names its index as Failed, and returns the ids of the
// Failed ones, newest first.
func seedFinished(t *testing.T, s *dynamostore.Store, t0 time.Time, n int, failed ...int) []string {
	t.Helper()
	isFailed := map[int]bool{}
	for _, i := range failed {
		isFailed[i] = true
	}
	var (
		wg   sync.WaitGroup
		errs = make(chan error, n)
		next atomic.Int64
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				st := monitor.RuntimeCompleted
				if isFailed[i] {
					st = monitor.RuntimeFailed
				}
				created := t0.Add(time.Duration(i) * time.Second)
				rec := monitor.Record{InstanceID: fmt.Sprintf("m%05d", i), Name: "JobMonitor", RuntimeStatus: st,
					CreatedTime: created, LastUpdatedTime: created, ExpiresAt: created.Add(time.Hour)}
				if err := s.Create(t.Context(), rec); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Create: %v", err)
	}
	var ids []string
	for i := n - 1; i >= 0; i-- {
		if isFailed[i] {
			ids = append(ids, fmt.Sprintf("m%05d", i))
		}
	}
	return ids
}

// A status filter that few records match costs a bounded number of
// queries per List call, and paging with the tokens still returns every
// match exactly once, newest first, even when a call stops at its read
// budget with a short or empty page.
func testListFilterBounded(t *testing.T, endpoint string, client *dynamodb.Client) {
	s, ct := newCountingStore(t, endpoint, client)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const n = 1200
	want := seedFinished(t, s, t0, n, 0, 1, 7, 300, 301, 750, 1199)
	q := monitor.ListQuery{RuntimeStatus: []monitor.RuntimeStatus{monitor.RuntimeFailed}, Top: 1}

	ct.take()
	page, err := s.List(t.Context(), q)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	queries := ct.take()["Query"]
	t.Logf("first page of %d Failed among %d records, top 1: %d Query calls", len(want), n, queries)
	if len(page.Records) != 1 || page.Records[0].InstanceID != want[0] || page.ContinuationToken == "" {
		t.Fatalf("first page = %v, token %q; want [%s] and a token", ids(page.Records), page.ContinuationToken, want[0])
	}
	if max := 2 * 8; queries > max {
		t.Errorf("first page took %d Query calls, want at most %d", queries, max)
	}

	for _, budget := range []int{0, 100} {
		t.Run(fmt.Sprintf("budget %d", budget), func(t *testing.T) {
			dynamostore.SetListReadBudget(s, budget)
			q := q
			var got []string
			calls, short := 0, 0
			for {
				if calls++; calls > 100 {
					t.Fatalf("more than 100 List calls; got %v so far", got)
				}
				ct.take()
				page, err := s.List(t.Context(), q)
				if err != nil {
					t.Fatalf("List call %d: %v", calls, err)
				}
				if n := ct.take()["Query"]; budget > 0 && n > 8+budget/2 {
					t.Errorf("List call %d: %d Query calls over a budget of %d items", calls, n, budget)
				}
				if len(page.Records) > 1 {
					t.Fatalf("List call %d: %d records, more than top 1", calls, len(page.Records))
				}
				got = append(got, ids(page.Records)...)
				if page.ContinuationToken == "" {
					break
				}
				if len(page.Records) == 0 {
					short++
				}
				q.ContinuationToken = page.ContinuationToken
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged ids = %v, want %v", got, want)
			}
			if budget > 0 && short == 0 {
				t.Errorf("no empty page with a token: the budget of %d items never stopped a call", budget)
			}
			// Reading the index once takes n/budget calls; a call ends at
			// its shallowest shard, so the shards must be read evenly for
			// little to be read twice (33 calls when one shard took what
			// was left of each budget).
			if budget > 0 && short > n/budget*3/2 {
				t.Errorf("%d empty pages, more than %d: the index is read again and again", short, n/budget*3/2)
			}
			t.Logf("budget %d: %d List calls, %d of them empty pages with a token", budget, calls, short)
		})
	}
}

func ids(recs []monitor.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.InstanceID)
	}
	return out
}

// A listed record has every field that Get returns but the events, read
// from the index's projection.
func testListedFields(t *testing.T, client *dynamodb.Client) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)
	s := dynamostore.New(client, newTable(t, client), clockAt(t0))
	ctx := t.Context()
	open := 4
	rec := monitor.Record{
		InstanceID:    "m1",
		Name:          "HTTPJobMonitor",
		RuntimeStatus: monitor.RuntimePending,
		Input: monitor.Spec{JobID: "job-1", Target: monitor.Target{Type: monitor.TargetHTTP, URL: "https://jobs.example.com/1",
			Headers: map[string]string{"Authorization": "Bearer x"}}, PollingIntervalSeconds: 60, TimeoutSeconds: 3600,
			Alert: &monitor.Alert{WebhookURL: "https://hooks.example.com/x"}},
		CreatedTime:     t0,
		LastUpdatedTime: t0,
		ExpiresAt:       t0.Add(time.Hour),
	}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("SetExecution", s.SetExecution(ctx, "m1", time.Time{}, "arn:aws:states:us-east-1:123456789012:execution:sm:m1", t0.Add(time.Second)))
	must("AddEvent", s.AddEvent(ctx, "m1", monitor.Event{Name: "complete", Data: json.RawMessage(`{"a":1}`), RaisedAt: t0}))
	_, err := s.ConsumeEvents(ctx, "m1", time.Time{}, 1)
	must("ConsumeEvents", err)
	_, err = s.RecordCheck(ctx, "m1", monitor.CheckUpdate{At: t0.Add(2 * time.Second), CustomStatus: monitor.CustomStatus{
		JobID: "job-1", Status: "Completed", CheckCount: 1, LastCheckTime: t0.Add(2 * time.Second), OpenIssues: &open,
		Detail: "done", LastEvent: "complete"}})
	must("RecordCheck", err)
	_, _, err = s.ClaimAlert(ctx, "m1", time.Time{}, monitor.ChannelWebhook, t0.Add(3*time.Second))
	must("ClaimAlert", err)
	must("CompleteAlert", s.CompleteAlert(ctx, "m1", monitor.AlertResult{Sent: true, MessageID: "msg-1", At: t0.Add(4 * time.Second)}))
	must("Finish", s.Finish(ctx, "m1", monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: t0.Add(5 * time.Second),
		PurgeAt: t0.Add(7 * 24 * time.Hour), Output: monitor.Output{JobID: "job-1", FinalStatus: monitor.FinalAlerted,
			ChecksPerformed: 1, AlertStatus: "Sent"}}))

	want, err := s.Get(ctx, "m1")
	must("Get", err)
	if len(want.Events) == 0 || want.Alert.MessageID == "" || want.PurgeAt.IsZero() || want.Output == nil || want.ExecutionArn == "" {
		t.Fatalf("Get = %+v; want a record with every field set", want)
	}
	want.Events = nil
	page, err := s.List(ctx, monitor.ListQuery{})
	must("List", err)
	if len(page.Records) != 1 {
		t.Fatalf("List = %d records, want 1", len(page.Records))
	}
	if got := page.Records[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("listed record differs from Get's without events:\ngot  %+v\nwant %+v", got, want)
	}
}

// CreateTable adds the list index to a table of an earlier version that
// lacks it (the local runtime's DynamoDB mode opens existing tables).
func testAddsListIndex(t *testing.T, client *dynamodb.Client) {
	name := "stepmon-test-old-" + strconv.FormatInt(tables.Add(1), 10)
	createTableAsBefore(t, client, name, types.GlobalSecondaryIndex{
		IndexName: aws.String("byCreated"),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("gsi1pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("gsi1sk"), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
	})
	s := dynamostore.New(client, name)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := s.Create(t.Context(), monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending, CreatedTime: t0}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	// Two serve processes may open the old table at once: both add the
	// index, or find it being added.
	createTableTwiceAtOnce(t, client, name)
	out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	var got []string
	for _, gsi := range out.Table.GlobalSecondaryIndexes {
		got = append(got, *gsi.IndexName+" "+string(gsi.IndexStatus))
	}
	slices.Sort(got)
	if want := []string{"byCreated ACTIVE", "byCreatedV2 ACTIVE"}; !slices.Equal(got, want) {
		t.Errorf("indexes after CreateTable = %q, want %q", got, want)
	}
	page, err := s.List(t.Context(), monitor.ListQuery{})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("List after CreateTable = %d records, %v; want the one record", len(page.Records), err)
	}
}

// getItem reads the raw item of monitor id.
func getItem(t *testing.T, client *dynamodb.Client, table, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "MON#" + id}, "sk": &types.AttributeValueMemberS{Value: "STATUS"},
		}})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	return out.Item
}

// A record expires from the table even if it never finishes (a claim
// whose start died, a running monitor whose end was never recorded): its
// ttl is set at Create to ExpiresAt plus the retention, without the purge
// time the API shows for finished records. Finish replaces it with the
// finished record's purge time, or removes it for a record kept for ever.
func testCreateSetsTTL(t *testing.T, client *dynamodb.Client) {
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	expires := t0.Add(time.Hour)
	for _, tc := range []struct {
		name      string
		opts      []dynamostore.Option
		retention time.Duration
	}{
		{"default retention", nil, monitor.DefaultRetention},
		{"retention of 2 days", []dynamostore.Option{dynamostore.WithRetention(48 * time.Hour)}, 48 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := newTable(t, client)
			s := dynamostore.New(client, table, append(tc.opts, clockAt(t0))...)
			for _, id := range []string{"m1", "m2", "m3"} {
				rec := monitor.Record{InstanceID: id, Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending, CreatedTime: t0, ExpiresAt: expires}
				if err := s.Create(ctx, rec); err != nil {
					t.Fatalf("Create: %v", err)
				}
				item := getItem(t, client, table, id)
				want := strconv.FormatInt(expires.Add(tc.retention).Unix(), 10)
				if ttl, ok := item["ttl"].(*types.AttributeValueMemberN); !ok || ttl.Value != want {
					t.Fatalf("ttl after Create = %#v, want N %s (ExpiresAt + %v)", item["ttl"], want, tc.retention)
				}
				if _, ok := item["pa"]; ok {
					t.Errorf("pa after Create = %#v, want none: a live record has no purge time", item["pa"])
				}
				if rec, err := s.Get(ctx, id); err != nil || !rec.PurgeAt.IsZero() {
					t.Errorf("Get after Create = PurgeAt %v, %v; want zero", rec.PurgeAt, err)
				}
			}
			// Finish with a purge time replaces the ttl.
			purge := t0.Add(10 * 24 * time.Hour)
			if err := s.Finish(ctx, "m1", monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: t0.Add(time.Minute), PurgeAt: purge}); err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if ttl, ok := getItem(t, client, table, "m1")["ttl"].(*types.AttributeValueMemberN); !ok || ttl.Value != strconv.FormatInt(purge.Unix(), 10) {
				t.Errorf("ttl after Finish = %#v, want N %d (PurgeAt)", ttl, purge.Unix())
			}
			// Finish without one keeps the record for ever.
			if err := s.Finish(ctx, "m2", monitor.Finish{RuntimeStatus: monitor.RuntimeFailed, At: t0.Add(time.Minute)}); err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if ttl, ok := getItem(t, client, table, "m2")["ttl"]; ok {
				t.Errorf("ttl after a Finish without a purge time = %#v, want none", ttl)
			}
			// Checks and the execution's ARN leave it as Create set it.
			if err := s.SetExecution(ctx, "m3", time.Time{}, "arn:aws:states:us-east-1:123456789012:execution:sm:m3", t0.Add(time.Second)); err != nil {
				t.Fatalf("SetExecution: %v", err)
			}
			if _, err := s.RecordCheck(ctx, "m3", monitor.CheckUpdate{At: t0.Add(2 * time.Second), CustomStatus: monitor.CustomStatus{JobID: "m3", Status: "Running", CheckCount: 1}}); err != nil {
				t.Fatalf("RecordCheck: %v", err)
			}
			want := strconv.FormatInt(expires.Add(tc.retention).Unix(), 10)
			if ttl, ok := getItem(t, client, table, "m3")["ttl"].(*types.AttributeValueMemberN); !ok || ttl.Value != want {
				t.Errorf("ttl of a running record = %#v, want N %s", ttl, want)
			}
		})
	}
}

// CreateTable turns TTL on for a table that exists without it, as a
// first run stopped between CreateTable and UpdateTimeToLive (killed, or
// the wait timed out) leaves it: otherwise every later run finds the
// table and finished records are never purged. A table with TTL on
// another attribute (DynamoDB allows one) is refused, naming both.
func testEnablesTTLOnExistingTable(t *testing.T, client *dynamodb.Client) {
	index := types.GlobalSecondaryIndex{
		IndexName: aws.String(dynamostore.IndexName),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("gsi1pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("gsi1sk"), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: dynamostore.ListAttributes},
	}
	name := "stepmon-test-nottl-" + strconv.FormatInt(tables.Add(1), 10)
	createTableAsBefore(t, client, name, index)
	// Two serve processes may open the table at once: both turn TTL on,
	// or find it on.
	createTableTwiceAtOnce(t, client, name)
	out, err := client.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: &name})
	if err != nil {
		t.Fatalf("DescribeTimeToLive: %v", err)
	}
	if d := out.TimeToLiveDescription; d == nil || d.AttributeName == nil || *d.AttributeName != "ttl" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL after CreateTable on an existing table = %+v; want enabled on ttl", d)
	}

	other := "stepmon-test-otherttl-" + strconv.FormatInt(tables.Add(1), 10)
	createTableAsBefore(t, client, other, index)
	if _, err := client.UpdateTimeToLive(t.Context(), &dynamodb.UpdateTimeToLiveInput{
		TableName:               &other,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiry"), Enabled: aws.Bool(true)},
	}); err != nil {
		t.Fatalf("UpdateTimeToLive: %v", err)
	}
	err = dynamostore.CreateTable(t.Context(), client, other)
	if err == nil || !strings.Contains(err.Error(), "expiry") || !strings.Contains(err.Error(), "want ttl") {
		t.Errorf("CreateTable on a table with TTL on expiry = %v; want an error naming expiry and ttl", err)
	}
}

// createTableAsBefore creates table name with the store's keys and index,
// as an earlier version or an interrupted first run left it: no TTL.
func createTableAsBefore(t *testing.T, client *dynamodb.Client, name string, index types.GlobalSecondaryIndex) {
	t.Helper()
	str := types.ScalarAttributeTypeS
	_, err := client.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:   &name,
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: str},
			{AttributeName: aws.String("sk"), AttributeType: str},
			{AttributeName: aws.String("gsi1pk"), AttributeType: str},
			{AttributeName: aws.String("gsi1sk"), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{index},
	})
	if err != nil {
		t.Fatalf("CreateTable (as before): %v", err)
	}
}

// createTableTwiceAtOnce runs dynamostore.CreateTable on the existing
// table name from two goroutines, as two serve processes opening it at
// once do, and fails the test if either fails.
func createTableTwiceAtOnce(t *testing.T, client *dynamodb.Client, name string) {
	t.Helper()
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- dynamostore.CreateTable(t.Context(), client, name) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("CreateTable on the existing table: %v", err)
		}
	}
}

// patchFailTransport fails, with a network error and without sending it,
// each of the next fail UpdateItem requests that patch an output (the
// second write of Finish and CompleteAlert).
type patchFailTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	fail int
	seen int // patch writes that reached the transport
}

func (c *patchFailTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := updateItemBody(r)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(body, []byte(`"SET #out = :new"`)) {
		c.mu.Lock()
		c.seen++
		fail := c.fail > 0
		if fail {
			c.fail--
		}
		c.mu.Unlock()
		if fail {
			return nil, io.ErrUnexpectedEOF
		}
	}
	return c.base.RoundTrip(r)
}

// The second write that patches the output after a send's result, or
// that sets a FromRecord finish's output from the record, is retried in
// place while DynamoDB is unavailable, since nothing retries it later;
// when the retries run out, the error says so. (A FromRecord finish's
// write was tried once: the first failure left the output as read.)
func testOutputPatchRetried(t *testing.T, endpoint string, client *dynamodb.Client) {
	cfg := motoConfig(endpoint)
	cfg.RetryMaxAttempts = 1 // the SDK's own retries would hide the store's
	ft := &patchFailTransport{base: cfg.HTTPClient.(*http.Client).Transport}
	cfg.HTTPClient = &http.Client{Transport: ft}
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client))
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	fin := monitor.Finish{RuntimeStatus: monitor.RuntimeTerminated, At: t0.Add(2 * time.Second),
		Output: monitor.Output{JobID: "j", FinalStatus: monitor.FinalTerminated, AlertStatus: monitor.OutputAlertUnknown}}
	sent := monitor.AlertResult{Sent: true, At: t0.Add(time.Second)}
	for i, tt := range []struct {
		name          string
		finishFirst   bool
		fromRecord    bool // the finish's output built from a read that saw no alert
		fail, seen    int
		want          string
		wantErrorKind monitor.Kind
	}{
		{"complete after finish, two failures", true, false, 2, 3, "sent", ""},
		{"finish after complete, two failures", false, false, 2, 3, "sent", ""},
		{"complete after finish, always failing", true, false, 100, 4, monitor.OutputAlertUnknown, monitor.KindUnavailable},
		{"finish after complete, always failing", false, false, 100, 4, monitor.OutputAlertUnknown, monitor.KindUnavailable},
		{"finish from the record after complete, two failures", false, true, 2, 3, "sent", ""},
		{"finish from the record after complete, always failing", false, true, 100, 4, "", monitor.KindUnavailable},
	} {
		id := fmt.Sprintf("m%d", i)
		if err := s.Create(ctx, monitor.Record{InstanceID: id, Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0}); err != nil {
			t.Fatalf("%s: Create: %v", tt.name, err)
		}
		if _, ok, err := s.ClaimAlert(ctx, id, time.Time{}, monitor.ChannelSNS, t0); err != nil || !ok {
			t.Fatalf("%s: ClaimAlert = %v, %v", tt.name, ok, err)
		}
		ft.mu.Lock()
		ft.fail, ft.seen = tt.fail, 0
		ft.mu.Unlock()
		fin := fin
		if tt.fromRecord {
			fin.FromRecord, fin.Output.AlertStatus = true, ""
		}
		var err error
		if tt.finishFirst {
			if err := s.Finish(ctx, id, fin); err != nil {
				t.Fatalf("%s: Finish: %v", tt.name, err)
			}
			err = s.CompleteAlert(ctx, id, sent)
		} else {
			if err := s.CompleteAlert(ctx, id, sent); err != nil {
				t.Fatalf("%s: CompleteAlert: %v", tt.name, err)
			}
			err = s.Finish(ctx, id, fin)
		}
		if got := monitor.KindOf(err); (err == nil) != (tt.wantErrorKind == "") || err != nil && got != tt.wantErrorKind {
			t.Errorf("%s: second call: %v (kind %s), want kind %q", tt.name, err, got, tt.wantErrorKind)
		}
		ft.mu.Lock()
		seen := ft.seen
		ft.fail = 0
		ft.mu.Unlock()
		if seen != tt.seen {
			t.Errorf("%s: %d patch writes, want %d", tt.name, seen, tt.seen)
		}
		rec, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("%s: Get: %v", tt.name, err)
		}
		if rec.Output == nil || rec.Output.AlertStatus != tt.want || rec.Alert.Status != monitor.AlertSent {
			t.Errorf("%s: output %+v, alert %s; want alert_status %q, alert sent", tt.name, rec.Output, rec.Alert.Status, tt.want)
		}
	}
}

// The second writes of Finish and CompleteAlert (the output's
// alert_status, the custom status's next_check_time) patch only the
// record whose item they read: when that monitor was purged and its id
// started again meanwhile, the new record is left alone even where its
// attribute reads as the old one did. The record read is still patched.
func testPatchLeavesNewMonitorAlone(t *testing.T, client *dynamodb.Client) {
	ctx := t.Context()
	table := newTable(t, client)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s := dynamostore.New(client, table, clockAt(t0))
	cs := &monitor.CustomStatus{JobID: "j", Status: monitor.StatusRunning, CheckCount: 1, LastCheckTime: t0, NextCheckTime: t0.Add(time.Minute)}
	fin := monitor.Finish{RuntimeStatus: monitor.RuntimeTerminated, At: t0.Add(time.Second), PurgeAt: t0.Add(time.Hour),
		Output: monitor.Output{JobID: "j", FinalStatus: monitor.FinalTerminated, AlertStatus: monitor.OutputAlertUnknown}}
	create := func(id string, created time.Time) {
		t.Helper()
		rec := monitor.Record{InstanceID: id, Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CustomStatus: cs,
			CreatedTime: created, LastUpdatedTime: created}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatalf("Create %s: %v", id, err)
		}
	}
	for _, tc := range []struct {
		name string
		// patch runs the second write on item.
		patch func(id string, item map[string]types.AttributeValue) error
		// finished: the new monitor has finished too, with the same
		// output.
		finished bool
		// patched tells whether rec reads as patched.
		patched func(rec monitor.Record) bool
	}{
		{"output", func(id string, item map[string]types.AttributeValue) error {
			return dynamostore.PatchOutput(ctx, s, id, item, "sent")
		}, true, func(rec monitor.Record) bool {
			return rec.Output == nil || rec.Output.AlertStatus != monitor.OutputAlertUnknown
		}},
		{"next check", func(id string, item map[string]types.AttributeValue) error {
			return dynamostore.DropNextCheck(ctx, s, id, item)
		}, false, func(rec monitor.Record) bool {
			return rec.CustomStatus == nil || rec.CustomStatus.NextCheckTime.IsZero()
		}},
	} {
		id := "p-" + strings.ReplaceAll(tc.name, " ", "-")
		// The old monitor's item as its Finish's first write left it
		// (and returned it): the output written, the custom status kept
		// with its next_check_time, which the second write dropped.
		create(id, t0)
		kept := getItem(t, client, table, id)["cs"]
		if err := s.Finish(ctx, id, fin); err != nil {
			t.Fatalf("%s: Finish: %v", tc.name, err)
		}
		item := getItem(t, client, table, id)
		item["cs"] = kept
		if err := s.DeleteFinished(ctx, id, t0); err != nil {
			t.Fatalf("%s: DeleteFinished: %v", tc.name, err)
		}
		// The new monitor of the id, whose attribute reads as the old
		// item's did.
		create(id, t0.Add(time.Minute))
		if tc.finished {
			if err := s.Finish(ctx, id, fin); err != nil {
				t.Fatalf("%s: Finish of the new monitor: %v", tc.name, err)
			}
		}
		before, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("%s: Get: %v", tc.name, err)
		}
		if tc.patched(before) {
			t.Fatalf("%s: the new record reads as patched before the write: %+v", tc.name, before)
		}
		if err := tc.patch(id, item); err != nil {
			t.Errorf("%s: write with the old monitor's item: %v", tc.name, err)
		}
		after, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("%s: Get: %v", tc.name, err)
		}
		if !reflect.DeepEqual(after, before) {
			t.Errorf("%s: the new record after the old monitor's write:\n%+v\nwant it unchanged:\n%+v", tc.name, after, before)
		}
		// The new record's own item is patched.
		if err := tc.patch(id, getItem(t, client, table, id)); err != nil {
			t.Errorf("%s: write with the record's own item: %v", tc.name, err)
		}
		if own, err := s.Get(ctx, id); err != nil || !tc.patched(own) {
			t.Errorf("%s: the record after a write with its own item: %+v, %v; want it patched", tc.name, own, err)
		}
	}
}

// testExpiredRecordsGone: a record whose purge time has passed reads as
// gone before DynamoDB's TTL deletes it: Get is not found, List leaves it
// out, also when it pages, and a purge is not found and deletes nothing.
// A finished record is purged at its PurgeAt, a live one at its ExpiresAt
// plus the retention, and a finished one without a PurgeAt is kept.
func testExpiredRecordsGone(t *testing.T, client *dynamodb.Client) {
	ctx := t.Context()
	table := newTable(t, client)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var now atomic.Pointer[time.Time]
	setNow := func(tm time.Time) { now.Store(&tm) }
	setNow(t0)
	const retention = 24 * time.Hour
	s := dynamostore.New(client, table, dynamostore.WithRetention(retention),
		dynamostore.WithClock(monitor.ClockFunc(func() time.Time { return *now.Load() })))

	// Records created a minute apart, expiring an hour after they are
	// created: live (purged a day after that), finished with a purge two
	// hours after that, finished to be kept for ever.
	kinds := []string{"live", "purged", "kept"}
	var ids []string
	for i := range 12 {
		id := fmt.Sprintf("%s-%02d", kinds[i%3], i)
		created := t0.Add(time.Duration(i) * time.Minute)
		rec := monitor.Record{InstanceID: id, Name: "n", RuntimeStatus: monitor.RuntimePending,
			CreatedTime: created, LastUpdatedTime: created, ExpiresAt: created.Add(time.Hour)}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		switch kinds[i%3] {
		case "purged":
			f := monitor.Finish{RuntimeStatus: monitor.RuntimeCompleted, At: created, PurgeAt: created.Add(2 * time.Hour)}
			if err := s.Finish(ctx, id, f); err != nil {
				t.Fatal(err)
			}
		case "kept":
			if err := s.Finish(ctx, id, monitor.Finish{RuntimeStatus: monitor.RuntimeFailed, At: created}); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, id)
	}
	list := func(top int) []string {
		t.Helper()
		var got []string
		q := monitor.ListQuery{Top: top}
		for {
			page, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				got = append(got, r.InstanceID)
			}
			if page.ContinuationToken == "" {
				return got
			}
			q.ContinuationToken = page.ContinuationToken
		}
	}
	visible := func(want func(kind string, i int) bool) {
		t.Helper()
		var wantIDs []string
		for i := len(ids) - 1; i >= 0; i-- {
			if want(kinds[i%3], i) {
				wantIDs = append(wantIDs, ids[i])
			}
		}
		for _, top := range []int{1, 2, 100} {
			if got := list(top); !slices.Equal(got, wantIDs) {
				t.Errorf("at %v, List top %d = %v, want %v", now.Load().Sub(t0), top, got, wantIDs)
			}
		}
		for i, id := range ids {
			_, err := s.Get(ctx, id)
			if want(kinds[i%3], i) != (err == nil) || err != nil && monitor.KindOf(err) != monitor.KindNotFound {
				t.Errorf("at %v, Get(%s) = %v, want visible %t", now.Load().Sub(t0), id, err, want(kinds[i%3], i))
			}
		}
	}
	visible(func(string, int) bool { return true })
	// Two hours and five minutes in: "purged" records created in the
	// first five minutes (purged-01, purged-04) have passed their purge
	// time, not the later ones; the record at exactly its purge time is
	// gone.
	setNow(t0.Add(2*time.Hour + 4*time.Minute))
	visible(func(kind string, i int) bool { return kind != "purged" || i > 4 })
	// A purge of an expired record is not found and deletes nothing.
	created := t0.Add(time.Minute)
	if err := s.DeleteFinished(ctx, "purged-01", created); monitor.KindOf(err) != monitor.KindNotFound {
		t.Errorf("DeleteFinished of an expired record = %v, want not found", err)
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table,
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "MON#purged-01"}, "sk": &types.AttributeValueMemberS{Value: "STATUS"}}})
	if err != nil || out.Item == nil {
		t.Errorf("the expired record after DeleteFinished: found %t, %v; want it left to the TTL", err == nil && out.Item != nil, err)
	}
	// Past every live record's expiry plus the retention: only the
	// finished records kept for ever remain.
	setNow(t0.Add(time.Hour + retention + 12*time.Minute))
	visible(func(kind string, _ int) bool { return kind == "kept" })
	if err := s.DeleteFinished(ctx, "kept-02", t0.Add(2*time.Minute)); err != nil {
		t.Errorf("DeleteFinished of a record kept for ever = %v", err)
	}
}
