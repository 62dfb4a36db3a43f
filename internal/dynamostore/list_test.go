package dynamostore_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
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

// listToken is the content of a List continuation token, as the store
// writes it.
type listToken struct {
	V int    `json:"v"`
	K string `json:"k"`
}

// A continuation token is the store's own: one that names a position
// the store would not write (another version, no instance id, no
// created time) is KindInvalid, however well it decodes, while one the
// store would write is a position to list from.
func testListTokenPositions(t *testing.T, client *dynamodb.Client) {
	s := dynamostore.New(client, newTable(t, client))
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		created := t0.Add(time.Duration(i) * time.Minute)
		rec := monitor.Record{InstanceID: fmt.Sprintf("m%d", i), Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending,
			CreatedTime: created, LastUpdatedTime: created}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	at := t0.Add(2 * time.Minute).Format("2006-01-02T15:04:05.000000000Z")
	for _, tc := range []struct {
		name string
		tok  listToken
	}{
		{"another version", listToken{V: 2, K: at + "#m2"}},
		{"no version", listToken{K: at + "#m2"}},
		{"no instance id", listToken{V: 1, K: at + "#"}},
		{"no separator", listToken{V: 1, K: at}},
		{"no created time", listToken{V: 1, K: "#m2"}},
		{"a created time of another form", listToken{V: 1, K: t0.Format(time.RFC3339) + "#m2"}},
	} {
		_, err := s.List(ctx, monitor.ListQuery{ContinuationToken: monitor.EncodeToken(tc.tok)})
		if monitor.KindOf(err) != monitor.KindInvalid {
			t.Errorf("%s: List with token %+v = %v, want kind %s", tc.name, tc.tok, err, monitor.KindInvalid)
		}
	}
	page, err := s.List(ctx, monitor.ListQuery{ContinuationToken: monitor.EncodeToken(listToken{V: 1, K: at + "#m2"})})
	if got, want := ids(page.Records), []string{"m1", "m0"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("List from the position of m2 = %v, %v; want %v", got, err, want)
	}
}

// A created-time range that holds no time (its start at or past its
// end) lists nothing without a query.
func testListEmptyRange(t *testing.T, endpoint string, client *dynamodb.Client) {
	s, ct := newCountingStore(t, endpoint, client)
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := s.Create(ctx, monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending,
		CreatedTime: t0, LastUpdatedTime: t0}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
	}{
		{"same bounds", t0, t0},
		{"reversed", t0.Add(time.Second), t0},
	} {
		ct.take()
		page, err := s.List(ctx, monitor.ListQuery{CreatedFrom: tc.from, CreatedTo: tc.to})
		if err != nil || len(page.Records) != 0 || page.ContinuationToken != "" {
			t.Errorf("%s: List = %v, token %q, %v; want no records", tc.name, ids(page.Records), page.ContinuationToken, err)
		}
		if ops := ct.take(); len(ops) != 0 {
			t.Errorf("%s: List sent %v, want no request", tc.name, ops)
		}
	}
}

// scannedTransport adds up the ScannedCount of the Query answers sent
// through it.
type scannedTransport struct {
	base    http.RoundTripper
	scanned atomic.Int64
}

func (c *scannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	query := strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".Query")
	resp, err := c.base.RoundTrip(r)
	if err != nil || !query {
		return resp, err
	}
	body, err := answerBody(resp)
	if err != nil {
		return nil, err
	}
	var out struct{ ScannedCount int64 }
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	c.scanned.Add(out.ScannedCount)
	return resp, nil
}

// A status-filtered List call evaluates at most its read budget of index
// items (ScannedCount, matching or not), but for one more where a query's
// least Limit, two items, goes past it; paging still returns every match.
func testListReadsWithinBudget(t *testing.T, endpoint string, client *dynamodb.Client) {
	cfg := motoConfig(endpoint)
	st := &scannedTransport{base: cfg.HTTPClient.(*http.Client).Transport}
	cfg.HTTPClient = &http.Client{Transport: st}
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client))
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	want := seedFinished(t, s, t0, 200, 3, 150)
	const budget = 16
	dynamostore.SetListReadBudget(s, budget)
	q := monitor.ListQuery{RuntimeStatus: []monitor.RuntimeStatus{monitor.RuntimeFailed}, Top: 1}
	var got []string
	for calls := 1; ; calls++ {
		if calls > 200 {
			t.Fatalf("more than 200 List calls; got %v so far", got)
		}
		st.scanned.Store(0)
		page, err := s.List(t.Context(), q)
		if err != nil {
			t.Fatalf("List call %d: %v", calls, err)
		}
		if n := st.scanned.Load(); n > budget+1 {
			t.Fatalf("List call %d evaluated %d index items, over its budget of %d", calls, n, budget)
		}
		got = append(got, ids(page.Records)...)
		if page.ContinuationToken == "" {
			break
		}
		q.ContinuationToken = page.ContinuationToken
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids = %v, want %v", got, want)
	}
}

// A List without a status filter reads about a page: when the records
// all lie in one shard, so that its first query runs out, the next one
// asks for a page, not for what is left of the read budget.
func testListReadsAboutAPage(t *testing.T, endpoint string, client *dynamodb.Client) {
	cfg := motoConfig(endpoint)
	st := &scannedTransport{base: cfg.HTTPClient.(*http.Client).Transport}
	cfg.HTTPClient = &http.Client{Transport: st}
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), newTable(t, client))
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var want []string
	for i, id := range idsInShard(t, "m", 3, 20) {
		created := t0.Add(time.Duration(i) * time.Minute)
		rec := monitor.Record{InstanceID: id, Name: "JobMonitor", RuntimeStatus: monitor.RuntimePending, CreatedTime: created, LastUpdatedTime: created}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatalf("Create %s: %v", id, err)
		}
		want = append([]string{id}, want...)
	}
	const top = 5
	st.scanned.Store(0)
	page, err := s.List(ctx, monitor.ListQuery{Top: top})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got := ids(page.Records); !slices.Equal(got, want[:top]) || page.ContinuationToken == "" {
		t.Errorf("List = %v, token %q; want %v and a token", got, page.ContinuationToken, want[:top])
	}
	if n := st.scanned.Load(); n > 2*(top+1) {
		t.Errorf("List of a page of %d evaluated %d index items, want at most %d", top, n, 2*(top+1))
	}
}
