//go:build linux

package alerts

import (
	"context"
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
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// An alert the disk has no room for right after a Trim, the first write
// to the file the Trim put in place, takes back only its own partial line:
// the lines the Trim kept stay. The child process lowers its file size
// limit (RLIMIT_FSIZE) to stand for a full disk.
func TestOutboxFileFullAfterTrim(t *testing.T) {
	if os.Getenv("OUTBOX_TRIM_FULL_CHILD") != "" {
		outboxTrimFullChild()
		return
	}
	now := time.Now().UTC()
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	content := entryLine(t, 1, now.Add(-48*time.Hour)) + entryLine(t, 2, now.Add(-48*time.Hour)) +
		entryLine(t, 3, now) + entryLine(t, 4, now)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxFileFullAfterTrim$")
	cmd.Env = append(os.Environ(), "OUTBOX_TRIM_FULL_CHILD="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "full send failed: transient") {
		t.Fatalf("child did not meet a full file:\n%s", out)
	}
	if got, want := outboxIDs(t, path), []string{"outbox-mon-3", "outbox-mon-4", "outbox-mon-1-5"}; !slices.Equal(got, want) {
		t.Errorf("got entries %q, want %q: the lines the trim kept and the alert sent again", got, want)
	}
}

// outboxTrimFullChild trims the outbox, limits the file to a little more
// than it holds, sends a long alert (which must fail), lifts the limit and
// sends it again.
func outboxTrimFullChild() {
	signal.Ignore(syscall.SIGXFSZ) // a write past the limit fails with EFBIG instead
	path := os.Getenv("OUTBOX_TRIM_FULL_CHILD")
	o, err := OpenOutbox(path, nil)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if n, err := o.Trim(time.Now().Add(-24 * time.Hour)); err != nil || n != 2 {
		fmt.Println("trim:", n, err)
		os.Exit(1)
	}
	st, err := os.Stat(path)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	limited := old
	limited.Cur = uint64(st.Size() + 100)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limited); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	msg := testMessage()
	msg.Text = strings.Repeat("x", 4096)
	_, err = o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, msg)
	var te *monitor.TransientError
	if !errors.As(err, &te) {
		fmt.Println("full send: want a transient error, got", err)
		os.Exit(1)
	}
	fmt.Println("full send failed: transient:", err)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if _, err := o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, msg); err != nil {
		fmt.Println("send again:", err)
		os.Exit(1)
	}
	o.Close()
	os.Exit(0)
}
