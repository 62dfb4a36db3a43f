package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/stepmon/stepmon/internal/faketwilio"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/motoserver"
	"github.com/stepmon/stepmon/internal/testtool"
)

// startWithAlert starts a simulated job monitor that finishes at its
// first check and sends alert.
func startWithAlert(t *testing.T, base, id string, alert map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"instanceId": id, "target": map[string]any{"type": "simulated", "completeAfterChecks": 1},
		"pollingIntervalSeconds": 1, "timeoutSeconds": 60, "alert": alert})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, call(t, http.MethodPost, base+"/monitors", string(body)), http.StatusAccepted, "start "+id)
}

// sentAlert waits for the monitor id to finish and returns its alert's
// message id as the status store holds it, failing unless the alert was
// sent.
func sentAlert(t *testing.T, rt *Runtime, id string) string {
	t.Helper()
	rec := waitFinal(t, rt.URL()+"/monitors/"+id, 30*time.Second)
	alert, _ := rec["alert"].(map[string]any)
	if out := output(t, rec); rec["runtimeStatus"] != "Completed" || out["alert_status"] != "sent" || alert["status"] != "sent" {
		t.Fatalf("%s: runtimeStatus %v, output %v, alert %v; want Completed with the alert sent", id, rec["runtimeStatus"], out, alert)
	}
	stored, err := rt.statusStore.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return stored.Alert.MessageID
}

// With Twilio and an SNS endpoint configured, SMS alerts on channel
// twilio go to Twilio, topic alerts and other SMS to SNS, signed with the runtime's
// credentials for its region, and none of them to the outbox.
func TestAlertsToConfiguredChannels(t *testing.T) {
	endpoint := motoserver.Start(t)
	ctx := context.Background()
	// A region other than moto's default: the topic exists only there.
	const region = "eu-west-2"
	cfg := motoserver.Config(endpoint)
	cfg.Region = region
	topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("stepmon-local-ops")})
	if err != nil {
		t.Fatalf("create the topic: %v", err)
	}
	tw := faketwilio.New("AC0123", "token-0123")
	t.Cleanup(tw.Close)

	// The runtime reaches SNS through a proxy that keeps the requests'
	// signatures.
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var signatures []string
	fwd := httputil.NewSingleHostReverseProxy(target)
	snsProxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		signatures = append(signatures, r.Header.Get("Authorization"))
		mu.Unlock()
		fwd.ServeHTTP(w, r)
	}))
	t.Cleanup(snsProxy.Close)

	dir := t.TempDir()
	rt := newTestRuntimeWith(t, Config{DataDir: dir, SNSEndpoint: snsProxy.URL, AWSRegion: region,
		AWSAccessKeyID: "AKIDLOCALTEST", AWSSecretAccessKey: "local-secret",
		Twilio: TwilioConfig{AccountSID: "AC0123", AuthToken: "token-0123", From: "+15005550006", BaseURL: tw.URL}})
	base := rt.URL()
	startWithAlert(t, base, "by-twilio", map[string]any{"phone": "+14255550100", "channel": "twilio", "message": "{{.JobID}} done"})
	startWithAlert(t, base, "by-topic", map[string]any{"topicArn": *topic.TopicArn})
	startWithAlert(t, base, "by-sns-sms", map[string]any{"phone": "+14255550101"})

	sms := sentAlert(t, rt, "by-twilio")
	msgs := tw.Messages()
	if len(msgs) != 1 || msgs[0].To != "+14255550100" || msgs[0].From != "+15005550006" || msgs[0].Body != "by-twilio done" {
		t.Fatalf("Twilio's messages: %+v; want one to +14255550100 from +15005550006 saying %q", msgs, "by-twilio done")
	}
	if sms != msgs[0].SID {
		t.Errorf("the SMS alert's messageId %q, want Twilio's SID %s", sms, msgs[0].SID)
	}
	if id := sentAlert(t, rt, "by-topic"); id == "" || strings.HasPrefix(id, "outbox-") {
		t.Errorf("the topic alert's messageId %q, want the one SNS gave", id)
	}
	if id := sentAlert(t, rt, "by-sns-sms"); id == "" || strings.HasPrefix(id, "outbox-") {
		t.Errorf("the SNS SMS alert's messageId %q, want the one SNS gave", id)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(signatures) != 2 {
		t.Errorf("%d requests to SNS, want 2 (the topic's alert and the SMS)", len(signatures))
	}
	for _, sig := range signatures {
		if !strings.Contains(sig, "Credential=AKIDLOCALTEST/") || !strings.Contains(sig, "/"+region+"/sns/aws4_request") {
			t.Errorf("a request to SNS signed %q; want the runtime's access key for %s", sig, region)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, OutboxFile)); err != nil && !errors.Is(err, fs.ErrNotExist) || len(b) > 0 {
		t.Errorf("the outbox holds %q (%v); want nothing, every channel being configured", b, err)
	}
}

