package monitor_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stepmon/stepmon/internal/lambdaerr"
	"github.com/stepmon/stepmon/internal/monitor"
)

const (
	stackTopic = "arn:aws:sns:eu-west-1:123456789012:stepmon-alerts"
	opsTopic   = "arn:aws:sns:eu-west-1:123456789012:ops.fifo"
	foreign    = "arn:aws:sns:eu-west-1:210987654321:someone-elses"
)

func mustAllowList(t *testing.T, arns ...string) *monitor.TopicAllowList {
	t.Helper()
	l, err := monitor.NewTopicAllowList(arns...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestTopicAllowList(t *testing.T) {
	list := mustAllowList(t, stackTopic, " "+opsTopic+" ", "")
	var unrestricted *monitor.TopicAllowList
	none := mustAllowList(t)
	tests := []struct {
		name string
		list *monitor.TopicAllowList
		arn  string
		want bool
	}{
		{"stack topic", list, stackTopic, true},
		{"trimmed entry", list, opsTopic, true},
		{"other account", list, foreign, false},
		{"empty arn", list, "", false},
		{"nil allows all", unrestricted, foreign, true},
		{"empty allows none", none, stackTopic, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.list.Allows(tt.arn); got != tt.want {
				t.Errorf("Allows(%q) = %v, want %v", tt.arn, got, tt.want)
			}
		})
	}
	if list.Len() != 2 || none.Len() != 0 || unrestricted.Len() != -1 {
		t.Errorf("Len = %d, %d, %d; want 2, 0, -1", list.Len(), none.Len(), unrestricted.Len())
	}
	if _, err := monitor.NewTopicAllowList(stackTopic, "arn:aws:sqs:eu-west-1:123456789012:q"); err == nil ||
		!strings.Contains(err.Error(), "arn:aws:sqs") {
		t.Errorf("NewTopicAllowList with a queue ARN: err = %v, want one naming it", err)
	}
}

func TestStartChecksAlertTopic(t *testing.T) {
	tests := []struct {
		name  string
		list  []string // nil: no allow-list
		alert string
		want  monitor.Kind // "" for success
	}{
		{"allowed topic", []string{stackTopic, opsTopic}, `{"topicArn":"` + opsTopic + `"}`, ""},
		{"topic not allowed", []string{stackTopic}, `{"topicArn":"` + foreign + `"}`, monitor.KindInvalid},
		{"empty allow-list", []string{}, `{"topicArn":"` + stackTopic + `"}`, monitor.KindInvalid},
		{"no allow-list", nil, `{"topicArn":"` + foreign + `"}`, ""},
		{"phone is not a topic", []string{stackTopic}, `{"phone":"+14255550100"}`, ""},
		{"webhook is not a topic", []string{}, `{"webhookUrl":"https://hooks.example.com/x"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.list != nil {
				e.api.AlertTopics = mustAllowList(t, tt.list...)
			}
			_, err := e.api.Start(context.Background(), parse(t, `{"instanceId":"m","target":{"type":"simulated"},"alert":`+tt.alert+`}`))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				return
			}
			wantKind(t, err, tt.want)
			if msg := monitor.MessageOf(err); !strings.Contains(msg, "alert.topicArn is not one of the SNS topics this deployment sends alerts to") {
				t.Errorf("message = %q", msg)
			}
			if len(e.wf.starts) != 0 {
				t.Errorf("workflow started: %+v", e.wf.starts)
			}
			if _, err := e.store.Get(context.Background(), "m"); !monitor.IsKind(err, monitor.KindNotFound) {
				t.Errorf("record after a refused start: %v, want none", err)
			}
		})
	}
}

// A monitor started before the allow-list changed (or by a start function
// without one) is checked again before anything is published.
func TestAlertChecksTopic(t *testing.T) {
	tests := []struct {
		name      string
		topic     string
		wantSent  int
		wantError string // lambdaerr name, "" for none
	}{
		{"allowed", stackTopic, 1, ""},
		{"not allowed", foreign, 0, "PermanentError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, openIssues(5))
			f.tasks.AlertTopics = mustAllowList(t, stackTopic)
			spec := githubSpec()
			spec.Alert = &monitor.Alert{TopicArn: tt.topic}
			ctx := context.Background()
			s, err := f.tasks.Check(ctx, monitor.TaskInput{State: f.start(t, "m", spec)})
			if err != nil || !s.Check.ConditionMet {
				t.Fatalf("check: %+v, %v", s.Check, err)
			}
			_, err = f.tasks.Alert(ctx, monitor.TaskInput{State: s})
			if got := lambdaerr.Name(err); got != tt.wantError {
				t.Fatalf("error %v (%q), want %q", err, got, tt.wantError)
			}
			if f.sender.attempts != tt.wantSent {
				t.Errorf("send attempts = %d, want %d", f.sender.attempts, tt.wantSent)
			}
			var pe *monitor.PermanentError
			if errors.As(err, &pe) && !strings.Contains(pe.Message, foreign) {
				t.Errorf("error %q does not name the topic", pe.Message)
			}
			if rec, _ := f.store.Get(ctx, "m"); tt.wantError != "" && rec.Alert.Status != monitor.AlertNone {
				t.Errorf("alert state = %+v, want nothing claimed", rec.Alert)
			}
		})
	}
}

// TestTopicAllowListCaseSensitive pins that topic ARNs are matched exactly,
// case and all, on both sides: SNS topic names are case-sensitive, so
// "alerts" and "Alerts" are two topics, and the second may belong to
// someone else in the account. An allow-list that folded case would let
// Start and the alert task send to a topic the operator never allowed,
// or refuse the one they did.
func TestTopicAllowListCaseSensitive(t *testing.T) {
	const (
		lower  = "arn:aws:sns:us-east-1:123456789012:alerts"
		upper  = "arn:aws:sns:us-east-1:123456789012:Alerts"
		mixed  = "arn:aws:sns:us-east-1:123456789012:MyTopic"
		folded = "arn:aws:sns:us-east-1:123456789012:mytopic"
	)
	tests := []struct {
		name string
		list string // the one topic allowed
		arn  string
		want bool
	}{
		{"lower-case entry, same topic", lower, lower, true},
		{"lower-case entry, capitalised topic", lower, upper, false},
		{"mixed-case entry, same topic", mixed, mixed, true},
		{"mixed-case entry, lower-cased topic", mixed, folded, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustAllowList(t, tt.list)
			if got := l.Allows(tt.arn); got != tt.want {
				t.Errorf("NewTopicAllowList(%q).Allows(%q) = %v, want %v", tt.list, tt.arn, got, tt.want)
			}
		})
	}
}
