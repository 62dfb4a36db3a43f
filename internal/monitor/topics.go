package monitor

import (
	"fmt"
	"strings"
)

// TopicAllowList is the set of SNS topics a deployment lets monitors send
// alerts to ({"alert": {"topicArn": ...}}). Start refuses a monitor whose
// topic is not on it, and the alert task checks again before it publishes:
// a deployment that allows direct SMS grants sns:Publish on every
// resource, so the role alone does not keep alerts to the deployment's
// topics.
//
// A nil *TopicAllowList allows every topic (the local runtime, which has
// no AWS role to protect); an empty one allows none.
type TopicAllowList struct {
	arns map[string]bool
}

// NewTopicAllowList returns the allow-list of the given topic ARNs. Blank
// entries are skipped, surrounding spaces trimmed (so that a comma-separated
// setting can be split and passed as is); anything else that is not an SNS
// topic ARN is an error.
func NewTopicAllowList(arns ...string) (*TopicAllowList, error) {
	l := &TopicAllowList{arns: map[string]bool{}}
	for _, arn := range arns {
		arn = strings.TrimSpace(arn)
		if arn == "" {
			continue
		}
		if !topicArnRe.MatchString(arn) {
			return nil, fmt.Errorf("alert topic allow-list: %q is not an SNS topic ARN", arn)
		}
		l.arns[arn] = true
	}
	return l, nil
}

// Allows reports whether alerts may be sent to the topic arn.
func (l *TopicAllowList) Allows(arn string) bool {
	return l == nil || l.arns[arn]
}

// Len returns how many topics l allows; -1 for nil, which allows every
// topic.
func (l *TopicAllowList) Len() int {
	if l == nil {
		return -1
	}
	return len(l.arns)
}

// topicNotAllowed is the problem reported for a topic that is not on the
// allow-list.
const topicNotAllowed = "is not one of the SNS topics this deployment sends alerts to " +
	"(the stack's alert topic and those its operator allows)"

// checkAlertTopic returns a KindInvalid error when spec's alert names a
// topic that l does not allow.
func (l *TopicAllowList) checkAlertTopic(op string, spec Spec) error {
	a := spec.Alert
	if a == nil || a.TopicArn == "" || l.Allows(a.TopicArn) {
		return nil
	}
	return &Error{Kind: KindInvalid, Op: op, Message: "invalid request",
		Fields: []FieldError{{Field: "alert.topicArn", Problem: topicNotAllowed}}}
}
