package dynamostore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stepmon/stepmon/internal/monitor"
)

// listReadBudget is how many index items one List call reads at most
// (DynamoDB's ScannedCount, the items evaluated before the filter). A
// filter that few records match would otherwise read every shard to its
// end for one page: with 100,000 finished records,
// ?runtimeStatus=Failed&top=1 read them all two at a time, in tens of
// thousands of queries, past the status function's 15 s. At the budget
// List stops and returns the records it is sure of, possibly fewer than
// the page size or none, with a continuation token at the position it
// reached. 4,000 items are a few MB of index reads, in 8 parallel queries
// and a few more. A list without a status filter filters out only the
// expired records that the table's TTL has not deleted yet, and reads in
// pages of about its own size; the budget bounds it too, should many
// expired records wait for the TTL.
const listReadBudget = 4000

// List implements monitor.Store. It queries the list index: one query
// per shard, newest first, with the created-time range as the key
// condition and the status filter and the records' expiry (see expired)
// as a filter expression, and merges the shards' results. Records come newest first, ties by instance id
// descending; listed records carry no events.
//
// The continuation token is an index sort key (base64 JSON): the position
// of the merged stream, from which each shard's query resumes. A shard's
// own LastEvaluatedKey would not do, since the shards are read to
// different depths. After a full page it is the key of the last record
// returned. When a status-filtered list stops at listReadBudget, it is
// the highest key down to which every shard has been read: every record
// above it has been returned, and the next page reads below it. A list
// without a status filter stops there too when expired records take up
// the budget.
func (s *Store) List(ctx context.Context, q monitor.ListQuery) (monitor.ListPage, error) {
	const op = "dynamostore: list"
	top := q.PageSize()
	// Bounds on the index sort key: lo inclusive, hi exclusive.
	var lo, hi string
	if !q.CreatedFrom.IsZero() {
		lo = fmtTime(q.CreatedFrom)
	}
	if !q.CreatedTo.IsZero() {
		hi = fmtTime(q.CreatedTo)
	}
	if q.ContinuationToken != "" {
		after, err := decodeToken(q.ContinuationToken)
		if err != nil {
			return monitor.ListPage{}, monitor.WrapError(monitor.KindInvalid, op, err, "continuation token is not valid")
		}
		if hi == "" || after < hi {
			hi = after
		}
	}
	if lo != "" && hi != "" && lo >= hi {
		return monitor.ListPage{}, nil
	}
	m := &merger{s: s, lo: lo, hi: hi, statuses: q.RuntimeStatus, top: top, budget: listReadBudget}
	if s.listBudget > 0 {
		m.budget = s.listBudget
	}
	m.shards = make([]shard, listShards)
	var wg sync.WaitGroup
	for i := range m.shards {
		m.shards[i].n = i
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh := &m.shards[i]
			sh.err = m.fetch(ctx, sh, m.firstLimit())
		}()
	}
	wg.Wait()
	for i := range m.shards {
		m.read += m.shards[i].read
	}
	var page monitor.ListPage
	for {
		sh, err := m.next(ctx)
		if err != nil {
			return monitor.ListPage{}, wrap(op, "", err)
		}
		if sh == nil {
			if m.floor != "" {
				page.ContinuationToken = encodeToken(m.floor)
			}
			break
		}
		if len(page.Records) == top {
			page.ContinuationToken = encodeToken(gsiSK(page.Records[top-1].CreatedTime, page.Records[top-1].InstanceID))
			break
		}
		rec, err := itemRecord(sh.items[0], false)
		if err != nil {
			return monitor.ListPage{}, monitor.WrapError(monitor.KindInternal, op, err, "stored record is malformed")
		}
		sh.items = sh.items[1:]
		page.Records = append(page.Records, rec)
	}
	return page, nil
}

// merger merges the shards' queries, newest first.
type merger struct {
	s        *Store
	lo, hi   string
	statuses []monitor.RuntimeStatus
	top      int
	shards   []shard
	// budget is how many items the queries may evaluate in all, read
	// how many they have.
	budget, read int
	// floor is set when the budget ran out: the highest sort key down
	// to which every unfinished shard has been read. Only items at or
	// above it are merged; the next page starts below it.
	floor string
}

// shard is one shard's query: the items read and not yet merged, and
// where its next page starts.
type shard struct {
	n     int
	items []map[string]types.AttributeValue
	start map[string]types.AttributeValue
	done  bool
	read  int // items its latest query evaluated
	err   error
}

// minLimit is the least a query asks for. The key condition of a list
// with both range bounds is inclusive of the upper one, which may be the
// item a continuation token names; asking for two items always gets one
// below it, so that every query makes progress.
const minLimit = 2

// firstLimit is the Limit of each shard's first query. Without a status
// filter a shard holds about top/listShards of a page: ask for a little
// more, and for whole pages when one runs out. With one, each shard may
// read its share of half the budget, leaving the rest to the shards whose
// matches lie deeper.
func (m *merger) firstLimit() int {
	if len(m.statuses) > 0 {
		return max(minLimit, m.budget/(2*listShards))
	}
	return min(m.top+1, 2*((m.top+1+listShards-1)/listShards)+2)
}

