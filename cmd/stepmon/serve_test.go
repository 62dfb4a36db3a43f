package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stepmon/stepmon"
	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/local"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/testtool"
)

// serve refuses a --definition it cannot run with one message that names
// the file and the problem, and exit status 1, before it listens.
func TestServeBadDefinition(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "{", " is not a valid state machine definition: INVALID_JSON_DESCRIPTION: the JSON ends before its last value is complete (line 1, column 2, the end)\n"},
		{"no start state", `{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}`,
			" is not a valid state machine definition: /StartAt: MISSING_TRANSITION_TARGET: Missing 'Next' target: X\n"},
		// Valid ASL, but no monitor would ever run or end: every one
		// would stay Pending.
		{"no check function", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"P"},"P":{"Type":"Pass","End":true}}}`,
			" is not a monitor definition: no state invokes the check function (${CheckFunctionArn}, or stepmon-check by name), so every monitor would stay Pending; start from statemachine.asl.json\n"},
		// States a monitor reaches later would fail there: named at start.
		{"unknown placeholder and function", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${CheckFunctionArn}","Next":"B"},` +
			`"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"${FooArn}"},"Next":"C"},` +
			`"C":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:nope","End":true}}}`,
			" cannot run under stepmon serve:\n" +
				`  state "B": ${FooArn} is not a placeholder this runtime fills (${CheckFunctionArn}, ${AlertFunctionArn}, ${StatusFunctionArn})` + "\n" +
				`  state "C": Lambda function arn:aws:lambda:us-east-1:000000000000:function:nope is not one of this runtime's (stepmon-start, stepmon-check, stepmon-alert, stepmon-status)` + "\n"},
		// A placeholder left as a Resource is no ARN, so the definition is
		// not valid ASL either: the placeholder is named.
		{"unknown placeholder as the resource", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${CheckFunctionArn}","Next":"B"},` +
			`"B":{"Type":"Task","Resource":"${FooArn}","End":true}}}`,
			` cannot run under stepmon serve: state "B": ${FooArn} is not a placeholder this runtime fills (${CheckFunctionArn}, ${AlertFunctionArn}, ${StatusFunctionArn})` + "\n"},
		// Naming the check function is not invoking it.
		{"check function in a comment", `{"Comment":"stepmon-check","StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			" is not a monitor definition: no state invokes the check function (${CheckFunctionArn}, or stepmon-check by name), so every monitor would stay Pending; start from statemachine.asl.json\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(def, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			// Bounded, so that a serve that accepts the definition stops
			// and the test fails instead of serving on.
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			r := runCLI(ctx, "", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--definition", def)
			if want := "stepmon: serve: " + def + tt.want; r.code != 1 || r.stderr != want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1, stderr:\n%s", r.code, r.stderr, want)
			}
		})
	}
}

// A --definition longer than CreateStateMachine accepts is refused once
// the bound is read, as asl run refuses it, before the data directory is
// created; serve read it whole (from /dev/zero until memory ran out).
func TestServeDefinitionTooLarge(t *testing.T) {
	def := filepath.Join(t.TempDir(), "huge.json")
	if err := os.WriteFile(def, []byte("{}"+strings.Repeat(" ", maxDefinitionBytes)), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	r := runCLI(ctx, "", "serve", "--addr", "127.0.0.1:0", "--data", data, "--definition", def)
	want := fmt.Sprintf("stepmon: serve: definition %s is more than %d bytes, so more than the %d characters CreateStateMachine accepts\n", def, maxDefinitionBytes, asl.MaxDefinitionLength)
	if r.code != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1, stderr:\n%s", r.code, r.stderr, want)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("data directory %s: %v; want it not created", data, err)
	}
}

// A --definition saved with a UTF-8 byte order mark (Notepad,
// PowerShell 5) starts serve, as the API takes such a body; it was
// refused as invalid JSON. A UTF-16 one is refused with the fix.
func TestServeDefinitionByteOrderMark(t *testing.T) {
	dir := t.TempDir()
	bom := filepath.Join(dir, "bom.json")
	if err := os.WriteFile(bom, append([]byte("\xef\xbb\xbf"), stepmon.Definition...), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, errc := serveUntilBanner(ctx, t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "error", "--definition", bom)
	stopServe(t, cancel, errc)
	utf16 := filepath.Join(dir, "utf16.json")
	if err := os.WriteFile(utf16, []byte("\xff\xfe{\x00}\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t.Context(), "", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--definition", utf16)
	if want := "stepmon: serve: definition " + utf16 + " is UTF-16: save it as UTF-8 (in PowerShell 5: Out-File -Encoding utf8)\n"; r.code != 1 || r.stderr != want {
		t.Errorf("UTF-16: exit %d, stderr %q; want 1, %q", r.code, r.stderr, want)
	}
}

// The JSON log writes durations as text, as the text log does.
func TestJSONLogDurations(t *testing.T) {
	var buf bytes.Buffer
	logger, err := newLogger(&cli{stderr: &buf}, "info", true)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("listening", "startup", 268*time.Millisecond, "group", slog.GroupValue(slog.Duration("p99", 1500*time.Millisecond)))
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if got["startup"] != "268ms" || got["group"].(map[string]any)["p99"] != "1.5s" {
		t.Errorf("log line %s: want startup 268ms and group.p99 1.5s", buf.String())
	}
}

// A serve flag or environment variable whose value can never work is a
// usage error: one line naming it, exit status 2, and no data directory
// created (the listen address was checked only after the databases were
// opened, and a malformed endpoint URL only when an alert was sent).
func TestServeBadValues(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"addr without port", []string{"--addr", "nonsense"}, nil,
			`stepmon: serve: --addr "nonsense": want host:port, e.g. 127.0.0.1:8080 (missing port in address)` + "\n"},
		{"addr with a scheme", []string{"--addr", "http://127.0.0.1:8080/"}, nil,
			`stepmon: serve: --addr "http://127.0.0.1:8080/": want host:port without a scheme, e.g. 127.0.0.1:8080 (drop the http://: --addr 127.0.0.1:8080)` + "\n"},
		{"addr with a scheme and no port", []string{"--addr", "http://localhost"}, nil,
			`stepmon: serve: --addr "http://localhost": want host:port without a scheme, e.g. 127.0.0.1:8080 (drop the http://: --addr localhost:8080)` + "\n"},
		{"addr port out of range", []string{"--addr", "127.0.0.1:99999"}, nil,
			`stepmon: serve: --addr "127.0.0.1:99999": the port is not a number from 0 to 65535` + "\n"},
		{"empty data", []string{"--data", ""}, nil,
			"stepmon: serve: --data must not be empty: give a directory, or leave --data out for .stepmon in the working directory\n"},
		{"empty dynamodb table", []string{"--dynamodb-endpoint", "http://127.0.0.1:1", "--dynamodb-table", ""}, nil,
			"stepmon: serve: --dynamodb-table must not be empty: leave it out for stepmon-status\n"},
		{"dynamodb table without endpoint", []string{"--dynamodb-table", "mine"}, nil,
			"stepmon: serve: --dynamodb-table needs --dynamodb-endpoint: without it the status records are kept in SQLite (status.db)\n"},
		{"sns endpoint", []string{"--sns-endpoint", "notaurl"}, nil,
			`stepmon: serve: --sns-endpoint "notaurl" is not an http(s) URL` + "\n"},
		{"dynamodb endpoint", []string{"--dynamodb-endpoint", "::bad"}, nil,
			`stepmon: serve: --dynamodb-endpoint "::bad" is not an http(s) URL` + "\n"},
		{"github flag", []string{"--github-api-url", "ftp://x"}, nil,
			`stepmon: serve: --github-api-url "ftp://x" is not an http(s) URL` + "\n"},
		{"github env", nil, map[string]string{"GITHUB_API_URL": "api.example.com"},
			`stepmon: serve: GITHUB_API_URL "api.example.com" is not an http(s) URL` + "\n"},
		{"twilio env", nil, map[string]string{"TWILIO_API_URL": "twilio"},
			`stepmon: serve: TWILIO_API_URL "twilio" is not an http(s) URL` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, tt.args...)
			// Bounded, so that a serve that accepts the value stops and
			// the test fails instead of serving on.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			err := run(ctx, args, func(k string) string { return tt.env[k] }, bytes.NewReader(nil), &stdout, &stderr)
			code := exitCode(err, &stderr)
			if code != 2 || stderr.String() != tt.want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2, stderr:\n%s", code, stderr.String(), tt.want)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("data directory %s: %v; want it not created", data, err)
			}
		})
	}
}

