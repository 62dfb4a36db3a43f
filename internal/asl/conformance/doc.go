// Package conformance runs the AWS-recorded ASL conformance corpus
// (../shared/asl-conformance/cases next to the repository) against the
// engine. It holds only tests and the known-failures list
// (known_failures.txt: one case id per line, a tab, the reason).
package conformance
