package monitor

import "testing"

func TestRecordPending(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want int
	}{
		{"no events", Record{}, 0},
		{"listed", Record{PendingEvents: 3}, 3},
		{"read with events", Record{Events: []Event{{Name: "a"}, {Name: "b", ConsumedBy: 2}, {Name: "c"}}}, 2},
		{"events win over the count", Record{Events: []Event{{Name: "a", ConsumedBy: 1}}, PendingEvents: 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.Pending(); got != tt.want {
				t.Errorf("Pending() = %d, want %d", got, tt.want)
			}
		})
	}
}
