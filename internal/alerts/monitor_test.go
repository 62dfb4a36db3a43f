package alerts_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/stepmon/stepmon/internal/alerts"
	"github.com/stepmon/stepmon/internal/checks"
	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/faketwilio"
	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/motoserver"
)

// TestAlertOncePerMonitor runs the alert task with each real sender
// against its protocol peer: the first attempt fails transiently where the
// peer allows it, the task is retried by the "state machine" and run again
// by a "restarted" process, and the peer receives exactly one message.
func TestAlertOncePerMonitor(t *testing.T) {
	ctx := context.Background()

	// Webhook receiver: fails the first delivery with a 503.
	var hookCount, hookCalls atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if hookCalls.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		hookCount.Add(1)
	}))
	defer hook.Close()
	webhook := alerts.NewWebhook(alerts.WebhookOptions{Client: egress.New(egress.Options{AllowPrivate: true}).Client(0)})

	// Twilio: fails the first request with a 429.
	tw := faketwilio.New("AC1", "tok")
	defer tw.Close()
	var twCalls atomic.Int64
	tw.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if twCalls.Add(1) == 1 {
			faketwilio.WriteError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
			return true
		}
		return false
	})
	twilio := fakeTwilioSender(t, tw, 0)

	// SNS on moto_server, a topic with an HTTP subscription.
	endpoint := motoserver.Start(t)
	client := sns.NewFromConfig(motoserver.Config(endpoint))
	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	var snsMu sync.Mutex
	snsCount := 0
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		snsMu.Lock()
		snsCount++
		snsMu.Unlock()
	}))
	defer sub.Close()
	if _, err := client.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(sub.URL)}); err != nil {
		t.Fatal(err)
	}
	snsSender := alerts.NewSNS(client, alerts.SNSOptions{})

	senders := map[string]monitor.Sender{monitor.ChannelWebhook: webhook, monitor.ChannelTwilio: twilio, monitor.ChannelSNS: snsSender}
	tests := []struct {
		name      string
		alert     monitor.Alert
		delivered func() int
	}{
		{"webhook", monitor.Alert{WebhookURL: hook.URL + "/hook"}, func() int { return int(hookCount.Load()) }},
		{"twilio", monitor.Alert{Phone: "+14255550100", Channel: monitor.ChannelTwilio}, func() int { return len(tw.Messages()) }},
		{"sns topic", monitor.Alert{TopicArn: *topic.TopicArn}, func() int { snsMu.Lock(); defer snsMu.Unlock(); return snsCount }},
		{"sns sms", monitor.Alert{Phone: "+14255550123"}, func() int {
			n := 0
			for _, m := range motoSMSMessages(t, endpoint) {
				if m["phone_number"] == "+14255550123" {
					n++
				}
			}
			return n
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memstore.New()
			now := time.Now().UTC().Truncate(time.Second)
			newTasks := func() *monitor.Tasks { // a fresh process: nothing in memory
				return &monitor.Tasks{Store: store, Clock: monitor.ClockFunc(func() time.Time { return now }),
					Checkers: map[string]monitor.Checker{monitor.TargetSimulated: checks.Simulated{}}, Senders: senders,
					Sleep: func(context.Context, time.Duration) error { return nil }}
			}
			spec := monitor.Spec{JobID: "job-" + tt.name, Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 1, Outcome: monitor.StatusCompleted},
				PollingIntervalSeconds: 5, TimeoutSeconds: 60, Alert: &tt.alert}
			id := "mon-" + map[string]string{"webhook": "w", "twilio": "t", "sns topic": "st", "sns sms": "ss"}[tt.name]
			rec := monitor.Record{InstanceID: id, Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
				Input: spec, CreatedTime: now, LastUpdatedTime: now, ExpiresAt: spec.ExpiresAt(now)}
			if err := store.Create(ctx, rec); err != nil {
				t.Fatal(err)
			}
			s := monitor.State{InstanceID: id, StartedAt: now, ExpiresAt: spec.ExpiresAt(now), Spec: spec}

			tasks := newTasks()
			s, err := tasks.Check(ctx, monitor.TaskInput{State: s})
			if err != nil || !s.Check.ConditionMet {
				t.Fatalf("check = %+v, %v; want the condition met", s.Check, err)
			}
			out, err := tasks.Alert(ctx, monitor.TaskInput{State: s})
			if err != nil {
				t.Fatalf("alert: %v", err)
			}
			if out.Check.Output == nil || out.Check.Output.AlertStatus != "sent" {
				t.Fatalf("output = %+v, want the alert sent", out.Check.Output)
			}
			// The state machine retries the task (its answer was lost), then
			// the process restarts and the task runs again.
			if _, err := tasks.Alert(ctx, monitor.TaskInput{State: s}); err != nil {
				t.Fatalf("retried alert: %v", err)
			}
			if _, err := newTasks().Alert(ctx, monitor.TaskInput{State: s}); err != nil {
				t.Fatalf("alert after restart: %v", err)
			}
			if got := tt.delivered(); got != 1 {
				t.Errorf("messages delivered = %d, want exactly 1", got)
			}
			got, _ := store.Get(ctx, id)
			if got.Alert.Status != monitor.AlertSent || got.Alert.MessageID == "" {
				t.Errorf("alert state = %+v", got.Alert)
			}
		})
	}
	if hookCalls.Load() != 2 || twCalls.Load() != 2 {
		t.Errorf("webhook calls %d, twilio calls %d; want 2 each (one transient failure, one success)", hookCalls.Load(), twCalls.Load())
	}
}

