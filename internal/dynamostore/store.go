package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/syserr"
)

// Store is a monitor.Store on one DynamoDB table (see CreateTable for its
// schema). It is safe for concurrent use by many goroutines and processes:
// every change is a single conditional write.
type Store struct {
	client *dynamodb.Client
	table  string
	index  string // the GSI that List queries
	// retention is how long past ExpiresAt Create's ttl lies.
	retention time.Duration
	// listBudget replaces listReadBudget when positive (tests).
	listBudget int
	// now is the clock that tells expired records (see expired).
	now func() time.Time
}

var _ monitor.Store = (*Store)(nil)

// New returns a Store on the table named table.
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{client: client, table: table, index: IndexName, retention: monitor.DefaultRetention, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Option configures a Store.
type Option func(*Store)

// WithRetention sets how long past its ExpiresAt a record that never
// finishes is kept (see Create): the retention the monitor API gives
// finished records. 0 or less keeps monitor.DefaultRetention.
func WithRetention(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.retention = d
		}
	}
}

// WithClock sets the clock that tells whether a record's purge time has
// passed (see Get); nil keeps the system clock.
func WithClock(c monitor.Clock) Option {
	return func(s *Store) {
		if c != nil {
			s.now = c.Now
		}
	}
}

// A record whose purge time has passed is gone, as DynamoDB's TTL makes it
// some time later (within days, AWS says, with no guarantee): Get and
// DeleteFinished find no record, and List leaves it out. The purge time is
// PurgeAt for a finished record and, for a live one, its ExpiresAt plus the
// store's retention, where Create set its TTL; a finished record without a
// PurgeAt is kept for ever.
func (s *Store) expired(rec monitor.Record) bool {
	now := s.now()
	switch {
	case !rec.PurgeAt.IsZero():
		return !rec.PurgeAt.After(now)
	case !rec.RuntimeStatus.Final() && !rec.ExpiresAt.IsZero():
		return !rec.ExpiresAt.Add(s.retention).After(now)
	}
	return false
}

// condKept is the condition that an item has not expired, on attributes
// the list index projects (times are stored in one fixed form that sorts
// as strings); its values are keptValues'.
const condKept = "(attribute_not_exists(#pa) OR #pa > :now) AND " +
	"(attribute_exists(#pa) OR #st IN (:completed, :failed, :terminated) OR attribute_not_exists(#exp) OR #exp > :livenow)"

// keptValues sets the values of condKept in v.
func (s *Store) keptValues(v map[string]types.AttributeValue) {
	now := s.now()
	v[":now"], v[":livenow"] = tm(now), tm(now.Add(-s.retention))
	v[":completed"], v[":failed"] = str(string(monitor.RuntimeCompleted)), str(string(monitor.RuntimeFailed))
	v[":terminated"] = str(string(monitor.RuntimeTerminated))
}

// WithListIndex makes List query the GSI named name instead of
// IndexName. The GSI must have IndexName's keys and project at least
// ListAttributes, as byCreated of earlier versions does (it projects
// every attribute): a stack being upgraded lists through it until the
// new index is built (docs/deploy.md). Among them are the purge time and
// expiry that condKept filters on: through an index without them, records
// past their purge time would be listed. "" keeps IndexName.
func WithListIndex(name string) Option {
	return func(s *Store) {
		if name != "" {
			s.index = name
		}
	}
}

// Conditions shared by the writes.
const (
	condExists = "attribute_exists(#pk)"
	condLive   = "attribute_exists(#pk) AND #st IN (:pending, :running)"
)

// createdIs returns the condition of a task's write that names the
// record's created time (see monitor.Store), " AND #ct = :ct" with :ct set
// in v, or "" when created is zero (any record of the id). Times are
// stored in one fixed form, so equal times compare equal as strings.
func createdIs(created time.Time, v map[string]types.AttributeValue) string {
	if created.IsZero() {
		return ""
	}
	v[":ct"] = tm(created)
	return " AND #ct = :ct"
}

// notMine is monitor.NotTheMonitor when a task's write names created (not
// zero) and item, as a failed condition returned it, was created at
// another time; else nil.
func notMine(op, id string, created time.Time, item map[string]types.AttributeValue) error {
	if created.IsZero() || item == nil || getS(item, attrCreate) == fmtTime(created) {
		return nil
	}
	return monitor.NotTheMonitor(op, id, created)
}

func liveValues() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":pending": str(string(monitor.RuntimePending)),
		":running": str(string(monitor.RuntimeRunning)),
	}
}

