package main

// This file holds the stack's outline, NewStepmonStack, and the values the
// root module's tests read from its source (internal/testtool's InfraValues
// and InfraActions parse infra/stack.go): IndexName, ListIndexAttributes,
// the function timeouts, TableActions and IndexActions. The parts are
// defined in storage.go (the table, the topics and the dead-letter queue),
// functions.go, statemachine.go (with the terminal-state rule), api.go and
// alarms.go.

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StackProps configures NewStepmonStack.
type StackProps struct {
	awscdk.StackProps
	Config Config
	// CodeDirs maps each of FunctionNames to a directory holding its
	// "bootstrap" executable (see BuildLambdas).
	CodeDirs map[string]string
}

// Stack is the deployed stepmon service, with handles on the parts that tests
// and callers look at.
type Stack struct {
	awscdk.Stack
	Table        awsdynamodb.Table
	Functions    Functions
	StateMachine awsstepfunctions.StateMachine
	API          awsapigateway.RestApi
	// AccessLogs is the API's access log group.
	AccessLogs awslogs.LogGroup
	AlertTopic awssns.Topic
	// AlarmTopic receives the stack's CloudWatch alarms: operators
	// subscribe to it, apart from the monitors' alerts on AlertTopic.
	AlarmTopic awssns.Topic
	// TerminalStateRule sends failed, timed-out and aborted executions'
	// events to the status function.
	TerminalStateRule awsevents.Rule
	// DeadLetters holds the terminal-state events that were not recorded:
	// those the rule could not deliver and those the status function failed
	// on after Lambda's retries.
	DeadLetters awssqs.Queue
}

// IndexName is the table's global secondary index, keyed gsi1pk/gsi1sk, that
// lists monitors by creation time (internal/dynamostore's IndexName). It
// projects ListIndexAttributes.
const IndexName = "byCreatedV2"

// PreviousIndexName is the list index of earlier versions, which projected
// every attribute. DynamoDB cannot change an index's projection, and
// CloudFormation cannot delete one index and create another in one update,
// so a stack that has it is upgraded in two deploys: the first with
// keepPreviousListIndex, which keeps it and adds IndexName, the second
// without, which deletes it (docs/deploy.md).
const PreviousIndexName = "byCreated"

// ListIndexAttributes are the non-key attributes IndexName projects:
// exactly those a listed record is read from (internal/dynamostore's
// ListAttributes, which a test there compares with this list; this module
// cannot import it). The events, the check count and ttl are left out, so
// that writing events writes only the count of pending ones (pe) to the
// index.
var ListIndexAttributes = []string{
	"id", "nm", "st", "inp", "cs", "out", "ct", "lut", "arn", "exp",
	"pa", "als", "alc", "aln", "alt", "ald", "alm", "ale", "pe",
}

// Function timeouts, in seconds. Each covers the longest run the function's
// own code allows, with margin for its DynamoDB calls (the SDK retries
// throttled ones with backoff) and a secret read on a cold start. The state
// machine's task TimeoutSeconds must stay above the check and alert values,
// or a slow but healthy invocation is cut off as States.Timeout.
const (
	// StartTimeoutSeconds: a PutItem, a StartExecution and an UpdateItem.
	StartTimeoutSeconds = 15
	// CheckTimeoutSeconds: one HTTP check may wait up to 60 s for its target
	// (requestTimeoutSeconds at most monitor.MaxRequestTimeout) and a GitHub
	// check is bounded at 60 s (checks.GitHubOptions.CheckTimeout), before
	// and after which the function reads and writes the record: 60 s + 30 s.
	CheckTimeoutSeconds = 90
	// AlertTimeoutSeconds: up to 3 send attempts (monitor.Tasks.SendAttempts)
	// of at most 15 s each (SNS and Twilio; webhooks 10 s), the first one
	// after its secret's read (5 s at most, awssecret.ReadTimeout; later
	// attempts find it cached, and a read that fails fails its attempt
	// without a send), 1 s and 2 s pauses between them, and two writes per
	// attempt plus the final one: 53 s of sending + 22 s for the writes and
	// a cold start. A send's record, failed or sent, is tried again after a failed
	// write (pauses of 1, 2 and 4 s, monitor.Tasks.recordSend) only
	// in that slack: the tries stop 5 s before the timeout and no pause
	// starts that would end past it, so a slow table costs the run its
	// retries, never the timeout. A longer pause a destination asks for
	// (Retry-After) is made only when it leaves 30 s for the attempt after
	// it (monitor.Tasks.Alert), so it never costs the timeout either.
	AlertTimeoutSeconds = 75
	// StatusTimeoutSeconds: a few reads and writes, and StopExecution.
	StatusTimeoutSeconds = 15
)

