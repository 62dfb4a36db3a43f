package local

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Twilio credentials without a sending number are refused when the
// runtime starts, not at the first SMS a monitor sends.
func TestTwilioNeedsFrom(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Twilio: TwilioConfig{AccountSID: "AC123", AuthToken: "token"}}
	rt, err := New(context.Background(), cfg)
	if err == nil {
		rt.Shutdown(context.Background())
		t.Fatal("New started with Twilio credentials and no From")
	}
	if !strings.Contains(err.Error(), "TWILIO_FROM") {
		t.Errorf("New: %v, want an error naming TWILIO_FROM", err)
	}
	cfg.Twilio.From = "+15005550006"
	rt, err = New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New with From: %v", err)
	}
	if err := rt.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// An error of New names what it was doing: here the outbox, which a
// directory in its place keeps from opening.
func TestNewErrorNamesTheOperation(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, OutboxFile), 0o700); err != nil {
		t.Fatal(err)
	}
	rt, err := New(context.Background(), Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		rt.Shutdown(context.Background())
		t.Fatal("New with a directory in the outbox's place: no error")
	}
	if want := "local: open the alert outbox: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("New: %q, want it to begin with %q", err, want)
	}
}
