package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/checks"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
)

// answerLost applies the first CompleteAlert and answers it as a store
// client's retry of that write would when the first answer was lost: the
// alert is no longer "sending" (KindConflict).
type answerLost struct {
	monitor.Store
	lost bool
}

func (a *answerLost) CompleteAlert(ctx context.Context, id string, res monitor.AlertResult) error {
	if err := a.Store.CompleteAlert(ctx, id, res); err != nil || a.lost {
		return err
	}
	a.lost = true
	return monitor.Errorf(monitor.KindConflict, "store: complete alert", "alert of monitor %s is %q, not sending", id, monitor.AlertFailed)
}

// flakySender fails its first send transiently, with nothing sent.
type flakySender struct{ calls int }

func (f *flakySender) Send(context.Context, monitor.Alert, monitor.Message) (string, error) {
	f.calls++
	if f.calls == 1 {
		return "", &monitor.TransientError{Message: "connection refused (nothing sent)"}
	}
	return "id-1", nil
}

// The DynamoDB actions the alert task calls, through the store newTasks
// builds, are the ones the stack grants the alert function: a failed
// send, recorded on a write whose answer was lost (the conflict reads the
// record), then the retry that sends and finishes the monitor.
func TestTableActions(t *testing.T) {
	db := lambdatest.NewDynamoDB(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	alert := monitor.Alert{WebhookURL: "https://hooks.example.com/x"}
	spec := monitor.Spec{JobID: "job-1", Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 1, Outcome: monitor.StatusCompleted},
		PollingIntervalSeconds: 5, TimeoutSeconds: 60, Alert: &alert}
	setup := &monitor.Tasks{Store: db.Store(), Clock: monitor.SystemClock,
		Checkers: map[string]monitor.Checker{monitor.TargetSimulated: checks.Simulated{}}}
	if err := setup.Store.Create(ctx, monitor.Record{InstanceID: "mon-1", Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
		Input: spec, CreatedTime: now, LastUpdatedTime: now, ExpiresAt: spec.ExpiresAt(now)}); err != nil {
		t.Fatal(err)
	}
	s, err := setup.Check(ctx, monitor.TaskInput{State: monitor.State{InstanceID: "mon-1", StartedAt: now, ExpiresAt: spec.ExpiresAt(now), Spec: spec}})
	if err != nil || !s.Check.ConditionMet {
		t.Fatalf("check = %+v, %v; want the condition met", s.Check, err)
	}

	ops := db.Record(t)
	tasks, err := newTasks(ctx, func(k string) string { return map[string]string{"TABLE_NAME": lambdatest.TableName}[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sender := &flakySender{}
	tasks.Store = &answerLost{Store: tasks.Store}
	tasks.Senders = map[string]monitor.Sender{alert.ChannelOf(): sender}
	tasks.SendAttempts = 1
	tasks.Sleep = func(context.Context, time.Duration) error { return nil }
	if _, err := tasks.Alert(ctx, monitor.TaskInput{State: s}); err == nil {
		t.Fatal("first attempt: no error, want the failed send's transient error")
	}
	out, err := tasks.Alert(ctx, monitor.TaskInput{State: s})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := out.Check.Output; got == nil || got.AlertStatus != "sent" {
		t.Fatalf("retry: output %+v, want the alert sent", got)
	}
	lambdatest.WantGranted(t, "alert", ops)
}
