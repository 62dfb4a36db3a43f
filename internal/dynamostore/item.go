package dynamostore

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stepmon/stepmon/internal/monitor"
)

// The item layout. One item per monitor holds the whole status record,
// its alert state and its events (a list attribute), so that every change
// is one conditional write on one item, the table's TTL removes all of a
// monitor at once, and Get is one consistent GetItem.
const (
	attrPK     = "pk"     // "MON#" + instance id
	attrSK     = "sk"     // "STATUS"
	attrGSIPK  = "gsi1pk" // "LIST#" + shard
	attrGSISK  = "gsi1sk" // created time (timeLayout) + "#" + instance id
	attrTTL    = "ttl"    // purge time, epoch seconds; set by Create (ExpiresAt + retention) and Finish (PurgeAt)
	attrID     = "id"
	attrName   = "nm"
	attrStatus = "st"
	attrInput  = "inp" // JSON monitor.Spec
	attrCustom = "cs"  // JSON monitor.CustomStatus
	attrCount  = "cc"  // custom status's check count, for the monotonic condition
	attrOutput = "out" // JSON monitor.Output
	attrCreate = "ct"
	attrUpdate = "lut"
	attrArn    = "arn"
	attrExpire = "exp"
	attrPurge  = "pa"  // purge time at full precision (ttl has seconds)
	attrEvents = "ev"  // list of maps: n name, d data (JSON), t raised at, c consumed by, k the token of the AddEvent call
	attrEvVers = "evv" // ConsumeEvents writes so far: only they change or drop listed events
	attrEvKeys = "evk" // string set: the tokens (k) of the listed events that have one (see AddEvent)
	attrPend   = "pe"  // pending events: AddEvent adds one, ConsumeEvents sets what it leaves
	attrAlertS = "als"
	attrAlertC = "alc"
	attrAlertN = "aln" // attempts
	attrAlertT = "alt" // claimed at
	attrAlertD = "ald" // sent at
	attrAlertM = "alm" // message id
	attrAlertE = "ale" // last error
	attrAlertK = "alk" // the token of the ClaimAlert call that made the claim (see ClaimAlert)
	attrAlertR = "alr" // when a failed alert is sent again (ScheduleAlert); not in ListAttributes

	statusSK = "STATUS"
	pkPrefix = "MON#"

	// IndexName is the GSI that List queries. It projects ListAttributes
	// only; the index of earlier versions, byCreated, projected every
	// attribute, and DynamoDB cannot change a projection in place.
	IndexName = "byCreatedV2"
)

// ListAttributes are the non-key attributes that the list index projects
// (projection INCLUDE): exactly those that List decodes (itemRecord
// without events), but the alert's retry time (alr), which a listed record
// does not show and which came after the index. The events (ev, evv), the
// check count (cc) and ttl stay out of it, so that raising and consuming
// events writes only the count of pending ones (pe) to the index, and an
// index item stays a fraction of a record with up to 100 events. The CDK
// app (infra/stack.go, ListIndexAttributes) projects the same list; a test
// compares the two.
var ListAttributes = []string{
	attrID, attrName, attrStatus, attrInput, attrCustom, attrOutput, attrCreate, attrUpdate, attrArn, attrExpire,
	attrPurge, attrAlertS, attrAlertC, attrAlertN, attrAlertT, attrAlertD, attrAlertM, attrAlertE, attrPend,
}

// listShards is the number of GSI partitions that records are spread over
// by a hash of their instance id. Every update of a status item is also a
// write to the index (events only through their pending count), so one
// partition key for all
// monitors would cap the whole service at one partition's write rate;
// eight shards give eight times that, and List merges eight queries. The
// shard is written at Create: changing this number needs a migration.
const listShards = 8

// timeLayout formats times so that they sort as strings: fixed width, UTC.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func pkOf(id string) string { return pkPrefix + id }

func shardOf(id string) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % listShards)
}

func gsiPK(shard int) string { return "LIST#" + strconv.Itoa(shard) }

func gsiSK(created time.Time, id string) string { return fmtTime(created) + "#" + id }

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(pkOf(id)), attrSK: str(statusSK)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func tm(t time.Time) types.AttributeValue { return str(fmtTime(t)) }

// ttlOf is the TTL attribute's value for a purge at t: epoch seconds.
func ttlOf(t time.Time) types.AttributeValue { return num(t.Unix()) }

