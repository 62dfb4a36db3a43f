package engine_test

import (
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// A Map state runs at most as many iterations at once as its mode allows
// (AWS: 40 for INLINE, 10,000 child workflows for DISTRIBUTED; lowered
// here to 2 and 3), whatever its MaxConcurrency: 0 means that ceiling,
// not one goroutine per item. On the virtual clock, six one-second waits
// two at a time take three seconds.
func TestMapConcurrencyCeiling(t *testing.T) {
	mapOf := func(mode, maxConc string) string {
		return `{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "MaxConcurrency": ` + maxConc + `,
			"ItemProcessor": {"ProcessorConfig": {"Mode": "` + mode + `", "ExecutionType": "STANDARD"},
				"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}}}}}`
	}
	tests := []struct {
		name, def string
		took      time.Duration
	}{
		{"inline, MaxConcurrency 0", mapOf("INLINE", "0"), 3 * time.Second},
		{"inline, MaxConcurrency above the ceiling", mapOf("INLINE", "5"), 3 * time.Second},
		{"inline, MaxConcurrency below the ceiling", mapOf("INLINE", "1"), 6 * time.Second},
		{"distributed, MaxConcurrency 0", mapOf("DISTRIBUTED", "0"), 2 * time.Second},
		{"distributed, MaxConcurrency above the ceiling", mapOf("DISTRIBUTED", "6"), 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			o := engine.WithMapConcurrency(engine.Options{Clock: engine.NewVirtualClock(start)}, 2, 3)
			eng := newEngine(t, o)
			x := run(t, eng, create(t, eng, tt.def).Arn, "x", `[1, 2, 3, 4, 5, 6]`)
			if x.Status != engine.StatusSucceeded {
				t.Fatalf("status = %s (%s: %s), want SUCCEEDED", x.Status, x.Error, x.Cause)
			}
			if got := x.StopDate.Sub(x.StartDate); got != tt.took {
				t.Errorf("the execution took %v of virtual time, want %v", got, tt.took)
			}
		})
	}
}
