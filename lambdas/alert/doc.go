// Command alert is the alert Lambda: it sends a monitor's alert at most once
// (claimed in DynamoDB before the send, recorded after) and finishes the
// monitor (monitor.Tasks.Alert).
//
// Environment: TABLE_NAME; ALERT_TOPIC_ARN (the stack's topic) and
// ALERT_TOPIC_ARNS (further topics, comma-separated): the only topics a
// monitor's alert is published to, whatever the role allows, each in the
// region of its ARN (internal/alerts.SNS);
// TWILIO_SECRET_ARN (optional: a Secrets Manager secret holding
// {"accountSid","authToken","from"} for SMS through Twilio);
// WEBHOOK_SECRET_ARN (optional: a secret that signs webhook requests);
// ALLOWED_TARGET_PREFIXES (optional: private prefixes webhooks may reach,
// as for the check function); ALLOW_PRIVATE_TARGETS ("true" lets webhooks
// reach private addresses, for LocalStack; a value that is not a boolean
// stops the function at start-up);
// AWS_LAMBDA_LOG_LEVEL (set by Lambda's logging configuration: the level of
// the JSON log, as for every function).
package main