// motoSMSMessages reads the SMS messages moto has recorded.
func motoSMSMessages(t *testing.T, endpoint string) []map[string]any {
	t.Helper()
	resp, err := http.Get(endpoint + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var data map[string]map[string][]map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		t.Fatalf("moto data: %v", err)
	}
	return data["sns"]["SMS"]
}

// runAlert runs the check and the alert task of a one-check simulated
// monitor with sender on the alert's channel, trying a transient failure
// three times within the task, and returns the task's output and the
// stored alert state.
func runAlert(t *testing.T, alert monitor.Alert, sender monitor.Sender) (*monitor.Output, monitor.AlertState, error) {
	t.Helper()
	return runAlertIn(t, memstore.New(), alert, sender)
}

// runAlertIn is runAlert on store, whose monitor is "mon-1".
func runAlertIn(t *testing.T, store *memstore.Store, alert monitor.Alert, sender monitor.Sender) (*monitor.Output, monitor.AlertState, error) {
	t.Helper()
	return runAlertAt(t, store, alert, sender, 0, 0)
}

// runAlertAt is runAlertIn with the alert task run as the state machine's
// retry number retries after a TransientError: the earlier runs, which
// must each return one, run first. retryCount is the task's
// $$.State.RetryCount, which an earlier definition passed it.
func runAlertAt(t *testing.T, store *memstore.Store, alert monitor.Alert, sender monitor.Sender, retries, retryCount int) (*monitor.Output, monitor.AlertState, error) {
	t.Helper()
	tasks, s := alertDue(t, store, alert, sender, 3)
	for i := range retries {
		_, err := tasks.Alert(context.Background(), monitor.TaskInput{State: s, RetryCount: i})
		var te *monitor.TransientError
		if !errors.As(err, &te) {
			t.Fatalf("run %d of %d: err = %v, want a *monitor.TransientError", i+1, retries+1, err)
		}
	}
	out, err := tasks.Alert(context.Background(), monitor.TaskInput{State: s, RetryCount: retryCount})
	got, _ := store.Get(context.Background(), "mon-1")
	return out.Check.Output, got.Alert, err
}

// alertDue creates monitor mon-1 in store, with alert sent through sender
// in sendAttempts tries per task, and runs its one check: it returns the
// tasks and the state the Alert task takes.
func alertDue(t *testing.T, store monitor.Store, alert monitor.Alert, sender monitor.Sender, sendAttempts int) (*monitor.Tasks, monitor.State) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	tasks := &monitor.Tasks{Store: store, Clock: monitor.ClockFunc(func() time.Time { return now }),
		Checkers: map[string]monitor.Checker{monitor.TargetSimulated: checks.Simulated{}}, Senders: map[string]monitor.Sender{alert.ChannelOf(): sender},
		SendAttempts: sendAttempts, Sleep: func(context.Context, time.Duration) error { return nil }}
	spec := monitor.Spec{JobID: "job-1", Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 1, Outcome: monitor.StatusCompleted},
		PollingIntervalSeconds: 5, TimeoutSeconds: 60, Alert: &alert}
	rec := monitor.Record{InstanceID: "mon-1", Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
		Input: spec, CreatedTime: now, LastUpdatedTime: now, ExpiresAt: spec.ExpiresAt(now)}
	if err := store.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	s := monitor.State{InstanceID: "mon-1", StartedAt: now, ExpiresAt: spec.ExpiresAt(now), Spec: spec}
	s, err := tasks.Check(ctx, monitor.TaskInput{State: s})
	if err != nil || !s.Check.ConditionMet {
		t.Fatalf("check = %+v, %v; want the condition met", s.Check, err)
	}
	return tasks, s
}

