package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// Run runs the Store conformance suite. newStore is called once per subtest
// with that subtest's t and must return a new, empty store; it may register
// cleanups on t.
func Run(t *testing.T, newStore func(t *testing.T) monitor.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Create", createTests},
		{"Get", getTests},
		{"SetExecution", setExecutionTests},
		{"RecordCheck", recordCheckTests},
		{"Finish", finishTests},
		{"Events", eventTests},
		{"EventLifetime", lifetimeTests},
		{"Alert", alertTests},
		{"List", listTests},
		{"Delete", deleteTests},
		{"ReleaseClaim", releaseClaimTests},
		{"Time", timeTests},
		{"EndedContext", endedTests},
		{"Owner", ownerTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
			}
		})
	}
}

// test is one conformance case.
type test struct {
	name string
	fn   func(t *testing.T, s monitor.Store)
}

// t0 has a sub-millisecond part on purpose: stores must keep at least
// milliseconds.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535_897_932, time.UTC)

// Now is the time around which the suite's records are created: none of
// them has reached its purge time at Now. A store that hides records
// whose purge time has passed by its own clock runs the suite with a
// clock reading Now.
var Now = t0

// ms is the precision the suite requires of stored times.
const ms = time.Millisecond

func ctx(t *testing.T) context.Context { return t.Context() }

// newRecord returns a Pending record as the start handler would create it.
func newRecord(id string, created time.Time) monitor.Record {
	spec := monitor.Spec{
		JobID:                  "job-" + id,
		Target:                 monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 4, Outcome: monitor.StatusCompleted},
		PollingIntervalSeconds: 5,
		TimeoutSeconds:         30,
	}
	return monitor.Record{
		InstanceID:      id,
		Name:            monitor.NameFor(spec),
		RuntimeStatus:   monitor.RuntimePending,
		Input:           spec,
		CreatedTime:     created,
		LastUpdatedTime: created,
		ExpiresAt:       created.Add(30 * time.Second),
	}
}

// fullRecord returns a record with every field set that Create may be
// given, for round-trip checks.
func fullRecord(id string, created time.Time) monitor.Record {
	spec := monitor.Spec{
		JobID: "repo-watch",
		Target: monitor.Target{
			Type: monitor.TargetHTTP, URL: "https://jobs.example.com/api/jobs/42", Method: "GET",
			Headers:    map[string]string{"Authorization": "Bearer x", "Accept": "application/json"},
			StatusPath: "$.status", DoneValues: []string{"Completed", "Done"}, FailedValues: []string{"Failed"},
			RequestTimeoutSeconds: 10,
		},
		PollingIntervalSeconds: 60,
		Backoff:                &monitor.Backoff{Multiplier: 1.5, MaxIntervalSeconds: 3600},
		TimeoutSeconds:         86400,
		Alert:                  &monitor.Alert{WebhookURL: "https://hooks.example.com/x", Message: "{{.JobID}} is {{.Status}} ✓"},
	}
	open := 7
	return monitor.Record{
		InstanceID:      id,
		Name:            monitor.NameFor(spec),
		RuntimeStatus:   monitor.RuntimePending,
		Input:           spec,
		CustomStatus:    &monitor.CustomStatus{JobID: "repo-watch", Status: "Queued", CheckCount: 0, LastCheckTime: created, OpenIssues: &open, Detail: "not checked yet"},
		CreatedTime:     created,
		LastUpdatedTime: created.Add(time.Second),
		ExecutionArn:    "arn:aws:states:us-east-1:123456789012:execution:stepmon:" + id,
		ExpiresAt:       created.Add(24 * time.Hour),
	}
}

func customStatus(id string, n int, at time.Time) monitor.CustomStatus {
	return monitor.CustomStatus{
		JobID: "job-" + id, Status: monitor.StatusRunning, CheckCount: n,
		LastCheckTime: at, NextCheckTime: at.Add(5 * time.Second), IntervalSeconds: 5,
		Detail: fmt.Sprintf("check %d", n),
	}
}

func checkUpdate(id string, n int, at time.Time) monitor.CheckUpdate {
	return monitor.CheckUpdate{CustomStatus: customStatus(id, n, at), At: at}
}

