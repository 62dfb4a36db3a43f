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
	cmd := exec.Command(os.Args[0], "-test.run=^TestOutboxFileFull$")
	cmd.Env = append(os.Environ(), "OUTBOX_FULL_CHILD="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "full send failed: transient") {
		t.Fatalf("child did not meet a full file:\n%s", out)
	}
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

// outboxFullChild sends an alert, limits the file to a little more than
// it holds, sends a long one (which must fail), lifts the limit and sends
// the long one again.
func outboxFullChild() {
	signal.Ignore(syscall.SIGXFSZ) // a write past the limit fails with EFBIG instead
	path := os.Getenv("OUTBOX_FULL_CHILD")
	o, err := OpenOutbox(path, nil)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	msg := testMessage()
	if _, err := o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, msg); err != nil {
		fmt.Println("first send:", err)
		os.Exit(1)
	}
	st, _ := os.Stat(path)
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
	msg.Text = strings.Repeat("x", 4096)
	_, err = o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, msg)
	var te *monitor.TransientError
	if errors.As(err, &te) {
		fmt.Println("full send failed: transient:", err)
	} else {
		fmt.Println("full send: want a transient error, got", err)
		os.Exit(1)
	}
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
