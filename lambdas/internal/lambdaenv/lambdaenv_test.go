package lambdaenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const (
	stackTopic = "arn:aws:sns:eu-west-1:123456789012:stepmon-alerts"
	opsTopic   = "arn:aws:sns:eu-west-1:123456789012:ops"
)

func TestAlertTopics(t *testing.T) {
	tests := []struct {
		name           string
		env            map[string]string
		wantConfigured bool
		allowed        []string
		refused        []string
		wantErr        string
	}{
		{"unset", nil, false, nil, []string{stackTopic}, ""},
		{"stack topic", map[string]string{AlertTopicVar: stackTopic}, true, []string{stackTopic}, []string{opsTopic}, ""},
		{"both", map[string]string{AlertTopicVar: stackTopic, AlertTopicsVar: opsTopic + ", " + stackTopic + ","}, true,
			[]string{stackTopic, opsTopic}, []string{"arn:aws:sns:eu-west-1:123456789012:other"}, ""},
		{"named topics only", map[string]string{AlertTopicsVar: opsTopic}, true, []string{opsTopic}, []string{stackTopic}, ""},
		{"blank", map[string]string{AlertTopicVar: " ", AlertTopicsVar: "  "}, false, nil, []string{stackTopic}, ""},
		{"not an ARN", map[string]string{AlertTopicsVar: "ops"}, false, nil, nil, AlertTopicsVar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, configured, err := AlertTopics(env(tt.env))
			if lambdatest.WantErr(t, err, tt.wantErr) {
				return
			}
			if configured != tt.wantConfigured || list == nil {
				t.Errorf("configured = %v (list %v), want %v and a list", configured, list, tt.wantConfigured)
			}
			for _, arn := range tt.allowed {
				if !list.Allows(arn) {
					t.Errorf("%s refused", arn)
				}
			}
			for _, arn := range tt.refused {
				if list.Allows(arn) {
					t.Errorf("%s allowed", arn)
				}
			}
		})
	}
}

// NewLogger logs at the level AWS_LAMBDA_LOG_LEVEL names, in any case and
// with surrounding blanks, and at INFO when it names none.
func TestNewLogger(t *testing.T) {
	tests := []struct {
		level string
		want  slog.Level // the lowest level logged
	}{
		{"", slog.LevelInfo},
		{"DEBUG", slog.LevelDebug},
		{"TRACE", slog.LevelDebug},
		{" debug ", slog.LevelDebug},
		{"INFO", slog.LevelInfo},
		{"WARN", slog.LevelWarn},
		{"warn", slog.LevelWarn},
		{"ERROR", slog.LevelError},
		{"FATAL", slog.LevelError},
		{"nonsense", slog.LevelInfo},
	}
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			var buf bytes.Buffer
			log := NewLogger(&buf, env(map[string]string{LogLevelVar: tt.level}))
			for _, l := range levels {
				log.Log(context.Background(), l, l.String(), "instanceId", "m1")
			}
			got := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line is not JSON: %q", line)
				}
				got[rec[slog.MessageKey].(string)] = true
			}
			for _, l := range levels {
				if want := l >= tt.want; got[l.String()] != want {
					t.Errorf("%s logged: %v, want %v", l, got[l.String()], want)
				}
			}
		})
	}
}

// TestNewLoggerRequestID: a record logged with an invocation's context
// carries Lambda's request id as awsRequestId, also through a logger
// With attributes, and beside a requestId of its own (the API's lines
// have API Gateway's); one logged without does not.
func TestNewLoggerRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, env(nil)).With("component", "tasks")
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8f5c-req"})
	log.InfoContext(ctx, "with", "requestId", "apigw-req")
	log.Info("without")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %q, want 2 lines", buf.String())
	}
	for i, want := range []string{"8f5c-req", ""} {
		if n := strings.Count(lines[i], `"requestId"`); n > 1 {
			t.Errorf("line %q has requestId %d times", lines[i], n)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatal(err)
		}
		if got, _ := rec["awsRequestId"].(string); got != want || rec["component"] != "tasks" {
			t.Errorf("line %q: awsRequestId %q, want %q, with its component", lines[i], got, want)
		}
	}
	if !strings.Contains(lines[0], `"requestId":"apigw-req"`) {
		t.Errorf("line %q lost its own requestId", lines[0])
	}
}

