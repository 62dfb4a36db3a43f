package alerts

import (
	"context"
	"sync"
	"time"
)

// CachedTwilioCredentials wraps f so that it is called at most once per
// ttl; when a refresh fails, the last credentials are used until a refresh
// succeeds. Main wraps its Secrets Manager read with it.
func CachedTwilioCredentials(f func(ctx context.Context) (TwilioCredentials, error), ttl time.Duration) func(ctx context.Context) (TwilioCredentials, error) {
	var (
		mu      sync.Mutex
		creds   TwilioCredentials
		fetched time.Time
		ok      bool
	)
	return func(ctx context.Context) (TwilioCredentials, error) {
		mu.Lock()
		defer mu.Unlock()
		if ok && time.Since(fetched) < ttl {
			return creds, nil
		}
		c, err := f(ctx)
		if err != nil {
			if ok {
				return creds, nil
			}
			return TwilioCredentials{}, err
		}
		creds, fetched, ok = c, time.Now(), true
		return creds, nil
	}
}
