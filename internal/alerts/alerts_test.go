package alerts

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/faketwilio"
	"github.com/stepmon/stepmon/internal/monitor"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testMessage() monitor.Message {
	d := monitor.AlertData{InstanceID: "mon-1", JobID: "mon-1", Name: "GitHubIssuesMonitor", Target: "octo/big",
		Status: "Running", OpenIssues: 210, Threshold: 3, CheckCount: 2, ObservedAt: testNow}
	return monitor.Message{Subject: "stepmon: GitHubIssuesMonitor mon-1",
		Text: "GitHubIssuesMonitor mon-1: octo/big has at least 210 open issues (threshold 3).", Data: d}
}

// wantKind asserts that err is, unwrapped, the named error type;
// "rejected" is a *monitor.PermanentError that blames the alert itself
// (Input), "permanent" one that does not.
func wantKind(t *testing.T, err error, kind, contains string) {
	t.Helper()
	var te *monitor.TransientError
	var pe *monitor.PermanentError
	var ue *monitor.OutcomeUnknownError
	switch kind {
	case "unknown":
		if !errors.As(err, &ue) || err != error(ue) {
			t.Fatalf("err = %#v, want an unwrapped *monitor.OutcomeUnknownError", err)
		}
	case "transient":
		if !errors.As(err, &te) || err != error(te) {
			t.Fatalf("err = %#v, want an unwrapped *monitor.TransientError", err)
		}
	case "permanent", "rejected":
		if !errors.As(err, &pe) || err != error(pe) {
			t.Fatalf("err = %#v, want an unwrapped *monitor.PermanentError", err)
		}
		if pe.Input != (kind == "rejected") {
			t.Errorf("err = %q blames the alert's input: %v, want %v", err, pe.Input, kind == "rejected")
		}
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Errorf("err = %q, want it to contain %q", err, contains)
	}
}

// receiver is a webhook endpoint that verifies signatures and records
// deliveries.
type receiver struct {
	*httptest.Server
	secret []byte
	mu     sync.Mutex
	got    []WebhookPayload
	keys   []string
	status atomic.Int64 // answer with this status when non-zero
	delay  atomic.Int64 // nanoseconds to wait before answering
	bad    atomic.Int64 // deliveries whose signature did not verify
}

func newReceiver(t *testing.T, secret []byte) *receiver {
	rc := &receiver{secret: secret}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if d := rc.delay.Load(); d > 0 {
			select {
			case <-time.After(time.Duration(d)):
			case <-r.Context().Done():
				return
			}
		}
		if rc.secret != nil {
			if err := Verify(rc.secret, r.Header.Get(SignatureHeader), r.Header.Get(TimestampHeader), body, testNow, 5*time.Minute); err != nil {
				rc.bad.Add(1)
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
		var p WebhookPayload
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &p) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.got = append(rc.got, p)
		rc.keys = append(rc.keys, r.Header.Get(IdempotencyHeader))
		rc.mu.Unlock()
		if s := rc.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			io.WriteString(w, `{"error":"nope"}`)
			return
		}
		w.Header().Set("X-Request-Id", "req-123")
		io.WriteString(w, "ok")
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) deliveries() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

func localWebhook(secret []byte, timeout time.Duration) *Webhook {
	opts := WebhookOptions{
		Client:  egress.New(egress.Options{AllowPrivate: true}).Client(0),
		Clock:   monitor.ClockFunc(func() time.Time { return testNow }),
		Timeout: timeout,
	}
	if secret != nil {
		opts.Secret = func(context.Context) ([]byte, error) { return secret, nil }
	}
	return NewWebhook(opts)
}

func TestWebhookDeliversSignedJSON(t *testing.T) {
	secret := []byte("s3cret")
	rc := newReceiver(t, secret)
	msg := testMessage()
	id, err := localWebhook(secret, 0).Send(context.Background(), monitor.Alert{WebhookURL: rc.URL + "/hooks/T000"}, msg)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if id != "req-123" {
		t.Errorf("id = %q, want the receiver's X-Request-Id", id)
	}
	if rc.deliveries() != 1 || rc.bad.Load() != 0 {
		t.Fatalf("deliveries = %d (bad signatures %d), want exactly 1 verified", rc.deliveries(), rc.bad.Load())
	}
	p := rc.got[0]
	if p.Text != msg.Text || !strings.Contains(p.Text, "210 open issues") || p.Data.OpenIssues != 210 || p.InstanceID != "mon-1" {
		t.Errorf("payload = %+v", p)
	}
	if rc.keys[0] != "mon-1" {
		t.Errorf("Idempotency-Key = %q, want mon-1", rc.keys[0])
	}
	// The key again in the signed body: a replayed request with another
	// Idempotency-Key header still carries the key it was signed with.
	if p.IdempotencyKey != "mon-1" {
		t.Errorf("payload idempotencyKey = %q, want mon-1", p.IdempotencyKey)
	}
}

func TestWebhookSignatureRejectedWithWrongSecret(t *testing.T) {
	rc := newReceiver(t, []byte("right"))
	_, err := localWebhook([]byte("wrong"), 0).Send(context.Background(), monitor.Alert{WebhookURL: rc.URL}, testMessage())
	// The URL is the caller's: a caller must not raise the operators'
	// alarms with a receiver that answers 401. The detail points at the
	// secret a verifying receiver needs.
	wantKind(t, err, "rejected", "HTTP 401: alerts: verify: signature mismatch (a receiver that verifies stepmon's signature needs the deployment's webhook secret)")
	if rc.bad.Load() != 1 || rc.deliveries() != 0 {
		t.Errorf("bad = %d, deliveries = %d; want 1, 0", rc.bad.Load(), rc.deliveries())
	}
}

