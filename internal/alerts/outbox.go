package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
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
	close func() error
	clock monitor.Clock
	n     int
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
// needed. Close it when done. Ids go on from the lines already in the
// file, so that an entry's n is its line number and ids stay unique
// across restarts.
func OpenOutbox(path string, clock monitor.Clock) (*Outbox, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("alerts: open outbox: %w", err)
	}
	lines, err := countLines(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("alerts: open outbox %s: %w", path, err)
	}
	o := NewOutbox(&lineFile{f: f}, clock)
	o.n = lines
	o.close = f.Close
	return o, nil
}

// countLines counts the newlines in r.
func countLines(r io.Reader) (int, error) {
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// lineFile appends lines to a file and takes a line back when it could
// not be written whole (a full disk): the file then holds whole lines
// only, and the alert, sent again, is not glued to a broken one.
type lineFile struct {
	f *os.File
}

func (l *lineFile) Write(p []byte) (int, error) {
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

// Send writes msg as one line and returns its id, "outbox-{instanceId}-{n}",
// where n counts the outbox's lines.
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
	if o.close == nil {
		return nil
	}
	return o.close()
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
