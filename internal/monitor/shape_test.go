package monitor

import "testing"

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
