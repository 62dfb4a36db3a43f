// Command start is the Lambda function behind POST /monitors: it validates
// the request, claims the instance id in DynamoDB, starts the Step
// Functions execution and answers 202 with the management URLs.
//
// Environment: TABLE_NAME (the status table), STATE_MACHINE_ARN (the
// monitor state machine), ALERT_TOPIC_ARN and ALERT_TOPIC_ARNS (the SNS
// topics alerts may go to), ALLOW_PRIVATE_TARGETS ("true" accepts target
// and webhook URLs naming private, loopback and link-local addresses or
// localhost; refused by default, as the check and alert functions refuse
// to connect to them), ALLOWED_TARGET_PREFIXES (comma-separated prefixes,
// e.g. a VPC's subnets, whose addresses such URLs may name, as the check
// and alert functions may connect to them; the rest stay refused),
// AWS_LAMBDA_LOG_LEVEL (the level of the JSON log), and the AWS SDK's
// usual variables.
package main
