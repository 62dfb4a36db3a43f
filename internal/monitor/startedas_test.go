package monitor

import (
	"testing"
	"time"
)

// startedAs tells a record of the monitor that started at a time from a
// later monitor of the same id, to the microsecond (the precision of the
// API's times and of the coarsest store); the zero time names any record
// of the id, as the stores read it: an execution whose state carries no
// start time is not taken for another monitor's.
func TestStartedAs(t *testing.T) {
	created := time.Date(2026, 11, 21, 12, 0, 0, 123456000, time.UTC)
	rec := Record{InstanceID: "x", CreatedTime: created}
	for _, tt := range []struct {
		name      string
		startedAt time.Time
		want      bool
	}{
		{"the same time", created, true},
		{"within the microsecond", created.Add(999 * time.Nanosecond), true},
		{"the same time in another zone", created.In(time.FixedZone("UTC+2", 2*3600)), true},
		{"a microsecond later", created.Add(time.Microsecond), false},
		{"an hour earlier", created.Add(-time.Hour), false},
		{"zero: any record", time.Time{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := startedAs(rec, tt.startedAt); got != tt.want {
				t.Errorf("startedAs(record created %s, %s) = %v, want %v", created, tt.startedAt, got, tt.want)
			}
		})
	}
}
