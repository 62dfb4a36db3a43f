package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MemStore is an in-memory Store. It is what `stepmon asl run`, the tests
// and the benchmarks use; it loses everything when the process exits.
type MemStore struct {
	mu       sync.Mutex
	machines map[string]*StateMachine
	// revisions holds every revision of each machine, revision n at n-1.
	revisions map[string][]StateMachine
	order     []string // state machine ARNs, sorted
	// tags holds each machine's tags, key to value.
	tags   map[string]map[string]string
	execs  map[string]*memExec
	byMach map[string][]*memExec // creation order
}

type memExec struct {
	rec     Execution
	chunks  [][]Event // the history, one slice per commit
	nEvents int
	run     []byte
	wakeAt  time.Time
	seq     int // creation sequence, for stable listing
	hasRun  bool
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{
		machines:  map[string]*StateMachine{},
		revisions: map[string][]StateMachine{},
		tags:      map[string]map[string]string{},
		execs:     map[string]*memExec{},
		byMach:    map[string][]*memExec{},
	}
}

// CreateStateMachine implements Store.
func (s *MemStore) CreateStateMachine(_ context.Context, sm StateMachine) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.machines[sm.Arn]; ok {
		return fmt.Errorf("memstore: create state machine %s: %w", sm.Arn, ErrStateMachineAlreadyExists)
	}
	sm.Revision = 1
	sm.Status = StateMachineActive
	if sm.RevisionID == "" {
		sm.RevisionID = "1"
	}
	if sm.UpdatedAt.IsZero() {
		sm.UpdatedAt = sm.CreatedAt
	}
	tags := make(map[string]string, len(sm.Tags))
	for _, t := range sm.Tags {
		tags[t.Key] = t.Value
	}
	s.tags[sm.Arn] = tags
	sm.Tags = nil
	s.machines[sm.Arn] = &sm
	s.revisions[sm.Arn] = []StateMachine{sm}
	i, _ := slices.BinarySearch(s.order, sm.Arn)
	s.order = slices.Insert(s.order, i, sm.Arn)
	return nil
}

// UpdateStateMachine implements Store.
func (s *MemStore) UpdateStateMachine(_ context.Context, arn string, u StateMachineUpdate, now time.Time) (StateMachine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, ok := s.machines[arn]
	if !ok {
		return StateMachine{}, fmt.Errorf("memstore: update state machine %s: %w", arn, ErrStateMachineDoesNotExist)
	}
	*sm = u.apply(*sm)
	sm.Revision++
	sm.RevisionID = strconv.Itoa(sm.Revision)
	sm.UpdatedAt = now
	s.revisions[arn] = append(s.revisions[arn], *sm)
	return *sm, nil
}

// GetStateMachine implements Store.
func (s *MemStore) GetStateMachine(_ context.Context, arn string) (StateMachine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, ok := s.machines[arn]
	if !ok {
		return StateMachine{}, fmt.Errorf("memstore: get state machine %s: %w", arn, ErrStateMachineDoesNotExist)
	}
	return *sm, nil
}

// GetStateMachineRevision implements Store.
func (s *MemStore) GetStateMachineRevision(_ context.Context, arn string, revision int) (StateMachine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	revs := s.revisions[arn]
	if revision < 1 || revision > len(revs) {
		return StateMachine{}, fmt.Errorf("memstore: get state machine %s revision %d: %w", arn, revision, ErrStateMachineDoesNotExist)
	}
	return revs[revision-1], nil
}

// ListStateMachines implements Store. The token is "a." and the ARN of
// the last machine returned: the page after it starts with the next ARN
// in order, whatever was created or deleted meanwhile.
func (s *MemStore) ListStateMachines(_ context.Context, maxResults int, nextToken string) ([]StateMachine, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := 0
	if nextToken != "" {
		after, ok := strings.CutPrefix(nextToken, smTokenPrefix)
		if !ok {
			return nil, "", fmt.Errorf("memstore: list state machines: %w", ErrInvalidToken)
		}
		i, found := slices.BinarySearch(s.order, after)
		if found {
			i++
		}
		start = i
	}
	end := pageEnd(start, maxResults, len(s.order))
	out := make([]StateMachine, 0, end-start)
	for _, arn := range s.order[start:end] {
		out = append(out, *s.machines[arn])
	}
	if end >= len(s.order) {
		return out, "", nil
	}
	return out, smTokenPrefix + s.order[end-1], nil
}

// smTokenPrefix starts a ListStateMachines token.
const smTokenPrefix = "a."

