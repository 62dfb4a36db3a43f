package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/alerts"
	"github.com/stepmon/stepmon/internal/apigw"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/monitor"
)

// Once the retention period has passed, a finished monitor's status record
// and its execution with the history are deleted; a running monitor keeps
// both.
func TestRetentionPurgesFinishedMonitors(t *testing.T) {
	const retention = time.Hour
	rt := newTestRuntimeWith(t, Config{Retention: retention})
	base := rt.URL()
	ctx := context.Background()
	a := call(t, http.MethodPost, base+"/monitors", `{"instanceId":"done","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":1,"timeoutSeconds":60}`)
	wantStatus(t, a, http.StatusAccepted, "start done")
	a = call(t, http.MethodPost, base+"/monitors", `{"instanceId":"live","target":{"type":"simulated","completeAfterChecks":1000},"pollingIntervalSeconds":60,"timeoutSeconds":3600}`)
	wantStatus(t, a, http.StatusAccepted, "start live")
	waitFinal(t, base+"/monitors/done", 20*time.Second)
	arns := map[string]string{}
	for _, id := range []string{"done", "live"} {
		rec := call(t, http.MethodGet, base+"/monitors/"+id, "").json(t)
		arn, _ := rec["executionArn"].(string)
		if arn == "" {
			t.Fatalf("%s: no executionArn in %v", id, rec)
		}
		arns[id] = arn
	}
	// The check finishes the monitor's record; its execution ends after
	// that, once the check's result is back.
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if x, err := rt.engine.Wait(wctx, arns["done"]); err != nil || x.Status == engine.StatusRunning {
		t.Fatalf("execution of the finished monitor: %+v, %v; want it ended", x, err)
	}

	// Within the retention period nothing goes.
	if recs, execs, err := rt.purgeExpired(ctx, time.Now().Add(retention/2)); err != nil || recs+execs != 0 {
		t.Fatalf("purge within the retention period: %d records, %d executions, %v; want none", recs, execs, err)
	}
	recs, execs, err := rt.purgeExpired(ctx, time.Now().Add(retention+time.Minute))
	if err != nil || recs != 1 || execs != 1 {
		t.Fatalf("purge after the retention period: %d records, %d executions, %v; want 1 and 1", recs, execs, err)
	}
	wantStatus(t, call(t, http.MethodGet, base+"/monitors/done", ""), http.StatusNotFound, "status of the purged monitor")
	if _, err := rt.engineStore.GetExecution(ctx, arns["done"]); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
		t.Errorf("execution of the purged monitor: %v; want ErrExecutionDoesNotExist", err)
	}
	wantStatus(t, call(t, http.MethodGet, base+"/monitors/live", ""), http.StatusAccepted, "status of the running monitor")
	if x, err := rt.engineStore.GetExecution(ctx, arns["live"]); err != nil || x.Status != engine.StatusRunning {
		t.Errorf("execution of the running monitor: %+v, %v; want RUNNING", x, err)
	}
}

// The closed executions of a STANDARD state machine created through the
// Step Functions API stay for the 90 days Step Functions keeps them (and
// hold their names as long); an EXPRESS machine's, which Step Functions
// does not keep at all, go with the monitors' retention period.
func TestRetentionOfOtherStateMachines(t *testing.T) {
	const retention = time.Hour
	rt := newTestRuntimeWith(t, Config{Retention: retention})
	base := rt.URL()
	ctx := context.Background()
	const pass = `"definition":"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}"`
	a := sfnCall(t, base, "CreateStateMachine", `{"name":"mine","roleArn":"arn:aws:iam::123456789012:role/r",`+pass+`}`)
	wantStatus(t, a, http.StatusOK, "CreateStateMachine")
	smArn, _ := a.json(t)["stateMachineArn"].(string)
	a = sfnCall(t, base, "CreateStateMachine", `{"name":"quick","type":"EXPRESS","roleArn":"arn:aws:iam::123456789012:role/r",`+pass+`}`)
	wantStatus(t, a, http.StatusOK, "CreateStateMachine EXPRESS")
	expressArn, _ := a.json(t)["stateMachineArn"].(string)
	a = sfnCall(t, base, "StartSyncExecution", `{"stateMachineArn":"`+expressArn+`","name":"once"}`)
	wantStatus(t, a, http.StatusOK, "StartSyncExecution")
	expressExec, _ := a.json(t)["executionArn"].(string)
	a = sfnCall(t, base, "StartExecution", `{"stateMachineArn":"`+smArn+`","name":"kept"}`)
	wantStatus(t, a, http.StatusOK, "StartExecution")
	arn, _ := a.json(t)["executionArn"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for {
		x, err := rt.engineStore.GetExecution(ctx, arn)
		if err == nil && x.Status == engine.StatusSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s: %+v, %v; want SUCCEEDED", arn, x, err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if _, execs, err := rt.purgeExpired(ctx, time.Now().Add(retention+time.Minute)); err != nil || execs != 1 {
		t.Fatalf("purge after the monitors' retention period: %d executions, %v; want the EXPRESS one", execs, err)
	}
	if _, err := rt.engineStore.GetExecution(ctx, expressExec); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
		t.Errorf("the EXPRESS execution after the monitors' retention: %v; want ErrExecutionDoesNotExist", err)
	}
	if _, err := rt.engineStore.GetExecution(ctx, arn); err != nil {
		t.Fatalf("the STANDARD machine's execution after the monitors' retention: %v; want kept", err)
	}
	wantStatus(t, sfnCall(t, base, "StartExecution", `{"stateMachineArn":"`+smArn+`","name":"kept"}`), http.StatusBadRequest,
		"StartExecution reusing the name of a closed execution")

	if _, execs, err := rt.purgeExpired(ctx, time.Now().Add(apiExecutionRetention+time.Minute)); err != nil || execs != 1 {
		t.Fatalf("purge after 90 days: %d executions, %v; want 1", execs, err)
	}
	if _, err := rt.engineStore.GetExecution(ctx, arn); !errors.Is(err, engine.ErrExecutionDoesNotExist) {
		t.Errorf("the STANDARD machine's execution after 90 days: %v; want ErrExecutionDoesNotExist", err)
	}
}