// Create implements monitor.Store: a PutItem on condition that no item
// has the key, or that the item there is past its purge time (see
// expired), which Get no longer finds and the PutItem replaces.
//
// A record without a purge time gets the table's TTL attribute all the
// same, at its ExpiresAt plus the store's retention (WithRetention), but
// not the purge time (PurgeAt stays zero for a live record): a record
// that never finishes, a claim whose start died or a running monitor whose
// end was never recorded, leaves the table no later than a monitor that
// finished at its expiry would. Finish replaces the TTL.
func (s *Store) Create(ctx context.Context, rec monitor.Record) error {
	const op = "dynamostore: create"
	if rec.InstanceID == "" {
		return monitor.Errorf(monitor.KindInvalid, op, "instance id is empty")
	}
	item, err := recordItem(rec)
	if err != nil {
		return monitor.WrapError(monitor.KindInvalid, op, err, "cannot encode the record")
	}
	if _, ok := item[attrTTL]; !ok && !rec.ExpiresAt.IsZero() {
		item[attrTTL] = ttlOf(rec.ExpiresAt.Add(s.retention))
	}
	cond := "attribute_not_exists(#pk) OR NOT (" + condKept + ")"
	values := map[string]types.AttributeValue{}
	s.keptValues(values)
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      item,
		ConditionExpression:       &cond,
		ExpressionAttributeNames:  names(cond),
		ExpressionAttributeValues: values,
	})
	if _, ok := conditionFailed(err); ok {
		return monitor.Errorf(monitor.KindConflict, op, "monitor %s already exists", rec.InstanceID)
	}
	return wrap(op, rec.InstanceID, err)
}

// Get implements monitor.Store with a consistent read. A record whose
// purge time has passed is KindNotFound (see expired).
func (s *Store) Get(ctx context.Context, id string) (monitor.Record, error) {
	const op = "dynamostore: get"
	item, err := s.get(ctx, op, id)
	if err != nil {
		return monitor.Record{}, err
	}
	rec, err := itemRecord(item, true)
	if err != nil {
		return monitor.Record{}, monitor.WrapError(monitor.KindInternal, op+" "+id, err, "stored record is malformed")
	}
	if s.expired(rec) {
		return monitor.Record{}, monitor.NotFoundError(op, id)
	}
	return rec, nil
}

func (s *Store) get(ctx context.Context, op, id string) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &s.table,
		Key:            key(id),
		ConsistentRead: ptr(true),
	})
	if err != nil {
		return nil, wrap(op, id, err)
	}
	if out.Item == nil {
		return nil, monitor.NotFoundError(op, id)
	}
	return out.Item, nil
}

// update runs a conditional UpdateItem. On a failed condition it returns
// the item as it was (nil when there is none) and failed=true.
func (s *Store) update(ctx context.Context, op, id, update, cond string, values map[string]types.AttributeValue, returnNew bool) (item map[string]types.AttributeValue, failed bool, err error) {
	in := &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 key(id),
		UpdateExpression:                    &update,
		ConditionExpression:                 &cond,
		ExpressionAttributeNames:            names(update, cond),
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if len(values) == 0 {
		in.ExpressionAttributeValues = nil
	}
	if returnNew {
		in.ReturnValues = types.ReturnValueAllNew
	}
	out, err := s.client.UpdateItem(ctx, in)
	if old, ok := conditionFailed(err); ok {
		return old, true, nil
	}
	if err != nil {
		return nil, false, wrap(op, id, err)
	}
	return out.Attributes, false, nil
}

// SetExecution implements monitor.Store. DynamoDB cannot keep the later
// of two times in one update, so the write that also moves the update
// time is conditional on the stored time not being later (times are
// stored in a fixed-width UTC form that sorts as they do); when it is,
// a second write records the ARN alone. Both writes are conditional on
// the record being the one created at created (createdIs). A finished
// record that names no execution takes the ARN in a write of its own
// (setEndedExecution).
func (s *Store) SetExecution(ctx context.Context, id string, created time.Time, executionArn string, at time.Time) error {
	const op = "dynamostore: set execution"
	v := liveValues()
	v[":arn"], v[":at"] = str(executionArn), tm(at)
	mine := createdIs(created, v)
	old, failed, err := s.update(ctx, op, id, "SET #arn = :arn, #lut = :at",
		condLive+" AND (attribute_not_exists(#lut) OR #lut <= :at)"+mine, v, false)
	if err != nil || !failed {
		return err
	}
	if err := notMine(op, id, created, old); err != nil {
		return err
	}
	if old == nil || !isLive(old) {
		return s.setEndedExecution(ctx, op, id, old, v, mine)
	}
	delete(v, ":at")
	old, failed, err = s.update(ctx, op, id, "SET #arn = :arn", condLive+mine, v, false)
	if err != nil || !failed {
		return err
	}
	if err := notMine(op, id, created, old); err != nil {
		return err
	}
	return s.setEndedExecution(ctx, op, id, old, v, mine)
}

// setEndedExecution records v's :arn in old, a record that SetExecution
// found finished (or none), when it names no execution (terminated while
// its start was under way), on condition that it still is that finished
// record, and returns SetExecution's error, KindGone (KindNotFound when
// there was none), whatever the write did: the caller stops the
// execution either way. The write's own failure is not returned: it
// leaves the ARN unrecorded, as it was before, and the finished record
// as it is.
func (s *Store) setEndedExecution(ctx context.Context, op, id string, old, v map[string]types.AttributeValue, mine string) error {
	if old != nil && getS(old, attrArn) == "" {
		delete(v, ":at")
		v[":none"] = str("")
		_, _, _ = s.update(ctx, op, id, "SET #arn = :arn",
			condExists+" AND NOT (#st IN (:pending, :running)) AND (attribute_not_exists(#arn) OR #arn = :none)"+mine, v, false)
	}
	return notLive(op, id, old)
}

