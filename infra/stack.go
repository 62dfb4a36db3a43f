package main

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
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
	Functions    map[string]awslambda.Function
	StateMachine awsstepfunctions.StateMachine
	API          awsapigateway.RestApi
	AlertTopic   awssns.Topic
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
	// a cold start. A failed send's record is tried again after a failed
	// write (pauses of 1, 2 and 4 s, monitor.Tasks.recordFailedSend) only
	// in that slack: the tries stop 5 s before the timeout and no pause
	// starts that would end past it, so a slow table costs the run its
	// retries, never the timeout.
	AlertTimeoutSeconds = 75
	// StatusTimeoutSeconds: a few reads and writes, and StopExecution.
	StatusTimeoutSeconds = 15
)

// DeadLetterRetentionDays is how long an unrecorded terminal-state event
// waits in the dead-letter queue for an operator to replay it: SQS's
// maximum, so that an alarm raised before a long weekend is not lost.
const DeadLetterRetentionDays = 14

// StateMachineName is the explicit name of the stack's state machine. The name
// is fixed at synth time so that ARNs built from it (for the functions' env and
// grants, and the self-start grant) need no reference to the state machine
// resource, which would close a dependency cycle: the state machine's
// definition references the functions.
func StateMachineName(stackName string) string {
	return stackName + "-monitor"
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

	envs := functionEnvironments(cfg, s.Table, s.AlertTopic, sm, listIndex)
	s.Functions = newFunctions(stack, cfg, props.CodeDirs, envs, s.DeadLetters, removal)
	grantTableAccess(s.Functions, s.Table, listIndex)
	grantExecutionAccess(s.Functions["start"], s.Functions["status"], sm)
	grantGitHubToken(s.Functions["check"], cfg)
	grantAlertSending(s.Functions["alert"], cfg, s.AlertTopic, key)

	machine, err := newStateMachine(stack, cfg, s.Functions, sm, removal)
	if err != nil {
		return nil, err
	}
	s.StateMachine = machine

	s.TerminalStateRule = newTerminalStateRule(stack, machine, s.Functions["status"], s.DeadLetters)
	s.API = newAPI(stack, cfg, s.Functions["start"], s.Functions["status"], removal)
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

// newStatusTable defines the table of status records, with the list index
// (IndexName, and PreviousIndexName too while cfg.KeepPreviousListIndex
// keeps it), and returns it with the name of the index the status function
// lists monitors with: the previous one while it is kept.
func newStatusTable(stack awscdk.Stack, cfg Config, removal awscdk.RemovalPolicy) (table awsdynamodb.Table, listIndex string) {
	table = awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String("ttl"),
		RemovalPolicy:       removal,
		// RETAIN keeps the table when the stack goes; deletion protection
		// also refuses a DeleteTable from the console or CLI. Deleting the
		// table on purpose means turning it off first (docs/deploy.md).
		// A destroyData stack's table is deleted with the stack.
		DeletionProtection: jsii.Bool(!cfg.DestroyData),
	})
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:        jsii.String(IndexName),
		PartitionKey:     &awsdynamodb.Attribute{Name: jsii.String("gsi1pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:          &awsdynamodb.Attribute{Name: jsii.String("gsi1sk"), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType:   awsdynamodb.ProjectionType_INCLUDE,
		NonKeyAttributes: jsii.Strings(ListIndexAttributes...),
	})
	if !cfg.KeepPreviousListIndex {
		return table, IndexName
	}
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(PreviousIndexName),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String("gsi1pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String("gsi1sk"), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	return table, PreviousIndexName
}

