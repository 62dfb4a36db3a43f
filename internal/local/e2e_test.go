package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/testtool"
)

// newTestRuntime serves a runtime on a free 127.0.0.1 port with a
// temporary data directory until the test ends.
func newTestRuntime(t *testing.T) *Runtime {
	t.Helper()
	return newTestRuntimeWith(t, Config{})
}

// newTestRuntimeWith is newTestRuntime with cfg's other fields set; a
// cfg.DataDir of "" means a temporary one.
func newTestRuntimeWith(t *testing.T, cfg Config) *Runtime {
	t.Helper()
	return newTestRuntimeThen(t, cfg, nil)
}

// newTestRuntimeThen is newTestRuntimeWith calling before, when not nil,
// between New and Serve.
func newTestRuntimeThen(t *testing.T, cfg Config, before func(*Runtime)) *Runtime {
	t.Helper()
	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Addr = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = logger
	}
	rt, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(rt)
	}
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := rt.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	waitHealthy(t, rt.URL())
	return rt
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s/healthz never answered 200", base)
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", a.status, err, a.body)
	}
	return m
}

// call sends a request and returns the answer; a request that gets none
// fails the test. From a goroutine other than the test's, use tryCall.
func call(t *testing.T, method, url, body string) answer {
	t.Helper()
	a, err := tryCall(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tryCall is call for a goroutine other than the test's, where t.Fatal
// would end only the goroutine (and a test waiting for its answer would
// hang instead of failing).
func tryCall(method, url, body string) (answer, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return answer{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}, nil
}

func wantStatus(t *testing.T, a answer, want int, what string) {
	t.Helper()
	if a.status != want {
		t.Fatalf("%s: HTTP %d, want %d: %s", what, a.status, want, a.body)
	}
}

// waitFinal polls a monitor's status until it answers 200 (finished).
func waitFinal(t *testing.T, url string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		a := call(t, http.MethodGet, url, "")
		if a.status == http.StatusOK {
			return a.json(t)
		}
		wantStatus(t, a, http.StatusAccepted, "GET "+url)
		if time.Now().After(deadline) {
			t.Fatalf("%s has not finished after %v: %s", url, within, a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitExecutionEnd polls DescribeExecution until the execution is no
// longer RUNNING, and returns its status and output.
func waitExecutionEnd(t *testing.T, base, arn string, within time.Duration) (exec struct{ Status, Output string }) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(`{"executionArn":"`+arn+`"}`))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "AWSStepFunctions.DescribeExecution")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&exec)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("DescribeExecution: HTTP %d, %v", resp.StatusCode, err)
		}
		if exec.Status != "RUNNING" {
			return exec
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still RUNNING after %v", arn, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func output(t *testing.T, rec map[string]any) map[string]any {
	t.Helper()
	out, ok := rec["output"].(map[string]any)
	if !ok {
		t.Fatalf("record has no output: %v", rec)
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()

	t.Run("seed job monitor completes", func(t *testing.T) {
		a := call(t, http.MethodPost, base+"/monitors", `{"job_id":"e2e-job","polling_interval_seconds":1,"timeout_seconds":60}`)
		wantStatus(t, a, http.StatusAccepted, "start")
		started := a.json(t)
		id, _ := started["id"].(string)
		statusURL, _ := started["statusQueryGetUri"].(string)
		if id == "" || !strings.HasPrefix(statusURL, base+"/monitors/") {
			t.Fatalf("start answer = %s, want an id and a statusQueryGetUri under %s", a.body, base)
		}
		if loc := a.header.Get("Location"); loc != statusURL {
			t.Errorf("Location = %q, want %q", loc, statusURL)
		}
		first := call(t, http.MethodGet, statusURL, "")
		wantStatus(t, first, http.StatusAccepted, "status while running")
		rec := waitFinal(t, statusURL, 20*time.Second)
		if rec["runtimeStatus"] != "Completed" {
			t.Errorf("runtimeStatus = %v, want Completed", rec["runtimeStatus"])
		}
		out := output(t, rec)
		if out["final_status"] != "Completed" || out["checks_performed"] != 4.0 || out["job_id"] != "e2e-job" {
			t.Errorf("output = %v, want final_status Completed after 4 checks of e2e-job", out)
		}
		cs, _ := rec["customStatus"].(map[string]any)
		if cs["check_count"] != 4.0 {
			t.Errorf("customStatus = %v, want check_count 4", cs)
		}
	})

	t.Run("terminate", func(t *testing.T) {
		a := call(t, http.MethodPost, base+"/monitors", `{"instanceId":"e2e-term","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":1,"timeoutSeconds":300}`)
		wantStatus(t, a, http.StatusAccepted, "start")
		a = call(t, http.MethodPost, base+"/monitors/e2e-term/terminate?reason=e2e", "")
		wantStatus(t, a, http.StatusAccepted, "terminate")
		rec := waitFinal(t, base+"/monitors/e2e-term", 10*time.Second)
		if rec["runtimeStatus"] != "Terminated" {
			t.Errorf("runtimeStatus = %v, want Terminated", rec["runtimeStatus"])
		}
		a = call(t, http.MethodPost, base+"/monitors/e2e-term/terminate", "")
		wantStatus(t, a, http.StatusGone, "terminate again")
		a = call(t, http.MethodPost, base+"/monitors/e2e-term/raiseEvent/complete", `{}`)
		wantStatus(t, a, http.StatusGone, "raiseEvent after the end")
	})

	t.Run("raiseEvent completes", func(t *testing.T) {
		a := call(t, http.MethodPost, base+"/monitors", `{"instanceId":"e2e-event","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":1,"timeoutSeconds":300}`)
		wantStatus(t, a, http.StatusAccepted, "start")
		a = call(t, http.MethodPost, base+"/monitors/e2e-event/raiseEvent/complete", `{"by":"e2e"}`)
		wantStatus(t, a, http.StatusAccepted, "raiseEvent")
		rec := waitFinal(t, base+"/monitors/e2e-event", 10*time.Second)
		if out := output(t, rec); out["final_status"] != "Completed" {
			t.Errorf("output = %v, want final_status Completed", out)
		}
	})

	t.Run("list and purge", func(t *testing.T) {
		a := call(t, http.MethodGet, base+"/monitors?runtimeStatus=Terminated", "")
		wantStatus(t, a, http.StatusOK, "list")
		var page struct {
			Records []struct {
				InstanceID string `json:"instanceId"`
			} `json:"monitors"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 1 || page.Records[0].InstanceID != "e2e-term" {
			t.Errorf("list of Terminated = %s, want e2e-term only", a.body)
		}
		wantStatus(t, call(t, http.MethodDelete, base+"/monitors/e2e-term", ""), http.StatusOK, "purge")
		wantStatus(t, call(t, http.MethodGet, base+"/monitors/e2e-term", ""), http.StatusNotFound, "status after purge")
		wantStatus(t, call(t, http.MethodDelete, base+"/monitors/e2e-term", ""), http.StatusNotFound, "purge again")
	})

	t.Run("errors", func(t *testing.T) {
		a := call(t, http.MethodPost, base+"/monitors", `{"target":{"type":"nope"}}`)
		wantStatus(t, a, http.StatusBadRequest, "bad start")
		if m := a.json(t); m["message"] == "" {
			t.Errorf("error body %s has no message", a.body)
		}
		wantStatus(t, call(t, http.MethodGet, base+"/monitors/nobody", ""), http.StatusNotFound, "unknown monitor")
		// API Gateway's own answers, in the API's error shape as the
		// deployed gateway responses give them.
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			kind                     string
		}{
			{"no such route", http.MethodGet, "/monitorsx", "", http.StatusNotFound, "not_found"},
			{"no such path", http.MethodGet, "/nothing/here", "", http.StatusNotFound, "not_found"},
			{"body over API Gateway's limit", http.MethodPost, "/monitors", `"` + strings.Repeat("x", 10<<20) + `"`,
				http.StatusRequestEntityTooLarge, "rejected"},
		} {
			a := call(t, tc.method, base+tc.path, tc.body)
			wantStatus(t, a, tc.status, tc.name)
			if m := a.json(t); m["error"] != tc.kind || m["message"] == "" {
				t.Errorf("%s: body %.200s, want error %q with a message", tc.name, a.body, tc.kind)
			}
		}
		wantStatus(t, call(t, http.MethodGet, base+"/healthz", ""), http.StatusOK, "healthz")
		wantStatus(t, call(t, http.MethodGet, base+"/ui/", ""), http.StatusOK, "dashboard")
	})

	t.Run("healthz reports the timers", func(t *testing.T) {
		a := call(t, http.MethodPost, base+"/monitors", `{"instanceId":"e2e-waits","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":3600,"timeoutSeconds":7200}`)
		wantStatus(t, a, http.StatusAccepted, "start")
		defer call(t, http.MethodPost, base+"/monitors/e2e-waits/terminate", "")
		var h health
		for deadline := time.Now().Add(10 * time.Second); ; {
			a = call(t, http.MethodGet, base+"/healthz", "")
			wantStatus(t, a, http.StatusOK, "healthz")
			if err := json.Unmarshal([]byte(a.body), &h); err != nil {
				t.Fatalf("healthz body %s: %v", a.body, err)
			}
			if h.Timers.Waiting >= 1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if h.Status != "ok" || h.Timers.Waiting < 1 || h.Timers.Due != 0 {
			t.Fatalf("healthz = %s, want status ok and the waiting monitor's timer", a.body)
		}
		if h.Process.Goroutines < 2 || h.Process.HeapBytes < 1<<10 {
			t.Fatalf("healthz process = %+v, want the goroutines (the server's among them) and the live heap", h.Process)
		}
		from, err := time.Parse(time.RFC3339, h.Timers.LastMinute.From)
		if err != nil || from.Second() != 0 || time.Since(from) > 3*time.Minute || h.Timers.LastMinute.Late {
			t.Fatalf("healthz lastMinute = %+v, want the last whole minute, not late", h.Timers.LastMinute)
		}
	})

	t.Run("webhook alert", func(t *testing.T) {
		got := make(chan map[string]any, 4)
		startWithWebhook(t, base, "e2e-hook", 2, func(w http.ResponseWriter, r *http.Request) {
			var m map[string]any
			json.NewDecoder(r.Body).Decode(&m)
			got <- m
		})
		rec := waitFinal(t, base+"/monitors/e2e-hook", 15*time.Second)
		if out := output(t, rec); out["final_status"] != "Completed" {
			t.Errorf("output = %v", out)
		}
		select {
		case m := <-got:
			if !bytes.Contains(marshal(m), []byte("e2e-hook")) {
				t.Errorf("webhook body %v does not name the monitor", m)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no webhook delivery")
		}
		select {
		case m := <-got:
			t.Errorf("a second webhook delivery: %v", m)
		case <-time.After(300 * time.Millisecond):
		}
	})
}

// TestAWSCLI drives the Step Functions endpoint of a real runtime with the
// AWS CLI, through every operation issue 4 lists: CreateStateMachine,
// DescribeStateMachine, ListStateMachines, StartExecution,
// StartSyncExecution, DescribeExecution, StopExecution,
// GetExecutionHistory (paging, reverseOrder) and ListExecutions.
func TestAWSCLI(t *testing.T) {
	aws := testtool.Require(t, "aws", "install the AWS CLI (pip install awscli, or AWS CLI v2) to run this test")
	rt := newTestRuntime(t)
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(aws, append([]string{"--endpoint-url", rt.URL(), "--region", "us-east-1", "--output", "json", "stepfunctions"}, args...)...)
		// StartSyncExecution would go to sync-127.0.0.1 otherwise.
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_PAGER=", "AWS_DISABLE_HOST_PREFIX_INJECTION=true")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws stepfunctions %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var m map[string]any
		if len(bytes.TrimSpace(out)) > 0 {
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("aws stepfunctions %s: not JSON: %s", args[0], out)
			}
		}
		return m
	}
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }

	// The monitor state machine, as serve created it.
	sm := rt.StateMachineArn()
	if l := run("list-state-machines"); !bytes.Contains(marshal(l), []byte(sm)) {
		t.Errorf("list-state-machines = %v, want %s", l, sm)
	}
	if d := run("describe-state-machine", "--state-machine-arn", sm); str(d, "name") != StateMachineName || !strings.Contains(str(d, "definition"), "stepmon-check") {
		t.Errorf("describe-state-machine = %v, want %s with the substituted definition", d, StateMachineName)
	}

	// A state machine of our own: create, describe, list, run it
	// synchronously and asynchronously.
	def := `{"StartAt":"Count","States":{"Count":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},"Next":"Done?"},"Done?":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThanEquals":5,"Next":"End"}],"Default":"Count"},"End":{"Type":"Succeed"}}}`
	// EXPRESS: start-sync-execution runs EXPRESS machines only.
	created := run("create-state-machine", "--name", "cli-count", "--definition", def, "--role-arn", "arn:aws:iam::000000000000:role/cli", "--type", "EXPRESS")
	countArn := str(created, "stateMachineArn")
	if !strings.HasSuffix(countArn, ":stateMachine:cli-count") {
		t.Fatalf("create-state-machine = %v", created)
	}
	if d := run("describe-state-machine", "--state-machine-arn", countArn); str(d, "definition") != def || str(d, "status") != "ACTIVE" {
		t.Errorf("describe-state-machine = %v, want the definition back, ACTIVE", d)
	}
	if l := run("list-state-machines"); !bytes.Contains(marshal(l), []byte(countArn)) || !bytes.Contains(marshal(l), []byte(sm)) {
		t.Errorf("list-state-machines = %v, want both machines", l)
	}
	sync := run("start-sync-execution", "--state-machine-arn", countArn, "--name", "sync-1", "--input", `{"n":0}`)
	if str(sync, "status") != "SUCCEEDED" || str(sync, "output") != `{"n":5}` {
		t.Errorf("start-sync-execution = %v, want SUCCEEDED with {\"n\":5}", sync)
	}
	async := run("start-execution", "--state-machine-arn", countArn, "--name", "async-1", "--input", `{"n":0}`)
	asyncArn := str(async, "executionArn")
	if asyncArn == "" {
		t.Fatalf("start-execution = %v", async)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := run("describe-execution", "--execution-arn", asyncArn)
		if str(d, "status") == "SUCCEEDED" {
			if str(d, "output") != `{"n":5}` {
				t.Errorf("describe-execution output = %v, want {\"n\":5}", d["output"])
			}
			break
		}
		if str(d, "status") != "RUNNING" || time.Now().After(deadline) {
			t.Fatalf("describe-execution = %v, want RUNNING then SUCCEEDED", d)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// History: 5 passes through Count and Done? plus start and end are
	// 23 events; read them 4 at a time, forwards and backwards.
	for _, reverse := range []bool{false, true} {
		var ids []float64
		token := ""
		pages := 0
		for {
			args := []string{"get-execution-history", "--execution-arn", asyncArn, "--no-paginate", "--max-results", "4"}
			if reverse {
				args = append(args, "--reverse-order")
			}
			if token != "" {
				args = append(args, "--next-token", token)
			}
			h := run(args...)
			pages++
			evs, _ := h["events"].([]any)
			if len(evs) > 4 {
				t.Fatalf("a page of %d events, want at most 4", len(evs))
			}
			for _, e := range evs {
				ids = append(ids, e.(map[string]any)["id"].(float64))
			}
			if token = str(h, "nextToken"); token == "" {
				break
			}
		}
		if len(ids) < 20 || pages != (len(ids)+3)/4 {
			t.Fatalf("reverse=%v: %d events in %d pages, want 20 or more, 4 a page", reverse, len(ids), pages)
		}
		for i, id := range ids {
			want := float64(i + 1)
			if reverse {
				want = float64(len(ids) - i)
			}
			if id != want {
				t.Fatalf("reverse=%v: event %d has id %v, want %v", reverse, i, id, want)
			}
		}
	}
	if l := run("list-executions", "--state-machine-arn", countArn); !bytes.Contains(marshal(l), []byte(asyncArn)) ||
		!bytes.Contains(marshal(l), []byte(":sync-1")) {
		t.Errorf("list-executions = %v, want async-1 and sync-1", l)
	}
	// Teardown: none of its executions runs, so delete-state-machine
	// deletes the machine with them at once.
	if d := run("delete-state-machine", "--state-machine-arn", countArn); len(d) != 0 {
		t.Errorf("delete-state-machine = %v, want no output", d)
	}
	if l := run("list-state-machines"); bytes.Contains(marshal(l), []byte(countArn)) || !bytes.Contains(marshal(l), []byte(sm)) {
		t.Errorf("list-state-machines after delete-state-machine = %v, want only %s", l, sm)
	}

	// A monitor started through the API, driven with the CLI.
	wantStatus(t, call(t, http.MethodPost, rt.URL()+"/monitors", `{"instanceId":"cli-mon","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":30,"timeoutSeconds":300}`), http.StatusAccepted, "start")
	arn := strings.Replace(sm, ":stateMachine:", ":execution:", 1) + ":cli-mon"
	if d := run("describe-execution", "--execution-arn", arn); str(d, "status") != "RUNNING" {
		t.Errorf("describe-execution status = %v, want RUNNING", d["status"])
	}
	if l := run("list-executions", "--state-machine-arn", sm, "--status-filter", "RUNNING"); !bytes.Contains(marshal(l), []byte(arn)) {
		t.Errorf("list-executions = %v, want %s", l, arn)
	}
	run("stop-execution", "--execution-arn", arn, "--error", "Manual", "--cause", "cli test")
	if d := run("describe-execution", "--execution-arn", arn); str(d, "status") != "ABORTED" {
		t.Errorf("describe-execution after stop: status = %v, want ABORTED", d["status"])
	}
	h := run("get-execution-history", "--execution-arn", arn, "--reverse-order", "--max-items", "1")
	evs, _ := h["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["type"] != "ExecutionAborted" {
		t.Errorf("last history event = %v, want ExecutionAborted", evs)
	}
	rec := waitFinal(t, rt.URL()+"/monitors/cli-mon", 10*time.Second)
	if rec["runtimeStatus"] != "Terminated" {
		t.Errorf("monitor after stop-execution: runtimeStatus = %v, want Terminated", rec["runtimeStatus"])
	}
}

// TestStopExecutionMarksTerminated stops a monitor's execution through
// the Step Functions API (not the monitor API): the status change reaches
// the status function, which records the monitor as Terminated.
func TestStopExecutionMarksTerminated(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	a := call(t, http.MethodPost, base+"/monitors", `{"instanceId":"stop-1","target":{"type":"simulated","completeAfterChecks":100},"pollingIntervalSeconds":5,"timeoutSeconds":300}`)
	wantStatus(t, a, http.StatusAccepted, "start")
	arn := strings.Replace(rt.StateMachineArn(), ":stateMachine:", ":execution:", 1) + ":stop-1"
	req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(`{"executionArn":"`+arn+`","error":"Manual","cause":"stopped in a test"}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.StopExecution")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("StopExecution: HTTP %d: %s", resp.StatusCode, b)
	}
	rec := waitFinal(t, base+"/monitors/stop-1", 10*time.Second)
	if rec["runtimeStatus"] != "Terminated" {
		t.Errorf("runtimeStatus = %v, want Terminated", rec["runtimeStatus"])
	}
}

// startWithWebhook serves hook on a loopback webhook (closed when the test
// ends) and starts monitor id of a simulated job that completes after
// checks checks, alerting that webhook.
func startWithWebhook(t *testing.T, base, id string, checks int, hook http.HandlerFunc) {
	t.Helper()
	srv := &http.Server{Handler: hook}
	l := listen(t)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	body, _ := json.Marshal(map[string]any{"instanceId": id, "target": map[string]any{"type": "simulated", "completeAfterChecks": checks},
		"pollingIntervalSeconds": 1, "timeoutSeconds": 60, "alert": map[string]any{"webhookUrl": "http://" + l.Addr().String() + "/hook"}})
	wantStatus(t, call(t, http.MethodPost, base+"/monitors", string(body)), http.StatusAccepted, "start")
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A monitor whose webhook rejects the alert for good fails on its own
// input: its record is Failed with the alert's outcome, and its execution
// ends through the Finish state, SUCCEEDED with that output, so that Step
// Functions' failure metrics count faults of the service only.
func TestWebhookRejectionFailsTheMonitorNotTheExecution(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	startWithWebhook(t, base, "hook-404", 1, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook", http.StatusNotFound)
	})
	rec := waitFinal(t, base+"/monitors/hook-404", 20*time.Second)
	out := output(t, rec)
	if rec["runtimeStatus"] != "Failed" || out["final_status"] != "Failed" || out["alert_status"] != "failed" ||
		!strings.Contains(out["detail"].(string), "HTTP 404") {
		t.Errorf("record = %v, output %v; want Failed with the webhook's 404", rec["runtimeStatus"], out)
	}
	// The record is final once the alert task wrote it; the execution
	// ends a state later, through Finish.
	arn := strings.Replace(rt.StateMachineArn(), ":stateMachine:", ":execution:", 1) + ":hook-404"
	exec := waitExecutionEnd(t, base, arn, 20*time.Second)
	if exec.Status != "SUCCEEDED" || !strings.Contains(exec.Output, `"final_status":"Failed"`) {
		t.Errorf("execution %s with output %s, want SUCCEEDED with the failed output", exec.Status, exec.Output)
	}
}

// shortAlertRetries returns the real definition with the alert's retry
// waits shortened to a second: the Alert state's Retry (its MaxAttempts
// kept) and its retries by the AlertRetryWait state.
func shortAlertRetries(t *testing.T) string {
	t.Helper()
	def := stepmon.Definition
	for old, repl := range map[string]string{
		`"IntervalSeconds": 5,`:                      `"IntervalSeconds": 1,`,
		`"MaxDelaySeconds": 120,`:                    `"MaxDelaySeconds": 1,`,
		`"SecondsPath": "$.alertRetry.waitSeconds",`: `"Seconds": 1,`,
	} {
		if strings.Count(def, old) != 1 {
			t.Fatalf("the definition has %d %s, want the alert's one", strings.Count(def, old), old)
		}
		def = strings.Replace(def, old, repl, 1)
	}
	return def
}

// A monitor whose own webhook keeps answering 503 is retried by the state
// machine's AlertRetryWait monitor.AlertTransientRetries times, with no
// task failure (no function error: the operators' alarms count those),
// and on the last attempt fails on its input: the record is Failed with
// the alert "failed", and the execution ends through Finish, SUCCEEDED,
// rather than through RecordFailure, FAILED. The definition is the real
// one with the alert's retry waits shortened.
func TestWebhookFailingTransientlyFailsTheMonitorNotTheExecution(t *testing.T) {
	rt := newTestRuntimeWith(t, Config{Definition: shortAlertRetries(t)})
	base := rt.URL()
	var posts atomic.Int64
	startWithWebhook(t, base, "hook-503", 1, func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	rec := waitFinal(t, base+"/monitors/hook-503", 90*time.Second)
	out := output(t, rec)
	if rec["runtimeStatus"] != "Failed" || out["final_status"] != "Failed" || out["alert_status"] != "failed" ||
		!strings.Contains(out["detail"].(string), "HTTP 503") {
		t.Errorf("record = %v, output %v; want Failed with the webhook's 503", rec["runtimeStatus"], out)
	}
	arn := strings.Replace(rt.StateMachineArn(), ":stateMachine:", ":execution:", 1) + ":hook-503"
	exec := waitExecutionEnd(t, base, arn, 20*time.Second)
	if exec.Status != "SUCCEEDED" || !strings.Contains(exec.Output, `"final_status":"Failed"`) {
		t.Errorf("execution %s with output %s, want SUCCEEDED with the failed output", exec.Status, exec.Output)
	}
	// 3 sends in each of the task's 1 + AlertTransientRetries attempts.
	if got, want := posts.Load(), int64(3*(1+monitor.AlertTransientRetries)); got != want {
		t.Errorf("webhook received %d POSTs, want %d", got, want)
	}
	wantAlertRetriedByWait(t, base, arn)
}

// wantAlertRetriedByWait checks the history of execution arn for the alert
// run 1 + monitor.AlertTransientRetries times with AlertRetryWait between
// the runs, and not one task failure.
func wantAlertRetriedByWait(t *testing.T, base, arn string) {
	t.Helper()
	entered, failures := stateHistory(t, base, arn)
	if len(failures) > 0 {
		t.Errorf("history has task failures %q: a caller's failing webhook is retried without one", failures)
	}
	runs := 1 + monitor.AlertTransientRetries
	if entered["Alert"] != runs || entered["AlertRetryWait"] != runs-1 || entered["AlertOutcome"] != runs {
		t.Errorf("states entered %v, want Alert and AlertOutcome %d times, AlertRetryWait %d", entered, runs, runs-1)
	}
}

// stateHistory reads the history of execution arn (up to 1,000 events)
// and returns how many times each state was entered, and the errors of
// its task failures and timeouts, in order.
func stateHistory(t *testing.T, base, arn string) (entered map[string]int, failures []string) {
	t.Helper()
	a := sfnCall(t, base, "GetExecutionHistory", `{"executionArn":"`+arn+`","maxResults":1000}`)
	wantStatus(t, a, http.StatusOK, "GetExecutionHistory")
	var hist struct {
		Events []struct {
			Type    string `json:"type"`
			Entered *struct {
				Name string `json:"name"`
			} `json:"stateEnteredEventDetails"`
			Failed *struct {
				Error string `json:"error"`
			} `json:"taskFailedEventDetails"`
		} `json:"events"`
	}
	if err := json.Unmarshal(a.body, &hist); err != nil {
		t.Fatal(err)
	}
	entered = map[string]int{}
	for _, ev := range hist.Events {
		if ev.Entered != nil {
			entered[ev.Entered.Name]++
		}
		switch {
		case ev.Failed != nil:
			failures = append(failures, ev.Failed.Error)
		case ev.Type == "TaskTimedOut":
			failures = append(failures, "States.Timeout")
		}
	}
	return entered, failures
}

// On the real definition, a webhook's Retry-After longer than
// monitor.MaxAlertRunPause is waited out by the AlertRetryWait state:
// asked for 12 s (longer than the first retry's 2.5 to 5 s too), the
// alert is sent again no sooner, and once.
func TestWebhookRetryAfterWaitedOutByTheStateMachine(t *testing.T) {
	rt := newTestRuntime(t)
	base := rt.URL()
	var mu sync.Mutex
	var posts []time.Time
	startWithWebhook(t, base, "hook-wait", 1, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts = append(posts, time.Now())
		n := len(posts)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "12")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		}
	})
	retryAt := waitAlertRetryAt(t, base+"/monitors/hook-wait", 30*time.Second)
	rec := waitFinal(t, base+"/monitors/hook-wait", 60*time.Second)
	if out := output(t, rec); rec["runtimeStatus"] != "Completed" || out["alert_status"] != "sent" {
		t.Fatalf("record = %v, output %v; want Completed with the alert sent", rec["runtimeStatus"], out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 2 {
		t.Fatalf("webhook received %d POSTs, want 2", len(posts))
	}
	if gap := posts[1].Sub(posts[0]); gap < 12*time.Second {
		t.Errorf("sent again %v after a Retry-After of 12 s", gap)
	}
	// The status said when: at least 12 s after the first send (13 with
	// the wait's rounding up, counted from when the failure was recorded,
	// which a loaded machine delays), and the second came then, not
	// before (below).
	if d := retryAt.Sub(posts[0]); d < 12*time.Second-100*time.Millisecond {
		t.Errorf("the status's alert.retryAt is %v after the first send, want 12 s or more", d)
	}
	if early := retryAt.Sub(posts[1]); early > 500*time.Millisecond {
		t.Errorf("sent again %v before the status's alert.retryAt", early)
	}
}

// waitAlertRetryAt polls the status at url until its alert is failed with
// a retryAt, and returns that time.
func waitAlertRetryAt(t *testing.T, url string, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		a := call(t, http.MethodGet, url, "")
		var rec struct {
			RuntimeStatus string `json:"runtimeStatus"`
			Alert         *struct {
				Status  string    `json:"status"`
				RetryAt time.Time `json:"retryAt"`
			} `json:"alert"`
		}
		if err := json.Unmarshal(a.body, &rec); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, a.body)
		}
		if al := rec.Alert; al != nil && al.Status == "failed" && !al.RetryAt.IsZero() {
			if rec.RuntimeStatus != "Running" {
				t.Fatalf("GET %s: retryAt on a %s monitor: %s", url, rec.RuntimeStatus, a.body)
			}
			return al.RetryAt
		}
		if time.Now().After(deadline) || a.status == http.StatusOK {
			t.Fatalf("GET %s: no alert.retryAt within %v: %s", url, within, a.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A webhook that keeps answering 429 with a Retry-After longer than the
// alert task's run can wait (75 s, less the time an attempt needs) is
// sent one request a run, not three a run regardless, and the monitor
// still fails on its input on the state machine's last retry.
func TestWebhookRetryAfterIsNotIgnored(t *testing.T) {
	rt := newTestRuntimeWith(t, Config{Definition: shortAlertRetries(t)})
	base := rt.URL()
	var posts atomic.Int64
	startWithWebhook(t, base, "hook-429", 1, func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.Header().Set("Retry-After", "120")
		http.Error(w, "rate limited", http.StatusTooManyRequests)
	})
	rec := waitFinal(t, base+"/monitors/hook-429", 90*time.Second)
	out := output(t, rec)
	if rec["runtimeStatus"] != "Failed" || out["alert_status"] != "failed" || !strings.Contains(out["detail"].(string), "Retry-After") {
		t.Errorf("record = %v, output %v; want Failed with the webhook's Retry-After", rec["runtimeStatus"], out)
	}
	if got, want := posts.Load(), int64(1+monitor.AlertTransientRetries); got != want {
		t.Errorf("webhook received %d POSTs, want %d", got, want)
	}
	wantAlertRetriedByWait(t, base, strings.Replace(rt.StateMachineArn(), ":stateMachine:", ":execution:", 1)+":hook-429")
}
