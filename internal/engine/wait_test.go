package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// AWS considers a Wait timestamp up to the second and drops the
// milliseconds: a wait until 00:00:10.900 ends at 00:00:10.
func TestWaitTimestampIgnoresMilliseconds(t *testing.T) {
	start := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, def, input string
	}{
		{"Timestamp", `{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"2026-01-02T00:00:10.900Z","End":true}}}`, `{}`},
		{"TimestampPath", `{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.at","End":true}}}`,
			`{"at":"2026-01-02T00:00:10.900Z"}`},
		{"JSONata Timestamp", `{"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"{% $states.input.at %}","End":true}}}`,
			`{"at":"2026-01-02T00:00:10.999Z"}`},
		// RFC 3339 allows a lowercase "t" and "z".
		{"lowercase Timestamp", `{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"2026-01-02t00:00:10.900z","End":true}}}`, `{}`},
		{"lowercase TimestampPath", `{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.at","End":true}}}`,
			`{"at":"2026-01-02t00:00:10.900z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(start)})
			sm := create(t, eng, tt.def)
			done := run(t, eng, sm.Arn, "w", tt.input)
			if done.Status != engine.StatusSucceeded {
				t.Fatalf("status %s (%s: %s), want SUCCEEDED", done.Status, done.Error, done.Cause)
			}
			hist, err := eng.History(context.Background(), done.Arn)
			if err != nil {
				t.Fatal(err)
			}
			want := start.Add(10 * time.Second)
			exited := 0
			for _, ev := range hist {
				if ev.Type == "WaitStateExited" {
					exited++
					if !ev.Timestamp.Equal(want) {
						t.Errorf("the wait ended at %v, want %v", ev.Timestamp, want)
					}
				}
			}
			if exited != 1 {
				t.Errorf("%d WaitStateExited events, want 1", exited)
			}
		})
	}
}

// A Wait's SecondsPath (or JSONata Seconds) above the largest literal
// Seconds (99999999) fails when the state runs, as a negative value does;
// it waited for as long as it said.
func TestWaitSecondsAboveMaximum(t *testing.T) {
	start := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, def, input, wantError string
		wantStatus                  engine.ExecutionStatus
	}{
		{"SecondsPath above", `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`,
			`{"s":100000000}`, "States.Runtime", engine.StatusFailed},
		{"SecondsPath at the maximum", `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`,
			`{"s":99999999}`, "", engine.StatusSucceeded},
		{"JSONata Seconds above", `{"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"{% $states.input.s %}","End":true}}}`,
			`{"s":99999999999}`, "States.QueryEvaluationError", engine.StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t, engine.Options{Clock: engine.NewVirtualClock(start)})
			sm := create(t, eng, tt.def)
			done := run(t, eng, sm.Arn, "w", tt.input)
			if done.Status != tt.wantStatus || done.Error != tt.wantError {
				t.Fatalf("status %s (%s: %s), want %s %s", done.Status, done.Error, done.Cause, tt.wantStatus, tt.wantError)
			}
			if tt.wantError != "" && !strings.Contains(done.Cause, "99999999") {
				t.Errorf("cause %q, want it to name the maximum", done.Cause)
			}
		})
	}
}
