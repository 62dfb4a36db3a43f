package engine

import "testing"

// isActivity tells an activity's ARN from every other Resource, and
// allocates nothing doing it (each Task state's run asks).
func TestIsActivity(t *testing.T) {
	tests := []struct {
		resource string
		want     bool
	}{
		{"arn:aws:states:us-east-1:123456789012:activity:review", true},
		{"arn:aws-cn:states:cn-north-1:123456789012:activity:a", true},
		{"arn:aws:states:us-east-1:123456789012:activity:a:b", false},
		{"arn:aws:states:us-east-1:123456789012:stateMachine:m", false},
		{"arn:aws:states:::lambda:invoke", false},
		{"arn:aws:lambda:us-east-1:123456789012:function:activity", false},
		{"arn:aws:states:us-east-1:123456789012:activity", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isActivity(tt.resource); got != tt.want {
			t.Errorf("isActivity(%q) = %v, want %v", tt.resource, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { isActivity("arn:aws:states:::lambda:invoke") }); n != 0 {
		t.Errorf("isActivity allocates %v times a call, want 0", n)
	}
}