// wantUnknown asserts that the alert task finished the monitor with the
// alert's outcome unknown and left the claim as a crash mid-send does.
func wantUnknown(t *testing.T, out *monitor.Output, st monitor.AlertState, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("alert: %v", err)
	}
	if out == nil || out.AlertStatus != "unknown" {
		t.Fatalf("output = %+v, want alertStatus unknown", out)
	}
	if st.Status != monitor.AlertSending || st.Attempts != 1 {
		t.Errorf("alert state = %+v, want status sending after 1 attempt", st)
	}
}

// A Twilio request that the API accepted but answered after the sender's
// timeout is not sent again: Twilio takes no idempotency key, and a second
// request would be a second SMS.
func TestAlertNotResentWhenTwilioAnswersLate(t *testing.T) {
	tw := faketwilio.New("AC1", "tok")
	var calls atomic.Int64
	tw.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if calls.Add(1) == 1 {
			r.ParseForm()        // read the request, so that the client's leaving is seen
			<-r.Context().Done() // answer only after the sender has given up
		}
		return false // the fake accepts the message
	})
	twilio := fakeTwilioSender(t, tw, 200*time.Millisecond)
	out, st, err := runAlert(t, monitor.Alert{Phone: "+14255550100", Channel: monitor.ChannelTwilio}, twilio)
	tw.Close() // waits for the late answer
	wantUnknown(t, out, st, err)
	if got := len(tw.Messages()); got != 1 {
		t.Errorf("messages accepted = %d, want exactly 1", got)
	}
}

// The same holds for a webhook receiver that answers after the timeout.
func TestAlertNotResentWhenWebhookAnswersLate(t *testing.T) {
	var requests atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if requests.Add(1) == 1 {
			<-r.Context().Done()
		}
	}))
	webhook := alerts.NewWebhook(alerts.WebhookOptions{Client: egress.New(egress.Options{AllowPrivate: true}).Client(0), Timeout: 200 * time.Millisecond})
	out, st, err := runAlert(t, monitor.Alert{WebhookURL: hook.URL + "/hook"}, webhook)
	hook.Close()
	wantUnknown(t, out, st, err)
	if got := requests.Load(); got != 1 {
		t.Errorf("webhook requests = %d, want exactly 1", got)
	}
}

// A send that never reached the receiver (nothing listens on the port) is
// safe to try again, and is.
func TestAlertRetriesDialFailure(t *testing.T) {
	hook := httptest.NewServer(http.NotFoundHandler())
	url := hook.URL + "/hook"
	hook.Close()
	webhook := alerts.NewWebhook(alerts.WebhookOptions{Client: egress.New(egress.Options{AllowPrivate: true}).Client(0)})
	_, st, err := runAlert(t, monitor.Alert{WebhookURL: url}, webhook)
	var te *monitor.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("alert: err = %v, want a *monitor.TransientError", err)
	}
	if st.Status != monitor.AlertFailed || st.Attempts != 3 {
		t.Errorf("alert state = %+v, want failed after 3 attempts", st)
	}
}

// The webhook's signing secret is read before the alert is claimed, as
// Twilio's credentials are: a read that stalls until the function is
// killed must not leave the claim "sending", which no retry sends again.
func TestWebhookSecretReadBeforeTheClaim(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.ReadAll(r.Body) }))
	defer hook.Close()
	store := memstore.New()
	var seen []monitor.AlertStatus
	webhook := alerts.NewWebhook(alerts.WebhookOptions{Client: egress.New(egress.Options{AllowPrivate: true}).Client(0),
		Secret: func(ctx context.Context) ([]byte, error) {
			rec, err := store.Get(ctx, "mon-1")
			if err != nil {
				return nil, err
			}
			seen = append(seen, rec.Alert.Status)
			return []byte("key"), nil
		}})
	out, _, err := runAlertIn(t, store, monitor.Alert{WebhookURL: hook.URL}, webhook)
	if err != nil || out == nil || out.AlertStatus != "sent" {
		t.Fatalf("alert: %v, output %+v", err, out)
	}
	if len(seen) != 1 || seen[0] == monitor.AlertSending {
		t.Errorf("the secret was read with the alert %q, want once before the claim", seen)
	}
}

// flakyStore fails CompleteAlert failComplete times.
type flakyStore struct {
	*memstore.Store
	failComplete int
}