func TestWebhookFailures(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		delay    time.Duration
		kind     string
		contains string
	}{
		{"server error", 500, 0, "transient", "HTTP 500"},
		{"unavailable", 503, 0, "transient", "HTTP 503"},
		{"bad gateway", 502, 0, "transient", "HTTP 502"},
		// A gateway that gave up waiting: the receiver may have the alert.
		{"gateway timeout", 504, 0, "unknown", "HTTP 504"},
		{"rate limited", 429, 0, "transient", "HTTP 429"},
		{"bad request", 400, 0, "rejected", "HTTP 400"},
		{"unauthorized, unsigned", 401, 0, "rejected", "HTTP 401"},
		{"forbidden, unsigned", 403, 0, "rejected", "HTTP 403"},
		{"gone", 410, 0, "rejected", "HTTP 410"},
		{"timeout", 0, 2 * time.Second, "unknown", "may or may not have been delivered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			rc.status.Store(int64(tt.status))
			rc.delay.Store(int64(tt.delay))
			_, err := localWebhook(nil, 200*time.Millisecond).Send(context.Background(), monitor.Alert{WebhookURL: rc.URL}, testMessage())
			wantKind(t, err, tt.kind, tt.contains)
			// One call, one attempt: the sender never retries by itself.
			if tt.delay == 0 && rc.deliveries() != 1 {
				t.Errorf("deliveries = %d, want 1", rc.deliveries())
			}
		})
	}
}

// TestWebhookFailureSaysWhatTheReceiverSaid: a refusal's error quotes the
// receiver's answer on one line, cut on a character boundary, and an
// empty answer adds nothing (not a dangling ": ").
func TestWebhookFailureSaysWhatTheReceiverSaid(t *testing.T) {
	long := "x" + strings.Repeat("é", 150) // 301 bytes: byte 200 is within an é
	for _, tt := range []struct{ name, body, wantEnd string }{
		{"empty", "", "answered HTTP 404"},
		{"blank", " \n", "answered HTTP 404"},
		{"lines", "no such\nhook\n", "answered HTTP 404: no such hook"},
		{"long", long, "answered HTTP 404: x" + strings.Repeat("é", 99) + "…"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNotFound)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			_, err := localWebhook(nil, 5*time.Second).Send(context.Background(), monitor.Alert{WebhookURL: srv.URL}, testMessage())
			if err == nil || !strings.HasSuffix(err.Error(), tt.wantEnd) {
				t.Errorf("error %v, want it to end %q", err, tt.wantEnd)
			}
		})
	}
}

// A receiver that quotes the URL it was sent to in its refusal (as
// Express's "Cannot POST /hooks/KEY" does) must not put the webhook's key
// in the detail, which every reader of the monitor sees.
func TestWebhookFailureHidesTheQuotedKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "forbidden: your url was %s (key %s)", r.URL.RequestURI(), r.URL.Query().Get("k"))
	}))
	defer srv.Close()
	alert := monitor.Alert{WebhookURL: srv.URL + "/hooks/WEBHOOKPATHSECRET2?k=QUERYSECRET3"}
	_, err := localWebhook(nil, 5*time.Second).Send(context.Background(), alert, testMessage())
	if err == nil {
		t.Fatal("Send succeeded, want the receiver's 403")
	}
	for _, key := range []string{"WEBHOOKPATHSECRET2", "QUERYSECRET3"} {
		if strings.Contains(err.Error(), key) {
			t.Errorf("error %q shows the webhook's key %s", err, key)
		}
	}
	if !strings.Contains(err.Error(), "answered HTTP 403: forbidden: your url was (redacted) (key (redacted))") {
		t.Errorf("error %q, want the receiver's words with the URL redacted", err)
	}
}

// A receiver that hangs up after reading a request on a kept-alive
// connection must not get the alert a second time: net/http replays such
// a request by itself when it carries an Idempotency-Key, hiding that the
// first may have been delivered. Each send takes a connection of its own.
func TestWebhookOneDeliveryPerSend(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var posts atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 0; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					posts.Add(1)
					if n > 0 {
						return // read the request, then hang up without answering
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			}(c)
		}
	}()
	w := localWebhook(nil, 0)
	alert := monitor.Alert{WebhookURL: "http://" + ln.Addr().String() + "/hook"}
	for i := 1; i <= 3; i++ {
		_, err := w.Send(context.Background(), alert, testMessage())
		if got := posts.Load(); got != int64(i) {
			t.Fatalf("after send %d (err %v): the receiver got %d requests, want %d", i, err, got, i)
		}
	}
}

func TestWebhookDoesNotFollowRedirects(t *testing.T) {
	rc := newReceiver(t, nil)
	redirect := httptest.NewServer(http.RedirectHandler(rc.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	_, err := localWebhook(nil, 0).Send(context.Background(), monitor.Alert{WebhookURL: redirect.URL}, testMessage())
	wantKind(t, err, "rejected", "HTTP 307 redirect")
	if rc.deliveries() != 0 {
		t.Errorf("redirect followed: %d deliveries", rc.deliveries())
	}
}

// A redirect's Location may hold a webhook key (Slack and Teams keep it in
// the path); the error, which becomes the monitor's detail, must not show
// it. A Location that is no URL is a redirect refused all the same: net/http
// failed the request quoting it, key and all, and the alert ended with its
// outcome unknown, as if the request had been cut off.
func TestWebhookRedirectErrorHidesLocationKey(t *testing.T) {
	for _, tt := range []struct {
		name, location, want string
	}{
		{"absolute", "https://hooks.slack.com/services/T000/B000/XXXXSECRETKEY", "HTTP 301 redirect to https://hooks.slack.com/"},
		{"unparsable", "https://hooks.slack.com/services/T000/B000/%zzXXXXSECRETKEY", "HTTP 301 redirect without a readable Location"},
		{"unparsable relative", "/services/T0/B0/%zz?token=XXXXSECRETKEY", "HTTP 301 redirect without a readable Location"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", tt.location)
				w.WriteHeader(http.StatusMovedPermanently)
			}))
			defer redirect.Close()
			_, err := localWebhook(nil, 0).Send(context.Background(), monitor.Alert{WebhookURL: redirect.URL}, testMessage())
			wantKind(t, err, "rejected", tt.want)
			if strings.Contains(err.Error(), "XXXXSECRETKEY") {
				t.Errorf("err = %q, shows the redirect's key", err)
			}
		})
	}
}

