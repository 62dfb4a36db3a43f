package main

import (
	"io"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
)

// The DynamoDB actions the check task calls, through the store newTasks
// builds, are the ones the stack grants the check function: a check that
// consumes an event and records its result, one that completes the
// monitor, and one of a monitor that has expired.
func TestTableActions(t *testing.T) {
	db := lambdatest.NewDynamoDB(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	spec := monitor.Spec{JobID: "job-1", Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 2, Outcome: monitor.StatusCompleted},
		PollingIntervalSeconds: 5, TimeoutSeconds: 60}
	store := db.Store()
	create := func(id string) monitor.State {
		t.Helper()
		if err := store.Create(ctx, monitor.Record{InstanceID: id, Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
			Input: spec, CreatedTime: now, LastUpdatedTime: now, ExpiresAt: spec.ExpiresAt(now)}); err != nil {
			t.Fatal(err)
		}
		return monitor.State{InstanceID: id, StartedAt: now, ExpiresAt: spec.ExpiresAt(now), Spec: spec}
	}
	running, expired := create("mon-1"), create("mon-2")
	expired.ExpiresAt = now.Add(-time.Second)
	if err := store.AddEvent(ctx, "mon-1", monitor.Event{Name: monitor.EventSetInterval, Data: []byte(`{"intervalSeconds":10}`), RaisedAt: now}); err != nil {
		t.Fatal(err)
	}

	ops := db.Record(t)
	tasks, err := newTasks(ctx, env(map[string]string{"TABLE_NAME": lambdatest.TableName}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if running, err = tasks.Check(ctx, monitor.TaskInput{State: running}); err != nil {
			t.Fatal(err)
		}
	}
	if out := running.Check.Output; out == nil {
		t.Errorf("after two checks: %+v, want the monitor finished", running.Check)
	}
	if expired, err = tasks.Check(ctx, monitor.TaskInput{State: expired}); err != nil || !expired.Check.Expired {
		t.Fatalf("check of the expired monitor: %+v, %v; want it expired", expired.Check, err)
	}
	lambdatest.WantGranted(t, "check", ops)
}