func (f *flakyStore) CompleteAlert(ctx context.Context, id string, res monitor.AlertResult) error {
	if f.failComplete > 0 {
		f.failComplete--
		return &monitor.TransientError{Message: "store: throttled"}
	}
	return f.Store.CompleteAlert(ctx, id, res)
}

// countingSender counts its sends and fails them, before anything goes
// out, while fail is set.
type countingSender struct {
	calls int
	fail  bool
}

func (c *countingSender) Send(context.Context, monitor.Alert, monitor.Message) (string, error) {
	c.calls++
	if c.fail {
		return "", &monitor.TransientError{Message: "connection refused (nothing sent)"}
	}
	return "id-1", nil
}

// A send that failed before anything went out, followed by a store error
// recording that failure, must not leave the claim "sending": the state
// machine's retry of the task sends the alert.
func TestAlertSentAfterRecordingAFailureFailedOnce(t *testing.T) {
	ctx := context.Background()
	store := &flakyStore{Store: memstore.New(), failComplete: 1}
	sender := &countingSender{fail: true}
	tasks, s := alertDue(t, store, monitor.Alert{WebhookURL: "https://hooks.example.com/x"}, sender, 1)
	var te *monitor.TransientError
	if _, err := tasks.Alert(ctx, monitor.TaskInput{State: s}); !errors.As(err, &te) {
		t.Fatalf("first attempt: err = %v, want a *monitor.TransientError", err)
	}
	if got, _ := store.Get(ctx, "mon-1"); got.Alert.Status != monitor.AlertFailed {
		t.Errorf("after the first attempt: alert status %q, want %q (the failure recorded)", got.Alert.Status, monitor.AlertFailed)
	}
	sender.fail = false // the receiver is back; the state machine retries the task
	out, err := tasks.Alert(ctx, monitor.TaskInput{State: s, RetryCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sender.calls != 2 || out.Check.Output.AlertStatus != "sent" {
		t.Errorf("after the retry: sends = %d, alert_status = %q; want a second send and \"sent\" (nothing had gone out)", sender.calls, out.Check.Output.AlertStatus)
	}
}

// A send that went out is recorded "sent" through a store error or two:
// the task tries the record as it tries a failed send's, instead of
// leaving the claim "sending" for a retry to report "unknown".
func TestAlertSentRecordedThroughAStoreHiccup(t *testing.T) {
	ctx := context.Background()
	store := &flakyStore{Store: memstore.New(), failComplete: 2}
	sender := &countingSender{}
	tasks, s := alertDue(t, store, monitor.Alert{WebhookURL: "https://hooks.example.com/x"}, sender, 1)
	out, err := tasks.Alert(ctx, monitor.TaskInput{State: s})
	if err != nil || out.Check.Output.AlertStatus != "sent" {
		t.Fatalf("alert = %v, %+v; want sent", err, out.Check.Output)
	}
	if got, _ := store.Get(ctx, "mon-1"); got.Alert.Status != monitor.AlertSent || sender.calls != 1 {
		t.Errorf("record's alert %q after %d sends, want %q after one", got.Alert.Status, sender.calls, monitor.AlertSent)
	}
}

// outageStore fails every write while down, as a full disk or a store
// outage longer than the task's tries does.
type outageStore struct {
	*memstore.Store
	down bool
}

func (o *outageStore) CompleteAlert(ctx context.Context, id string, res monitor.AlertResult) error {
	if o.down {
		return &monitor.TransientError{Message: "store: database or disk is full"}
	}
	return o.Store.CompleteAlert(ctx, id, res)
}

func (o *outageStore) Finish(ctx context.Context, id string, f monitor.Finish) error {
	if o.down {
		return &monitor.TransientError{Message: "store: database or disk is full"}
	}
	return o.Store.Finish(ctx, id, f)
}

// A send that went out while the store could take no record is reported
// "sent" by the state machine's retry of the task in the same process,
// which records it then; a retry elsewhere (another process, after a
// crash) cannot know, and reports it "unknown", saying why.
func TestAlertSentDuringAStoreOutage(t *testing.T) {
	for _, sameProcess := range []bool{true, false} {
		t.Run(fmt.Sprintf("sameProcess=%v", sameProcess), func(t *testing.T) {
			ctx := context.Background()
			store := &outageStore{Store: memstore.New()}
			sender := &countingSender{}
			tasks, s := alertDue(t, store, monitor.Alert{WebhookURL: "https://hooks.example.com/x"}, sender, 1)
			store.down = true
			var te *monitor.TransientError
			if _, err := tasks.Alert(ctx, monitor.TaskInput{State: s}); !errors.As(err, &te) {
				t.Fatalf("alert during the outage: err = %v, want a *monitor.TransientError", err)
			}
			store.down = false
			retry := tasks
			if !sameProcess {
				retry = &monitor.Tasks{Store: tasks.Store, Clock: tasks.Clock, Checkers: tasks.Checkers, Senders: tasks.Senders,
					SendAttempts: tasks.SendAttempts, Sleep: tasks.Sleep}
			}
			out, err := retry.Alert(ctx, monitor.TaskInput{State: s, RetryCount: 1})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := store.Get(ctx, "mon-1")
			o := out.Check.Output
			switch {
			case sender.calls != 1:
				t.Errorf("%d sends, want one", sender.calls)
			case sameProcess && (o.AlertStatus != "sent" || got.Alert.Status != monitor.AlertSent):
				t.Errorf("alert_status %q, record's alert %q; want sent, recorded", o.AlertStatus, got.Alert.Status)
			case !sameProcess && (o.AlertStatus != "unknown" || !strings.Contains(o.Detail, "ended before its outcome was recorded")):
				t.Errorf("alert_status %q, detail %q; want unknown, saying why", o.AlertStatus, o.Detail)
			}
		})
	}
}

// Recording a failed send is retried only within the context's deadline
// (the function's timeout on Lambda): its pauses never take the task past
// it.
func TestAlertRecordingAFailureStopsBeforeTheDeadline(t *testing.T) {
	const left = 4 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), left)
	defer cancel()
	store := &flakyStore{Store: memstore.New(), failComplete: 100}
	tasks, s := alertDue(t, store, monitor.Alert{WebhookURL: "https://hooks.example.com/x"}, &countingSender{fail: true}, 1)
	var slept time.Duration
	tasks.Sleep = func(_ context.Context, d time.Duration) error {
		slept += d
		return nil
	}
	_, err := tasks.Alert(ctx, monitor.TaskInput{State: s})
	var te *monitor.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *monitor.TransientError", err)
	}
	if slept >= left {
		t.Errorf("paused %v between the record's tries with %v left, want less", slept, left)
	}
}

