package checks

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads an answer's Retry-After header, delay seconds or an
// HTTP date, as the time from which to try again; ok is false when it is
// absent or unreadable.
func RetryAfter(h http.Header, now time.Time) (at time.Time, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return time.Time{}, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return now.Add(time.Duration(s) * time.Second), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t, true
	}
	return time.Time{}, false
}
