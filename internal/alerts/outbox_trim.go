package alerts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"
)

// trimPath is the temporary file a Trim of the outbox at path writes the
// kept lines to before renaming it over path.
func trimPath(path string) string { return path + ".trim" }

// Trim drops from the start of the outbox file the lines of the alerts
// sent before cutoff and returns how many it dropped. The file is in the
// order the alerts were sent, so the lines dropped are those before the
// first one sent at or after cutoff, except the last whole line, which
// stays even when old: the next OpenOutbox numbers ids on from it. A
// line whose time cannot be read (not an entry) is kept, and so is every
// line after it. When the first line is not old, Trim reads the start of
// the file only and changes nothing.
//
// The kept lines are copied to a temporary file beside the outbox
// (outbox.jsonl.trim) while Send goes on appending; then, with Send held
// for a moment, the lines appended meanwhile are copied too, the copy is
// synced to the disk and renamed over the outbox, which Send appends to
// from then on. No line is lost or cut, and a crash at any point leaves
// the old file or the new one, both whole: OpenOutbox removes a temporary
// file left behind. Ids go on unchanged (see OpenOutbox). For an Outbox
// of NewOutbox, Trim does nothing.
func (o *Outbox) Trim(cutoff time.Time) (int, error) {
	if o.file == nil {
		return 0, nil
	}
	o.trimMu.Lock()
	defer o.trimMu.Unlock()
	path := o.file.path
	src, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // removed by hand: nothing to trim
	}
	if err != nil {
		return 0, fmt.Errorf("alerts: trim outbox: %w", err)
	}
	defer src.Close()
	br := bufio.NewReaderSize(src, 64<<10)
	var (
		cut   int64 // bytes of the lines dropped
		first []byte
		last  []byte // the last line dropped
		n     int
	)
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			break // a line being written, if any, is kept
		}
		if err != nil {
			return 0, fmt.Errorf("alerts: trim outbox %s: %w", path, err)
		}
		if t, ok := lineSentAt(line); !ok || !t.Before(cutoff) {
			first = line
			break
		}
		cut += int64(len(line))
		n++
		last = line
	}
	if first == nil && last != nil {
		// Every whole line is old: the last stays, for the ids (see
		// OpenOutbox), which would otherwise start again at 1.
		first, cut, n = last, cut-int64(len(last)), n-1
	}
	if n == 0 {
		return 0, nil
	}
	if err := o.rewrite(src, br, cut, first); err != nil {
		return 0, fmt.Errorf("alerts: trim outbox %s: %w", path, err)
	}
	return n, nil
}

// rewrite replaces the outbox file, open as src, by its lines from offset
// cut: first (the line at cut, nil when there is none) and the whole lines
// br reads after it, copied while Send appends, then the rest of the file
// with Send held, before the switch to the copy.
func (o *Outbox) rewrite(src *os.File, br *bufio.Reader, cut int64, first []byte) error {
	path := o.file.path
	tmp, err := os.OpenFile(trimPath(path), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 64<<10)
	copied := cut
	// Whole lines only: a line Send is writing now may yet be taken back
	// (lineFile.Write); the rest is copied below, with Send held.
	for line := first; len(line) > 0 && line[len(line)-1] == '\n'; {
		if _, err := w.Write(line); err != nil {
			return err
		}
		copied += int64(len(line))
		var rerr error
		if line, rerr = br.ReadBytes('\n'); rerr != nil && rerr != io.EOF {
			return rerr
		}
	}
	if o.afterCopy != nil {
		o.afterCopy()
	}

	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file.closed {
		return os.ErrClosed
	}
	if _, err := io.Copy(w, io.NewSectionReader(src, copied, math.MaxInt64-copied)); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Closed before the rename, for systems that refuse to replace an
	// open file; Send opens the file again (lineFile.Write), also if the
	// rename fails.
	src.Close()
	if old := o.file.f; old != nil {
		o.file.f = nil
		if err := old.Close(); err != nil {
			return errors.Join(err, os.Remove(tmp.Name()))
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	renamed = true
	syncDir(filepath.Dir(path))
	if f, err := openAppend(path); err == nil {
		o.file.f = f
	}
	return nil
}

// sentAtKey is how an entry's time starts in its line. A "sentAt" in a
// text field is escaped (\"sentAt\"), so the first match is the entry's
// own time, also in a line a crash cut and the next alert was appended to.
var sentAtKey = []byte(`"sentAt":"`)

// lineSentAt returns the SentAt of the outbox line, without decoding the
// rest of it; ok is false when it has none.
func lineSentAt(line []byte) (time.Time, bool) {
	i := bytes.Index(line, sentAtKey)
	if i < 0 {
		return time.Time{}, false
	}
	rest := line[i+len(sentAtKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return t, err == nil
}

// syncDir makes a rename in dir durable. It is best effort: not every
// system can sync a directory, and the rename has taken place for the
// running process either way; after a power loss the outbox is then the
// old file or the new one, both whole.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