// RecordCheck implements monitor.Store: the write's condition is that the
// record is live and its check count is below the update's, or equal to
// it for a re-run of the check by the same execution that started no
// earlier than the stored write (monitor.CheckApplies).
func (s *Store) RecordCheck(ctx context.Context, id string, u monitor.CheckUpdate) (bool, error) {
	const op = "dynamostore: record check"
	cs, err := customAttr(u.CustomStatus)
	if err != nil {
		return false, monitor.WrapError(monitor.KindInvalid, op, err, "cannot encode the custom status")
	}
	v := liveValues()
	v[":cs"], v[":n"], v[":at"] = cs, num(int64(u.CustomStatus.CheckCount)), tm(u.At)
	update := "SET #cs = :cs, #cc = :n, #st = :running, #lut = :at"
	if u.ExecutionArn != "" {
		update += ", #arn = :arn"
		v[":arn"] = str(u.ExecutionArn)
	}
	if !u.ExpiresAt.IsZero() {
		// A record created before Create set a TTL has none: it gets
		// the one Create sets now, and one that has it keeps it.
		update += ", #ttl = if_not_exists(#ttl, :ttl)"
		v[":ttl"] = ttlOf(u.ExpiresAt.Add(s.retention))
	}
	cond := condLive + " AND #cc < :n"
	if u.ExecutionArn != "" && u.CustomStatus.CheckCount > 0 {
		cond = condLive + " AND (#cc < :n OR (#cc = :n AND #arn = :arn AND #lut <= :at))"
	}
	cond += createdIs(u.Created, v)
	old, failed, err := s.update(ctx, op, id, update, cond, v, false)
	if err != nil {
		return false, err
	}
	if failed {
		if old == nil {
			return false, monitor.NotFoundError(op, id)
		}
		if err := notMine(op, id, u.Created, old); err != nil {
			return false, err
		}
		return false, nil // finished, or a later check or attempt is stored
	}
	return true, nil
}

// Finish implements monitor.Store. It sets the table's TTL attribute from
// f.PurgeAt, or removes the one Create set when f.PurgeAt is zero (a
// record kept for ever).
//
// An output whose alert_status is unknown while the stored alert status is
// sent or failed is patched by a second write (see patchOutput), as is a
// stored custom status with a next_check_time when f carries none (see
// dropNextCheck); when such a write fails for good, Finish returns its
// error although the record has finished (a retried Finish then returns
// KindGone).
func (s *Store) Finish(ctx context.Context, id string, f monitor.Finish) error {
	const op = "dynamostore: finish"
	if !f.RuntimeStatus.Final() {
		return monitor.NotFinalError(op, f.RuntimeStatus)
	}
	out, err := jsonAttr(f.Output)
	if err != nil {
		return monitor.WrapError(monitor.KindInvalid, op, err, "cannot encode the output")
	}
	v := liveValues()
	v[":st"], v[":out"], v[":at"] = str(string(f.RuntimeStatus)), out, tm(f.At)
	update := "SET #st = :st, #out = :out, #lut = :at"
	if !f.PurgeAt.IsZero() {
		update += ", #pa = :pa, #ttl = :ttl"
		v[":pa"], v[":ttl"] = tm(f.PurgeAt), ttlOf(f.PurgeAt)
	}
	if f.CustomStatus != nil {
		c := *f.CustomStatus
		c.NextCheckTime = time.Time{} // no check follows
		cs, err := customAttr(c)
		if err != nil {
			return monitor.WrapError(monitor.KindInvalid, op, err, "cannot encode the custom status")
		}
		update += ", #cs = :cs"
		v[":cs"] = cs
	}
	if f.PurgeAt.IsZero() {
		update += " REMOVE #ttl"
	}
	// An output whose alert_status is unknown takes the send's result
	// when that is recorded already (see monitor.Store.Finish), and a
	// stored custom status that f does not replace loses its
	// next_check_time: the update returns the item to tell, and only
	// then, since the item holds the events too.
	unknown := f.Output.AlertStatus == monitor.OutputAlertUnknown
	cond := condLive + createdIs(f.Created, v)
	item, failed, err := s.update(ctx, op, id, update, cond, v, unknown || f.FromRecord || f.CustomStatus == nil)
	if err != nil {
		return err
	}
	if failed {
		if err := notMine(op, id, f.Created, item); err != nil {
			return err
		}
		return notLive(op, id, item)
	}
	if f.CustomStatus == nil {
		if err := s.dropNextCheck(ctx, op, id, item); err != nil {
			return err
		}
	}
	if f.FromRecord {
		return s.outputFromRecord(ctx, op, id, item)
	}
	if !unknown {
		return nil
	}
	switch st := monitor.AlertStatus(getS(item, attrAlertS)); st {
	case monitor.AlertSent, monitor.AlertFailed:
		return s.patchOutput(ctx, op, id, item, string(st))
	}
	return nil
}

