package egress

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		value string
		at    time.Time
		ok    bool
	}{
		{"", time.Time{}, false},
		{"30", now.Add(30 * time.Second), true},
		{" 5 ", now.Add(5 * time.Second), true},
		{"-1", time.Time{}, false},
		{"Fri, 02 Jan 2026 15:05:00 GMT", time.Date(2026, 1, 2, 15, 5, 0, 0, time.UTC), true},
		{"soon", time.Time{}, false},
		{"+5", time.Time{}, false},
		// Delays that would overflow a time.Duration are capped.
		{"9999999999999", now.Add(maxRetryAfter), true},
		{"99999999999999999999999", now.Add(maxRetryAfter), true},
	} {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		at, ok := RetryAfter(h, now)
		if ok != tt.ok || !at.Equal(tt.at) {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.value, at, ok, tt.at, tt.ok)
		}
	}
}
