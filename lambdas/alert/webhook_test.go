package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/alerts"
	"github.com/stepmon/stepmon/internal/monitor"
)

const webhookSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:webhook"

// hookRequest is what a webhook receiver got.
type hookRequest struct {
	header http.Header
	body   []byte
}

// newHookReceiver returns a webhook receiver's URL and a func that
// returns the requests it got so far.
func newHookReceiver(t *testing.T) (string, func() []hookRequest) {
	t.Helper()
	var mu sync.Mutex
	var got []hookRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, hookRequest{r.Header.Clone(), body})
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hook", func() []hookRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]hookRequest(nil), got...)
	}
}

// TestWebhookSecret pins how WEBHOOK_SECRET_ARN signs webhook alerts:
// with the secret set, every request carries a signature that verifies
// with the secret's value, read from that ARN; without it, requests are
// not signed; and when the secret cannot be read, the send fails
// transiently and nothing reaches the receiver, rather than going out
// unsigned.
func TestWebhookSecret(t *testing.T) {
	const secret = "whsec-test"
	tests := []struct {
		name     string
		arn      string
		value    string // what Secrets Manager holds; "" answers 500
		wantSent bool
		wantSig  bool
	}{
		{"signed", webhookSecretARN, secret, true, true},
		{"no secret configured", "", secret, true, false},
		{"secret unreadable", webhookSecretARN, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := newFakeSecretsManager(t, tt.value)
			awsEnv(t, sm.URL)
			url, received := newHookReceiver(t)
			tasks, err := newTasks(context.Background(), func(k string) string {
				return map[string]string{"TABLE_NAME": "t", "ALLOW_PRIVATE_TARGETS": "true", "WEBHOOK_SECRET_ARN": tt.arn}[k]
			}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			_, err = tasks.Senders[monitor.ChannelWebhook].Send(context.Background(), monitor.Alert{WebhookURL: url}, monitor.Message{Text: "hi"})
			reqs := received()
			if !tt.wantSent {
				var te *monitor.TransientError
				if !errors.As(err, &te) || len(reqs) != 0 {
					t.Fatalf("send: err = %v, %d requests received; want a *monitor.TransientError and none", err, len(reqs))
				}
				return
			}
			if err != nil || len(reqs) != 1 {
				t.Fatalf("send: err = %v, %d requests received; want it sent once", err, len(reqs))
			}
			sig, ts := reqs[0].header.Get(alerts.SignatureHeader), reqs[0].header.Get(alerts.TimestampHeader)
			if !tt.wantSig {
				if sig != "" {
					t.Errorf("request signed (%s) with no WEBHOOK_SECRET_ARN", sig)
				}
				return
			}
			sent, err := strconv.ParseInt(ts, 10, 64)
			if err != nil {
				t.Fatalf("%s = %q, want Unix seconds", alerts.TimestampHeader, ts)
			}
			if err := alerts.Verify([]byte(secret), sig, ts, reqs[0].body, time.Unix(sent, 0), 0); err != nil {
				t.Errorf("signature %q: %v", sig, err)
			}
			if ids := sm.secretIDs(); len(ids) == 0 || ids[0] != webhookSecretARN {
				t.Errorf("secrets read: %v, want %s", ids, webhookSecretARN)
			}
		})
	}
}

// TestRefusedWebhookLogged pins that the function logs a webhook the
// egress guard refuses, with the address the alert's error leaves out,
// on its JSON log (stderr, the writer newTasks is given).
func TestRefusedWebhookLogged(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	log, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := newTasks(context.Background(), func(k string) string { return map[string]string{"TABLE_NAME": "t"}[k] }, log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tasks.Senders[monitor.ChannelWebhook].Send(context.Background(), monitor.Alert{WebhookURL: "http://localhost:9/hook"}, monitor.Message{Text: "hi"}); err == nil {
		t.Fatal("webhook to localhost sent, want it refused")
	}
	b, err := os.ReadFile(log.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"msg":"egress: destination refused"`) || !strings.Contains(string(b), "127.0.0.1") {
		t.Errorf("log = %q, want the refused destination and its address", b)
	}
}
