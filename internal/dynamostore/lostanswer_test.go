package dynamostore_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// loseAnswerTransport forwards every request and, for the first
// UpdateItem (or the operation op names) whose body holds match, lets the
// server apply it and then loses the answer (a reset connection), as a
// dropped connection or an attempt's timeout does after DynamoDB has
// applied a write: the SDK sends the same request again.
//
// With failRetries, every further request holding match after the lost
// answer is reset too, without reaching the server, as when the SDK's
// retries are throttled or their connections drop: the call runs out of
// attempts. With failReads, so is every GetItem after the lost answer.
type loseAnswerTransport struct {
	base        http.RoundTripper
	op          string // "" is UpdateItem
	match       []byte
	failRetries bool
	failReads   bool
	lost        atomic.Int32 // answers lost so far
	failed      atomic.Int32 // requests reset after the lost answer
}

// reset is the error of a connection reset while its answer is read.
var reset = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}

func (l *loseAnswerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	op := l.op
	if op == "" {
		op = "UpdateItem"
	}
	body, err := requestBody(r, op)
	if err != nil {
		return nil, err
	}
	if l.lost.Load() > 0 && (l.failRetries && bytes.Contains(body, l.match) ||
		l.failReads && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetItem")) {
		l.failed.Add(1)
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, reset
	}
	resp, err := l.base.RoundTrip(r)
	if err != nil || !bytes.Contains(body, l.match) || !l.lost.CompareAndSwap(0, 1) {
		return resp, err
	}
	resp.Body.Close()
	return nil, reset
}

// newLosingStore returns a store on a table of its own whose client loses
// the answer of the first UpdateItem holding match, and the transport.
func newLosingStore(t *testing.T, endpoint string, client *dynamodb.Client, match string) (*dynamostore.Store, *loseAnswerTransport) {
	t.Helper()
	cfg := motoConfig(endpoint)
	lt := &loseAnswerTransport{base: cfg.HTTPClient.(*http.Client).Transport, match: []byte(match)}
	cfg.HTTPClient = &http.Client{Transport: lt}
	return dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client)), lt
}

// newFailingStore is newLosingStore whose transport also fails the SDK's
// retries of the request whose answer it loses (failRetries). Its client
// makes three attempts, as the functions' clients do (the SDK's default
// retryer), without pausing between them.
func newFailingStore(t *testing.T, endpoint string, client *dynamodb.Client, match string) (*dynamostore.Store, *loseAnswerTransport) {
	t.Helper()
	cfg := motoConfig(endpoint)
	lt := &loseAnswerTransport{base: cfg.HTTPClient.(*http.Client).Transport, match: []byte(match), failRetries: true}
	cfg.HTTPClient = &http.Client{Transport: lt}
	cfg.RetryMaxAttempts = 3 // else it overrides the retryer's
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	return dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client)), lt
}