// MarkStateMachineDeleting implements Store.
func (s *MemStore) MarkStateMachineDeleting(_ context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, ok := s.machines[arn]
	if !ok {
		return fmt.Errorf("memstore: mark state machine %s deleting: %w", arn, ErrStateMachineDoesNotExist)
	}
	sm.Status = StateMachineDeleting
	return nil
}

// DeleteStateMachine implements Store.
func (s *MemStore) DeleteStateMachine(_ context.Context, arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.machines[arn]; !ok {
		return fmt.Errorf("memstore: delete state machine %s: %w", arn, ErrStateMachineDoesNotExist)
	}
	delete(s.machines, arn)
	delete(s.revisions, arn)
	delete(s.tags, arn)
	s.order = slices.DeleteFunc(s.order, func(a string) bool { return a == arn })
	for _, e := range s.byMach[arn] {
		delete(s.execs, e.rec.Arn)
	}
	delete(s.byMach, arn)
	return nil
}

// TagStateMachine implements Store.
func (s *MemStore) TagStateMachine(_ context.Context, arn string, tags []Tag, limit int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.machines[arn]; !ok {
		return fmt.Errorf("memstore: tag state machine %s: %w", arn, ErrStateMachineDoesNotExist)
	}
	have := s.tags[arn]
	n := len(have)
	added := map[string]bool{}
	for _, t := range tags {
		if _, ok := have[t.Key]; !ok && !added[t.Key] {
			added[t.Key] = true
			n++
		}
	}
	if n > limit {
		return fmt.Errorf("memstore: tag state machine %s: %d tags: %w", arn, n, ErrTooManyTags)
	}
	for _, t := range tags {
		have[t.Key] = t.Value
	}
	return nil
}

// UntagStateMachine implements Store.
func (s *MemStore) UntagStateMachine(_ context.Context, arn string, keys []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.machines[arn]; !ok {
		return fmt.Errorf("memstore: untag state machine %s: %w", arn, ErrStateMachineDoesNotExist)
	}
	for _, k := range keys {
		delete(s.tags[arn], k)
	}
	return nil
}

// ListStateMachineTags implements Store.
func (s *MemStore) ListStateMachineTags(_ context.Context, arn string) ([]Tag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.machines[arn]; !ok {
		return nil, fmt.Errorf("memstore: list tags of state machine %s: %w", arn, ErrStateMachineDoesNotExist)
	}
	have := s.tags[arn]
	out := make([]Tag, 0, len(have))
	for _, k := range slices.Sorted(maps.Keys(have)) {
		out = append(out, Tag{Key: k, Value: have[k]})
	}
	return out, nil
}

// Commit implements Store.
func (s *MemStore) Commit(_ context.Context, t Transition) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.execs[t.ExecutionArn]
	if t.Create != nil {
		if e != nil {
			return fmt.Errorf("memstore: create execution %s: %w", t.ExecutionArn, ErrExecutionAlreadyExists)
		}
		rec := *t.Create
		rec.Arn = t.ExecutionArn
		if rec.Status == "" {
			rec.Status = StatusRunning
		}
		e = &memExec{rec: rec, seq: len(s.execs)}
		s.execs[t.ExecutionArn] = e
		s.byMach[rec.StateMachineArn] = append(s.byMach[rec.StateMachineArn], e)
	} else {
		if e == nil {
			return fmt.Errorf("memstore: commit %s: %w", t.ExecutionArn, ErrExecutionDoesNotExist)
		}
		if t.ExpectRunning && e.rec.Status != StatusRunning {
			return fmt.Errorf("memstore: commit %s: %w", t.ExecutionArn, ErrExecutionNotRunning)
		}
	}
	if len(t.Events) > 0 {
		// Commit owns t.Events (see Transition). An execution's commits
		// hold disjoint ranges of ids but may arrive out of order
		// (concurrent branches): keep the chunks in id order.
		i := len(e.chunks)
		for i > 0 && e.chunks[i-1][0].ID > t.Events[0].ID {
			i--
		}
		e.chunks = slices.Insert(e.chunks, i, t.Events)
		e.nEvents += len(t.Events)
	}
	if u := t.Update; u != nil {
		e.rec.Status = u.Status
		e.rec.Output, e.rec.HasOutput = u.Output, u.HasOutput
		e.rec.Error, e.rec.Cause = u.Error, u.Cause
		e.rec.StopDate = u.StopDate
		if u.Status != StatusRunning {
			e.run, e.hasRun, e.wakeAt = nil, false, time.Time{}
			return nil
		}
	}
	if t.RunState != nil {
		e.run = slices.Clone(t.RunState)
		e.hasRun = true
		e.wakeAt = t.WakeAt
	}
	return nil
}

