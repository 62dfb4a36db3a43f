package monitor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// TestRecordExecutionEndHidesCauseWithoutName pins that a failed or
// timed-out end that carries a cause but no error name shows
// internalFailure in the output's detail, never the cause. The detail is
// what GET /monitors/{id} shows every caller, and a cause may quote the
// execution's input (the target's header values) or name tables, roles
// and sessions.
func TestRecordExecutionEndHidesCauseWithoutName(t *testing.T) {
	const secret = "Authorization: Bearer SECRET"
	const hidden = "internal error (the cause is in the service's log)"
	for _, tc := range []struct {
		name       string
		status     string
		cause      string
		wantFinal  string
		wantDetail string
	}{
		{"failed", "FAILED", secret, monitor.FinalFailed, "the workflow failed: " + hidden},
		{"timed out", "TIMED_OUT", secret, monitor.FinalTimeout, "the execution timed out: " + hidden},
		{"failed, a blank cause", "FAILED", " \t ", monitor.FinalFailed, "the workflow failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.running(t, "m", 1)
			applied, err := e.api.RecordExecutionEnd(context.Background(), monitor.ExecutionEnd{
				ExecutionArn: arnPrefix + "m", Status: tc.status, At: t0.Add(time.Minute), Cause: tc.cause})
			if err != nil || !applied {
				t.Fatalf("RecordExecutionEnd = %v, %v; want true, nil", applied, err)
			}
			out := e.get(t, "m").Output
			if out == nil {
				t.Fatal("got no output, want one")
			}
			if out.FinalStatus != tc.wantFinal || out.Detail != tc.wantDetail {
				t.Errorf("got final %q, detail %q; want %q, %q", out.FinalStatus, out.Detail, tc.wantFinal, tc.wantDetail)
			}
			if strings.Contains(out.Detail, "SECRET") {
				t.Errorf("detail %q shows the cause", out.Detail)
			}
		})
	}
}

// TestRecordExecutionEndCutsALongStopCause pins that a stop with the error
// Terminated (from the console or the CLI, which allow a cause of 32 KB)
// records at most 4*MaxReasonLen bytes of its cause in the detail, as a
// reason the API accepts can be no longer: the detail is stored in the
// record and sent in every answer about it.
func TestRecordExecutionEndCutsALongStopCause(t *testing.T) {
	e := newEnv(t)
	e.running(t, "m", 1)
	applied, err := e.api.RecordExecutionEnd(context.Background(), monitor.ExecutionEnd{
		ExecutionArn: arnPrefix + "m", Status: "ABORTED", Error: monitor.TerminateError,
		Cause: strings.Repeat("a", 5000), At: t0.Add(time.Minute)})
	if err != nil || !applied {
		t.Fatalf("RecordExecutionEnd = %v, %v; want true, nil", applied, err)
	}
	want := "terminated: " + strings.Repeat("a", 4*monitor.MaxReasonLen-len("…")) + "…"
	if out := e.get(t, "m").Output; out == nil || out.Detail != want {
		t.Errorf("got output %+v, want a detail of %d bytes", out, len(want))
	}
}
