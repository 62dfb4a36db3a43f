package monitor_test

import (
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
)

// An interval above the backoff's cap can only come from a setInterval
// event; the backoff neither lowers it to the cap nor grows it.
func TestNextIntervalAboveTheCap(t *testing.T) {
	spec := monitor.Spec{PollingIntervalSeconds: 10, Backoff: &monitor.Backoff{Multiplier: 2, MaxIntervalSeconds: 600}}
	tests := []struct {
		name    string
		current int
		want    int
	}{
		{"below the cap grows", 200, 400},
		{"growth is capped", 400, 600},
		{"at the cap stays", 600, 600},
		{"above the cap stays", 3600, 3600},
		{"just above the cap stays", 601, 601},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spec.NextInterval(tt.current); got != tt.want {
				t.Errorf("NextInterval(%d) = %d, want %d", tt.current, got, tt.want)
			}
		})
	}
}
