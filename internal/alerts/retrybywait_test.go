package alerts_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/alerts"
	"github.com/stepmon/stepmon/internal/egress"
	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
)

// hookFailing serves a webhook whose first failures POSTs answer status
// (with retryAfter as Retry-After when set) and the others 200; it returns
// the server's URL and its count of POSTs.
func hookFailing(t *testing.T, status, failures int, retryAfter string) (string, *atomic.Int64) {
	t.Helper()
	var posts atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if posts.Add(1) <= int64(failures) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			http.Error(w, "not now", status)
		}
	}))
	t.Cleanup(hook.Close)
	return hook.URL, &posts
}

// With the current definition (retryByWait) a caller's webhook that fails
// transiently is retried by the state machine's Wait: each run that still
// fails returns the state with AlertRetry set and no error, so that no
// function error (and no operators' alarm) comes of the caller's
// destination; the retries' waits double from 5 s (less up to half at
// random), a Retry-After longer than monitor.MaxAlertRunPause is waited
// out there rather than in the run (a shorter one in the run), and
// the run after monitor.AlertTransientRetries retries ends the monitor
// Failed. A webhook that recovers gets the alert once.
func TestAlertRetriesByWait(t *testing.T) {
	client := egress.New(egress.Options{AllowPrivate: true}).Client(0)
	webhook := alerts.NewWebhook(alerts.WebhookOptions{Client: client})
	last := monitor.AlertTransientRetries
	for _, tt := range []struct {
		name       string
		status     int
		failures   int
		retryAfter string
		runs       int           // runs of the task; each but the last returns AlertRetry
		posts      int64         // POSTs in all
		waitMin    time.Duration // of each retry's wait after the first run
		waitMax    time.Duration
		final      string // the last run's output.alert_status
	}{
		{"503, then sent on the first retry", http.StatusServiceUnavailable, 4, "", 2, 5, 2500 * time.Millisecond, 5 * time.Second, "sent"},
		{"503 for good", http.StatusServiceUnavailable, 1 << 30, "", 1 + last, int64(3 * (1 + last)), 2500 * time.Millisecond, 5 * time.Second, "failed"},
		// A gateway's 504 may follow a delivery: never sent again.
		{"504", http.StatusGatewayTimeout, 1 << 30, "", 1, 1, 0, 0, "unknown"},
		{"429 asking for a minute", http.StatusTooManyRequests, 1, "60", 2, 2, 60 * time.Second, 60 * time.Second, "sent"},
		{"429 asking for an hour", http.StatusTooManyRequests, 1, "3600", 2, 2, monitor.MaxAlertRetryAfter, monitor.MaxAlertRetryAfter, "sent"},
		{"429 asking for less than the backoff", http.StatusTooManyRequests, 3, "0", 2, 4, 2500 * time.Millisecond, 5 * time.Second, "sent"},
		// Up to monitor.MaxAlertRunPause the run waits, and sends again.
		{"429 asking for 5 s", http.StatusTooManyRequests, 1, "5", 1, 2, 0, 0, "sent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url, posts := hookFailing(t, tt.status, tt.failures, tt.retryAfter)
			store := memstore.New()
			tasks, s := alertDue(t, store, monitor.Alert{WebhookURL: url}, webhook, 3)
			var pauses []time.Duration
			tasks.Sleep = func(_ context.Context, d time.Duration) error { pauses = append(pauses, d); return nil }
			for run := 1; run <= tt.runs; run++ {
				ctx, cancel := context.WithTimeout(context.Background(), 75*time.Second)
				out, err := tasks.Alert(ctx, monitor.TaskInput{State: s, RetryByWait: true})
				cancel()
				if err != nil {
					t.Fatalf("run %d: %v, want no error: the caller's destination is not a function error", run, err)
				}
				if run == tt.runs {
					if out.AlertRetry != nil || out.Check.Output == nil || out.Check.Output.AlertStatus != tt.final {
						t.Fatalf("last run: retry %+v, output %+v; want no retry, alert_status %s", out.AlertRetry, out.Check.Output, tt.final)
					}
					break
				}
				r := out.AlertRetry
				if r == nil || r.Retries != run || out.Check.Output != nil {
					t.Fatalf("run %d: retry %+v, output %+v; want retry number %d and the monitor not finished", run, r, out.Check.Output, run)
				}
				// Each retry doubles the one before, up to 120 s.
				scale := time.Duration(1) << (run - 1)
				low, high := min(tt.waitMin*scale, 60*time.Second), min(tt.waitMax*scale, 120*time.Second)
				if tt.retryAfter != "" && tt.retryAfter != "0" {
					low, high = tt.waitMin, tt.waitMax
				}
				if w := time.Duration(r.WaitSeconds) * time.Second; w < low.Truncate(time.Second) || w > high {
					t.Errorf("run %d: waits %v, want %v to %v", run, w, low, high)
				}
				// The status shows when the Wait has the alert sent again.
				rec, _ := store.Get(context.Background(), "mon-1")
				if want := tasks.Clock.Now().Add(time.Duration(r.WaitSeconds) * time.Second); !rec.Alert.RetryAt.Equal(want) ||
					rec.Alert.Status != monitor.AlertFailed {
					t.Errorf("run %d: record's alert %+v, want failed with retryAt %v", run, rec.Alert, want)
				}
				s = out // the state machine passes it to the next run
			}
			if posts.Load() != tt.posts {
				t.Errorf("POSTs %d, want %d", posts.Load(), tt.posts)
			}
			for _, p := range pauses {
				if p > monitor.MaxAlertRunPause {
					t.Errorf("the run paused %v: a longer Retry-After than %v is waited out by the state machine", p, monitor.MaxAlertRunPause)
				}
			}
			if tt.retryAfter == "5" && (len(pauses) != 1 || pauses[0] != 5*time.Second) {
				t.Errorf("pauses %v, want the run to wait the 5 s asked for", pauses)
			}
			rec, _ := store.Get(context.Background(), "mon-1")
			if tt.final == "failed" {
				if rec.RuntimeStatus != monitor.RuntimeFailed || !strings.Contains(rec.Output.Detail, "still failing after 5 retries") {
					t.Errorf("record %s, detail %q; want Failed, still failing after 5 retries", rec.RuntimeStatus, rec.Output.Detail)
				}
			}
		})
	}
}

