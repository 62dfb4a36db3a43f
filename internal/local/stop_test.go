package local

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// TestTerminateDuringAlertSend terminates a monitor while its webhook
// alert is being delivered. As on AWS, where StopExecution does not
// interrupt a running Lambda function, the send goes on to its answer
// and the record says the alert was sent; it used to be cancelled, the
// alert left "sending" although the webhook had answered 200.
func TestTerminateDuringAlertSend(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	var deliveries atomic.Int32
	startWithWebhook(t, base, "alert-stop", 1, func(w http.ResponseWriter, r *http.Request) {
		deliveries.Add(1)
		arrived <- struct{}{}
		<-release
		w.WriteHeader(http.StatusOK)
	})
	select {
	case <-arrived:
	case <-time.After(15 * time.Second):
		t.Fatal("the webhook was never called")
	}
	// The send is in flight: terminate the monitor, then let the webhook
	// answer.
	wantStatus(t, call(t, http.MethodPost, base+"/monitors/alert-stop/terminate?reason=mid-send", ""), http.StatusAccepted, "terminate")
	close(release)

	deadline := time.Now().Add(10 * time.Second)
	for {
		rec := call(t, http.MethodGet, base+"/monitors/alert-stop", "").json(t)
		alert, _ := rec["alert"].(map[string]any)
		if alert["status"] == "sent" {
			if rec["runtimeStatus"] != "Terminated" {
				t.Errorf("runtimeStatus = %v, want Terminated", rec["runtimeStatus"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert = %v after the webhook answered 200; want status sent", alert)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := deliveries.Load(); n != 1 {
		t.Errorf("%d webhook deliveries, want 1", n)
	}
}

// A shutdown lets the checks and alerts running at that moment finish and
// records them before it closes the stores: a webhook alert in flight when
// serve stops is recorded as sent, once, and the monitor completes after
// the restart. It used to be cancelled and recorded as an unknown outcome
// (never sent again, though the webhook had it).
func TestShutdownFinishesAlertSend(t *testing.T) {
	dir := t.TempDir()
	first := newTestRuntimeWith(t, Config{DataDir: dir})
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	var deliveries atomic.Int32
	startWithWebhook(t, first.URL(), "alert-shutdown", 1, func(w http.ResponseWriter, r *http.Request) {
		deliveries.Add(1)
		arrived <- struct{}{}
		<-release // still sending when the shutdown begins
		w.WriteHeader(http.StatusOK)
	})
	shutdownOnArrival(t, first, arrived, release, "the webhook was never called")

	second := newTestRuntimeWith(t, Config{DataDir: dir})
	rec := waitFinal(t, second.URL()+"/monitors/alert-shutdown", 20*time.Second)
	out, _ := rec["output"].(map[string]any)
	if rec["runtimeStatus"] != "Completed" || out["alert_status"] != "sent" {
		t.Errorf("after the restart: runtimeStatus %v, output %v; want Completed with alert_status sent", rec["runtimeStatus"], out)
	}
	if n := deliveries.Load(); n != 1 {
		t.Errorf("%d webhook deliveries, want 1", n)
	}
}

// A check in flight when serve stops finishes and is recorded: after the
// restart the target has answered exactly as many checks as the monitor
// counts. It used to be cancelled and made again after the restart.
func TestShutdownFinishesCheck(t *testing.T) {
	dir := t.TempDir()
	first := newTestRuntimeWith(t, Config{DataDir: dir})
	arrived, release := make(chan struct{}, 10), make(chan struct{})
	var requests atomic.Int32
	l := listen(t)
	target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		if n == 2 {
			arrived <- struct{}{}
			<-release // still checking when the shutdown begins
		}
		status := "Running"
		if n >= 4 {
			status = "Completed"
		}
		fmt.Fprintf(w, `{"status":%q}`, status)
	})}
	go target.Serve(l)
	t.Cleanup(func() { target.Close() })
	wantStatus(t, call(t, http.MethodPost, first.URL()+"/monitors", `{"instanceId":"check-shutdown","target":{"type":"http","url":"http://`+
		l.Addr().String()+`/job","doneValues":["Completed"],"runningValues":["Running"]},"pollingIntervalSeconds":1,"timeoutSeconds":60}`),
		http.StatusAccepted, "start")
	shutdownOnArrival(t, first, arrived, release, "the second check never reached the target")
	if n := requests.Load(); n != 2 {
		t.Fatalf("%d checks reached the target by the end of the shutdown, want 2", n)
	}

	second := newTestRuntimeWith(t, Config{DataDir: dir})
	rec := waitFinal(t, second.URL()+"/monitors/check-shutdown", 20*time.Second)
	out, _ := rec["output"].(map[string]any)
	if rec["runtimeStatus"] != "Completed" || out["checks_performed"] != float64(4) {
		t.Errorf("after the restart: runtimeStatus %v, output %v; want Completed after 4 checks", rec["runtimeStatus"], out)
	}
	if n := requests.Load(); n != 4 {
		t.Errorf("the target answered %d checks, want 4 (none repeated)", n)
	}
}

// shutdownOnArrival shuts rt down once arrived receives (a handler's
// request is in flight), failing with never if it does not within 15 s.
// It closes release, which the handler waits for, once the shutdown has
// begun (the API server has stopped), so the request is still in flight
// then however slowly the test runs; it returns when the shutdown has
// ended.
func shutdownOnArrival(t *testing.T, rt *Runtime, arrived <-chan struct{}, release chan<- struct{}, never string) {
	t.Helper()
	released := false
	defer func() {
		if !released {
			close(release) // on a failure, do not leave the handler waiting
		}
	}()
	select {
	case <-arrived:
	case <-time.After(15 * time.Second):
		t.Fatal(never)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- rt.Shutdown(ctx) }()
	select {
	case <-rt.httpDone:
	case <-time.After(15 * time.Second):
		t.Fatal("the shutdown did not stop the API server")
	}
	close(release)
	released = true
	if err := <-errc; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// A shutdown right after a terminate lets the alert still being sent for
// the terminated monitor finish (its handler is in no execution the
// engine's drain waits for) before it cancels the handlers: the webhook
// request is not cut short and the record says sent. It used to be
// cancelled at once and recorded as an unknown outcome.
func TestShutdownAfterTerminateFinishesAlertSend(t *testing.T) {
	dir := t.TempDir()
	first := newTestRuntimeWith(t, Config{DataDir: dir})
	arrived := make(chan struct{}, 1)
	var cut atomic.Bool
	startWithWebhook(t, first.URL(), "alert-term-shutdown", 1, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done(): // the sender gave up
			cut.Store(true)
			return
		case <-time.After(2 * time.Second): // a slow webhook
		}
		w.WriteHeader(http.StatusOK)
	})
	select {
	case <-arrived:
	case <-time.After(15 * time.Second):
		t.Fatal("the webhook was never called")
	}
	wantStatus(t, call(t, http.MethodPost, first.URL()+"/monitors/alert-term-shutdown/terminate?reason=mid-send", ""), http.StatusAccepted, "terminate")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := first.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if cut.Load() {
		t.Error("the shutdown cut the alert's webhook request short")
	}

	second := newTestRuntimeWith(t, Config{DataDir: dir})
	rec := call(t, http.MethodGet, second.URL()+"/monitors/alert-term-shutdown", "").json(t)
	if alert, _ := rec["alert"].(map[string]any); rec["runtimeStatus"] != "Terminated" || alert["status"] != "sent" {
		t.Errorf("after the restart: runtimeStatus %v, alert %v; want Terminated, status sent", rec["runtimeStatus"], alert)
	}
}

