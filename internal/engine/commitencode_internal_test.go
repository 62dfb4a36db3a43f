package engine

import (
	"context"
	"testing"

	"github.com/stepmon/stepmon/internal/asl"
)

// A run state that cannot be encoded fails the commit without taking
// the buffered events: they stay for the commit of the execution's
// failure, which then leaves no gap in the event ids.
func TestCommitEncodeFailureKeepsEvents(t *testing.T) {
	tests := []struct {
		name     string
		buffered int
		upTo     int64
	}{
		{"every event", 2, 0},
		{"up to an id", 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{})
			defer e.Close()
			x := e.newExecution(Execution{Arn: "arn:x", StateMachineArn: "arn:m"}, StateMachine{}, &asl.Machine{}, nil)
			for i := range tt.buffered {
				x.events = append(x.events, Event{ID: int64(i + 1), Type: "PassStateEntered"})
			}
			x.count, x.lastID = tt.buffered, int64(tt.buffered)
			snap := &snapshot{State: "S", Phase: phaseEnter, Input: make(chan int)} // no JSON value
			if _, err := x.commitKeeping(context.Background(), snap, nil, false, tt.upTo); err == nil {
				t.Fatal("commit of a run state that cannot be encoded succeeded")
			}
			x.mu.Lock()
			got := len(x.appendBufferedLocked(nil))
			x.mu.Unlock()
			if got != tt.buffered {
				t.Errorf("%d events buffered after the failed commit, want %d", got, tt.buffered)
			}
		})
	}
}
