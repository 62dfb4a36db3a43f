package checks

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCachedToken(t *testing.T) {
	calls := 0
	fail := false
	f := CachedToken(func(context.Context) (string, error) {
		calls++
		if fail {
			return "", errors.New("secretsmanager: unavailable")
		}
		return "t1", nil
	}, 20*time.Millisecond)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if tok, err := f(ctx); tok != "t1" || err != nil {
			t.Fatalf("token = %q, %v", tok, err)
		}
	}
	if calls != 1 {
		t.Errorf("calls = %d, want 1 within the ttl", calls)
	}
	time.Sleep(25 * time.Millisecond)
	fail = true
	if tok, err := f(ctx); tok != "t1" || err != nil || calls != 2 {
		t.Errorf("after a failed refresh: %q, %v, calls %d; want the last token", tok, err, calls)
	}
	g := CachedToken(func(context.Context) (string, error) { return "", errors.New("down") }, time.Minute)
	if _, err := g(ctx); err == nil {
		t.Error("first fetch failure not reported")
	}
}
