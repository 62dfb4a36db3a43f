package local

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestTerminateRecordsReason terminates running monitors through the API
// while the runtime's ABORTED notification races the API's own write: the
// record must say "terminated: {reason}" whichever write lands first.
func TestTerminateRecordsReason(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	const n = 8
	for i := range n {
		id := fmt.Sprintf("race-%d", i)
		body := fmt.Sprintf(`{"instanceId":%q,"target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":1,"timeoutSeconds":300}`, id)
		wantStatus(t, call(t, http.MethodPost, base+"/monitors", body), http.StatusAccepted, "start "+id)
	}
	for i := range n {
		waitChecked(t, fmt.Sprintf("%s/monitors/race-%d", base, i))
	}
	for i := range n {
		id := fmt.Sprintf("race-%d", i)
		a := call(t, http.MethodPost, fmt.Sprintf("%s/monitors/%s/terminate?reason=r%d", base, id, i), "")
		wantStatus(t, a, http.StatusAccepted, "terminate "+id)
	}
	for i := range n {
		id := fmt.Sprintf("race-%d", i)
		rec := waitFinal(t, base+"/monitors/"+id, 10*time.Second)
		out := output(t, rec)
		if want := fmt.Sprintf("terminated: r%d", i); rec["runtimeStatus"] != "Terminated" || out["detail"] != want {
			t.Errorf("%s: runtimeStatus %v, detail %q; want Terminated, %q", id, rec["runtimeStatus"], out["detail"], want)
		}
	}
}

// TestConcurrentTerminates terminates one monitor with ten requests at
// once, each with its own reason: exactly one is accepted, with its own
// reason in the record it answers and in the record kept; the others are
// 410, since the monitor had finished by the time they would write.
func TestConcurrentTerminates(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	body := `{"instanceId":"t1","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":3600,"timeoutSeconds":7200}`
	wantStatus(t, call(t, http.MethodPost, base+"/monitors", body), http.StatusAccepted, "start t1")
	const n = 10
	answers := make([]answer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			answers[i], errs[i] = tryCall(http.MethodPost, fmt.Sprintf("%s/monitors/t1/terminate?reason=r%d", base, i), "")
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	accepted := ""
	for i, a := range answers {
		switch a.status {
		case http.StatusAccepted:
			if accepted != "" {
				t.Errorf("r%d accepted too, after %s", i, accepted)
			}
			accepted = fmt.Sprintf("terminated: r%d", i)
			if out := output(t, a.json(t)); out["detail"] != accepted {
				t.Errorf("r%d accepted with detail %q, want %q", i, out["detail"], accepted)
			}
		case http.StatusGone:
		default:
			t.Errorf("r%d: HTTP %d, want 202 or 410: %s", i, a.status, a.body)
		}
	}
	if accepted == "" {
		t.Fatal("no terminate was accepted")
	}
	if out := output(t, call(t, http.MethodGet, base+"/monitors/t1", "").json(t)); out["detail"] != accepted {
		t.Errorf("record detail %q, want %q, the accepted request's", out["detail"], accepted)
	}
}

// waitChecked polls a running monitor's status until it has recorded a
// check.
func waitChecked(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := call(t, http.MethodGet, url, "")
		wantStatus(t, a, http.StatusAccepted, "GET "+url)
		cs, _ := a.json(t)["customStatus"].(map[string]any)
		if n, _ := cs["check_count"].(float64); n >= 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has recorded no check after 10s: %s", url, a.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
