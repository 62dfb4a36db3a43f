package local

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// outbox is the local alert sender for the SMS and SNS channels: it
// appends each alert as a JSON line to a file under the data directory and
// logs it, instead of texting anyone.
type outbox struct {
	mu  sync.Mutex
	f   *os.File
	log *slog.Logger
}

var _ monitor.Sender = (*outbox)(nil)

// outboxEntry is one line of the outbox file.
type outboxEntry struct {
	Time       time.Time       `json:"time"`
	InstanceID string          `json:"instanceId"`
	Channel    string          `json:"channel"`
	To         string          `json:"to"`
	MessageID  string          `json:"messageId"`
	Message    monitor.Message `json:"message"`
}

func openOutbox(path string, log *slog.Logger) (*outbox, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("local: open the outbox: %w", err)
	}
	return &outbox{f: f, log: log}, nil
}

// Send implements monitor.Sender.
func (o *outbox) Send(ctx context.Context, a monitor.Alert, msg monitor.Message) (string, error) {
	to := a.Phone
	if to == "" {
		to = a.TopicArn
	}
	e := outboxEntry{Time: time.Now().UTC(), InstanceID: msg.Data.InstanceID, Channel: a.ChannelOf(), To: to,
		MessageID: "local-" + newRequestID(), Message: msg}
	line := append(marshal(e), '\n')
	o.mu.Lock()
	_, err := o.f.Write(line)
	o.mu.Unlock()
	if err != nil {
		return "", &monitor.TransientError{Message: "local outbox: " + err.Error()}
	}
	o.log.InfoContext(ctx, "alert (local outbox)", "instanceId", e.InstanceID, "channel", e.Channel, "to", to, "subject", msg.Subject, "text", msg.Text)
	return e.MessageID, nil
}

// Close closes the outbox file.
func (o *outbox) Close() error { return o.f.Close() }

// webhook posts alerts as JSON ({"text", "subject", "data"}: Slack reads
// "text") to the monitor's webhook URL.
type webhook struct {
	client *http.Client
}

var _ monitor.Sender = (*webhook)(nil)

// Send implements monitor.Sender: a 2xx answer is delivered; 408, 429,
// 5xx and network failures are transient; other answers are permanent.
func (w *webhook) Send(ctx context.Context, a monitor.Alert, msg monitor.Message) (string, error) {
	body := marshal(map[string]any{"text": msg.Text, "subject": msg.Subject, "data": msg.Data})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return "", monitor.Errorf(monitor.KindInvalid, "local: webhook", "bad webhook URL: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "stepmon")
	id := newRequestID()
	req.Header.Set("Idempotency-Key", msg.Data.InstanceID)
	resp, err := w.client.Do(req)
	if err != nil {
		return "", &monitor.TransientError{Message: "webhook: " + err.Error()}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return id, nil
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return "", &monitor.TransientError{Message: fmt.Sprintf("webhook: HTTP %d", resp.StatusCode)}
	default:
		return "", monitor.Errorf(monitor.KindInvalid, "local: webhook", "the webhook answered HTTP %d", resp.StatusCode)
	}
}

// jsonLine is a helper for tests reading the outbox.
func readOutbox(r io.Reader) ([]outboxEntry, error) {
	var out []outboxEntry
	dec := json.NewDecoder(r)
	for dec.More() {
		var e outboxEntry
		if err := dec.Decode(&e); err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, nil
}