// TestLoopbackListen: serve warns unless the address it listens on takes
// connections from this machine only. It judged the --addr text, so
// "[::1%lo]:8080" and names that resolve to loopback drew the warning.
func TestLoopbackListen(t *testing.T) {
	for _, tt := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, true},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 1, 1), Port: 8080}, true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, true},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080, Zone: "lo"}, true},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, false},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, false},
		{&net.TCPAddr{IP: net.IPv4(192, 168, 1, 10), Port: 8080}, false},
		{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, false},
	} {
		if got := loopbackListen(tt.addr); got != tt.want {
			t.Errorf("loopbackListen(%v) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	for _, addr := range []string{"localhost:0", "127.0.0.1:0", "LOCALHOST:0"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if !loopbackListen(ln.Addr()) {
			t.Errorf("listening on %s (%v) counts as beyond loopback", addr, ln.Addr())
		}
		ln.Close()
	}
}

// TestServeBanner: the banner says how to stop serve, and its AWS CLI line
// works as it is (see checkAWSLine).
func TestServeBanner(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, errc := serveUntilBanner(ctx, t, "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--log-level", "error")
	text := out.String()
	if !strings.Contains(text, "Ctrl-C stops it") {
		t.Errorf("the banner does not say how to stop serve:\n%s", text)
	}
	checkAWSLine(t, text)
	stopServe(t, cancel, errc)
}

