package storetest

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// tl is the list fixture's base time, millisecond-aligned so that a store
// keeping milliseconds compares range bounds exactly.
var tl = t0.Truncate(ms)

const listSize = 30

// listStatus is the status of fixture record i.
func listStatus(i int) monitor.RuntimeStatus {
	return []monitor.RuntimeStatus{
		monitor.RuntimePending, monitor.RuntimeRunning, monitor.RuntimeCompleted,
		monitor.RuntimeFailed, monitor.RuntimeTerminated,
	}[i%5]
}

// listCreated is the created time of fixture record i: records come in
// pairs with the same time, so that ties are paged too.
func listCreated(i int) time.Time { return tl.Add(time.Duration(i/2) * time.Minute) }

func listID(i int) string { return fmt.Sprintf("list-%02d", i) }

// seedList creates the list fixture and returns the records as stored.
func seedList(t *testing.T, s monitor.Store) map[string]monitor.Record {
	t.Helper()
	out := map[string]monitor.Record{}
	for i := range listSize {
		id := listID(i)
		mustCreate(t, s, newRecord(id, listCreated(i)))
		switch st := listStatus(i); st {
		case monitor.RuntimePending:
		case monitor.RuntimeRunning:
			mustRecordCheck(t, s, id, checkUpdate(id, 1, listCreated(i).Add(time.Second)))
		default:
			mustRecordCheck(t, s, id, checkUpdate(id, 1, listCreated(i).Add(time.Second)))
			mustFinish(t, s, id, finish(st, string(st), listCreated(i).Add(2*time.Second)))
		}
		out[id] = mustGet(t, s, id)
	}
	return out
}

// wantIDs returns the fixture ids that q selects.
func wantIDs(q monitor.ListQuery) []string {
	var ids []string
	for i := range listSize {
		c := listCreated(i)
		if len(q.RuntimeStatus) > 0 && !slices.Contains(q.RuntimeStatus, listStatus(i)) {
			continue
		}
		if !q.CreatedFrom.IsZero() && c.Before(q.CreatedFrom) {
			continue
		}
		if !q.CreatedTo.IsZero() && !c.Before(q.CreatedTo) {
			continue
		}
		ids = append(ids, listID(i))
	}
	return ids
}

// listAll pages through q and checks the paging rules: no page holds
// more than the page size (a page may hold fewer, even none, and still
// have a token: see monitor.Store.List), the last has no token, no record
// comes twice, and records come newest first.
func listAll(t *testing.T, s monitor.Store, q monitor.ListQuery) []monitor.Record {
	t.Helper()
	size := q.Top
	if size == 0 {
		size = monitor.DefaultPageSize
	}
	var all []monitor.Record
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page > 200 {
			t.Fatalf("List: more than 200 pages")
		}
		p, err := s.List(ctx(t), q)
		if err != nil {
			t.Fatalf("List(page %d, %+v): %v", page, q, err)
		}
		if len(p.Records) > size {
			t.Fatalf("page %d has %d records, more than the page size %d", page, len(p.Records), size)
		}
		for _, r := range p.Records {
			if seen[r.InstanceID] {
				t.Fatalf("page %d repeats %s", page, r.InstanceID)
			}
			seen[r.InstanceID] = true
			if n := len(all); n > 0 && r.CreatedTime.After(all[n-1].CreatedTime) {
				t.Fatalf("page %d: %s (created %v) comes after %s (created %v); want newest first",
					page, r.InstanceID, r.CreatedTime, all[n-1].InstanceID, all[n-1].CreatedTime)
			}
			all = append(all, r)
		}
		if p.ContinuationToken == "" {
			return all
		}
		q.ContinuationToken = p.ContinuationToken
	}
}

func idsOf(recs []monitor.Record) []string {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.InstanceID
	}
	return ids
}

func sortedCopy(ids []string) []string {
	c := slices.Clone(ids)
	slices.Sort(c)
	return c
}