// A claim that DynamoDB applied, whose answer was lost and whose retries
// by the SDK all failed, is still the call's own: the call reads the item
// and reports it claimed, rather than failing and leaving the task's
// retry to find the alert sending and call it unknown. When the read
// fails too, or the claim it finds is not the call's, the call fails
// with the write's error.
func testClaimRetriesFail(t *testing.T, endpoint string, client *dynamodb.Client) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name        string
		alert       monitor.AlertState // in the record before the claim
		failReads   bool
		wantClaimed bool
		wantAlert   monitor.AlertState // stored after the claim (status and attempts)
	}{
		{"unclaimed", monitor.AlertState{}, false, true, monitor.AlertState{Status: monitor.AlertSending, Attempts: 1}},
		{"failed before", monitor.AlertState{Status: monitor.AlertFailed, Channel: monitor.ChannelSNS, Attempts: 1, LastError: "boom"}, false, true,
			monitor.AlertState{Status: monitor.AlertSending, Attempts: 2}},
		{"sending, claimed by an earlier version", monitor.AlertState{Status: monitor.AlertSending, Channel: monitor.ChannelSNS, Attempts: 1, ClaimedAt: t0}, false, false,
			monitor.AlertState{Status: monitor.AlertSending, Attempts: 1}},
		{"the read fails too", monitor.AlertState{}, true, false, monitor.AlertState{Status: monitor.AlertSending, Attempts: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, lt := newFailingStore(t, endpoint, client, "SET #als = :sending")
			lt.failReads = tt.failReads
			rec := monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0, Alert: tt.alert}
			if err := s.Create(t.Context(), rec); err != nil {
				t.Fatalf("Create: %v", err)
			}
			st, claimed, err := s.ClaimAlert(t.Context(), "m1", t0, monitor.ChannelSNS, t0.Add(time.Minute))
			if lt.lost.Load() != 1 || lt.failed.Load() < 2 {
				t.Fatalf("the transport lost %d answers and reset %d requests after, want 1 and at least 2", lt.lost.Load(), lt.failed.Load())
			}
			switch {
			case tt.wantClaimed && err != nil:
				t.Fatalf("ClaimAlert: %v, want claimed", err)
			case tt.wantClaimed && (!claimed || st.Status != monitor.AlertSending || st.Attempts != tt.wantAlert.Attempts):
				t.Errorf("ClaimAlert = %+v, claimed %v; want sending, %d attempts, claimed", st, claimed, tt.wantAlert.Attempts)
			case !tt.wantClaimed && (!monitor.IsKind(err, monitor.KindUnavailable) || !strings.Contains(err.Error(), "UpdateItem")):
				t.Errorf("ClaimAlert = %+v, claimed %v, err %v; want the write's error, unavailable", st, claimed, err)
			}
			got, err := s.Get(t.Context(), "m1")
			if err == nil && (got.Alert.Status != tt.wantAlert.Status || got.Alert.Attempts != tt.wantAlert.Attempts) {
				t.Errorf("stored alert = %+v, want %s with %d attempts", got.Alert, tt.wantAlert.Status, tt.wantAlert.Attempts)
			}
		})
	}
}

// An event that DynamoDB appended, whose answer was lost and whose
// retries by the SDK all failed, is the call's all the same: the call
// reads the item, finds its token and succeeds, so that the caller does
// not add the event again.
func testAddEventRetriesFail(t *testing.T, endpoint string, client *dynamodb.Client) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	s, lt := newFailingStore(t, endpoint, client, "list_append")
	rec := monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0}
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := s.AddEvent(t.Context(), "m1", monitor.Event{Name: "custom1", RaisedAt: t0.Add(time.Second)}); err != nil {
		t.Fatalf("AddEvent: %v", err)
	}
	if lt.lost.Load() != 1 || lt.failed.Load() < 2 {
		t.Fatalf("the transport lost %d answers and reset %d requests after, want 1 and at least 2", lt.lost.Load(), lt.failed.Load())
	}
	got, err := s.Get(t.Context(), "m1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if len(got.Events) != 1 || got.Events[0].Name != "custom1" {
		t.Errorf("events = %+v, want custom1 once", got.Events)
	}
}

// A claim that DynamoDB applied but whose answer was lost is the call's
// own when the SDK's retry meets it: the call reports it claimed, counted
// once. A claim an earlier version left sending (with no token) is not.
func testClaimAnswerLost(t *testing.T, endpoint string, client *dynamodb.Client) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name         string
		alert        monitor.AlertState // in the record before the claim
		wantClaimed  bool
		wantAttempts int
	}{
		{"unclaimed", monitor.AlertState{}, true, 1},
		{"failed before", monitor.AlertState{Status: monitor.AlertFailed, Channel: monitor.ChannelSNS, Attempts: 1, LastError: "boom"}, true, 2},
		{"sending, claimed by an earlier version", monitor.AlertState{Status: monitor.AlertSending, Channel: monitor.ChannelSNS, Attempts: 1, ClaimedAt: t0}, false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, lt := newLosingStore(t, endpoint, client, "SET #als = :sending")
			rec := monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0, Alert: tt.alert}
			if err := s.Create(t.Context(), rec); err != nil {
				t.Fatalf("Create: %v", err)
			}
			st, claimed, err := s.ClaimAlert(t.Context(), "m1", t0, monitor.ChannelSNS, t0.Add(time.Minute))
			if err != nil {
				t.Fatalf("ClaimAlert: %v", err)
			}
			if lt.lost.Load() != 1 {
				t.Fatalf("the transport lost %d answers, want 1", lt.lost.Load())
			}
			if claimed != tt.wantClaimed || st.Status != monitor.AlertSending || st.Attempts != tt.wantAttempts {
				t.Errorf("ClaimAlert = %+v, claimed %v; want sending, %d attempts, claimed %v", st, claimed, tt.wantAttempts, tt.wantClaimed)
			}
			got, err := s.Get(t.Context(), "m1")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got.Alert.Status != monitor.AlertSending || got.Alert.Attempts != tt.wantAttempts {
				t.Errorf("stored alert = %+v, want sending with %d attempts", got.Alert, tt.wantAttempts)
			}
		})
	}
}

