package dynamostore_test

import (
	"bytes"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/motoserver"
)

// loseAnswerTransport forwards every request and, for the first
// UpdateItem whose body holds match, lets the server apply it and then
// loses the answer (a reset connection), as a dropped connection or an
// attempt's timeout does after DynamoDB has applied a write: the SDK
// sends the same request again.
type loseAnswerTransport struct {
	base  http.RoundTripper
	match []byte
	lost  atomic.Int32 // answers lost so far
}

func (l *loseAnswerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := updateItemBody(r)
	if err != nil {
		return nil, err
	}
	resp, err := l.base.RoundTrip(r)
	if err != nil || !bytes.Contains(body, l.match) || !l.lost.CompareAndSwap(0, 1) {
		return resp, err
	}
	resp.Body.Close()
	return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
}

// newLosingStore returns a store on a table of its own whose client loses
// the answer of the first UpdateItem holding match, and the transport.
func newLosingStore(t *testing.T, endpoint string, client *dynamodb.Client, match string) (*dynamostore.Store, *loseAnswerTransport) {
	t.Helper()
	cfg := motoserver.Config(endpoint)
	lt := &loseAnswerTransport{base: cfg.HTTPClient.(*http.Client).Transport, match: []byte(match)}
	cfg.HTTPClient = &http.Client{Transport: lt}
	return dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client)), lt
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
