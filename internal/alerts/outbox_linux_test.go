//go:build linux

package alerts

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stepmon/stepmon/internal/monitor"
)

// An alert the disk has no room for leaves no partial line in the outbox
// file, and the same alert sent once there is room is a whole line. The
// child process lowers its file size limit (RLIMIT_FSIZE) to stand for a
// full disk.
func TestOutboxFileFull(t *testing.T) {
	if os.Getenv("OUTBOX_FULL_CHILD") != "" {
		outboxFullChild()
		return
	}
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	runFullChild(t, "TestOutboxFileFull", "OUTBOX_FULL_CHILD", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e OutboxEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %.80q is not an entry: %v", sc.Text(), err)
		}
		ids = append(ids, e.ID)
	}
	// A failed write takes no number: the ids go on from the lines in
	// the file, as a reopened outbox's do.
	if want := []string{"outbox-mon-1-1", "outbox-mon-1-2"}; !slices.Equal(ids, want) {
		t.Errorf("entries %v, want %v: the first alert and the one sent again", ids, want)
	}
}

// outboxFullChild sends an alert, then the long one of
// sendThroughFullFile.
func outboxFullChild() {
	path := os.Getenv("OUTBOX_FULL_CHILD")
	o, err := OpenOutbox(path, nil)
	if err != nil {
		childFail(err)
	}
	if _, err := o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage()); err != nil {
		childFail("first send:", err)
	}
	sendThroughFullFile(o, path)
}

// runFullChild runs the test named test again in a child process with
// envVar set to path, and checks that the child met a full file
// (sendThroughFullFile) and ended well.
func runFullChild(t *testing.T, test, envVar, path string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), envVar+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "full send failed: transient") {
		t.Fatalf("child did not meet a full file:\n%s", out)
	}
}

// sendThroughFullFile, in a child process, limits the size of the file at
// path (RLIMIT_FSIZE) to a little more than it holds, sends a long alert
// through o, which must fail with a transient error, lifts the limit,
// sends the alert again, closes o and exits 0; any other outcome exits 1.
// It prints what it met for runFullChild.
func sendThroughFullFile(o *Outbox, path string) {
	signal.Ignore(syscall.SIGXFSZ) // a write past the limit fails with EFBIG instead
	st, err := os.Stat(path)
	if err != nil {
		childFail(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		childFail(err)
	}
	limited := old
	limited.Cur = uint64(st.Size() + 100)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limited); err != nil {
		childFail(err)
	}
	msg := testMessage()
	msg.Text = strings.Repeat("x", 4096)
	_, err = o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, msg)
	var te *monitor.TransientError
	if !errors.As(err, &te) {
		childFail("full send: want a transient error, got", err)
	}
	fmt.Println("full send failed: transient:", err)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		childFail(err)
	}
	if _, err := o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, msg); err != nil {
		childFail("send again:", err)
	}
	o.Close()
	os.Exit(0)
}

// childFail prints a for the parent test and ends the child process with
// status 1.
func childFail(a ...any) {
	fmt.Println(a...)
	os.Exit(1)
}