func TestAllowPrivateTargets(t *testing.T) {
	tests := []struct {
		value   string
		want    bool
		wantErr bool
	}{
		{"", false, false},
		{"true", true, false},
		{"TRUE", true, false},
		{"1", true, false},
		{"false", false, false},
		{"0", false, false},
		{"perhaps", false, true},
		{"yes", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := AllowPrivateTargets(env(map[string]string{AllowPrivateTargetsVar: tt.value}))
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), AllowPrivateTargetsVar) {
					t.Fatalf("err = %v, want one naming %s", err, AllowPrivateTargetsVar)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("AllowPrivateTargets = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestRunMain(t *testing.T) {
	var stderr bytes.Buffer
	code := Main("check", &stderr, env(map[string]string{LogLevelVar: "ERROR"}), func(context.Context, func(string) string) error {
		slog.Info("not logged at ERROR")
		return errors.New("TABLE_NAME is not set")
	})
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	var rec map[string]any
	if err := json.Unmarshal(stderr.Bytes(), &rec); err != nil {
		t.Fatalf("stderr is not one JSON record: %v\n%s", err, stderr.String())
	}
	if rec["level"] != "ERROR" || rec["msg"] != "check: start-up failed" || rec["err"] != "TABLE_NAME is not set" {
		t.Errorf("logged %v", rec)
	}
	if code := Main("check", io.Discard, env(nil), func(context.Context, func(string) string) error { return nil }); code != 0 {
		t.Errorf("exit code %d after run returned nil, want 0", code)
	}
}

// aws-lambda-go reports an invocation's error and its own warnings with
// the log package: under Main they are JSON lines at WARN, which a
// function logging at WARN keeps and a query for WARN and ERROR finds.
func TestMainLogsTheLogPackageAtWarn(t *testing.T) {
	var stderr bytes.Buffer
	code := Main("check", &stderr, env(map[string]string{LogLevelVar: "WARN"}), func(context.Context, func(string) string) error {
		log.Printf("%s", `{"errorMessage":"boom","errorType":"wrapError"}`)
		return nil
	})
	if code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	var rec map[string]any
	if err := json.Unmarshal(stderr.Bytes(), &rec); err != nil {
		t.Fatalf("stderr is not one JSON record: %v\n%s", err, stderr.String())
	}
	if rec["level"] != "WARN" || !strings.Contains(fmt.Sprint(rec["msg"]), "boom") {
		t.Errorf("logged %v, want the log package's line at WARN", rec)
	}
}

// Main hands run the environment it was given and a live context.
func TestMainPassesEnvironment(t *testing.T) {
	var table string
	var ctxErr error
	code := Main("check", io.Discard, env(map[string]string{"TABLE_NAME": "monitors"}), func(ctx context.Context, getenv func(string) string) error {
		table, ctxErr = getenv("TABLE_NAME"), ctx.Err()
		return nil
	})
	if code != 0 || table != "monitors" || ctxErr != nil {
		t.Errorf("Main = %d; run saw TABLE_NAME %q and context error %v, want 0, monitors, nil", code, table, ctxErr)
	}
}

func TestEgressOptions(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		allowPrivate bool
		allow        []string
		wantErr      string
	}{
		{"unset", nil, false, nil, ""},
		{"private", map[string]string{AllowPrivateTargetsVar: "true"}, true, nil, ""},
		{"prefixes", map[string]string{AllowedTargetPrefixesVar: " 10.1.0.0/16,, fd12:3456::/48 "}, false, []string{"10.1.0.0/16", "fd12:3456::/48"}, ""},
		{"bad flag", map[string]string{AllowPrivateTargetsVar: "maybe"}, false, nil, AllowPrivateTargetsVar},
		{"not a prefix", map[string]string{AllowedTargetPrefixesVar: "10.1.0.0"}, false, nil, AllowedTargetPrefixesVar},
		{"loopback", map[string]string{AllowedTargetPrefixesVar: "10.1.0.0/16,127.0.0.1/32"}, false, nil, "loopback"},
		{"everything", map[string]string{AllowedTargetPrefixesVar: "0.0.0.0/0"}, false, nil, AllowedTargetPrefixesVar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := EgressOptions(env(tt.env))
			if lambdatest.WantErr(t, err, tt.wantErr) {
				return
			}
			var allow []string
			for _, p := range opts.Allow {
				allow = append(allow, p.String())
			}
			if opts.AllowPrivate != tt.allowPrivate || !slices.Equal(allow, tt.allow) {
				t.Errorf("options = %v, %v; want %v, %v", opts.AllowPrivate, allow, tt.allowPrivate, tt.allow)
			}
		})
	}
}