// lostAnswerStore applies CompleteAlert and then fails it, lose times:
// the write landed but its answer was lost. With conflict, the failure is
// the one a store client's own retry of that write gets (the alert is no
// longer "sending"); else a transient error.
type lostAnswerStore struct {
	*memstore.Store
	lose     int
	conflict bool
}

func (l *lostAnswerStore) CompleteAlert(ctx context.Context, id string, res monitor.AlertResult) error {
	err := l.Store.CompleteAlert(ctx, id, res)
	if err != nil || l.lose == 0 {
		return err
	}
	l.lose--
	if l.conflict {
		return monitor.Errorf(monitor.KindConflict, "store: complete alert", "alert of monitor %s is %q, not sending", id, monitor.AlertFailed)
	}
	return &monitor.TransientError{Message: "store: i/o timeout"}
}

// A failed send whose record was written but whose answer was lost is
// recorded: the retried write's conflict is this send's own failure, the
// task returns a *TransientError (not a *PermanentError that would fail the
// monitor), and the state machine's retry sends the alert.
func TestAlertSentAfterRecordingAFailureAppliedButLost(t *testing.T) {
	for _, conflict := range []bool{false, true} {
		t.Run(fmt.Sprintf("conflict=%v", conflict), func(t *testing.T) {
			ctx := context.Background()
			store := &lostAnswerStore{Store: memstore.New(), lose: 1, conflict: conflict}
			sender := &countingSender{fail: true}
			tasks, s := alertDue(t, store, monitor.Alert{WebhookURL: "https://hooks.example.com/x"}, sender, 1)
			_, err := tasks.Alert(ctx, monitor.TaskInput{State: s})
			var te *monitor.TransientError
			if !errors.As(err, &te) || err != error(te) {
				t.Fatalf("first attempt: err = %T %v, want an unwrapped *monitor.TransientError", err, err)
			}
			if got, _ := store.Get(ctx, "mon-1"); got.Alert.Status != monitor.AlertFailed || got.RuntimeStatus.Final() {
				t.Errorf("after the first attempt: alert %q, record %s; want %q, live", got.Alert.Status, got.RuntimeStatus, monitor.AlertFailed)
			}
			sender.fail = false
			out, err := tasks.Alert(ctx, monitor.TaskInput{State: s})
			if err != nil {
				t.Fatal(err)
			}
			if sender.calls != 2 || out.Check.Output.AlertStatus != "sent" {
				t.Errorf("after the retry: sends = %d, alert_status = %q; want a second send and \"sent\"", sender.calls, out.Check.Output.AlertStatus)
			}
		})
	}
}