// A graceful stop ends the log with a line saying it is over; the log
// ended at "stepmon serve shutting down", also when the shutdown never
// finished.
func TestServeLogsStop(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, errc := serveUntilBanner(ctx, t, "--addr", "127.0.0.1:0", "--data", t.TempDir())
	stopServe(t, cancel, errc)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `level=INFO msg="stepmon serve stopped" component=serve took=`) {
		t.Errorf("the last line is %q, want the INFO line stepmon serve stopped; the log:\n%s", last, out.String())
	}
}

// A serve that cannot run for a reason found without the data directory
// (the port is taken, the host is no name, the Twilio configuration is incomplete, the
// --definition is invalid) stops before it creates the directory, with a
// message that says what to do.
func TestServeRefusedBeforeData(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	// The system's words for the two listen errors, which differ on
	// Windows ("Only one usage of each socket address ...").
	inUse, notHere := listenReason(t, taken.Addr().String()), listenReason(t, "192.0.2.1:0")
	defs := t.TempDir()
	notJSON := filepath.Join(defs, "notjson.json")
	noStart := filepath.Join(defs, "nostart.json")
	empty := filepath.Join(defs, "empty.json")
	for p, content := range map[string]string{empty: " \n", notJSON: "{", noStart: `{"StartAt":"X","States":{"Done":{"Type":"Succeed"}}}`} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		addr string
		args []string
		env  map[string]string
		want []string
	}{
		{"port taken", taken.Addr().String(), nil, nil,
			[]string{"stepmon: serve: --addr " + taken.Addr().String() + " is in use: another program, perhaps another stepmon serve, listens on it; stop it or choose another --addr (" + inUse + ")\n"}},
		{"address not on this machine", "192.0.2.1:0", nil, nil,
			[]string{"stepmon: serve: --addr 192.0.2.1:0 is not an address of this machine: use 127.0.0.1, or an address of one of its network interfaces (" + notHere + ")\n"}},
		{"host that does not resolve", "nosuchhost.invalid:0", nil, nil,
			[]string{"stepmon: serve: the host of --addr nosuchhost.invalid:0 is no name this machine can look up: use 127.0.0.1, localhost, or an address of one of its network interfaces (lookup nosuchhost.invalid"}},
		{"twilio without from", "127.0.0.1:0", nil, map[string]string{"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "tok"},
			[]string{"stepmon: serve: local: twilio: incomplete configuration: missing TWILIO_FROM (set: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN): "}},
		{"twilio token without SID", "127.0.0.1:0", nil, map[string]string{"TWILIO_AUTH_TOKEN": "tok-s3cret", "TWILIO_FROM": "+15005550006"},
			[]string{"stepmon: serve: local: twilio: incomplete configuration: missing TWILIO_ACCOUNT_SID (set: TWILIO_AUTH_TOKEN, TWILIO_FROM): "}},
		{"empty definition", "127.0.0.1:0", []string{"--definition", empty}, nil,
			[]string{"--definition " + empty + " is empty"}},
		{"definition not JSON", "127.0.0.1:0", []string{"--definition", notJSON}, nil,
			[]string{notJSON + " is not a valid state machine definition: INVALID_JSON_DESCRIPTION"}},
		{"definition without its start state", "127.0.0.1:0", []string{"--definition", noStart}, nil,
			[]string{noStart + " is not a valid state machine definition: /StartAt: MISSING_TRANSITION_TARGET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.addr == "192.0.2.1:0" {
				if l, err := net.Listen("tcp", tt.addr); err == nil {
					l.Close()
					t.Skip("this machine binds addresses it does not have (net.ipv4.ip_nonlocal_bind)")
				}
			}
			data := filepath.Join(t.TempDir(), "data")
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			args := append([]string{"serve", "--addr", tt.addr, "--data", data}, tt.args...)
			err := run(ctx, args, func(k string) string { return tt.env[k] },
				bytes.NewReader(nil), &stdout, &stderr)
			if code := exitCode(err, &stderr); code != 1 {
				t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr.String())
				}
			}
			if n := strings.Count(stderr.String(), "\n"); n != 1 || strings.Contains(stderr.String(), "s3cret") {
				t.Errorf("stderr is %d lines, want one, and no secret:\n%s", n, stderr.String())
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("data directory %s: %v; want it not created", data, err)
			}
		})
	}
}

