package local

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stepmon/stepmon/internal/stepfunctions"
)

// heldStarts is a Step Functions client whose StartExecution waits, before
// it starts the execution, until release is closed, and fails with its
// context's error when that is cancelled first.
type heldStarts struct {
	stepfunctions.Client
	arrived   chan struct{} // closed when a StartExecution arrives
	cancelled chan struct{} // closed when its context is cancelled while held
	release   chan struct{}
	once      sync.Once
}

func (c *heldStarts) StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	c.once.Do(func() { close(c.arrived) })
	select {
	case <-ctx.Done():
		close(c.cancelled)
		return nil, ctx.Err()
	case <-c.release:
	}
	return c.Client.StartExecution(ctx, in, optFns...)
}

// A client that gives up on POST /monitors while the start function is
// starting the execution does not cancel the function: API Gateway does
// not cancel a Lambda invocation when its client disconnects. The monitor
// starts and runs.
func TestStartOutlivesItsClient(t *testing.T) {
	held := &heldStarts{arrived: make(chan struct{}), cancelled: make(chan struct{}), release: make(chan struct{})}
	rt := newTestRuntimeThen(t, Config{}, func(rt *Runtime) {
		wf := rt.api.Workflow.(*stepfunctions.Workflow)
		held.Client = wf.Client
		wf.Client = held
	})
	base := rt.URL()

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/monitors", strings.NewReader(
		`{"instanceId":"gone-1","target":{"type":"simulated","completeAfterChecks":1,"outcome":"Completed"},"pollingIntervalSeconds":1}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	select {
	case <-held.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("StartExecution never called")
	}
	cancel() // the client gives up
	<-errc
	select {
	case <-held.cancelled:
		t.Error("the client's disconnect cancelled the start function's StartExecution")
	case <-time.After(500 * time.Millisecond):
	}
	close(held.release)

	rec := waitFinal(t, base+"/monitors/gone-1", 20*time.Second)
	if rec["runtimeStatus"] != "Completed" {
		t.Errorf("monitor ended %v, want Completed: %v", rec["runtimeStatus"], rec)
	}
}