// newTopics defines the alert topic, to which monitors alert, and the alarm
// topic, to which the stack's alarms go, both encrypted with the returned
// key. CloudWatch alarms may use that key (the AWS-managed SNS key does not
// let CloudWatch publish).
func newTopics(stack awscdk.Stack, removal awscdk.RemovalPolicy) (alerts, alarms awssns.Topic, key awskms.Key) {
	key = awskms.NewKey(stack, jsii.String("AlertKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the stepmon alert and alarm topics"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}), nil)
	alerts = awssns.NewTopic(stack, jsii.String("AlertTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("stepmon alerts"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// The alarms have a topic of their own: a monitor's alert subscribers
	// are not operators, and operators need not hear every monitor.
	alarms = awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("stepmon operational alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	alarms.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{alarms.TopicArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}))
	return alerts, alarms, key
}

// newDeadLetterQueue defines the queue of the terminal-state events that
// were not recorded. Both senders (the terminal-state rule and Lambda, for
// the status function's asynchronous invocations) put the original event in
// the queue (with the error in message attributes), so a message can be
// replayed by invoking the status function with its body. SQS-managed
// encryption, which EventBridge and Lambda can write to without a key
// policy.
func newDeadLetterQueue(stack awscdk.Stack, removal awscdk.RemovalPolicy) awssqs.Queue {
	return awssqs.NewQueue(stack, jsii.String("TerminalStateDeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(DeadLetterRetentionDays)),
		RemovalPolicy:   removal,
	})
}

// functionEnvironments returns the environment of each function, by name:
// the table's name for all, and what each needs of cfg, the alert topic,
// the state machine and the list index.
func functionEnvironments(cfg Config, table awsdynamodb.Table, alertTopic awssns.Topic, sm stateMachineRef, listIndex string) map[string]map[string]*string {
	tableEnv := map[string]*string{"TABLE_NAME": table.TableName()}
	env := func(extra map[string]*string) map[string]*string {
		m := map[string]*string{}
		for k, v := range tableEnv {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	checkEnv := map[string]*string{"ALLOW_PRIVATE_TARGETS": jsii.String(fmt.Sprint(cfg.AllowPrivateTargets))}
	if cfg.GitHubTokenSecretARN != "" {
		checkEnv["GITHUB_TOKEN_SECRET_ARN"] = jsii.String(cfg.GitHubTokenSecretARN)
	}
	if cfg.GitHubAPIURL != "" {
		checkEnv["GITHUB_API_URL"] = jsii.String(cfg.GitHubAPIURL)
	}
	// The private prefixes HTTP checks and webhooks may reach (the
	// functions' egress guard; loopback and link-local stay refused).
	if len(cfg.AllowedTargetPrefixes) > 0 {
		checkEnv["ALLOWED_TARGET_PREFIXES"] = jsii.String(strings.Join(cfg.AllowedTargetPrefixes, ","))
	}
	// The topics a monitor may alert to (lambdas/internal/lambdaenv): the
	// stack's and the alertTopicArns context. The start function refuses
	// other topics; the alert function refuses to publish to them.
	topicEnv := map[string]*string{"ALERT_TOPIC_ARN": alertTopic.TopicArn()}
	if len(cfg.AlertTopicARNs) > 0 {
		topicEnv["ALERT_TOPIC_ARNS"] = jsii.String(strings.Join(cfg.AlertTopicARNs, ","))
	}
	// The channels that can send a text message: the start function
	// refuses a phone alert on another, which could only fail at send time.
	var sms []string
	if cfg.AllowDirectSMS {
		sms = append(sms, "sns")
	}
	if cfg.TwilioSecretARN != "" {
		sms = append(sms, "twilio")
	}
	if len(sms) == 0 {
		sms = []string{"none"}
	}
	startEnv := map[string]*string{"STATE_MACHINE_ARN": sm.arn, "SMS_CHANNELS": jsii.String(strings.Join(sms, ",")),
		// The start refuses a target or webhook URL naming an address
		// the check and alert functions' egress guard would refuse.
		"ALLOW_PRIVATE_TARGETS": jsii.String(fmt.Sprint(cfg.AllowPrivateTargets))}
	maps.Copy(startEnv, topicEnv)
	alertEnv := map[string]*string{
		// Webhook alerts go through the same egress guard as HTTP checks.
		"ALLOW_PRIVATE_TARGETS": jsii.String(fmt.Sprint(cfg.AllowPrivateTargets)),
	}
	maps.Copy(alertEnv, topicEnv)
	if v, ok := checkEnv["ALLOWED_TARGET_PREFIXES"]; ok {
		alertEnv["ALLOWED_TARGET_PREFIXES"] = v
		startEnv["ALLOWED_TARGET_PREFIXES"] = v
	}
	if cfg.TwilioSecretARN != "" {
		alertEnv["TWILIO_SECRET_ARN"] = jsii.String(cfg.TwilioSecretARN)
	}
	if cfg.WebhookSecretARN != "" {
		alertEnv["WEBHOOK_SECRET_ARN"] = jsii.String(cfg.WebhookSecretARN)
	}
	return map[string]map[string]*string{
		"start":  env(startEnv),
		"check":  env(checkEnv),
		"alert":  env(alertEnv),
		"status": env(map[string]*string{"STATE_MACHINE_ARN": sm.arn, "LIST_INDEX": jsii.String(listIndex)}),
	}
}

// newFunctions defines the four functions of FunctionNames, by name, each
// from its directory in codeDirs with its environment in envs, and attaches
// the check and alert functions to the deployment's VPC if cfg names one.
// The status function's failed asynchronous invocations go to deadLetters.
func newFunctions(stack awscdk.Stack, cfg Config, codeDirs map[string]string, envs map[string]map[string]*string, deadLetters awssqs.Queue, removal awscdk.RemovalPolicy) map[string]awslambda.Function {
	// Only the check function may have reserved concurrency, and only on
	// request: checks (up to 60 s each) are what can take the account's
	// whole concurrency from the other functions, and Lambda refuses a
	// reservation that leaves the account less than its minimum of
	// unreserved concurrency, so that reserving any fails the deploy on a
	// new account whose limit is still 10.
	specs := []struct {
		name, description string
		timeout           float64
		reserved          int
	}{
		{"start", "POST /monitors: validates, claims the instance id, starts the execution", StartTimeoutSeconds, 0},
		{"check", "One check of a monitor's target; writes the custom status", CheckTimeoutSeconds, cfg.CheckReservedConcurrency},
		{"alert", "Sends a monitor's alert once (SNS topic, SMS through SNS or Twilio, or webhook)", AlertTimeoutSeconds, 0},
		{"status", "Status, list, terminate, raiseEvent and purge routes; terminal-state events", StatusTimeoutSeconds, 0},
	}
	fns := map[string]awslambda.Function{}
	for _, f := range specs {
		var dlq awssqs.IQueue
		if f.name == "status" {
			// Its only asynchronous invocations are the rule's: an event
			// it still fails on after Lambda's two retries lands here.
			dlq = deadLetters
		}
		env := envs[f.name]
		fn := newFunction(stack, f.name, f.description, codeDirs[f.name], f.timeout, &env, dlq, removal)
		if f.reserved > 0 {
			fn.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(jsii.Number(f.reserved))
		}
		fns[f.name] = fn
	}
	if len(cfg.VPCSubnetIDs) > 0 {
		for _, fn := range []awslambda.Function{fns["check"], fns["alert"]} {
			attachToVPC(stack, fn, cfg.VPCSubnetIDs, cfg.VPCSecurityGroupIDs)
		}
	}
	return fns
}

// grantTableAccess allows each function its TableActions on table and its
// IndexActions on the list index named listIndex (see tableAccess).
func grantTableAccess(fns map[string]awslambda.Function, table awsdynamodb.Table, listIndex string) {
	for _, name := range FunctionNames {
		for _, st := range tableAccess(table, name, listIndex) {
			fns[name].AddToRolePolicy(st)
		}
	}
}

// grantExecutionAccess allows the start function to start executions of the
// state machine, and the start and status functions to describe and stop
// them.
func grantExecutionAccess(start, status awslambda.Function, sm stateMachineRef) {
	start.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("states:StartExecution"),
		Resources: &[]*string{sm.arn},
	}))
	// Terminate and purge stop executions; so does start, for a monitor
	// terminated while it was starting (monitor.API.Start).
	for _, fn := range []awslambda.Function{start, status} {
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("states:DescribeExecution", "states:StopExecution"),
			Resources: &[]*string{sm.executionsARN},
		}))
	}
}

