package alerts

import (
	"context"
	"encoding/json"
	"errors"
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

func TestSNSWithMoto(t *testing.T) {
	endpoint := motoserver.Start(t)
	client, calls := snsClient(endpoint)
	ctx := context.Background()
	sender := NewSNS(client, SNSOptions{})

	t.Run("topic", func(t *testing.T) {
		topic, sink := motoserver.SubscribedTopic(t, client, "alerts")
		msg := testMessage()
		msg.Subject = "stepmon: GitHubIssuesMonitor mon-1\nsecond line ✓"
		before := calls.n.Load()
		id, err := sender.Send(ctx, monitor.Alert{TopicArn: topic}, msg)
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if got := calls.n.Load() - before; got != 1 {
			t.Errorf("requests = %d, want 1", got)
		}
		got := sink.List()
		if len(got) != 1 {
			t.Fatalf("notifications = %d, want exactly 1", len(got))
		}
		if got[0]["MessageId"] != id || got[0]["Message"] != msg.Text || got[0]["Subject"] != "stepmon: GitHubIssuesMonitor mon-1 second line ?" {
			t.Errorf("notification = %v, id %q", got[0], id)
		}
	})

	// SNS refuses a Subject of 100 characters or more: a long one is cut,
	// not a reason for every alert to the topic to fail.
	t.Run("long subject", func(t *testing.T) {
		topic, sink := motoserver.SubscribedTopic(t, client, "alerts-long")
		msg := testMessage()
		msg.Subject = "stepmon: " + strings.Repeat("x", 300)
		if _, err := sender.Send(ctx, monitor.Alert{TopicArn: topic}, msg); err != nil {
			t.Fatalf("Send with a subject of %d characters: %v", len(msg.Subject), err)
		}
		got := sink.List()
		if want := msg.Subject[:99]; len(got) != 1 || got[0]["Subject"] != want {
			t.Errorf("notifications = %v, want one with the subject's first 99 characters %q", got, want)
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

	// A topic in another region than the client's: SNS answers a publish
	// only in the topic's own region (moto keeps each region's topics
	// apart, as SNS does).
	t.Run("topic in another region", func(t *testing.T) {
		euCfg := motoserver.Config(endpoint)
		euCfg.Region = "eu-west-1"
		eu := sns.NewFromConfig(euCfg)
		topic, sink := motoserver.SubscribedTopic(t, eu, "ops")
		if !strings.Contains(topic, ":eu-west-1:") {
			t.Fatalf("topic %s is not in eu-west-1", topic)
		}
		id, err := sender.Send(ctx, monitor.Alert{TopicArn: topic}, testMessage())
		if err != nil {
			t.Fatalf("Send to a eu-west-1 topic through a us-east-1 client: %v", err)
		}
		if got := sink.List(); len(got) != 1 || got[0]["MessageId"] != id {
			t.Errorf("notifications = %v, want one with message id %q", got, id)
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
		{"bad parameter", 400, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: PhoneNumber</Message></Error></ErrorResponse>`, "rejected", "InvalidParameter"},
		{"number not valid", 400, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: PhoneNumber Reason: +14255550100 is not valid to publish to</Message></Error></ErrorResponse>`, "rejected", "not valid to publish to"},
		// moto_server's wording.
		{"number not E.164", 400, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Phone number does not meet the E164 format</Message></Error></ErrorResponse>`, "rejected", "E164"},
		// The SMS attributes are the deployment's (a sender id, an SMS
		// type): SNS refusing them is not the monitor's phone number.
		{"bad sender id", 400, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: MessageAttributes Reason: AWS.SNS.SMS.SenderID is not valid</Message></Error></ErrorResponse>`, "permanent", "SenderID"},
		{"denied", 403, `<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>not authorized</Message></Error></ErrorResponse>`, "permanent", "AuthorizationError"},
		{"garbage 503", 503, `<html>down</html>`, "transient", "HTTP 503"},
		// A gateway on the way (a VPC endpoint, a proxy) that gave up
		// waiting: SNS may have taken the message.
		{"gateway timeout", 504, `<html>gateway timeout</html>`, "unknown", "HTTP 504"},
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
	// A topic the deployment allows is the deployment's: SNS refusing it
	// is a fault to fix there, not the monitor's.
	t.Run("bad parameter of a topic", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>Invalid parameter: TopicArn</Message></Error></ErrorResponse>`)
		}))
		defer srv.Close()
		client, _ := snsClient(srv.URL)
		_, err := NewSNS(client, SNSOptions{}).Send(context.Background(), monitor.Alert{TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts"}, testMessage())
		wantKind(t, err, "permanent", "InvalidParameter")
	})
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

// capturingTransport records the requests an SDK client sends and answers
// each with an SNS Publish response.
type capturingTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (c *capturingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, r)
	c.mu.Unlock()
	body := `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult>` +
		`<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>`
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/xml"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// A topic's alert is published in the topic's region, whatever the
// client's: SNS refuses a topic of another region (400 InvalidParameter),
// so a topic an operator allowed from another region would never get an
// alert. SMS goes through the client's own region.
func TestSNSPublishesInTheTopicsRegion(t *testing.T) {
	tests := []struct {
		name       string
		alert      monitor.Alert
		wantRegion string
	}{
		{"topic in another region", monitor.Alert{TopicArn: "arn:aws:sns:eu-west-1:123456789012:ops"}, "eu-west-1"},
		{"topic in the client's region", monitor.Alert{TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts"}, "us-east-1"},
		{"fifo topic in another region", monitor.Alert{TopicArn: "arn:aws:sns:ap-southeast-2:123456789012:ops.fifo"}, "ap-southeast-2"},
		{"sms", monitor.Alert{Phone: "+14255550100"}, "us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := &capturingTransport{}
			client := sns.NewFromConfig(aws.Config{
				Region:      "us-east-1",
				Credentials: staticCredentials{},
				HTTPClient:  &http.Client{Transport: ct},
			})
			id, err := NewSNS(client, SNSOptions{}).Send(context.Background(), tt.alert, testMessage())
			if err != nil || id != "m-1" {
				t.Fatalf("Send = %q, %v", id, err)
			}
			if len(ct.reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(ct.reqs))
			}
			r := ct.reqs[0]
			if want := "sns." + tt.wantRegion + ".amazonaws.com"; r.URL.Host != want {
				t.Errorf("request to %s, want %s", r.URL.Host, want)
			}
			if scope := "/" + tt.wantRegion + "/sns/aws4_request"; !strings.Contains(r.Header.Get("Authorization"), scope) {
				t.Errorf("Authorization %q, want a signature for %s", r.Header.Get("Authorization"), scope)
			}
		})
	}
}

// publishRecorder is an SNSPublisher that keeps what it is asked to publish.
type publishRecorder struct {
	got []*sns.PublishInput
}

func (p *publishRecorder) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	p.got = append(p.got, in)
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

// On a FIFO topic the deduplication id follows the alert's idempotency
// key: the same for every attempt of one monitor's alert, another for a
// later monitor that reuses the instance id, whose alert SNS would
// otherwise take (answering a message id) and drop as a duplicate within
// its five-minute window. The instance id stays the message group.
func TestSNSFIFODeduplicationID(t *testing.T) {
	first, later := testNow, testNow.Add(2*time.Minute)
	tests := []struct {
		name     string
		a, b     string // the messages' idempotency keys
		wantSame bool
	}{
		{"one monitor's alert sent twice", monitor.AlertKey("mon-1", first), monitor.AlertKey("mon-1", first), true},
		{"a later monitor of the same id", monitor.AlertKey("mon-1", first), monitor.AlertKey("mon-1", later), false},
		{"no key: the instance id", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &publishRecorder{}
			sender := NewSNS(p, SNSOptions{})
			alert := monitor.Alert{TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts.fifo"}
			for _, key := range []string{tt.a, tt.b} {
				msg := testMessage()
				msg.IdempotencyKey = key
				if _, err := sender.Send(context.Background(), alert, msg); err != nil {
					t.Fatalf("Send: %v", err)
				}
			}
			a, b := p.got[0], p.got[1]
			for _, in := range p.got {
				if got := aws.ToString(in.MessageGroupId); got != "mon-1" {
					t.Errorf("MessageGroupId = %q, want the instance id mon-1", got)
				}
				if n := len(aws.ToString(in.MessageDeduplicationId)); n == 0 || n > 128 {
					t.Errorf("MessageDeduplicationId %q: %d characters, want 1 to 128", aws.ToString(in.MessageDeduplicationId), n)
				}
			}
			if got := aws.ToString(a.MessageDeduplicationId) == aws.ToString(b.MessageDeduplicationId); got != tt.wantSame {
				t.Errorf("keys %q and %q: MessageDeduplicationId %q and %q, same = %v, want %v",
					tt.a, tt.b, aws.ToString(a.MessageDeduplicationId), aws.ToString(b.MessageDeduplicationId), got, tt.wantSame)
			}
		})
	}
}

// staticCredentials are fixed test credentials, so that requests are signed.
type staticCredentials struct{}

func (staticCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Source: "test"}, nil
}

// SNS accepted the Publish (HTTP 200) but its answer was cut off or did not
// finish within the timeout: the message was taken, so the outcome is
// unknown (never sent again), not a failure.
func TestSNS200AnswerLost(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"body cut": func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/xml")
			w.Header().Set("Content-Length", "500")
			w.WriteHeader(200)
			io.WriteString(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>`)
			w.(http.Flusher).Flush()
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
		},
		"body stalls": func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(200)
			io.WriteString(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		},
		"garbled": func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, `<PublishResponse><PublishResult><MessageId>`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			client, _ := snsClient(srv.URL)
			_, err := NewSNS(client, SNSOptions{Timeout: 300 * time.Millisecond}).Send(context.Background(), monitor.Alert{Phone: "+14255550100"}, testMessage())
			var unknown *monitor.OutcomeUnknownError
			if !errors.As(err, &unknown) {
				t.Errorf("err = %T %v; want *monitor.OutcomeUnknownError (SNS answered 200: the message was taken)", err, err)
			}
		})
	}
}

// A topic's Subject is what SNS takes: ASCII, without line breaks or
// control characters, not starting with a space, and fewer than 100
// characters, however long the template's subject.
func TestSNSSubject(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"short", "stepmon: job-1 Completed", "stepmon: job-1 Completed"},
		{"99 characters", strings.Repeat("a", 99), strings.Repeat("a", 99)},
		{"100 characters", strings.Repeat("a", 100), strings.Repeat("a", 99)},
		{"300 characters", strings.Repeat("a", 300), strings.Repeat("a", 99)},
		{"300 non-ASCII characters", strings.Repeat("é", 300), strings.Repeat("?", 99)},
		{"line breaks and a leading space", " a\r\nb\tc", "a  b c"},
		{"control character", "a\x00b", "a?b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := snsSubject(tt.in); got != tt.want {
				t.Errorf("snsSubject = %q (%d characters), want %q", got, len(got), tt.want)
			}
		})
	}
}

