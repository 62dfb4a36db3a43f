// Package monitor is stepmon's domain: what a monitor is, how a start request
// is read and validated, what a status record holds, and the contracts that
// adapters implement (Store, Checker, Sender, Workflow).
//
// The package knows nothing of AWS, HTTP or SQL. The same code runs inside
// the Lambda functions on AWS and in-process under `stepmon serve`.
package monitor
