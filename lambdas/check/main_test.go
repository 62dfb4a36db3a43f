package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestNewTasks(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"no table", map[string]string{}, "TABLE_NAME"},
		{"bad flag", map[string]string{"TABLE_NAME": "t", "ALLOW_PRIVATE_TARGETS": "perhaps"}, "ALLOW_PRIVATE_TARGETS"},
		{"defaults", map[string]string{"TABLE_NAME": "t"}, ""},
		{"enterprise github", map[string]string{"TABLE_NAME": "t", "GITHUB_API_URL": "https://ghe.example.com/api/v3/"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tasks, err := newTasks(context.Background(), env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("newTasks: %v", err)
			}
			for _, typ := range []string{monitor.TargetGitHub, monitor.TargetHTTP, monitor.TargetSimulated} {
				if tasks.Checkers[typ] == nil {
					t.Errorf("no checker for %s", typ)
				}
			}
		})
	}
}

// The check function logs as the others do: JSON, at the level Lambda's
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
