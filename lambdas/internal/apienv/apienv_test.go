package apienv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/lambdas/internal/lambdaenv"
	"github.com/stepmon/stepmon/lambdas/internal/lambdatest"
)

func TestNewHandler(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"nothing set", map[string]string{}, "start: TABLE_NAME and STATE_MACHINE_ARN"},
		{"no state machine", map[string]string{"TABLE_NAME": "t"}, "STATE_MACHINE_ARN"},
		{"no table", map[string]string{"STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}, "start: TABLE_NAME"},
		{"complete", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}, ""},
		{"bad topic list", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"ALERT_TOPIC_ARNS": "ops"}, "start: ALERT_TOPIC_ARN/ALERT_TOPIC_ARNS: "},
		{"bad SMS channels", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"SMS_CHANNELS": "sms"}, "start: SMS_CHANNELS: "},
		{"interval floor not a number", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"MIN_POLLING_INTERVAL_SECONDS": "1m"}, `start: MIN_POLLING_INTERVAL_SECONDS: want a whole number of seconds from 1 to 86400, got "1m"`},
		{"interval floor over a day", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"MIN_POLLING_INTERVAL_SECONDS": "86401"}, "MIN_POLLING_INTERVAL_SECONDS"},
		{"interval floor zero", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"MIN_POLLING_INTERVAL_SECONDS": "0"}, "MIN_POLLING_INTERVAL_SECONDS"},
		{"private flag not a boolean", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"ALLOW_PRIVATE_TARGETS": "sometimes"}, "start: ALLOW_PRIVATE_TARGETS="},
		{"loopback prefix", map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"ALLOWED_TARGET_PREFIXES": "10.1.0.0/16, 127.0.0.0/8"}, "start: ALLOWED_TARGET_PREFIXES: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := NewHandler(context.Background(), "start", func(k string) string { return tt.env[k] }, io.Discard)
			if lambdatest.WantErr(t, err, tt.wantErr) {
				return
			}
			if h == nil {
				t.Fatal("no handler")
			}
			if key := string(h.API.TokenKey); !strings.HasSuffix(key, "\x00"+tt.env["TABLE_NAME"]) {
				t.Errorf("TokenKey = %q, want one derived from the table name", key)
			}
		})
	}
}

// An AWS configuration that does not load stops the function at start-up.
func TestNewHandlerAWSConfig(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	empty := t.TempDir() + "/empty"
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_PROFILE", "missing")
	env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}
	h, err := NewHandler(context.Background(), "status", func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "status: load AWS config: ") {
		t.Errorf("NewHandler with a missing AWS profile = %v, %v; want a load AWS config error", h, err)
	}
}

func TestNewHandlerAlertTopics(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	const stack, ops, other = "arn:aws:sns:us-east-1:123456789012:alerts", "arn:aws:sns:us-east-1:123456789012:ops",
		"arn:aws:sns:us-east-1:123456789012:other"
	base := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}
	tests := []struct {
		name    string
		env     map[string]string
		allowed map[string]bool
	}{
		{"unset: start does not check", nil, map[string]bool{stack: true, other: true}},
		{"stack topic", map[string]string{"ALERT_TOPIC_ARN": stack}, map[string]bool{stack: true, ops: false, other: false}},
		{"stack and named topics", map[string]string{"ALERT_TOPIC_ARN": stack, "ALERT_TOPIC_ARNS": ops},
			map[string]bool{stack: true, ops: true, other: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			h, err := NewHandler(context.Background(), "start", func(k string) string { return env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			for arn, want := range tt.allowed {
				if got := h.API.AlertTopics.Allows(arn); got != want {
					t.Errorf("Allows(%s) = %v, want %v", arn, got, want)
				}
			}
		})
	}
}

func TestNewHandlerLogger(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
		"AWS_LAMBDA_LOG_LEVEL": "ERROR"}
	var out bytes.Buffer
	h, err := NewHandler(context.Background(), "status", func(k string) string { return env[k] }, &out)
	if err != nil {
		t.Fatal(err)
	}
	for name, log := range map[string]*slog.Logger{"API": h.API.Logger, "handler": h.Logger} {
		t.Run(name, func(t *testing.T) { lambdatest.WantLogger(t, log, &out) })
	}
}