// grantGitHubToken allows the check function to read the GitHub token
// secret, if cfg names one.
func grantGitHubToken(check awslambda.Function, cfg Config) {
	if cfg.GitHubTokenSecretARN != "" {
		check.AddToRolePolicy(readSecret(cfg.GitHubTokenSecretARN))
	}
}

// grantAlertSending allows the alert function to send alerts: to publish to
// alertTopic (encrypted with key) and to the topics of cfg.AlertTopicARNs,
// to read the Twilio and webhook secrets cfg names, and, with
// cfg.AllowDirectSMS, to send text messages through SNS.
func grantAlertSending(alert awslambda.Function, cfg Config, alertTopic awssns.Topic, key awskms.Key) {
	// What topic.GrantPublish grants, without the kms:GenerateDataKey* wildcard.
	alert.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("PublishAlerts"),
		Actions:   jsii.Strings("sns:Publish"),
		Resources: &[]*string{alertTopic.TopicArn()},
	}))
	alert.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptAlerts"),
		Actions:   jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
		Resources: &[]*string{key.KeyArn()},
	}))
	for _, arn := range []string{cfg.TwilioSecretARN, cfg.WebhookSecretARN} {
		if arn != "" {
			alert.AddToRolePolicy(readSecret(arn))
		}
	}
	if len(cfg.AlertTopicARNs) > 0 {
		alert.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("PublishToNamedTopics"),
			Actions:   jsii.Strings("sns:Publish"),
			Resources: jsii.Strings(cfg.AlertTopicARNs...),
		}))
	}
	if cfg.AllowDirectSMS {
		alert.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("DirectSmsToPhoneNumbers"),
			Actions:   jsii.Strings("sns:Publish"),
			Resources: jsii.Strings("*"),
		}))
	}
}