// Without a channel configured, an alert goes to the outbox and shows in
// the server's log too, with the monitor, the channel, the recipient and
// the outbox's message id: a topic by its ARN, a phone number by its last
// four digits only (the log keeps no phone number).
func TestOutboxAlertLogged(t *testing.T) {
	logs := &testtool.SyncBuffer{}
	rt := newTestRuntimeWith(t, Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	const topic = "arn:aws:sns:us-east-1:000000000000:ops"
	for _, tt := range []struct {
		id     string
		alert  map[string]any
		wantTo string
	}{
		{"to-topic", map[string]any{"topicArn": topic}, topic},
		{"to-phone", map[string]any{"phone": "+14255550100"}, "(phone ending 0100)"},
	} {
		startWithAlert(t, rt.URL(), tt.id, tt.alert)
		id := sentAlert(t, rt, tt.id)
		var logged map[string]any
		for line := range strings.Lines(logs.String()) {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "alert (local outbox)" && rec["instanceId"] == tt.id {
				logged = rec
			}
		}
		want := map[string]any{"component": "outbox", "channel": "sns", "to": tt.wantTo, "messageId": id}
		for k, v := range want {
			if logged[k] != v {
				t.Errorf("the outbox's log record %v: %s = %v, want %v", logged, k, logged[k], v)
			}
		}
	}
	if strings.Contains(logs.String(), "4255550100") {
		t.Errorf("the log holds the phone number:\n%s", logs.String())
	}
}

// TestEveryTargetTypeAndChannelWired: the runtime has a checker for each
// target type a start accepts and a sender for each alert channel, so a
// type or channel added to internal/monitor without one here fails this
// test, not its monitors at their first check or alert.
func TestEveryTargetTypeAndChannelWired(t *testing.T) {
	rt := newTestRuntime(t)
	senders, box, err := rt.senders()
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	tasks, err := rt.tasks(senders)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range monitor.TargetTypes() {
		if tasks.Checkers[typ] == nil {
			t.Errorf("no checker for target type %s", typ)
		}
	}
	for _, c := range monitor.Channels() {
		if tasks.Senders[c] == nil {
			t.Errorf("no sender for channel %s", c)
		}
	}
}

// TestGitHubWarningInTheServersLog: the GitHub checker's warning about a
// repository it may not read goes to the runtime's log, as every line of
// serve's does (JSON with --log-json, filtered by --log-level), not to
// the process's default logger.
func TestGitHubWarningInTheServersLog(t *testing.T) {
	github := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"Resource protected by organization SAML enforcement"}`)
	}))
	defer github.Close()
	logs := &testtool.SyncBuffer{}
	rt := newTestRuntimeWith(t, Config{GitHubAPIURL: github.URL, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors",
		`{"instanceId":"saml","target":{"type":"github","repo":"o/r"},"alert":{"webhookUrl":"http://127.0.0.1:1/hook"}}`),
		http.StatusAccepted, "start saml")
	if rec := waitFinal(t, rt.URL()+"/monitors/saml", 30*time.Second); rec["runtimeStatus"] != "Failed" {
		t.Fatalf("runtimeStatus %v, want Failed on the repository refused", rec["runtimeStatus"])
	}
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(fmt.Sprint(rec["msg"]), "GitHub refused access to a repository") {
			if rec["component"] != "tasks" || rec["repo"] != "o/r" || rec["instanceId"] != "saml" {
				t.Errorf("the warning %v; want component tasks, repo o/r, instanceId saml", rec)
			}
			return
		}
	}
	t.Errorf("no warning about the refused repository in the runtime's log:\n%s", logs.String())
}

// A task's error is logged as the functions log it on AWS ("check
// failed", with the monitor and the error), not only recorded in the
// execution's history: here a check whose state names no instance id,
// which fails its execution.
func TestTaskErrorsLogged(t *testing.T) {
	logs := &testtool.SyncBuffer{}
	rt := newTestRuntimeWith(t, Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	now := time.Now().UTC()
	in, err := json.Marshal(monitor.TaskInput{State: monitor.State{StartedAt: now, ExpiresAt: now.Add(time.Hour),
		Spec: monitor.Spec{JobID: "j", Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 2, Outcome: monitor.StatusCompleted},
			PollingIntervalSeconds: 1, TimeoutSeconds: 3600}},
		ExecutionArn: "arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor:no-record"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.funcs.Invoke(t.Context(), CheckFunction, in); err == nil {
		t.Fatal("check of a state without an instance id succeeded")
	}
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "check failed" {
			if rec["level"] != "ERROR" || rec["errorType"] != "PermanentError" || !strings.Contains(fmt.Sprint(rec["err"]), "no instanceId") {
				t.Errorf("the task's error logged as %v; want ERROR, errorType PermanentError, the error", rec)
			}
			return
		}
	}
	t.Errorf("no \"check failed\" line in the runtime's log:\n%s", logs.String())
}