// A Retry-After on the run's last send is waited out by the retry too.
func TestAlertRetryByWaitHonoursTheLastRetryAfter(t *testing.T) {
	var posts atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch posts.Add(1) {
		case 1, 2:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case 3:
			w.Header().Set("Retry-After", "60")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		}
	}))
	defer hook.Close()
	webhook := alerts.NewWebhook(alerts.WebhookOptions{Client: egress.New(egress.Options{AllowPrivate: true}).Client(0)})
	tasks, s := alertDue(t, memstore.New(), monitor.Alert{WebhookURL: hook.URL}, webhook, 3)
	out, err := tasks.Alert(context.Background(), monitor.TaskInput{State: s, RetryByWait: true})
	if err != nil || out.AlertRetry == nil || out.AlertRetry.WaitSeconds != 60 || posts.Load() != 3 {
		t.Fatalf("alert: %v, retry %+v after %d POSTs; want a retry after 60 s, after 3", err, out.AlertRetry, posts.Load())
	}
	out, err = tasks.Alert(context.Background(), monitor.TaskInput{State: out, RetryByWait: true})
	if err != nil || out.AlertRetry != nil || out.Check.Output.AlertStatus != "sent" {
		t.Fatalf("retry: %v, retry %+v, output %+v; want sent", err, out.AlertRetry, out.Check.Output)
	}
}

// Transient failures of the deployment (Twilio's 503, a webhook secret
// that cannot be read) are function errors for the Alert state's Retry
// even with retryByWait: they are the operators' to see.
func TestAlertRetriesByWaitLeavesTheDeploymentsFailures(t *testing.T) {
	url, _ := hookFailing(t, http.StatusOK, 0, "")
	noSecret, twilio := deploymentFailing(t, egress.New(egress.Options{AllowPrivate: true}).Client(0))
	for _, tt := range []struct {
		name   string
		alert  monitor.Alert
		sender monitor.Sender
	}{
		{"webhook secret unreadable", monitor.Alert{WebhookURL: url}, noSecret},
		{"twilio 503", monitor.Alert{Phone: "+14255550100", Channel: monitor.ChannelTwilio}, twilio},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tasks, s := alertDue(t, memstore.New(), tt.alert, tt.sender, 3)
			out, err := tasks.Alert(context.Background(), monitor.TaskInput{State: s, RetryByWait: true})
			var te *monitor.TransientError
			if !errors.As(err, &te) || err != error(te) || out.AlertRetry != nil {
				t.Fatalf("err = %v, retry %+v; want an unwrapped *monitor.TransientError and no retry by wait", err, out.AlertRetry)
			}
		})
	}
}