// TableActions are the DynamoDB actions each function calls on the table:
// internal/dynamostore, called through monitor.API for start and status and
// monitor.Tasks for check and alert. The functions' tests in the root
// module record the requests each function's store sends and compare them
// with this map (lambdatest.WantGranted). No function scans, batches or
// describes the table.
var TableActions = map[string][]string{
	// Start: Create (PutItem), SetExecution (UpdateItem), Delete to release
	// the claim when the execution did not start (DeleteItem), and Get when
	// the monitor was terminated while starting (GetItem).
	"start": {"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"},
	// Check: ConsumeEvents (GetItem, then UpdateItem), RecordCheck and
	// Finish (UpdateItem), and Get after a check lost a race (GetItem).
	"check": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
	// Alert: ClaimAlert, CompleteAlert and Finish, all conditional
	// UpdateItems whose return values carry what the task reads, and Get
	// when the record of a failed send is refused as a conflict (its
	// answer was lost and the retried write finds it applied) (GetItem).
	"alert": {"dynamodb:GetItem", "dynamodb:UpdateItem"},
	// Status routes and terminal-state events: Get (GetItem); Terminate,
	// RaiseEvent and RecordExecutionEnd (UpdateItem); Purge (DeleteItem).
	"status": {"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
}

// IndexActions are the DynamoDB actions each function calls on the list
// index: only status lists monitors (Store.List queries it).
var IndexActions = map[string][]string{
	"status": {"dynamodb:Query"},
}

// NewStepmonStack defines the whole service: status table, the four functions,
// the monitor state machine, the REST API, the terminal-state rule, the alert
// topic and the alarms. Each step defines its constructs directly on the
// stack, under the ids deployed stacks have: a changed id is a changed
// logical ID, which CloudFormation deploys as a new resource in place of
// the old one (a new table, topic or state machine under running monitors).
func NewStepmonStack(scope constructs.Construct, id string, props *StackProps) (*Stack, error) {
	cfg := props.Config
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("infra: %w", err)
	}
	for _, name := range FunctionNames {
		if props.CodeDirs[name] == "" {
			return nil, fmt.Errorf("infra: no code directory for function %s", name)
		}
	}

	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	s := &Stack{Stack: stack}
	removal := removalPolicy(cfg)
	sm := newStateMachineRef(stack)

	var listIndex string
	s.Table, listIndex = newStatusTable(stack, cfg, removal)

	var key awskms.Key
	s.AlertTopic, s.AlarmTopic, key = newTopics(stack, removal)
	s.DeadLetters = newDeadLetterQueue(stack, removal)

	envs := functionEnvironments(cfg, s.Table, s.AlertTopic, sm, listIndex, metricsNamespace(s.Stack))
	s.Functions = newFunctions(stack, cfg, props.CodeDirs, envs, s.DeadLetters, removal)
	grantTableAccess(s.Functions, s.Table, listIndex)
	grantExecutionAccess(s.Functions.Start, s.Functions.Status, sm)
	grantGitHubToken(s.Functions.Check, cfg)
	grantAlertSending(s.Functions.Alert, cfg, s.AlertTopic, key)

	machine, err := newStateMachine(stack, cfg, s.Functions, sm, removal)
	if err != nil {
		return nil, err
	}
	s.StateMachine = machine

	s.TerminalStateRule = newTerminalStateRule(stack, machine, s.Functions.Status, s.DeadLetters)
	s.API, s.AccessLogs = newAPI(stack, cfg, s.Functions.Start, s.Functions.Status, removal)
	addAlarms(s)
	addOutputs(s)
	addNagSuppressions(s, cfg)
	return s, nil
}

// removalPolicy is what becomes of the stack's data (the table, the key, the
// queue and the log groups) when the stack or the resource goes: it is
// retained, unless cfg.DestroyData.
func removalPolicy(cfg Config) awscdk.RemovalPolicy {
	if cfg.DestroyData {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}

// addOutputs defines the stack's outputs: the API's URL and the names and
// ARNs operators and callers need.
func addOutputs(s *Stack) {
	awscdk.NewCfnOutput(s.Stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("Base URL of the REST API; POST monitors to <ApiUrl>monitors"),
		Value:       s.API.Url(),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("StateMachineArn"), &awscdk.CfnOutputProps{
		Value: s.StateMachine.StateMachineArn(),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("TableName"), &awscdk.CfnOutputProps{
		Value: s.Table.TableName(),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("AlertTopicArn"), &awscdk.CfnOutputProps{
		Value: s.AlertTopic.TopicArn(),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{
		Value: s.AlarmTopic.TopicArn(),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("StatusFunctionName"), &awscdk.CfnOutputProps{
		Description: jsii.String("The status function, which records terminal-state events: replay a dead letter to it (docs/deploy.md)"),
		Value:       s.Functions.Status.FunctionName(),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("DeadLetterQueueUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("The queue of terminal-state events that were not recorded"),
		Value:       s.DeadLetters.QueueUrl(),
	})
	// Where the on-call looks when an alarm fires (docs/operations.md):
	// the log groups' names are CloudFormation's otherwise.
	for _, f := range s.Functions.All() {
		awscdk.NewCfnOutput(s.Stack, jsii.String(title(f.Name)+"LogGroup"), &awscdk.CfnOutputProps{
			Description: jsii.String("Log group of the " + f.Name + " function (docs/operations.md)"),
			Value:       f.Function.LogGroup().LogGroupName(),
		})
	}
	awscdk.NewCfnOutput(s.Stack, jsii.String("ApiAccessLogGroup"), &awscdk.CfnOutputProps{
		Description: jsii.String("Log group of the API's access log: a line per request, with API Gateway's own refusals (docs/operations.md)"),
		Value:       s.AccessLogs.LogGroupName(),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("StateMachineLogGroup"), &awscdk.CfnOutputProps{
		Description: jsii.String("Log group of the state machine: failed executions, at the default level ERROR (docs/operations.md)"),
		Value:       stateMachineLogGroupName(s.Stack, StateMachineName(*s.Stack.StackName())),
	})
}
