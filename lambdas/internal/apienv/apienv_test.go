package apienv

import (
	"context"
	"log/slog"
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
		{"bad topic list", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"ALERT_TOPIC_ARNS": "ops"}, "ALERT_TOPIC_ARNS"},
		{"bad SMS channels", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"SMS_CHANNELS": "sms"}, "SMS_CHANNELS"},
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
			if key := string(h.API.TokenKey); !strings.HasSuffix(key, "\x00"+tt.env["TABLE_NAME"]) {
				t.Errorf("TokenKey = %q, want one derived from the table name", key)
			}
		})
	}
}

func TestNewHandlerAlertTopics(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	const stack, ops, other = "arn:aws:sns:us-east-1:123456789012:alerts", "arn:aws:sns:us-east-1:123456789012:ops",
		"arn:aws:sns:us-east-1:123456789012:other"
	base := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}
	tests := []struct {
		name    string
		env     map[string]string
		allowed map[string]bool
	}{
		{"unset: start does not check", nil, map[string]bool{stack: true, other: true}},
		{"stack topic", map[string]string{"ALERT_TOPIC_ARN": stack}, map[string]bool{stack: true, ops: false, other: false}},
		{"stack and named topics", map[string]string{"ALERT_TOPIC_ARN": stack, "ALERT_TOPIC_ARNS": ops},
			map[string]bool{stack: true, ops: true, other: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			h, err := NewHandler(context.Background(), "start", func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			for arn, want := range tt.allowed {
				if got := h.API.AlertTopics.Allows(arn); got != want {
					t.Errorf("Allows(%s) = %v, want %v", arn, got, want)
				}
			}
		})
	}
}

func TestNewHandlerLogger(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
		"AWS_LAMBDA_LOG_LEVEL": "ERROR"}
	h, err := NewHandler(context.Background(), "status", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for name, log := range map[string]*slog.Logger{"API": h.API.Logger, "handler": h.Logger} {
		if _, ok := log.Handler().(*slog.JSONHandler); !ok {
			t.Errorf("%s logger handler is %T, want *slog.JSONHandler", name, log.Handler())
		}
		if log.Enabled(context.Background(), slog.LevelInfo) {
			t.Errorf("%s logger does not follow AWS_LAMBDA_LOG_LEVEL=ERROR", name)
		}
	}
}

func TestNewHandlerSMSChannels(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	tests := []struct {
		value string
		want  []string // nil: every channel
	}{
		{"", nil},
		{"none", []string{}},
		{"sns,twilio", []string{"sns", "twilio"}},
	}
	for _, tt := range tests {
		env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"SMS_CHANNELS": tt.value}
		h, err := NewHandler(context.Background(), "start", func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("SMS_CHANNELS=%q: %v", tt.value, err)
		}
		got := h.API.SMSChannels
		if (got == nil) != (tt.want == nil) || strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("SMS_CHANNELS=%q: SMSChannels = %#v, want %#v", tt.value, got, tt.want)
		}
	}
}