// MIN_POLLING_INTERVAL_SECONDS is the API's floor on polling intervals.
func TestNewHandlerMinInterval(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	for value, want := range map[string]int{"": 0, "1": 1, "60": 60, "86400": 86400} {
		env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			MinIntervalVar: value}
		h, err := NewHandler(context.Background(), "status", func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatalf("%s=%q: %v", MinIntervalVar, value, err)
		}
		if got := h.API.MinIntervalSeconds; got != want {
			t.Errorf("%s=%q: MinIntervalSeconds = %d, want %d", MinIntervalVar, value, got, want)
		}
	}
}

func TestNewHandlerSMSChannels(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	tests := []struct {
		value string
		want  []string // nil: every channel
	}{
		{"", nil},
		{"none", []string{}},
		{"sns,twilio", []string{"sns", "twilio"}},
	}
	for _, tt := range tests {
		env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"SMS_CHANNELS": tt.value}
		h, err := NewHandler(context.Background(), "start", func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatalf("SMS_CHANNELS=%q: %v", tt.value, err)
		}
		got := h.API.SMSChannels
		if (got == nil) != (tt.want == nil) || strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("SMS_CHANNELS=%q: SMSChannels = %#v, want %#v", tt.value, got, tt.want)
		}
	}
}

// LIST_INDEX names the index GET /monitors queries; unset, it is the
// store's own.
func TestNewHandlerListIndex(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	var mu sync.Mutex
	indexes := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ IndexName string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		indexes[in.IndexName] = true
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		io.WriteString(w, `{"Items":[],"Count":0,"ScannedCount":0}`)
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", srv.URL)
	for _, tt := range []struct{ env, want string }{{"", dynamostore.IndexName}, {"byCreated", "byCreated"}} {
		env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m", ListIndexVar: tt.env}
		h, err := NewHandler(context.Background(), "status", func(k string) string { return env[k] }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		clear(indexes)
		if _, err := h.API.List(context.Background(), monitor.ListQuery{}); err != nil {
			t.Fatalf("List: %v", err)
		}
		if want := map[string]bool{tt.want: true}; !maps.Equal(indexes, want) {
			t.Errorf("LIST_INDEX=%q: queried indexes %v, want %v", tt.env, indexes, want)
		}
	}
}

// The clients NewHandler builds end an AWS call's attempt that gets no
// answer after lambdaenv.AWSAttemptTimeout and try again, so that one hung
// connection does not use the function's whole timeout.
func TestNewHandlerBoundsAWSAttempts(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	url, requests := lambdatest.HungFirstAttempt(t, `{"Items":[],"Count":0,"ScannedCount":0}`)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", url)
	env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}
	h, err := NewHandler(context.Background(), "status", func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// The first attempt hangs until the test ends, so an answer within
	// the context proves that the attempt was cut and retried.
	ctx, cancel := context.WithTimeout(t.Context(), 3*lambdaenv.AWSAttemptTimeout)
	defer cancel()
	if _, err := h.API.List(ctx, monitor.ListQuery{}); err != nil {
		t.Errorf("List with its first attempt hung: %v after %d requests, want the next attempt's answer", err, requests.Load())
	}
}

// ALLOW_PRIVATE_TARGETS decides, as for the check and alert functions,
// whether a start refuses a URL naming a private address or localhost.
func TestNewHandlerPermitHost(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	const body = `{"target":{"type":"http","url":"http://localhost:9000/jobs/1"},"alert":{"webhookUrl":"http://169.254.169.254/latest/"}}`
	tests := []struct {
		allow   string
		want    []monitor.FieldError // nil: accepted
		wantErr string
	}{
		{"", []monitor.FieldError{
			{Field: "target.url", Problem: "must not name localhost, a loopback address (127.0.0.0/8): this deployment does not allow private targets"},
			{Field: "alert.webhookUrl", Problem: "must not name 169.254.169.254, a link-local address (169.254.0.0/16, includes the instance metadata service): this deployment does not allow private targets"},
		}, ""},
		{"false", []monitor.FieldError{
			{Field: "target.url", Problem: "must not name localhost, a loopback address (127.0.0.0/8): this deployment does not allow private targets"},
			{Field: "alert.webhookUrl", Problem: "must not name 169.254.169.254, a link-local address (169.254.0.0/16, includes the instance metadata service): this deployment does not allow private targets"},
		}, ""},
		{"true", nil, ""},
		{"sometimes", nil, "ALLOW_PRIVATE_TARGETS"},
	}
	for _, tt := range tests {
		env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
			"ALLOW_PRIVATE_TARGETS": tt.allow}
		h, err := NewHandler(context.Background(), "start", func(k string) string { return env[k] }, io.Discard)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ALLOW_PRIVATE_TARGETS=%q: err = %v, want one naming %s", tt.allow, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ALLOW_PRIVATE_TARGETS=%q: %v", tt.allow, err)
		}
		_, err = h.API.ParseStartRequest([]byte(body))
		var me *monitor.Error
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("ALLOW_PRIVATE_TARGETS=%q: %v, want the start accepted", tt.allow, err)
		case tt.want != nil && (!errors.As(err, &me) || monitor.KindOf(err) != monitor.KindInvalid || !slices.Equal(me.Fields, tt.want)):
			t.Errorf("ALLOW_PRIVATE_TARGETS=%q: %v\nwant fields %q", tt.allow, err, tt.want)
		}
	}
}