var listTests = []test{
	{"Queries", testListQueries},
	{"PendingEventsOfCreate", func(t *testing.T, s monitor.Store) {
		// A record created with events lists them as pending, as Get
		// counts them (the DynamoDB store listed 0).
		rec := newRecord("m1", t0)
		rec.Events = []monitor.Event{event("a", "", t0), event("b", `{"n":1}`, t0.Add(time.Second))}
		mustCreate(t, s, rec)
		p, err := s.List(ctx(t), monitor.ListQuery{})
		if err != nil || len(p.Records) != 1 {
			t.Fatalf("List = %d records, %v; want 1", len(p.Records), err)
		}
		if got, want := p.Records[0].Pending(), mustGet(t, s, "m1").Pending(); got != 2 || want != 2 {
			t.Fatalf("pending events: listed %d, Get %d; want 2 both", got, want)
		}
	}},
	{"PendingEvents", func(t *testing.T, s monitor.Store) {
		// A listed record carries no events, but says how many are pending.
		mustCreate(t, s, newRecord("quiet", t0))
		mustCreate(t, s, newRecord("busy", t0.Add(time.Second)))
		pending := func(what string, want int) {
			t.Helper()
			p, err := s.List(ctx(t), monitor.ListQuery{})
			if err != nil || len(p.Records) != 2 {
				t.Fatalf("%s: List = %d records, %v; want 2", what, len(p.Records), err)
			}
			got := map[string]int{}
			for _, r := range p.Records {
				if r.Events != nil {
					t.Fatalf("%s: listed %s carries %d events, want none", what, r.InstanceID, len(r.Events))
				}
				got[r.InstanceID] = r.Pending()
			}
			if got["busy"] != want || got["quiet"] != 0 {
				t.Fatalf("%s: listed pending events = %v, want busy %d, quiet 0", what, got, want)
			}
		}
		for i := range 2 {
			if err := s.AddEvent(ctx(t), "busy", event(monitor.EventCheckNow, "", t0.Add(time.Duration(i+2)*time.Second))); err != nil {
				t.Fatalf("AddEvent: %v", err)
			}
		}
		pending("two raised", 2)
		if _, err := s.ConsumeEvents(ctx(t), "busy", time.Time{}, 1); err != nil {
			t.Fatalf("ConsumeEvents: %v", err)
		}
		pending("consumed", 0)
		if err := s.AddEvent(ctx(t), "busy", event(monitor.EventCheckNow, "", t0.Add(5*time.Second))); err != nil {
			t.Fatalf("AddEvent: %v", err)
		}
		pending("one more", 1)
	}},
	{"Empty", func(t *testing.T, s monitor.Store) {
		p, err := s.List(ctx(t), monitor.ListQuery{})
		if err != nil || len(p.Records) != 0 || p.ContinuationToken != "" {
			t.Fatalf("List on an empty store = %d records, token %q, %v; want none", len(p.Records), p.ContinuationToken, err)
		}
	}},
	{"BadToken", func(t *testing.T, s monitor.Store) {
		seedFew(t, s, 3)
		good, err := s.List(ctx(t), monitor.ListQuery{Top: 1})
		if err != nil || good.ContinuationToken == "" {
			t.Fatalf("List(top 1) = %v, token %q; want a token", err, good.ContinuationToken)
		}
		bad := []string{
			"not a token!",
			"e30",  // {}
			"AAAA", // three zero bytes
			base64.StdEncoding.EncodeToString([]byte(`{"v":99}`)),
			base64.RawURLEncoding.EncodeToString([]byte("garbage")),
			strings.Repeat("A", 4096),
			good.ContinuationToken[:len(good.ContinuationToken)/2],
			good.ContinuationToken + "x",
		}
		for _, tok := range bad {
			_, err := s.List(ctx(t), monitor.ListQuery{Top: 1, ContinuationToken: tok})
			wantKind(t, fmt.Sprintf("List(token %.40q)", tok), err, monitor.KindInvalid)
		}
	}},
	{"NewRecordsDuringPaging", func(t *testing.T, s monitor.Store) {
		// Records created while a client pages are newer than its
		// position: they do not appear, and nothing repeats or is lost.
		seedFew(t, s, 10)
		q := monitor.ListQuery{Top: 4}
		first, err := s.List(ctx(t), q)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		for i := range 3 {
			mustCreate(t, s, newRecord(fmt.Sprintf("new-%d", i), tl.Add(time.Hour+time.Duration(i)*time.Second)))
		}
		q.ContinuationToken = first.ContinuationToken
		rest := listAll(t, s, q)
		got := append(idsOf(first.Records), idsOf(rest)...)
		want := []string{"few-9", "few-8", "few-7", "few-6", "few-5", "few-4", "few-3", "few-2", "few-1", "few-0"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ids = %v, want %v", got, want)
		}
	}},
	{"DefaultPageSize", func(t *testing.T, s monitor.Store) {
		seedFew(t, s, 5)
		p, err := s.List(ctx(t), monitor.ListQuery{})
		if err != nil || len(p.Records) != 5 || p.ContinuationToken != "" {
			t.Fatalf("List() = %d records, token %q, %v; want 5 and no token", len(p.Records), p.ContinuationToken, err)
		}
	}},
}

