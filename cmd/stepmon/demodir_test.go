package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/dirlock"
)

// A demo removes the directories earlier demos left behind and no demo
// uses, and nothing else under the temporary directory: not one a running
// demo (or an earlier version's service) holds the lock of, nor anything
// not named as demo names its directories, nor a symbolic link.
func TestRemoveStaleDemoDirs(t *testing.T) {
	tmp := t.TempDir()
	elsewhere := t.TempDir()
	if err := os.WriteFile(filepath.Join(elsewhere, "precious"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	mkdir := func(t *testing.T, path string) {
		t.Helper()
		if err := os.MkdirAll(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path, "stepmon.db"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name        string
		make        func(t *testing.T, path string)
		wantRemoved bool
	}{
		{"stepmon-demo-123", func(t *testing.T, p string) { // a killed demo's: its data directory inside
			mkdir(t, filepath.Join(p, "data"))
			for _, d := range []string{p, filepath.Join(p, "data")} {
				if err := os.WriteFile(filepath.Join(d, dirlock.FileName), []byte("4242\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}, true},
		{"stepmon-demo-456", mkdir, true},                                               // an earlier version's: the data directory itself
		{"stepmon-demo-789", func(t *testing.T, p string) { os.Mkdir(p, 0o700) }, true}, // killed before it locked its directory
		{"stepmon-demo-1000", func(t *testing.T, p string) { // a running demo's
			mkdir(t, p)
			l, err := dirlock.Acquire(p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Release() })
		}, false},
		{"stepmon-demo-notes", mkdir, false},
		{"stepmon-demo-", mkdir, false},
		{"stepmon-demo-12a", mkdir, false},
		{"my-stepmon-demo-1", mkdir, false},
		{"stepmon-demo-2000", func(t *testing.T, p string) { // a file
			if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"stepmon-demo-3000", func(t *testing.T, p string) { // a link to a directory
			if err := os.Symlink(elsewhere, p); err != nil {
				t.Skip("no symbolic links:", err)
			}
		}, false},
		{"stepmon-demo-4000", func(t *testing.T, p string) { // others may write to it
			mkdir(t, p)
			if err := os.Chmod(p, 0o777); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"stepmon-demo-5000", func(t *testing.T, p string) { // its lock file a link to a file of the user's
			os.Mkdir(p, 0o700)
			if err := os.Symlink(filepath.Join(elsewhere, "precious"), filepath.Join(p, dirlock.FileName)); err != nil {
				t.Skip("no symbolic links:", err)
			}
		}, false},
		{".stepmon-demo-6000.removing-77", mkdir, true}, // a removal cut short
		{".stepmon-demo-7000.removing-x", mkdir, false},
		{"stepmon-demo-8000.removing-77", mkdir, false},
		{".stepmon-notes.removing-77", mkdir, false},
		{".stepmon-demo-9000.removing-78", func(t *testing.T, p string) { // others may write to it
			mkdir(t, p)
			if err := os.Chmod(p, 0o777); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	var want []string
	for _, tt := range tests {
		tt.make(t, filepath.Join(tmp, tt.name))
		if tt.wantRemoved {
			want = append(want, filepath.Join(tmp, tt.name))
		}
	}
	removed, err := removeStaleDemoDirs(tmp)
	if err != nil {
		t.Errorf("removeStaleDemoDirs: %v", err)
	}
	slices.Sort(removed)
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %q, want %q", removed, want)
	}
	for _, tt := range tests {
		_, err := os.Lstat(filepath.Join(tmp, tt.name))
		if gone := os.IsNotExist(err); gone != tt.wantRemoved {
			t.Errorf("%s: removed %v, want %v (%v)", tt.name, gone, tt.wantRemoved, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(elsewhere, "precious")); err != nil || string(b) != "x" {
		t.Errorf("the links' target: %q, %v; want it unchanged", b, err)
	}
}

// A demo directory being removed takes a hidden name that is not a demo
// directory's, with the remover's process id, which a later sweep finds.
func TestRemovingName(t *testing.T) {
	dir := filepath.Join(os.TempDir(), "stepmon-demo-123")
	got := removingName(dir)
	want := filepath.Join(os.TempDir(), ".stepmon-demo-123.removing-"+strconv.Itoa(os.Getpid()))
	if got != want {
		t.Errorf("removingName(%q) = %q, want %q", dir, got, want)
	}
	if name := filepath.Base(got); !isRemovingName(name) || isDemoDirName(name) {
		t.Errorf("%s: isRemovingName %v, isDemoDirName %v; want true, false", name, isRemovingName(name), isDemoDirName(name))
	}
}

// A demo killed with SIGKILL leaves its directory behind; the next demo
// removes it, and its own as it ends.
func TestDemoRemovesAKilledDemosDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	bin := buildStepmon(t)
	tmp := t.TempDir()
	env := append(os.Environ(), "TMPDIR="+tmp)

	killed := exec.Command(bin, "demo", "--interval", "1", "--checks", "1", "--keep")
	killed.Env = env
	out, err := killed.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	defer killed.Process.Kill()
	serving := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Serving until Ctrl-C") {
				close(serving)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-serving:
	case <-time.After(30 * time.Second):
		t.Fatal("the first demo did not get to serving")
	}
	killed.Process.Signal(syscall.SIGKILL)
	killed.Wait()
	left, _ := filepath.Glob(filepath.Join(tmp, demoDirPrefix+"*"))
	if len(left) != 1 {
		t.Fatalf("after SIGKILL: %q in TMPDIR, want the killed demo's directory", left)
	}

	next := exec.Command(bin, "demo", "--interval", "1", "--checks", "1")
	next.Env = env
	var stdout, stderr bytes.Buffer
	next.Stdout, next.Stderr = &stdout, &stderr
	if err := next.Run(); err != nil {
		t.Fatalf("the next demo: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if rest, _ := filepath.Glob(filepath.Join(tmp, "*")); len(rest) != 0 {
		t.Errorf("left behind in TMPDIR after the next demo: %q", rest)
	}
}

// A temporary directory that cannot be read is an error naming it, with
// nothing removed: the demo warns and goes on.
func TestRemoveStaleDemoDirsUnreadable(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "missing")
	removed, err := removeStaleDemoDirs(tmp)
	if err == nil || !strings.HasPrefix(err.Error(), "read "+tmp+": ") || removed != nil {
		t.Errorf("removeStaleDemoDirs(%s) = %q, %v; want nothing removed and an error naming it", tmp, removed, err)
	}
}

// A demo directory that cannot be renamed for its removal stays, and
// Remove fails but still releases its lock: a later demo's sweep can take
// the directory instead of finding it held for good.
func TestDemoDirRemoveReleasesItsLock(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Remove renames the directory only off Windows")
	}
	d, err := makeDemoDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// A directory that is not empty where the rename goes.
	if err := os.MkdirAll(filepath.Join(removingName(d.Path), "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(); err == nil {
		t.Fatal("Remove succeeded with a directory in the way of its rename")
	}
	if _, err := os.Stat(d.Path); err != nil {
		t.Errorf("after the failed Remove: %v; want the directory still there", err)
	}
	l, err := dirlock.Acquire(d.Path)
	if err != nil {
		t.Fatalf("after the failed Remove, locking the directory: %v; want its lock released", err)
	}
	l.Release()
}
