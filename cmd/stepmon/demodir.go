package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/stepmon/stepmon/internal/dirlock"
)

// demoDirPrefix starts the name of every temporary directory demo makes
// under os.TempDir(); MkdirTemp adds decimal digits.
const demoDirPrefix = "stepmon-demo-"

// demoDir is the demo's temporary directory, locked (dirlock) by the demo
// from its creation to its removal: a directory of this name whose lock
// can be taken belongs to no running demo (removeStaleDemoDirs). The
// service's data directory, with a lock of its own, is Data inside it.
type demoDir struct {
	Path string
	Data string
	lock *dirlock.Lock
}

// demoDirAttempts bounds how often makeDemoDir makes a directory again
// when another demo's removeStaleDemoDirs took the new one before its
// lock: a race of two demos starting together, each lost at most once.
const demoDirAttempts = 3

// makeDemoDir makes and locks a temporary directory for the demo under
// tmp (os.TempDir()).
func makeDemoDir(tmp string) (*demoDir, error) {
	var err error
	for range demoDirAttempts {
		var dir string
		if dir, err = os.MkdirTemp(tmp, demoDirPrefix); err != nil {
			return nil, err
		}
		var lock *dirlock.Lock
		if lock, err = dirlock.Acquire(dir); err == nil {
			return &demoDir{Path: dir, Data: filepath.Join(dir, "data"), lock: lock}, nil
		}
		// Taken (and being removed) by another demo's sweep, or removed
		// already: the other demo removes it.
	}
	return nil, fmt.Errorf("lock a new directory: %w", err)
}

// Remove removes the directory with everything in it, and releases its
// lock. Except on Windows (which cannot rename a directory holding an
// open file), the directory is first renamed, under its lock, to a name
// no demo makes or sweeps as a demo's (removingName): once its lock file
// is deleted, another demo could otherwise lock the half-removed
// directory as a new one. On Windows the open lock file is removed after
// its release.
func (d *demoDir) Remove() error {
	path := d.Path
	if runtime.GOOS != "windows" {
		gone := removingName(path)
		if err := os.Rename(path, gone); err != nil {
			return errors.Join(err, d.lock.Release())
		}
		path = gone
	}
	err := os.RemoveAll(path)
	if rerr := d.lock.Release(); rerr != nil {
		return errors.Join(err, rerr)
	}
	if err != nil && runtime.GOOS == "windows" {
		err = os.RemoveAll(path)
	}
	return err
}

// removingName is the name a demo directory at path takes while it is
// removed: hidden, and not a demo's name (isDemoDirName), with the
// process id that removes it ("/tmp/.stepmon-demo-123.removing-4242").
func removingName(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+removingSuffix+strconv.Itoa(os.Getpid()))
}

// removingSuffix is in the name of a demo directory being removed,
// before the remover's process id.
const removingSuffix = ".removing-"

// isRemovingName reports whether name is that of a demo directory whose
// removal began (removingName): a remover killed in the middle leaves it.
func isRemovingName(name string) bool {
	rest, ok := strings.CutPrefix(name, ".")
	if !ok {
		return false
	}
	dir, pid, ok := strings.Cut(rest, removingSuffix)
	return ok && isDemoDirName(dir) && isDigits(pid)
}

// isDigits reports whether s is one or more decimal digits.
func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// ownPrivateDir reports whether the entry at path is a directory (not a
// symbolic link) of this user and private to it (privateToSelf), whose
// lock file, if there is one, is a regular file: a directory anyone else
// made or could write to is not a demo's to sweep.
func ownPrivateDir(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.IsDir() || !privateToSelf(fi) {
		return false
	}
	lfi, err := os.Lstat(filepath.Join(path, dirlock.FileName))
	return errors.Is(err, fs.ErrNotExist) || (err == nil && lfi.Mode().IsRegular())
}

// isDemoDirName reports whether name is that of a directory demo makes:
// demoDirPrefix and MkdirTemp's digits, nothing else.
func isDemoDirName(name string) bool {
	digits, ok := strings.CutPrefix(name, demoDirPrefix)
	return ok && isDigits(digits)
}

// removeStaleDemoDirs removes the directories under tmp that earlier
// demos made and left behind (a demo killed with SIGKILL removes nothing)
// and returns their paths. It takes only directories named as demo names
// them (isDemoDirName), this user's and private to it (ownPrivateDir; not
// a symbolic link, nor anything else), whose lock it can take: no demo
// runs on them, nor a service of an earlier version whose data directory
// it was. It also finishes the removals that a demo killed in the middle
// of one left (isRemovingName). A directory it cannot lock or remove
// stays, and the error joins those failures; a lock held, or another
// user's directory, is no failure.
func removeStaleDemoDirs(tmp string) ([]string, error) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", tmp, err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		path := filepath.Join(tmp, e.Name())
		switch {
		case isRemovingName(e.Name()) && ownPrivateDir(path):
			// Renamed under its lock by a demo that removed it: no demo
			// runs on it.
			if err := os.RemoveAll(path); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", path, err))
				continue
			}
			removed = append(removed, path)
			continue
		case !isDemoDirName(e.Name()) || !ownPrivateDir(path):
			continue
		}
		d := &demoDir{Path: path}
		if d.lock, err = dirlock.Acquire(d.Path); err != nil {
			if !errors.Is(err, dirlock.ErrLocked) && !errors.Is(err, fs.ErrPermission) && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("lock %s: %w", d.Path, err))
			}
			continue
		}
		if err := d.Remove(); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", d.Path, err))
			continue
		}
		removed = append(removed, d.Path)
	}
	return removed, errors.Join(errs...)
}
