package engine_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stepmon/stepmon/internal/engine"
)

// Run a state machine with a Lambda task and a day-long Wait on the
// virtual clock: the execution finishes at once.
func Example() {
	disp := engine.NewDispatcher()
	engine.RegisterLambda(disp, func(_ context.Context, inv engine.Invocation) ([]byte, error) {
		return []byte(`{"checked": true}`), nil // stands in for the function inv.FunctionName
	})
	eng := engine.New(engine.Options{
		Dispatcher: disp,
		Clock:      engine.NewVirtualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
	})
	defer eng.Close()

	ctx := context.Background()
	sm, err := eng.CreateStateMachine(ctx, "monitor", `{
	  "StartAt": "Check",
	  "States": {
	    "Check": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
	              "Parameters": {"FunctionName": "check", "Payload.$": "$"}, "OutputPath": "$.Payload", "Next": "Wait"},
	    "Wait": {"Type": "Wait", "Seconds": 86400, "End": true}
	  }
	}`, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	x, err := eng.StartExecution(ctx, sm.Arn, "first", `{}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	done, err := eng.Wait(ctx, x.Arn)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(done.Status, done.Output, done.StopDate.Sub(done.StartDate))
	history, _ := eng.History(ctx, x.Arn)
	for _, ev := range history {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%d %s %s", ev.ID, ev.Type, ev.StateName())))
	}
	// Output:
	// SUCCEEDED {"checked":true} 24h0m0s
	// 1 ExecutionStarted
	// 2 TaskStateEntered Check
	// 3 TaskScheduled
	// 4 TaskStarted
	// 5 TaskSucceeded
	// 6 TaskStateExited Check
	// 7 WaitStateEntered Wait
	// 8 WaitStateExited Wait
	// 9 ExecutionSucceeded
}
