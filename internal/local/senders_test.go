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

// An incomplete Twilio configuration is refused when the runtime starts,
// in one line naming what is missing and what is set, never a value: it
// used to be refused only for an account SID without a From number, and
// otherwise started with Twilio's alerts going to the outbox, or with
// every SMS failing for want of a token.
func TestTwilioIncompleteRefused(t *testing.T) {
	const token = "tok-s3cret"
	tests := []struct {
		name string
		c    TwilioConfig
		want string // "" for accepted
	}{
		{"none", TwilioConfig{}, ""},
		{"complete", TwilioConfig{AccountSID: "AC1", AuthToken: token, From: "+15005550006"}, ""},
		{"complete with API URL", TwilioConfig{AccountSID: "AC1", AuthToken: token, From: "+15005550006", BaseURL: "http://127.0.0.1:1"}, ""},
		{"token only", TwilioConfig{AuthToken: token},
			"missing TWILIO_ACCOUNT_SID, TWILIO_FROM (set: TWILIO_AUTH_TOKEN)"},
		{"from only", TwilioConfig{From: "+15005550006"},
			"missing TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN (set: TWILIO_FROM)"},
		{"API URL only", TwilioConfig{BaseURL: "http://127.0.0.1:1"},
			"missing TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM (set: TWILIO_API_URL)"},
		{"token and from without SID", TwilioConfig{AuthToken: token, From: "+15005550006"},
			"missing TWILIO_ACCOUNT_SID (set: TWILIO_AUTH_TOKEN, TWILIO_FROM)"},
		{"SID only", TwilioConfig{AccountSID: "AC1"},
			"missing TWILIO_AUTH_TOKEN, TWILIO_FROM (set: TWILIO_ACCOUNT_SID)"},
		{"SID and from without token", TwilioConfig{AccountSID: "AC1", From: "+15005550006"},
			"missing TWILIO_AUTH_TOKEN (set: TWILIO_ACCOUNT_SID, TWILIO_FROM)"},
		{"SID and token without from", TwilioConfig{AccountSID: "AC1", AuthToken: token},
			"missing TWILIO_FROM (set: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newTwilioSender(tt.c)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if (s == nil) != (tt.c == TwilioConfig{}) {
					t.Errorf("sender %v for %+v", s, tt.c)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want refused with %q", tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "local: twilio: incomplete configuration: "+tt.want+": ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line saying %q", msg, tt.want)
			}
			if strings.Contains(msg, token) {
				t.Errorf("error %q shows the token", msg)
			}
		})
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