// seedFew creates n Pending records few-0 … few-(n-1), one a second.
func seedFew(t *testing.T, s monitor.Store, n int) {
	t.Helper()
	for i := range n {
		mustCreate(t, s, newRecord(fmt.Sprintf("few-%d", i), tl.Add(time.Duration(i)*time.Second)))
	}
}

func testListQueries(t *testing.T, s monitor.Store) {
	stored := seedList(t, s)
	st := func(ss ...monitor.RuntimeStatus) []monitor.RuntimeStatus { return ss }
	cases := []struct {
		name string
		q    monitor.ListQuery
	}{
		{"All", monitor.ListQuery{}},
		{"Top7", monitor.ListQuery{Top: 7}},
		{"TopOddAcrossTies", monitor.ListQuery{Top: 3}},
		{"TopExact", monitor.ListQuery{Top: listSize}},
		{"TopMax", monitor.ListQuery{Top: monitor.MaxPageSize}},
		{"Running", monitor.ListQuery{RuntimeStatus: st(monitor.RuntimeRunning)}},
		{"Pending", monitor.ListQuery{RuntimeStatus: st(monitor.RuntimePending), Top: 2}},
		{"CompletedOrFailed", monitor.ListQuery{RuntimeStatus: st(monitor.RuntimeCompleted, monitor.RuntimeFailed), Top: 4}},
		{"Live", monitor.ListQuery{RuntimeStatus: st(monitor.RuntimePending, monitor.RuntimeRunning), Top: 5}},
		{"EveryStatus", monitor.ListQuery{RuntimeStatus: st(monitor.RuntimePending, monitor.RuntimeRunning, monitor.RuntimeCompleted, monitor.RuntimeFailed, monitor.RuntimeTerminated), Top: 11}},
		{"Range", monitor.ListQuery{CreatedFrom: listCreated(10), CreatedTo: listCreated(20)}},
		{"RangePaged", monitor.ListQuery{CreatedFrom: listCreated(10), CreatedTo: listCreated(20), Top: 3}},
		{"RangeInsideTies", monitor.ListQuery{CreatedFrom: listCreated(10).Add(-ms), CreatedTo: listCreated(12).Add(ms), Top: 1}},
		{"From", monitor.ListQuery{CreatedFrom: listCreated(25), Top: 2}},
		{"To", monitor.ListQuery{CreatedTo: listCreated(4), Top: 2}},
		{"RangeAndStatus", monitor.ListQuery{CreatedFrom: listCreated(4), CreatedTo: listCreated(26), RuntimeStatus: st(monitor.RuntimeTerminated, monitor.RuntimeRunning), Top: 2}},
		{"RangeEmpty", monitor.ListQuery{CreatedFrom: tl.Add(24 * time.Hour)}},
		{"RangeReversed", monitor.ListQuery{CreatedFrom: listCreated(20), CreatedTo: listCreated(10)}},
		{"RangeSameBounds", monitor.ListQuery{CreatedFrom: listCreated(10), CreatedTo: listCreated(10)}},
		{"StatusNoneInRange", monitor.ListQuery{CreatedFrom: listCreated(0), CreatedTo: listCreated(2), RuntimeStatus: st(monitor.RuntimeTerminated)}},
		// Bounds finer than a store keeps times: the comparison is with
		// the bound itself, not with the bound cut to the store's
		// precision (From just after a record excludes it, To just
		// after it includes it).
		{"FromInsideAMicrosecond", monitor.ListQuery{CreatedFrom: listCreated(10).Add(500 * time.Nanosecond)}},
		{"ToInsideAMicrosecond", monitor.ListQuery{CreatedTo: listCreated(10).Add(500 * time.Nanosecond)}},
		{"RangeInsideMicroseconds", monitor.ListQuery{CreatedFrom: listCreated(10).Add(time.Nanosecond), CreatedTo: listCreated(14).Add(999 * time.Nanosecond)}},
		{"FromJustBefore", monitor.ListQuery{CreatedFrom: listCreated(10).Add(-time.Nanosecond), CreatedTo: listCreated(12)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := listAll(t, s, tc.q)
			want := wantIDs(tc.q)
			if g, w := sortedCopy(idsOf(got)), sortedCopy(want); !slices.Equal(g, w) {
				t.Fatalf("ids = %v, want %v", g, w)
			}
			for _, r := range got {
				r.Events = nil
				w := stored[r.InstanceID]
				w.Events = nil
				wantRecord(t, "listed "+r.InstanceID, r, w)
			}
		})
	}
}

