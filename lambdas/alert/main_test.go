package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
)

func TestNewTasks(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	if _, err := newTasks(context.Background(), func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
		t.Fatalf("err = %v, want one naming TABLE_NAME", err)
	}
	tasks, err := newTasks(context.Background(), func(k string) string {
		return map[string]string{"TABLE_NAME": "t"}[k]
	}, io.Discard)
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
			tasks, err := newTasks(context.Background(), func(k string) string { return tt.env[k] }, io.Discard)
			if lambdatest.WantErr(t, err, tt.wantErr) {
				return
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
	var out bytes.Buffer
	tasks, err := newTasks(context.Background(), func(k string) string {
		return map[string]string{"TABLE_NAME": "t", "AWS_LAMBDA_LOG_LEVEL": "ERROR"}[k]
	}, &out)
	if err != nil {
		t.Fatal(err)
	}
	lambdatest.WantLogger(t, tasks.Logger, &out)
}

// An ALLOW_PRIVATE_TARGETS the function cannot read stops it at start-up,
// as it stops the check function, rather than meaning false.
func TestNewTasksAllowPrivateTargets(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	for _, v := range []string{"", "true", "false", "1"} {
		if _, err := newTasks(context.Background(), func(k string) string {
			return map[string]string{"TABLE_NAME": "t", "ALLOW_PRIVATE_TARGETS": v}[k]
		}, io.Discard); err != nil {
			t.Errorf("ALLOW_PRIVATE_TARGETS=%q: %v", v, err)
		}
	}
	for _, v := range []string{"perhaps", "yes", " true"} {
		_, err := newTasks(context.Background(), func(k string) string {
			return map[string]string{"TABLE_NAME": "t", "ALLOW_PRIVATE_TARGETS": v}[k]
		}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "ALLOW_PRIVATE_TARGETS") {
			t.Errorf("ALLOW_PRIVATE_TARGETS=%q: err = %v, want one naming the variable", v, err)
		}
	}
}

// fakeSecretsManager answers GetSecretValue with secret, or with a 500
// when secret is "", and records the SecretId of each call.
type fakeSecretsManager struct {
	*httptest.Server
	secret string
	calls  atomic.Int64

	mu  sync.Mutex
	ids []string
}

func newFakeSecretsManager(t *testing.T, secret string) *fakeSecretsManager {
	t.Helper()
	f := &fakeSecretsManager{secret: secret}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		var in struct{ SecretId string }
		json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		f.ids = append(f.ids, in.SecretId)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || f.secret == "" {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"__type":"InternalServiceError","message":"unavailable"}`))
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"ARN": twilioSecretARN, "Name": "twilio", "SecretString": f.secret})
	}))
	t.Cleanup(f.Close)
	return f
}

// secretIDs returns the SecretId of every call so far.
func (f *fakeSecretsManager) secretIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ids)
}

const twilioSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:twilio"

// awsEnv points the SDK at endpoint for Secrets Manager, with static
// credentials and one attempt per call, so that nothing leaves the host.
func awsEnv(t *testing.T, endpoint string) {
	t.Helper()
	lambdatest.FakeAWS(t, "us-east-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint)
}

func twilioEnv(k string) string {
	return map[string]string{"TABLE_NAME": "t", "TWILIO_SECRET_ARN": twilioSecretARN}[k]
}

// The Twilio secret is read when an SMS is sent, not at start-up: a
// Secrets Manager that cannot be reached at a cold start must not stop the
// function, whose SNS and webhook alerts do not need the secret.
func TestNewTasksTwilioSecretNotReadAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + ln.Addr().String()
	ln.Close()
	awsEnv(t, unreachable)
	tasks, err := newTasks(context.Background(), twilioEnv, io.Discard)
	if err != nil {
		t.Fatalf("newTasks with an unreachable Secrets Manager: %v", err)
	}
	// With Twilio configured every channel has a sender: a channel added
	// without one would fail its monitors at alert time.
	for _, c := range monitor.Channels() {
		if tasks.Senders[c] == nil {
			t.Errorf("no sender for channel %s", c)
		}
	}
	tw := tasks.Senders[monitor.ChannelTwilio]
	if tw == nil {
		t.Fatal("twilio not configured with TWILIO_SECRET_ARN set")
	}
	_, err = tw.Send(context.Background(), monitor.Alert{Phone: "+14255550100", Channel: monitor.ChannelTwilio}, monitor.Message{Text: "hi"})
	var te *monitor.TransientError
	if !errors.As(err, &te) {
		t.Errorf("send with an unreadable secret: err = %v, want a *monitor.TransientError", err)
	}

	sm := newFakeSecretsManager(t, `{"accountSid":"AC1","authToken":"tok","from":"+15005550006"}`)
	awsEnv(t, sm.URL)
	if _, err := newTasks(context.Background(), twilioEnv, io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := sm.calls.Load(); n != 0 {
		t.Errorf("newTasks called Secrets Manager %d times, want 0", n)
	}
}

// The Twilio secret is read from TWILIO_SECRET_ARN when an SMS is sent: a
// secret without a From number fails the send permanently; one that is not
// JSON, or cannot be read, fails it transiently, with an error that names
// the secret and says why, and never holds the secret's value.
func TestTwilioSecretAtSendTime(t *testing.T) {
	tests := []struct {
		name     string
		secret   string
		kind     string
		contains string
	}{
		{"secret without from", `{"accountSid":"AC1","authToken":"tok"}`, "permanent", "no From number"},
		{"secret not JSON", `accountSid=AC1`, "transient", "twilio secret " + twilioSecretARN + " is not JSON"},
		{"read fails", "", "transient", "read credentials: awssecret: read " + twilioSecretARN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := newFakeSecretsManager(t, tt.secret)
			awsEnv(t, sm.URL)
			tasks, err := newTasks(context.Background(), twilioEnv, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tasks.Senders[monitor.ChannelTwilio].Send(context.Background(),
				monitor.Alert{Phone: "+14255550100", Channel: monitor.ChannelTwilio}, monitor.Message{Text: "hi"})
			var te *monitor.TransientError
			var pe *monitor.PermanentError
			switch {
			case tt.kind == "transient" && !errors.As(err, &te),
				tt.kind == "permanent" && !errors.As(err, &pe):
				t.Fatalf("err = %#v, want a %s error", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("err = %q, want it to contain %q", err, tt.contains)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("err = %q, which holds the secret's value", err)
			}
			if ids := sm.secretIDs(); len(ids) == 0 || ids[0] != twilioSecretARN {
				t.Errorf("secrets read: %q, want %s", ids, twilioSecretARN)
			}
		})
	}
}

// ALLOWED_TARGET_PREFIXES lets webhooks reach those private prefixes while
// loopback and link-local stay refused; a prefix that would open them
// stops the function at start-up.
func TestNewTasksAllowedTargetPrefixes(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	tasks, err := newTasks(context.Background(), func(k string) string {
		return map[string]string{"TABLE_NAME": "t", "ALLOWED_TARGET_PREFIXES": "10.0.0.0/8"}[k]
	}, io.Discard)
	if err != nil {
		t.Fatalf("newTasks: %v", err)
	}
	send := func(url string) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := tasks.Senders[monitor.ChannelWebhook].Send(ctx, monitor.Alert{WebhookURL: url}, monitor.Message{Text: "hi"})
		return err
	}
	const refusal = "outside this deployment's allowed prefixes (10.0.0.0/8)"
	if err := send("http://10.1.2.3:9/hook"); err != nil && strings.Contains(err.Error(), refusal) {
		t.Errorf("webhook to 10.1.2.3: %v, want it dialled", err)
	}
	for _, url := range []string{"http://127.0.0.1:9001/hook", "http://169.254.169.254/hook"} {
		if err := send(url); err == nil || !strings.Contains(err.Error(), refusal) {
			t.Errorf("webhook to %s: err = %v, want it refused", url, err)
		}
	}
	for _, v := range []string{"127.0.0.0/8", "169.254.169.254/32", "fd00:ec2::/32", "10.0.0.0/33"} {
		_, err := newTasks(context.Background(), func(k string) string {
			return map[string]string{"TABLE_NAME": "t", "ALLOWED_TARGET_PREFIXES": v}[k]
		}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "ALLOWED_TARGET_PREFIXES") {
			t.Errorf("ALLOWED_TARGET_PREFIXES=%q: err = %v, want one naming the variable", v, err)
		}
	}
}

// TestRunStartUpFailure pins that run reports a configuration the
// function cannot start with, instead of starting the Lambda loop, and
// that an AWS configuration that cannot be loaded is reported as such.
func TestRunStartUpFailure(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	if err := run(context.Background(), func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
		t.Errorf("run without TABLE_NAME: err = %v, want one naming TABLE_NAME", err)
	}
	config := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(config, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", config)
	t.Setenv("AWS_PROFILE", "missing")
	err := run(context.Background(), func(k string) string { return map[string]string{"TABLE_NAME": "t"}[k] })
	if err == nil || !strings.HasPrefix(err.Error(), "load AWS config: ") {
		t.Errorf("run with an unknown AWS_PROFILE: err = %v, want load AWS config: ...", err)
	}
}
