package dynamostore

import (
	"encoding/json"
	"go/ast"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/testtool"
)

// fullItem returns the item of a finished record with every field set.
func fullItem(t *testing.T) map[string]types.AttributeValue {
	t.Helper()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)
	open := 4
	rec := monitor.Record{
		InstanceID:    "m1",
		Name:          "HTTPJobMonitor",
		RuntimeStatus: monitor.RuntimeCompleted,
		Input: monitor.Spec{JobID: "job-1", Target: monitor.Target{Type: monitor.TargetHTTP, URL: "https://jobs.example.com/1"},
			PollingIntervalSeconds: 60, TimeoutSeconds: 3600, Alert: &monitor.Alert{WebhookURL: "https://hooks.example.com/x"}},
		CustomStatus: &monitor.CustomStatus{JobID: "job-1", Status: "Completed", CheckCount: 3, LastCheckTime: t0,
			OpenIssues: &open, Detail: "done", LastEvent: "complete", Generation: 1},
		Output:          &monitor.Output{JobID: "job-1", FinalStatus: monitor.FinalAlerted, ChecksPerformed: 3, AlertStatus: "Sent"},
		CreatedTime:     t0,
		LastUpdatedTime: t0.Add(time.Minute),
		ExecutionArn:    "arn:aws:states:us-east-1:123456789012:execution:sm:m1",
		ExpiresAt:       t0.Add(time.Hour),
		Alert: monitor.AlertState{Status: monitor.AlertSent, Channel: monitor.ChannelWebhook, Attempts: 2,
			ClaimedAt: t0.Add(time.Second), SentAt: t0.Add(2 * time.Second), MessageID: "msg-1", LastError: "timeout",
			RetryAt: t0.Add(3 * time.Second)},
		Events:  []monitor.Event{{Name: "complete", Data: json.RawMessage(`{"a":1}`), RaisedAt: t0, ConsumedBy: 3}},
		PurgeAt: t0.Add(7 * 24 * time.Hour),
	}
	item, err := recordItem(rec)
	if err != nil {
		t.Fatalf("recordItem: %v", err)
	}
	item[attrEvVers] = num(1)
	item[attrPend] = num(2) // as AddEvent and ConsumeEvents keep it
	return item
}

// project returns the attributes of item that the list index holds: the
// table's and the index's keys, and ListAttributes.
func project(item map[string]types.AttributeValue, attrs []string) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for _, name := range append([]string{attrPK, attrSK, attrGSIPK, attrGSISK}, attrs...) {
		if v, ok := item[name]; ok {
			out[name] = v
		}
	}
	return out
}