func TestWebhookRefusesPrivateDestinations(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	strict := NewWebhook(WebhookOptions{}) // the AWS configuration
	for _, u := range []string{srv.URL, "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/hook"} {
		_, err := strict.Send(context.Background(), monitor.Alert{WebhookURL: u}, testMessage())
		wantKind(t, err, "rejected", "refused")
	}
	if conns.Load() != 0 {
		t.Errorf("loopback receiver accepted %d connections, want 0", conns.Load())
	}
}

// A webhook whose name resolves to a refused address is rejected with a
// message that names neither the address nor its range: the alert's
// lastError and the monitor's output, which API callers read, carry it.
func TestWebhookRefusedNameKeepsItsAddress(t *testing.T) {
	guard := egress.New(egress.Options{
		LookupNetIP: func(ctx context.Context, network, host string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("172.16.9.9")}, nil
		},
	})
	_, err := NewWebhook(WebhookOptions{Client: guard.Client(0)}).Send(context.Background(),
		monitor.Alert{WebhookURL: "https://hooks.corp.internal/T0/B0/key"}, testMessage())
	wantKind(t, err, "rejected", "refused hooks.corp.internal: it resolves to a non-public address")
	for _, leak := range []string{"172.16.9.9", "172.16.0.0/12", "private address", "key"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("err = %q names %q", err, leak)
		}
	}
}

// refusedAddr returns a loopback address that nothing listens on: a dial
// to it is refused.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// rawReceiver listens on loopback and, on each connection, reads one HTTP
// request, counts it and hands the connection to then, which answers or
// does not; the connection is closed when then returns. It returns the
// address and the count.
func rawReceiver(t *testing.T, then func(c net.Conn)) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var requests atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				requests.Add(1)
				then(c)
			}()
		}
	}()
	return ln.Addr().String(), &requests
}

// hangUp closes the connection without answering.
func hangUp(net.Conn) {}

// neverAnswer holds the connection, unanswered, until the client leaves.
func neverAnswer(c net.Conn) { io.Copy(io.Discard, c) }

// twilioAt returns a Twilio sender with good credentials whose API is at
// baseURL.
func twilioAt(t *testing.T, baseURL string, timeout time.Duration) *Twilio {
	t.Helper()
	tw, err := NewTwilio(TwilioOptions{
		Credentials: func(context.Context) (TwilioCredentials, error) {
			return TwilioCredentials{AccountSID: twilioSID, AuthToken: twilioToken}, nil
		},
		From:    "+15005550006",
		BaseURL: baseURL,
		Timeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

// A send's error becomes the alert's lastError, the monitor's detail
// (which GET /monitors/{id} shows to anyone who knows the id) and a log
// line. A webhook's key is often in its URL's path or query (Slack's
// /services/T/B/KEY, a ?token=), so the error names the webhook by its
// host only, whether the connection was refused, cut after the request or
// left unanswered, or the URL could not be parsed; a Twilio error does
// not show the API path, which names the account.
func TestSendErrorHidesTheURLPath(t *testing.T) {
	const hookPath = "/services/T000/B000/SECRETKEY?token=SECRETQ"
	hook := func(addr string) monitor.Alert { return monitor.Alert{WebhookURL: "http://" + addr + hookPath} }
	sendHook := func(alert monitor.Alert) error {
		_, err := localWebhook(nil, 200*time.Millisecond).Send(context.Background(), alert, testMessage())
		return err
	}
	sendSMS := func(t *testing.T, addr string) error {
		_, err := twilioAt(t, "http://"+addr, 200*time.Millisecond).Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
		return err
	}
	tests := []struct {
		name     string
		send     func(t *testing.T) error
		kind     string
		contains string
	}{
		{"webhook, connection refused", func(t *testing.T) error { return sendHook(hook(refusedAddr(t))) },
			"transient", "connection refused"},
		{"webhook, hang-up after the request", func(t *testing.T) error {
			addr, _ := rawReceiver(t, hangUp)
			return sendHook(hook(addr))
		}, "unknown", "after the request was sent"},
		{"webhook, no answer", func(t *testing.T) error {
			addr, _ := rawReceiver(t, neverAnswer)
			return sendHook(hook(addr))
		}, "unknown", "no answer within 200ms"},
		{"webhook, unparsable URL", func(t *testing.T) error {
			return sendHook(monitor.Alert{WebhookURL: "http://127.0.0.1/services/T000/B000/SECRETKEY%zz?token=SECRETQ"})
		}, "rejected", "bad URL"},
		{"twilio, connection refused", func(t *testing.T) error { return sendSMS(t, refusedAddr(t)) },
			"transient", "connection refused"},
		{"twilio, hang-up after the request", func(t *testing.T) error {
			addr, _ := rawReceiver(t, hangUp)
			return sendSMS(t, addr)
		}, "unknown", "after the request was sent"},
		{"twilio, no answer", func(t *testing.T) error {
			addr, _ := rawReceiver(t, neverAnswer)
			return sendSMS(t, addr)
		}, "unknown", "no answer within 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.send(t)
			wantKind(t, err, tt.kind, tt.contains)
			for _, leak := range []string{"SECRET", "/services/", "token=", "/2010-04-01/", twilioSID} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("err = %q, shows %q", err, leak)
				}
			}
		})
	}
}

// A receiver that read the request and then hung up without answering may
// have acted on it: the send's outcome is unknown, and the alert task
// never sends it again (Twilio takes no idempotency key, so a second
// request would be a second SMS). Only a send that never reached the
// receiver, a refused connection, fails transiently and is tried again.
func TestSendCutOffAfterTheRequestIsUnknown(t *testing.T) {
	sendHook := func(_ *testing.T, addr string) error {
		_, err := localWebhook(nil, time.Second).Send(context.Background(), monitor.Alert{WebhookURL: "http://" + addr + "/hook"}, testMessage())
		return err
	}
	sendSMS := func(t *testing.T, addr string) error {
		_, err := twilioAt(t, "http://"+addr, time.Second).Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
		return err
	}
	tests := []struct {
		name     string
		send     func(t *testing.T, addr string) error
		refused  bool
		kind     string
		contains string
	}{
		{"webhook, hang-up after the request", sendHook, false, "unknown", "after the request was sent; the alert may or may not have been delivered"},
		{"twilio, hang-up after the request", sendSMS, false, "unknown", "after the request was sent; the SMS may or may not have been sent"},
		{"webhook, connection refused", sendHook, true, "transient", "connection refused"},
		{"twilio, connection refused", sendSMS, true, "transient", "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, requests, want := refusedAddr(t), new(atomic.Int64), int64(0)
			if !tt.refused {
				addr, requests = rawReceiver(t, hangUp)
				want = 1
			}
			err := tt.send(t, addr)
			wantKind(t, err, tt.kind, tt.contains)
			if got := requests.Load(); got != want {
				t.Errorf("requests = %d, want %d", got, want)
			}
		})
	}
}