// TestServeLogsFailedAlerts: each failed attempt to send an alert is
// logged at WARN with the monitor, the channel, the attempt number and
// the reason, the webhook shown without its path and query (which may
// hold its key); failed sends used to be silent until the monitor gave
// up. The banner says where alerts go, with the absolute data path.
func TestServeLogsFailedAlerts(t *testing.T) {
	t.Chdir(t.TempDir())
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}))
	defer hook.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &watchedBuffer{want: "attempt=2", seen: make(chan struct{})}
	errc := make(chan error, 1)
	addr := testtool.FreeAddr(t)
	go func() {
		errc <- run(ctx, []string{"serve", "--addr", addr, "--data", "rel-data", "--log-level", "warn"},
			func(string) string { return "" }, bytes.NewReader(nil), io.Discard, out)
	}()
	waitHealthy(t, "http://"+addr)
	body, _ := json.Marshal(map[string]any{"instanceId": "hooked", "target": map[string]any{"type": "simulated", "completeAfterChecks": 1},
		"pollingIntervalSeconds": 1, "timeoutSeconds": 60, "alert": map[string]any{"webhookUrl": hook.URL + "/hooks/SECRETPATH?token=SECRETQ"}})
	startMonitor(t, "http://"+addr, string(body))
	select {
	case <-out.seen:
	case err := <-errc:
		t.Fatalf("serve ended: %v\n%s", err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no second failed attempt logged:\n%s", out.String())
	}
	cancel()
	<-errc
	text := out.String()
	want := `level=WARN msg="alert send failed" component=tasks instanceId=hooked channel=webhook attempt=1 to=` + hook.URL + `/(redacted) err="alerts: webhook ` +
		strings.TrimPrefix(hook.URL, "http://") + ` answered HTTP 503: busy"`
	if !strings.Contains(text, want) {
		t.Errorf("the log does not say\n%s\n%s", want, text)
	}
	if strings.Contains(text, "SECRET") {
		t.Errorf("the log shows the webhook's path or query:\n%s", text)
	}
	data, _ := filepath.Abs("rel-data")
	for _, w := range []string{
		"  data           " + data + "\n",
		"  alerts         webhook: to each monitor's webhookUrl\n",
		"SNS (topics, SMS): to the outbox " + filepath.Join(data, "outbox.jsonl") + "\n",
		"Twilio SMS: to the outbox " + filepath.Join(data, "outbox.jsonl") + " (TWILIO_* not set)\n",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("the banner does not say %q:\n%s", w, text)
		}
	}
}

