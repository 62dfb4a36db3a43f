package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// OpenOutbox numbers ids on from the n of the file's last line, also when
// the file is larger than one read of it (64 KiB) and holds fewer lines
// than that n, as it does after a Trim: the last line must be read where
// it is in the file, or the next id repeats one already sent.
func TestOutboxIDsGoOnFromALargeFile(t *testing.T) {
	sentAt := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, lines := range []int{1, 100, 300} {
		t.Run(fmt.Sprintf("%d lines", lines), func(t *testing.T) {
			var b strings.Builder
			first := 5000 - lines + 1
			for n := first; n <= 5000; n++ {
				line := entryLine(t, n, sentAt)
				// Pad each line to about 1 KiB, so that the file spans
				// several reads.
				b.WriteString(strings.Replace(line, `"subject":""`, `"subject":"`+strings.Repeat("p", 1000)+`"`, 1))
			}
			o, _ := openOutboxFile(t, b.String())
			if got, want := sendSMS(t, o), "outbox-mon-1-5001"; got != want {
				t.Errorf("after %d lines up to id 5000 (%d bytes): got id %q, want %q", lines, b.Len(), got, want)
			}
		})
	}
}

// A Send after Close fails and writes nothing: the outbox does not open
// its file again (a Trim's switch of files leaves it closed for a moment,
// and Send opens it then; Close must not be taken for that).
func TestOutboxSendAfterClose(t *testing.T) {
	o, path := openOutboxFile(t, "")
	sendSMS(t, o)
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	id, err := o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
	if err == nil {
		t.Errorf("Send after Close = %q, nil; want an error", id)
	}
	if got, want := outboxIDs(t, path), []string{"outbox-mon-1-1"}; !slices.Equal(got, want) {
		t.Errorf("outbox ids after a Send after Close: got %q, want %q", got, want)
	}
}

// A Trim after Close fails and leaves the outbox closed: it does not open
// the file again for Send, which must go on failing.
func TestOutboxTrimAfterClose(t *testing.T) {
	now := time.Now().UTC()
	o, path := openOutboxFile(t, entryLine(t, 1, now.Add(-48*time.Hour))+entryLine(t, 2, now.Add(-48*time.Hour))+entryLine(t, 3, now))
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := o.Trim(now.Add(-24 * time.Hour)); err == nil {
		t.Errorf("Trim after Close = %d, nil; want an error", n)
	}
	if id, err := o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage()); err == nil {
		t.Errorf("Send after Close and Trim = %q, nil; want an error", id)
	}
	if got, want := outboxIDs(t, path), []string{"outbox-mon-1", "outbox-mon-2", "outbox-mon-3"}; !slices.Equal(got, want) {
		t.Errorf("outbox ids: got %q, want %q", got, want)
	}
}

// OpenOutbox numbers ids on from the file's line count when its last line
// holds no id (a line written by hand, or not an entry): the next id is
// past every line, not 1 again, which an earlier line already has.
func TestOutboxIDsGoOnPastALastLineWithoutID(t *testing.T) {
	sentAt := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, last string
	}{
		{"not JSON", "a note\n"},
		{"no id", `{"sentAt":"2026-12-01T00:00:00Z"}` + "\n"},
		{"id without a number", `{"id":"outbox-mon-x"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _ := openOutboxFile(t, entryLine(t, 1, sentAt)+entryLine(t, 2, sentAt)+entryLine(t, 3, sentAt)+tt.last)
			if got, want := sendSMS(t, o), "outbox-mon-1-5"; got != want {
				t.Errorf("after 4 lines, the last %q: got id %q, want %q", tt.last, got, want)
			}
		})
	}
}

// An outbox entry's "to" is where the channel would deliver the alert: the
// webhook's URL, the topic's ARN or the phone number, and its channel is
// the alert's.
func TestOutboxEntryRecipient(t *testing.T) {
	tests := []struct {
		name        string
		alert       monitor.Alert
		to, channel string
	}{
		{"sms", monitor.Alert{Phone: "+14255550100"}, "+14255550100", monitor.ChannelSNS},
		{"twilio", monitor.Alert{Phone: "+14255550100", Channel: monitor.ChannelTwilio}, "+14255550100", monitor.ChannelTwilio},
		{"topic", monitor.Alert{TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts"}, "arn:aws:sns:us-east-1:123456789012:alerts", monitor.ChannelSNS},
		{"webhook", monitor.Alert{WebhookURL: "https://hooks.example/x"}, "https://hooks.example/x", monitor.ChannelWebhook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := NewOutbox(&buf, nil).Send(context.Background(), tt.alert, testMessage()); err != nil {
				t.Fatal(err)
			}
			var e OutboxEntry
			if err := json.Unmarshal(buf.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			if e.To != tt.to || e.Channel != tt.channel {
				t.Errorf("got to %q channel %q, want %q %q", e.To, e.Channel, tt.to, tt.channel)
			}
		})
	}
}
