package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
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

	// One check is "1 check", in the last line and in the timeout's
	// message alike.
	t.Run("one check", func(t *testing.T) {
		res := runCLI(context.Background(), "", "demo", "--interval", "1", "--checks", "1")
		if want := "demo: monitor demo-job completed after 1 check\n"; res.code != 0 || !strings.HasSuffix(res.stdout, want) {
			t.Errorf("exit %d, stdout ends %q; want 0 and %q", res.code, res.stdout[max(len(res.stdout)-60, 0):], want)
		}
	})

	// A monitor that times out before the simulated job completes is
	// said to have timed out, with what to change (the message read
	// "ended Completed with final status "Timeout", not Completed").
	t.Run("timeout", func(t *testing.T) {
		res := runCLI(context.Background(), "", "demo", "--interval", "1", "--checks", "10", "--timeout", "2")
		want := regexp.MustCompile(`^stepmon: demo: the monitor's --timeout of 2 s ran out \d+ checks? in, before the simulated job completed on check 10 \(final status Timeout\): raise --timeout or lower --checks or --interval\n$`)
		if res.code != 1 || !want.MatchString(res.stderr) {
			t.Errorf("exit %d, stderr %q; want 1 and a match for %s", res.code, res.stderr, want)
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
		// The AWS CLI line works without AWS configuration.
		checkAWSLine(t, text)
		cancel()
		if err := <-errc; exitCode(err, &stderr) != 0 {
			t.Errorf("demo --keep after Ctrl-C: %v (stderr %s)", err, stderr.String())
		}
	})
}

// checkAWSLine checks the AWS CLI command a banner shows: it names the
// region and asks for no signature, so that it runs as it is for a user
// without AWS configuration, and the request it makes is answered
// unsigned.
func checkAWSLine(t *testing.T, text string) {
	t.Helper()
	m := regexp.MustCompile(`aws (.*)--endpoint-url (\S+) ([a-z-]+)(.*)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no AWS CLI line in:\n%s", text)
	}
	if !strings.Contains(m[1], "--region us-east-1") || !strings.Contains(m[1], "--no-sign-request") {
		t.Errorf("AWS CLI line %q: want --region us-east-1 and --no-sign-request", m[0])
	}
	op := ""
	for _, w := range strings.Split(m[3], "-") {
		op += strings.ToUpper(w[:1]) + w[1:]
	}
	body := "{}"
	if arn := regexp.MustCompile(`--state-machine-arn (\S+)`).FindStringSubmatch(m[4]); arn != nil {
		body = `{"stateMachineArn":"` + arn[1] + `"}`
	}
	req, _ := http.NewRequest(http.MethodPost, m[2]+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AWSStepFunctions."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s unsigned: %v", op, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("%s unsigned: HTTP %d %s", op, resp.StatusCode, b)
	}
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

// TestDemoEndsCleanly runs stepmon demo as a process with a TMPDIR of its
// own, ending it the ways a terminal does besides Ctrl-C: its standard
// output closed ("stepmon demo | head -1") or a hangup (the terminal
// window closed). Each ends the demo quietly and leaves no data directory
// behind; a hangup ignored (nohup) does not end it.
func TestDemoEndsCleanly(t *testing.T) {
	needSignals(t)
	bin := buildStepmon(t)
	// Under nohup the demo would start with SIGHUP ignored too, and rightly
	// stay up on a hangup: exec resets a handled signal to its default.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tests := []struct {
		name      string
		args      []string
		nohup     bool   // start it with SIGHUP ignored
		waitFor   string // on stdout, before ending it
		closeOut  bool   // close stdout's read end
		sig       syscall.Signal
		wantCode  int
		stillRuns bool // the signal does not end it (then SIGINT does, with 0)
	}{
		{name: "stdout closed", args: []string{"--interval", "1", "--checks", "3"}, waitFor: "stepmon demo: service running", closeOut: true, wantCode: 141},
		{name: "hangup while watching", args: []string{"--interval", "30", "--checks", "3"}, waitFor: "Watching", sig: syscall.SIGHUP, wantCode: 129},
		{name: "hangup while serving (--keep)", args: []string{"--interval", "1", "--checks", "1", "--keep"}, waitFor: "Serving until Ctrl-C", sig: syscall.SIGHUP, wantCode: 0},
		{name: "hangup ignored (nohup)", args: []string{"--interval", "1", "--checks", "1", "--keep"}, nohup: true, waitFor: "Serving until Ctrl-C", sig: syscall.SIGHUP, stillRuns: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			args := append([]string{"demo"}, tt.args...)
			cmd := exec.Command(bin, args...)
			if tt.nohup {
				cmd = exec.Command("sh", append([]string{"-c", `trap "" HUP; exec "$0" "$@"`, bin}, args...)...)
			}
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			cmd.SysProcAttr = childProcAttr()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			cmd.Stdout = w
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			defer cmd.Process.Kill()
			done := make(chan error, 1)
			seen := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(r)
				once := sync.Once{}
				for sc.Scan() {
					if strings.Contains(sc.Text(), tt.waitFor) {
						once.Do(func() { close(seen) })
						if tt.closeOut {
							r.Close()
							return
						}
					}
				}
			}()
			select {
			case <-seen:
			case <-time.After(30 * time.Second):
				t.Fatalf("demo did not print %q", tt.waitFor)
			}
			if dirs, _ := filepath.Glob(filepath.Join(tmp, "stepmon-demo-*")); len(dirs) != 1 {
				t.Fatalf("demo's data directories while it runs: %q, want one", dirs)
			}
			if tt.sig != 0 {
				cmd.Process.Signal(tt.sig)
			}
			go func() { done <- cmd.Wait() }()
			if tt.stillRuns {
				select {
				case err := <-done:
					t.Fatalf("demo ended on %v: %v\nstderr: %s", tt.sig, err, stderr.String())
				case <-time.After(time.Second):
				}
				cmd.Process.Signal(syscall.SIGINT)
			}
			code := processExit(t, done, 30*time.Second, "demo still runs 30 s after it was ended")
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			if strings.Contains(stderr.String(), "stepmon:") {
				t.Errorf("stderr reports the end:\n%s", stderr.String())
			}
			if dirs, _ := filepath.Glob(filepath.Join(tmp, "*")); len(dirs) != 0 {
				t.Errorf("left behind in TMPDIR: %q", dirs)
			}
		})
	}
}

// TestDemoDefaults: without flags the demo's job completes on its 4th
// check, every 2 s, within 60 s, as its help says.
func TestDemoDefaults(t *testing.T) {
	res := runCLI(t.Context(), "", "demo", "-h")
	for _, want := range []string{
		"completes on its 4th check",
		"the simulated job completes on this check (default 4)\n",
		"whole seconds (2) or a duration of whole seconds (2s) (default 2)\n",
		"whole seconds (60) or a duration of whole seconds (1m) (default 60)\n",
	} {
		if res.code != 0 || !strings.Contains(res.stdout, want) {
			t.Errorf("demo -h: exit %d, stdout lacks %q:\n%s", res.code, want, res.stdout)
		}
	}
}

// TestDemoProgressTerminal: the demo's progress is an updating line when
// standard output is a terminal, as run hands it over (wrapped in an
// outputWriter), not only when it is the *os.File itself.
func TestDemoProgressTerminal(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !isTerminal(f) {
		t.Skipf("%s is not a character device here", os.DevNull)
	}
	out := &outputWriter{w: f}
	if p := progressTo(out, out); !p.tty {
		t.Errorf("progressTo(an outputWriter on %s): tty false, want true", os.DevNull)
	}
}