// An event that DynamoDB appended but whose answer was lost is stored
// once when the SDK's retry meets it, also when its append filled the
// record (the retry would otherwise be refused as over the cap).
func testAddEventAnswerLost(t *testing.T, endpoint string, client *dynamodb.Client) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		before int // events in the record before the add
	}{
		{"room", 0},
		{"the add that fills the record", monitor.MaxEventsPerMonitor - 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, lt := newLosingStore(t, endpoint, client, "list_append")
			rec := monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0}
			for i := range tt.before {
				rec.Events = append(rec.Events, monitor.Event{Name: "old", RaisedAt: t0, ConsumedBy: i % 2})
			}
			if err := s.Create(t.Context(), rec); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if err := s.AddEvent(t.Context(), "m1", monitor.Event{Name: "custom1", Data: []byte(`{"x":1}`), RaisedAt: t0.Add(time.Second)}); err != nil {
				t.Fatalf("AddEvent: %v", err)
			}
			if lt.lost.Load() != 1 {
				t.Fatalf("the transport lost %d answers, want 1", lt.lost.Load())
			}
			got, err := s.Get(t.Context(), "m1")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			added := 0
			for _, ev := range got.Events {
				if ev.Name == "custom1" {
					added++
				}
			}
			if added != 1 || len(got.Events) != tt.before+1 {
				t.Errorf("after one AddEvent: %d events, %d of them the new one; want %d, 1", len(got.Events), added, tt.before+1)
			}
		})
	}
}

// eventTokens returns the tokens of item's listed events (those that
// have one) and its set of event tokens, both sorted.
func eventTokens(t *testing.T, item map[string]types.AttributeValue) (listed, set []string) {
	t.Helper()
	l, _ := item["ev"].(*types.AttributeValueMemberL)
	if l != nil {
		for _, v := range l.Value {
			if k, ok := v.(*types.AttributeValueMemberM).Value["k"].(*types.AttributeValueMemberS); ok {
				listed = append(listed, k.Value)
			}
		}
	}
	if ss, ok := item["evk"].(*types.AttributeValueMemberSS); ok {
		set = slices.Clone(ss.Value)
	}
	slices.Sort(listed)
	slices.Sort(set)
	return listed, set
}

// The set of event tokens that AddEvent's condition reads holds the
// tokens of the listed events, as ConsumeEvents keeps and drops them,
// beside events of an earlier version, which have none.
func testEventTokensFollowList(t *testing.T, client *dynamodb.Client) {
	table := newTable(t, client)
	s := dynamostore.New(client, table)
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	rec := monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0,
		Events: []monitor.Event{{Name: "before", RaisedAt: t0}}} // appended by an earlier version: no token
	if err := s.Create(ctx, rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	// oldAdd appends an event as an earlier version's AddEvent does.
	oldAdd := func(name string) {
		_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &table, Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "MON#m1"}, "sk": &types.AttributeValueMemberS{Value: "STATUS"}},
			UpdateExpression: aws.String("SET ev = list_append(ev, :new) ADD pe :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":new": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
					"n": &types.AttributeValueMemberS{Value: name}, "c": &types.AttributeValueMemberN{Value: "0"}}}}},
				":one": &types.AttributeValueMemberN{Value: "1"},
			},
		})
		if err != nil {
			t.Fatalf("old AddEvent: %v", err)
		}
	}
	add := func(name string) {
		if err := s.AddEvent(ctx, "m1", monitor.Event{Name: name, RaisedAt: t0}); err != nil {
			t.Fatalf("AddEvent(%s): %v", name, err)
		}
	}
	consume := func(check int) {
		if _, err := s.ConsumeEvents(ctx, "m1", t0, check); err != nil {
			t.Fatalf("ConsumeEvents(%d): %v", check, err)
		}
	}
	for _, step := range []struct {
		what   string
		do     func()
		tokens int // listed events with a token after the step
	}{
		{"two events added", func() { add("a"); add("b") }, 2},
		{"check 1 consumed them", func() { consume(1) }, 2},
		{"check 2 dropped them, one pending", func() { add("c"); consume(2) }, 1},
		{"check 3 dropped it, an earlier version's pending", func() { oldAdd("old"); consume(3) }, 0},
		{"added after", func() { add("d") }, 1},
	} {
		step.do()
		item := getItem(t, client, table, "m1")
		listed, set := eventTokens(t, item)
		if len(listed) != step.tokens || !slices.Equal(listed, set) {
			t.Fatalf("%s: tokens of the listed events %q, set of tokens %q; want %d, the same", step.what, listed, set, step.tokens)
		}
		// DynamoDB refuses an empty set, which moto stores: with no
		// token to keep, the set must be gone, not empty.
		if evk, ok := item["evk"]; step.tokens == 0 && ok {
			t.Fatalf("%s: item has evk %#v, want none", step.what, evk)
		}
	}
	got, err := s.Get(ctx, "m1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	var names []string
	for _, ev := range got.Events {
		names = append(names, ev.Name)
	}
	if want := []string{"old", "d"}; !slices.Equal(names, want) {
		t.Errorf("events = %q, want %q", names, want)
	}
}

