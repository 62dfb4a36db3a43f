//go:build linux

package alerts

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
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
	runFullChild(t, "TestOutboxFileFullAfterTrim", "OUTBOX_TRIM_FULL_CHILD", path)
	if got, want := outboxIDs(t, path), []string{"outbox-mon-3", "outbox-mon-4", "outbox-mon-1-5"}; !slices.Equal(got, want) {
		t.Errorf("got entries %q, want %q: the lines the trim kept and the alert sent again", got, want)
	}
}

// outboxTrimFullChild trims the outbox, then sends the long alert of
// sendThroughFullFile.
func outboxTrimFullChild() {
	path := os.Getenv("OUTBOX_TRIM_FULL_CHILD")
	o, err := OpenOutbox(path, nil)
	if err != nil {
		childFail(err)
	}
	if n, err := o.Trim(time.Now().Add(-24 * time.Hour)); err != nil || n != 2 {
		childFail("trim:", n, err)
	}
	sendThroughFullFile(o, path)
}
