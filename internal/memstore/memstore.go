package memstore

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// Store is an in-memory monitor.Store. The zero value is not usable; call
// New.
type Store struct {
	mu   sync.Mutex
	recs map[string]*monitor.Record
}

var _ monitor.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store { return &Store{recs: map[string]*monitor.Record{}} }

// Create implements monitor.Store.
func (s *Store) Create(_ context.Context, rec monitor.Record) error {
	const op = "memstore: create"
	if rec.InstanceID == "" {
		return monitor.Errorf(monitor.KindInvalid, op, "instance id is empty")
	}
	c := clone(rec)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.recs[rec.InstanceID]; ok {
		return monitor.Errorf(monitor.KindConflict, op, "monitor %s already exists", rec.InstanceID)
	}
	s.recs[rec.InstanceID] = &c
	return nil
}

// Get implements monitor.Store.
func (s *Store) Get(_ context.Context, id string) (monitor.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find("memstore: get", id)
	if err != nil {
		return monitor.Record{}, err
	}
	return clone(*r), nil
}

// SetExecution implements monitor.Store: under the lock, the record must
// be the one created at created (any, when it is zero) and live, or
// finished without an execution, which takes the ARN alone.
func (s *Store) SetExecution(_ context.Context, id string, created time.Time, executionArn string, at time.Time) error {
	const op = "memstore: set execution"
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.mine(op, id, created)
	if err != nil {
		return err
	}
	if r.RuntimeStatus.Final() {
		if r.ExecutionArn == "" {
			r.ExecutionArn = executionArn
		}
		return monitor.FinishedError(op, id, r.RuntimeStatus)
	}
	r.ExecutionArn = executionArn
	if at.After(r.LastUpdatedTime) {
		r.LastUpdatedTime = at.UTC()
	}
	return nil
}

// RecordCheck implements monitor.Store.
func (s *Store) RecordCheck(_ context.Context, id string, u monitor.CheckUpdate) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.mine("memstore: record check", id, u.Created)
	if err != nil {
		return false, err
	}
	if r.RuntimeStatus.Final() || !monitor.CheckApplies(u, checkCount(r), r.ExecutionArn, r.LastUpdatedTime) {
		return false, nil
	}
	cs := cloneCustom(u.CustomStatus)
	r.CustomStatus = &cs
	r.RuntimeStatus = monitor.RuntimeRunning
	r.LastUpdatedTime = u.At.UTC()
	if u.ExecutionArn != "" {
		r.ExecutionArn = u.ExecutionArn
	}
	return true, nil
}