// A refusing answer's body is quoted in the error, which is the alert's
// lastError and the monitor's detail: on one line and cut to 200
// characters, whatever the receiver or Twilio sent (an HTML error page,
// a stack trace).
func TestErrorBodyIsCut(t *testing.T) {
	long := strings.Repeat("x", 100) + "\n\t" + strings.Repeat("x", 5000)
	want := strings.Repeat("x", 100) + " " + strings.Repeat("x", 99) + "…"
	answer := func(w http.ResponseWriter, r *http.Request) bool {
		io.ReadAll(r.Body)
		http.Error(w, long, http.StatusServiceUnavailable)
		return true
	}
	tests := []struct {
		name string
		send func(t *testing.T) error
	}{
		{"webhook", func(t *testing.T) error {
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w, r) }))
			defer hook.Close()
			_, err := localWebhook(nil, 0).Send(context.Background(), monitor.Alert{WebhookURL: hook.URL}, testMessage())
			return err
		}},
		{"twilio", func(t *testing.T) error {
			srv := faketwilio.New(twilioSID, twilioToken)
			defer srv.Close()
			srv.Intercept(answer)
			tw := newTwilio(t, srv, TwilioCredentials{AccountSID: twilioSID, AuthToken: twilioToken}, "+15005550006", 0)
			_, err := tw.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.send(t)
			wantKind(t, err, "transient", "HTTP 503")
			if msg := err.Error(); !strings.HasSuffix(msg, ": "+want) {
				t.Errorf("err of %d bytes ends %q, want it to end with the body's first 200 characters on one line and …", len(msg), msg[max(len(msg)-40, 0):])
			}
		})
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"text":"hi"}`)
	secret := []byte("k")
	ts := "1748779200" // testNow
	sig := Sign(secret, ts, body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("Sign = %q", sig)
	}
	tests := []struct {
		name      string
		sig, ts   string
		body      []byte
		wantError bool
	}{
		{"valid", sig, ts, body, false},
		{"tampered body", sig, ts, []byte(`{"text":"ho"}`), true},
		{"other timestamp", sig, "1748779201", body, true},
		{"stale", Sign(secret, "1748770000", body), "1748770000", body, true},
		{"garbage timestamp", sig, "yesterday", body, true},
		// A timestamp ahead of the receiver's clock is accepted only
		// within the tolerance too: a request signed for a later time
		// could otherwise be replayed until then.
		{"ahead, within the tolerance", Sign(secret, "1748779440", body), "1748779440", body, false},
		{"ahead by the tolerance", Sign(secret, "1748779500", body), "1748779500", body, false},
		{"ahead by more than the tolerance", Sign(secret, "1748779501", body), "1748779501", body, true},
		{"far in the future", Sign(secret, "1748790000", body), "1748790000", body, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(secret, tt.sig, tt.ts, tt.body, testNow, 5*time.Minute)
			if (err != nil) != tt.wantError {
				t.Errorf("Verify = %v, want error %v", err, tt.wantError)
			}
		})
	}
}

const (
	twilioSID   = "AC00000000000000000000000000000001"
	twilioToken = "tok"
)

func newTwilio(t *testing.T, srv *faketwilio.Server, creds TwilioCredentials, from string, timeout time.Duration) *Twilio {
	t.Helper()
	tw, err := NewTwilio(TwilioOptions{
		Credentials: func(context.Context) (TwilioCredentials, error) { return creds, nil },
		From:        from,
		BaseURL:     srv.URL,
		Timeout:     timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

func TestTwilioSendsOneSMS(t *testing.T) {
	srv := faketwilio.New(twilioSID, twilioToken)
	defer srv.Close()
	tw := newTwilio(t, srv, TwilioCredentials{AccountSID: twilioSID, AuthToken: twilioToken}, "+15005550006", 0)
	msg := testMessage()
	sid, err := tw.Send(context.Background(), monitor.Alert{Phone: "+14255550100", Channel: "twilio"}, msg)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("messages = %d, want 1", len(got))
	}
	m := got[0]
	if m.SID != sid || !strings.HasPrefix(sid, "SM") || m.To != "+14255550100" || m.From != "+15005550006" || m.Body != msg.Text {
		t.Errorf("message = %+v, sid %q", m, sid)
	}
}

// An accepted SMS whose answer names no message (not JSON, no sid, an
// empty one) is reported sent (not sent again) with an id that is one
// token, like the others.
func TestTwilioAcceptedWithoutSID(t *testing.T) {
	for _, tt := range []struct{ name, body string }{
		{"not JSON", "queued"},
		{"no sid", `{"status":"queued"}`},
		{"empty sid", `{"sid":"","status":"queued"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := faketwilio.New(twilioSID, twilioToken)
			defer srv.Close()
			srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				io.ReadAll(r.Body)
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, tt.body)
				return true
			})
			tw := newTwilio(t, srv, TwilioCredentials{AccountSID: twilioSID, AuthToken: twilioToken}, "+15005550006", 0)
			id, err := tw.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
			if err != nil || id != "twilio-201" {
				t.Errorf("Send = %q, %v; want twilio-201", id, err)
			}
		})
	}
}

