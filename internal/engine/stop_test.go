package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
)

// A busy execution commits checkpoints while StopExecution runs; the
// ExecutionAborted event must still continue the history without a
// duplicate id, on every store.
func TestStopWhileCommitting(t *testing.T) {
	const def = `{"StartAt":"Spin","States":{
		"Spin":{"Type":"Pass","Next":"Again"},
		"Again":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"Spin"},
		"Done":{"Type":"Succeed"}}}`
	eng := newEngine(t, engine.Options{CheckpointEvents: 2})
	sm := create(t, eng, def)
	ctx := context.Background()
	const n = 40
	arns := make([]string, n)
	for i := range arns {
		x, err := eng.StartExecution(ctx, sm.Arn, fmt.Sprintf("spin-%d", i), `{}`)
		if err != nil {
			t.Fatal(err)
		}
		arns[i] = x.Arn
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, arn := range arns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := eng.StopExecution(ctx, arn, "Stopped", "test"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("StopExecution: %v", err)
	}
	for _, arn := range arns {
		x, err := eng.Wait(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		if x.Status != engine.StatusAborted {
			t.Errorf("%s: status %s, want ABORTED", arn, x.Status)
		}
		types := eventTypes(t, eng, arn) // checks ids 1..n without gaps or repeats
		if last := types[len(types)-1]; last != "ExecutionAborted" {
			t.Errorf("%s: last event %s, want ExecutionAborted", arn, last)
		}
	}
}
