package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// Check refuses a state without an instance id, which names no monitor
// (a malformed execution input), with a *PermanentError that says so,
// instead of checking, or expiring, a monitor it cannot write to.
func TestCheckRefusesAStateWithoutInstanceID(t *testing.T) {
	f := newFixture(t, nil)
	for _, tt := range []struct {
		name string
		in   monitor.TaskInput
	}{
		{"empty input", monitor.TaskInput{}},
		{"a spec but no instance id", monitor.TaskInput{State: monitor.State{StartedAt: tStart, ExpiresAt: tStart.Add(time.Hour), Spec: simulatedSpec(3, 60, 3600)}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.tasks.Check(context.Background(), tt.in)
			var pe *monitor.PermanentError
			if !errors.As(err, &pe) || err != error(pe) || !strings.Contains(pe.Message, "no instanceId") {
				t.Errorf("err = %#v, want an unwrapped *monitor.PermanentError saying the state has no instanceId", err)
			}
		})
	}
}

// A check adds its retry count ($$.State.RetryCount) to the generation's
// retries, which bring the rollover closer; a negative count, which no
// state machine passes, adds nothing rather than pushing the rollover
// further away.
func TestCheckCountsOnlyNonNegativeRetries(t *testing.T) {
	for _, tt := range []struct {
		retryCount int
		want       int
	}{
		{0, 0},
		{2, 2},
		{-5, 0},
	} {
		t.Run(fmt.Sprintf("retry count %d", tt.retryCount), func(t *testing.T) {
			f := newFixture(t, nil)
			s, err := f.tasks.Check(context.Background(), monitor.TaskInput{State: f.start(t, "r", simulatedSpec(10, 60, 3600)), RetryCount: tt.retryCount})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Check.GenerationRetries; got != tt.want {
				t.Errorf("generation retries = %d, want %d", got, tt.want)
			}
		})
	}
}