// GetExecution implements Store.
func (s *MemStore) GetExecution(_ context.Context, arn string) (Execution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[arn]
	if !ok {
		return Execution{}, fmt.Errorf("memstore: get execution %s: %w", arn, ErrExecutionDoesNotExist)
	}
	return e.rec, nil
}

// ListExecutions implements Store.
func (s *MemStore) ListExecutions(_ context.Context, in ListExecutionsInput) ([]Execution, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.machines[in.StateMachineArn]; !ok {
		return nil, "", fmt.Errorf("memstore: list executions of %s: %w", in.StateMachineArn, ErrStateMachineDoesNotExist)
	}
	all := s.byMach[in.StateMachineArn]
	var match []*memExec
	for i := len(all) - 1; i >= 0; i-- { // newest first
		if in.Status == "" || all[i].rec.Status == in.Status {
			match = append(match, all[i])
		}
	}
	slices.SortStableFunc(match, func(a, b *memExec) int { return b.rec.StartDate.Compare(a.rec.StartDate) })
	start, err := parseToken(in.NextToken, len(match))
	if err != nil {
		return nil, "", fmt.Errorf("memstore: list executions: %w", err)
	}
	end := pageEnd(start, in.MaxResults, len(match))
	out := make([]Execution, 0, end-start)
	for _, e := range match[start:end] {
		out = append(out, e.rec)
	}
	return out, nextTokenFor(end, len(match)), nil
}

// GetHistory implements Store.
func (s *MemStore) GetHistory(_ context.Context, arn string, in HistoryInput) ([]Event, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[arn]
	if !ok {
		return nil, "", fmt.Errorf("memstore: get history %s: %w", arn, ErrExecutionDoesNotExist)
	}
	n := e.nEvents
	start, err := parseToken(in.NextToken, n)
	if err != nil {
		return nil, "", fmt.Errorf("memstore: get history %s: %w", arn, err)
	}
	end := pageEnd(start, in.MaxResults, n)
	out := make([]Event, 0, end-start)
	for i := start; i < end; i++ {
		j := i
		if in.ReverseOrder {
			j = n - 1 - i
		}
		out = append(out, e.event(j))
	}
	return out, nextTokenFor(end, n), nil
}

// LastEventID implements Store.
func (s *MemStore) LastEventID(_ context.Context, arn string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[arn]
	if !ok {
		return 0, fmt.Errorf("memstore: last event of %s: %w", arn, ErrExecutionDoesNotExist)
	}
	if e.nEvents == 0 {
		return 0, nil
	}
	return e.event(e.nEvents - 1).ID, nil
}

// GetRunState implements Store.
func (s *MemStore) GetRunState(_ context.Context, arn string) ([]byte, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.execs[arn]
	if !ok {
		return nil, time.Time{}, fmt.Errorf("memstore: get run state %s: %w", arn, ErrExecutionDoesNotExist)
	}
	if e.rec.Status != StatusRunning || !e.hasRun {
		return nil, time.Time{}, fmt.Errorf("memstore: get run state %s: %w", arn, ErrExecutionNotRunning)
	}
	return slices.Clone(e.run), e.wakeAt, nil
}

// ListPending implements Store.
func (s *MemStore) ListPending(_ context.Context, fn func(Pending) error) error {
	s.mu.Lock()
	var out []Pending
	for arn, e := range s.execs {
		if e.rec.Status == StatusRunning && e.hasRun {
			out = append(out, Pending{ExecutionArn: arn, WakeAt: e.wakeAt})
		}
	}
	s.mu.Unlock()
	for _, p := range out {
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// parseToken turns a paging token (an offset) back into an index.
func parseToken(tok string, n int) (int, error) {
	if tok == "" {
		return 0, nil
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || i > n {
		return 0, ErrInvalidToken
	}
	return i, nil
}

func pageEnd(start, max, n int) int {
	if max <= 0 {
		max = 100
	}
	return min(start+max, n)
}

func nextTokenFor(end, n int) string {
	if end >= n {
		return ""
	}
	return strconv.Itoa(end)
}

// event returns the i-th event of the history.
func (e *memExec) event(i int) Event {
	for _, c := range e.chunks {
		if i < len(c) {
			return c[i]
		}
		i -= len(c)
	}
	return Event{}
}
