package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/local"
)

// TestServeConfigWithoutFlags: serve without flags keeps its data in
// .stepmon under the working directory and logs text at level info to
// standard error; the other tests all give --data.
func TestServeConfigWithoutFlags(t *testing.T) {
	t.Chdir(t.TempDir())
	var stderr bytes.Buffer
	opts, err := serveConfig(t.Context(), &cli{getenv: func(string) string { return "" }, stdout: &bytes.Buffer{}, stderr: &stderr}, nil)
	if err != nil {
		t.Fatalf("serveConfig: %v", err)
	}
	if opts.cfg.DataDir != ".stepmon" {
		t.Errorf("DataDir %q, want .stepmon", opts.cfg.DataDir)
	}
	if opts.logJSON || opts.def != "" {
		t.Errorf("logJSON %v, def %q; want false and no definition file", opts.logJSON, opts.def)
	}
	logger := opts.cfg.Logger
	if ctx := context.Background(); !logger.Enabled(ctx, slog.LevelInfo) || logger.Enabled(ctx, slog.LevelDebug) {
		t.Errorf("the log takes info %v and debug %v; want info and not debug",
			logger.Enabled(ctx, slog.LevelInfo), logger.Enabled(ctx, slog.LevelDebug))
	}
	logger.Info("hello")
	if got := stderr.String(); !strings.Contains(got, "level=INFO msg=hello") {
		t.Errorf("log line %q, want a text line on standard error", got)
	}
}

// TestServeRefusesArguments: serve takes flags only; an argument (a
// mistyped flag's value, say) is a usage error before anything is
// created.
func TestServeRefusesArguments(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	// Bounded, so that a serve that takes the argument stops and the
	// test fails instead of serving on.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	r := runCLI(ctx, "", "serve", "--addr", "127.0.0.1:0", "--data", data, "extra")
	if want := "stepmon: serve takes no arguments; got [\"extra\"]\n"; r.code != 2 || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, want)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data directory %s: %v; want it not created", data, err)
	}
}

// TestServeBannerAlerts: serve's banner and its listening log line say
// where each alert channel goes: the outbox unless --sns-endpoint or
// TWILIO_* configure the channel, then the API's URL (Twilio's own by
// default) without the user information or query that may hold a key.
func TestServeBannerAlerts(t *testing.T) {
	data := t.TempDir()
	outbox := filepath.Join(data, local.OutboxFile)
	tests := []struct {
		name                  string
		sns                   string
		twilio                local.TwilioConfig
		wantSNS, wantTw       string // the banner's lines
		wantLogSNS, wantLogTw string // the log line's sns and twilio
	}{
		{name: "outbox",
			wantSNS: "SNS (topics, SMS): to the outbox " + outbox + "\n", wantTw: "Twilio SMS: to the outbox " + outbox + " (TWILIO_* not set)\n",
			wantLogSNS: "outbox", wantLogTw: "outbox"},
		{name: "SNS endpoint", sns: "http://AKID:s3cret@127.0.0.1:5000/?X-Key=s3cret",
			wantSNS:    "SNS (topics, SMS): to the SNS API at http://(redacted)@127.0.0.1:5000/?(redacted) (--sns-endpoint)\n",
			wantTw:     "Twilio SMS: to the outbox " + outbox + " (TWILIO_* not set)\n",
			wantLogSNS: "http://(redacted)@127.0.0.1:5000/?(redacted)", wantLogTw: "outbox"},
		{name: "Twilio", twilio: local.TwilioConfig{AccountSID: "AC1", AuthToken: "s3cret", From: "+14255550100"},
			wantSNS: "SNS (topics, SMS): to the outbox " + outbox + "\n", wantTw: "Twilio SMS: to Twilio's API at https://api.twilio.com\n",
			wantLogSNS: "outbox", wantLogTw: "https://api.twilio.com"},
		{name: "Twilio at TWILIO_API_URL", twilio: local.TwilioConfig{AccountSID: "AC1", AuthToken: "s3cret", From: "+14255550100", BaseURL: "http://127.0.0.1:7000"},
			wantSNS: "SNS (topics, SMS): to the outbox " + outbox + "\n", wantTw: "Twilio SMS: to Twilio's API at http://127.0.0.1:7000\n",
			wantLogSNS: "outbox", wantLogTw: "http://127.0.0.1:7000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var banner, log bytes.Buffer
			cfg := local.Config{Addr: "127.0.0.1:8080", DataDir: data, SNSEndpoint: tt.sns, Twilio: tt.twilio,
				Logger: slog.New(slog.NewJSONHandler(&log, nil))}
			announce(&banner, cfg, "http://127.0.0.1:8080", "arn:aws:states:us-east-1:000000000000:stateMachine:stepmon",
				&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, time.Millisecond, false)
			for _, w := range []string{"                 " + tt.wantSNS, "                 " + tt.wantTw} {
				if !strings.Contains(banner.String(), w) {
					t.Errorf("the banner does not say %q:\n%s", w, banner.String())
				}
			}
			if strings.Contains(banner.String()+log.String(), "s3cret") {
				t.Errorf("the banner or the log shows a secret:\n%s%s", banner.String(), log.String())
			}
			var line struct{ Msg, SNS, Twilio, Outbox string }
			if err := json.Unmarshal(log.Bytes(), &line); err != nil {
				t.Fatalf("log %q: %v", log.String(), err)
			}
			if line.Msg != "stepmon serve listening" || line.SNS != tt.wantLogSNS || line.Twilio != tt.wantLogTw || line.Outbox != outbox {
				t.Errorf("log line %+v; want sns %q, twilio %q, outbox %q", line, tt.wantLogSNS, tt.wantLogTw, outbox)
			}
		})
	}
}

// TestAWSCLI: the AWS CLI line serve and demo print names the region of
// the state machine's ARN (us-east-1 when it names none) and asks for no
// signature, so that it runs without AWS configuration.
func TestAWSCLI(t *testing.T) {
	for _, tt := range []struct{ arn, want string }{
		{"arn:aws:states:eu-west-1:000000000000:stateMachine:stepmon",
			"aws --region eu-west-1 --no-sign-request stepfunctions --endpoint-url http://127.0.0.1:8080"},
		{"arn:aws:states::000000000000:stateMachine:stepmon",
			"aws --region us-east-1 --no-sign-request stepfunctions --endpoint-url http://127.0.0.1:8080"},
		{"", "aws --region us-east-1 --no-sign-request stepfunctions --endpoint-url http://127.0.0.1:8080"},
	} {
		if got := awsCLI("http://127.0.0.1:8080", tt.arn); got != tt.want {
			t.Errorf("awsCLI(%q) = %q, want %q", tt.arn, got, tt.want)
		}
	}
}