// condEventRoom is AddEvent's condition besides condLive: the event list
// is shorter than monitor.MaxEventsPerMonitor (:max).
const condEventRoom = "(attribute_not_exists(#ev) OR size(#ev) < :max)"

// condNewEvent is AddEvent's condition that its token (:tok) is not among
// the listed events' (evk): the event has not been appended yet.
const condNewEvent = "(attribute_not_exists(#evk) OR NOT contains(#evk, :tok))"

// AddEvent implements monitor.Store: it appends to the item's event list
// on condition that the record is live and the list has room, in one
// write, so that concurrent appends never pass the cap.
//
// The event carries a token drawn for this call ("k"), which the same
// write adds to the item's set of event tokens (evk), and the write is
// conditional on the set not holding it. When DynamoDB applies the write
// and its answer is lost, the SDK sends the same request again; that one
// fails its condition, and the token in the item it returns tells the
// event as appended already: the call succeeds without a second copy,
// also when the first filled the record or the monitor has finished
// since (the event was stored while it was live). ConsumeEvents keeps
// the set to the tokens of the events it keeps, so that it stays as
// small as the list; a retry that comes after a check dropped its event,
// a check later at the earliest, is far past the SDK's attempts. When
// those attempts all fail, the call reads the item (readAfterError) and
// finds its token there when the event was appended, so that the
// caller, told of success, does not add it again.
func (s *Store) AddEvent(ctx context.Context, id string, ev monitor.Event) error {
	const op = "dynamostore: add event"
	ev.ConsumedBy = 0
	token := newToken()
	v := liveValues()
	v[":new"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{eventAttr(ev, token)}}
	v[":empty"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{}}
	v[":max"] = num(monitor.MaxEventsPerMonitor)
	v[":one"] = num(1)
	v[":tok"], v[":toks"] = str(token), &types.AttributeValueMemberSS{Value: []string{token}}
	old, failed, err := s.update(ctx, op, id, "SET #ev = list_append(if_not_exists(#ev, :empty), :new) ADD #pe :one, #evk :toks",
		condLive+" AND "+condEventRoom+" AND "+condNewEvent, v, false)
	if err != nil {
		if own := s.readAfterError(ctx, op, id, err); own != nil && hasEventToken(own, token) {
			return nil // this call's event, every answer lost
		}
		return err
	}
	if !failed {
		return nil
	}
	if old != nil && hasEventToken(old, token) {
		return nil // this call's event, its answer lost
	}
	if old != nil && !monitor.RuntimeStatus(getS(old, attrStatus)).Final() {
		return monitor.EventCapError(op, id)
	}
	return notLive(op, id, old)
}

// ConsumeEvents implements monitor.Store. It reads the item and, when
// there is something to change (pending events to mark, or a full list
// holding events consumed by earlier checks), writes the event list back
// in one conditional write: pending events marked as consumed by check,
// events consumed by earlier checks left out. Dropping events shifts the
// positions of those after them, so the write replaces the whole list on
// condition that it is the list that was read: the same size (AddEvent
// only appends) and the same version (#evv, which every ConsumeEvents
// write moves on). When the condition fails the item it returns is the
// one to try again with; appends alone can fail it at most
// MaxEventsPerMonitor times in a row, and a few other consumer writes are
// tolerated before the call gives up with KindUnavailable. Each event is
// marked by exactly one write, so it belongs to exactly one check. A
// check without events costs the read and no write.
func (s *Store) ConsumeEvents(ctx context.Context, id string, created time.Time, check int) ([]monitor.Event, error) {
	const op = "dynamostore: consume events"
	if check < 1 {
		return nil, monitor.Errorf(monitor.KindInvalid, op, "check number %d is not positive", check)
	}
	item, err := s.get(ctx, op, id)
	if err != nil {
		return nil, err
	}
	for conflicts := 0; ; {
		if err := notMine(op, id, created, item); err != nil {
			return nil, err
		}
		evs, err := itemEvents(item)
		if err != nil {
			return nil, monitor.WrapError(monitor.KindInternal, op+" "+id, err, "stored events are malformed")
		}
		next, kept, changed := evs, []int(nil), false
		if isLive(item) {
			next, kept, changed = monitor.ConsumeEventsKept(evs, check)
		}
		if !changed {
			return monitor.ConsumedBy(evs, check), nil
		}
		// The kept events keep their AddEvent tokens, and the set of
		// tokens is theirs (see AddEvent).
		tokens, listed := itemEventTokens(item), []string(nil)
		l := make([]types.AttributeValue, len(next))
		for j, ev := range next {
			l[j] = eventAttr(ev, tokens[kept[j]])
			if tokens[kept[j]] != "" {
				listed = append(listed, tokens[kept[j]])
			}
		}
		slices.Sort(listed)
		listed = slices.Compact(listed)
		ver, versioned := item[attrEvVers]
		v := liveValues()
		v[":evs"] = &types.AttributeValueMemberL{Value: l}
		v[":n"], v[":next"] = num(int64(len(evs))), num(getN(item, attrEvVers)+1)
		v[":pe"] = num(int64(monitor.Record{Events: next}.Pending()))
		update := "SET #ev = :evs, #evv = :next, #pe = :pe, #evk = :toks"
		if len(listed) == 0 {
			update = "SET #ev = :evs, #evv = :next, #pe = :pe REMOVE #evk"
		} else {
			v[":toks"] = &types.AttributeValueMemberSS{Value: listed}
		}
		cond := condLive + " AND size(#ev) = :n AND attribute_not_exists(#evv)"
		if versioned {
			cond = condLive + " AND size(#ev) = :n AND #evv = :ver"
			v[":ver"] = ver
		}
		cond += createdIs(created, v)
		old, failed, err := s.update(ctx, op, id, update, cond, v, false)
		if err != nil {
			return nil, err
		}
		if !failed {
			return monitor.ConsumedBy(next, check), nil
		}
		if old == nil {
			return nil, monitor.NotFoundError(op, id)
		}
		if getN(old, attrEvVers) != getN(item, attrEvVers) {
			if conflicts++; conflicts == 10 {
				return nil, monitor.Errorf(monitor.KindUnavailable, op+" "+id, "events keep changing; try again")
			}
		}
		item = old
	}
}