// A host spelled in full-width characters is refused at start as the
// address net/http dials for it, rather than only at the check or the
// alert: an alert refused then is lost.
func TestNewHandlerPermitHostFullWidth(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}
	h, err := NewHandler(context.Background(), "start", func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	const body = `{"target":{"type":"http","url":"http://ｌｏｃａｌｈｏｓｔ:9000/jobs/1"},"alert":{"webhookUrl":"http://１６９.２５４.１６９.２５４/latest/"}}`
	_, err = h.API.ParseStartRequest([]byte(body))
	var me *monitor.Error
	if !errors.As(err, &me) || len(me.Fields) != 2 ||
		!strings.Contains(me.Fields[0].Problem, "a loopback address") || !strings.Contains(me.Fields[1].Problem, "a link-local address") {
		t.Errorf("start = %v, want target.url and alert.webhookUrl refused", err)
	}
}

// The start accepts an address in the deployment's allowed prefixes, as
// the check and alert functions' guard lets it through, and still refuses
// loopback. A refusal names the allowed prefixes: the deployment allows
// some private targets, just not this one.
func TestNewHandlerPermitHostAllowedPrefixes(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
		"ALLOWED_TARGET_PREFIXES": "10.1.0.0/16"}
	h, err := NewHandler(context.Background(), "start", func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.API.ParseStartRequest([]byte(`{"target":{"type":"http","url":"http://10.1.2.3/jobs/1"}}`)); err != nil {
		t.Errorf("a target in an allowed prefix: %v, want it accepted", err)
	}
	_, err = h.API.ParseStartRequest([]byte(`{"target":{"type":"http","url":"http://10.2.0.1/jobs/1"},"alert":{"webhookUrl":"http://127.0.0.1/hook"}}`))
	want := []monitor.FieldError{
		{Field: "target.url", Problem: "must not name 10.2.0.1, a private address (10.0.0.0/8): it is outside this deployment's allowed prefixes (10.1.0.0/16)"},
		{Field: "alert.webhookUrl", Problem: "must not name 127.0.0.1, a loopback address (127.0.0.0/8): it is outside this deployment's allowed prefixes (10.1.0.0/16)"},
	}
	var me *monitor.Error
	if !errors.As(err, &me) || !slices.Equal(me.Fields, want) {
		t.Errorf("targets outside the prefixes: %v\nwant fields %q", err, want)
	}
}

// The start function warns on its log, the writer NewHandler is given,
// when no alert topic allow-list is configured (a start then accepts any
// topic and the alert function refuses the ones it does not allow); with
// a list, and in the status function, it says nothing.
func TestNewHandlerWarnsWithoutTopicList(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	const sm = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
	topic := map[string]string{"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:ops"}
	tests := []struct {
		name, fn string
		env      map[string]string
		wantWarn bool
	}{
		{"start without a list", "start", nil, true},
		{"start with a topic", "start", topic, false},
		{"status without a list", "status", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"TABLE_NAME": "t", "STATE_MACHINE_ARN": sm}
			maps.Copy(env, tt.env)
			var log strings.Builder
			if _, err := NewHandler(context.Background(), tt.fn, func(k string) string { return env[k] }, &log); err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(log.String(), `"level":"WARN"`) && strings.Contains(log.String(), "no alert topic allow-list")
			if warned != tt.wantWarn {
				t.Errorf("log %q: warned %v, want %v", log.String(), warned, tt.wantWarn)
			}
		})
	}
}