// A failed send's record refused because another claim took the alert
// meanwhile (and sent it) is not taken for this send's record: the task
// stops with a *TransientError, whose retry finds the alert as it is,
// instead of trying a second send in the same run or failing the monitor.
func TestAlertRecordingRefusedForAnotherClaim(t *testing.T) {
	ctx := context.Background()
	store := &stolenClaimStore{Store: memstore.New()}
	sender := &countingSender{fail: true}
	tasks, s := alertDue(t, store, monitor.Alert{WebhookURL: "https://hooks.example.com/x"}, sender, 2)
	out, err := tasks.Alert(ctx, monitor.TaskInput{State: s})
	var te *monitor.TransientError
	if !errors.As(err, &te) || err != error(te) {
		t.Fatalf("err = %T %v (output %+v), want an unwrapped *monitor.TransientError", err, err, out.Check.Output)
	}
	if sender.calls != 1 {
		t.Errorf("sends = %d, want 1", sender.calls)
	}
}

// stolenClaimStore records the first CompleteAlert and then lets another
// claim take the alert and send it before it answers KindConflict, as a
// store client's retry of the lost write would find it.
type stolenClaimStore struct {
	*memstore.Store
	done bool
}

func (s *stolenClaimStore) CompleteAlert(ctx context.Context, id string, res monitor.AlertResult) error {
	if s.done {
		return s.Store.CompleteAlert(ctx, id, res)
	}
	s.done = true
	if err := s.Store.CompleteAlert(ctx, id, res); err != nil {
		return err
	}
	if _, claimed, err := s.Store.ClaimAlert(ctx, id, time.Time{}, monitor.ChannelWebhook, time.Now()); err != nil || !claimed {
		return fmt.Errorf("the other claim: claimed %v, %v", claimed, err)
	}
	if err := s.Store.CompleteAlert(ctx, id, monitor.AlertResult{Sent: true, MessageID: "other", At: time.Now()}); err != nil {
		return err
	}
	return monitor.Errorf(monitor.KindConflict, "store: complete alert", "alert of monitor %s is %q, not sending", id, monitor.AlertSent)
}

