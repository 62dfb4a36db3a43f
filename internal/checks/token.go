package checks

import (
	"context"
	"sync"
	"time"
)

// CachedToken wraps f so that it is called at most once per ttl; when a
// refresh fails, the last token is used until a refresh succeeds. Main
// wraps its Secrets Manager read with it, so that polls do not each read
// the secret.
func CachedToken(f TokenFunc, ttl time.Duration) TokenFunc {
	var (
		mu      sync.Mutex
		token   string
		fetched time.Time
		ok      bool
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if ok && time.Since(fetched) < ttl {
			return token, nil
		}
		t, err := f(ctx)
		if err != nil {
			if ok {
				return token, nil
			}
			return "", err
		}
		token, fetched, ok = t, time.Now(), true
		return token, nil
	}
}