// ClaimAlert implements monitor.Store: the write's condition is that the
// alert is unclaimed or has failed, in the record created at created.
//
// The write also stores a token drawn for this call (alk). When DynamoDB
// applies the write and its answer is lost (a reset connection, the
// attempt's timeout), the SDK sends the same request again, which fails
// its condition against the claim the first one wrote; the token in the
// item that the failed condition returns tells that claim as this call's
// own, and the call reports it claimed, with the state its write left.
// That holds even when the monitor was terminated between the two: the
// claim was made while it was live, as a terminate during the send finds
// it, and the send's CompleteAlert corrects the output as it does then.
//
// The token is the call's, not its arguments': the alert task may run
// twice at once (Step Functions retries a timed-out attempt that still
// runs), and both calls name the same channel and may read the same
// time; the second one draws another token, meets the first one's claim
// and is refused, so at most one of them sends. A claim made by an
// earlier version has no token and is no call's own: refused, as before.
//
// When the SDK's further attempts fail as well (throttled, reset, or
// none left), the write fails with no answer that tells whether it was
// applied; the call then reads the item (readAfterError), and a claim
// with its token, still sending, is its own all the same. Without that
// the task's retry would meet the claim as another run's that died
// mid-send, and call the alert unknown although nothing was sent.
func (s *Store) ClaimAlert(ctx context.Context, id string, created time.Time, channel string, at time.Time) (monitor.AlertState, bool, error) {
	const op = "dynamostore: claim alert"
	token := newToken()
	v := liveValues()
	v[":sending"], v[":failed"] = str(string(monitor.AlertSending)), str(string(monitor.AlertFailed))
	v[":ch"], v[":at"], v[":one"], v[":tok"] = str(channel), tm(at), num(1), str(token)
	cond := condLive + " AND (attribute_not_exists(#als) OR #als = :failed)" + createdIs(created, v)
	item, failed, err := s.update(ctx, op, id, "SET #als = :sending, #alc = :ch, #alt = :at, #alk = :tok REMOVE #alr ADD #aln :one", cond, v, true)
	if err != nil {
		if own := s.readAfterError(ctx, op, id, err); own != nil && getS(own, attrAlertK) == token &&
			monitor.AlertStatus(getS(own, attrAlertS)) == monitor.AlertSending {
			return alertState(own), true, nil // this call's claim, every answer lost
		}
		return monitor.AlertState{}, false, err
	}
	if failed && item == nil {
		return monitor.AlertState{}, false, monitor.NotFoundError(op, id)
	}
	if failed && getS(item, attrAlertK) == token && monitor.AlertStatus(getS(item, attrAlertS)) == monitor.AlertSending {
		return alertState(item), true, nil // this call's claim, its answer lost
	}
	if err := notMine(op, id, created, item); failed && err != nil {
		return monitor.AlertState{}, false, err
	}
	return alertState(item), !failed, nil
}

// afterErrorRead bounds the read of readAfterError.
const afterErrorRead = 3 * time.Second

// readAfterError returns the item id with a consistent read, after a
// write of op failed with err, when err leaves open whether the write was
// applied (DynamoDB unavailable, a lost connection, no attempts left);
// nil when it does not, or when the read fails too. The read has a
// deadline of its own, afterErrorRead (ctx's when that is sooner), so
// that it adds little to a call that already failed.
func (s *Store) readAfterError(ctx context.Context, op, id string, err error) map[string]types.AttributeValue {
	if !monitor.IsKind(err, monitor.KindUnavailable) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, afterErrorRead)
	defer cancel()
	item, err := s.get(ctx, op, id)
	if err != nil {
		return nil
	}
	return item
}