// claimHold is a status store whose Create (a start's claim of its
// instance id) reports the claim and then waits for release.
type claimHold struct {
	monitor.Store
	claimed chan<- struct{}
	release <-chan struct{}
}

func (s claimHold) Create(ctx context.Context, rec monitor.Record) error {
	err := s.Store.Create(ctx, rec)
	s.claimed <- struct{}{}
	<-s.release
	return err
}

// A graceful stop lets a start in progress, between its claim and
// StartExecution, finish: the start function reaches the engine without
// the listener that the stop closes, so the start answers 202 and its
// monitor runs after a restart. It used to answer 503.
func TestShutdownFinishesStart(t *testing.T) {
	dir := t.TempDir()
	claimed, release := make(chan struct{}, 1), make(chan struct{})
	first := newTestRuntimeThen(t, Config{DataDir: dir}, func(rt *Runtime) {
		rt.api.Store = claimHold{Store: rt.api.Store, claimed: claimed, release: release}
	})
	type result struct {
		a   answer
		err error
	}
	answered := make(chan result, 1)
	go func() {
		a, err := tryCall(http.MethodPost, first.URL()+"/monitors",
			`{"instanceId":"start-shutdown","target":{"type":"simulated","completeAfterChecks":2},"pollingIntervalSeconds":1,"timeoutSeconds":60}`)
		answered <- result{a, err}
	}()
	select {
	case <-claimed:
	case <-time.After(15 * time.Second):
		t.Fatal("the start never claimed its instance id")
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		stopped <- first.Shutdown(ctx)
	}()
	// The listener closes at once; the start goes on only then.
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", first.listener.Addr().String(), time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections 10 s into the shutdown")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	select {
	case r := <-answered:
		if r.err != nil {
			t.Fatalf("the start in progress at the shutdown got no answer: %v", r.err)
		}
		wantStatus(t, r.a, http.StatusAccepted, "the start in progress at the shutdown")
	case <-time.After(30 * time.Second):
		t.Fatal("the start in progress at the shutdown: no answer 30 s after its claim was released")
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	second := newTestRuntimeWith(t, Config{DataDir: dir})
	if rec := waitFinal(t, second.URL()+"/monitors/start-shutdown", 20*time.Second); rec["runtimeStatus"] != "Completed" {
		t.Errorf("after the restart: runtimeStatus %v, want Completed", rec["runtimeStatus"])
	}
}
