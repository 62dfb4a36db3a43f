package egress

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter bounds a delay in seconds, far beyond any monitor's life,
// so that a huge value cannot overflow into a time in the past.
const maxRetryAfter = 100 * 365 * 24 * time.Hour

// RetryAfter reads an answer's Retry-After header, delay seconds or an
// HTTP date, as the time from which to try again; ok is false when it is
// absent or unreadable. Delays in seconds are clamped to maxRetryAfter
// (100 years, against overflow); dates are returned as given. Callers
// bound how long they hold off (checks.MaxRetryAfter).
func RetryAfter(h http.Header, now time.Time) (at time.Time, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return time.Time{}, false
	}
	if s, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || s > uint64(maxRetryAfter/time.Second) {
			return now.Add(maxRetryAfter), true
		}
		return now.Add(time.Duration(s) * time.Second), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t, true
	}
	return time.Time{}, false
}