// newStateMachine defines the monitor state machine, named sm.name, from the
// repository's statemachine.asl.json with the check, alert and status
// functions of fns, and its log group; its role may invoke those functions
// and start the machine's next generation, on behalf of this state machine
// only.
func newStateMachine(stack awscdk.Stack, cfg Config, fns map[string]awslambda.Function, sm stateMachineRef, removal awscdk.RemovalPolicy) (awsstepfunctions.StateMachine, error) {
	definition, err := LoadDefinition(filepath.Join(cfg.RepoRoot, "statemachine.asl.json"), map[string]string{
		"CheckFunctionArn":  *fns["check"].FunctionArn(),
		"AlertFunctionArn":  *fns["alert"].FunctionArn(),
		"StatusFunctionArn": *fns["status"].FunctionArn(),
	})
	if err != nil {
		return nil, err
	}
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
func grantStateMachineAccess(machine awsstepfunctions.StateMachine, fns map[string]awslambda.Function, sm stateMachineRef) {
	// Invoke grants on the exact function ARNs: grantInvoke would add
	// "<arn>:*" for versions and aliases, which the definition never calls.
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("InvokeMonitorFunctions"),
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{fns["check"].FunctionArn(), fns["alert"].FunctionArn(), fns["status"].FunctionArn()},
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
		Value:       s.Functions["status"].FunctionName(),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("DeadLetterQueueUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("The queue of terminal-state events that were not recorded"),
		Value:       s.DeadLetters.QueueUrl(),
	})
}

// alarm is one operator alarm: it fires when its metric reaches 1 in a
// 5-minute period.
type alarm struct {
	id, description string
	metric          awscloudwatch.IMetric
}

// tableOperations pairs each DynamoDB action that TableActions and
// IndexActions may grant with its operation in the ThrottledRequests metric.
var tableOperations = []struct {
	action    string
	operation awsdynamodb.Operation
}{
	{"dynamodb:GetItem", awsdynamodb.Operation_GET_ITEM},
	{"dynamodb:PutItem", awsdynamodb.Operation_PUT_ITEM},
	{"dynamodb:UpdateItem", awsdynamodb.Operation_UPDATE_ITEM},
	{"dynamodb:DeleteItem", awsdynamodb.Operation_DELETE_ITEM},
	{"dynamodb:Query", awsdynamodb.Operation_QUERY},
}

