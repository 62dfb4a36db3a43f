package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// claim writes the status record a start writes before it starts the
// execution: Pending, no execution ARN.
func claim(t *testing.T, rt *Runtime, id string, at time.Time) monitor.Spec {
	t.Helper()
	spec := monitor.Spec{JobID: id, Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 1},
		PollingIntervalSeconds: 1, TimeoutSeconds: 60}
	rec := monitor.Record{InstanceID: id, Name: monitor.NameFor(spec), RuntimeStatus: monitor.RuntimePending,
		Input: spec, CreatedTime: at, LastUpdatedTime: at, ExpiresAt: spec.ExpiresAt(at)}
	if err := rt.statusStore.Create(context.Background(), rec); err != nil {
		t.Fatalf("claim %s: %v", id, err)
	}
	return spec
}

// A kill -9 between a start's claim of an instance id and its execution
// reaching the engine left the record Pending with no execution: every
// later start of the id answered 409. The next start-up releases such a
// claim, so the id can be started again.
func TestRestartReleasesClaimWithoutExecution(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	crashed, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	claim(t, crashed, "orphan", time.Now().Add(-time.Second))
	if err := crashed.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	rt := newTestRuntimeWith(t, Config{DataDir: dir})
	if _, err := rt.statusStore.Get(ctx, "orphan"); !monitor.IsKind(err, monitor.KindNotFound) {
		t.Fatalf("the orphaned claim after the restart: %v, want it released (not found)", err)
	}
	body := `{"instanceId":"orphan","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":1,"timeoutSeconds":60}`
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start orphan again")
	if rec := waitFinal(t, rt.URL()+"/monitors/orphan", 10*time.Second); rec["runtimeStatus"] != "Completed" {
		t.Errorf("orphan started again: runtimeStatus %v, want Completed", rec["runtimeStatus"])
	}
}

// A claim whose execution the engine holds (the crash came after the
// engine committed the start, before the ARN was recorded) gets the
// execution's ARN, so that terminate can stop it; a claim younger than
// the cut-off is left alone.
func TestMendClaimsRecordsExecution(t *testing.T) {
	ctx := context.Background()
	rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Shutdown(ctx)
	// The check holds the execution in its first Check task, so that no
	// check records the ARN meanwhile.
	release := make(chan struct{})
	defer close(release)
	rt.funcs.Register(CheckFunction, func(ctx context.Context, in json.RawMessage) (json.RawMessage, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	})
	now := time.Now()
	// The start stamps the claim and the execution's input with the
	// same time, the monitor's start.
	claimed := now.Add(-time.Second)
	spec := claim(t, rt, "linked", claimed)
	input, err := json.Marshal(monitor.State{InstanceID: "linked", StartedAt: claimed, ExpiresAt: spec.ExpiresAt(claimed), Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	x, err := rt.engine.StartExecution(ctx, rt.smArn, "linked", string(input))
	if err != nil {
		t.Fatal(err)
	}
	claim(t, rt, "young", now.Add(time.Second))

	linked, released, err := rt.mendClaims(ctx, now)
	if err != nil || linked != 1 || released != 0 {
		t.Fatalf("mendClaims = %d linked, %d released, %v; want 1, 0", linked, released, err)
	}
	rec, err := rt.statusStore.Get(ctx, "linked")
	if err != nil || rec.ExecutionArn != x.Arn {
		t.Errorf("linked: executionArn %q, %v; want %q", rec.ExecutionArn, err, x.Arn)
	}
	if rec, err := rt.statusStore.Get(ctx, "young"); err != nil || rec.RuntimeStatus != monitor.RuntimePending {
		t.Errorf("young claim: %+v, %v; want it left Pending", rec, err)
	}
}

// While the runtime serves, a start of an id whose claim a dead start left
// behind StaleClaimAge ago takes the claim over: the start function looks
// the execution up through the Step Functions API, finds none, and starts
// the monitor. A younger claim still answers 409.
func TestStartTakesOverStaleClaim(t *testing.T) {
	rt := newTestRuntime(t)
	claim(t, rt, "stale", time.Now().Add(-monitor.StaleClaimAge-time.Second))
	claim(t, rt, "young", time.Now().Add(-time.Minute))

	body := func(id string) string {
		return `{"instanceId":"` + id + `","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":1,"timeoutSeconds":60}`
	}
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body("young")), http.StatusConflict, "start over a young claim")
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body("stale")), http.StatusAccepted, "start over a stale claim")
	if rec := waitFinal(t, rt.URL()+"/monitors/stale", 10*time.Second); rec["runtimeStatus"] != "Completed" {
		t.Errorf("stale claim taken over: runtimeStatus %v, want Completed", rec["runtimeStatus"])
	}
}

// A monitor that finished and was purged leaves its execution, named
// after its instance id, in the engine for the retention period. A start
// of the same id that a crash cut short between its claim and
// StartExecution left a claim that the start-up mending must not link to
// that earlier execution (the monitor would stay Pending for ever and
// every start answer 409): it releases the claim instead, the claim made
// long after the earlier execution started, or within a minute of it,
// when the start times cannot tell the two monitors apart but the
// execution's input names the earlier monitor's start (such a claim was
// linked, after a kill between a fast purge-and-start's claim and its
// execution).
func TestMendClaimsReleasesClaimOfReusedID(t *testing.T) {
	for _, after := range []time.Duration{10 * time.Minute, 0} {
		t.Run(fmt.Sprint("claimed ", after, " later"), func(t *testing.T) {
			ctx := context.Background()
			rt := newTestRuntime(t)
			body := `{"instanceId":"reused","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":1,"timeoutSeconds":60}`
			wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start reused")
			if rec := waitFinal(t, rt.URL()+"/monitors/reused", 10*time.Second); rec["runtimeStatus"] != "Completed" {
				t.Fatalf("reused: runtimeStatus %v, want Completed", rec["runtimeStatus"])
			}
			wantStatus(t, call(t, http.MethodDelete, rt.URL()+"/monitors/reused", ""), http.StatusOK, "purge reused")

			at := time.Now().Add(after)
			claim(t, rt, "reused", at)
			linked, released, err := rt.mendClaims(ctx, at.Add(time.Second))
			if err != nil || linked != 0 || released != 1 {
				t.Fatalf("mendClaims = %d linked, %d released, %v; want 0, 1", linked, released, err)
			}
			if rec, err := rt.statusStore.Get(ctx, "reused"); !monitor.IsKind(err, monitor.KindNotFound) {
				t.Errorf("the claim after mending: %+v, %v; want it released (not found)", rec, err)
			}
		})
	}
}

// Start-up releases every orphaned claim, however many pages of Pending
// records the status store takes to list them.
func TestMendClaimsReleasesMoreThanAPage(t *testing.T) {
	ctx := context.Background()
	rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Shutdown(ctx)
	now := time.Now()
	n := monitor.MaxPageSize + 2
	for i := range n {
		claim(t, rt, fmt.Sprintf("orphan-%04d", i), now.Add(-time.Second))
	}

	linked, released, err := rt.mendClaims(ctx, now)
	if err != nil || linked != 0 || released != n {
		t.Fatalf("mendClaims = %d linked, %d released, %v; want 0, %d", linked, released, err, n)
	}
	for _, id := range []string{"orphan-0000", fmt.Sprintf("orphan-%04d", n-1)} {
		if _, err := rt.statusStore.Get(ctx, id); !monitor.IsKind(err, monitor.KindNotFound) {
			t.Errorf("%s after mending: %v, want it released (not found)", id, err)
		}
	}
}