// newToken returns a token that names one call's write, for the call to
// tell its own write from another's when the SDK sends it again (see
// ClaimAlert and AddEvent): 128 random bits, so that no two calls draw
// the same.
func newToken() string { return rand.Text() }

func jsonAttr(v any) (types.AttributeValue, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return str(string(b)), nil
}

// recordItem encodes a new record as an item.
func recordItem(rec monitor.Record) (map[string]types.AttributeValue, error) {
	id := rec.InstanceID
	item := key(id)
	item[attrGSIPK] = str(gsiPK(shardOf(id)))
	item[attrGSISK] = str(gsiSK(rec.CreatedTime, id))
	item[attrID] = str(id)
	item[attrName] = str(rec.Name)
	item[attrStatus] = str(string(rec.RuntimeStatus))
	input, err := jsonAttr(rec.Input)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	item[attrInput] = input
	count := 0
	if rec.CustomStatus != nil {
		cs, err := customAttr(*rec.CustomStatus)
		if err != nil {
			return nil, err
		}
		item[attrCustom] = cs
		count = rec.CustomStatus.CheckCount
	}
	item[attrCount] = num(int64(count))
	if rec.Output != nil {
		out, err := jsonAttr(rec.Output)
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		item[attrOutput] = out
	}
	setTime(item, attrCreate, rec.CreatedTime)
	setTime(item, attrUpdate, rec.LastUpdatedTime)
	setTime(item, attrExpire, rec.ExpiresAt)
	if rec.ExecutionArn != "" {
		item[attrArn] = str(rec.ExecutionArn)
	}
	if !rec.PurgeAt.IsZero() {
		item[attrPurge] = tm(rec.PurgeAt)
		item[attrTTL] = ttlOf(rec.PurgeAt)
	}
	a := rec.Alert
	setString(item, attrAlertS, string(a.Status))
	setString(item, attrAlertC, a.Channel)
	if a.Attempts != 0 {
		item[attrAlertN] = num(int64(a.Attempts))
	}
	setTime(item, attrAlertT, a.ClaimedAt)
	setTime(item, attrAlertD, a.SentAt)
	setString(item, attrAlertM, a.MessageID)
	setString(item, attrAlertE, a.LastError)
	setTime(item, attrAlertR, a.RetryAt)
	evs := make([]types.AttributeValue, len(rec.Events))
	for i, ev := range rec.Events {
		evs[i] = eventAttr(ev, "")
	}
	item[attrEvents] = &types.AttributeValueMemberL{Value: evs}
	item[attrPend] = num(int64(rec.Pending())) // what a listed record reports
	return item, nil
}

func customAttr(cs monitor.CustomStatus) (types.AttributeValue, error) {
	cs.LastCheckTime, cs.NextCheckTime = cs.LastCheckTime.UTC(), cs.NextCheckTime.UTC()
	v, err := jsonAttr(cs)
	if err != nil {
		return nil, fmt.Errorf("custom status: %w", err)
	}
	return v, nil
}

// eventAttr encodes an event as an element of the event list, with the
// token of the AddEvent call that appended it ("" for none).
func eventAttr(ev monitor.Event, token string) types.AttributeValue {
	m := map[string]types.AttributeValue{"n": str(ev.Name), "c": num(int64(ev.ConsumedBy))}
	if len(ev.Data) > 0 {
		m["d"] = str(string(ev.Data))
	}
	if !ev.RaisedAt.IsZero() {
		m["t"] = tm(ev.RaisedAt)
	}
	if token != "" {
		m["k"] = str(token)
	}
	return &types.AttributeValueMemberM{Value: m}
}

// itemEventTokens returns the token of each listed event of item, in the
// order of itemEvents ("" for an event appended by an earlier version).
func itemEventTokens(item map[string]types.AttributeValue) []string {
	l, _ := item[attrEvents].(*types.AttributeValueMemberL)
	if l == nil {
		return nil
	}
	out := make([]string, len(l.Value))
	for i, v := range l.Value {
		if m, ok := v.(*types.AttributeValueMemberM); ok {
			out[i] = getS(m.Value, "k")
		}
	}
	return out
}

// hasEventToken reports whether item's event tokens (evk) hold token.
func hasEventToken(item map[string]types.AttributeValue, token string) bool {
	ss, _ := item[attrEvKeys].(*types.AttributeValueMemberSS)
	return ss != nil && slices.Contains(ss.Value, token)
}

func setTime(item map[string]types.AttributeValue, name string, t time.Time) {
	if !t.IsZero() {
		item[name] = tm(t)
	}
}

