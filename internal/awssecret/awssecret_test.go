package awssecret

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type fakeGetter struct {
	calls  int
	values []string
	err    error
}

func (f *fakeGetter) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	v := f.values[min(f.calls-1, len(f.values)-1)]
	return &secretsmanager.GetSecretValueOutput{SecretString: &v}, nil
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	g := &fakeGetter{values: []string{"one", "two"}}
	c := New(g, "arn:aws:secretsmanager:us-east-1:123456789012:secret:gh", time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }

	steps := []struct {
		advance   time.Duration
		fail      bool
		want      string
		wantCalls int
	}{
		{0, false, "one", 1},
		{30 * time.Second, false, "one", 1}, // fresh: cached
		{31 * time.Second, false, "two", 2}, // stale: re-read (rotation)
		{2 * time.Minute, true, "two", 3},   // read fails: keep the last value
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if s.fail {
			g.err = errors.New("throttled")
		}
		got, err := c.Value(ctx)
		if err != nil {
			t.Fatalf("step %d: Value: %v", i, err)
		}
		if got != s.want || g.calls != s.wantCalls {
			t.Errorf("step %d: Value = %q after %d calls, want %q after %d", i, got, g.calls, s.want, s.wantCalls)
		}
	}
}

func TestCacheFirstReadFails(t *testing.T) {
	g := &fakeGetter{err: errors.New("AccessDenied")}
	c := New(g, "arn:x", 0)
	if _, err := c.Value(context.Background()); err == nil {
		t.Fatal("Value succeeded with no value and a failing read")
	}
}

// Invalidate makes the next Value read the secret however fresh the cached
// value is; a failed read then still returns the cached value.
func TestCacheInvalidate(t *testing.T) {
	ctx := context.Background()
	g := &fakeGetter{values: []string{"old", "new"}}
	c := New(g, "arn:x", time.Hour)
	for i, s := range []struct {
		invalidate, fail bool
		want             string
		wantCalls        int
	}{
		{false, false, "old", 1},
		{false, false, "old", 1}, // fresh: cached
		{true, false, "new", 2},  // invalidated: read again
		{false, false, "new", 2}, // fresh again
		{true, true, "new", 3},   // invalidated, read fails: the cached value
	} {
		if s.invalidate {
			c.Invalidate()
		}
		if s.fail {
			g.err = errors.New("throttled")
		}
		got, err := c.Value(ctx)
		if err != nil {
			t.Fatalf("step %d: Value: %v", i, err)
		}
		if got != s.want || g.calls != s.wantCalls {
			t.Errorf("step %d: Value = %q after %d calls, want %q after %d", i, got, g.calls, s.want, s.wantCalls)
		}
	}
}
