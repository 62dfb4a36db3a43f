package local

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"
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
