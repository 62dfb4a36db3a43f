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

// List implements monitor.Store. It queries the byCreated index: one query
// per shard, newest first, with the created-time range as the key
// condition and the status filter as a filter expression, and merges the
// shards' results. Records come newest first, ties by instance id
// descending; listed records carry no events.
//
// The continuation token is the index sort key of the last record
// returned (base64 JSON): the position of the merged stream, from which
// each shard's query resumes. A shard's own LastEvaluatedKey would not do,
// since the shards are read to different depths.
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
	m := &merger{s: s, lo: lo, hi: hi, statuses: q.RuntimeStatus}
	// A shard holds about top/listShards of a page; ask for a little more
	// at first and for whole pages when one runs out.
	first := min(top+1, 2*((top+1+listShards-1)/listShards)+2)
	m.shards = make([]shard, listShards)
	var wg sync.WaitGroup
	for i := range m.shards {
		m.shards[i].n = i
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.shards[i].err = m.fetch(ctx, &m.shards[i], first)
		}()
	}
	wg.Wait()
	var page monitor.ListPage
	for {
		sh, err := m.next(ctx, top+1)
		if err != nil {
			return monitor.ListPage{}, wrap(op, "", err)
		}
		if sh == nil {
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
	shards   []shard
}

// shard is one shard's query: the items read and not yet merged, and
// where its next page starts.
type shard struct {
	n     int
	items []map[string]types.AttributeValue
	start map[string]types.AttributeValue
	done  bool
	err   error
}

// next returns the shard whose head item comes next, reading more where a
// shard's buffer ran out; nil when every shard is exhausted.
func (m *merger) next(ctx context.Context, limit int) (*shard, error) {
	var best *shard
	var bestKey string
	for i := range m.shards {
		sh := &m.shards[i]
		if sh.err != nil {
			return nil, sh.err
		}
		for len(sh.items) == 0 && !sh.done {
			if err := m.fetch(ctx, sh, limit); err != nil {
				return nil, err
			}
		}
		if len(sh.items) == 0 {
			continue
		}
		if k := getS(sh.items[0], attrGSISK); best == nil || k > bestKey {
			best, bestKey = sh, k
		}
	}
	return best, nil
}

// fetch reads the shard's next page of up to limit evaluated items.
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
		IndexName:                 ptr(IndexName),
		KeyConditionExpression:    &cond,
		ScanIndexForward:          ptr(false),
		Limit:                     ptr(int32(limit)),
		ExclusiveStartKey:         sh.start,
		ExpressionAttributeValues: v,
	}
	if len(m.statuses) > 0 {
		ph := make([]string, len(m.statuses))
		for i, st := range m.statuses {
			ph[i] = ":s" + strconv.Itoa(i)
			v[ph[i]] = str(string(st))
		}
		in.FilterExpression = ptr("#st IN (" + strings.Join(ph, ", ") + ")")
		in.ExpressionAttributeNames = names(cond, *in.FilterExpression)
	} else {
		in.ExpressionAttributeNames = names(cond)
	}
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
