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
		if !strings.Contains(log.String(), `"msg":"database schema migrated; an older stepmon will refuse this file","path":"`+filepath.Join(dir, name)+`","schema":"engine","from":9`) {
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
