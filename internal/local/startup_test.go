package local

import (
	"context"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/monitor"
)

// gatedList is a status store whose first List waits for release after
// saying so on entered.
type gatedList struct {
	monitor.Store
	entered, release chan struct{}
}

func (g *gatedList) List(ctx context.Context, q monitor.ListQuery) (monitor.ListPage, error) {
	if g.entered != nil {
		close(g.entered)
		g.entered = nil
		<-g.release
	}
	return g.Store.List(ctx, q)
}

// A Shutdown that comes while Serve is still starting (mending the
// claims a crash left: a Ctrl-C right after the banner) waits for the
// start-up instead of closing the stores under it; both return nil. Serve
// failed with "database is closed" before.
func TestShutdownDuringStartUp(t *testing.T) {
	ctx := context.Background()
	rt, err := New(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	gate := &gatedList{Store: rt.statusStore, entered: make(chan struct{}), release: make(chan struct{})}
	entered := gate.entered
	rt.statusStore = gate
	served := make(chan error, 1)
	go func() { served <- rt.Serve(ctx) }()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- rt.Shutdown(ctx) }()
	select {
	case err := <-shut:
		// Not waiting for the start-up: let it go on against what the
		// shutdown closed.
		close(gate.release)
		t.Errorf("Shutdown returned (%v) while Serve was starting", err)
	case <-time.After(200 * time.Millisecond):
		close(gate.release)
		if err := <-shut; err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after a Shutdown during its start-up: %v", err)
	}
}
