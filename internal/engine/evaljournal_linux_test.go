//go:build linux

package engine

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A journal that cannot take a new slot (a full disk) does not record the
// evaluation, rather than store its record into the file's mapping, where
// a full disk ends the process with SIGBUS. The child process lowers its
// file size limit (RLIMIT_FSIZE) to the header's slot to stand for the
// full disk: a write past it fails, a store into the mapping would not.
func TestEvalJournalFullDisk(t *testing.T) {
	if path := os.Getenv("EVAL_JOURNAL_FULL_CHILD"); path != "" {
		evalJournalFullChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "evaluations.journal")
	cmd := exec.Command(os.Args[0], "-test.run=^TestEvalJournalFullDisk$")
	cmd.Env = append(os.Environ(), "EVAL_JOURNAL_FULL_CHILD="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "full journal: not recorded; slot 0 after the limit was lifted") {
		t.Fatalf("child did not meet a full journal:\n%s", out)
	}
}

// evalJournalFullChild opens the journal at path, limits the process's
// file size to the journal's header, begins an evaluation, which must not
// be recorded, lifts the limit and begins another, which must be; any
// other outcome exits 1.
func evalJournalFullChild(path string) {
	fail := func(args ...any) {
		fmt.Println(append([]any{"child:"}, args...)...)
		os.Exit(1)
	}
	j, err := OpenEvalJournal(path)
	if err != nil {
		fail(err)
	}
	if _, ok := j.out.(fileSlots); ok {
		fail("the journal is not mapped on this file system: nothing to show")
	}
	signal.Ignore(syscall.SIGXFSZ) // a write past the limit fails with EFBIG instead
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		fail(err)
	}
	limited := old
	limited.Cur = evalSlotSize
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limited); err != nil {
		fail(err)
	}
	if slot := j.begin(evalRecord{arn: "arn:full", state: "S"}); slot != -1 {
		fail("begin on a full disk recorded the evaluation in slot", slot)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		fail(err)
	}
	slot := j.begin(evalRecord{arn: "arn:room", state: "S"})
	if slot != 0 {
		fail("begin with room: slot", slot, "want 0")
	}
	j.end(slot)
	if err := j.Close(); err != nil {
		fail(err)
	}
	fmt.Println("full journal: not recorded; slot 0 after the limit was lifted")
	os.Exit(0)
}