// countingSender counts the alerts sent through it.
type countingSender struct{ sent atomic.Int32 }

func (c *countingSender) Send(context.Context, monitor.Alert, monitor.Message) (string, error) {
	c.sent.Add(1)
	return "msg-1", nil
}

// The alert task whose claim's answer is lost sends the alert and says
// so, rather than taking its own claim for an attempt that died mid-send.
func testAlertAfterClaimAnswerLost(t *testing.T, endpoint string, client *dynamodb.Client) {
	s, lt := newLosingStore(t, endpoint, client, "SET #als = :sending")
	t0 := time.Now().UTC().Truncate(time.Second)
	spec := monitor.Spec{JobID: "j1", Target: monitor.Target{Type: monitor.TargetSimulated},
		Alert: &monitor.Alert{TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts"}}
	rec := monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, Input: spec,
		CreatedTime: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	sender := &countingSender{}
	tasks := &monitor.Tasks{Store: s, Senders: map[string]monitor.Sender{monitor.ChannelSNS: sender}}
	st := monitor.State{InstanceID: "m1", StartedAt: t0, ExpiresAt: rec.ExpiresAt, Spec: spec,
		Check: monitor.CheckResult{CheckCount: 1, ConditionMet: true, Status: monitor.StatusRunning, CheckedAt: t0.Add(time.Second)}}
	out, err := tasks.Alert(t.Context(), monitor.TaskInput{State: st, ExecutionArn: "arn:aws:states:us-east-1:123456789012:execution:m:m1"})
	if err != nil {
		t.Fatalf("Alert: %v", err)
	}
	if lt.lost.Load() != 1 {
		t.Fatalf("the transport lost %d answers, want 1", lt.lost.Load())
	}
	if n := sender.sent.Load(); n != 1 {
		t.Errorf("alerts sent = %d, want 1", n)
	}
	if o := out.Check.Output; o == nil || o.AlertStatus != "sent" {
		t.Errorf("output = %+v, want alert_status sent", o)
	}
	got, err := s.Get(t.Context(), "m1")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Alert.Status != monitor.AlertSent || got.Alert.Attempts != 1 {
		t.Errorf("stored alert = %+v, want sent after 1 attempt", got.Alert)
	}
}

// A purge whose delete DynamoDB applied but whose answer was lost finds
// nothing to delete when the SDK sends it again: the purge succeeds, and
// the record is gone.
func testPurgeAnswerLost(t *testing.T, endpoint string, client *dynamodb.Client) {
	t0 := time.Now().UTC().Truncate(time.Second)
	s, lt := newLosingStore(t, endpoint, client, "m1")
	lt.op = "DeleteItem"
	rec := monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeCompleted, CreatedTime: t0,
		LastUpdatedTime: t0, PurgeAt: t0.Add(monitor.DefaultRetention)}
	if err := s.Create(t.Context(), rec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	api := &monitor.API{Store: s}
	if err := api.Purge(t.Context(), "m1"); err != nil {
		t.Errorf("Purge = %v, want success", err)
	}
	if lt.lost.Load() != 1 {
		t.Fatalf("the transport lost %d answers, want 1", lt.lost.Load())
	}
	if _, err := s.Get(t.Context(), "m1"); !monitor.IsKind(err, monitor.KindNotFound) {
		t.Errorf("Get after the purge = %v, want not found", err)
	}
}
