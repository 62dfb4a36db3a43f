package main

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

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
			s.Functions.Status.Metric(jsii.String("DeadLetterErrors"), &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum")})},
		// An alert published to the stack's topic is "sent" for the
		// monitor; a subscription SNS then fails to deliver to (an
		// HTTPS endpoint down, an SMS refused, a Lambda that fails) is
		// known only to SNS. SNS counts a failure of an SQS, email, SMS
		// or mobile subscription once it gives up, but every failed
		// attempt to an HTTP/S one, retries included.
		{"AlertTopicDeliveryFailedAlarm", "The alert topic failed to deliver a notification to a subscription: for SQS, email, SMS " +
			"and mobile push, a subscriber missed an alert the monitor reports sent; for HTTP/S, an attempt failed, which SNS may " +
			"still retry (docs/operations.md)",
			s.AlertTopic.MetricNumberOfNotificationsFailed(nil)},
		{"ApiServerErrorsAlarm", "The API answered with 5XX errors (function failures or timeouts, or API Gateway's own)",
			s.API.DeploymentStage().MetricServerError(nil)},
		{"TableThrottledAlarm", "DynamoDB throttled requests to the status table",
			s.Table.MetricThrottledRequestsForOperations(&awsdynamodb.OperationsMetricOptions{Operations: usedOperations()})},
		// The account's state-transition quota is shared by every state
		// machine in the region; monitors polling often (a floor:
		// minPollingIntervalSeconds) can use it up, and so can other
		// workloads. Throttled transitions are delayed, not lost.
		{"StateTransitionsThrottledAlarm", "Step Functions throttled state transitions in this account and region " +
			"(a quota every state machine shares): monitors' polls, and other workflows, are delayed",
			awsstepfunctions.StateTransitionMetric_MetricThrottledEvents(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum")})},
	}
	for _, f := range s.Functions.All() {
		name, fn := f.Name, f.Function
		alarms = append(alarms,
			alarm{"FunctionThrottlesAlarm" + title(name), "Invocations of the " + name + " function were throttled", fn.MetricThrottles(nil)})
	}
	action := awscloudwatchactions.NewSnsAction(s.AlarmTopic)
	for _, a := range alarms {
		newAlarm(s, a, 1, action)
	}
	// A function error is retried (the state machine's Retry, Lambda's
	// retries of the status function's events, a client's of a 5XX) and
	// mostly heals: one that does not fails an execution
	// (ExecutionsFailedAlarm), answers a request 5XX
	// (ApiServerErrorsAlarm) or puts an event in the dead-letter queue
	// (DeadLettersAlarm), each paging at once. Errors page by
	// themselves when they last: in each of 3 consecutive 5-minute
	// periods.
	for _, f := range s.Functions.All() {
		newAlarm(s, alarm{"FunctionErrorsAlarm" + title(f.Name),
			"The " + f.Name + " function returned errors in each of 3 consecutive 5-minute periods (docs/operations.md)",
			f.Function.MetricErrors(nil)}, 3, action)
	}
	// An alert that went out but whose record the table did not take,
	// a forgone attempt that could not be counted, or a send SNS or
	// Twilio did not answer: the record and what the alert's
	// destination saw may now differ, and the function
	// returns normally, so its Errors alarm does not see it. Its
	// ERROR lines do (the function's own "alert failed" line is the
	// Errors alarm's, and left out).
	alertErrors := awslogs.NewMetricFilter(s.Stack, jsii.String("AlertErrorLinesFilter"), &awslogs.MetricFilterProps{
		LogGroup:        s.Functions.Alert.LogGroup(),
		FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(`{ $.level = "ERROR" && $.msg != "alert failed" }`)),
		MetricNamespace: jsii.String(metricsNamespace(s.Stack)),
		MetricName:      jsii.String("AlertErrorLines"),
		MetricValue:     jsii.String("1"),
	})
	newAlarm(s, alarm{"AlertErrorLinesAlarm",
		"The alert function logged an ERROR line other than a returned error: an alert sent but not recorded, " +
			"a forgone attempt not counted, or SNS or Twilio not answering a send (docs/operations.md)",
		alertErrors.Metric(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum")})}, 1, action)
	// The queue's alarm above notifies once, when the first message
	// arrives; messages expire after DeadLetterRetentionDays, and with
	// them the only record of those monitors' ends. A dead letter left a
	// week pages again, while there is still a week to replay it.
	newThresholdAlarm(s, alarm{"DeadLettersAgingAlarm",
		"A terminal-state event has waited a week in the dead-letter queue; it expires after " +
			strconv.Itoa(DeadLetterRetentionDays) + " days: replay the queue (docs/operations.md)",
		s.DeadLetters.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum")})},
		deadLetterAgeAlarmSeconds, 1, action)
	// A throttled check is retried for up to an hour
	// (statemachine.asl.json), then fails its monitor: checks throttled
	// through 15 minutes are late, not riding out a burst.
	newAlarm(s, alarm{"CheckThrottlesSustainedAlarm",
		"The check function was throttled in each of 3 consecutive 5-minute periods: throttled checks are late, and after " +
			"an hour of retries fail their monitors (raise checkReservedConcurrency or the account's concurrency limit)",
		s.Functions.Check.MetricThrottles(nil)}, 3, action)
	// How late checks are invoked, which the check function writes as
	// the metric CheckLateness (lambdas/internal/lambdaenv): the p99 of a
	// 5-minute period above a minute, three periods in a row, means a
	// check in a hundred comes more than a minute after it was due,
	// whatever delays it (throttled state transitions or invocations,
	// a store outage's retries, Lambda errors). With fewer than a
	// hundred checks in a period, the p99 is about the latest of them:
	// one late check in each of 3 periods (CloudWatch evaluates such
	// low sample counts, and looks further back for the 3 points when
	// periods have no checks at all).
	newThresholdAlarm(s, alarm{"ChecksLateAlarm",
		"In 3 evaluated 5-minute periods in a row, at least 1 % of checks (with under 100 checks a period: any one) were " +
			"invoked a minute or more after they were due (the check function's CheckLateness metric, p99): see docs/operations.md",
		awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:  jsii.String(metricsNamespace(s.Stack)),
			MetricName: jsii.String(checkLatenessMetric),
			Statistic:  jsii.String("p99"),
			Period:     awscdk.Duration_Minutes(jsii.Number(5)),
		})}, checksLateAlarmMilliseconds, 3, action)
}

// checkLatenessMetric is the metric the check function writes in the
// stack's metrics namespace (lambdas/internal/lambdaenv's
// CheckLatenessMetric), in milliseconds.
const checkLatenessMetric = "CheckLateness"

// checksLateAlarmMilliseconds is the p99 lateness of checks at which
// ChecksLateAlarm fires: a minute.
const checksLateAlarmMilliseconds = 60 * 1000

// metricsNamespace is the CloudWatch namespace of the stack's own
// metrics: Stepmon/{stack name}.
func metricsNamespace(stack awscdk.Stack) string {
	return "Stepmon/" + *stack.StackName()
}

// deadLetterAgeAlarmSeconds is the age of the oldest dead letter at
// which DeadLettersAgingAlarm fires: a week, half the queue's retention.
const deadLetterAgeAlarmSeconds = DeadLetterRetentionDays / 2 * 24 * 60 * 60

// newAlarm defines a, firing when its metric reaches 1 in each of periods
// consecutive 5-minute periods, with action, which it takes again when
// the alarm clears: an operator paged by it hears that it is over.
func newAlarm(s *Stack, a alarm, periods int, action awscloudwatch.IAlarmAction) {
	newThresholdAlarm(s, a, 1, periods, action)
}

// newThresholdAlarm is newAlarm firing when the metric reaches threshold.
func newThresholdAlarm(s *Stack, a alarm, threshold float64, periods int, action awscloudwatch.IAlarmAction) {
	props := &awscloudwatch.AlarmProps{
		Metric:             a.metric,
		AlarmDescription:   jsii.String(a.description),
		EvaluationPeriods:  jsii.Number(periods),
		Threshold:          jsii.Number(threshold),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	}
	if periods > 1 {
		props.DatapointsToAlarm = jsii.Number(periods)
	}
	alarm := awscloudwatch.NewAlarm(s.Stack, jsii.String(a.id), props)
	alarm.AddAlarmAction(action)
	alarm.AddOkAction(action)
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
