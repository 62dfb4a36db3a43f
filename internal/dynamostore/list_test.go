package dynamostore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// idsInShard returns n record ids, prefix followed by a number, that lie
// in list index partition shard.
func idsInShard(t *testing.T, prefix string, shard, n int) []string {
	t.Helper()
	var ids []string
	for i := 0; len(ids) < n; i++ {
		if i > 10000 {
			t.Fatalf("no %d ids %s… in shard %d", n, prefix, shard)
		}
		if id := fmt.Sprintf("%s%d", prefix, i); dynamostore.ShardOf(id) == shard {
			ids = append(ids, id)
		}
	}
	return ids
}

// When the read budget stops a status-filtered List, the page ends at
// the highest key down to which every shard has been read. That key may
// be a matching record's, read by a shard other than the one that ran
// out (whose last item read did not match, and lies lower): the record
// is on that page, since the next one reads only below it.
func testListBudgetStopsAtMatch(t *testing.T, client *dynamodb.Client) {
	s := dynamostore.New(client, newTable(t, client))
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	a, b := idsInShard(t, "a", 0, 3), idsInShard(t, "b", 1, 3)
	// Shard 0, newest first: a[0] Failed, a[1] Completed, a[2] Failed;
	// shard 1: b[0], b[1], b[2] Failed, b[0] and b[1] between a[0] and
	// a[1].
	for _, r := range []struct {
		id  string
		min int
		st  monitor.RuntimeStatus
	}{
		{a[0], 10, monitor.RuntimeFailed}, {a[1], 5, monitor.RuntimeCompleted}, {a[2], 1, monitor.RuntimeFailed},
		{b[0], 8, monitor.RuntimeFailed}, {b[1], 7, monitor.RuntimeFailed}, {b[2], 0, monitor.RuntimeFailed},
	} {
		created := t0.Add(time.Duration(r.min) * time.Minute)
		rec := monitor.Record{InstanceID: r.id, Name: "JobMonitor", RuntimeStatus: r.st, CreatedTime: created, LastUpdatedTime: created}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatalf("Create %s: %v", r.id, err)
		}
	}
	// Each shard's first query reads two items, four in all: the budget.
	// Shard 0 runs out after a[0], having read down to a[1]; shard 1 has
	// read down to b[1], which is where the page ends.
	dynamostore.SetListReadBudget(s, 4)
	q := monitor.ListQuery{RuntimeStatus: []monitor.RuntimeStatus{monitor.RuntimeFailed}, Top: 10}
	for i, want := range [][]string{{a[0], b[0], b[1]}, {a[2], b[2]}} {
		page, err := s.List(ctx, q)
		if err != nil {
			t.Fatalf("List page %d: %v", i, err)
		}
		if got := ids(page.Records); !slices.Equal(got, want) {
			t.Errorf("page %d = %v, want %v", i, got, want)
		}
		if last := i == 1; (page.ContinuationToken == "") != last {
			t.Fatalf("page %d: token %q, want one on the first page only", i, page.ContinuationToken)
		}
		q.ContinuationToken = page.ContinuationToken
	}
}
