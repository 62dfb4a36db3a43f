package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/local"
)

// serve refuses a data directory whose status.db is gone while monitors
// run, with one message naming both files, and exit status 1.
func TestServeRefusesMismatchedDataDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rt, err := local.New(ctx, local.Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Shutdown(context.Background()) }) // on a failure; the test shuts it down itself
	errc := make(chan error, 1)
	go func() { errc <- rt.Serve(ctx) }()
	body := `{"instanceId":"x","target":{"type":"simulated","completeAfterChecks":1000},"pollingIntervalSeconds":3600,"timeoutSeconds":86400}`
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err = http.Post(rt.URL()+"/monitors", "application/json", strings.NewReader(body))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start: %s", resp.Status)
	}
	if err := rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, local.StatusDatabaseFile)); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t.Context(), "", "serve", "--addr", "127.0.0.1:0", "--data", dir)
	want := "stepmon: serve: local: the engine's database and the status store do not match: " +
		filepath.Join(dir, local.DatabaseFile) + " has 1 running monitor execution but " + filepath.Join(dir, local.StatusDatabaseFile) + " is missing"
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and one line starting:\n%s", r.code, r.stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, local.StatusDatabaseFile)); err == nil {
		t.Errorf("the refused serve created %s", local.StatusDatabaseFile)
	}
}

// A permission error on the data directory, as each layer of local.New
// wraps it, is a refusal of --data naming the directory once, the file
// or operation relative to it, and what to do; other errors are left to
// the caller. The errors are built here as the layers build them: the
// tests run as root, which most permission errors do not stop.
func TestDataDirError(t *testing.T) {
	const dir = "/srv/ro"
	denied := func(op, path string) error { return &fs.PathError{Op: op, Path: path, Err: syscall.EACCES} }
	db := filepath.Join(dir, local.DatabaseFile)
	tests := []struct {
		name string
		err  error
		want string // "" when not a data directory error
	}{
		{"lock file", fmt.Errorf("local: data directory: %w", fmt.Errorf("dirlock: %w", denied("open", filepath.Join(dir, "stepmon.lock")))),
			"serve: --data /srv/ro is not writable by this user (open stepmon.lock: permission denied): choose another --data or fix its ownership"},
		{"mkdir", fmt.Errorf("local: data directory: %w", denied("mkdir", dir)),
			"serve: --data /srv/ro is not writable by this user (mkdir: permission denied): choose another --data or fix its ownership"},
		{"mkdir above it", fmt.Errorf("local: data directory: %w", denied("mkdir", "/srv")),
			"serve: --data /srv/ro is not writable by this user (mkdir /srv: permission denied): choose another --data or fix its ownership"},
		{"database file", fmt.Errorf("local: open the engine store %s: %w", db, fmt.Errorf("sqlitestore: open %s: %w", db, denied("open", db))),
			"serve: --data /srv/ro is not writable by this user (open stepmon.db: permission denied): choose another --data or fix its ownership"},
		{"EPERM", fmt.Errorf("local: data directory: %w", &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.EPERM}),
			"serve: --data /srv/ro is not writable by this user (mkdir: operation not permitted): choose another --data or fix its ownership"},
		{"read-only file system", fmt.Errorf("local: data directory: %w", &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.EROFS}),
			"serve: --data /srv/ro is on a read-only file system (mkdir: read-only file system): choose another --data"},
		{"read-only database file", fmt.Errorf("local: open the engine store %s: %w", db, fmt.Errorf("sqlitestore: open %s: %w", db, &fs.PathError{Op: "open", Path: db, Err: syscall.EROFS})),
			"serve: --data /srv/ro is on a read-only file system (open stepmon.db: read-only file system): choose another --data"},
		{"listen", fmt.Errorf("local: listen: %w", &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EACCES)}), ""},
		{"another directory", fmt.Errorf("local: %w", denied("open", "/etc/stepmon/x")), ""},
		{"not a permission error", fmt.Errorf("local: data directory: %w", &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := dataDirError(dir, tt.err)
			switch {
			case tt.want == "" && ok:
				t.Errorf("dataDirError(%v) = %v, want not a data directory error", tt.err, got)
			case tt.want != "" && (!ok || got.Error() != tt.want):
				t.Errorf("dataDirError(%v) = %v, %v;\nwant %s", tt.err, got, ok, tt.want)
			}
		})
	}
}

// serve refuses a data directory it cannot create with one line naming
// --data once, exit status 1. As root this needs a directory that root
// cannot create either: one under /sys, which refuses it (mounted
// read-write, as on a host) or is a read-only file system (as in a
// container); otherwise one under a read-only directory.
func TestServeDataDirNotWritable(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps no write permission in a directory's mode (os.Chmod), and has no /sys")
	}
	var data string
	want := "is not writable by this user (mkdir: "
	wantAdvice := "choose another --data or fix its ownership"
	if os.Geteuid() == 0 {
		data = "/sys/stepmon-test-data"
		err := os.Mkdir(data, 0o700)
		if err == nil {
			os.Remove(data)
			t.Fatalf("running as root, mkdir %s succeeded: no directory here refuses root", data)
		}
		switch {
		case errors.Is(err, syscall.EROFS):
			want, wantAdvice = "is on a read-only file system (mkdir: ", "choose another --data"
		case !errors.Is(err, fs.ErrPermission):
			t.Fatalf("running as root, mkdir %s: %v, neither a permission error nor a read-only file system", data, err)
		}
	} else {
		ro := t.TempDir()
		if err := os.Chmod(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(ro, 0o700) })
		data = filepath.Join(ro, "new")
	}
	r := runCLI(t.Context(), "", "serve", "--addr", "127.0.0.1:0", "--data", data)
	want = "stepmon: serve: --data " + data + " " + want
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || !strings.HasSuffix(r.stderr, wantAdvice+"\n") ||
		strings.Count(r.stderr, data) != 1 || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and one line starting:\n%s", r.code, r.stderr, want)
	}
}