// addAlarms defines the operator alarms, each notifying the alarm topic, one
// per metric (and per function for the Lambda metrics).
func addAlarms(s *Stack) {
	alarms := []alarm{
		{"ExecutionsFailedAlarm", "A monitor execution failed", s.StateMachine.MetricFailed(nil)},
		// The definition sets no execution TimeoutSeconds, and each
		// generation continues as new long before Step Functions' one-year
		// limit (monitor.MaxGenerationAge), so this fires only if that
		// fails: a TIMED_OUT execution is not in ExecutionsFailed.
		{"ExecutionsTimedOutAlarm", "A monitor execution timed out (Step Functions' one-year limit, or an execution TimeoutSeconds)",
			s.StateMachine.MetricTimedOut(nil)},
		{"DeadLettersAlarm", "A failed, timed-out or aborted execution was not recorded; its event is in the dead-letter queue",
			s.DeadLetters.MetricApproximateNumberOfMessagesVisible(nil)},
		// AWS/Events FailedInvocations counts invocations of the target
		// that failed permanently (after the rule's retries): the event
		// then goes to the dead-letter queue, which alarms on its own.
		// What the queue never sees, an event EventBridge could not put
		// there either (permissions, the queue gone, a size limit), is
		// counted apart, in InvocationsFailedToBeSentToDlq: that event is
		// lost.
		{"TerminalStateRuleFailedAlarm", "EventBridge gave up delivering a terminal-state event to the status function after its retries; " +
			"the event goes to the dead-letter queue (unless TerminalStateEventsLostAlarm fires too)",
			ruleMetric(s.TerminalStateRule, "FailedInvocations")},
		{"TerminalStateEventsLostAlarm", "EventBridge could not put an undelivered terminal-state event in the dead-letter queue: " +
			"the event is lost, and the monitor's end is not recorded",
			ruleMetric(s.TerminalStateRule, "InvocationsFailedToBeSentToDlq")},
		// The same for the status function's asynchronous invocations:
		// Lambda counts an event it could not put in the queue in
		// DeadLetterErrors.
		{"StatusDeadLetterErrorsAlarm", "Lambda could not put a terminal-state event the status function failed on in the dead-letter queue: " +
			"the event is lost, and the monitor's end is not recorded",
			s.Functions["status"].Metric(jsii.String("DeadLetterErrors"), &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum")})},
		{"ApiServerErrorsAlarm", "The API answered with 5XX errors (function failures or timeouts, or API Gateway's own)",
			s.API.DeploymentStage().MetricServerError(nil)},
		{"TableThrottledAlarm", "DynamoDB throttled requests to the status table",
			s.Table.MetricThrottledRequestsForOperations(&awsdynamodb.OperationsMetricOptions{Operations: usedOperations()})},
	}
	for _, name := range FunctionNames {
		fn := s.Functions[name]
		alarms = append(alarms,
			alarm{"FunctionErrorsAlarm" + title(name), "The " + name + " function returned errors", fn.MetricErrors(nil)},
			alarm{"FunctionThrottlesAlarm" + title(name), "Invocations of the " + name + " function were throttled", fn.MetricThrottles(nil)})
	}
	action := awscloudwatchactions.NewSnsAction(s.AlarmTopic)
	for _, a := range alarms {
		newAlarm(s, a, 1, action)
	}
	// A throttled check is retried for up to an hour
	// (statemachine.asl.json), then fails its monitor: checks throttled
	// through 15 minutes are late, not riding out a burst.
	newAlarm(s, alarm{"CheckThrottlesSustainedAlarm",
		"The check function was throttled in each of 3 consecutive 5-minute periods: throttled checks are late, and after " +
			"an hour of retries fail their monitors (raise checkReservedConcurrency or the account's concurrency limit)",
		s.Functions["check"].MetricThrottles(nil)}, 3, action)
}

// newAlarm defines a, firing when its metric reaches 1 in each of periods
// consecutive 5-minute periods, with action.
func newAlarm(s *Stack, a alarm, periods int, action awscloudwatch.IAlarmAction) {
	props := &awscloudwatch.AlarmProps{
		Metric:             a.metric,
		AlarmDescription:   jsii.String(a.description),
		EvaluationPeriods:  jsii.Number(periods),
		Threshold:          jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}
	if periods > 1 {
		props.DatapointsToAlarm = jsii.Number(periods)
	}
	awscloudwatch.NewAlarm(s.Stack, jsii.String(a.id), props).AddAlarmAction(action)
}

// ruleMetric is the sum of the AWS/Events metric name of rule, on the
// default event bus (dimension RuleName alone).
func ruleMetric(rule awsevents.Rule, name string) awscloudwatch.IMetric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String("AWS/Events"),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{"RuleName": rule.RuleName()},
		Statistic:     jsii.String("Sum"),
	})
}

// usedOperations returns the operations of tableOperations that some
// function is granted: the ones the table's throttling alarm sums.
func usedOperations() *[]awsdynamodb.Operation {
	used := map[string]bool{}
	for _, m := range []map[string][]string{TableActions, IndexActions} {
		for _, actions := range m {
			for _, a := range actions {
				used[a] = true
			}
		}
	}
	var out []awsdynamodb.Operation
	for _, t := range tableOperations {
		if used[t.action] {
			out = append(out, t.operation)
		}
	}
	return &out
}