// A retention period changed between two runs applies to the monitors
// that finished before the change too: lowered, their status records go
// with their executions, where the records stayed until the purge time
// set when they finished, pointing at executions that no longer existed.
func TestRetentionChangeAppliesToFinishedMonitors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, Retention: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Shutdown(context.Background()) }) // on a failure; the test shuts it down itself
	errc := make(chan error, 1)
	go func() { errc <- first.Serve(ctx) }()
	waitHealthy(t, first.URL())
	a := call(t, http.MethodPost, first.URL()+"/monitors", `{"instanceId":"done","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":1,"timeoutSeconds":60}`)
	wantStatus(t, a, http.StatusAccepted, "start done")
	rec := waitFinal(t, first.URL()+"/monitors/done", 20*time.Second)
	arn, _ := rec["executionArn"].(string)
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Serve: %v", err)
	}

	time.Sleep(1100 * time.Millisecond) // the new period has passed since the monitor finished
	rt := newTestRuntimeWith(t, Config{DataDir: dir, Retention: time.Second})
	// The sweep at start-up has run by the time the runtime is healthy or
	// soon after; give it a few seconds.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, recErr := rt.statusStore.Get(ctx, "done")
		_, execErr := rt.engineStore.GetExecution(ctx, arn)
		if monitor.IsKind(recErr, monitor.KindNotFound) && errors.Is(execErr, engine.ErrExecutionDoesNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a restart with a 1 s retention: status record %v, execution %v; want both deleted", recErr, execErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", `{"instanceId":"done","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":1,"timeoutSeconds":60}`),
		http.StatusAccepted, "start the purged id again")
}

// The retention sweep drops from the alert outbox the alerts sent more
// than the retention period ago, and keeps the recent ones, which the
// outbox appends after.
func TestRetentionTrimsTheOutbox(t *testing.T) {
	const retention = time.Hour
	dir := t.TempDir()
	now := time.Now().UTC()
	var lines []byte
	for i, sent := range []time.Time{now.Add(-3 * retention), now.Add(-retention - time.Minute), now.Add(-retention / 2)} {
		b, err := json.Marshal(alerts.OutboxEntry{ID: fmt.Sprintf("outbox-m-%d", i+1), SentAt: sent, Channel: "sns", To: "+14255550100"})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, b...), '\n')
	}
	path := filepath.Join(dir, OutboxFile)
	if err := os.WriteFile(path, lines, 0o600); err != nil {
		t.Fatal(err)
	}
	rt := newTestRuntimeWith(t, Config{DataDir: dir, Retention: retention})
	// The sweep at start-up trims it.
	var ids []string
	for deadline := time.Now().Add(10 * time.Second); ; {
		ids = outboxIDs(t, path)
		if len(ids) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if want := []string{"outbox-m-3"}; !slices.Equal(ids, want) {
		t.Fatalf("outbox after the sweep at start-up: %q, want %q", ids, want)
	}
	if n, err := rt.trimOutbox(now); err != nil || n != 0 {
		t.Errorf("a second trim: %d lines dropped, %v; want none", n, err)
	}
	// The last line stays even when old: the ids go on from it.
	if n, err := rt.trimOutbox(now.Add(retention)); err != nil || n != 0 {
		t.Errorf("trim once the last alert is old: %d lines dropped, %v; want none", n, err)
	}
	if ids := outboxIDs(t, path); !slices.Equal(ids, []string{"outbox-m-3"}) {
		t.Errorf("outbox once the last alert is old: %q, want its last line kept", ids)
	}
}

// outboxIDs returns the ids of the lines of the outbox file at path.
func outboxIDs(tb testing.TB, path string) []string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for line := range bytes.Lines(b) {
		var e alerts.OutboxEntry
		if err := json.Unmarshal(line, &e); err != nil {
			tb.Fatalf("outbox line %q: %v", line, err)
		}
		ids = append(ids, e.ID)
	}
	return ids
}