// Twilio may answer a create with the message already "failed" or
// "undelivered" (a number it knows it cannot reach): the SMS did not go
// out, which is the monitor's alert's fault, and the error says so with
// the message's id and Twilio's reason. A message it has queued is sent.
func TestTwilioAcceptedAnswerStatus(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		kind     string // "" for no error
		contains string
	}{
		{"queued", `{"sid":"SM1","status":"queued"}`, "", ""},
		{"accepted", `{"sid":"SM1","status":"accepted"}`, "", ""},
		{"failed", `{"sid":"SM1","status":"failed","error_code":30008,"error_message":"Unknown error"}`,
			"rejected", "message SM1 failed: Unknown error"},
		{"undelivered", `{"sid":"SM1","status":"undelivered","error_code":30003,"error_message":"Unreachable destination handset"}`,
			"rejected", "message SM1 undelivered: Unreachable destination handset"},
		{"undelivered, no reason", `{"sid":"SM1","status":"undelivered"}`, "rejected", "message SM1 undelivered"},
		// Its text escaped, as any receiver's (see oneLine).
		{"failed, text-direction characters", `{"sid":"SM1","status":"failed","error_message":"Failed \u202edessap stset lla\u202c \n next"}`,
			"rejected", `message SM1 failed: Failed \u202edessap stset lla\u202c next`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := faketwilio.New(twilioSID, twilioToken)
			defer srv.Close()
			srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, tt.body)
				return true
			})
			tw := newTwilio(t, srv, TwilioCredentials{AccountSID: twilioSID, AuthToken: twilioToken}, "+15005550006", 0)
			id, err := tw.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
			if id != "SM1" {
				t.Errorf("id = %q, want SM1", id)
			}
			if tt.kind == "" {
				if err != nil {
					t.Errorf("err = %v, want none", err)
				}
				return
			}
			wantKind(t, err, tt.kind, tt.contains)
		})
	}
}

func TestTwilioMessagingServiceAndAPIKey(t *testing.T) {
	srv := faketwilio.New(twilioSID, twilioToken)
	defer srv.Close()
	srv.AddAPIKey(twilioSID, "SK123", "keysecret")
	tw := newTwilio(t, srv, TwilioCredentials{AccountSID: twilioSID, APIKeySID: "SK123", AuthToken: "keysecret"}, "MG0123456789abcdef0123456789abcdef", 0)
	long := testMessage()
	long.Text = strings.Repeat("é", 2000)
	if _, err := tw.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, long); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := srv.Messages()[0]
	if m.MessagingServiceSID != "MG0123456789abcdef0123456789abcdef" || m.From != "" || len([]rune(m.Body)) != MaxTwilioBody {
		t.Errorf("message from %q service %q body %d runes", m.From, m.MessagingServiceSID, len([]rune(m.Body)))
	}
}

// Twilio counts a body's 1,600 characters in UTF-16 units, an emoji as
// two: a message of 1,024 emoji (within MaxMessageBytes) was sent whole,
// refused with error 21617, a permanent failure, and the SMS was lost.
func TestTwilioBodyCutInUTF16Units(t *testing.T) {
	srv := faketwilio.New(twilioSID, twilioToken)
	defer srv.Close()
	tw := newTwilio(t, srv, TwilioCredentials{AccountSID: twilioSID, AuthToken: twilioToken}, "+15005550006", 0)
	for _, text := range []string{strings.Repeat("\U0001F6A8", 1024), "a" + strings.Repeat("\U0001F6A8", 800), strings.Repeat("\U0001F6A8", 800)} {
		msg := testMessage()
		msg.Text = text
		if _, err := tw.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, msg); err != nil {
			t.Fatalf("Send of %d runes: %v", len([]rune(text)), err)
		}
		body := srv.Messages()[len(srv.Messages())-1].Body
		units := len(utf16.Encode([]rune(body)))
		if !utf8.ValidString(body) || units > MaxTwilioBody || (text != body && !strings.HasSuffix(body, "…")) {
			t.Errorf("sent %d runes as %d UTF-16 units (valid UTF-8 %v, cut %v)", len([]rune(text)), units, utf8.ValidString(body), text != body)
		}
		if len(utf16.Encode([]rune(text))) <= MaxTwilioBody && body != text {
			t.Errorf("a body of %d units was cut", len(utf16.Encode([]rune(text))))
		}
	}
}

// The credentials may carry the sender (Secrets Manager's JSON does); it
// takes precedence over TwilioOptions.From, the default.
func TestTwilioFromInCredentials(t *testing.T) {
	tests := []struct {
		name      string
		credsFrom string
		optsFrom  string
		wantFrom  string
		wantSvc   string
	}{
		{"credentials only", "+15005550007", "", "+15005550007", ""},
		{"credentials over options", "+15005550007", "+15005550006", "+15005550007", ""},
		{"options as default", "", "+15005550006", "+15005550006", ""},
		{"messaging service in credentials", "MG456789abcdef0123456789abcdef0123", "+15005550006", "", "MG456789abcdef0123456789abcdef0123"},
		// An alphanumeric sender id that starts with MG is a sender, not
		// a Messaging Service SID.
		{"alphanumeric sender starting MG", "MGMGrand", "+15005550006", "MGMGrand", ""},
		{"MG and too few hex digits", "MG0123", "", "MG0123", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := faketwilio.New(twilioSID, twilioToken)
			defer srv.Close()
			tw := newTwilio(t, srv, TwilioCredentials{AccountSID: twilioSID, AuthToken: twilioToken, From: tt.credsFrom}, tt.optsFrom, 0)
			if _, err := tw.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			m := srv.Messages()[0]
			if m.From != tt.wantFrom || m.MessagingServiceSID != tt.wantSvc {
				t.Errorf("sent from %q service %q, want %q service %q", m.From, m.MessagingServiceSID, tt.wantFrom, tt.wantSvc)
			}
		})
	}
}