// newFunction defines one Go function with its own role and log group, so the
// role gets write access to that log group only (no managed policy).
// deadLetters, if not nil, receives the events of asynchronous invocations
// that failed after Lambda's retries.
func newFunction(stack awscdk.Stack, name, description, codeDir string, timeoutSeconds float64, env *map[string]*string, deadLetters awssqs.IQueue, removal awscdk.RemovalPolicy) awslambda.Function {
	id := title(name) + "Function"
	logs := awslogs.NewLogGroup(stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: removal,
	})
	role := awsiam.NewRole(stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Runs the stepmon " + name + " function"),
	})
	logs.GrantWrite(role)
	return awslambda.NewFunction(stack, jsii.String(id), &awslambda.FunctionProps{
		Description:     jsii.String(description),
		Runtime:         awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:    awslambda.Architecture_ARM_64(),
		Handler:         jsii.String("bootstrap"),
		Code:            awslambda.Code_FromAsset(jsii.String(codeDir), nil),
		MemorySize:      jsii.Number(256),
		Timeout:         awscdk.Duration_Seconds(jsii.Number(timeoutSeconds)),
		Environment:     env,
		Role:            role,
		LogGroup:        logs,
		LoggingFormat:   awslambda.LoggingFormat_JSON,
		Tracing:         awslambda.Tracing_ACTIVE,
		DeadLetterQueue: deadLetters,
	})
}

// attachToVPC gives fn a network interface in each of subnets, with
// securityGroups, and its role the EC2 actions Lambda calls with it to
// manage them: creating interfaces in those subnets with those groups
// only, and deleting and addressing this account's interfaces in the
// region (their ids are Lambda's to choose); the two Describe actions
// accept no resource-level permissions. The subnets and groups are the
// deployment's own, referenced by id: the VpcConfig is set on the
// function resource, as the Function construct's vpc property would set
// it, without the VPC id and availability zones that property needs to
// import the VPC.
func attachToVPC(stack awscdk.Stack, fn awslambda.Function, subnets, securityGroups []string) {
	fn.Node().DefaultChild().(awslambda.CfnFunction).SetVpcConfig(&awslambda.CfnFunction_VpcConfigProperty{
		SubnetIds:        jsii.Strings(subnets...),
		SecurityGroupIds: jsii.Strings(securityGroups...),
	})
	arn := func(resource, name string) *string {
		return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ec2"), Resource: jsii.String(resource), ResourceName: jsii.String(name)})
	}
	interfaces := arn("network-interface", "*")
	create := []*string{interfaces}
	for _, id := range subnets {
		create = append(create, arn("subnet", id))
	}
	for _, id := range securityGroups {
		create = append(create, arn("security-group", id))
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("VpcCreateNetworkInterface"),
		Actions:   jsii.Strings("ec2:CreateNetworkInterface"),
		Resources: &create,
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("VpcManageNetworkInterfaces"),
		Actions:   jsii.Strings("ec2:AssignPrivateIpAddresses", "ec2:DeleteNetworkInterface", "ec2:UnassignPrivateIpAddresses"),
		Resources: &[]*string{interfaces},
	}))
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("VpcDescribe"),
		Actions:   jsii.Strings("ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"),
		Resources: jsii.Strings("*"),
	}))
}

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

// tableAccess returns the statements that allow function name its
// TableActions on table and its IndexActions on the list index named
// index, by name, where table.GrantReadWriteData would allow every data
// action on "<table>/index/*".
func tableAccess(table awsdynamodb.Table, name, index string) []awsiam.PolicyStatement {
	var out []awsiam.PolicyStatement
	if actions := TableActions[name]; len(actions) > 0 {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("StatusTable"),
			Actions:   jsii.Strings(actions...),
			Resources: &[]*string{table.TableArn()},
		}))
	}
	if actions := IndexActions[name]; len(actions) > 0 {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:     jsii.String("StatusIndex"),
			Actions: jsii.Strings(actions...),
			Resources: &[]*string{
				awscdk.Fn_Join(jsii.String(""), &[]*string{table.TableArn(), jsii.String("/index/" + index)}),
			},
		}))
	}
	return out
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

// readSecret allows reading the value of the secret with the complete ARN arn.
func readSecret(arn string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: jsii.Strings(arn),
	})
}

// title upper-cases the first letter of s, a function name of lower-case
// ASCII letters ("check"), for the construct ids derived from it
// ("CheckFunction").
func title(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
