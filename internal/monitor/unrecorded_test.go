package monitor

import (
	"fmt"
	"testing"
	"time"
)

// The sends kept for a retry to record are bounded, the oldest dropped
// first: a send whose task was never retried is not kept for ever, nor
// does it stop newer ones from being kept.
func TestUnrecordedSendsBounded(t *testing.T) {
	var tasks Tasks
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	state := func(i int) State { return State{InstanceID: fmt.Sprintf("m%d", i), StartedAt: t0} }
	for i := range maxUnrecorded + 1 {
		tasks.rememberUnrecorded(state(i), 1, AlertResult{Sent: true, At: t0.Add(time.Duration(i) * time.Second)})
	}
	if n := len(tasks.unrecorded); n != maxUnrecorded {
		t.Errorf("%d sends kept, want %d", n, maxUnrecorded)
	}
	if _, ok := tasks.takeUnrecorded(state(0), 1); ok {
		t.Errorf("the oldest send is kept, want it dropped")
	}
	if res, ok := tasks.takeUnrecorded(state(maxUnrecorded), 1); !ok || !res.Sent {
		t.Errorf("the newest send: %+v, %v; want it kept", res, ok)
	}
	if _, ok := tasks.takeUnrecorded(state(maxUnrecorded), 1); ok {
		t.Errorf("a send taken is still kept, want it forgotten")
	}
}
