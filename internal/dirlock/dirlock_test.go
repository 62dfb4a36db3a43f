package dirlock_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/dirlock"
)

func TestAcquireExcludesASecondHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	_, err = dirlock.Acquire(dir)
	if !errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("second Acquire: got %v, want ErrLocked", err)
	}
	if want := "process " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("second Acquire: %q does not name the holder (%s)", err, want)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	l2, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if err := l2.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	var none *dirlock.Lock
	if err := none.Release(); err != nil {
		t.Fatalf("Release of a nil Lock: %v", err)
	}
}

// The lock file is its owner's only, also one an earlier version left
// readable by all.
func TestLockFileIsOwnerOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no permission bits on Windows")
	}
	for _, before := range []os.FileMode{0, 0o644, 0o604, 0o660, 0o700} {
		dir := t.TempDir()
		path := filepath.Join(dir, dirlock.FileName)
		if before != 0 {
			if err := os.WriteFile(path, nil, before); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, before); err != nil {
				t.Fatal(err)
			}
		}
		l, err := dirlock.Acquire(dir)
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		fi, err := os.Stat(path)
		l.Release()
		want := os.FileMode(0o600)
		if before == 0o700 {
			want = 0o700 // its owner's only already
		}
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("lock file (mode %v before) = %v, %v; want mode %v", before, fi.Mode().Perm(), err, want)
		}
	}
}

// A lock file that is a symbolic link (to a file of the user's, planted
// by someone who can write to the directory) or not a regular file is
// refused, and the file it names is left as it was.
func TestAcquireRefusesALinkOrNonRegularLockFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need a privilege on Windows")
	}
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, lock, target string)
	}{
		{"link to a file", func(t *testing.T, lock, target string) {
			if err := os.Symlink(target, lock); err != nil {
				t.Fatal(err)
			}
		}},
		{"link to no file", func(t *testing.T, lock, target string) {
			os.Remove(target)
			if err := os.Symlink(target, lock); err != nil {
				t.Fatal(err)
			}
		}},
		{"a directory", func(t *testing.T, lock, target string) {
			if err := os.Mkdir(lock, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"a named pipe", func(t *testing.T, lock, target string) {
			if err := mkfifo(lock); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(t.TempDir(), "authorized_keys")
			const keys = "ssh-ed25519 AAAA user@host\n"
			if err := os.WriteFile(target, []byte(keys), 0o644); err != nil {
				t.Fatal(err)
			}
			tc.plant(t, filepath.Join(dir, dirlock.FileName), target)
			l, err := dirlock.Acquire(dir)
			if err == nil {
				l.Release()
				t.Fatal("Acquire took the lock")
			}
			if errors.Is(err, dirlock.ErrLocked) {
				t.Errorf("Acquire: %v, want an error other than ErrLocked", err)
			}
			b, err := os.ReadFile(target)
			switch {
			case tc.name == "link to no file" && !errors.Is(err, os.ErrNotExist):
				t.Errorf("the link's target was created: %q, %v", b, err)
			case tc.name != "link to no file" && string(b) != keys:
				t.Errorf("the link's target now holds %q", b)
			}
			if fi, err := os.Stat(target); err == nil && tc.name == "link to a file" && fi.Mode().Perm() != 0o644 {
				t.Errorf("the link's target's mode changed to %v", fi.Mode().Perm())
			}
		})
	}
}

func TestAcquireMissingDirectory(t *testing.T) {
	_, err := dirlock.Acquire(filepath.Join(t.TempDir(), "missing"))
	if err == nil || errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("Acquire of a missing directory: got %v, want an open error", err)
	}
}

// TestLockDiesWithItsProcess holds the lock in a child process, kills it
// with SIGKILL and takes the lock again.
func TestLockDiesWithItsProcess(t *testing.T) {
	if os.Getenv("DIRLOCK_HOLD") != "" {
		return // the child's side is in TestMain
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DIRLOCK_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("child: %q, %v", line, err)
	}
	if _, err := dirlock.Acquire(dir); !errors.Is(err, dirlock.ErrLocked) {
		t.Fatalf("Acquire while the child holds the lock: got %v, want ErrLocked", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	l.Release()
}

// held keeps the child's lock reachable: a Lock the garbage collector
// finds unreachable has its file closed by the file's finalizer, which
// releases the lock (the parent then took it, now and then, under load).
var held *dirlock.Lock

func TestMain(m *testing.M) {
	if dir := os.Getenv("DIRLOCK_HOLD"); dir != "" {
		var err error
		if held, err = dirlock.Acquire(dir); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(2)
		}
		runtime.GC() // as may happen at any time: the lock must survive it
		os.Stdout.WriteString("locked\n")
		// Hold until killed. Not with select {}: with no goroutine left
		// to wake, the runtime ends the process ("all goroutines are
		// asleep - deadlock!"), and the lock with it, at once; the parent
		// took the lock first only when it was quicker (it was not, once,
		// on a loaded machine).
		for {
			time.Sleep(time.Hour)
		}
	}
	os.Exit(m.Run())
}

// The lock file names its holder's process id and nothing else, whatever
// an earlier holder left in it.
func TestLockFileNamesItsHolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, dirlock.FileName)
	if err := os.WriteFile(path, []byte("4294967296\nleft by an earlier holder\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := dirlock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	b, err := os.ReadFile(path)
	if want := strconv.Itoa(os.Getpid()) + "\n"; err != nil || string(b) != want {
		t.Errorf("the lock file holds %q (%v), want %q", b, err, want)
	}
}
