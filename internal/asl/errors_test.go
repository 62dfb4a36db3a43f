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

// An Error reads "name: cause", or its name alone without a cause.
func TestErrorText(t *testing.T) {
	for _, tt := range []struct {
		err  *Error
		want string
	}{
		{Errorf(ErrRuntime, "no %s", "path"), "States.Runtime: no path"},
		{&Error{Name: "Custom", Cause: "ignored"}, "Custom"},
		{&Error{Name: "Custom", HasCause: true}, "Custom: "},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// Code splits a validation message into its code (capitals and
// underscores, before ": ") and the text; a message without one is all
// text.
func TestValidationErrorCode(t *testing.T) {
	for _, tt := range []struct {
		msg, code, text string
	}{
		{"MISSING_TRANSITION_TARGET: Missing 'Next' target: X", "MISSING_TRANSITION_TARGET", "Missing 'Next' target: X"},
		{"SCHEMA_VALIDATION_FAILED: must be a string", "SCHEMA_VALIDATION_FAILED", "must be a string"},
		{"not a code: text", "", "not a code: text"},
		{"Mixed_Case: text", "", "Mixed_Case: text"},
		{": text", "", ": text"},
		{"NO_SEPARATOR", "", "NO_SEPARATOR"},
	} {
		code, text := (&ValidationError{Message: tt.msg}).Code()
		if code != tt.code || text != tt.text {
			t.Errorf("Code() of %q = %q, %q; want %q, %q", tt.msg, code, text, tt.code, tt.text)
		}
	}
}