// A message built without an idempotency key still gets a FIFO topic
// deduplication id of its own monitor (its instance id): two monitors'
// alerts are two messages, not one that SNS drops as the other's
// duplicate within its five-minute window.
func TestSNSFIFODeduplicationIDWithoutKey(t *testing.T) {
	tests := []struct {
		name     string
		a, b     string // the messages' instance ids
		wantSame bool
	}{
		{"two monitors", "mon-1", "mon-2", false},
		{"one monitor twice", "mon-1", "mon-1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &publishRecorder{}
			sender := NewSNS(p, SNSOptions{})
			alert := monitor.Alert{TopicArn: "arn:aws:sns:us-east-1:123456789012:alerts.fifo"}
			for _, id := range []string{tt.a, tt.b} {
				msg := testMessage()
				msg.Data.InstanceID = id
				if _, err := sender.Send(context.Background(), alert, msg); err != nil {
					t.Fatalf("Send: %v", err)
				}
			}
			a, b := aws.ToString(p.got[0].MessageDeduplicationId), aws.ToString(p.got[1].MessageDeduplicationId)
			if got := a == b; got != tt.wantSame {
				t.Errorf("instance ids %q and %q: MessageDeduplicationId %q and %q, same = %v, want %v", tt.a, tt.b, a, b, got, tt.wantSame)
			}
		})
	}
}