var deleteTests = []test{
	{"Deletes", func(t *testing.T, s monitor.Store) {
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		mustCreate(t, s, newRecord("m2", t0.Add(time.Second)))
		mustAddEvent(t, s, "m1", event("a", `{"x":1}`, t0))
		if _, _, err := s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelSNS, t0); err != nil {
			t.Fatalf("ClaimAlert: %v", err)
		}
		mustFinish(t, s, "m1", finish(monitor.RuntimeCompleted, monitor.FinalCompleted, t0.Add(time.Second)))
		if err := s.DeleteFinished(ctx(t), "m1", rec.CreatedTime); err != nil {
			t.Fatalf("DeleteFinished: %v", err)
		}
		_, err := s.Get(ctx(t), "m1")
		wantKind(t, "Get after DeleteFinished", err, monitor.KindNotFound)
		wantKind(t, "second DeleteFinished", s.DeleteFinished(ctx(t), "m1", rec.CreatedTime), monitor.KindNotFound)
		if got := idsOf(listAll(t, s, monitor.ListQuery{})); !reflect.DeepEqual(got, []string{"m2"}) {
			t.Fatalf("List after DeleteFinished = %v, want [m2]", got)
		}
		// The id is free again, with nothing left of the old monitor.
		fresh := newRecord("m1", t0.Add(time.Hour))
		mustCreate(t, s, fresh)
		wantRecord(t, "Get after re-Create", mustGet(t, s, "m1"), fresh)
		if got := mustConsume(t, s, "m1", 1); len(got) != 0 {
			t.Fatalf("events of the re-created monitor = %v, want none", got)
		}
	}},
	{"EveryFinalStatus", func(t *testing.T, s monitor.Store) {
		// With the created time as Get returns it, or as Create was
		// given it (finer than the store may keep).
		for i, st := range []monitor.RuntimeStatus{monitor.RuntimeCompleted, monitor.RuntimeFailed, monitor.RuntimeTerminated} {
			id := "m-" + string(st)
			rec := newRecord(id, t0.Add(time.Duration(i)*time.Second))
			mustCreate(t, s, rec)
			mustFinish(t, s, id, finish(st, string(st), t0.Add(time.Minute)))
			created := rec.CreatedTime
			if i%2 == 1 {
				created = mustGet(t, s, id).CreatedTime
			}
			if err := s.DeleteFinished(ctx(t), id, created); err != nil {
				t.Fatalf("DeleteFinished of a %s record: %v", st, err)
			}
			_, err := s.Get(ctx(t), id)
			wantKind(t, "Get after DeleteFinished", err, monitor.KindNotFound)
		}
	}},
	{"KeepsWhatIsNotThatRecord", func(t *testing.T, s monitor.Store) {
		// Only the finished record created at the given time goes: a
		// live monitor, and another record of the id, are kept.
		for i, tc := range []struct {
			name    string
			created time.Time
			change  func(id string)
		}{
			{"pending", t0, nil},
			{"execution recorded", t0, func(id string) {
				if err := s.SetExecution(ctx(t), id, time.Time{}, "arn:aws:states:us-east-1:123456789012:execution:sm:"+id, t0); err != nil {
					t.Fatalf("SetExecution: %v", err)
				}
			}},
			{"running", t0, func(id string) { mustRecordCheck(t, s, id, checkUpdate(id, 1, t0.Add(time.Second))) }},
			{"finished, created at another time", t0.Add(-time.Millisecond), func(id string) {
				mustFinish(t, s, id, finish(monitor.RuntimeCompleted, monitor.FinalCompleted, t0.Add(time.Second)))
			}},
			{"live, created at another time", t0.Add(-time.Hour), nil},
		} {
			id := fmt.Sprintf("m%d", i)
			mustCreate(t, s, newRecord(id, t0))
			if tc.change != nil {
				tc.change(id)
			}
			before := mustGet(t, s, id)
			wantKind(t, "DeleteFinished ("+tc.name+")", s.DeleteFinished(ctx(t), id, tc.created), monitor.KindConflict)
			wantRecord(t, "record after a refused DeleteFinished ("+tc.name+")", mustGet(t, s, id), before)
		}
	}},
	{"Concurrent", func(t *testing.T, s monitor.Store) {
		// Of concurrent deletes of one finished record, one succeeds;
		// the others find nothing.
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		mustFinish(t, s, "m1", finish(monitor.RuntimeCompleted, monitor.FinalCompleted, t0.Add(time.Second)))
		deleted := 0
		for i, err := range race(10, func(int) error { return s.DeleteFinished(ctx(t), "m1", rec.CreatedTime) }) {
			switch {
			case err == nil:
				deleted++
			case !monitor.IsKind(err, monitor.KindNotFound):
				t.Errorf("DeleteFinished %d: %v; want success or %s", i, err, monitor.KindNotFound)
			}
		}
		if deleted != 1 {
			t.Errorf("%d of 10 concurrent DeleteFinished succeeded, want 1", deleted)
		}
	}},
	{"NotFound", func(t *testing.T, s monitor.Store) {
		wantKind(t, "DeleteFinished(missing)", s.DeleteFinished(ctx(t), "missing", t0), monitor.KindNotFound)
	}},
}

