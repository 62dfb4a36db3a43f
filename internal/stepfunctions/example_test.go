package stepfunctions_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/stepfunctions"
)

// oneExecution is a Step Functions that knows of one execution name.
type oneExecution struct{ started map[string]bool }

func (c *oneExecution) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	if c.started[*in.Name] {
		return nil, &types.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists: " + *in.Name)}
	}
	c.started[*in.Name] = true
	arn, _ := stepfunctions.ExecutionArn(*in.StateMachineArn, *in.Name)
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(arn)}, nil
}

func (c *oneExecution) StopExecution(context.Context, *sfn.StopExecutionInput, ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	return &sfn.StopExecutionOutput{}, nil
}

func (c *oneExecution) DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	return &sfn.DescribeExecutionOutput{Status: types.ExecutionStatusRunning}, nil
}

// A monitor's execution is named after its instance id, so starting the
// same id twice is the domain's conflict, which the API answers with 409.
func ExampleWorkflow_Start() {
	w := stepfunctions.New(&oneExecution{started: map[string]bool{}},
		"arn:aws:states:eu-west-1:123456789012:stateMachine:Stepmon-monitor")

	arn, err := w.Start(context.Background(), "nightly-build", []byte(`{}`))
	fmt.Println(arn, err)
	_, err = w.Start(context.Background(), "nightly-build", []byte(`{}`))
	fmt.Println(monitor.KindOf(err))
	// Output:
	// arn:aws:states:eu-west-1:123456789012:execution:Stepmon-monitor:nightly-build <nil>
	// conflict
}