// drain purges batch after batch until one comes back short of a full
// batch, and adds them up; it stops at the first error, or when its
// context ends between two batches.
func TestDrain(t *testing.T) {
	errPurge := errors.New("disk full")
	tests := []struct {
		name      string
		batches   []int // what each call deletes
		failAt    int   // the call (1-based) that fails, 0 for none
		cancelAt  int   // the call after which the context ends, 0 for none
		wantTotal int
		wantCalls int
		wantErr   error
	}{
		{"nothing to delete", []int{0}, 0, 0, 0, 1, nil},
		{"a short batch", []int{37}, 0, 0, 37, 1, nil},
		{"full batches, then a short one", []int{retentionBatch, retentionBatch, 3}, 0, 0, 2*retentionBatch + 3, 3, nil},
		{"full batches, then an empty one", []int{retentionBatch, 0}, 0, 0, retentionBatch, 2, nil},
		{"an error after a full batch", []int{retentionBatch, retentionBatch, 5}, 2, 0, 2 * retentionBatch, 2, errPurge},
		{"cancelled between batches", []int{retentionBatch, retentionBatch, 5}, 0, 1, retentionBatch, 1, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			total, err := drain(ctx, func() (int, error) {
				calls++
				if calls == tt.cancelAt {
					cancel()
				}
				n := tt.batches[calls-1]
				if calls == tt.failAt {
					return n, errPurge
				}
				return n, nil
			})
			if total != tt.wantTotal || calls != tt.wantCalls || !errors.Is(err, tt.wantErr) {
				t.Errorf("drain = %d, %v after %d calls; want %d, %v after %d", total, err, calls, tt.wantTotal, tt.wantErr, tt.wantCalls)
			}
		})
	}
}

// Finished monitors are kept for the configured retention period, and
// for monitor.DefaultRetention when none is set.
func TestRetentionPeriod(t *testing.T) {
	for _, tt := range []struct {
		configured, want time.Duration
	}{
		{0, monitor.DefaultRetention},
		{time.Hour, time.Hour},
		{time.Second, time.Second},
	} {
		if got := (&Runtime{cfg: Config{Retention: tt.configured}}).retention(); got != tt.want {
			t.Errorf("retention with --retention %v = %v, want %v", tt.configured, got, tt.want)
		}
	}
}

// The retention sweep keeps the execution of a monitor whose end the
// status function has not taken yet, past the retention period, and
// deletes it once the end is delivered: deleted first, the end counted as
// delivered (its execution gone) and the monitor's record said Running
// for good (a status store down for longer than the retention period, or
// a restart whose sweep of undelivered ends lost the race with the
// retention sweep).
func TestRetentionKeepsUndeliveredEnds(t *testing.T) {
	const retention = time.Hour
	rt := newTestRuntimeWith(t, Config{Retention: retention})
	ctx := context.Background()
	var down atomic.Bool
	down.Store(true)
	status := apigw.NewFunction(apigw.NewHandler(rt.api, quietLogger()))
	// The status function fails the ends it is given (EventBridge
	// events), and serves the API's requests as before.
	rt.funcs.Register(StatusFunction, func(ctx context.Context, ev json.RawMessage) (any, error) {
		if down.Load() && bytes.Contains(ev, []byte(`"detail-type"`)) {
			return nil, errors.New("TransientError: database or disk is full (13)")
		}
		return status.Invoke(ctx, ev)
	})
	a := call(t, http.MethodPost, rt.URL()+"/monitors", `{"instanceId":"stopped","target":{"type":"simulated","completeAfterChecks":1000},"pollingIntervalSeconds":60,"timeoutSeconds":3600}`)
	wantStatus(t, a, http.StatusAccepted, "start")
	var arn string
	for deadline := time.Now().Add(10 * time.Second); arn == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the started monitor's status never named its execution")
		}
		arn, _ = call(t, http.MethodGet, rt.URL()+"/monitors/stopped", "").json(t)["executionArn"].(string)
	}
	// Stopped outside the monitor API (the console, the CLI): only the
	// end's delivery tells the record.
	if _, err := rt.engine.StopExecution(ctx, arn, "Stopped", "by hand"); err != nil {
		t.Fatal(err)
	}
	if _, execs, err := rt.purgeExpired(ctx, time.Now().Add(retention+time.Minute)); err != nil || execs != 0 {
		t.Fatalf("purge while the end is undelivered: %d executions, %v; want none", execs, err)
	}
	if _, err := rt.engineStore.GetExecution(ctx, arn); err != nil {
		t.Fatalf("the execution whose end is undelivered: %v; want it kept", err)
	}
	down.Store(false)
	rec := waitFinal(t, rt.URL()+"/monitors/stopped", 30*time.Second)
	if rec["runtimeStatus"] != "Terminated" {
		t.Fatalf("the stopped monitor: %v, want Terminated", rec["runtimeStatus"])
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, execs, err := rt.purgeExpired(ctx, time.Now().Add(retention+time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if execs == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the execution was never purged once its end was delivered")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