// A caller's webhook that keeps failing transiently (503, a name that does
// not resolve) is retried by the state machine; on its last attempt for a
// TransientError (monitor.AlertTransientRetries runs after the first) the
// monitor ends Failed with the alert "failed" instead of the execution
// failing. Retries for Lambda's throttling, which $$.State.RetryCount
// counts too, do not bring it earlier. Transient failures of the
// deployment (Twilio's 503, the webhook secret unreadable) stay task
// errors.
func TestAlertDestinationFailingTransientlyFailsTheMonitorLast(t *testing.T) {
	var posts atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer hook.Close()
	client := egress.New(egress.Options{AllowPrivate: true}).Client(0)
	webhook := alerts.NewWebhook(alerts.WebhookOptions{Client: client})
	noSecret, twilio := deploymentFailing(t, client)
	unresolvable := "http://stepmon-test.invalid/hook"
	last := monitor.AlertTransientRetries
	tests := []struct {
		name       string
		alert      monitor.Alert
		sender     monitor.Sender
		retries    int    // the earlier runs of the task, each a TransientError
		retryCount int    // $$.State.RetryCount, as an earlier definition passed it
		failed     bool   // the monitor ends Failed; else a *TransientError
		detail     string // in output.detail when failed
	}{
		{"webhook 503, first attempt", monitor.Alert{WebhookURL: hook.URL}, webhook, 0, 0, false, ""},
		// Lambda throttled the first runs, which never ran the task.
		{"webhook 503, first run after throttling retries", monitor.Alert{WebhookURL: hook.URL}, webhook, 0, last + 3, false, ""},
		{"webhook 503, before the last attempt", monitor.Alert{WebhookURL: hook.URL}, webhook, last - 1, last - 1, false, ""},
		{"webhook 503, last attempt", monitor.Alert{WebhookURL: hook.URL}, webhook, last, last, true, "HTTP 503"},
		{"webhook 503, last attempt, no retryCount", monitor.Alert{WebhookURL: hook.URL}, webhook, last, 0, true, "HTTP 503"},
		{"webhook name unresolvable, last attempt", monitor.Alert{WebhookURL: unresolvable}, webhook, last, last, true, "stepmon-test.invalid"},
		{"webhook secret unreadable, last attempt", monitor.Alert{WebhookURL: hook.URL}, noSecret, last, last, false, ""},
		{"twilio 503, last attempt", monitor.Alert{Phone: "+14255550100", Channel: monitor.ChannelTwilio}, twilio, last, last, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memstore.New()
			out, st, err := runAlertAt(t, store, tt.alert, tt.sender, tt.retries, tt.retryCount)
			if !tt.failed {
				var te *monitor.TransientError
				if !errors.As(err, &te) || err != error(te) {
					t.Fatalf("err = %v (output %+v), want an unwrapped *monitor.TransientError for the state machine", err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want none: the monitor fails, not the execution", err)
			}
			if out == nil || out.FinalStatus != monitor.FinalFailed || out.AlertStatus != "failed" || !strings.Contains(out.Detail, tt.detail) {
				t.Fatalf("output = %+v, want final_status Failed, alert_status failed, a detail with %q", out, tt.detail)
			}
			rec, _ := store.Get(context.Background(), "mon-1")
			if rec.RuntimeStatus != monitor.RuntimeFailed || st.Status != monitor.AlertFailed {
				t.Errorf("record %s, alert %s; want Failed, failed", rec.RuntimeStatus, st.Status)
			}
		})
	}
}

// deploymentFailing returns two senders whose sends fail transiently for
// the deployment, not the alert's destination: a webhook sender through
// client whose signing secret cannot be read, and a Twilio sender whose
// API answers 503.
func deploymentFailing(t *testing.T, client *http.Client) (noSecret, twilio monitor.Sender) {
	t.Helper()
	noSecret = alerts.NewWebhook(alerts.WebhookOptions{Client: client, Secret: func(context.Context) ([]byte, error) {
		return nil, errors.New("secretsmanager: unavailable")
	}})
	tw := faketwilio.New("AC1", "tok")
	t.Cleanup(tw.Close)
	tw.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "upstream", http.StatusServiceUnavailable)
		return true
	})
	tws := fakeTwilioSender(t, tw, 0)
	return noSecret, tws
}

// The Idempotency-Key is the message's IdempotencyKey, which the alert
// task sets to the monitor run's key (monitor.AlertKey), so that a later
// monitor of the same instance id is not dropped as a repeat; a message
// without one keys on the instance id.
func TestWebhookIdempotencyKey(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, r.Header.Get(alerts.IdempotencyHeader))
	}))
	defer rc.Close()
	webhook := alerts.NewWebhook(alerts.WebhookOptions{Client: egress.New(egress.Options{AllowPrivate: true}).Client(0)})
	tasks, s := alertDue(t, memstore.New(), monitor.Alert{WebhookURL: rc.URL + "/hook"}, webhook, 3)
	if _, err := tasks.Alert(context.Background(), monitor.TaskInput{State: s}); err != nil {
		t.Fatalf("alert: %v", err)
	}
	msg := monitor.Message{Text: "t", Data: monitor.AlertData{InstanceID: "mon-1"}}
	if _, err := webhook.Send(context.Background(), monitor.Alert{WebhookURL: rc.URL}, msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	want := []string{monitor.AlertKey("mon-1", s.StartedAt), "mon-1"}
	if !slices.Equal(keys, want) || want[0] == "mon-1" {
		t.Errorf("Idempotency-Keys %q, want %q", keys, want)
	}
}

