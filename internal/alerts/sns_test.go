package alerts

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/motoserver"
)

// countingTransport counts the requests an SDK client sends.
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func snsClient(endpoint string) (*sns.Client, *countingTransport) {
	cfg := motoserver.Config(endpoint)
	ct := &countingTransport{base: cfg.HTTPClient.(*http.Client).Transport}
	cfg.HTTPClient = &http.Client{Transport: ct}
	return sns.NewFromConfig(cfg), ct
}

// notifications is an HTTP endpoint subscribed to an SNS topic.
type notifications struct {
	*httptest.Server
	mu  sync.Mutex
	got []map[string]any
}

func newNotifications(t *testing.T) *notifications {
	n := &notifications{}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			n.mu.Lock()
			n.got = append(n.got, m)
			n.mu.Unlock()
		}
	}))
	t.Cleanup(n.Close)
	return n
}

func (n *notifications) list() []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]map[string]any(nil), n.got...)
}

func TestSNSWithMoto(t *testing.T) {
	endpoint := motoserver.Start(t)
	client, calls := snsClient(endpoint)
	ctx := context.Background()
	sender := NewSNS(client, SNSOptions{})

	t.Run("topic", func(t *testing.T) {
		topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
		if err != nil {
			t.Fatal(err)
		}
		sink := newNotifications(t)
		if _, err := client.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(sink.URL)}); err != nil {
			t.Fatal(err)
		}
		msg := testMessage()
		msg.Subject = "stepmon: GitHubIssuesMonitor mon-1\nsecond line ✓"
		before := calls.n.Load()
		id, err := sender.Send(ctx, monitor.Alert{TopicArn: *topic.TopicArn}, msg)
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := calls.n.Load() - before; got != 1 {
			t.Errorf("requests = %d, want 1", got)
		}
		got := sink.list()
		if len(got) != 1 {
			t.Fatalf("notifications = %d, want exactly 1", len(got))
		}
		if got[0]["MessageId"] != id || got[0]["Message"] != msg.Text || got[0]["Subject"] != "stepmon: GitHubIssuesMonitor mon-1 second line ?" {
			t.Errorf("notification = %v, id %q", got[0], id)
		}
	})

	t.Run("fifo topic", func(t *testing.T) {
		topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts.fifo"),
			Attributes: map[string]string{"FifoTopic": "true"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sender.Send(ctx, monitor.Alert{TopicArn: *topic.TopicArn}, testMessage()); err != nil {
			t.Fatalf("Send to a FIFO topic: %v", err)
		}
	})

	t.Run("sms", func(t *testing.T) {
		msg := testMessage()
		msg.Text = strings.Repeat("a", 2000)
		before := calls.n.Load()
		id, err := sender.Send(ctx, monitor.Alert{Phone: "+14255550100"}, msg)
		if err != nil || id == "" {
			t.Fatalf("Send = %q, %v", id, err)
		}
		if got := calls.n.Load() - before; got != 1 {
			t.Errorf("requests = %d, want 1", got)
		}
		sms := motoSMS(t, endpoint)
		if len(sms) != 1 || sms[0]["phone_number"] != "+14255550100" || len(sms[0]["message"].(string)) > MaxSMSBytes {
			t.Errorf("SMS recorded by moto = %v, want one to +14255550100 of at most %d bytes", sms, MaxSMSBytes)
		}
	})

	t.Run("missing topic", func(t *testing.T) {
		_, err := sender.Send(ctx, monitor.Alert{TopicArn: "arn:aws:sns:us-east-1:123456789012:nope"}, testMessage())
		wantKind(t, err, "permanent", "NotFound")
	})
}

// motoSMS reads the SMS messages moto has recorded from its model dump.
func motoSMS(t *testing.T, endpoint string) []map[string]any {
	t.Helper()
	resp, err := http.Get(endpoint + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var data map[string]map[string][]map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		t.Fatalf("moto data: %v", err)
	}
	return data["sns"]["SMS"]
}

func TestSNSFailures(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		kind     string
		contains string
	}{
		{"server error", 500, `<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>boom</Message></Error></ErrorResponse>`, "transient", "InternalError"},
		{"throttled", 400, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`, "transient", "Throttling"},
		{"bad parameter", 400, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: PhoneNumber</Message></Error></ErrorResponse>`, "permanent", "InvalidParameter"},
		{"denied", 403, `<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>not authorized</Message></Error></ErrorResponse>`, "permanent", "AuthorizationError"},
		{"garbage 503", 503, `<html>down</html>`, "transient", "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			client, _ := snsClient(srv.URL)
			_, err := NewSNS(client, SNSOptions{}).Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
			wantKind(t, err, tt.kind, tt.contains)
			if hits.Load() != 1 {
				t.Errorf("attempts = %d, want exactly 1 (the SDK must not retry)", hits.Load())
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		client, _ := snsClient("http://" + addr)
		_, err := NewSNS(client, SNSOptions{}).Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
		wantKind(t, err, "transient", "publish to +14255550100")
	})
	// SNS may have taken a request it did not answer: standard topics and
	// SMS do not drop a second copy, so the outcome is unknown.
	t.Run("no answer", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			<-r.Context().Done()
		}))
		defer srv.Close()
		client, _ := snsClient(srv.URL)
		_, err := NewSNS(client, SNSOptions{Timeout: 200 * time.Millisecond}).Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
		wantKind(t, err, "unknown", "may or may not have been sent")
	})
	t.Run("connection lost after the request", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.Close()
			}
		}))
		defer srv.Close()
		client, _ := snsClient(srv.URL)
		_, err := NewSNS(client, SNSOptions{}).Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
		wantKind(t, err, "unknown", "after the request was sent")
	})
}
