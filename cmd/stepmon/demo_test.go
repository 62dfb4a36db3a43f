package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDemo runs stepmon demo with and without --keep: the URLs to look at
// are printed only when the service stays up, and they answer.
func TestDemo(t *testing.T) {
	t.Run("without --keep", func(t *testing.T) {
		res := runCLI(context.Background(), "", "demo", "--interval", "1", "--checks", "2")
		if res.code != 0 {
			t.Fatalf("exit %d; stderr: %s\nstdout: %s", res.code, res.stderr, res.stdout)
		}
		for _, bad := range []string{"Look at it", "curl ", "/ui/", "list-executions"} {
			if strings.Contains(res.stdout, bad) {
				t.Errorf("stdout shows %q for a service that is gone:\n%s", bad, res.stdout)
			}
		}
		for _, want := range []string{
			`to look around, run "stepmon demo --keep" or "stepmon serve"`,
			"demo: monitor demo-job completed after 2 checks",
		} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
			}
		}
	})

	t.Run("with --keep", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := &watchedBuffer{want: "Serving until Ctrl-C", seen: make(chan struct{})}
		var stderr bytes.Buffer
		errc := make(chan error, 1)
		go func() {
			errc <- run(ctx, []string{"demo", "--interval", "1", "--checks", "1", "--keep"}, func(string) string { return "" },
				bytes.NewReader(nil), out, &stderr)
		}()
		select {
		case <-out.seen:
		case err := <-errc:
			t.Fatalf("demo ended: %v\nstdout: %s\nstderr: %s", err, out.String(), stderr.String())
		case <-time.After(30 * time.Second):
			t.Fatalf("demo did not get to serving:\n%s", out.String())
		}
		text := out.String()
		for _, want := range []string{"Look at it:", "curl http://", "/ui/", "list-executions"} {
			if !strings.Contains(text, want) {
				t.Errorf("stdout lacks %q:\n%s", want, text)
			}
		}
		// What it shows is there while it serves.
		for _, u := range regexp.MustCompile(`curl (\S+)`).FindAllStringSubmatch(text, -1) {
			resp, err := http.Get(u[1])
			if err != nil {
				t.Fatalf("GET %s: %v", u[1], err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: HTTP %d", u[1], resp.StatusCode)
			}
		}
		cancel()
		if err := <-errc; exitCode(err, &stderr) != 0 {
			t.Errorf("demo --keep after Ctrl-C: %v (stderr %s)", err, stderr.String())
		}
	})
}

// watchedBuffer is a buffer that closes seen once want has been written.
type watchedBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *watchedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
