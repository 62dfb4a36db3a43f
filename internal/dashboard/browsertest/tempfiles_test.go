package browsertest

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserLeavesNoTempFiles: Chromium keeps its singleton socket in a
// directory of its own under TMPDIR (org.chromium.Chromium.*) and does
// not remove it when it is killed; the browser the tests share must not
// leave one, nor its user data, behind for every run.
func TestBrowserLeavesNoTempFiles(t *testing.T) {
	exe := chromiumPath(t)
	tmp := shortTempDir(t)
	t.Setenv("TMPDIR", tmp)
	ctx, stop, err := launch(exe)
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step(t, ctx, "open a page", 10*time.Second, chromedp.Navigate("about:blank"))
	stop()
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in TMPDIR: %s", e.Name())
	}
}
