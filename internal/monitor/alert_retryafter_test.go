package monitor

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// waitTooLong says that the state machine's remaining retries cannot
// cover a Retry-After exactly when the asked wait is longer than their
// longest delays from run done on, with each run's budget less the
// reserve of its last attempt. With the Retry of statemachine.asl.json
// (5 s doubled, at most 120 s, 5 retries) and a 75 s run, that is 155 s +
// 5 × 45 s = 380 s after run 0, and 150 s + 4 × 45 s = 330 s after run 1.
func TestWaitTooLongCover(t *testing.T) {
	const run = 75 * time.Second
	for _, tt := range []struct {
		name   string
		asked  time.Duration
		budget time.Duration
		done   int
		want   string // the clause on the remaining retries; "" for none
	}{
		{"run 0, just covered", 380 * time.Second, run, 0, ""},
		{"run 0, just too long", 381 * time.Second, run, 0, "the state machine's 5 remaining retries wait 6m20s at most, too little for it"},
		{"run 0, a run with no time beyond the reserve", 155 * time.Second, 20 * time.Second, 0, ""},
		{"run 0, a run with no time beyond the reserve, too long", 156 * time.Second, 20 * time.Second, 0, "the state machine's 5 remaining retries wait 2m35s at most, too little for it"},
		{"run 1, just covered", 330 * time.Second, run, 1, ""},
		{"run 1, just too long", 331 * time.Second, run, 1, "the state machine's 4 remaining retries wait 5m30s at most, too little for it"},
		{"run 3, just covered", 210 * time.Second, run, 3, ""},
		{"run 3, just too long", 211 * time.Second, run, 3, "the state machine's 2 remaining retries wait 3m30s at most, too little for it"},
		{"run 5, none left", time.Second, run, 5, "the state machine's 0 remaining retries wait 0s at most, too little for it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sendErr := &TransientError{Message: "webhook answered HTTP 429", RetryAfter: tt.asked}
			err := waitTooLong(sendErr, tt.asked, 10*time.Second, tt.budget, tt.done)
			var te *TransientError
			if !errors.As(err, &te) {
				t.Fatalf("waitTooLong = %v (%T), want a *TransientError", err, err)
			}
			if sendErr.Message != "webhook answered HTTP 429" {
				t.Errorf("the send's error now reads %q, want it left alone", sendErr.Message)
			}
			msg := te.Message
			if !strings.HasPrefix(msg, sendErr.Message+"; not sent again in this run") {
				t.Errorf("message = %q, want it to start with the send's error and the run's pause", msg)
			}
			_, clause, found := strings.Cut(msg, "; the state machine's")
			if found {
				clause = "the state machine's" + clause
			}
			if clause != tt.want {
				t.Errorf("retries clause = %q, want %q (message %q)", clause, tt.want, msg)
			}
		})
	}
}

// alertRetryWait doubles from AlertRetryInterval to AlertRetryMaxDelay,
// takes off up to half at random, and gives way to a longer Retry-After,
// itself at most MaxAlertRetryAfter.
func TestAlertRetryWait(t *testing.T) {
	none := func(time.Duration) time.Duration { return 0 }
	most := func(n time.Duration) time.Duration { return n - 1 }
	for _, tt := range []struct {
		name    string
		retried int
		asked   time.Duration
		jitter  func(time.Duration) time.Duration
		want    time.Duration
	}{
		{"first, no jitter", 0, 0, none, 5 * time.Second},
		{"first, most jitter", 0, 0, most, 2500 * time.Millisecond},
		{"second", 1, 0, none, 10 * time.Second},
		{"fifth", 4, 0, none, 80 * time.Second},
		{"sixth, capped", 5, 0, none, 120 * time.Second},
		{"far on, capped", 1000, 0, none, 120 * time.Second},
		{"far on, most jitter", 1000, 0, most, 60 * time.Second},
		{"Retry-After longer", 0, 60 * time.Second, none, 60 * time.Second},
		{"Retry-After shorter", 4, 7 * time.Second, most, 40 * time.Second},
		{"Retry-After over the bound", 0, time.Hour, none, MaxAlertRetryAfter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := alertRetryWait(tt.retried, tt.asked, tt.jitter); got != tt.want {
				t.Errorf("alertRetryWait(%d, %v) = %v, want %v", tt.retried, tt.asked, got, tt.want)
			}
		})
	}
}
