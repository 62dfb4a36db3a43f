package deadline

import (
	"context"
	"testing"
	"time"
)

func TestKept(t *testing.T) {
	for _, tc := range []struct {
		name          string
		reserve, left time.Duration
		want          time.Duration
	}{
		{"plenty left", 2 * time.Second, 15 * time.Second, 2 * time.Second},
		{"exactly twice", 2 * time.Second, 4 * time.Second, 2 * time.Second},
		{"less than twice: half", 2 * time.Second, 3 * time.Second, 1500 * time.Millisecond},
		{"no reserve", 0, 15 * time.Second, 0},
		{"deadline passed", 2 * time.Second, -time.Second, 0},
		{"deadline passed, no reserve", 0, -time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kept(tc.reserve, tc.left); got != tc.want {
				t.Errorf("kept(%v, %v) = %v, want %v", tc.reserve, tc.left, got, tc.want)
			}
		})
	}
}

func TestReserve(t *testing.T) {
	ctx, cancel := Reserve(context.Background(), time.Second)
	defer cancel()
	if _, ok := ctx.Deadline(); ok {
		t.Error("a context without a deadline got one")
	}

	deadline := time.Now().Add(time.Hour)
	parent, pcancel := context.WithDeadline(context.Background(), deadline)
	defer pcancel()
	ctx, cancel = Reserve(parent, time.Minute)
	defer cancel()
	if got, _ := ctx.Deadline(); !got.Equal(deadline.Add(-time.Minute)) {
		t.Errorf("deadline = %v, want a minute before %v", got, deadline)
	}

	// A deadline already past stays where it is, and the context ended.
	past := time.Now().Add(-time.Minute)
	parent, pcancel = context.WithDeadline(context.Background(), past)
	defer pcancel()
	ctx, cancel = Reserve(parent, time.Second)
	defer cancel()
	if got, _ := ctx.Deadline(); !got.Equal(past) {
		t.Errorf("past deadline: deadline = %v, want %v", got, past)
	}
	if ctx.Err() == nil {
		t.Error("past deadline: the context has not ended")
	}
}

func TestDetached(t *testing.T) {
	parent, pcancel := context.WithCancel(context.Background())
	ctx, cancel := Detached(parent, time.Second, time.Hour)
	defer cancel()
	pcancel()
	if ctx.Err() != nil {
		t.Error("cancelled with its parent")
	}
	if got, ok := ctx.Deadline(); !ok || time.Until(got) > time.Hour {
		t.Errorf("deadline = %v, %v; want at most an hour from now", got, ok)
	}

	deadline := time.Now().Add(time.Hour)
	parent, pcancel = context.WithDeadline(context.Background(), deadline)
	defer pcancel()
	ctx, cancel = Detached(parent, time.Second, 2*time.Hour)
	defer cancel()
	if got, _ := ctx.Deadline(); !got.Equal(deadline.Add(-time.Second)) {
		t.Errorf("deadline = %v, want a second before %v", got, deadline)
	}

	// A caller's deadline later than the limit: the limit bounds it.
	parent, pcancel = context.WithDeadline(context.Background(), time.Now().Add(2*time.Hour))
	defer pcancel()
	ctx, cancel = Detached(parent, time.Second, time.Hour)
	defer cancel()
	if got, _ := ctx.Deadline(); got.After(time.Now().Add(time.Hour)) {
		t.Errorf("deadline = %v, want at most an hour from now, not the caller's two hours less a second", got)
	}

	// A deadline already past is not moved later by the reserve.
	past := time.Now().Add(-time.Minute)
	parent, pcancel = context.WithDeadline(context.Background(), past)
	defer pcancel()
	ctx, cancel = Detached(parent, time.Second, time.Hour)
	defer cancel()
	if got, _ := ctx.Deadline(); got.After(past) {
		t.Errorf("deadline = %v, want no later than the caller's %v", got, past)
	}
}