// waitHealthy waits up to 30 s for the serve at base to answer /healthz
// with 200.
func waitHealthy(t *testing.T, base string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become healthy", base)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listenReason returns the system's words for the error of a listen on
// addr, which must fail: "address already in use" on Linux.
func listenReason(t *testing.T, addr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		t.Fatalf("listen on %s succeeded, want it to fail", addr)
	}
	errno, ok := errors.AsType[syscall.Errno](err)
	if !ok {
		t.Fatalf("listen on %s: %v, no system error", addr, err)
	}
	return errno.Error()
}

// TestServeLogJSON: with --log-json every line serve writes to stderr is
// a JSON object, from the start to the shutdown, a failure to start and
// the warning about a non-loopback address included (the banner and the
// warning were plain text); the listening line carries what the banner
// says.
func TestServeLogJSON(t *testing.T) {
	jsonLines := func(t *testing.T, text string) []map[string]any {
		t.Helper()
		var lines []map[string]any
		for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Errorf("not a JSON line: %q (%v)", line, err)
				continue
			}
			lines = append(lines, m)
		}
		return lines
	}
	t.Run("serving", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		out := &watchedBuffer{want: "pending executions re-armed", seen: make(chan struct{})}
		errc := make(chan error, 1)
		addr := testtool.FreeAddr(t)
		go func() {
			errc <- run(ctx, []string{"serve", "--addr", addr, "--data", t.TempDir(), "--log-json"},
				func(string) string { return "" }, bytes.NewReader(nil), io.Discard, out)
		}()
		waitHealthy(t, "http://"+addr)
		<-out.seen
		cancel()
		if err := <-errc; exitCode(err, out) != 0 {
			t.Errorf("serve after Ctrl-C: %v", err)
		}
		lines := jsonLines(t, out.String())
		if len(lines) < 3 || lines[0]["msg"] != "stepmon serve listening" || lines[0]["outbox"] == nil || lines[0]["stepFunctions"] == nil {
			t.Errorf("want the listening line first, with the banner's facts, then more:\n%s", out.String())
		}
		// Each line names its component, so that a filter by it misses
		// none (the start, recovery and shutdown lines had none).
		for _, l := range lines {
			if c, ok := l["component"].(string); !ok || c == "" {
				t.Errorf("a line without its component: %v", l)
			}
		}
	})
	t.Run("failing", func(t *testing.T) {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer taken.Close()
		var stderr bytes.Buffer
		err = run(t.Context(), []string{"serve", "--addr", taken.Addr().String(), "--data", t.TempDir(), "--log-json"},
			func(string) string { return "" }, bytes.NewReader(nil), io.Discard, &stderr)
		if code := exitCode(err, &stderr); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		lines := jsonLines(t, stderr.String())
		if len(lines) != 1 || lines[0]["level"] != "ERROR" || lines[0]["component"] != "serve" || !strings.Contains(fmt.Sprint(lines[0]["err"]), listenReason(t, taken.Addr().String())) {
			t.Errorf("want one ERROR line saying the address is in use:\n%s", stderr.String())
		}
	})
	t.Run("non-loopback warning", func(t *testing.T) {
		var stderr bytes.Buffer
		logger, err := newLogger(&cli{stderr: &stderr}, "info", true)
		if err != nil {
			t.Fatal(err)
		}
		cfg := local.Config{Addr: "0.0.0.0:8080", DataDir: t.TempDir(), Logger: logger}
		announce(&stderr, cfg, "http://0.0.0.0:8080", "arn:aws:states:us-east-1:000000000000:stateMachine:stepmon", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, time.Millisecond, true)
		lines := jsonLines(t, stderr.String())
		if len(lines) != 2 || lines[1]["level"] != "WARN" || !strings.Contains(fmt.Sprint(lines[1]["msg"]), "without authentication") {
			t.Errorf("want the listening line and the warning:\n%s", stderr.String())
		}
		// The text log keeps the banner and the warning in plain text.
		stderr.Reset()
		cfg.Logger = slog.New(slog.NewTextHandler(&stderr, nil))
		announce(&stderr, cfg, "http://0.0.0.0:8080", "arn:aws:states:us-east-1:000000000000:stateMachine:stepmon", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, time.Millisecond, false)
		if !strings.Contains(stderr.String(), "stepmon serving on") || !strings.Contains(stderr.String(), "WARNING: 0.0.0.0:8080 is not a loopback address") {
			t.Errorf("the text output lacks the banner or the warning:\n%s", stderr.String())
		}
	})
}

