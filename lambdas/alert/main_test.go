package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
)

func TestNewTasks(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	if _, err := newTasks(context.Background(), func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
		t.Fatalf("err = %v, want one naming TABLE_NAME", err)
	}
	tasks, err := newTasks(context.Background(), func(k string) string {
		return map[string]string{"TABLE_NAME": "t"}[k]
	})
	if err != nil {
		t.Fatalf("newTasks: %v", err)
	}
	if tasks.Senders[monitor.ChannelSNS] == nil || tasks.Senders[monitor.ChannelWebhook] == nil {
		t.Errorf("senders = %v, want sns and webhook", tasks.Senders)
	}
	if tasks.Senders[monitor.ChannelTwilio] != nil {
		t.Errorf("twilio configured without TWILIO_SECRET_ARN")
	}
}