// ScheduleAlert implements monitor.Store. RetryAt is not projected into
// the list index (IndexName), whose projection DynamoDB cannot change in
// place: a listed record does not carry it, as Get's does.
func (s *Store) ScheduleAlert(ctx context.Context, id string, created, at time.Time) error {
	const op = "dynamostore: schedule alert"
	v := liveValues()
	v[":failed"], v[":at"] = str(string(monitor.AlertFailed)), tm(at)
	item, failed, err := s.update(ctx, op, id, "SET #alr = :at", condLive+" AND #als = :failed"+createdIs(created, v), v, false)
	if err != nil || !failed {
		return err
	}
	if item == nil {
		return monitor.NotFoundError(op, id)
	}
	// Not written: an error only when the record is not the caller's.
	return notMine(op, id, created, item)
}

// CompleteAlert implements monitor.Store.
func (s *Store) CompleteAlert(ctx context.Context, id string, r monitor.AlertResult) error {
	const op = "dynamostore: complete alert"
	v := map[string]types.AttributeValue{":sending": str(string(monitor.AlertSending))}
	var update string
	if r.Sent {
		update = "SET #als = :sent, #ald = :at"
		v[":sent"], v[":at"] = str(string(monitor.AlertSent)), tm(r.At)
		if r.MessageID != "" {
			update += ", #alm = :mid"
			v[":mid"] = str(r.MessageID)
		}
	} else {
		// The attempt's own error, also an empty one: not the last's.
		update = "SET #als = :failed, #ale = :err"
		v[":failed"], v[":err"] = str(string(monitor.AlertFailed)), str(r.Error)
	}
	item, failed, err := s.update(ctx, op, id, update, condExists+" AND #als = :sending"+createdIs(r.Created, v), v, true)
	if err != nil {
		return err
	}
	if failed {
		if item == nil {
			return monitor.NotFoundError(op, id)
		}
		if err := notMine(op, id, r.Created, item); err != nil {
			return err
		}
		return monitor.AlertNotSendingError(op, id, monitor.AlertStatus(getS(item, attrAlertS)))
	}
	// A record that finished during the send takes the result in its
	// output too (patchOutput leaves a live record, without one, alone).
	return s.patchOutput(ctx, op, id, item, monitor.CompletedAlertStatus(r))
}

// Retries of patch's write.
const (
	patchAttempts = 4
	patchBackoff  = 50 * time.Millisecond // doubled after each attempt
)

// patchOutput sets the output alert_status of item (a finished record as
// the caller's write left it) to status, when it reads
// monitor.OutputAlertUnknown. DynamoDB cannot change a field inside the
// output's JSON, so this is a second write, conditional on the output
// being the one read, in the record read (see patch): a record's output
// changes only here once it is set. Nothing retries the write later (the alert status it follows is
// recorded already); patch retries it while DynamoDB is unavailable.
func (s *Store) patchOutput(ctx context.Context, op, id string, item map[string]types.AttributeValue, status string) error {
	old := getS(item, attrOutput)
	if old == "" {
		return nil
	}
	var out monitor.Output
	if err := json.Unmarshal([]byte(old), &out); err != nil {
		return monitor.WrapError(monitor.KindInternal, op, fmt.Errorf("attribute %s: %w", attrOutput, err), "cannot read the output")
	}
	if out.AlertStatus != monitor.OutputAlertUnknown {
		return nil
	}
	out.AlertStatus = status
	patched, err := jsonAttr(out)
	if err != nil {
		return monitor.WrapError(monitor.KindInternal, op, err, "cannot encode the output")
	}
	left := fmt.Sprintf("the output's alert_status was left %q, not set to %q", monitor.OutputAlertUnknown, status)
	return s.patch(ctx, op, id, item, "#out", old, patched, left)
}

// outputFromRecord gives the output of item, a record that Finish has just
// finished with FromRecord, the record's check count and alert status
// (monitor.Output.WithRecord). DynamoDB cannot set fields inside the
// output's JSON from other attributes, so this is a second write,
// conditional on the output and the alert status being those of item in
// the record item is: when an alert task's CompleteAlert changed the
// alert status in between (its own output patch then found no unknown
// alert_status to correct), the output is set again from the item the
// failed condition returns. A finished record's check count does not
// change.
func (s *Store) outputFromRecord(ctx context.Context, op, id string, item map[string]types.AttributeValue) error {
	for range outputFromRecordAttempts {
		old := getS(item, attrOutput)
		if old == "" {
			return nil // purged meanwhile
		}
		rec, err := itemRecord(item, false)
		if err != nil {
			return monitor.WrapError(monitor.KindInternal, op, err, "cannot read the finished record")
		}
		als := getS(item, attrAlertS)
		patched, err := jsonAttr(rec.Output.WithRecord(rec.CustomStatus, rec.Alert.Status))
		if err != nil {
			return monitor.WrapError(monitor.KindInternal, op, err, "cannot encode the output")
		}
		if p, ok := patched.(*types.AttributeValueMemberS); ok && p.Value == old {
			return nil
		}
		cond, v := unchanged(item, "#out", old, patched)
		if als == "" {
			cond += " AND attribute_not_exists(#als)"
		} else {
			cond += " AND #als = :als"
			v[":als"] = str(als)
		}
		now, failed, err := s.updateRetrying(ctx, op, id, "SET #out = :new", cond, v)
		if err != nil {
			return monitor.WrapError(monitor.KindOf(err), op, err, "the output's checks_performed and alert_status were left as read before the finish")
		}
		if !failed {
			return nil
		}
		if getS(now, attrCreate) != getS(item, attrCreate) {
			return nil // purged, and perhaps started again
		}
		item = now
	}
	return monitor.Errorf(monitor.KindUnavailable, op, "the output's alert_status changed %d times while it was set", outputFromRecordAttempts)
}

