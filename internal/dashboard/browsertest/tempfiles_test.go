package browsertest

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserLeavesNoTempFiles: Chromium keeps its singleton socket in a
// directory of its own under TMPDIR (org.chromium.Chromium.*) and does
// not remove it when it is killed; a browser test must not leave one
// behind for every run.
func TestBrowserLeavesNoTempFiles(t *testing.T) {
	tmp := shortTempDir(t)
	t.Setenv("TMPDIR", tmp)
	t.Run("browser", func(t *testing.T) {
		ctx := browser(t)
		step(t, ctx, "open a page", 10*time.Second, chromedp.Navigate("about:blank"))
	})
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in TMPDIR: %s", e.Name())
	}
}
