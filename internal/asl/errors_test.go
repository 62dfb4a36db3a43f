package asl

import "testing"

// A heartbeat timeout (States.HeartbeatTimeout) is a States.Timeout:
// States.Timeout and States.HeartbeatTimeout match it, States.TaskFailed
// does not, States.ALL does.
func TestMatchesError(t *testing.T) {
	tests := []struct {
		equals, name string
		want         bool
	}{
		{ErrTimeout, ErrHeartbeatTimeout, true},
		{ErrHeartbeatTimeout, ErrHeartbeatTimeout, true},
		{ErrTaskFailed, ErrHeartbeatTimeout, false},
		{ErrAll, ErrHeartbeatTimeout, true},
		{ErrHeartbeatTimeout, ErrTimeout, false},
		{ErrTimeout, ErrTimeout, true},
		{ErrTaskFailed, ErrTimeout, false},
		{ErrTaskFailed, "Lambda.ServiceException", true},
		{ErrTimeout, ErrTaskFailed, false},
		{ErrAll, ErrDataLimitExceeded, false},
		{ErrTaskFailed, ErrRuntime, false},
	}
	for _, tt := range tests {
		if got := matchesError([]string{tt.equals}, tt.name); got != tt.want {
			t.Errorf("ErrorEquals [%s] matches %s = %v, want %v", tt.equals, tt.name, got, tt.want)
		}
	}
}