// updateRetrying is update for a conditional second write that nothing
// retries later (see patch): an unavailable table or a throttle is tried
// patchAttempts times, patchBackoff and then twice as long apart. It does
// not ask for the item written.
func (s *Store) updateRetrying(ctx context.Context, op, id, update, cond string, v map[string]types.AttributeValue) (map[string]types.AttributeValue, bool, error) {
	wait := patchBackoff
	for attempt := 1; ; attempt++ {
		item, failed, err := s.update(ctx, op, id, update, cond, v, false)
		if err == nil || !monitor.IsKind(err, monitor.KindUnavailable) || attempt == patchAttempts {
			return item, failed, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false, err
		case <-t.C:
		}
		wait *= 2
	}
}

// outputFromRecordAttempts bounds outputFromRecord's writes: the alert
// status changes at most twice after a finish (a send's claim taken
// before it completes, then its result).
const outputFromRecordAttempts = 4

// dropNextCheck removes the next_check_time of item's custom status (item
// a record that Finish has just finished): no check follows. DynamoDB
// cannot change a field inside the custom status's JSON, so this is a
// second write, conditional on the custom status being the one read, in
// the record read (see patch): a finished record's custom status changes
// only here.
func (s *Store) dropNextCheck(ctx context.Context, op, id string, item map[string]types.AttributeValue) error {
	old := getS(item, attrCustom)
	if old == "" {
		return nil
	}
	var cs monitor.CustomStatus
	if err := json.Unmarshal([]byte(old), &cs); err != nil {
		return monitor.WrapError(monitor.KindInternal, op, fmt.Errorf("attribute %s: %w", attrCustom, err), "cannot read the custom status")
	}
	if cs.NextCheckTime.IsZero() {
		return nil
	}
	cs.NextCheckTime = time.Time{}
	patched, err := customAttr(cs)
	if err != nil {
		return monitor.WrapError(monitor.KindInternal, op, err, "cannot encode the custom status")
	}
	return s.patch(ctx, op, id, item, "#cs", old, patched, "the custom status kept its next_check_time")
}

// patch sets attribute name (a placeholder such as "#out") of a finished
// record, item as the caller's write left it, to patched, on condition
// that it still reads old and that the record is still item's: the
// created time item holds (#ct = :ct, as createdIs; no created time when
// item has none). A record of the id created since, after item's was
// purged, is another monitor's, and its attribute may read old too.
// Nothing retries the write later, so it is retried here while DynamoDB
// is unavailable: it is idempotent. A failed condition means the
// attribute has changed meanwhile (another patch), or the record has:
// nothing to do. When the retries run out it returns the last error with
// left, which says what was not patched.
func (s *Store) patch(ctx context.Context, op, id string, item map[string]types.AttributeValue, name, old string, patched types.AttributeValue, left string) error {
	cond, v := unchanged(item, name, old, patched)
	if _, _, err := s.updateRetrying(ctx, op, id, "SET "+name+" = :new", cond, v); err != nil {
		return monitor.WrapError(monitor.KindOf(err), op, err, left)
	}
	return nil
}

// unchanged returns the condition of a second write that sets attribute
// name (a "#name" placeholder) to patched (":new") only where it still
// holds old (":old"), in the record item is (its created time, or none
// where item has none), and the values the condition and the write use.
func unchanged(item map[string]types.AttributeValue, name, old string, patched types.AttributeValue) (string, map[string]types.AttributeValue) {
	v := map[string]types.AttributeValue{":new": patched, ":old": str(old)}
	cond := condExists + " AND " + name + " = :old AND attribute_not_exists(#ct)"
	if ct := getS(item, attrCreate); ct != "" {
		cond = condExists + " AND " + name + " = :old AND #ct = :ct"
		v[":ct"] = str(ct)
	}
	return cond, v
}

