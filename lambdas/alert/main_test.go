package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
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

func TestNewTasksAlertTopics(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	const stack, ops, other = "arn:aws:sns:us-east-1:123456789012:alerts", "arn:aws:sns:us-east-1:123456789012:ops",
		"arn:aws:sns:us-east-1:123456789012:other"
	tests := []struct {
		name    string
		env     map[string]string
		allowed map[string]bool
		wantErr string
	}{
		{"nothing configured refuses every topic", map[string]string{}, map[string]bool{stack: false, other: false}, ""},
		{"stack topic", map[string]string{"ALERT_TOPIC_ARN": stack}, map[string]bool{stack: true, ops: false}, ""},
		{"named topics", map[string]string{"ALERT_TOPIC_ARN": stack, "ALERT_TOPIC_ARNS": ops + "," + other},
			map[string]bool{stack: true, ops: true, other: true}, ""},
		{"not an ARN", map[string]string{"ALERT_TOPIC_ARNS": "ops"}, nil, "ALERT_TOPIC_ARNS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["TABLE_NAME"] = "t"
			tasks, err := newTasks(context.Background(), func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tasks.AlertTopics == nil {
				t.Fatal("no allow-list: the alert function must always check topics")
			}
			for arn, want := range tt.allowed {
				if got := tasks.AlertTopics.Allows(arn); got != want {
					t.Errorf("Allows(%s) = %v, want %v", arn, got, want)
				}
			}
		})
	}
}

// The alert function logs as the others do: JSON, at the level Lambda's
// logging configuration sets.
func TestNewTasksLogger(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	tasks, err := newTasks(context.Background(), func(k string) string {
		return map[string]string{"TABLE_NAME": "t", "AWS_LAMBDA_LOG_LEVEL": "ERROR"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	lambdatest.WantLogger(t, tasks.Logger)
}

// An ALLOW_PRIVATE_TARGETS the function cannot read stops it at start-up,
// as it stops the check function, rather than meaning false.
func TestNewTasksAllowPrivateTargets(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	for _, v := range []string{"", "true", "false", "1"} {
		if _, err := newTasks(context.Background(), func(k string) string {
			return map[string]string{"TABLE_NAME": "t", "ALLOW_PRIVATE_TARGETS": v}[k]
		}); err != nil {
			t.Errorf("ALLOW_PRIVATE_TARGETS=%q: %v", v, err)
		}
	}
	for _, v := range []string{"perhaps", "yes", " true"} {
		_, err := newTasks(context.Background(), func(k string) string {
			return map[string]string{"TABLE_NAME": "t", "ALLOW_PRIVATE_TARGETS": v}[k]
		})
		if err == nil || !strings.Contains(err.Error(), "ALLOW_PRIVATE_TARGETS") {
			t.Errorf("ALLOW_PRIVATE_TARGETS=%q: err = %v, want one naming the variable", v, err)
		}
	}
}
