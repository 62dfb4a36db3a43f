package dynamostore_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// consumeHookTransport runs hook, once, before it forwards the next
// ConsumeEvents write (the UpdateItem that sets the event list).
type consumeHookTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	hook func()
}

func (c *consumeHookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := updateItemBody(r)
	if err != nil {
		return nil, err
	}
	if bytes.Contains(body, []byte(`"SET #ev = :evs`)) {
		c.mu.Lock()
		hook := c.hook
		c.hook = nil
		c.mu.Unlock()
		if hook != nil {
			hook()
		}
	}
	return c.base.RoundTrip(r)
}

// consumeStores returns two stores on one new table: a, whose
// ConsumeEvents writes go through ht, and b, another check's.
func consumeStores(t *testing.T, endpoint string, client *dynamodb.Client) (a, b *dynamostore.Store, ht *consumeHookTransport) {
	t.Helper()
	table := newTable(t, client)
	cfg := motoConfig(endpoint)
	ht = &consumeHookTransport{base: cfg.HTTPClient.(*http.Client).Transport}
	cfg.HTTPClient = &http.Client{Transport: ht}
	return dynamostore.New(dynamodb.NewFromConfig(cfg), table), dynamostore.New(client, table), ht
}

// Of two checks consuming events at once, each event goes to one: when
// another check's write lands between a ConsumeEvents' read and its
// write, the write fails and is made again from the record as it is
// now. That holds for the first write of an event list (no version yet)
// and when appends meanwhile have brought the list back to the size
// read.
func testConsumeRace(t *testing.T, endpoint string, client *dynamodb.Client) {
	ctx := t.Context()
	a, b, ht := consumeStores(t, endpoint, client)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	if err := b.Create(ctx, monitor.Record{InstanceID: "m1", Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	add := func(name string) {
		t.Helper()
		if err := b.AddEvent(ctx, "m1", monitor.Event{Name: name, RaisedAt: t0}); err != nil {
			t.Fatalf("AddEvent(%s): %v", name, err)
		}
	}
	names := func(evs []monitor.Event) []string {
		var out []string
		for _, ev := range evs {
			out = append(out, ev.Name)
		}
		return out
	}
	for _, round := range []struct {
		name           string
		add            []string // before check a
		between        []string // added after check b's write
		checkB, checkA int
		wantB, wantA   []string
	}{
		{"first write", []string{"e1"}, nil, 1, 2, []string{"e1"}, nil},
		{"list back at its size", []string{"e2"}, []string{"e3"}, 3, 4, []string{"e2"}, []string{"e3"}},
	} {
		for _, n := range round.add {
			add(n)
		}
		var gotB []monitor.Event
		ht.mu.Lock()
		ht.hook = func() {
			var err error
			if gotB, err = b.ConsumeEvents(ctx, "m1", time.Time{}, round.checkB); err != nil {
				t.Errorf("%s: ConsumeEvents(%d) between: %v", round.name, round.checkB, err)
			}
			for _, n := range round.between {
				add(n)
			}
		}
		ht.mu.Unlock()
		gotA, err := a.ConsumeEvents(ctx, "m1", time.Time{}, round.checkA)
		if err != nil {
			t.Fatalf("%s: ConsumeEvents(%d): %v", round.name, round.checkA, err)
		}
		if !slices.Equal(names(gotB), round.wantB) || !slices.Equal(names(gotA), round.wantA) {
			t.Errorf("%s: check %d got %v and check %d %v, want %v and %v", round.name,
				round.checkB, names(gotB), round.checkA, names(gotA), round.wantB, round.wantA)
		}
	}
}

// A ConsumeEvents whose write keeps failing retries from the record as
// it is now. Appends alone never make it give up (they stop at the
// list's cap); other checks' writes do, after ten in a row, with
// KindUnavailable.
func testConsumeGivesUp(t *testing.T, endpoint string, client *dynamodb.Client) {
	ctx := t.Context()
	a, b, ht := consumeStores(t, endpoint, client)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, id := range []string{"appends", "checks"} {
		if err := b.Create(ctx, monitor.Record{InstanceID: id, Name: "JobMonitor", RuntimeStatus: monitor.RuntimeRunning, CreatedTime: t0}); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if err := b.AddEvent(ctx, id, monitor.Event{Name: "e0", RaisedAt: t0}); err != nil {
			t.Fatalf("AddEvent: %v", err)
		}
	}
	// before arms the hook to run step before each of the next n
	// writes of a.
	before := func(n int, step func(i int)) {
		i := 0
		var hook func()
		hook = func() {
			i++
			step(i)
			if i < n {
				ht.mu.Lock()
				ht.hook = hook
				ht.mu.Unlock()
			}
		}
		ht.mu.Lock()
		ht.hook = hook
		ht.mu.Unlock()
	}
	before(12, func(i int) {
		if err := b.AddEvent(ctx, "appends", monitor.Event{Name: fmt.Sprintf("a%d", i), RaisedAt: t0}); err != nil {
			t.Errorf("AddEvent: %v", err)
		}
	})
	if evs, err := a.ConsumeEvents(ctx, "appends", time.Time{}, 1); err != nil || len(evs) != 13 {
		t.Errorf("ConsumeEvents with an append before each of 12 writes = %d events, %v; want 13", len(evs), err)
	}
	// Each time, the other check takes the pending event and a new one
	// comes, so that there is always one for a to write.
	before(12, func(i int) {
		if _, err := b.ConsumeEvents(ctx, "checks", time.Time{}, i); err != nil {
			t.Errorf("ConsumeEvents(%d): %v", i, err)
		}
		if err := b.AddEvent(ctx, "checks", monitor.Event{Name: fmt.Sprintf("c%d", i), RaisedAt: t0}); err != nil {
			t.Errorf("AddEvent: %v", err)
		}
	})
	if evs, err := a.ConsumeEvents(ctx, "checks", time.Time{}, 20); monitor.KindOf(err) != monitor.KindUnavailable {
		t.Errorf("ConsumeEvents with another check's write before each of 12 writes = %d events, %v; want kind %s", len(evs), err, monitor.KindUnavailable)
	}
}