// A --data that is a file, or lies under one, is refused in one line
// that says so (it was "local: data directory: mkdir FILE: not a
// directory"), with exit status 1.
func TestServeDataIsAFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "afile")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ data, want string }{
		{file, "stepmon: serve: --data " + file + " is a file, not a directory: choose another --data\n"},
		{filepath.Join(file, "sub"), "stepmon: serve: --data " + filepath.Join(file, "sub") + " is under " + file + ", which is a file, not a directory: choose another --data\n"},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		r := runCLI(ctx, "", "serve", "--addr", "127.0.0.1:0", "--data", tt.data)
		cancel()
		if r.code != 1 || r.stderr != tt.want {
			t.Errorf("--data %s: exit %d, stderr:\n%s\nwant exit 1, stderr:\n%s", tt.data, r.code, r.stderr, tt.want)
		}
	}
	// A symbolic link to nothing, as --data or above it, is named with
	// its target (it was "local: data directory: mkdir LINK: file exists").
	link, gone := filepath.Join(dir, "link"), filepath.Join(dir, "gone")
	if err := os.Symlink(gone, link); err != nil {
		t.Fatal(err)
	}
	for data, want := range map[string]string{
		link:                       "stepmon: serve: --data " + link + " is a symbolic link to " + gone + ", which does not exist: create it, or choose another --data\n",
		filepath.Join(link, "sub"): "stepmon: serve: --data " + filepath.Join(link, "sub") + " is under " + link + ", a symbolic link to " + gone + ", which does not exist: create it, or choose another --data\n",
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		r := runCLI(ctx, "", "serve", "--addr", "127.0.0.1:0", "--data", data)
		cancel()
		if r.code != 1 || r.stderr != want {
			t.Errorf("--data %s: exit %d, stderr:\n%s\nwant exit 1, stderr:\n%s", data, r.code, r.stderr, want)
		}
	}
	// With --log-json, as one JSON line.
	r := runCLI(t.Context(), "", "serve", "--addr", "127.0.0.1:0", "--data", file, "--log-json")
	var line struct{ Level, Err string }
	if err := json.Unmarshal([]byte(r.stderr), &line); err != nil || r.code != 1 || line.Level != "ERROR" || !strings.Contains(line.Err, "is a file, not a directory") {
		t.Errorf("--log-json: exit %d, stderr %q (%v); want exit 1 and one JSON ERROR line", r.code, r.stderr, err)
	}
}

