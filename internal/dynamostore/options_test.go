package dynamostore_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// Options without a value keep the defaults: a retention of 0 or less
// keeps monitor.DefaultRetention, a nil clock the system clock, an empty
// index name the list index.
func testOptionDefaults(t *testing.T, client *dynamodb.Client) {
	ctx := t.Context()
	table := newTable(t, client)
	s := dynamostore.New(client, table, dynamostore.WithRetention(0), dynamostore.WithRetention(-time.Hour),
		dynamostore.WithClock(nil), dynamostore.WithListIndex(""))
	now := time.Now().UTC().Truncate(time.Second)
	// Live records whose purge time, ExpiresAt plus the retention, is
	// an hour ahead of the system clock and an hour behind it.
	for _, r := range []struct {
		id      string
		expires time.Time
	}{
		{"kept", now.Add(time.Hour - monitor.DefaultRetention)},
		{"purged", now.Add(-time.Hour - monitor.DefaultRetention)},
	} {
		rec := monitor.Record{InstanceID: r.id, Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending,
			CreatedTime: now, LastUpdatedTime: now, ExpiresAt: r.expires}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatalf("Create %s: %v", r.id, err)
		}
		want := strconv.FormatInt(r.expires.Add(monitor.DefaultRetention).Unix(), 10)
		if ttl, ok := getItem(t, client, table, r.id)["ttl"].(*types.AttributeValueMemberN); !ok || ttl.Value != want {
			t.Errorf("ttl of %s = %#v, want N %s (ExpiresAt + the default retention)", r.id, ttl, want)
		}
	}
	if _, err := s.Get(ctx, "kept"); err != nil {
		t.Errorf("Get of a record an hour before its purge time: %v", err)
	}
	if _, err := s.Get(ctx, "purged"); monitor.KindOf(err) != monitor.KindNotFound {
		t.Errorf("Get of a record an hour past its purge time = %v, want kind %s", err, monitor.KindNotFound)
	}
	page, err := s.List(ctx, monitor.ListQuery{})
	if got := ids(page.Records); err != nil || !slices.Equal(got, []string{"kept"}) {
		t.Errorf("List = %v, %v; want [kept]", got, err)
	}
}
