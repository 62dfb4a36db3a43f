// Package checks holds stepmon's check providers, each a monitor.Checker:
//
//   - GitHub counts a repository's open issues (pull requests excluded)
//     with go-github, conditionally, honouring rate limits;
//   - HTTPJob reads a job's status from an HTTP endpoint through a JSONPath,
//     dialling through an egress guard;
//   - Simulated is the seed's demo job, Running until its Nth check.
//
// The check handler in package monitor (monitor.Tasks.Checkers) picks the
// checker for a target's type and calls it through the monitor.Checker
// interface; the Lambda mains and the local runtime build them once and
// pass them in.
//
// A checker returns an error only when the monitor cannot go on
// (*monitor.PermanentError: a missing repository, a refused target) or the
// check itself should be retried by the workflow (*monitor.TransientError:
// the secret store failed, the invocation was cancelled). Everything a
// target answers, including errors, rate limits and garbage, is an
// Observation that the monitor records before polling on.
package checks
