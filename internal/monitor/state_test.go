package monitor_test

import (
	"fmt"
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

// TruncateBytes, which every message that echoes input uses, keeps within
// n bytes, "…" included, and cuts on a character boundary.
func TestTruncateBytes(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven byte", 10, "eleven …"},
		{"ééééé", 8, "éé…"}, // 10 bytes; a cut at 5 would split an é
		{"abcdef", 2, "…"},  // below len("…"): only the mark
	}
	for _, tt := range tests {
		got := monitor.TruncateBytes(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("TruncateBytes(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// The backoff rounds the product up to a whole second, without the
// floating-point error of the multiplication pushing an exact product
// (100 × 1.1 = 110.00000000000001) up a second.
func TestNextIntervalRoundsAwayFloatError(t *testing.T) {
	tests := []struct {
		current    int
		multiplier float64
		want       int
	}{
		{100, 1.1, 110},
		{225, 1.08, 243},
		{50, 1.1, 55},
		{200, 1.1, 220},
		{10, 1.1, 11},
		{7, 1.5, 11},      // 10.5: a real fraction still rounds up
		{3, 1.01, 4},      // 3.03
		{100, 1.001, 101}, // 100.1
		{600, 1, 600},
		{1, 10, 10},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d×%g", tt.current, tt.multiplier), func(t *testing.T) {
			spec := monitor.Spec{PollingIntervalSeconds: tt.current, Backoff: &monitor.Backoff{Multiplier: tt.multiplier, MaxIntervalSeconds: 86400}}
			if got := spec.NextInterval(tt.current); got != tt.want {
				t.Errorf("NextInterval(%d) with multiplier %g = %d, want %d", tt.current, tt.multiplier, got, tt.want)
			}
		})
	}
}
