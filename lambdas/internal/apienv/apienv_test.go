package apienv

import (
	"context"
	"strings"
	"testing"
)

func TestNewHandler(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"nothing set", map[string]string{}, "start: TABLE_NAME and STATE_MACHINE_ARN"},
		{"no state machine", map[string]string{"TABLE_NAME": "t"}, "STATE_MACHINE_ARN"},
		{"complete", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHandler(context.Background(), "start", func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || h == nil {
				t.Fatalf("NewHandler = %v, %v", h, err)
			}
		})
	}
}