// DeleteFinished implements monitor.Store: one DeleteItem removes the
// record with its events and alert state, on condition that the item is
// the finished record created at created (times are stored in one fixed
// form, so equal times compare equal as strings) and has not expired. A
// record whose purge time has passed is KindNotFound, as for Get, and is
// left to the table's TTL.
func (s *Store) DeleteFinished(ctx context.Context, id string, created time.Time) error {
	const op = "dynamostore: delete finished"
	cond := condExists + " AND #st IN (:completed, :failed, :terminated) AND #ct = :ct AND " + condKept
	v := map[string]types.AttributeValue{":ct": tm(created)}
	s.keptValues(v)
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           &s.table,
		Key:                                 key(id),
		ConditionExpression:                 &cond,
		ExpressionAttributeNames:            names(cond),
		ExpressionAttributeValues:           v,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		if old == nil {
			return monitor.NotFoundError(op, id)
		}
		if rec, err := itemRecord(old, false); err == nil && s.expired(rec) {
			return monitor.NotFoundError(op, id)
		}
		return monitor.NotTheFinished(op, id, created)
	}
	return wrap(op, id, err)
}

// ReleaseClaim implements monitor.Store: one DeleteItem on condition that
// the item is the unstarted claim (times are stored in one fixed form, so
// equal times compare equal as strings).
func (s *Store) ReleaseClaim(ctx context.Context, id string, created time.Time) error {
	const op = "dynamostore: release claim"
	cond := condExists + " AND #st = :pending AND (attribute_not_exists(#arn) OR #arn = :none) AND #ct = :ct"
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           &s.table,
		Key:                                 key(id),
		ConditionExpression:                 &cond,
		ExpressionAttributeNames:            names(cond),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":pending": str(string(monitor.RuntimePending)), ":none": str(""), ":ct": tm(created)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		if old == nil {
			return monitor.NotFoundError(op, id)
		}
		return monitor.NotTheClaim(op, id, created)
	}
	return wrap(op, id, err)
}

// isLive reports whether the item is of a monitor that has not finished.
func isLive(item map[string]types.AttributeValue) bool {
	return !monitor.RuntimeStatus(getS(item, attrStatus)).Final()
}

// notLive explains a failed "is live" condition: no item, or finished.
func notLive(op, id string, old map[string]types.AttributeValue) error {
	if old == nil {
		return monitor.NotFoundError(op, id)
	}
	return monitor.FinishedError(op, id, monitor.RuntimeStatus(getS(old, attrStatus)))
}

// conditionFailed reports whether err is a failed condition and returns
// the item as it was (nil when there was none).
func conditionFailed(err error) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return nil, true
		}
		return ccf.Item, true
	}
	return nil, false
}

// wrap turns an SDK error into a *monitor.Error: throttling, server
// errors, timeouts, network failures and a cancelled context (the caller
// left, the server shuts down) are KindUnavailable; an item over
// DynamoDB's size limit is KindTooLarge; anything else is KindInternal.
func wrap(op, id string, err error) error {
	if err == nil {
		return nil
	}
	if id != "" {
		op += " " + id
	}
	kind := classify(err)
	msg := message(kind)
	if errors.Is(err, context.Canceled) {
		msg = "the request was cancelled"
	}
	return monitor.WrapError(kind, op, err, msg)
}

func message(k monitor.Kind) string {
	switch k {
	case monitor.KindUnavailable:
		return "DynamoDB is unavailable; try again"
	case monitor.KindTooLarge:
		return "the monitor's record is full"
	}
	return "DynamoDB request failed"
}

// classify returns the kind of an error from the SDK.
func classify(err error) monitor.Kind {
	var (
		throughput *types.ProvisionedThroughputExceededException
		limit      *types.RequestLimitExceeded
		throttle   *types.ThrottlingException
		internal   *types.InternalServerError
		conflict   *types.TransactionConflictException
	)
	switch {
	case errors.As(err, &throughput), errors.As(err, &limit), errors.As(err, &throttle),
		errors.As(err, &internal), errors.As(err, &conflict):
		return monitor.KindUnavailable
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ThrottlingException", "Throttling", "TooManyRequestsException", "ServiceUnavailable",
			"InternalFailure", "InternalServerError", "RequestTimeout", "RequestTimeoutException":
			return monitor.KindUnavailable
		case "ValidationException":
			if strings.Contains(api.ErrorMessage(), "Item size") || strings.Contains(api.ErrorMessage(), "item size") {
				return monitor.KindTooLarge
			}
		}
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && (resp.HTTPStatusCode() >= 500 || resp.HTTPStatusCode() == 429) {
		return monitor.KindUnavailable
	}
	var netErr net.Error
	if errors.As(err, &netErr) || syserr.ConnRefused(err) || syserr.ConnReset(err) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) {
		return monitor.KindUnavailable
	}
	return monitor.KindInternal
}

func ptr[T any](v T) *T { return &v }

// HasRecords reports whether the table holds at least one item: a Scan
// with Limit 1 that reads only the partition key, one read unit whatever
// the table's size. Every item of the table belongs to a monitor.
func (s *Store) HasRecords(ctx context.Context) (bool, error) {
	in := &dynamodb.ScanInput{
		TableName:                &s.table,
		Limit:                    ptr(int32(1)),
		ProjectionExpression:     ptr("#pk"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
		ConsistentRead:           ptr(true),
	}
	out, err := s.client.Scan(ctx, in)
	if err != nil {
		return false, wrap("has records", "", err)
	}
	return len(out.Items) > 0, nil
}
