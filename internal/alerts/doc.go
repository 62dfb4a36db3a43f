// Package alerts holds stepmon's alert senders, each a monitor.Sender:
//
//   - SNS publishes to a topic (Subject and Message) or sends an SMS to an
//     E.164 number, with aws-sdk-go-v2;
//   - Twilio sends an SMS through Twilio's Messages REST API;
//   - Webhook POSTs JSON with a Slack-compatible "text" field and the
//     structured data, optionally signed with HMAC-SHA256;
//   - Outbox writes each alert as a JSON line, for the local runtime.
//
// The alert handler in package monitor (monitor.Tasks.Senders) picks the
// sender for an alert's channel.
//
// A sender sends once per call: it never retries on its own (the SDK's
// retries are turned off), because the alert task handler claims each send
// in the store before calling Send and records the result after, so that an
// alert goes out at most once. Failures are classified for that handler:
// a *monitor.TransientError (a 429, a 5xx, a network error before the
// request was written) means a later attempt may work; a
// *monitor.PermanentError (any other 4xx, a refused destination, bad
// credentials) means it will not; a *monitor.OutcomeUnknownError (no
// answer within the timeout, or a connection lost, after the request was
// written; for SNS any timeout) means the message may or may not have been
// delivered, and the alert task does not send it again.
package alerts
