package engine

import (
	"math"
	"testing"
	"time"
)

// TestWakeTime: a timer's compact wake-up time never falls due before
// the time it stands for, keeps the order of times, and reaches past
// 2262 (a retry interval's saturated Duration) and back to the zero time.
func TestWakeTime(t *testing.T) {
	base := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		at   time.Time
	}{
		{"whole microsecond", base.Add(1500 * time.Microsecond)},
		{"a nanosecond past", base.Add(time.Microsecond + time.Nanosecond)},
		{"a nanosecond short", base.Add(time.Microsecond - time.Nanosecond)},
		{"zero time", time.Time{}},
		{"beyond 2262", base.Add(time.Duration(math.MaxInt64))},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := wakeOf(tt.at)
			if back := w.time(); back.Before(tt.at) || back.Sub(tt.at) >= time.Microsecond {
				t.Errorf("wakeOf(%v).time() = %v, want at or within a microsecond after", tt.at, back)
			}
			if clockOf(tt.at.Add(-time.Nanosecond)) >= w {
				t.Errorf("a clock a nanosecond before %v reads as due", tt.at)
			}
			if clockOf(tt.at) > w || clockOf(tt.at.Add(time.Microsecond)) < w {
				t.Errorf("a clock at %v, or a microsecond after it, reads as not due", tt.at)
			}
			if w == noWake {
				t.Errorf("wakeOf(%v) is noWake", tt.at)
			}
		})
	}
	if !(wakeOf(time.Time{}) < wakeOf(base) && wakeOf(base) < wakeOf(base.Add(time.Duration(math.MaxInt64)))) {
		t.Error("wake-up times out of order")
	}
}
