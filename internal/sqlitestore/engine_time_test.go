package sqlitestore

import (
	"math"
	"testing"
	"time"
)

// Times are stored as Unix nanoseconds, the zero time as 0, and read back
// in UTC; a time beyond what nanoseconds hold is stored as the nearest
// one they hold, so that it stays on its side of every other time.
func TestEngineNanos(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		in   time.Time
		want int64
		back time.Time // what engineTime returns for want
	}{
		{"zero", time.Time{}, 0, time.Time{}},
		{"a date", t0, t0.UnixNano(), t0.UTC()},
		{"the epoch's first nanosecond", time.Unix(0, 1), 1, time.Unix(0, 1).UTC()},
		{"after 2262", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), math.MaxInt64, time.Unix(0, math.MaxInt64).UTC()},
		{"before 1677", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64, time.Unix(0, math.MinInt64).UTC()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := engineNanos(tt.in)
			if got != tt.want {
				t.Errorf("engineNanos(%v) = %d, want %d", tt.in, got, tt.want)
			}
			back := engineTime(got)
			if !back.Equal(tt.back) || back.IsZero() != tt.back.IsZero() {
				t.Errorf("engineTime(%d) = %v, want %v", got, back, tt.back)
			}
			if !back.IsZero() && back.Location() != time.UTC {
				t.Errorf("engineTime(%d) is in %v, want UTC", got, back.Location())
			}
		})
	}
}
