package monitor

import (
	"strings"
	"testing"
)

// A field of one request shape in a body of another is an unknown field
// whose problem names the spelling the body's shape uses, or where the
// value goes in it.
func TestParseStartRequestFieldOfAnotherShape(t *testing.T) {
	const unknown = "is not a known field"
	tests := []struct {
		name, body string
		want       []FieldError
	}{
		{"job seed: native interval", `{"job_id":"x","pollingIntervalSeconds":5}`, []FieldError{
			{"pollingIntervalSeconds", unknown + " (did you mean polling_interval_seconds? the job seed shape spells its fields with underscores)"},
		}},
		{"job seed: native timeout and job id", `{"job_id":"x","timeoutSeconds":60,"jobId":"y"}`, []FieldError{
			{"timeoutSeconds", unknown + " (did you mean timeout_seconds? the job seed shape spells its fields with underscores)"},
			{"jobId", unknown + " (did you mean job_id? the job seed shape spells its fields with underscores)"},
		}},
		{"job seed: instance id", `{"job_id":"x","instanceId":"abc"}`, []FieldError{
			{"instanceId", unknown + " (the seed shapes take no instance id; use the native shape to choose one)"},
		}},
		{"job seed: native spelling in another case", `{"job_id":"x","pollingintervalseconds":5}`, []FieldError{
			{"pollingintervalseconds", unknown + " (did you mean polling_interval_seconds? the job seed shape spells its fields with underscores)"},
		}},
		{"native: seed interval and timeout", `{"target":{"type":"simulated"},"polling_interval_seconds":5,"timeout_seconds":60}`, []FieldError{
			{"polling_interval_seconds", unknown + " (did you mean pollingIntervalSeconds? the native shape spells its fields in camelCase)"},
			{"timeout_seconds", unknown + " (did you mean timeoutSeconds? the native shape spells its fields in camelCase)"},
		}},
		{"native: seed job id", `{"target":{"type":"simulated"},"job_id":"x"}`, []FieldError{
			{"job_id", unknown + " (did you mean jobId? the native shape spells its fields in camelCase)"},
		}},
		// "jobid" is jobId in another case, and job_id without its
		// underscore: both are named.
		{"native: a job id of either spelling", `{"target":{"type":"simulated"},"jobid":"x"}`, []FieldError{
			{"jobid", unknown + " (did you mean jobId, or job_id of the job seed shape? field names are case-sensitive)"},
		}},
		{"native: the native spelling in another case", `{"target":{"type":"simulated"},"pollingintervalseconds":5}`, []FieldError{
			{"pollingintervalseconds", unknown + " (did you mean pollingIntervalSeconds, or polling_interval_seconds of the job seed shape? field names are case-sensitive)"},
		}},
		{"native: seed phone and repo", `{"target":{"type":"github","repo":"a/b"},"repo":"a/b","phone":"+14255550100"}`, []FieldError{
			{"repo", unknown + " (did you mean target.repo? the native shape gives the repository in target)"},
			{"phone", unknown + " (did you mean alert.phone? the native shape gives the phone in alert)"},
			{"alert", "is required for a github target: it says whom to tell when the threshold is reached"},
		}},
		{"github seed: instance id", `{"repo":"a/b","instanceId":"abc"}`, []FieldError{
			{"instanceId", unknown + " (the seed shapes take no instance id; use the native shape to choose one)"},
		}},
		{"github seed: interval", `{"repo":"a/b","pollingIntervalSeconds":5,"timeout_seconds":60}`, []FieldError{
			{"pollingIntervalSeconds", unknown + " (the GitHub seed shape takes only repo and phone; use the native shape for more)"},
			{"timeout_seconds", unknown + " (the GitHub seed shape takes only repo and phone; use the native shape for more)"},
		}},
		{"case still comes first", `{"job_id":"x","Job_Id":"y"}`, []FieldError{
			{"Job_Id", unknown + " (did you mean job_id? field names are case-sensitive)"},
		}},
		{"no hint for other keys", `{"job_id":"x","interval":5}`, []FieldError{
			{"interval", unknown},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFieldErrors(t, tt.body, tt.want)
		})
	}
}

// A body without the field that names its shape (target, repo, job_id) is
// read as the one shape its other keys belong to, so that the missing
// field is reported as a field; a body whose keys name no shape, or more
// than one, gets the message that lists the shapes. A job_id given as ""
// is there, and too short.
func TestParseStartRequestShapeOfTheOtherKeys(t *testing.T) {
	const (
		targetRequired = "is required: an object whose type is github, http or simulated"
		repoRequired   = "is required: owner/name, e.g. octocat/hello-world"
	)
	tests := []struct {
		name, body string
		want       []FieldError // nil: the message that lists the shapes
	}{
		{"native without target", `{"instanceId":"abc","pollingIntervalSeconds":5}`, []FieldError{{"target", targetRequired}}},
		{"native job id without target", `{"jobId":"x","pollingIntervalSeconds":5}`, []FieldError{{"target", targetRequired}}},
		{"native with an unknown key", `{"colour":1,"alert":{"webhookUrl":"https://hooks.example.com/x"}}`, []FieldError{
			{"colour", "is not a known field"},
			{"target", targetRequired},
		}},
		{"native key slipped", `{"target":{"tyep":"simulated"},"pollingInterval":5}`, []FieldError{
			{"target.type", "is required: github, http or simulated"},
			{"target.tyep", "is not a known field (did you mean type?)"},
			{"pollingInterval", "is not a known field (did you mean pollingIntervalSeconds?)"},
		}},
		{"native key in another case", `{"Target":{"type":"simulated"}}`, []FieldError{
			{"Target", "is not a known field (did you mean target? field names are case-sensitive)"},
			{"target", targetRequired},
		}},
		{"native target null", `{"target":null}`, []FieldError{{"target", targetRequired}}},
		{"job seed without job_id", `{"polling_interval_seconds":5,"timeout_seconds":60}`, []FieldError{{"job_id", "is required"}}},
		{"job seed with job_id null", `{"job_id":null,"timeout_seconds":60}`, []FieldError{{"job_id", "is required"}}},
		{"job seed with job_id empty", `{"job_id":"","timeout_seconds":60}`, []FieldError{{"job_id", jobIDProblem}}},
		{"github seed without repo", `{"phone":"+14255550100"}`, []FieldError{{"repo", repoRequired}}},
		{"github seed with repo null", `{"repo":null}`, []FieldError{{"repo", repoRequired}}},
		{"keys of two shapes", `{"phone":"+14255550100","pollingIntervalSeconds":5}`, nil},
		{"keys of no shape", `{"foo":1}`, nil},
		{"no keys", `{}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want != nil {
				wantFieldErrors(t, tt.body, tt.want)
				return
			}
			_, err := ParseStartRequest([]byte(tt.body))
			var e *Error
			if !asErr(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Kind != KindInvalid || len(e.Fields) != 0 || !strings.Contains(e.Message, "unrecognised request") {
				t.Errorf("kind %s, message %q, fields %q; want the message that lists the shapes and no fields", e.Kind, e.Message, e.Fields)
			}
		})
	}
}
