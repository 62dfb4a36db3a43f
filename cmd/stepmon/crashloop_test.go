package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/local"
	"github.com/stepmon/stepmon/internal/testtool"
)

// TestCrashLoopJSONata starts stepmon serve as a subprocess, starts an
// execution whose JSONata evaluation runs for seconds (as one that fills
// the memory would before the process is killed) and another that waits,
// and kills the server with SIGKILL while the evaluation runs, restarting
// it each time on the same data directory. The execution resumes after
// the first two kills and fails with States.QueryEvaluationError at the
// third instead of being resumed into a crash loop; the server stays
// healthy and the other execution succeeds.
func TestCrashLoopJSONata(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a server three times during a seconds-long evaluation")
	}
	s := &server{t: t, bin: buildStepmon(t), data: t.TempDir(), addr: testtool.FreeAddr(t)}
	s.start()
	defer s.kill()
	call := func(target string, in map[string]any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest(http.MethodPost, s.url()+"/", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "AWSStepFunctions."+target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil {
			t.Fatalf("%s: HTTP %d %s", target, resp.StatusCode, body)
		}
		return out
	}
	start := func(name, def string) string {
		t.Helper()
		sm := call("CreateStateMachine", map[string]any{"name": name, "definition": def,
			"roleArn": "arn:aws:iam::000000000000:role/test"})
		x := call("StartExecution", map[string]any{"stateMachineArn": sm["stateMachineArn"], "name": name})
		return x["executionArn"].(string)
	}
	describe := func(arn string) map[string]any {
		t.Helper()
		return call("DescribeExecution", map[string]any{"executionArn": arn})
	}

	// About five seconds of evaluation here, under the 10 s limit: it is
	// killed long before its end.
	spin := start("spin", `{"QueryLanguage":"JSONata","StartAt":"Spin","States":{
		"Spin":{"Type":"Pass","Output":"{% $sum([1..5000].($sum([1..15000]))) %}","End":true}}}`)
	wait := start("wait", `{"QueryLanguage":"JSONata","StartAt":"Nap","States":{
		"Nap":{"Type":"Wait","Seconds":4,"Next":"Done"},
		"Done":{"Type":"Pass","Output":"{% {'slept': true} %}","End":true}}}`)

	journal := filepath.Join(s.data, local.EvalJournalFile)
	for kill := 1; kill <= engine.InterruptedEvalLimit; kill++ {
		waitEvaluating(t, journal, spin, "Spin")
		s.kill()
		s.start()
		got := describe(spin)
		if kill < engine.InterruptedEvalLimit && got["status"] != "RUNNING" {
			t.Fatalf("after kill %d: %s is %v, want RUNNING (resumed)", kill, spin, got["status"])
		}
	}
	got := describe(spin)
	if got["status"] != "FAILED" || got["error"] != "States.QueryEvaluationError" {
		t.Fatalf("after %d kills: %s is %v %v, want FAILED with States.QueryEvaluationError", engine.InterruptedEvalLimit, spin, got["status"], got["error"])
	}
	if cause, _ := got["cause"].(string); !strings.Contains(cause, "The JSONata evaluation in state 'Spin' was running when the process ended abruptly 3 times in a row") {
		t.Errorf("cause = %q, want it to say the evaluation in Spin was running at 3 abrupt ends", cause)
	}
	if !strings.Contains(s.logTail(), "fails instead of resuming") {
		t.Errorf("no warning about the failed execution in the log:\n%s", s.logTail())
	}

	// The server is healthy and the other execution goes on.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := describe(wait)
		if got["status"] == "SUCCEEDED" {
			if got["output"] != `{"slept":true}` {
				t.Errorf("%s output = %v, want {\"slept\":true}", wait, got["output"])
			}
			break
		}
		if got["status"] != "RUNNING" || time.Now().After(deadline) {
			t.Fatalf("%s is %v, want SUCCEEDED: %v", wait, got["status"], got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get(s.url() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz: HTTP %d, want 200", resp.StatusCode)
	}
}

// waitEvaluating waits until the evaluation journal at path shows the
// execution arn in the middle of an evaluation in state.
func waitEvaluating(t *testing.T, path, arn, state string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := engine.ReadEvalJournal(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if got[arn] == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the journal never showed %s evaluating in %s: %v", arn, state, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
