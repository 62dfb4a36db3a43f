package local

import (
	"fmt"
	"net/http"
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
	time.Sleep(300 * time.Millisecond) // let the executions record a check
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
