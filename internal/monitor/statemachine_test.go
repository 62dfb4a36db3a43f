package monitor_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stepmon/stepmon"
	"github.com/stepmon/stepmon/internal/monitor"
)

// taskState is the part of a Task state of statemachine.asl.json that these
// tests read.
type taskState struct {
	Resource       string `json:"Resource"`
	TimeoutSeconds int    `json:"TimeoutSeconds"`
	Retry          []struct {
		ErrorEquals     []string `json:"ErrorEquals"`
		IntervalSeconds int      `json:"IntervalSeconds"`
		BackoffRate     float64  `json:"BackoffRate"`
		MaxDelaySeconds int      `json:"MaxDelaySeconds"`
	} `json:"Retry"`
}

func definitionStates(t *testing.T) map[string]taskState {
	t.Helper()
	var def struct {
		States map[string]taskState `json:"States"`
	}
	if err := json.Unmarshal([]byte(stepmon.Definition), &def); err != nil {
		t.Fatalf("statemachine.asl.json: %v", err)
	}
	return def.States
}

// retried reports whether some retrier of s matches the error name.
func (s taskState) retried(name string) bool {
	for _, r := range s.Retry {
		if slices.Contains(r.ErrorEquals, name) || slices.Contains(r.ErrorEquals, "States.ALL") {
			return true
		}
	}
	return false
}

// The check and alert tasks retry what a slow target or a Lambda hiccup
// produces instead of failing the monitor, and their TimeoutSeconds lies
// just above the function's own timeout, so that States.Timeout means the
// function hung rather than cutting off a check still within its time.
func TestStateMachineTaskRetriesAndTimeouts(t *testing.T) {
	lambdaServiceErrors := []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
		"Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException"}
	taskErrors := []string{"TransientError", "States.Timeout", "Lambda.Unknown", "Sandbox.Timedout"}
	tests := []struct {
		state           string
		functionTimeout int // seconds, as infra/ configures the function
		wantTimeout     int
		wantRetried     []string
	}{
		{"Check", 90, 100, append(slices.Clone(lambdaServiceErrors), taskErrors...)},
		{"Alert", 75, 85, append(slices.Clone(lambdaServiceErrors), taskErrors...)},
		{"RecordFailure", 15, 0, lambdaServiceErrors},
	}
	states := definitionStates(t)
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.state] = true
		t.Run(tt.state, func(t *testing.T) {
			s, ok := states[tt.state]
			if !ok || s.Resource != "arn:aws:states:::lambda:invoke" {
				t.Fatalf("state %s: %+v, want a lambda:invoke task", tt.state, s)
			}
			if s.TimeoutSeconds != tt.wantTimeout {
				t.Errorf("TimeoutSeconds = %d, want %d", s.TimeoutSeconds, tt.wantTimeout)
			}
			if s.TimeoutSeconds != 0 && s.TimeoutSeconds <= tt.functionTimeout {
				t.Errorf("TimeoutSeconds %d is not above the function's timeout %d", s.TimeoutSeconds, tt.functionTimeout)
			}
			for _, name := range tt.wantRetried {
				if !s.retried(name) {
					t.Errorf("%s is not retried", name)
				}
			}
			if s.retried("PermanentError") && !s.retried("States.ALL") {
				t.Errorf("PermanentError is retried")
			}
		})
	}
	// Every lambda:invoke task is covered above.
	for name, s := range states {
		if s.Resource == "arn:aws:states:::lambda:invoke" && !covered[name] {
			t.Errorf("lambda:invoke task %s has no case", name)
		}
	}
}

// The alert task tells how long the state machine's remaining retries can
// wait (monitor.AlertRetryInterval...) from the Alert state's Retry for
// TransientError.
func TestAlertRetryDelaysMatchTheDefinition(t *testing.T) {
	for _, r := range definitionStates(t)["Alert"].Retry {
		if !slices.Contains(r.ErrorEquals, "TransientError") {
			continue
		}
		if got := time.Duration(r.IntervalSeconds) * time.Second; got != monitor.AlertRetryInterval {
			t.Errorf("IntervalSeconds %v, monitor.AlertRetryInterval %v", got, monitor.AlertRetryInterval)
		}
		if r.BackoffRate != monitor.AlertRetryBackoff {
			t.Errorf("BackoffRate %v, monitor.AlertRetryBackoff %v", r.BackoffRate, monitor.AlertRetryBackoff)
		}
		if got := time.Duration(r.MaxDelaySeconds) * time.Second; got != monitor.AlertRetryMaxDelay {
			t.Errorf("MaxDelaySeconds %v, monitor.AlertRetryMaxDelay %v", got, monitor.AlertRetryMaxDelay)
		}
		return
	}
	t.Fatal("Alert does not retry TransientError")
}
