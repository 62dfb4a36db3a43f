package monitor

import (
	"testing"
	"time"
)

// parseDeadline is how long parseWithin waits for ParseStartRequest,
// which takes microseconds: generous for a loaded machine, and far
// below go test's ten minutes.
const parseDeadline = 5 * time.Second

// parseWithin returns ParseStartRequest(body), and fails the test if it
// has not returned within parseDeadline. A start runs the alert's message
// template to check it, so a loop that parseMessageTemplate let through
// ({{range 2147483647}} twice, which writes nothing for the output's cap
// to stop) would run until go test's timeout, naming no test; this fails
// the one that sent it, in seconds. (The run is left behind on its
// goroutine: there is no stopping text/template.)
func parseWithin(t *testing.T, body string) (StartRequest, error) {
	t.Helper()
	type result struct {
		r   StartRequest
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := ParseStartRequest([]byte(body))
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		return res.r, res.err
	case <-time.After(parseDeadline):
		t.Fatalf("ParseStartRequest(%.120q) still running after %v, want it answered at once", body, parseDeadline)
		return StartRequest{}, nil
	}
}
