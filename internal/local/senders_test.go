package local

import (
	"context"
	"io"
	"log/slog"
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
