package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
// lock: after the removal, so that no other demo's sweep races it, and
// before a last try for systems that cannot remove an open file.
func (d *demoDir) Remove() error {
	err := os.RemoveAll(d.Path)
	if rerr := d.lock.Release(); rerr != nil {
		return errors.Join(err, rerr)
	}
	if err != nil {
		err = os.RemoveAll(d.Path)
	}
	return err
}

// isDemoDirName reports whether name is that of a directory demo makes:
// demoDirPrefix and MkdirTemp's digits, nothing else.
func isDemoDirName(name string) bool {
	digits, ok := strings.CutPrefix(name, demoDirPrefix)
	if !ok || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// removeStaleDemoDirs removes the directories under tmp that earlier
// demos made and left behind (a demo killed with SIGKILL removes nothing)
// and returns their paths. It takes only directories named as demo names
// them (isDemoDirName; not a symbolic link, nor anything else) whose lock
// it can take: no demo runs on them, nor a service of an earlier version
// whose data directory it was. A directory it cannot lock or remove stays,
// and the error joins those failures; a lock held, or another user's
// directory, is no failure.
func removeStaleDemoDirs(tmp string) ([]string, error) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", tmp, err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !isDemoDirName(e.Name()) { // IsDir is false for a symbolic link
			continue
		}
		d := &demoDir{Path: filepath.Join(tmp, e.Name())}
		if d.lock, err = dirlock.Acquire(d.Path); err != nil {
			if !errors.Is(err, dirlock.ErrLocked) && !errors.Is(err, fs.ErrPermission) {
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