// TestTwilioRotatedCredentials: credentials cached when Twilio's auth
// token was rotated (the old one revoked at once) are read again after
// each 401; the first 401 to them is retried (a transient error), not
// lost as the deployment's fault, and a second 401 to the same ones is.
// A secret fixed after that is used by the next send, not when the cache
// would have expired.
func TestTwilioRotatedCredentials(t *testing.T) {
	srv := faketwilio.New(twilioSID, twilioToken)
	defer srv.Close()
	// A cache of the secret as awssecret keeps it: read again after an
	// invalidation, and otherwise the value read before.
	var mu sync.Mutex
	cached := TwilioCredentials{AccountSID: twilioSID, AuthToken: "revoked"} // read before the rotation
	secret := TwilioCredentials{AccountSID: twilioSID, AuthToken: twilioToken}
	stale := false
	reads, invalidations := 0, 0
	setSecret := func(token string, expire bool) {
		mu.Lock()
		defer mu.Unlock()
		secret = TwilioCredentials{AccountSID: twilioSID, AuthToken: token}
		stale = stale || expire
	}
	tw, err := NewTwilio(TwilioOptions{
		Credentials: func(context.Context) (TwilioCredentials, error) {
			mu.Lock()
			defer mu.Unlock()
			if stale {
				cached, stale = secret, false
				reads++
			}
			return cached, nil
		},
		CredentialsRejected: func() {
			mu.Lock()
			defer mu.Unlock()
			invalidations++
			stale = true
		},
		From: "+15005550006", BaseURL: srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	alert := monitor.Alert{Phone: "+14255550100"}
	send := func() error {
		_, err := tw.Send(context.Background(), alert, testMessage())
		return err
	}
	wantKind(t, send(), "transient", "HTTP 401: the credentials were rejected; they are read again")
	if invalidations != 1 || len(srv.Messages()) != 0 {
		t.Fatalf("after the first 401: %d invalidations, %d messages; want 1 and 0", invalidations, len(srv.Messages()))
	}
	if err := send(); err != nil {
		t.Fatalf("the send after the credentials were read again: %v", err)
	}
	if reads != 1 || len(srv.Messages()) != 1 {
		t.Errorf("%d secret reads, %d messages; want 1 and 1", reads, len(srv.Messages()))
	}

	// A secret that stays wrong (read when the cache expires): the
	// second 401 to the same credentials is the deployment's, as
	// without CredentialsRejected.
	setSecret("still wrong", true)
	wantKind(t, send(), "transient", "read again")
	wantKind(t, send(), "permanent", "HTTP 401, error 20003")
	if invalidations != 3 {
		t.Errorf("invalidations = %d, want 3 (one per 401)", invalidations)
	}

	// The secret fixed after that: the next send reads it (the last 401
	// invalidated the cache) and goes through, and so does the one after.
	setSecret(twilioToken, false)
	for i := range 2 {
		if err := send(); err != nil {
			t.Fatalf("send %d after the secret was fixed: %v", i+1, err)
		}
	}

	// Credentials rejected once (Twilio's blip), working again, then
	// rejected again: each rejection since they last worked is a first
	// one, retried.
	var refuse atomic.Bool
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if refuse.Load() {
			faketwilio.WriteError(w, http.StatusUnauthorized, 20003, "Authenticate")
		}
		return refuse.Load()
	})
	refuse.Store(true)
	wantKind(t, send(), "transient", "read again")
	refuse.Store(false)
	if err := send(); err != nil {
		t.Fatalf("the send after the blip: %v", err)
	}
	refuse.Store(true)
	wantKind(t, send(), "transient", "read again")
}