// nextLimit is the Limit of a shard's later queries: with a status filter,
// an even share of what is left of the budget for each shard that has to
// be read again; without one, a page, within what is left.
func (m *merger) nextLimit(waiting int) int {
	share := max(minLimit, (m.budget-m.read)/max(waiting, 1))
	if len(m.statuses) > 0 {
		return share
	}
	return min(m.top+1, share)
}

// next returns the shard whose head item comes next, reading more where a
// shard's buffer ran out; nil when every shard is exhausted, or when the
// budget ran out and no buffered item lies at or above the floor.
//
// Shards whose buffers ran out are read shallowest first: a page ends at
// the shallowest unfinished shard when the budget runs out, so what one
// shard read far below the others would be read again on the next page.
func (m *merger) next(ctx context.Context) (*shard, error) {
	for m.floor == "" {
		var sh *shard
		waiting := 0
		for i := range m.shards {
			c := &m.shards[i]
			if c.err != nil {
				return nil, c.err
			}
			if len(c.items) > 0 || c.done {
				continue
			}
			waiting++
			if sh == nil || getS(c.start, attrGSISK) > getS(sh.start, attrGSISK) {
				sh = c
			}
		}
		if sh == nil {
			break
		}
		if m.read >= m.budget {
			m.stop()
			break
		}
		if err := m.fetch(ctx, sh, m.nextLimit(waiting)); err != nil {
			return nil, err
		}
		m.read += sh.read
	}
	var best *shard
	var bestKey string
	for i := range m.shards {
		sh := &m.shards[i]
		if len(sh.items) == 0 {
			continue
		}
		k := getS(sh.items[0], attrGSISK)
		if k < m.floor {
			continue
		}
		if best == nil || k > bestKey {
			best, bestKey = sh, k
		}
	}
	return best, nil
}

// stop sets the floor: the highest of the unfinished shards' last
// evaluated keys. Every shard has evaluated all its items at or above it.
func (m *merger) stop() {
	for i := range m.shards {
		sh := &m.shards[i]
		if sh.done {
			continue
		}
		if k := getS(sh.start, attrGSISK); k > m.floor {
			m.floor = k
		}
	}
}

// fetch reads the shard's next page of up to limit evaluated items and
// records in sh.read how many it evaluated.
func (m *merger) fetch(ctx context.Context, sh *shard, limit int) error {
	v := map[string]types.AttributeValue{":p": str(gsiPK(sh.n))}
	cond := "#gsi1pk = :p"
	switch {
	case m.lo != "" && m.hi != "":
		// BETWEEN is inclusive: the item equal to hi, if any, is dropped
		// below.
		cond += " AND #gsi1sk BETWEEN :lo AND :hi"
		v[":lo"], v[":hi"] = str(m.lo), str(m.hi)
	case m.lo != "":
		cond += " AND #gsi1sk >= :lo"
		v[":lo"] = str(m.lo)
	case m.hi != "":
		cond += " AND #gsi1sk < :hi"
		v[":hi"] = str(m.hi)
	}
	in := &dynamodb.QueryInput{
		TableName:                 &m.s.table,
		IndexName:                 &m.s.index,
		KeyConditionExpression:    &cond,
		ScanIndexForward:          ptr(false),
		Limit:                     ptr(int32(limit)),
		ExclusiveStartKey:         sh.start,
		ExpressionAttributeValues: v,
	}
	filter := condKept
	m.s.keptValues(v)
	if len(m.statuses) > 0 {
		ph := make([]string, len(m.statuses))
		for i, st := range m.statuses {
			ph[i] = ":s" + strconv.Itoa(i)
			v[ph[i]] = str(string(st))
		}
		filter = "#st IN (" + strings.Join(ph, ", ") + ") AND " + condKept
	}
	in.FilterExpression = &filter
	in.ExpressionAttributeNames = names(cond, filter)
	out, err := m.s.client.Query(ctx, in)
	if err != nil {
		return err
	}
	for _, item := range out.Items {
		if m.hi != "" && getS(item, attrGSISK) >= m.hi {
			continue
		}
		sh.items = append(sh.items, item)
	}
	sh.read = max(int(out.ScannedCount), len(out.Items))
	sh.start = out.LastEvaluatedKey
	sh.done = len(out.LastEvaluatedKey) == 0
	return nil
}

// token is a continuation token's content: the index sort key of the
// last record returned.
type token struct {
	V int    `json:"v"`
	K string `json:"k"`
}

func encodeToken(sk string) string { return monitor.EncodeToken(token{V: 1, K: sk}) }

func decodeToken(tok string) (string, error) {
	var t token
	if err := monitor.DecodeToken(tok, &t); err != nil {
		return "", err
	}
	// Only what encodeToken produced, naming a created time and an id.
	ts, id, ok := strings.Cut(t.K, "#")
	if t.V != 1 || !ok || id == "" {
		return "", errors.New("malformed token")
	}
	if _, err := parseTime(ts); err != nil {
		return "", err
	}
	return t.K, nil
}
