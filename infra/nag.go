package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddNagChecks applies cdk-nag's AwsSolutions rules to every construct of app.
// Unsuppressed findings become error and warning annotations: errors fail
// `cdk synth` and `cdk deploy`, and the infra tests fail on both.
func AddNagChecks(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// Reasons for the AwsSolutions findings this stack accepts. Each names why the
// rule does not fit and what stands in its place.
const (
	reasonXRayStar = "X-Ray's PutTraceSegments and PutTelemetryRecords accept no resource-level " +
		"permissions, so tracing (on for every function) needs Resource \"*\"."
	reasonLogDeliveryStar = "Step Functions logging to CloudWatch Logs uses the log-delivery actions " +
		"(logs:CreateLogDelivery, logs:DescribeResourcePolicies, ...), which accept no resource-level " +
		"permissions; X-Ray likewise needs Resource \"*\"."
	reasonVPCInterfaces = "Opted in with -c vpcSubnetIds: Lambda manages the function's network " +
		"interfaces with its role, and their ids are Lambda's to choose, so deleting and addressing " +
		"them is allowed on this account's interfaces in the region (network-interface/*) while " +
		"creating them is limited to the given subnets and security groups; " +
		"ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets accept no resource-level " +
		"permissions, so they need Resource \"*\"."
	reasonExecutions = "Execution ARNs embed the instance id chosen at start time; the grant is limited " +
		"to executions of this stack's state machine and to DescribeExecution and StopExecution."
	reasonDirectSMS = "Opted in with -c allowDirectSms=true: sending an SMS straight to a phone number " +
		"(sns:Publish with PhoneNumber) has no resource ARN, so IAM only accepts Resource \"*\". " +
		"Leave the option off and alert through the topic to avoid it."
	reasonExecLogging = "Access logging (JSON, every request) and X-Ray tracing are on for the stage, " +
		"and each function logs its own errors; execution logging would add per-request logs " +
		"that repeat them, and with data tracing would write request bodies carrying phone " +
		"numbers and target URLs. Both kinds of logging need the account's API Gateway " +
		"CloudWatch Logs role (see the apiGatewayCloudWatchRole option)."
	reasonCloudWatchRoleManaged = "Opted in with -c apiGatewayCloudWatchRole=true: the account's API " +
		"Gateway CloudWatch Logs role carries AmazonAPIGatewayPushToCloudWatchLogs, the AWS-managed " +
		"policy API Gateway documents for it; the role is account-wide and serves every API's " +
		"log groups, so a policy naming this stack's groups would break the other APIs."
	reasonCognitoIAM = "Every method requires AWS_IAM (SigV4) authorization, so callers are AWS " +
		"principals granted execute-api:Invoke; there are no end-user identities for a Cognito pool."
	reasonCognitoAPIKey = "Opted in with -c auth=apiKey: every method requires an API key tied to a " +
		"throttled usage plan; there are no end-user identities for a Cognito pool."
	reasonAuthAPIKey = "Opted in with -c auth=apiKey: methods use an API key (apiKeyRequired) " +
		"instead of an authorizer, as documented in docs/deploy.md; the default is AWS_IAM."
	reasonStateMachineErrorLogs = "Logging ALL events writes about 9 log events per poll: at 10,000 " +
		"monitors polling every minute that is over 100 million events and tens of GB of CloudWatch " +
		"Logs a day. The state machine logs failures (ERROR); every event stays in the execution " +
		"history until 90 days after the execution ends, X-Ray traces every execution, and " +
		"-c stateMachineLogLevel=ALL turns ALL on for debugging (docs/deploy.md)."
	reasonRequestValidation = "The functions validate every request and answer 400 invalid with each " +
		"problem (docs/api.md), as stepmon serve does. A validator checks only declared models and " +
		"required parameters; the routes have no required parameters beyond their path, and a body " +
		"model, even one that only requires a JSON object, would replace the start function's " +
		"answers to empty, malformed or non-object bodies with API Gateway's generic one."
	reasonWAF = "A WAFv2 web ACL costs money per ACL and rule and is site policy; the API is " +
		"authenticated (IAM or API key), throttled per stage, and an ACL can be associated " +
		"with the stage after deployment."
)

// addNagSuppressions records, next to each resource it concerns, why an
// AwsSolutions rule does not apply. Wildcard suppressions name the exact
// finding (appliesTo), so a wildcard of another shape (an action wildcard,
// a new resource pattern) still fails the checks. cdk-nag reports a
// wildcard resource once per role, not per action, though: the
// "Resource::*" suppression X-Ray needs on every function role (and the
// state machine's, for log delivery) lets any action on Resource "*" of
// those roles pass cdk-nag. Which actions may be on "*" is checked by the
// stack's test (TestGrants in stack_test.go, run by make test), not here.
func addNagSuppressions(s *Stack, cfg Config) {
	smName := StateMachineName(*s.StackName())

	for _, f := range s.Functions.All() {
		suppress(f.Function.Role(), true, nag("AwsSolutions-IAM5", reasonXRayStar, "Resource::*"))
	}
	suppress(s.StateMachine.Role(), true, nag("AwsSolutions-IAM5", reasonLogDeliveryStar, "Resource::*"))
	if cfg.StateMachineLogLevel != LogAll {
		suppress(s.StateMachine, false, nag("AwsSolutions-SF1", reasonStateMachineErrorLogs))
	}
	for _, fn := range []awslambda.Function{s.Functions.Start, s.Functions.Status} {
		suppress(fn.Role(), true, nag("AwsSolutions-IAM5", reasonExecutions,
			"Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"+smName+":*"))
	}
	if len(cfg.VPCSubnetIDs) > 0 {
		for _, fn := range []awslambda.Function{s.Functions.Check, s.Functions.Alert} {
			suppress(fn.Role(), true, nag("AwsSolutions-IAM5", reasonVPCInterfaces,
				"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*", "Resource::*"))
		}
	}
	if cfg.AllowDirectSMS {
		suppress(s.Functions.Alert.Role(), true, nag("AwsSolutions-IAM5", reasonDirectSMS, "Resource::*"))
	}

	suppress(s.API.DeploymentStage(), true,
		nag("AwsSolutions-APIG6", reasonExecLogging),
		nag("AwsSolutions-APIG3", reasonWAF))
	suppress(s.API, false, nag("AwsSolutions-APIG2", reasonRequestValidation))
	if cfg.APIGatewayCloudWatchRole {
		suppress(s.API.Node().FindChild(jsii.String("CloudWatchRole")), true, nag("AwsSolutions-IAM4", reasonCloudWatchRoleManaged,
			"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"))
	}
	if cfg.Auth == AuthAPIKey {
		suppress(s.API, true,
			nag("AwsSolutions-COG4", reasonCognitoAPIKey),
			nag("AwsSolutions-APIG4", reasonAuthAPIKey))
	} else {
		suppress(s.API, true, nag("AwsSolutions-COG4", reasonCognitoIAM))
	}
}

func nag(id, reason string, appliesTo ...string) *cdknag.NagPackSuppression {
	sup := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		list := make([]any, len(appliesTo))
		for i, a := range appliesTo {
			list[i] = a
		}
		sup.AppliesTo = &list
	}
	return sup
}

func suppress(c constructs.IConstruct, children bool, sups ...*cdknag.NagPackSuppression) {
	cdknag.NagSuppressions_AddResourceSuppressions(c, &sups, jsii.Bool(children))
}