// ListAttributes are exactly the attributes that List decodes: a record
// read from the projected index item equals one read from the whole item
// but for the alert's retry time, which a listed record does not show,
// and leaving out any one of them changes it.
func TestListAttributes(t *testing.T) {
	item := fullItem(t)
	want, err := itemRecord(item, false)
	if err != nil {
		t.Fatalf("itemRecord(whole item): %v", err)
	}
	if want.Alert.RetryAt.IsZero() {
		t.Fatal("the full item has no alert retry time")
	}
	want.Alert.RetryAt = time.Time{} // not projected (attrAlertR)
	got, err := itemRecord(project(item, ListAttributes), false)
	if err != nil {
		t.Fatalf("itemRecord(projected item): %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("record from the projected item differs:\ngot  %+v\nwant %+v", got, want)
	}
	for _, name := range ListAttributes {
		without := slices.DeleteFunc(slices.Clone(ListAttributes), func(s string) bool { return s == name })
		r, err := itemRecord(project(item, without), false)
		if err == nil && reflect.DeepEqual(r, want) {
			t.Errorf("ListAttributes has %s, which List does not read", name)
		}
	}
	// Every attribute of the item is either listed, a key, or one List
	// does not read.
	notListed := []string{attrPK, attrSK, attrGSIPK, attrGSISK, attrTTL, attrCount, attrEvents, attrEvVers, attrAlertR}
	for _, name := range slices.Sorted(maps.Keys(item)) {
		if !slices.Contains(ListAttributes, name) && !slices.Contains(notListed, name) {
			t.Errorf("attribute %s is neither in ListAttributes nor known not to be listed", name)
		}
	}
}

// The CDK app (infra/, a Go module of its own that cannot import this
// package) projects the same attributes into the index it defines.
func TestInfraProjectsListAttributes(t *testing.T) {
	values := testtool.InfraValues(t)
	list, _ := values["ListIndexAttributes"].(*ast.CompositeLit)
	if list == nil {
		t.Fatal("infra/stack.go declares no ListIndexAttributes")
	}
	var infra []string
	for _, e := range list.Elts {
		lit, ok := e.(*ast.BasicLit)
		if !ok {
			t.Fatalf("ListIndexAttributes: element %#v is not a string literal", e)
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatalf("ListIndexAttributes: element %s: %v", lit.Value, err)
		}
		infra = append(infra, s)
	}
	if !slices.Equal(infra, ListAttributes) {
		t.Errorf("infra ListIndexAttributes = %q, want dynamostore.ListAttributes %q", infra, ListAttributes)
	}
	var got string
	if lit, ok := values["IndexName"].(*ast.BasicLit); ok {
		got, _ = strconv.Unquote(lit.Value)
	}
	if got != IndexName {
		t.Errorf("infra IndexName = %q, want %q", got, IndexName)
	}
}

// A record encoded by recordItem decodes to the same record, with the
// count of its pending events, and its item carries the attributes that
// conditions and the table's TTL read.
func TestRecordItemRoundTrip(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 123456000, time.UTC)
	east := time.FixedZone("UTC+2", 2*60*60)
	tests := []struct {
		name      string
		rec       monitor.Record
		wantCount int64
		wantTTL   int64 // 0: no ttl attribute
	}{
		{
			name: "new record without custom status",
			rec: monitor.Record{InstanceID: "m1", Name: "HTTPJobMonitor", RuntimeStatus: monitor.RuntimePending,
				Input: monitor.Spec{JobID: "job-1"}, CreatedTime: t0, LastUpdatedTime: t0, ExpiresAt: t0.Add(time.Hour)},
		},
		{
			name: "purged record with custom status and one-byte event data",
			rec: monitor.Record{InstanceID: "m2", Name: "HTTPJobMonitor", RuntimeStatus: monitor.RuntimeCompleted,
				Input:        monitor.Spec{JobID: "job-2"},
				CustomStatus: &monitor.CustomStatus{JobID: "job-2", CheckCount: 5, LastCheckTime: t0, NextCheckTime: t0.Add(time.Minute)},
				CreatedTime:  t0, LastUpdatedTime: t0, ExecutionArn: "arn:x",
				Alert: monitor.AlertState{Status: monitor.AlertFailed, Attempts: 1, ClaimedAt: t0, LastError: "boom"},
				Events: []monitor.Event{
					{Name: "a", Data: json.RawMessage(`1`), RaisedAt: t0, ConsumedBy: 2},
					{Name: "b", Data: json.RawMessage(`{}`)},
				},
				PurgeAt: t0.Add(24 * time.Hour)},
			wantCount: 5,
			wantTTL:   t0.Add(24 * time.Hour).Unix(),
		},
		{
			name: "custom status times outside UTC",
			rec: monitor.Record{InstanceID: "m3", Name: "HTTPJobMonitor", RuntimeStatus: monitor.RuntimeRunning,
				Input:        monitor.Spec{JobID: "job-3"},
				CustomStatus: &monitor.CustomStatus{JobID: "job-3", CheckCount: 1, LastCheckTime: t0.In(east), NextCheckTime: t0.Add(time.Minute).In(east)},
				CreatedTime:  t0},
			wantCount: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item, err := recordItem(tt.rec)
			if err != nil {
				t.Fatalf("recordItem: %v", err)
			}
			got, err := itemRecord(item, true)
			if err != nil {
				t.Fatalf("itemRecord: %v", err)
			}
			want := tt.rec.Clone()
			want.PendingEvents = tt.rec.Pending()
			if cs := want.CustomStatus; cs != nil {
				cs.LastCheckTime, cs.NextCheckTime = cs.LastCheckTime.UTC(), cs.NextCheckTime.UTC()
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("record read back differs:\ngot  %+v\nwant %+v", got, want)
			}
			if got := getN(item, attrCount); got != tt.wantCount {
				t.Errorf("%s = %d, want %d", attrCount, got, tt.wantCount)
			}
			if _, ok := item[attrTTL]; ok != (tt.wantTTL != 0) || getN(item, attrTTL) != tt.wantTTL {
				t.Errorf("%s = %v, want %d", attrTTL, item[attrTTL], tt.wantTTL)
			}
			if cs := getS(item, attrCustom); strings.Contains(cs, "+02:00") {
				t.Errorf("%s = %s, want times in UTC", attrCustom, cs)
			}
		})
	}
}

// itemRecord reports a malformed time attribute even when the times it
// decodes after it are well formed.
func TestItemRecordMalformedTime(t *testing.T) {
	for _, name := range []string{attrCreate, attrUpdate, attrExpire, attrPurge, attrAlertT, attrAlertD} {
		t.Run(name, func(t *testing.T) {
			item := fullItem(t)
			item[name] = str("yesterday")
			if _, err := itemRecord(item, false); err == nil {
				t.Errorf("itemRecord with %s = %q: no error", name, "yesterday")
			}
		})
	}
}
