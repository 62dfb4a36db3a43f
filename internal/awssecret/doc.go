// Package awssecret reads secrets from AWS Secrets Manager for the Lambda
// functions: a GitHub token, Twilio credentials. Values are cached for a
// while so that a busy function does not call Secrets Manager on every
// invocation, and re-read after that, or as soon as the caller finds the
// value rejected (Cache.Invalidate), so that a rotated secret is picked
// up. Secret values are never logged or put in errors.
package awssecret
