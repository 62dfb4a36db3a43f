package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
)

// copyingStore is a MemStore that copies the committed events and run
// state, as the SQLite store encodes them, and so lets the engine reuse
// their memory.
type copyingStore struct{ *MemStore }

func (s copyingStore) CopiesTransitions() bool { return true }

func (s copyingStore) Commit(ctx context.Context, t Transition) error {
	t.Events, t.RunState = slices.Clone(t.Events), slices.Clone(t.RunState)
	return s.MemStore.Commit(ctx, t)
}

// With a store that copies events, the engine recycles the memory of
// committed events; the histories must be those of an engine that does
// not, event for event, with many executions committing at once and a
// task's scheduling events committed together with its result.
func TestReusedEventChunks(t *testing.T) {
	const loops, executions = 25, 16
	def := fmt.Sprintf(`{"StartAt": "P", "States": {
		"P": {"Type": "Pass", "Parameters": {"n.$": "$.n", "x.$": "$$.Execution.Name"}, "Next": "T"},
		"T": {"Type": "Task", "Resource": "arn:aws:states:::count", "Next": "C"},
		"C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": %d, "Next": "Done"}], "Default": "W"},
		"W": {"Type": "Wait", "Seconds": 1, "Next": "P"},
		"Done": {"Type": "Succeed"}}}`, loops)
	run := func(t *testing.T, store Store) map[string][]string {
		var histories map[string][]string
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			d := NewDispatcher()
			d.Handle("arn:aws:states:::count", Route{Handler: func(ctx context.Context, req TaskRequest) (any, error) {
				in := req.Input.(map[string]any)
				return map[string]any{"n": in["n"].(float64) + 1, "x": in["x"], "pad": strings.Repeat("p", int(in["n"].(float64)))}, nil
			}})
			eng := New(Options{Store: store, Dispatcher: d})
			defer eng.Close()
			sm, err := eng.CreateStateMachine(ctx, "m", def, "")
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			histories = map[string][]string{}
			for i := range executions {
				wg.Go(func() {
					name := fmt.Sprintf("x%02d", i)
					x, err := eng.StartExecution(ctx, sm.Arn, name, `{"n": 0}`)
					if err == nil {
						x, err = eng.Wait(ctx, x.Arn)
					}
					if err != nil || x.Status != StatusSucceeded {
						t.Errorf("%s: %+v, %v", name, x, err)
						return
					}
					hist, err := eng.History(ctx, x.Arn)
					if err != nil {
						t.Errorf("%s: History: %v", name, err)
						return
					}
					var lines []string
					for _, ev := range hist {
						ev.Timestamp = ev.Timestamp.UTC().Truncate(0)
						b, err := ev.MarshalJSON()
						if err != nil {
							t.Errorf("%s: event %d: %v", name, ev.ID, err)
						}
						lines = append(lines, string(b))
					}
					mu.Lock()
					histories[name] = lines
					mu.Unlock()
				})
			}
			wg.Wait()
		})
		return histories
	}
	want := run(t, NewMemStore())
	got := run(t, copyingStore{NewMemStore()})
	if len(want) != executions || len(got) != executions {
		t.Fatalf("%d and %d histories, want %d each", len(want), len(got), executions)
	}
	for name, w := range want {
		if len(w) < 8*loops {
			t.Fatalf("%s: %d events, want at least %d", name, len(w), 8*loops)
		}
		g := got[name]
		for i := range max(len(w), len(g)) {
			if i >= len(w) || i >= len(g) || g[i] != w[i] {
				t.Fatalf("%s: histories differ at event %d (%d and %d events):\n got %s\nwant %s",
					name, i+1, len(g), len(w), at(g, i), at(w, i))
			}
		}
	}
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(none)"
}