func finish(status monitor.RuntimeStatus, final string, at time.Time) monitor.Finish {
	return monitor.Finish{
		RuntimeStatus: status,
		Output:        monitor.Output{JobID: "job", FinalStatus: final, ChecksPerformed: 3, MonitoringDurationSeconds: 15, Detail: "done"},
		At:            at,
		PurgeAt:       at.Add(7 * 24 * time.Hour),
	}
}

func mustCreate(t *testing.T, s monitor.Store, rec monitor.Record) {
	t.Helper()
	if err := s.Create(ctx(t), rec); err != nil {
		t.Fatalf("Create(%s): %v", rec.InstanceID, err)
	}
}

func mustGet(t *testing.T, s monitor.Store, id string) monitor.Record {
	t.Helper()
	rec, err := s.Get(ctx(t), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return rec
}

func mustRecordCheck(t *testing.T, s monitor.Store, id string, u monitor.CheckUpdate) bool {
	t.Helper()
	applied, err := s.RecordCheck(ctx(t), id, u)
	if err != nil {
		t.Fatalf("RecordCheck(%s, %d): %v", id, u.CustomStatus.CheckCount, err)
	}
	return applied
}

func mustFinish(t *testing.T, s monitor.Store, id string, f monitor.Finish) {
	t.Helper()
	if err := s.Finish(ctx(t), id, f); err != nil {
		t.Fatalf("Finish(%s): %v", id, err)
	}
}

func mustAddEvent(t *testing.T, s monitor.Store, id string, ev monitor.Event) {
	t.Helper()
	if err := s.AddEvent(ctx(t), id, ev); err != nil {
		t.Fatalf("AddEvent(%s, %s): %v", id, ev.Name, err)
	}
}

// wantKind fails t unless err is a *monitor.Error of the given kind.
func wantKind(t *testing.T, what string, err error, kind monitor.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got nil error, want kind %s", what, kind)
	}
	var e *monitor.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %T %v, want a *monitor.Error of kind %s", what, err, err, kind)
	}
	if got := monitor.KindOf(err); got != kind {
		t.Fatalf("%s: got kind %s (%v), want %s", what, got, err, kind)
	}
}

// normTime is t in UTC truncated to the precision the suite requires.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(ms)
}

// norm returns a deep copy of r with every time value normalised, for
// comparison.
func norm(r monitor.Record) monitor.Record {
	c := r.Clone()
	c.PendingEvents = 0
	c.CreatedTime = normTime(c.CreatedTime)
	c.LastUpdatedTime = normTime(c.LastUpdatedTime)
	c.ExpiresAt = normTime(c.ExpiresAt)
	c.PurgeAt = normTime(r.PurgeAt)
	if c.CustomStatus != nil {
		c.CustomStatus.LastCheckTime = normTime(c.CustomStatus.LastCheckTime)
		c.CustomStatus.NextCheckTime = normTime(c.CustomStatus.NextCheckTime)
	}
	c.Alert.ClaimedAt = normTime(c.Alert.ClaimedAt)
	c.Alert.SentAt = normTime(c.Alert.SentAt)
	c.Alert.RetryAt = normTime(c.Alert.RetryAt)
	if len(c.Events) == 0 {
		c.Events = nil
	}
	for i := range c.Events {
		c.Events[i].RaisedAt = normTime(c.Events[i].RaisedAt)
		c.Events[i].Data = compactJSON(c.Events[i].Data)
	}
	return c
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	b, _ := json.Marshal(v)
	return b
}

// wantRecord fails t unless got equals want once times are normalised.
func wantRecord(t *testing.T, what string, got, want monitor.Record) {
	t.Helper()
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.MarshalIndent(g, "", "  ")
		wj, _ := json.MarshalIndent(w, "", "  ")
		t.Fatalf("%s: record differs\ngot  %s (purgeAt %v)\nwant %s (purgeAt %v)", what, gj, g.PurgeAt, wj, w.PurgeAt)
	}
}

// wantTime fails t unless got is UTC and equals want to the millisecond.
func wantTime(t *testing.T, field string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s = %v, want the zero time", field, got)
		}
		return
	}
	if got.Location() != time.UTC {
		t.Errorf("%s = %v in %v, want UTC", field, got, got.Location())
	}
	if !normTime(got).Equal(normTime(want)) {
		t.Errorf("%s = %v, want %v (to the millisecond)", field, got.UTC().Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano))
	}
}

func ptr[T any](v T) *T { return &v }
