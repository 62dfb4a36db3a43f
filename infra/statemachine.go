package main

import (
	"fmt"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

// StateMachineName is the explicit name of the stack's state machine. The name
// is fixed at synth time so that ARNs built from it (for the functions' env and
// grants, and the self-start grant) need no reference to the state machine
// resource, which would close a dependency cycle: the state machine's
// definition references the functions.
func StateMachineName(stackName string) string {
	return stackName + "-monitor"
}

// stateMachineRef is how the functions and the state machine's own role
// name the state machine: by the name StateMachineName fixes at synth time
// and ARNs built from it, never by a reference to the resource.
type stateMachineRef struct {
	name          string
	arn           *string // the state machine's ARN
	executionsARN *string // matches the ARN of each of its executions
}

// newStateMachineRef returns the stateMachineRef of stack's state machine.
func newStateMachineRef(stack awscdk.Stack) stateMachineRef {
	name := StateMachineName(*stack.StackName())
	return stateMachineRef{
		name: name,
		arn: stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("states"),
			Resource:     jsii.String("stateMachine"),
			ResourceName: jsii.String(name),
			ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
		}),
		executionsARN: stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("states"),
			Resource:     jsii.String("execution"),
			ResourceName: jsii.String(name + ":*"),
			ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
		}),
	}
}

// newStateMachine defines the monitor state machine, named sm.name, from the
// repository's statemachine.asl.json with the check, alert and status
// functions of fns, its service integrations in the stack's partition, and
// its log group; its role may invoke those functions and start the machine's
// next generation, on behalf of this state machine only.
func newStateMachine(stack awscdk.Stack, cfg Config, fns Functions, sm stateMachineRef, removal awscdk.RemovalPolicy) (awsstepfunctions.StateMachine, error) {
	definition, err := LoadDefinition(filepath.Join(cfg.RepoRoot, "statemachine.asl.json"), map[string]string{
		"CheckFunctionArn":  *fns.Check.FunctionArn(),
		"AlertFunctionArn":  *fns.Alert.FunctionArn(),
		"StatusFunctionArn": *fns.Status.FunctionArn(),
	})
	if err != nil {
		return nil, err
	}
	definition = InPartition(definition, *stack.Partition())
	logs := awslogs.NewLogGroup(stack, jsii.String("StateMachineLogs"), &awslogs.LogGroupProps{
		LogGroupName:  stateMachineLogGroupName(stack, sm.name),
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: removal,
	})
	machine := awsstepfunctions.NewStateMachine(stack, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		StateMachineName: jsii.String(sm.name),
		StateMachineType: awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromString(jsii.String(definition)),
		TracingEnabled:   jsii.Bool(true),
		Logs: &awsstepfunctions.LogOptions{
			Destination: logs,
			// ERROR unless stateMachineLogLevel says otherwise: ALL logs
			// about 9 events per poll, tens of GB a day at 10,000
			// monitors polling every minute (docs/deploy.md).
			Level: awsstepfunctions.LogLevel(cfg.StateMachineLogLevel),
			// Inputs and outputs carry phone numbers and target URLs.
			IncludeExecutionData: jsii.Bool(false),
		},
	})
	if err := restrictStateMachineTrust(stack, machine, sm); err != nil {
		return nil, err
	}
	grantStateMachineAccess(machine, fns, sm)
	return machine, nil
}

// restrictStateMachineTrust lets Step Functions assume the state machine's
// role only on behalf of this state machine in this account: the
// confused-deputy conditions the Step Functions developer guide recommends
// for an execution role's trust policy. They are set on the role CDK made
// for the state machine so that a deployed stack updates its trust policy
// in place; a new role would replace the one the running monitors use.
func restrictStateMachineTrust(stack awscdk.Stack, machine awsstepfunctions.StateMachine, sm stateMachineRef) error {
	role, ok := machine.Role().Node().DefaultChild().(awsiam.CfnRole)
	if !ok {
		return fmt.Errorf("infra: the state machine's role is not a role of this stack")
	}
	role.AddPropertyOverride(jsii.String("AssumeRolePolicyDocument.Statement.0.Condition"), map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		"ArnLike":      map[string]any{"aws:SourceArn": sm.arn},
	})
	return nil
}

// grantStateMachineAccess allows the state machine to invoke the check,
// alert and status functions of fns and to start its own executions (each
// generation continues as a new one).
func grantStateMachineAccess(machine awsstepfunctions.StateMachine, fns Functions, sm stateMachineRef) {
	// Invoke grants on the exact function ARNs: grantInvoke would add
	// "<arn>:*" for versions and aliases, which the definition never calls.
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("InvokeMonitorFunctions"),
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{fns.Check.FunctionArn(), fns.Alert.FunctionArn(), fns.Status.FunctionArn()},
	}))
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ContinueAsNewExecution"),
		Actions:   jsii.Strings("states:StartExecution"),
		Resources: &[]*string{sm.arn},
	}))
}

// newTerminalStateRule defines the rule that sends the events of machine's
// failed, timed-out and aborted executions, terminal states the workflow
// cannot record itself, to the status function, and what it cannot deliver
// to deadLetters.
func newTerminalStateRule(stack awscdk.Stack, machine awsstepfunctions.StateMachine, status awslambda.Function, deadLetters awssqs.Queue) awsevents.Rule {
	return awsevents.NewRule(stack, jsii.String("TerminalStateRule"), &awsevents.RuleProps{
		Description: jsii.String("Records failed, timed-out and aborted monitor executions"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.states"),
			DetailType: jsii.Strings("Step Functions Execution Status Change"),
			Detail: &map[string]any{
				"stateMachineArn": []any{machine.StateMachineArn()},
				"status":          []any{"FAILED", "TIMED_OUT", "ABORTED"},
			},
		},
		// Retries cover delivery (throttling, Lambda unavailable); what is
		// still undelivered goes to the dead-letter queue.
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(status, &awseventstargets.LambdaFunctionProps{
			RetryAttempts:   jsii.Number(8),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
			DeadLetterQueue: deadLetters,
		})},
	})
}

// stateMachineLogGroupName is "/aws/vendedlogs/states/<smName>-<id>", where
// id is the last group of the UUID in the stack's id (AWS::StackId), which
// CloudFormation draws anew each time it creates the stack. The log group is
// retained when the stack is deleted; a fixed name would make the next
// create of the stack fail on the group left behind. The /aws/vendedlogs/
// prefix keeps Step Functions' log delivery from adding a statement per log
// group to the account's size-limited CloudWatch Logs resource policy.
func stateMachineLogGroupName(stack awscdk.Stack, smName string) *string {
	uuid := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), stack.StackId(), nil))
	suffix := awscdk.Fn_Select(jsii.Number(4), awscdk.Fn_Split(jsii.String("-"), uuid, nil))
	return awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("/aws/vendedlogs/states/" + smName + "-"), suffix})
}
