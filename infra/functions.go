package main

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// Functions are the stack's Lambda functions, one field for each name of
// FunctionNames.
type Functions struct {
	Start, Check, Alert, Status awslambda.Function
}

// NamedFunction is one of the stack's functions with its name in
// FunctionNames, which its construct ids and TableActions go by.
type NamedFunction struct {
	Name     string
	Function awslambda.Function
}

// All returns the functions with their names, in the order of FunctionNames
// (the order the stack defines them in).
func (f Functions) All() []NamedFunction {
	return []NamedFunction{
		{"start", f.Start},
		{"check", f.Check},
		{"alert", f.Alert},
		{"status", f.Status},
	}
}

// functionEnvs are the environments of the functions, one field for each.
type functionEnvs struct {
	start, check, alert, status map[string]*string
}

// functionEnvironments returns the environment of each function: the
// table's name for all, and what each needs of cfg, the alert topic, the
// state machine, the list index and the stack's metrics namespace.
func functionEnvironments(cfg Config, table awsdynamodb.Table, alertTopic awssns.Topic, sm stateMachineRef, listIndex, metricsNamespace string) functionEnvs {
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
	checkEnv := map[string]*string{"ALLOW_PRIVATE_TARGETS": jsii.String(fmt.Sprint(cfg.AllowPrivateTargets)),
		// Where it writes how late each check comes (ChecksLateAlarm).
		"METRICS_NAMESPACE": jsii.String(metricsNamespace)}
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
	// The API's floor on polling intervals: the start function checks a
	// start's, the status function a setInterval event's.
	statusEnv := map[string]*string{"STATE_MACHINE_ARN": sm.arn, "LIST_INDEX": jsii.String(listIndex)}
	if n := cfg.MinPollingIntervalSeconds; n > 0 {
		startEnv["MIN_POLLING_INTERVAL_SECONDS"] = jsii.String(strconv.Itoa(n))
		statusEnv["MIN_POLLING_INTERVAL_SECONDS"] = startEnv["MIN_POLLING_INTERVAL_SECONDS"]
	}
	if cfg.TwilioSecretARN != "" {
		alertEnv["TWILIO_SECRET_ARN"] = jsii.String(cfg.TwilioSecretARN)
	}
	if cfg.WebhookSecretARN != "" {
		alertEnv["WEBHOOK_SECRET_ARN"] = jsii.String(cfg.WebhookSecretARN)
	}
	return functionEnvs{
		start:  env(startEnv),
		check:  env(checkEnv),
		alert:  env(alertEnv),
		status: env(statusEnv),
	}
}

// newFunctions defines the four functions of FunctionNames, each
// from its directory in codeDirs with its environment in envs, and attaches
// the check and alert functions to the deployment's VPC if cfg names one.
// The status function's failed asynchronous invocations go to deadLetters.
func newFunctions(stack awscdk.Stack, cfg Config, codeDirs map[string]string, envs functionEnvs, deadLetters awssqs.Queue, removal awscdk.RemovalPolicy) Functions {
	// Only the check function may have reserved concurrency, and only on
	// request: checks (up to 60 s each) are what can take the account's
	// whole concurrency from the other functions, and Lambda refuses a
	// reservation that leaves the account less than its minimum of
	// unreserved concurrency, so that reserving any fails the deploy on a
	// new account whose limit is still 10.
	var fns Functions
	specs := []struct {
		fn                *awslambda.Function
		name, description string
		env               map[string]*string
		timeout           float64
		reserved          int
	}{
		{&fns.Start, "start", "POST /monitors: validates, claims the instance id, starts the execution", envs.start, StartTimeoutSeconds, 0},
		{&fns.Check, "check", "One check of a monitor's target; writes the custom status", envs.check, CheckTimeoutSeconds, cfg.CheckReservedConcurrency},
		{&fns.Alert, "alert", "Sends a monitor's alert once (SNS topic, SMS through SNS or Twilio, or webhook)", envs.alert, AlertTimeoutSeconds, 0},
		{&fns.Status, "status", "Status, list, terminate, raiseEvent and purge routes; terminal-state events", envs.status, StatusTimeoutSeconds, 0},
	}
	for _, f := range specs {
		var dlq awssqs.IQueue
		if f.fn == &fns.Status {
			// Its only asynchronous invocations are the rule's: an event
			// it still fails on after Lambda's two retries lands here.
			dlq = deadLetters
		}
		fn := newFunction(stack, f.name, f.description, codeDirs[f.name], f.timeout, &f.env, dlq, removal)
		if f.reserved > 0 {
			fn.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(jsii.Number(f.reserved))
		}
		*f.fn = fn
	}
	if len(cfg.VPCSubnetIDs) > 0 {
		for _, fn := range []awslambda.Function{fns.Check, fns.Alert} {
			attachToVPC(stack, fn, cfg.VPCSubnetIDs, cfg.VPCSecurityGroupIDs)
		}
	}
	return fns
}

// grantTableAccess allows each function its TableActions on table and its
// IndexActions on the list index named listIndex (see tableAccess), and,
// in the policy of the table's key, the use of the key they take
// (tableKeyUse).
func grantTableAccess(fns Functions, table awsdynamodb.Table, listIndex string) {
	var roles []awsiam.IPrincipal
	for _, f := range fns.All() {
		for _, st := range tableAccess(table, f.Name, listIndex) {
			f.Function.AddToRolePolicy(st)
		}
		roles = append(roles, f.Function.Role())
	}
	table.EncryptionKey().AddToResourcePolicy(tableKeyUse(roles), nil)
}

// tableKeyUse is the statement of the table key's policy that lets the
// functions' roles use the key as reading and writing the table's items
// takes: DynamoDB decrypts with it the key it keeps for the table (what
// DynamoDB calls the table key, which it made under a grant of its own),
// in the caller's name, when a connection first uses the table and every
// five minutes after. Only kms:Decrypt, and only through DynamoDB in the
// stack's region (kms:ViaService), where table.GrantReadWriteData would
// allow kms:Encrypt, kms:GenerateDataKey* and kms:ReEncrypt* directly too.
//
// It is in the key's policy rather than the roles' policies, which refer
// to the table and so are updated after it: a stack deployed before the
// table had this key switches the table to it in the same deploy, and a
// role without the grant would meanwhile be refused every call.
func tableKeyUse(roles []awsiam.IPrincipal) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowFunctionsThroughDynamoDB"),
		Principals: &roles,
		Actions:    jsii.Strings("kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{
				"kms:ViaService": awscdk.Fn_Join(jsii.String(""), &[]*string{
					jsii.String("dynamodb."), awscdk.Aws_REGION(), jsii.String(".amazonaws.com"),
				}),
			},
		},
	})
}

// grantExecutionAccess allows the start function to start executions of the
// state machine, and the start and status functions to describe and stop
// them.
func grantExecutionAccess(start, status awslambda.Function, sm stateMachineRef) {
	start.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("states:StartExecution"),
		Resources: &[]*string{sm.arn},
	}))
	// Terminate stops executions, and so does start, for a monitor
	// terminated while it was starting (monitor.API.Start). Start describes
	// an execution whose start's answer was lost, and status one whose end
	// an event did not tell (internal/stepfunctions).
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
