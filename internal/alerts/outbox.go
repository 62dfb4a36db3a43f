package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// OutboxEntry is one line an Outbox writes.
type OutboxEntry struct {
	ID      string            `json:"id"`
	SentAt  time.Time         `json:"sentAt"`
	Channel string            `json:"channel"`
	To      string            `json:"to"` // phone, topic ARN or webhook URL
	Subject string            `json:"subject"`
	Text    string            `json:"text"`
	Data    monitor.AlertData `json:"data"`
	// IdempotencyKey is the alert's key (monitor.AlertKey), the one a
	// webhook's Idempotency-Key header and a FIFO topic's deduplication
	// id carry: the same for every attempt of one monitor's alert.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// Cut reports that Text is cut as the channel would cut it: an SMS
	// through SNS to MaxSMSBytes, through Twilio to MaxTwilioBody UTF-16
	// units, so that the outbox shows what the channel would send.
	Cut bool `json:"cut,omitempty"`
}

// Outbox is the local runtime's sender: it writes each alert as one JSON
// line (an OutboxEntry) to a writer instead of delivering it, so that
// `stepmon serve` and `demo` show alerts without credentials: an SMS as
// SNS or Twilio would send it, cut to their limits. It is safe for
// concurrent use.
type Outbox struct {
	mu    sync.Mutex
	w     io.Writer
	file  *lineFile // the file of OpenOutbox; nil for NewOutbox
	clock monitor.Clock
	n     int

	// trimMu lets one Trim run at a time; afterCopy, when set (tests),
	// runs in Trim between the copy of the kept lines and the switch to
	// the new file, while Send is free to append.
	trimMu    sync.Mutex
	afterCopy func()
}

var _ monitor.Sender = (*Outbox)(nil)

// NewOutbox returns an Outbox writing to w; clock nil means the system
// clock.
func NewOutbox(w io.Writer, clock monitor.Clock) *Outbox {
	if clock == nil {
		clock = monitor.SystemClock
	}
	return &Outbox{w: w, clock: clock}
}

// OpenOutbox returns an Outbox appending to the file at path, created if
// needed. Close it when done. Ids go on from the file: the next id's n
// (see Send) is one more than the larger of the file's line count and the
// n of its last line's id, so that ids stay unique across restarts, also
// after Trim dropped lines. A
// temporary file a Trim left when the process ended in its middle is
// removed: the outbox file itself is whole then (see Trim).
func OpenOutbox(path string, clock monitor.Clock) (*Outbox, error) {
	if err := os.Remove(trimPath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("alerts: open outbox: remove an interrupted trim's file: %w", err)
	}
	f, err := openAppend(path)
	if err != nil {
		return nil, fmt.Errorf("alerts: open outbox: %w", err)
	}
	lines, last, err := countLines(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("alerts: open outbox %s: %w", path, err)
	}
	lf := &lineFile{path: path, f: f}
	o := NewOutbox(lf, clock)
	o.file = lf
	o.n = max(lines, idNumber(last))
	return o, nil
}

// openAppend opens the outbox file at path for appending, owner-only.
func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
}

// countLines counts the newlines in f, read from its start, and returns
// the last line they end (without its newline).
func countLines(f *os.File) (int, []byte, error) {
	buf := make([]byte, 64<<10)
	n := 0
	var off, lastStart, lastEnd int64 // lastEnd: just past the last newline
	for {
		k, err := f.Read(buf)
		for i := 0; i < k; {
			j := bytes.IndexByte(buf[i:k], '\n')
			if j < 0 {
				break
			}
			n++
			lastStart, lastEnd = lastEnd, off+int64(i+j)+1
			i += j + 1
		}
		off += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, nil, err
		}
	}
	if n == 0 {
		return 0, nil, nil
	}
	last := make([]byte, lastEnd-1-lastStart)
	if _, err := f.ReadAt(last, lastStart); err != nil {
		return n, nil, err
	}
	return n, last, nil
}

// idNumber returns the n of the id "outbox-{instanceId}-{n}" of the entry
// line, 0 when the line holds no such id.
func idNumber(line []byte) int {
	var e struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(line, &e) != nil {
		return 0
	}
	i := strings.LastIndexByte(e.ID, '-')
	n, err := strconv.Atoi(e.ID[i+1:])
	if err != nil {
		return 0
	}
	return n
}

// lineFile appends lines to a file and takes a line back when it could
// not be written whole (a full disk): the file then holds whole lines
// only, and the alert, sent again, is not glued to a broken one. Its file
// is nil between a Trim's switch of files and the opening of the new one;
// should that opening fail, the next Write tries again.
type lineFile struct {
	path   string
	f      *os.File
	closed bool
}

func (l *lineFile) Write(p []byte) (int, error) {
	if l.f == nil {
		if l.closed {
			return 0, os.ErrClosed
		}
		f, err := openAppend(l.path)
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	end, err := l.f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	n, err := l.f.Write(p)
	if err != nil && n > 0 {
		if terr := l.f.Truncate(end); terr != nil {
			err = fmt.Errorf("%w (and removing the partial line: %v)", err, terr)
		}
		n = 0
	}
	return n, err
}

// Close closes the file; a Write after it fails.
func (l *lineFile) Close() error {
	l.closed = true
	if l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	return f.Close()
}

// Send writes msg as one line and returns its id, "outbox-{instanceId}-{n}",
// where n counts the alerts the outbox has written (also those Trim
// dropped since).
func (o *Outbox) Send(_ context.Context, alert monitor.Alert, msg monitor.Message) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e := OutboxEntry{
		ID:      fmt.Sprintf("outbox-%s-%d", msg.Data.InstanceID, o.n+1),
		SentAt:  o.clock.Now().UTC(),
		Channel: alert.ChannelOf(),
		To:      recipient(alert),
		Subject: msg.Subject,
		Text:    smsText(alert, msg.Text),
		Data:    msg.Data,

		IdempotencyKey: msg.IdempotencyKey,
	}
	e.Cut = e.Text != msg.Text
	line, err := json.Marshal(e)
	if err != nil {
		return "", permanent("alerts: outbox: encode: %v", err)
	}
	if _, err := o.w.Write(append(line, '\n')); err != nil {
		return "", transient("alerts: outbox: write: %v", err) // no line, no number taken
	}
	o.n++
	return e.ID, nil
}

// Close closes the file an OpenOutbox opened; for NewOutbox it does
// nothing.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file == nil {
		return nil
	}
	return o.file.Close()
}

// smsText returns text as alert's channel sends it: an SMS cut as SNS
// (Send) or Twilio (send) cuts it; a topic message or a webhook's text
// whole.
func smsText(alert monitor.Alert, text string) string {
	switch {
	case alert.WebhookURL != "" || alert.TopicArn != "":
		return text
	case alert.ChannelOf() == monitor.ChannelTwilio:
		return truncateUTF16(text, MaxTwilioBody)
	}
	return monitor.TruncateBytes(text, MaxSMSBytes)
}

func recipient(a monitor.Alert) string {
	switch {
	case a.WebhookURL != "":
		return a.WebhookURL
	case a.TopicArn != "":
		return a.TopicArn
	}
	return a.Phone
}