func setString(item map[string]types.AttributeValue, name, s string) {
	if s != "" {
		item[name] = str(s)
	}
}

// itemRecord decodes an item. Events are decoded when withEvents is set.
func itemRecord(item map[string]types.AttributeValue, withEvents bool) (monitor.Record, error) {
	var r monitor.Record
	var err error
	get := func(name string) string { return getS(item, name) }
	getTime := func(name string) time.Time {
		s := get(name)
		if s == "" || err != nil {
			return time.Time{}
		}
		var t time.Time
		if t, err = parseTime(s); err != nil {
			err = fmt.Errorf("attribute %s: %w", name, err)
		}
		return t
	}
	r.InstanceID = get(attrID)
	r.Name = get(attrName)
	r.RuntimeStatus = monitor.RuntimeStatus(get(attrStatus))
	if err := json.Unmarshal([]byte(get(attrInput)), &r.Input); err != nil {
		return r, fmt.Errorf("attribute %s: %w", attrInput, err)
	}
	if s := get(attrCustom); s != "" {
		r.CustomStatus = new(monitor.CustomStatus)
		if err := json.Unmarshal([]byte(s), r.CustomStatus); err != nil {
			return r, fmt.Errorf("attribute %s: %w", attrCustom, err)
		}
		r.CustomStatus.LastCheckTime = r.CustomStatus.LastCheckTime.UTC()
		r.CustomStatus.NextCheckTime = r.CustomStatus.NextCheckTime.UTC()
	}
	if s := get(attrOutput); s != "" {
		r.Output = new(monitor.Output)
		if err := json.Unmarshal([]byte(s), r.Output); err != nil {
			return r, fmt.Errorf("attribute %s: %w", attrOutput, err)
		}
	}
	r.CreatedTime = getTime(attrCreate)
	r.LastUpdatedTime = getTime(attrUpdate)
	r.ExpiresAt = getTime(attrExpire)
	r.PurgeAt = getTime(attrPurge)
	r.ExecutionArn = get(attrArn)
	r.Alert = alertState(item)
	r.Alert.ClaimedAt, r.Alert.SentAt = getTime(attrAlertT), getTime(attrAlertD)
	r.PendingEvents = int(getN(item, attrPend))
	if err != nil {
		return r, err
	}
	if withEvents {
		if r.Events, err = itemEvents(item); err != nil {
			return r, err
		}
	}
	return r, nil
}

func alertState(item map[string]types.AttributeValue) monitor.AlertState {
	a := monitor.AlertState{
		Status:    monitor.AlertStatus(getS(item, attrAlertS)),
		Channel:   getS(item, attrAlertC),
		Attempts:  int(getN(item, attrAlertN)),
		MessageID: getS(item, attrAlertM),
		LastError: getS(item, attrAlertE),
	}
	if t, err := parseTime(getS(item, attrAlertT)); err == nil {
		a.ClaimedAt = t
	}
	if t, err := parseTime(getS(item, attrAlertD)); err == nil {
		a.SentAt = t
	}
	if t, err := parseTime(getS(item, attrAlertR)); err == nil {
		a.RetryAt = t
	}
	return a
}

func itemEvents(item map[string]types.AttributeValue) ([]monitor.Event, error) {
	l, _ := item[attrEvents].(*types.AttributeValueMemberL)
	if l == nil || len(l.Value) == 0 {
		return nil, nil
	}
	out := make([]monitor.Event, len(l.Value))
	for i, v := range l.Value {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			return nil, fmt.Errorf("event %d is a %T, not a map", i, v)
		}
		ev := monitor.Event{Name: getS(m.Value, "n"), ConsumedBy: int(getN(m.Value, "c"))}
		if d := getS(m.Value, "d"); d != "" {
			ev.Data = json.RawMessage(d)
		}
		if s := getS(m.Value, "t"); s != "" {
			t, err := parseTime(s)
			if err != nil {
				return nil, fmt.Errorf("event %d: %w", i, err)
			}
			ev.RaisedAt = t
		}
		out[i] = ev
	}
	return out, nil
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

var nameRe = regexp.MustCompile(`#[A-Za-z0-9_]+`)

// names returns the ExpressionAttributeNames for expressions written with
// "#attr" placeholders that stand for the attribute of the same name.
func names(exprs ...string) map[string]string {
	m := map[string]string{}
	for _, e := range exprs {
		for _, n := range nameRe.FindAllString(e, -1) {
			m[n] = strings.TrimPrefix(n, "#")
		}
	}
	return m
}