// TestServeConfig: serve's flags and environment become the runtime's
// configuration: each flag its field, the region from --region, else
// AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1, and the secrets
// from the environment only.
func TestServeConfig(t *testing.T) {
	def := filepath.Join(t.TempDir(), "machine.asl.json")
	if err := os.WriteFile(def, []byte(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GITHUB_API_URL": "http://github.example.test", "GITHUB_TOKEN": "ghtoken",
		"AWS_ACCESS_KEY_ID": "AKIDSERVE", "AWS_SECRET_ACCESS_KEY": "servesecret",
		"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "twtoken", "TWILIO_FROM": "+14255550100", "TWILIO_API_URL": "http://twilio.example.test",
	}
	withEnv := func(kv ...string) map[string]string {
		m := maps.Clone(env)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(cfg local.Config) string // what is wrong, "" for nothing
	}{
		{"region default", env, nil, func(cfg local.Config) string {
			return wrongIf(cfg.AWSRegion != "us-east-1", "AWSRegion %q, want us-east-1", cfg.AWSRegion)
		}},
		{"AWS_DEFAULT_REGION", withEnv("AWS_DEFAULT_REGION", "eu-west-1"), nil, func(cfg local.Config) string {
			return wrongIf(cfg.AWSRegion != "eu-west-1", "AWSRegion %q, want eu-west-1", cfg.AWSRegion)
		}},
		{"AWS_REGION over AWS_DEFAULT_REGION", withEnv("AWS_REGION", "ap-south-1", "AWS_DEFAULT_REGION", "eu-west-1"), nil, func(cfg local.Config) string {
			return wrongIf(cfg.AWSRegion != "ap-south-1", "AWSRegion %q, want ap-south-1", cfg.AWSRegion)
		}},
		{"--region over the environment", withEnv("AWS_REGION", "ap-south-1"), []string{"--region", "sa-east-1"}, func(cfg local.Config) string {
			return wrongIf(cfg.AWSRegion != "sa-east-1", "AWSRegion %q, want sa-east-1", cfg.AWSRegion)
		}},
		{"environment", env, nil, func(cfg local.Config) string {
			want := local.Config{GitHubAPIURL: "http://github.example.test", GitHubToken: "ghtoken", AWSAccessKeyID: "AKIDSERVE", AWSSecretAccessKey: "servesecret",
				Twilio: local.TwilioConfig{AccountSID: "AC1", AuthToken: "twtoken", From: "+14255550100", BaseURL: "http://twilio.example.test"}}
			got := local.Config{GitHubAPIURL: cfg.GitHubAPIURL, GitHubToken: cfg.GitHubToken, AWSAccessKeyID: cfg.AWSAccessKeyID,
				AWSSecretAccessKey: cfg.AWSSecretAccessKey, Twilio: cfg.Twilio}
			return wrongIf(!reflect.DeepEqual(got, want), "%+v, want %+v", got, want)
		}},
		{"flags", env, []string{"--addr", "127.0.0.1:9999", "--github-api-url", "http://gh.flag.test", "--dynamodb-endpoint", "http://127.0.0.1:8000",
			"--dynamodb-table", "t1", "--sns-endpoint", "http://127.0.0.1:5000", "--retention", "48h", "--fsync", "--express-max-events", "77", "--definition", def},
			func(cfg local.Config) string {
				want := local.Config{Addr: "127.0.0.1:9999", GitHubAPIURL: "http://gh.flag.test", DynamoDBEndpoint: "http://127.0.0.1:8000",
					DynamoDBTable: "t1", SNSEndpoint: "http://127.0.0.1:5000", Retention: 48 * time.Hour, FSync: true, ExpressMaxEvents: 77,
					Definition: `{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`}
				got := local.Config{Addr: cfg.Addr, GitHubAPIURL: cfg.GitHubAPIURL, DynamoDBEndpoint: cfg.DynamoDBEndpoint, DynamoDBTable: cfg.DynamoDBTable,
					SNSEndpoint: cfg.SNSEndpoint, Retention: cfg.Retention, FSync: cfg.FSync, ExpressMaxEvents: cfg.ExpressMaxEvents, Definition: cfg.Definition}
				return wrongIf(!reflect.DeepEqual(got, want), "%+v, want %+v", got, want)
			}},
		{"defaults", nil, nil, func(cfg local.Config) string {
			want := local.Config{Addr: "127.0.0.1:8080", DynamoDBTable: "stepmon-status", Retention: monitor.DefaultRetention,
				ExpressMaxEvents: engine.DefaultMaxExpressHistoryEvents, AWSRegion: "us-east-1"}
			got := local.Config{Addr: cfg.Addr, DynamoDBTable: cfg.DynamoDBTable, Retention: cfg.Retention, FSync: cfg.FSync,
				ExpressMaxEvents: cfg.ExpressMaxEvents, AWSRegion: cfg.AWSRegion, Definition: cfg.Definition, GitHubToken: cfg.GitHubToken}
			return wrongIf(!reflect.DeepEqual(got, want), "%+v, want %+v", got, want)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			opts, err := serveConfig(t.Context(), &cli{getenv: func(k string) string { return tt.env[k] }, stdout: io.Discard, stderr: io.Discard},
				append([]string{"--data", data}, tt.args...))
			if err != nil {
				t.Fatalf("serveConfig: %v", err)
			}
			if opts.cfg.DataDir != data {
				t.Errorf("DataDir %q, want %q", opts.cfg.DataDir, data)
			}
			if wrong := tt.want(opts.cfg); wrong != "" {
				t.Error(wrong)
			}
			wantDef := ""
			if i := slices.Index(tt.args, "--definition"); i >= 0 {
				wantDef = tt.args[i+1]
			}
			if opts.def != wantDef {
				t.Errorf("def %q, want %q", opts.def, wantDef)
			}
		})
	}
}

// wrongIf is the message format and args make when cond holds, else "".
func wrongIf(cond bool, format string, args ...any) string {
	if !cond {
		return ""
	}
	return fmt.Sprintf(format, args...)
}

// serveUntilBanner runs stepmon serve with args in this process until ctx
// ends, and waits up to 30 s for its banner ("Ctrl-C stops it"), failing
// the test should serve end or print none first. It returns serve's
// standard error and the channel its error arrives on.
func serveUntilBanner(ctx context.Context, t *testing.T, args ...string) (*watchedBuffer, <-chan error) {
	t.Helper()
	out := &watchedBuffer{want: "stops it", seen: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, append([]string{"serve"}, args...),
			func(string) string { return "" }, bytes.NewReader(nil), io.Discard, out)
	}()
	select {
	case <-out.seen:
	case err := <-errc:
		t.Fatalf("serve ended: %v\n%s", err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve printed no banner:\n%s", out.String())
	}
	return out, errc
}

// stopServe stops a serve started by serveUntilBanner as Ctrl-C does,
// with cancel, and checks that it exits 0.
func stopServe(t *testing.T, cancel context.CancelFunc, errc <-chan error) {
	t.Helper()
	cancel()
	if err := <-errc; exitCode(err, io.Discard) != 0 {
		t.Errorf("serve after Ctrl-C: %v", err)
	}
}
