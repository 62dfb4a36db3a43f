package local

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/testtool"
)

// TestDataDirectoryOfAnEarlierVersion opens the data directory that
// stepmon serve at bae05a3 wrote (testdata/datadir-bae05a3: its two
// database files, vacuumed and gzipped; `serve --retention 876000h`, so
// that its finished records are never purged):
//
//   - fx-completed, a simulated job that completed at its first check;
//   - fx-terminated, terminated with the reason "fixture" after one check;
//   - fx-running, a simulated job that completes at its second check,
//     stopped (gracefully) while it waited 20 s for it.
//
// The current build migrates both files (and says so), reads the finished
// records as they were, and runs the waiting monitor on from where it
// was: its overdue check runs, it finishes, and its execution's history
// reads back whole, the events of both versions in one sequence.
// Migrations are tested step by step in sqlitestore; this test holds what
// an earlier version really wrote.
func TestDataDirectoryOfAnEarlierVersion(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{DatabaseFile, StatusDatabaseFile} {
		unzipFile(t, filepath.Join("testdata", "datadir-bae05a3", name+".gz"), filepath.Join(dir, name))
	}
	var log testtool.SyncBuffer
	rt := newTestRuntimeWith(t, Config{DataDir: dir, Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	base := rt.URL()

	for id, want := range map[string]struct{ status, final, detail string }{
		"fx-completed":  {"Completed", "Completed", "simulated job Completed on check 1"},
		"fx-terminated": {"Terminated", "Terminated", "terminated: fixture"},
	} {
		rec := waitFinal(t, base+"/monitors/"+id, 5*time.Second)
		out, _ := rec["output"].(map[string]any)
		if rec["runtimeStatus"] != want.status || out["final_status"] != want.final || out["detail"] != want.detail || out["checks_performed"] != float64(1) {
			t.Errorf("%s = %s %v, want %s with final status %s, detail %q, 1 check", id, rec["runtimeStatus"], out, want.status, want.final, want.detail)
		}
	}

	// The waiting monitor's check fell due long ago: it runs at once.
	// (From 2027-12 the monitor has also expired, and finishes with final
	// status Timeout instead: either way it finishes, and its history
	// holds both versions' events.)
	rec := waitFinal(t, base+"/monitors/fx-running", 30*time.Second)
	out, _ := rec["output"].(map[string]any)
	if rec["runtimeStatus"] != "Completed" || (out["final_status"] != "Completed" && out["final_status"] != "Timeout") {
		t.Errorf("fx-running = %s %v, want Completed with final status Completed (or Timeout once expired)", rec["runtimeStatus"], out)
	}
	arn, _ := rec["executionArn"].(string)
	a := sfnCall(t, base, "GetExecutionHistory", `{"executionArn":"`+arn+`","maxResults":1000}`)
	wantStatus(t, a, http.StatusOK, "GetExecutionHistory")
	var hist struct {
		Events []struct {
			ID   int64  `json:"id"`
			Type string `json:"type"`
		} `json:"events"`
	}
	if err := json.Unmarshal(a.body, &hist); err != nil {
		t.Fatal(err)
	}
	var types []string
	for i, ev := range hist.Events {
		if ev.ID != int64(i+1) {
			t.Fatalf("event %d has id %d: the history is not one sequence (%v)", i+1, ev.ID, hist.Events)
		}
		types = append(types, ev.Type)
	}
	if n := len(types); n < 10 || types[0] != "ExecutionStarted" || types[n-1] != "ExecutionSucceeded" ||
		strings.Count(strings.Join(types, " "), "TaskSucceeded") < 2 {
		t.Errorf("history %v, want ExecutionStarted, two checks (one before the upgrade) and ExecutionSucceeded", types)
	}

	// Both files were at engine schema 9.
	for _, name := range []string{DatabaseFile, StatusDatabaseFile} {
		if !strings.Contains(log.String(), `"msg":"database schema migrated; an older stepmon will refuse this file","component":"runtime","path":"`+filepath.Join(dir, name)+`","schema":"engine","from":9`) {
			t.Errorf("no migration of %s logged: %s", name, log.String())
		}
	}
}

// unzipFile writes the gzip file src, decompressed, to dst.
func unzipFile(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestAlertRetryOfAnEarlierDefinition opens the data directory that
// stepmon serve at cbfce75 wrote (testdata/datadir-cbfce75, made as
// datadir-bae05a3 was): fx-alerting, a simulated job that completed at
// its first check, whose webhook (http://127.0.0.1:9/hook, refused) had
// failed the alert's first run of three sends, stopped (gracefully)
// while its execution waited for the Alert state's Retry. That
// definition came before the alert's retries by a Wait: the execution
// keeps it, so its retry is the earlier one, a task failure
// (TransientError) again and no AlertRetryWait; a monitor started now
// runs the current definition and waits in AlertRetryWait instead.
func TestAlertRetryOfAnEarlierDefinition(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{DatabaseFile, StatusDatabaseFile} {
		unzipFile(t, filepath.Join("testdata", "datadir-cbfce75", name+".gz"), filepath.Join(dir, name))
	}
	rt := newTestRuntimeWith(t, Config{DataDir: dir})
	base := rt.URL()
	arnOf := func(id string) string {
		return strings.Replace(rt.StateMachineArn(), ":stateMachine:", ":execution:", 1) + ":" + id
	}
	history := func(id string) (entered map[string]int, failures []string) {
		return stateHistory(t, base, arnOf(id))
	}
	// waitFor polls cond for up to within.
	waitFor := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(within); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, within)
			}
		}
	}

	// Before the upgrade: one run of the alert, failed.
	if _, failures := history("fx-alerting"); len(failures) != 1 || failures[0] != "TransientError" {
		t.Fatalf("fx-alerting's task failures %q, want the one TransientError of the fixture", failures)
	}
	// Its retry fell due long ago: it runs at once, three sends, and
	// fails as the earlier definition's Retry expects.
	var entered map[string]int
	var failures []string
	waitFor("fx-alerting's retry on the current build", 20*time.Second, func() bool {
		entered, failures = history("fx-alerting")
		return len(failures) >= 2
	})
	if failures[1] != "TransientError" || entered["AlertRetryWait"] != 0 || entered["AlertOutcome"] != 0 {
		t.Errorf("fx-alerting: task failures %q, states entered %v; want a second TransientError and no AlertOutcome or AlertRetryWait", failures, entered)
	}
	a := sfnCall(t, base, "DescribeStateMachineForExecution", `{"executionArn":"`+arnOf("fx-alerting")+`"}`)
	wantStatus(t, a, http.StatusOK, "DescribeStateMachineForExecution")
	if strings.Contains(string(a.body), "AlertRetryWait") {
		t.Errorf("fx-alerting runs a definition with AlertRetryWait: %s", a.body)
	}
	rec := call(t, http.MethodGet, base+"/monitors/fx-alerting", "").json(t)
	if alert, _ := rec["alert"].(map[string]any); rec["runtimeStatus"] != "Running" || alert["attempts"] != float64(6) {
		t.Errorf("fx-alerting = %s, alert %v; want Running with 6 attempts", rec["runtimeStatus"], rec["alert"])
	}

	// A monitor started now, with the same webhook.
	body := `{"instanceId":"fx-new","target":{"type":"simulated","completeAfterChecks":1},"pollingIntervalSeconds":5,` +
		`"timeoutSeconds":3600,"alert":{"webhookUrl":"http://127.0.0.1:9/hook"}}`
	wantStatus(t, call(t, http.MethodPost, base+"/monitors", body), http.StatusAccepted, "start fx-new")
	waitFor("fx-new's retry by a wait", 20*time.Second, func() bool {
		entered, failures = history("fx-new")
		return entered["AlertRetryWait"] > 0
	})
	if len(failures) != 0 {
		t.Errorf("fx-new: task failures %q, want none", failures)
	}
}