// A webhook that answers 429 or 503 with Retry-After is sent again no
// sooner than it asked, when that fits in the run (before its context's
// deadline, with an attempt's time left after the pause); a wait that does
// not fit ends the run's sends, its remaining attempts counted but not
// made, so that the state machine's last retry still ends the monitor
// Failed rather than the execution; and a wait longer than the state
// machine's remaining retries is said so in the recorded error.
func TestAlertHonoursRetryAfter(t *testing.T) {
	client := egress.New(egress.Options{AllowPrivate: true}).Client(0)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		deadline   time.Duration // of the run's context; 0 for none
		wantPauses []time.Duration
	}{
		{"429, fits", http.StatusTooManyRequests, "7", 75 * time.Second, []time.Duration{7 * time.Second}},
		{"503, fits", http.StatusServiceUnavailable, "20", 75 * time.Second, []time.Duration{20 * time.Second}},
		{"429, shorter than the backoff", http.StatusTooManyRequests, "0", 75 * time.Second, []time.Duration{time.Second}},
		{"429, no deadline, capped", http.StatusTooManyRequests, "3600", 0, []time.Duration{monitor.MaxAlertRetryAfter}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook, posts := hookFailing(t, tt.status, 1, tt.retryAfter)
			tasks, s := alertDue(t, memstore.New(), monitor.Alert{WebhookURL: hook}, alerts.NewWebhook(alerts.WebhookOptions{Client: client}), 3)
			var pauses []time.Duration
			tasks.Sleep = func(_ context.Context, d time.Duration) error { pauses = append(pauses, d); return nil }
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			out, err := tasks.Alert(ctx, monitor.TaskInput{State: s})
			if err != nil || out.Check.Output.AlertStatus != "sent" {
				t.Fatalf("alert: %v, output %+v; want sent", err, out.Check.Output)
			}
			if !slices.Equal(pauses, tt.wantPauses) || posts.Load() != 2 {
				t.Errorf("pauses %v, POSTs %d; want %v, 2", pauses, posts.Load(), tt.wantPauses)
			}
		})
	}

	t.Run("429, does not fit in the run", func(t *testing.T) {
		hook, posts := hookFailing(t, http.StatusTooManyRequests, 1<<30, "60")
		store := memstore.New()
		tasks, s := alertDue(t, store, monitor.Alert{WebhookURL: hook}, alerts.NewWebhook(alerts.WebhookOptions{Client: client}), 3)
		var pauses []time.Duration
		tasks.Sleep = func(_ context.Context, d time.Duration) error { pauses = append(pauses, d); return nil }
		for run := 0; run <= monitor.AlertTransientRetries; run++ {
			ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
			out, err := tasks.Alert(ctx, monitor.TaskInput{State: s})
			cancel()
			rec, _ := store.Get(context.Background(), "mon-1")
			if run < monitor.AlertTransientRetries {
				var te *monitor.TransientError
				if !errors.As(err, &te) || !strings.Contains(err.Error(), "asked to wait 1m0s (Retry-After)") {
					t.Fatalf("run %d: err = %v, want a *monitor.TransientError naming the Retry-After", run, err)
				}
				if rec.Alert.Attempts != 3*(run+1) || !strings.Contains(rec.Alert.LastError, "Retry-After") {
					t.Fatalf("run %d: alert %+v, want %d attempts counted, the Retry-After in the error", run, rec.Alert, 3*(run+1))
				}
				continue
			}
			if err != nil || out.Check.Output.FinalStatus != monitor.FinalFailed || out.Check.Output.AlertStatus != "failed" {
				t.Fatalf("last run: %v, output %+v; want the monitor Failed", err, out.Check.Output)
			}
		}
		if want := int64(1 + monitor.AlertTransientRetries); posts.Load() != want || len(pauses) != 0 {
			t.Errorf("POSTs %d, pauses %v; want %d POSTs, one a run, and no pause", posts.Load(), pauses, want)
		}
	})

	t.Run("429, longer than the retries", func(t *testing.T) {
		hook, _ := hookFailing(t, http.StatusTooManyRequests, 1<<30, "3600")
		store := memstore.New()
		tasks, s := alertDue(t, store, monitor.Alert{WebhookURL: hook}, alerts.NewWebhook(alerts.WebhookOptions{Client: client}), 3)
		ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
		defer cancel()
		_, err := tasks.Alert(ctx, monitor.TaskInput{State: s})
		rec, _ := store.Get(context.Background(), "mon-1")
		want := fmt.Sprintf("the state machine's %d remaining retries wait", monitor.AlertTransientRetries)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(rec.Alert.LastError, want) {
			t.Errorf("err = %v, lastError %q; want both to say %q", err, rec.Alert.LastError, want)
		}
	})
}

// fakeTwilioSender is a Twilio sender from +15005550006 to tw, the fake
// Twilio of account AC1 (token "tok"), each send bounded by timeout (0:
// the sender's default).
func fakeTwilioSender(t *testing.T, tw *faketwilio.Server, timeout time.Duration) *alerts.Twilio {
	t.Helper()
	twilio, err := alerts.NewTwilio(alerts.TwilioOptions{From: "+15005550006", BaseURL: tw.URL, Timeout: timeout,
		Credentials: func(context.Context) (alerts.TwilioCredentials, error) {
			return alerts.TwilioCredentials{AccountSID: "AC1", AuthToken: "tok"}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return twilio
}
