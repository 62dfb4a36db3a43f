package awssecret

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
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
	runCacheSteps(t, []string{"one", "two"}, time.Minute, []cacheStep{
		{0, false, false, "one", 1},
		{30 * time.Second, false, false, "one", 1}, // fresh: cached
		{31 * time.Second, false, false, "two", 2}, // stale: re-read (rotation)
		{2 * time.Minute, false, true, "two", 3},   // read fails: keep the last value
	})
}

// cacheStep is one call of Value: the clock moves on by advance, the
// cache is invalidated first when invalidate is set, reads fail from the
// first step with fail set, and the call returns want after wantCalls
// reads in all.
type cacheStep struct {
	advance          time.Duration
	invalidate, fail bool
	want             string
	wantCalls        int
}

// runCacheSteps runs steps on a Cache of ttl whose reads answer values in
// turn.
func runCacheSteps(t *testing.T, values []string, ttl time.Duration, steps []cacheStep) {
	t.Helper()
	g := &fakeGetter{values: values}
	c := New(g, "arn:aws:secretsmanager:us-east-1:123456789012:secret:gh", ttl)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	for i, s := range steps {
		now = now.Add(s.advance)
		if s.invalidate {
			c.Invalidate()
		}
		if s.fail {
			g.err = errors.New("throttled")
		}
		got, err := c.Value(context.Background())
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
	runCacheSteps(t, []string{"old", "new"}, time.Hour, []cacheStep{
		{0, false, false, "old", 1},
		{time.Second, false, false, "old", 1}, // fresh: cached
		{time.Second, true, false, "new", 2},  // invalidated: read again
		{time.Second, false, false, "new", 2}, // fresh again
		{time.Second, true, true, "new", 3},   // invalidated, read fails: the cached value
		{time.Second, false, true, "new", 3},  // then backs off as any failed refresh does
	})
}

// stallGetter answers its first call with "tok" and then stalls every
// call until its context ends, as a Secrets Manager call that gets no
// answer does.
type stallGetter struct{ calls int }

func (g *stallGetter) GetSecretValue(ctx context.Context, _ *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	g.calls++
	if g.calls == 1 {
		v := "tok"
		return &secretsmanager.GetSecretValueOutput{SecretString: &v}, nil
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// A read that stalls is cut short, whatever the caller's deadline (a
// Lambda invocation's minute or more): with a value at hand, the value is
// returned and the read not tried again for refreshBackoff. The test runs
// in a synctest bubble, so its time is the fake clock's: a read cut short
// at the timeout took exactly c.timeout.
func TestCacheStalledRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &stallGetter{}
		c := New(g, "arn:x", time.Minute)
		c.timeout = 50 * time.Millisecond
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		c.now = func() time.Time { return now }
		if v, err := c.Value(context.Background()); err != nil || v != "tok" {
			t.Fatalf("first Value = %q, %v", v, err)
		}
		steps := []struct {
			advance   time.Duration
			wantCalls int
			wantWait  time.Duration
		}{
			{2 * time.Minute, 2, c.timeout},              // stale: the refresh stalls, is cut short
			{time.Second, 2, 0},                          // within the back-off: not read
			{refreshBackoff - time.Second, 3, c.timeout}, // the back-off over: read again
		}
		for i, s := range steps {
			now = now.Add(s.advance)
			// A rejected value (a GitHub 401 at every check) does not hasten
			// the read the back-off holds.
			c.Invalidate()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			start := time.Now()
			v, err := c.Value(ctx)
			cancel()
			if d := time.Since(start); d != s.wantWait {
				t.Errorf("step %d: Value returned after %v with a value at hand, want %v", i, d, s.wantWait)
			}
			if v != "tok" || err != nil || g.calls != s.wantCalls {
				t.Errorf("step %d: Value = %q, %v after %d calls; want \"tok\" after %d", i, v, err, g.calls, s.wantCalls)
			}
		}

		// With no value at hand, a stalled read fails at the timeout.
		c = New(&stallGetter{calls: 1}, "arn:x", time.Minute)
		c.timeout = 50 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := c.Value(ctx); err == nil || !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || time.Since(start) != c.timeout {
			t.Errorf("first read stalled: Value = %v after %v; want the read's deadline error at the timeout", err, time.Since(start))
		}
	})
}

// A value is fresh for less than its TTL: at the TTL it is read again.
// A TTL of 0 is DefaultTTL.
func TestCacheTTLEdges(t *testing.T) {
	runCacheSteps(t, []string{"one", "two"}, time.Minute, []cacheStep{
		{0, false, false, "one", 1},
		{time.Minute - time.Nanosecond, false, false, "one", 1},
		{time.Nanosecond, false, false, "two", 2},
	})
	runCacheSteps(t, []string{"one", "two"}, 0, []cacheStep{
		{0, false, false, "one", 1},
		{DefaultTTL - time.Second, false, false, "one", 1},
		{time.Second, false, false, "two", 2},
	})
}

// getterFunc is a Getter of one function.
type getterFunc func() (*secretsmanager.GetSecretValueOutput, error)

func (f getterFunc) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f()
}

// A secret stored as binary has no string value to give: an error that
// names the secret, not an empty token.
func TestCacheBinarySecret(t *testing.T) {
	c := New(getterFunc(func() (*secretsmanager.GetSecretValueOutput, error) {
		return &secretsmanager.GetSecretValueOutput{SecretBinary: []byte{1, 2}}, nil
	}), "arn:aws:secretsmanager:us-east-1:123456789012:secret:bin", 0)
	v, err := c.Value(context.Background())
	if err == nil || !strings.Contains(err.Error(), "secret:bin has no string value") {
		t.Errorf("Value of a binary secret = %q, %v; want an error saying it has no string value", v, err)
	}
}
