package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/fakegithub"
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
			tasks, err := newTasks(context.Background(), env(tt.env), io.Discard)
			if lambdatest.WantErr(t, err, tt.wantErr) {
				return
			}
			for _, typ := range monitor.TargetTypes() {
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
	var out bytes.Buffer
	tasks, err := newTasks(context.Background(), func(k string) string {
		return map[string]string{"TABLE_NAME": "t", "AWS_LAMBDA_LOG_LEVEL": "ERROR"}[k]
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	lambdatest.WantLogger(t, tasks.Logger, &out)
}

// ALLOWED_TARGET_PREFIXES lets HTTP checks reach those private prefixes
// (a VPC's subnets) while loopback, the Lambda Runtime API on
// 127.0.0.1:9001, and the rest stay refused; a prefix that would open
// loopback or link-local stops the function at start-up.
func TestNewTasksAllowedTargetPrefixes(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	tasks, err := newTasks(context.Background(), env(map[string]string{
		"TABLE_NAME": "t", "ALLOWED_TARGET_PREFIXES": "10.0.0.0/8, fd12:3456::/48",
	}), io.Discard)
	if err != nil {
		t.Fatalf("newTasks: %v", err)
	}
	check := func(url string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err := tasks.Checkers[monitor.TargetHTTP].Check(ctx, monitor.CheckRequest{InstanceID: "m1", Number: 1,
			Target: monitor.Target{Type: monitor.TargetHTTP, URL: url, RequestTimeoutSeconds: 1}})
		return err
	}
	const refusal = "outside this deployment's allowed prefixes (10.0.0.0/8, fd12:3456::/48)"
	if err := check("http://10.1.2.3:9/status"); err != nil && strings.Contains(err.Error(), refusal) {
		t.Errorf("check of 10.1.2.3: %v, want it dialled", err)
	}
	for _, url := range []string{"http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", "http://169.254.169.254/latest/meta-data/", "http://192.168.1.1/"} {
		if err := check(url); err == nil || !strings.Contains(err.Error(), refusal) {
			t.Errorf("check of %s: err = %v, want it refused", url, err)
		}
	}

	for _, v := range []string{"10.0.0.0/8,127.0.0.0/8", "0.0.0.0/0", "169.254.0.0/16", "::/0", "10.0.0.0", "10.1.2.3/8", "nonsense"} {
		_, err := newTasks(context.Background(), env(map[string]string{"TABLE_NAME": "t", "ALLOWED_TARGET_PREFIXES": v}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "ALLOWED_TARGET_PREFIXES") {
			t.Errorf("ALLOWED_TARGET_PREFIXES=%q: err = %v, want one naming the variable", v, err)
		}
	}
}

// The GitHub client does not go through the egress guard: a GitHub
// Enterprise Server at a private address (here loopback, which no
// allowed prefix may name) is reached without ALLOWED_TARGET_PREFIXES,
// with the VPC attachment alone. docs/deploy.md relies on this: adding
// the server's prefix to allowedTargetPrefixes would open it to every
// API caller's HTTP targets and webhooks, and is not needed.
func TestNewTasksGitHubAPIURLNotGuarded(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	srv := fakegithub.New()
	t.Cleanup(srv.Close)
	srv.AddRepo(fakegithub.Repo{Owner: "octo", Name: "r", OpenIssues: 2})
	tasks, err := newTasks(context.Background(), env(map[string]string{"TABLE_NAME": "t", "GITHUB_API_URL": srv.BaseURL()}), io.Discard)
	if err != nil {
		t.Fatalf("newTasks: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obs, err := tasks.Checkers[monitor.TargetGitHub].Check(ctx, monitor.CheckRequest{InstanceID: "m1", Number: 1,
		Target: monitor.Target{Type: monitor.TargetGitHub, Repo: "octo/r", MinOpenIssues: 5}})
	if err != nil || obs.OpenIssues == nil || *obs.OpenIssues != 2 {
		t.Errorf("check of a GitHub API on %s = %+v, %v; want 2 open issues counted", srv.BaseURL(), obs, err)
	}
}

// An HTTP check's target that the egress guard refuses is logged on the
// function's stderr, a WARN record with the address and the reason: the
// monitor's detail leaves a resolved name's address out, and the log is
// where operators see what a caller tried to reach.
func TestNewTasksLogsRefusedTargets(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := newTasks(context.Background(), env(map[string]string{"TABLE_NAME": "t"}), stderr)
	if err != nil {
		t.Fatalf("newTasks: %v", err)
	}
	for _, tc := range []struct{ url, addr string }{
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254"},
		{"http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", "127.0.0.1"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			_, err := tasks.Checkers[monitor.TargetHTTP].Check(ctx, monitor.CheckRequest{InstanceID: "m1", Number: 1,
				Target: monitor.Target{Type: monitor.TargetHTTP, URL: tc.url, RequestTimeoutSeconds: 1}})
			if err == nil {
				t.Fatalf("check of %s succeeded, want it refused", tc.url)
			}
			logged, err := os.ReadFile(stderr.Name())
			if err != nil {
				t.Fatal(err)
			}
			var records []string
			for line := range strings.Lines(string(logged)) {
				var rec struct{ Level, Msg, Addr, Reason string }
				if json.Unmarshal([]byte(line), &rec) != nil {
					continue
				}
				if rec.Level == "WARN" && rec.Msg == "egress: destination refused" && rec.Addr == tc.addr && rec.Reason != "" {
					return
				}
				records = append(records, line)
			}
			t.Errorf("got stderr records %q, want a WARN \"egress: destination refused\" with addr %s and its reason", records, tc.addr)
		})
	}
}
