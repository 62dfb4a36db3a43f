package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/engine"
)

// endedStore is an engine store whose executions have all ended ABORTED.
type endedStore struct {
	engine.Store
}

func (endedStore) GetExecution(_ context.Context, arn string) (engine.Execution, error) {
	return engine.Execution{Arn: arn, Name: arn, Status: engine.StatusAborted}, nil
}

// heldFuncs is a status function that takes the notices only once
// released, and counts each execution's deliveries.
type heldFuncs struct {
	release chan struct{}

	mu        sync.Mutex
	delivered map[string]int
}

func (f *heldFuncs) Invoke(ctx context.Context, _ string, payload []byte) ([]byte, error) {
	<-f.release
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Resources) != 1 {
		return nil, fmt.Errorf("status change event %s: %v", payload, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered[ev.Resources[0]]++
	return []byte(`{}`), nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A burst of ends far larger than the workers can deliver at once (the
// deletion of the state machine failing every waiting monitor) waits in
// the notifier's queue, not in a goroutine per notice, and every one of
// them is delivered once the status function takes them.
func TestNotifierBurstIsQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &heldFuncs{release: make(chan struct{}), delivered: map[string]int{}}
		n := newNotifier(f, StatusFunction, quietLogger())
		n.store = endedStore{}
		n.start()
		defer n.stop()
		synctest.Wait()
		before := runtime.NumGoroutine()
		const ends = 10000
		for i := range ends {
			n.executionEnded(fmt.Sprintf("x-%d", i), engine.ExecutionUpdate{Status: engine.StatusAborted})
		}
		synctest.Wait()
		if got := runtime.NumGoroutine() - before; got > 10 {
			t.Errorf("%d ends waiting for delivery: %d more goroutines, want a handful at most", ends, got)
		}
		close(f.release)
		synctest.Wait()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.delivered) != ends {
			t.Errorf("%d distinct ends delivered, want %d", len(f.delivered), ends)
		}
	})
}
