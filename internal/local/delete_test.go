package local

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon"
	"github.com/stepmon/stepmon/internal/engine"
)

// sfnCall posts one Step Functions API operation to a runtime.
func sfnCall(t *testing.T, base, op, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

// A user who deleted stepmon-monitor (DeleteStateMachine, which earlier
// versions allowed; see TestOwnStateMachineProtected) while a monitor
// waited left it DELETING: the monitor would fail at its wake-up an hour
// later, and no monitor could start until then. The next start of the
// runtime fails the waiting monitor at once, completes the deletion and
// creates the machine again, so monitors start again.
func TestDeletedStateMachineCreatedAgain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Shutdown(context.Background()) }) // on a failure; the test shuts it down itself
	errc := make(chan error, 1)
	go func() { errc <- first.Serve(ctx) }()
	waitHealthy(t, first.URL())
	body := `{"instanceId":"waits","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":3600,"timeoutSeconds":86400}`
	wantStatus(t, call(t, http.MethodPost, first.URL()+"/monitors", body), http.StatusAccepted, "start")
	arn := strings.Replace(first.StateMachineArn(), ":stateMachine:", ":execution:", 1) + ":waits"
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, at, err := first.engineStore.GetRunState(ctx, arn); err == nil && time.Until(at) > time.Minute {
			break // in its Wait
		}
		if time.Now().After(deadline) {
			t.Fatal("the monitor never waited")
		}
		time.Sleep(10 * time.Millisecond)
	}
	smArn := first.StateMachineArn()
	// The API refuses it now: the engine deletes it, as the API did.
	if err := first.engine.DeleteStateMachine(ctx, smArn); err != nil {
		t.Fatalf("DeleteStateMachine: %v", err)
	}
	if d := sfnCall(t, first.URL(), "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`"}`); !strings.Contains(string(d.body), `"status":"DELETING"`) {
		t.Fatalf("DescribeStateMachine after the delete = %s, want DELETING", d.body)
	}
	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}

	rt := newTestRuntimeWith(t, Config{DataDir: dir})
	sm, err := rt.engineStore.GetStateMachine(ctx, smArn)
	if err != nil || sm.Status != engine.StateMachineActive {
		t.Fatalf("state machine after the restart = %+v, %v; want it ACTIVE", sm, err)
	}
	if _, err := rt.engineStore.GetExecution(ctx, arn); err == nil {
		t.Errorf("the deleted machine's execution is still there")
	}
	body = `{"instanceId":"again","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":1,"timeoutSeconds":60}`
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start after the restart")
	if rec := waitFinal(t, rt.URL()+"/monitors/again", 10*time.Second); rec["runtimeStatus"] != "Completed" {
		t.Errorf("monitor after the restart: runtimeStatus %v, want Completed", rec["runtimeStatus"])
	}
	rec := waitFinal(t, rt.URL()+"/monitors/waits", 10*time.Second)
	if rec["runtimeStatus"] != "Failed" {
		t.Errorf("the monitor that waited: runtimeStatus %v, want Failed (%v)", rec["runtimeStatus"], rec)
	}
}

// The Step Functions API refuses to delete stepmon-monitor, the runtime's
// own machine, or to change its definition: a delete failed every running
// monitor, dropped every monitor's history and left starts failing with a
// 503 "retry later" until a restart; an update to a definition that does
// not run monitors left every new one Pending. The answer is a
// ValidationException that says why and what to do; the machine stays as
// it was, and monitors still start. An update that keeps the definition
// (the role alone) goes through. Other machines are updated and deleted as before.
func TestOwnStateMachineProtected(t *testing.T) {
	rt := newTestRuntimeWith(t, Config{})
	smArn := rt.StateMachineArn()
	for _, tt := range []struct{ op, body, want string }{
		{"DeleteStateMachine", `{"stateMachineArn":"` + smArn + `"}`, "stepmon-monitor is the local runtime's own state machine"},
		{"UpdateStateMachine", `{"stateMachineArn":"` + smArn + `","definition":"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}"}`,
			"restart stepmon serve with --definition FILE"},
	} {
		a := sfnCall(t, rt.URL(), tt.op, tt.body)
		if a.status != http.StatusBadRequest || !strings.Contains(string(a.body), "ValidationException") || !strings.Contains(string(a.body), tt.want) {
			t.Errorf("%s: HTTP %d %s; want 400 ValidationException saying %q", tt.op, a.status, a.body, tt.want)
		}
	}
	d := sfnCall(t, rt.URL(), "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`"}`)
	if !strings.Contains(string(d.body), `"status":"ACTIVE"`) || !strings.Contains(string(d.body), "stepmon-check") {
		t.Errorf("DescribeStateMachine after the refusals = %s, want it ACTIVE with its definition", d.body)
	}
	// An update that leaves the definition as it is cannot stop monitors
	// from running: the role alone, or the definition it already has.
	const role = "arn:aws:iam::000000000000:role/other"
	wantStatus(t, sfnCall(t, rt.URL(), "UpdateStateMachine", `{"stateMachineArn":"`+smArn+`","roleArn":"`+role+`"}`),
		http.StatusOK, "UpdateStateMachine of the role only")
	var described struct{ Definition string }
	if err := json.Unmarshal(d.body, &described); err != nil || described.Definition == "" {
		t.Fatalf("DescribeStateMachine = %s (%v), want its definition", d.body, err)
	}
	wantStatus(t, sfnCall(t, rt.URL(), "UpdateStateMachine", `{"stateMachineArn":"`+smArn+`","definition":`+strconv.Quote(described.Definition)+`}`),
		http.StatusOK, "UpdateStateMachine with the same definition")
	// The same definition as the user has it: the file, placeholders
	// and all, or compacted. What is stored stays the filled-in text.
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(described.Definition)); err != nil {
		t.Fatal(err)
	}
	for what, def := range map[string]string{"the file": stepmon.Definition, "compacted": compact.String()} {
		wantStatus(t, sfnCall(t, rt.URL(), "UpdateStateMachine", `{"stateMachineArn":"`+smArn+`","definition":`+strconv.Quote(def)+`}`),
			http.StatusOK, "UpdateStateMachine with the same definition, "+what)
	}
	var after struct{ Definition string }
	if err := json.Unmarshal(sfnCall(t, rt.URL(), "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`"}`).body, &after); err != nil ||
		after.Definition != described.Definition {
		t.Errorf("the definition after the updates changed (%v):\n%s", err, after.Definition)
	}
	if d := sfnCall(t, rt.URL(), "DescribeStateMachine", `{"stateMachineArn":"`+smArn+`"}`); !strings.Contains(string(d.body), role) {
		t.Errorf("DescribeStateMachine after the role update = %s, want roleArn %s", d.body, role)
	}
	body := `{"instanceId":"still","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":1,"timeoutSeconds":60}`
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", body), http.StatusAccepted, "start after the refusals")

	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	created := sfnCall(t, rt.URL(), "CreateStateMachine", `{"name":"other","roleArn":"arn:aws:iam::000000000000:role/r","definition":`+strconv.Quote(def)+`}`)
	wantStatus(t, created, http.StatusOK, "CreateStateMachine")
	otherArn := strings.Replace(smArn, "stepmon-monitor", "other", 1)
	changed := `{"StartAt":"Q","States":{"Q":{"Type":"Pass","End":true}}}`
	wantStatus(t, sfnCall(t, rt.URL(), "UpdateStateMachine", `{"stateMachineArn":"`+otherArn+`","definition":`+strconv.Quote(changed)+`}`),
		http.StatusOK, "UpdateStateMachine of another machine's definition")
	if d := sfnCall(t, rt.URL(), "DescribeStateMachine", `{"stateMachineArn":"`+otherArn+`"}`); !strings.Contains(string(d.body), `\"StartAt\":\"Q\"`) {
		t.Errorf("DescribeStateMachine of the other machine after its update = %s, want the new definition", d.body)
	}
	wantStatus(t, sfnCall(t, rt.URL(), "DeleteStateMachine", `{"stateMachineArn":"`+otherArn+`"}`), http.StatusOK, "DeleteStateMachine of another machine")
}
