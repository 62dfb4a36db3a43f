// Command status is the Lambda function behind the status routes of the
// API (GET /monitors/{id}, GET /monitors, terminate, raiseEvent, DELETE),
// the EventBridge rule on "Step Functions Execution Status Change" events,
// and the state machine's RecordFailure task.
//
// Environment: TABLE_NAME (the status table), STATE_MACHINE_ARN (the
// monitor state machine), AWS_LAMBDA_LOG_LEVEL (the level of the JSON
// log), and the AWS SDK's usual variables.
package main