func TestTwilioFailures(t *testing.T) {
	good := TwilioCredentials{AccountSID: twilioSID, AuthToken: twilioToken}
	tests := []struct {
		name     string
		creds    TwilioCredentials
		phone    string
		fault    func(w http.ResponseWriter, r *http.Request) bool
		from     string // "" means +15005550006, "none" means no From option
		kind     string
		contains string
	}{
		{name: "bad token", creds: TwilioCredentials{AccountSID: twilioSID, AuthToken: "nope"}, phone: "+14255550100",
			kind: "permanent", contains: "HTTP 401, error 20003"},
		{name: "invalid number", creds: good, phone: "+1", kind: "rejected", contains: "error 21211"},
		{name: "landline", creds: good, phone: "+14255550100", kind: "rejected", contains: "error 21635",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21635, "'To' number cannot be a landline")
				return true
			}},
		// Codes a caller's choice of number triggers are the monitor's
		// input, as is a 400 with a code not known as the deployment's;
		// those about the account, the sender or the request's form are
		// the deployment's.
		{name: "region not enabled", creds: good, phone: "+14255550100", kind: "rejected", contains: "error 21408",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number")
				return true
			}},
		{name: "to equals from", creds: good, phone: "+14255550100", kind: "rejected", contains: "error 21266",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21266, "'To' and 'From' number cannot be the same")
				return true
			}},
		{name: "short code", creds: good, phone: "+14255550100", kind: "rejected", contains: "error 21265",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21265, "'To' number cannot be a Short Code")
				return true
			}},
		{name: "trial account, unverified number", creds: good, phone: "+14255550100", kind: "rejected", contains: "error 21608",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21608, "The number is unverified. Trial accounts cannot send messages to unverified numbers")
				return true
			}},
		{name: "unlisted 400 code", creds: good, phone: "+14255550100", kind: "rejected", contains: "error 21999",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21999, "Some new reason Twilio will not take this number")
				return true
			}},
		// Only a 400 blames the number: a code Twilio adds later on a 401,
		// 403 or 404 is still the account's.
		// The sender's queue is full: it drains, so the send is retried.
		{name: "queue full", creds: good, phone: "+14255550100", kind: "transient", contains: "error 21611",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21611, "This 'From' number has exceeded the maximum number of queued messages")
				return true
			}},
		{name: "unlisted 401 code", creds: good, phone: "+14255550100", kind: "permanent", contains: "error 20999",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusUnauthorized, 20999, "Some new reason the account may not authenticate")
				return true
			}},
		{name: "unlisted 403 code", creds: good, phone: "+14255550100", kind: "permanent", contains: "error 21999",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusForbidden, 21999, "Some new reason the account may not send")
				return true
			}},
		{name: "unlisted 404 code", creds: good, phone: "+14255550100", kind: "permanent", contains: "error 21999",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusNotFound, 21999, "Some new resource not found")
				return true
			}},
		{name: "invalid from", creds: good, phone: "+14255550100", kind: "permanent", contains: "error 21212",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21212, "Invalid 'From' Phone Number")
				return true
			}},
		{name: "from not of the account", creds: good, phone: "+14255550100", kind: "permanent", contains: "error 21606",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21606, "The 'From' phone number provided is not a valid message-enabled phone number for this account")
				return true
			}},
		{name: "messaging service without senders", creds: good, phone: "+14255550100", kind: "permanent", contains: "error 21704",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21704, "The Messaging Service contains no phone numbers")
				return true
			}},
		// 21712 is the last code of the Messaging Service's range.
		{name: "messaging service, last code of its range", creds: good, phone: "+14255550100", kind: "permanent", contains: "error 21712",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusBadRequest, 21712, "The Messaging Service is not configured to send this message")
				return true
			}},
		// A 400 whose body is not Twilio's error (no message: a proxy's
		// JSON) names no code to blame the number by: it is the
		// deployment's, and shown as it came.
		{name: "400 without Twilio's error", creds: good, phone: "+14255550100", kind: "permanent", contains: `HTTP 400: {"error":"bad request"}`,
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"bad request"}`)
				return true
			}},
		{name: "account suspended", creds: good, phone: "+14255550100", kind: "permanent", contains: "error 20005",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusForbidden, 20005, "Account not active")
				return true
			}},
		{name: "too many requests", creds: good, phone: "+14255550100", kind: "transient", contains: "HTTP 429, error 20429",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				faketwilio.WriteError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
				return true
			}},
		{name: "server error", creds: good, phone: "+14255550100", kind: "transient", contains: "HTTP 503",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				http.Error(w, "<html>upstream</html>", http.StatusServiceUnavailable)
				return true
			}},
		{name: "timeout", creds: good, phone: "+14255550100", kind: "unknown", contains: "may or may not have been sent",
			fault: func(w http.ResponseWriter, r *http.Request) bool {
				io.ReadAll(r.Body) // so that the server notices the client leaving
				select {
				case <-r.Context().Done():
				case <-time.After(2 * time.Second):
				}
				return true
			}},
		{name: "missing credentials", creds: TwilioCredentials{}, phone: "+14255550100", kind: "permanent", contains: "lack"},
		{name: "no sender anywhere", creds: good, from: "none", phone: "+14255550100", kind: "permanent", contains: "no From number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := faketwilio.New(twilioSID, twilioToken)
			defer srv.Close()
			if tt.fault != nil {
				srv.Intercept(tt.fault)
			}
			from := tt.from
			switch from {
			case "":
				from = "+15005550006"
			case "none":
				from = ""
			}
			tw := newTwilio(t, srv, tt.creds, from, 200*time.Millisecond)
			_, err := tw.Send(context.Background(), monitor.Alert{Phone: tt.phone}, testMessage())
			wantKind(t, err, tt.kind, tt.contains)
			if len(srv.Messages()) != 0 {
				t.Errorf("a failed send left %d messages", len(srv.Messages()))
			}
			if n := srv.Requests(); n > 1 {
				t.Errorf("requests = %d, want at most 1 per Send", n)
			}
		})
	}
	t.Run("credentials provider fails", func(t *testing.T) {
		tw, _ := NewTwilio(TwilioOptions{From: "+15005550006", Credentials: func(context.Context) (TwilioCredentials, error) {
			return TwilioCredentials{}, errors.New("secretsmanager: unavailable")
		}})
		_, err := tw.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
		wantKind(t, err, "transient", "read credentials")
	})
}

// Reading the credentials takes the send's Timeout at most, whatever the
// caller's deadline (the alert function's 75 seconds): a secret read that
// gets no answer fails the send transiently, and nothing is sent, instead
// of holding it until the function is killed.
func TestTwilioCredentialReadBounded(t *testing.T) {
	stalled := func(ctx context.Context) (TwilioCredentials, error) {
		<-ctx.Done()
		return TwilioCredentials{}, ctx.Err()
	}
	alert := monitor.Alert{Phone: "+14255550100", Channel: "twilio"}
	tests := []struct {
		name string
		send func(ctx context.Context, tw *Twilio) (string, error)
	}{
		{"Send", func(ctx context.Context, tw *Twilio) (string, error) { return tw.Send(ctx, alert, testMessage()) }},
		{"Prepare, then Send", func(ctx context.Context, tw *Twilio) (string, error) {
			return tw.Prepare(ctx, alert).Send(ctx, alert, testMessage())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := faketwilio.New(twilioSID, twilioToken)
			defer srv.Close()
			tw, err := NewTwilio(TwilioOptions{Credentials: stalled, From: "+15005550006", BaseURL: srv.URL, Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // the invocation's
			defer cancel()
			_, err = tt.send(ctx, tw)
			if ctx.Err() != nil {
				t.Errorf("the send returned at the invocation's deadline; the read must end at Timeout")
			}
			wantKind(t, err, "transient", "read credentials")
			if n := srv.Requests(); n != 0 {
				t.Errorf("requests = %d, want none", n)
			}
		})
	}
}

func TestOutbox(t *testing.T) {
	var buf bytes.Buffer
	o := NewOutbox(&buf, monitor.ClockFunc(func() time.Time { return testNow }))
	msg := testMessage()
	msg.IdempotencyKey = "mon-1@2025-06-01T12:00:00.000000Z"
	alerts := []monitor.Alert{{Phone: "+14255550100"}, {WebhookURL: "https://hooks.example/x"}}
	for _, a := range alerts {
		if _, err := o.Send(context.Background(), a, msg); err != nil {
			t.Fatal(err)
		}
	}
	var entries []OutboxEntry
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var e OutboxEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		entries = append(entries, e)
	}
	if len(entries) != 2 {
		t.Fatalf("entries = %d, want 2", len(entries))
	}
	if e := entries[0]; e.Channel != "sns" || e.To != "+14255550100" || e.Text != msg.Text || !e.SentAt.Equal(testNow) || e.ID != "outbox-mon-1-1" {
		t.Errorf("entry 0 = %+v", e)
	}
	if e := entries[1]; e.Channel != "webhook" || e.Data.OpenIssues != 210 {
		t.Errorf("entry 1 = %+v", e)
	}
	for i, e := range entries {
		if e.IdempotencyKey != msg.IdempotencyKey {
			t.Errorf("entry %d: idempotency key %q, want the alert's %q", i, e.IdempotencyKey, msg.IdempotencyKey)
		}
	}
}

// A reopened outbox numbers its entries after the lines already in the
// file: ids stay unique across restarts of the runtime.
func TestOutboxIDsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.jsonl")
	var ids []string
	for range 3 {
		o, err := OpenOutbox(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := o.Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"outbox-mon-1-1", "outbox-mon-1-2", "outbox-mon-1-3"}
	if !slices.Equal(ids, want) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
}

// A transient answer's Retry-After, in seconds or as an HTTP date, is
// reported as how long the receiver asked to wait; other answers carry
// none.
func TestWebhookRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       time.Duration
	}{
		{"429, seconds", 429, "30", 30 * time.Second},
		{"503, date", 503, now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"429, date past", 429, now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"429, huge", 429, "99999999999999999999999", 24 * time.Hour},
		{"429, unreadable", 429, "soon", 0},
		{"429, none", 429, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
			}))
			defer hook.Close()
			w := NewWebhook(WebhookOptions{Client: egress.New(egress.Options{AllowPrivate: true}).Client(0),
				Clock: monitor.ClockFunc(func() time.Time { return now })})
			_, err := w.Send(context.Background(), monitor.Alert{WebhookURL: hook.URL}, testMessage())
			var te *monitor.TransientError
			if !errors.As(err, &te) || te.RetryAfter != tt.want {
				t.Errorf("err = %#v, want a *monitor.TransientError with RetryAfter %v", err, tt.want)
			}
		})
	}
}

// The outbox, standing in for SNS and Twilio, records an SMS as the
// channel would send it: cut to SNS's 1,600 bytes or Twilio's 1,600 UTF-16
// units, and says it was cut; a topic message and a webhook's text whole.
func TestOutboxCutsSMSAsTheChannel(t *testing.T) {
	long := strings.Repeat("😀", 1000) // 4,000 bytes, 2,000 UTF-16 units
	tests := []struct {
		name  string
		alert monitor.Alert
		text  string
		want  string
	}{
		{"sns sms", monitor.Alert{Phone: "+14255550100"}, long, monitor.TruncateBytes(long, MaxSMSBytes)},
		{"twilio sms", monitor.Alert{Phone: "+14255550100", Channel: monitor.ChannelTwilio}, long, strings.Repeat("😀", 799) + "…"},
		{"sns sms, short", monitor.Alert{Phone: "+14255550100"}, "job done", "job done"},
		{"sns topic", monitor.Alert{TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts"}, long, long},
		{"webhook", monitor.Alert{WebhookURL: "https://hooks.example/x"}, long, long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			msg := testMessage()
			msg.Text = tt.text
			if _, err := NewOutbox(&buf, nil).Send(context.Background(), tt.alert, msg); err != nil {
				t.Fatal(err)
			}
			var e OutboxEntry
			if err := json.Unmarshal(buf.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			if e.Text != tt.want || e.Cut != (tt.want != tt.text) {
				t.Errorf("text %d bytes, cut %v; want %d bytes, cut %v", len(e.Text), e.Cut, len(tt.want), tt.want != tt.text)
			}
			if len(e.Text) > MaxSMSBytes && tt.alert.Phone != "" && tt.alert.ChannelOf() == monitor.ChannelSNS {
				t.Errorf("SMS of %d bytes", len(e.Text))
			}
		})
	}
}

// A webhook posts the message's WebhookText, its data escaped for Slack,
// as "text" (Text when the message has none), and the data as it is.
func TestWebhookPostsTheEscapedText(t *testing.T) {
	for _, tc := range []struct{ name, webhookText, want string }{
		{"escaped", "<!here> &lt;!channel&gt;", "<!here> &lt;!channel&gt;"},
		{"none", "", "GitHubIssuesMonitor mon-1: octo/big has at least 210 open issues (threshold 3)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			msg := testMessage()
			msg.WebhookText = tc.webhookText
			msg.Data.Detail = "<!channel>"
			if _, err := localWebhook(nil, 0).Send(context.Background(), monitor.Alert{WebhookURL: rc.URL}, msg); err != nil {
				t.Fatal(err)
			}
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if len(rc.got) != 1 || rc.got[0].Text != tc.want || rc.got[0].Data.Detail != "<!channel>" {
				t.Errorf("payloads = %+v, want text %q and the data's detail as it is", rc.got, tc.want)
			}
		})
	}
}

// docs/checks-and-alerts.md gives the webhook's send timeout, which a
// receiver must answer within, as the sender has it.
func TestDocsGiveTheWebhookTimeout(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "checks-and-alerts.md"))
	if err != nil {
		t.Fatal(err)
	}
	timeout := NewWebhook(WebhookOptions{}).timeout
	for _, want := range []string{
		fmt.Sprintf("%d s for a webhook", int(timeout.Seconds())),
		fmt.Sprintf("must answer within %d s", int(timeout.Seconds())),
	} {
		if !strings.Contains(strings.Join(strings.Fields(string(doc)), " "), want) {
			t.Errorf("checks-and-alerts.md does not say %q", want)
		}
	}
}

// A receiver's answer shown in a detail is one line whose control and
// text-direction characters are escapes: a right-to-left override made
// "Failed \u202edessap stset lla\u202c" read "Failed all tests passed".
func TestOneLine(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"  two\n lines\t", "two lines"},
		{"Failed \u202edessap stset lla\u202c ok", `Failed \u202edessap stset lla\u202c ok`},
		{"isolate \u2067x\u2069 mark \u200f", `isolate \u2067x\u2069 mark \u200f`},
		{"bell\x07 and del\x7f", `bell\u0007 and del\u007f`},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"<b>html</b> é", "<b>html</b> é"},
		{strings.Repeat("a", 250), strings.Repeat("a", 200) + "…"},
	} {
		if got := oneLine([]byte(tt.in)); got != tt.want {
			t.Errorf("oneLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
