package awssecret

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Getter is the part of the Secrets Manager client the cache uses.
type Getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ Getter = (*secretsmanager.Client)(nil)

// DefaultTTL is how long a value is reused before it is read again.
const DefaultTTL = 5 * time.Minute

// ReadTimeout bounds one read of a secret, whatever the caller's
// deadline: Secrets Manager answers in well under a second, and a read that
// gets no answer must not hold a check or an alert until its function is
// killed.
const ReadTimeout = 5 * time.Second

// refreshBackoff is how long a value is reused after a failed refresh
// before the secret is read again, so that an outage costs one slow read
// per period, not one per call.
const refreshBackoff = 30 * time.Second

// Cache reads one secret's string value and keeps it for TTL.
type Cache struct {
	client Getter
	arn    string
	ttl    time.Duration
	now    func() time.Time

	timeout time.Duration // of one read: ReadTimeout

	mu      sync.Mutex
	value   string
	fetched time.Time
	invalid bool // Invalidate was called after the value was read
	// retryAt is when a read may be tried again after one failed:
	// Invalidate does not hasten it.
	retryAt time.Time
}

// New returns a Cache of the secret arn; ttl 0 means DefaultTTL.
func New(client Getter, arn string, ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Cache{client: client, arn: arn, ttl: ttl, timeout: ReadTimeout, now: time.Now}
}

// Value returns the secret's string value, from the cache while it is
// fresh. A read takes ReadTimeout at most. A failed read with a cached
// value at hand returns that value, and the secret is not read again for
// refreshBackoff, so a Secrets Manager outage, even one where calls get no
// answer, does not fail or stall checks and alerts.
func (c *Cache) Value(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.fetched.IsZero() && (!c.invalid || now.Before(c.retryAt)) && now.Sub(c.fetched) < c.ttl {
		return c.value, nil
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	out, err := c.client.GetSecretValue(rctx, &secretsmanager.GetSecretValueInput{SecretId: &c.arn})
	if err != nil {
		if !c.fetched.IsZero() {
			// Fresh again refreshBackoff from now, an invalidated
			// value too: a failing store is not asked at every call,
			// nor at every Invalidate.
			c.fetched, c.invalid = now.Add(refreshBackoff-c.ttl), false
			c.retryAt = now.Add(refreshBackoff)
			return c.value, nil
		}
		return "", fmt.Errorf("awssecret: read %s: %w", c.arn, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("awssecret: %s has no string value", c.arn)
	}
	c.value, c.fetched, c.invalid = *out.SecretString, now, false
	return c.value, nil
}

// Invalidate makes the next Value read the secret again, however fresh
// the cached value is: the caller learnt that the value is no longer
// accepted (a rotated token). Should that read fail, Value still returns
// the cached value; within refreshBackoff of a failed read, the read
// waits for the back-off to end.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalid = true
}