var releaseClaimTests = []test{
	{"Releases", func(t *testing.T, s monitor.Store) {
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		mustAddEvent(t, s, "m1", event("a", `{"x":1}`, t0))
		if err := s.ReleaseClaim(ctx(t), "m1", rec.CreatedTime); err != nil {
			t.Fatalf("ReleaseClaim: %v", err)
		}
		_, err := s.Get(ctx(t), "m1")
		wantKind(t, "Get after ReleaseClaim", err, monitor.KindNotFound)
		wantKind(t, "second ReleaseClaim", s.ReleaseClaim(ctx(t), "m1", rec.CreatedTime), monitor.KindNotFound)
		// The id is free again, with nothing left of the claim.
		fresh := newRecord("m1", t0.Add(time.Hour))
		mustCreate(t, s, fresh)
		if got := mustConsume(t, s, "m1", 1); len(got) != 0 {
			t.Fatalf("events of the re-created monitor = %v, want none", got)
		}
	}},
	{"KeepsWhatIsNotThatClaim", func(t *testing.T, s monitor.Store) {
		// Only a Pending record without an execution, created at the
		// given time, is an unstarted claim: anything else is kept.
		for _, tc := range []struct {
			name    string
			created time.Time
			change  func(id string)
		}{
			{"another claim of the id", t0.Add(time.Millisecond), nil},
			{"execution recorded", t0, func(id string) {
				if err := s.SetExecution(ctx(t), id, time.Time{}, "arn:aws:states:us-east-1:123456789012:execution:sm:"+id, t0); err != nil {
					t.Fatalf("SetExecution: %v", err)
				}
			}},
			{"checked", t0, func(id string) {
				if _, err := s.RecordCheck(ctx(t), id, checkUpdate(id, 1, t0.Add(time.Second))); err != nil {
					t.Fatalf("RecordCheck: %v", err)
				}
			}},
			{"finished", t0, func(id string) {
				mustFinish(t, s, id, finish(monitor.RuntimeTerminated, monitor.FinalTerminated, t0.Add(time.Second)))
			}},
		} {
			id := "m-" + strings.ReplaceAll(tc.name, " ", "-")
			mustCreate(t, s, newRecord(id, t0))
			if tc.change != nil {
				tc.change(id)
			}
			before := mustGet(t, s, id)
			wantKind(t, "ReleaseClaim ("+tc.name+")", s.ReleaseClaim(ctx(t), id, tc.created), monitor.KindConflict)
			wantRecord(t, "record after a refused ReleaseClaim ("+tc.name+")", mustGet(t, s, id), before)
		}
	}},
	{"Concurrent", func(t *testing.T, s monitor.Store) {
		// Of concurrent releases of one claim, one succeeds; the others
		// find nothing to release and never delete a new claim.
		rec := newRecord("m1", t0)
		mustCreate(t, s, rec)
		const n = 10
		var mu sync.Mutex
		released := 0
		errs := race(n, func(int) error {
			err := s.ReleaseClaim(ctx(t), "m1", rec.CreatedTime)
			if err == nil {
				mu.Lock()
				released++
				mu.Unlock()
				return nil
			}
			if monitor.IsKind(err, monitor.KindNotFound) {
				return nil
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("ReleaseClaim %d: %v", i, err)
			}
		}
		if released != 1 {
			t.Fatalf("%d of %d concurrent releases succeeded, want exactly 1", released, n)
		}
	}},
}

var timeTests = []test{
	{"RoundTrip", func(t *testing.T, s monitor.Store) {
		// Times given in another zone and with nanoseconds come back in
		// UTC, equal to at least the millisecond.
		zone := time.FixedZone("IST", 5*3600+1800)
		at := func(d time.Duration) time.Time { return t0.Add(d).In(zone) }
		rec := fullRecord("m1", at(0))
		rec.LastUpdatedTime = at(time.Second)
		rec.ExpiresAt = at(time.Hour)
		rec.CustomStatus.LastCheckTime = at(2 * time.Second)
		mustCreate(t, s, rec)
		got := mustGet(t, s, "m1")
		wantTime(t, "CreatedTime", got.CreatedTime, rec.CreatedTime)
		wantTime(t, "LastUpdatedTime", got.LastUpdatedTime, rec.LastUpdatedTime)
		wantTime(t, "ExpiresAt", got.ExpiresAt, rec.ExpiresAt)
		wantTime(t, "CustomStatus.LastCheckTime", got.CustomStatus.LastCheckTime, rec.CustomStatus.LastCheckTime)

		if err := s.SetExecution(ctx(t), "m1", time.Time{}, "arn:x", at(3*time.Second)); err != nil {
			t.Fatalf("SetExecution: %v", err)
		}
		wantTime(t, "LastUpdatedTime after SetExecution", mustGet(t, s, "m1").LastUpdatedTime, at(3*time.Second))

		u := checkUpdate("m1", 1, at(4*time.Second))
		u.CustomStatus.LastCheckTime, u.CustomStatus.NextCheckTime = at(4*time.Second), at(9*time.Second)
		mustRecordCheck(t, s, "m1", u)
		got = mustGet(t, s, "m1")
		wantTime(t, "LastUpdatedTime after RecordCheck", got.LastUpdatedTime, at(4*time.Second))
		wantTime(t, "CustomStatus.LastCheckTime after RecordCheck", got.CustomStatus.LastCheckTime, at(4*time.Second))
		wantTime(t, "CustomStatus.NextCheckTime after RecordCheck", got.CustomStatus.NextCheckTime, at(9*time.Second))

		mustAddEvent(t, s, "m1", event("a", "", at(5*time.Second)))
		wantTime(t, "Event.RaisedAt", mustGet(t, s, "m1").Events[0].RaisedAt, at(5*time.Second))

		st, _, err := s.ClaimAlert(ctx(t), "m1", time.Time{}, monitor.ChannelWebhook, at(6*time.Second))
		if err != nil {
			t.Fatalf("ClaimAlert: %v", err)
		}
		wantTime(t, "Alert.ClaimedAt (returned)", st.ClaimedAt, at(6*time.Second))
		if err := s.CompleteAlert(ctx(t), "m1", monitor.AlertResult{Sent: true, At: at(7 * time.Second)}); err != nil {
			t.Fatalf("CompleteAlert: %v", err)
		}
		got = mustGet(t, s, "m1")
		wantTime(t, "Alert.ClaimedAt", got.Alert.ClaimedAt, at(6*time.Second))
		wantTime(t, "Alert.SentAt", got.Alert.SentAt, at(7*time.Second))

		f := finish(monitor.RuntimeCompleted, monitor.FinalAlerted, at(8*time.Second))
		f.PurgeAt = at(30 * 24 * time.Hour)
		mustFinish(t, s, "m1", f)
		got = mustGet(t, s, "m1")
		wantTime(t, "LastUpdatedTime after Finish", got.LastUpdatedTime, at(8*time.Second))
		wantTime(t, "PurgeAt", got.PurgeAt, f.PurgeAt)
		wantTime(t, "CreatedTime at the end", got.CreatedTime, rec.CreatedTime)
	}},
	{"EventsOfCreate", func(t *testing.T, s monitor.Store) {
		// The events a record is created with come back in UTC, like
		// those AddEvent stores.
		zone := time.FixedZone("IST", 5*3600+1800)
		rec := newRecord("m1", t0)
		rec.Events = []monitor.Event{event("a", "", t0.Add(time.Second).In(zone))}
		mustCreate(t, s, rec)
		got := mustGet(t, s, "m1").Events
		if len(got) != 1 {
			t.Fatalf("Get().Events = %d events, want 1", len(got))
		}
		wantTime(t, "Event.RaisedAt", got[0].RaisedAt, rec.Events[0].RaisedAt)
	}},
	{"FarDates", func(t *testing.T, s monitor.Store) {
		// A monitor may run for a year; stores must not lose range.
		created := time.Date(1999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
		rec := newRecord("m1", created)
		rec.ExpiresAt = time.Date(2099, 1, 1, 0, 0, 0, 1_000_000, time.UTC)
		mustCreate(t, s, rec)
		got := mustGet(t, s, "m1")
		wantTime(t, "CreatedTime", got.CreatedTime, rec.CreatedTime)
		wantTime(t, "ExpiresAt", got.ExpiresAt, rec.ExpiresAt)
		p, err := s.List(ctx(t), monitor.ListQuery{CreatedFrom: created, CreatedTo: created.Add(ms)})
		if err != nil || len(p.Records) != 1 {
			t.Fatalf("List around a 1999 record = %d records, %v; want 1", len(p.Records), err)
		}
	}},
}
