// Package stepfunctions runs monitors on AWS Step Functions: it implements
// monitor.Workflow with the aws-sdk-go-v2 sfn client.
//
// An execution is named after the monitor's instance id (continue-as-new
// generations append "-g{runTag}-g{n}": see monitor.ExecutionName) and
// its input is the JSON monitor.State.
// Step Functions' errors map to the domain's kinds: ExecutionAlreadyExists
// is KindConflict; stopping an execution that does not exist or no longer
// runs is KindGone; throttling, quota and server errors are
// KindUnavailable; anything else (a wrong ARN, missing permissions) is
// KindInternal.
package stepfunctions
