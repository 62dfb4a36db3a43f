// Command check is the check Lambda: one check of a monitor's target per
// invocation, the custom status written to DynamoDB, and the decision the
// state machine's Choice state reads (monitor.Tasks.Check).
//
// Environment: TABLE_NAME; GITHUB_TOKEN_SECRET_ARN (optional: a Secrets
// Manager secret holding a GitHub token); GITHUB_API_URL (optional: GitHub
// Enterprise); ALLOWED_TARGET_PREFIXES (optional: comma-separated prefixes,
// e.g. a VPC's subnets, that HTTP targets may resolve to although private;
// loopback and link-local stay refused, and a prefix overlapping them stops
// the function at start-up); ALLOW_PRIVATE_TARGETS ("true" lets HTTP
// targets resolve to private, loopback and link-local addresses, for
// LocalStack; refused by default); METRICS_NAMESPACE (optional: the
// CloudWatch namespace in which each invocation's lateness is written as
// the CheckLateness metric, an embedded-metric line of the log);
// AWS_LAMBDA_LOG_LEVEL (set by Lambda's logging configuration: the level of
// the JSON log, as for every function).
package main