// Finish implements monitor.Store.
func (s *Store) Finish(_ context.Context, id string, f monitor.Finish) error {
	const op = "memstore: finish"
	if !f.RuntimeStatus.Final() {
		return monitor.NotFinalError(op, f.RuntimeStatus)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.mine(op, id, f.Created); err != nil {
		return err
	}
	r, err := s.live(op, id)
	if err != nil {
		return err
	}
	out := f.Output
	if out.OpenIssues != nil {
		n := *out.OpenIssues
		out.OpenIssues = &n
	}
	if f.FromRecord {
		out = out.WithRecord(r.CustomStatus, r.Alert.Status)
	}
	if st := r.Alert.Status; out.AlertStatus == monitor.OutputAlertUnknown && (st == monitor.AlertSent || st == monitor.AlertFailed) {
		// The send ended after the caller read the alert as sending.
		out.AlertStatus = string(st)
	}
	r.RuntimeStatus, r.Output = f.RuntimeStatus, &out
	r.LastUpdatedTime, r.PurgeAt = f.At.UTC(), f.PurgeAt.UTC()
	if f.CustomStatus != nil {
		cs := cloneCustom(*f.CustomStatus)
		r.CustomStatus = &cs
	}
	if r.CustomStatus != nil && !r.CustomStatus.NextCheckTime.IsZero() {
		// No check follows (see monitor.Store.Finish); the record owns
		// its custom status (a clone), so it is changed in place.
		r.CustomStatus.NextCheckTime = time.Time{}
	}
	return nil
}

// AddEvent implements monitor.Store; the cap is checked under the lock
// that guards the append.
func (s *Store) AddEvent(_ context.Context, id string, ev monitor.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	const op = "memstore: add event"
	r, err := s.live(op, id)
	if err != nil {
		return err
	}
	if len(r.Events) >= monitor.MaxEventsPerMonitor {
		return monitor.EventCapError(op, id)
	}
	ev.Data = slices.Clone(ev.Data)
	ev.RaisedAt = ev.RaisedAt.UTC()
	ev.ConsumedBy = 0 // pending, whatever the caller set
	r.Events = append(r.Events, ev)
	return nil
}

// ConsumeEvents implements monitor.Store. On a finished record it marks
// and drops nothing and returns what check consumed before.
func (s *Store) ConsumeEvents(_ context.Context, id string, created time.Time, check int) ([]monitor.Event, error) {
	const op = "memstore: consume events"
	if check < 1 {
		return nil, monitor.Errorf(monitor.KindInvalid, op, "check number %d is not positive", check)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.mine(op, id, created)
	if err != nil {
		return nil, err
	}
	if !r.RuntimeStatus.Final() {
		if next, changed := monitor.ConsumeEvents(r.Events, check); changed {
			r.Events = next
		}
	}
	out := monitor.ConsumedBy(r.Events, check)
	return out, nil
}

// ClaimAlert implements monitor.Store.
func (s *Store) ClaimAlert(_ context.Context, id string, created time.Time, channel string, at time.Time) (monitor.AlertState, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.mine("memstore: claim alert", id, created)
	if err != nil {
		return monitor.AlertState{}, false, err
	}
	if st := r.Alert.Status; r.RuntimeStatus.Final() || st != monitor.AlertNone && st != monitor.AlertFailed {
		return r.Alert, false, nil
	}
	r.Alert.Status, r.Alert.Channel, r.Alert.ClaimedAt, r.Alert.RetryAt = monitor.AlertSending, channel, at.UTC(), time.Time{}
	r.Alert.Attempts++
	return r.Alert, true, nil
}

// ScheduleAlert implements monitor.Store.
func (s *Store) ScheduleAlert(_ context.Context, id string, created, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.mine("memstore: schedule alert", id, created)
	if err != nil {
		return err
	}
	if !r.RuntimeStatus.Final() && r.Alert.Status == monitor.AlertFailed {
		r.Alert.RetryAt = at.UTC()
	}
	return nil
}

// CompleteAlert implements monitor.Store.
func (s *Store) CompleteAlert(_ context.Context, id string, res monitor.AlertResult) error {
	const op = "memstore: complete alert"
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.mine(op, id, res.Created)
	if err != nil {
		return err
	}
	if r.Alert.Status != monitor.AlertSending {
		return monitor.AlertNotSendingError(op, id, r.Alert.Status)
	}
	if res.Sent {
		r.Alert.Status, r.Alert.SentAt, r.Alert.MessageID = monitor.AlertSent, res.At.UTC(), res.MessageID
	} else {
		r.Alert.Status, r.Alert.LastError = monitor.AlertFailed, res.Error
	}
	if r.Output != nil && r.Output.AlertStatus == monitor.OutputAlertUnknown {
		// Finished during the send: the output learns its result.
		out := *r.Output
		out.AlertStatus = monitor.CompletedAlertStatus(res)
		r.Output = &out
	}
	return nil
}

// List implements monitor.Store. Records come newest first, ties by
// instance id descending; listed records carry no events.
func (s *Store) List(_ context.Context, q monitor.ListQuery) (monitor.ListPage, error) {
	const op = "memstore: list"
	var after *cursor
	if q.ContinuationToken != "" {
		var c cursor
		if err := monitor.DecodeToken(q.ContinuationToken, &c); err != nil || c.ID == "" {
			return monitor.ListPage{}, monitor.WrapError(monitor.KindInvalid, op, err, "continuation token is not valid")
		}
		after = &c
	}
	top := q.PageSize()
	s.mu.Lock()
	var match []*monitor.Record
	for _, r := range s.recs {
		if len(q.RuntimeStatus) > 0 && !slices.Contains(q.RuntimeStatus, r.RuntimeStatus) {
			continue
		}
		if !q.CreatedFrom.IsZero() && r.CreatedTime.Before(q.CreatedFrom) {
			continue
		}
		if !q.CreatedTo.IsZero() && !r.CreatedTime.Before(q.CreatedTo) {
			continue
		}
		if after != nil && !before(r, *after) {
			continue
		}
		match = append(match, r)
	}
	slices.SortFunc(match, func(a, b *monitor.Record) int {
		return -cmp.Or(a.CreatedTime.Compare(b.CreatedTime), strings.Compare(a.InstanceID, b.InstanceID))
	})
	var page monitor.ListPage
	for i, r := range match {
		if i == top {
			last := page.Records[top-1]
			page.ContinuationToken = monitor.EncodeToken(cursor{Created: last.CreatedTime, ID: last.InstanceID})
			break
		}
		c := clone(*r)
		c.PendingEvents, c.Events = c.Pending(), nil
		page.Records = append(page.Records, c)
	}
	s.mu.Unlock()
	return page, nil
}

// DeleteFinished implements monitor.Store.
func (s *Store) DeleteFinished(_ context.Context, id string, created time.Time) error {
	const op = "memstore: delete finished"
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(op, id)
	if err != nil {
		return err
	}
	if !r.RuntimeStatus.Final() || !r.CreatedTime.Equal(created) {
		return monitor.NotTheFinished(op, id, created)
	}
	delete(s.recs, id)
	return nil
}

// ReleaseClaim implements monitor.Store.
func (s *Store) ReleaseClaim(_ context.Context, id string, created time.Time) error {
	const op = "memstore: release claim"
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(op, id)
	if err != nil {
		return err
	}
	if r.RuntimeStatus != monitor.RuntimePending || r.ExecutionArn != "" || !r.CreatedTime.Equal(created) {
		return monitor.NotTheClaim(op, id, created)
	}
	delete(s.recs, id)
	return nil
}

// find returns the stored record; s.mu is held.
func (s *Store) find(op, id string) (*monitor.Record, error) {
	r, ok := s.recs[id]
	if !ok {
		return nil, monitor.NotFoundError(op, id)
	}
	return r, nil
}

// mine returns the stored record if it was created at created (any record
// when created is zero), else monitor.NotTheMonitor; s.mu is held.
func (s *Store) mine(op, id string, created time.Time) (*monitor.Record, error) {
	r, err := s.find(op, id)
	if err != nil {
		return nil, err
	}
	if !created.IsZero() && !r.CreatedTime.Equal(created) {
		return nil, monitor.NotTheMonitor(op, id, created)
	}
	return r, nil
}

// live returns the stored record if it has not finished; s.mu is held.
func (s *Store) live(op, id string) (*monitor.Record, error) {
	r, err := s.find(op, id)
	if err != nil {
		return nil, err
	}
	if r.RuntimeStatus.Final() {
		return nil, monitor.FinishedError(op, id, r.RuntimeStatus)
	}
	return r, nil
}

func checkCount(r *monitor.Record) int {
	if r.CustomStatus == nil {
		return 0
	}
	return r.CustomStatus.CheckCount
}

// cursor is the position a continuation token resumes after.
type cursor struct {
	Created time.Time `json:"c"`
	ID      string    `json:"i"`
}

// before reports whether r comes after the cursor in list order (newest
// first, then instance id descending).
func before(r *monitor.Record, c cursor) bool {
	if d := r.CreatedTime.Compare(c.Created); d != 0 {
		return d < 0
	}
	return r.InstanceID < c.ID
}

// clone returns a deep copy of r with every time in UTC.
func clone(r monitor.Record) monitor.Record {
	c := r.Clone()
	c.PendingEvents = 0 // a record read with its events counts them
	c.CreatedTime, c.LastUpdatedTime = c.CreatedTime.UTC(), c.LastUpdatedTime.UTC()
	c.ExpiresAt, c.PurgeAt = c.ExpiresAt.UTC(), c.PurgeAt.UTC()
	if c.CustomStatus != nil {
		c.CustomStatus.LastCheckTime = c.CustomStatus.LastCheckTime.UTC()
		c.CustomStatus.NextCheckTime = c.CustomStatus.NextCheckTime.UTC()
	}
	c.Alert.ClaimedAt, c.Alert.SentAt = c.Alert.ClaimedAt.UTC(), c.Alert.SentAt.UTC()
	for i := range c.Events {
		c.Events[i].RaisedAt = c.Events[i].RaisedAt.UTC()
	}
	return c
}

func cloneCustom(cs monitor.CustomStatus) monitor.CustomStatus {
	if cs.OpenIssues != nil {
		n := *cs.OpenIssues
		cs.OpenIssues = &n
	}
	cs.LastCheckTime, cs.NextCheckTime = cs.LastCheckTime.UTC(), cs.NextCheckTime.UTC()
	return cs
}
