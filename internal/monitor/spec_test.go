package monitor

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseStartRequestShapes(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		shape string
		check func(t *testing.T, r StartRequest)
	}{
		{
			name:  "seed 000 github with phone",
			body:  `{"repo":"octocat/hello-world","phone":"+14255550100"}`,
			shape: "seed-github",
			check: func(t *testing.T, r StartRequest) {
				if r.Spec.Target.Type != TargetGitHub || r.Spec.Target.Repo != "octocat/hello-world" || r.Spec.Target.MinOpenIssues != 3 {
					t.Errorf("target = %+v", r.Spec.Target)
				}
				if r.Spec.Alert == nil || r.Spec.Alert.Phone != "+14255550100" || r.Spec.Alert.ChannelOf() != ChannelSNS {
					t.Errorf("alert = %+v", r.Spec.Alert)
				}
			},
		},
		{
			name:  "seed 002 job with defaults",
			body:  `{"job_id":"my-job-123"}`,
			shape: "seed-job",
			check: func(t *testing.T, r StartRequest) {
				s := r.Spec
				if s.JobID != "my-job-123" || s.PollingIntervalSeconds != 5 || s.TimeoutSeconds != 30 {
					t.Errorf("spec = %+v", s)
				}
				if s.Target.Type != TargetSimulated || s.Target.CompleteAfterChecks != 4 || s.Target.Outcome != StatusCompleted {
					t.Errorf("target = %+v", s.Target)
				}
			},
		},
		{
			name:  "seed 002 job with values",
			body:  `{"job_id":"my-job-123","polling_interval_seconds":10,"timeout_seconds":60}`,
			shape: "seed-job",
			check: func(t *testing.T, r StartRequest) {
				if r.Spec.PollingIntervalSeconds != 10 || r.Spec.TimeoutSeconds != 60 {
					t.Errorf("spec = %+v", r.Spec)
				}
			},
		},
		{
			name:  "native http with defaults",
			body:  `{"instanceId":"job-7","target":{"type":"http","url":"https://jobs.example.com/7"}}`,
			shape: "native",
			check: func(t *testing.T, r StartRequest) {
				tg := r.Spec.Target
				if r.InstanceID != "job-7" || tg.Method != "GET" || tg.StatusPath != "$.status" || tg.DoneValues[0] != "Completed" || tg.RequestTimeoutSeconds != 10 {
					t.Errorf("request = %+v", r)
				}
				if r.Spec.PollingIntervalSeconds != DefaultIntervalSeconds || r.Spec.TimeoutSeconds != DefaultTimeoutSeconds {
					t.Errorf("defaults not applied: %+v", r.Spec)
				}
			},
		},
		{
			name:  "native github with backoff and webhook",
			body:  `{"target":{"type":"github","repo":"a/b","minOpenIssues":10},"pollingIntervalSeconds":30,"backoff":{"multiplier":2,"maxIntervalSeconds":600},"timeoutSeconds":86400,"alert":{"webhookUrl":"https://hooks.example.com/x"}}`,
			shape: "native",
			check: func(t *testing.T, r StartRequest) {
				if r.Spec.Backoff == nil || r.Spec.Alert.ChannelOf() != ChannelWebhook || r.Spec.Target.MinOpenIssues != 10 {
					t.Errorf("spec = %+v", r.Spec)
				}
			},
		},
		{
			name:  "native twilio phone",
			body:  `{"target":{"type":"simulated"},"alert":{"phone":"+447700900123","channel":"twilio"}}`,
			shape: "native",
			check: func(t *testing.T, r StartRequest) {
				if r.Spec.Alert.ChannelOf() != ChannelTwilio {
					t.Errorf("channel = %s", r.Spec.Alert.ChannelOf())
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseStartRequest([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseStartRequest: %v", err)
			}
			if r.Shape != tt.shape {
				t.Errorf("shape = %q, want %q", r.Shape, tt.shape)
			}
			tt.check(t, r)
		})
	}
}

func TestParseStartRequestRejects(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		name string
		body string
		kind Kind
		want string // in the message
	}{
		{"empty", ``, KindInvalid, "empty"},
		{"not an object", `[1,2]`, KindInvalid, "not a JSON object"},
		{"malformed", `{"target":`, KindInvalid, "not a JSON object"},
		{"unknown shape", `{"foo":1}`, KindInvalid, "unrecognised request"},
		{"unknown field", `{"target":{"type":"simulated"},"colour":"red"}`, KindInvalid, `colour is not a known field`},
		{"wrong type", `{"target":{"type":"simulated"},"pollingIntervalSeconds":"10"}`, KindInvalid, `pollingIntervalSeconds must be a whole number, not the string "10"`},
		{"trailing data", `{"target":{"type":"simulated"}} {}`, KindInvalid, "trailing"},
		{"trailing brace", `{"target":{"type":"simulated"}}}`, KindInvalid, "trailing"},
		{"trailing bracket", `{"target":{"type":"simulated"}} ]`, KindInvalid, "trailing"},
		{"target null", `{"target":null}`, KindInvalid, "target is required"},
		{"no target type", `{"target":{}}`, KindInvalid, "target.type is required"},
		{"bad target type", `{"target":{"type":"ftp"}}`, KindInvalid, `not "ftp"`},
		{"interval 0", `{"target":{"type":"simulated"},"pollingIntervalSeconds":0}`, KindInvalid, "pollingIntervalSeconds must be between 1 and 86400"},
		{"interval over a day", `{"target":{"type":"simulated"},"pollingIntervalSeconds":86401}`, KindInvalid, "pollingIntervalSeconds"},
		{"timeout over a year", `{"target":{"type":"simulated"},"timeoutSeconds":31536001}`, KindInvalid, "timeoutSeconds"},
		{"negative timeout", `{"target":{"type":"simulated"},"timeoutSeconds":-1}`, KindInvalid, "timeoutSeconds"},
		{"bad instance id", `{"instanceId":"a b","target":{"type":"simulated"}}`, KindInvalid, "instanceId"},
		{"long instance id", `{"instanceId":"` + long + `","target":{"type":"simulated"}}`, KindInvalid, "instanceId"},
		{"generation suffix", `{"instanceId":"abc-g1","target":{"type":"simulated"}}`, KindInvalid, "instanceId must not end in -g followed by digits"},
		{"long generation suffix", `{"instanceId":"nightly-g20260102","target":{"type":"simulated"}}`, KindInvalid, "instanceId must not end in -g"},
		{"bad repo", `{"repo":"not-a-repo","phone":"+14255550100"}`, KindInvalid, "repo must be owner/name"},
		{"bad phone", `{"repo":"a/b","phone":"4255550100"}`, KindInvalid, "phone must be an E.164"},
		{"github without alert", `{"target":{"type":"github","repo":"a/b"}}`, KindInvalid, "alert is required"},
		{"two alert channels", `{"target":{"type":"simulated"},"alert":{"phone":"+14255550100","webhookUrl":"https://x.example"}}`, KindInvalid, "exactly one"},
		{"no alert channel", `{"target":{"type":"simulated"},"alert":{}}`, KindInvalid, "exactly one"},
		{"bad topic", `{"target":{"type":"simulated"},"alert":{"topicArn":"arn:aws:sqs:us-east-1:123456789012:q"}}`, KindInvalid, "topicArn"},
		{"ftp url", `{"target":{"type":"http","url":"ftp://x.example/job"}}`, KindInvalid, "target.url"},
		{"url with credentials", `{"target":{"type":"http","url":"https://u:p@x.example/job"}}`, KindInvalid, "target.url"},
		{"bad method", `{"target":{"type":"http","url":"https://x.example","method":"DELETE"}}`, KindInvalid, "target.method"},
		{"header injection", `{"target":{"type":"http","url":"https://x.example","headers":{"X-A":"1\r\nX-B: 2"}}}`, KindInvalid, "target.headers"},
		{"bad status path", `{"target":{"type":"http","url":"https://x.example","statusPath":"status"}}`, KindInvalid, "statusPath"},
		{"simulated bad outcome", `{"target":{"type":"simulated","outcome":"Maybe"}}`, KindInvalid, "target.outcome"},
		{"simulated too many checks", `{"target":{"type":"simulated","completeAfterChecks":5000}}`, KindInvalid, "completeAfterChecks"},
		{"backoff below 1", `{"target":{"type":"simulated"},"backoff":{"multiplier":0.5,"maxIntervalSeconds":100}}`, KindInvalid, "backoff.multiplier"},
		{"backoff cap below interval", `{"target":{"type":"simulated"},"pollingIntervalSeconds":60,"backoff":{"multiplier":2,"maxIntervalSeconds":30}}`, KindInvalid, "backoff.maxIntervalSeconds"},
		{"channel without phone", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","channel":"twilio"}}`, KindInvalid, "alert.channel"},
		{"bad template", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":"{{.Nope"}}`, KindInvalid, "alert.message"},
		{"template field the data lacks", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":"{{.StatusQuery}}"}}`, KindInvalid, "alert.message"},
		{"template loop", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":"{{range 2147483647}}{{range 2147483647}}{{end}}{{end}}"}}`, KindInvalid, "alert.message"},
		{"template loop behind a condition", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":"{{if .CheckCount}}{{range 9}}x{{end}}{{end}}"}}`, KindInvalid, "alert.message"},
		{"template recursion", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":"{{define \"a\"}}{{template \"a\"}}{{end}}{{template \"a\"}}"}}`, KindInvalid, "alert.message"},
		{"template block", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":"{{block \"b\" .}}x{{end}}"}}`, KindInvalid, "alert.message"},
		{"template doubling a variable", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":"{{$a := \"xxxxxxxxxxxxxxxx\"}}` +
			strings.Repeat(`{{$a = printf \"%s%s\" $a $a}}`, 22) + `{{len $a}}"}}`, KindInvalid, "alert.message renders to more than 4096 bytes"},
		{"template escaping an escape", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":"{{len ` +
			strings.Repeat(`(js `, 24) + `\"\\\\\"` + strings.Repeat(`)`, 24) + `}}"}}`, KindInvalid, "alert.message renders to more than 4096 bytes"},
		{"template output too long", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":"{{printf \"%0999999d\" 0}}"}}`, KindInvalid, "alert.message renders to more than 4096 bytes"},
		{"seed job with an empty id", `{"job_id":""}`, KindInvalid, "job_id must be 1 to 128"},
		{"seed job bad interval", `{"job_id":"j","polling_interval_seconds":0}`, KindInvalid, "polling_interval_seconds"},
		{"seed job unknown field", `{"job_id":"j","interval":5}`, KindInvalid, `interval is not a known field`},
		{"too large", `{"target":{"type":"simulated"},"jobId":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, KindTooLarge, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseWithin(t, tt.body)
			if err == nil {
				t.Fatal("ParseStartRequest succeeded, want an error")
			}
			if got := KindOf(err); got != tt.kind {
				t.Errorf("kind = %q, want %q (%v)", got, tt.kind, err)
			}
			if msg := MessageOf(err); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not mention %q", msg, tt.want)
			}
		})
	}
}

func TestHasGenerationSuffix(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"abc-g1", true},
		{"abc-g0", true},
		{"abc-g01", true},
		{"a-g1-g22", true},
		{"abc", false},
		{"abc-g", false},
		{"abc-g1x", false},
		{"abc-G1", false},
		{"abc_g1", false},
		{"abcg1", false},
		{"g1", false},
		{"abc-g1-x", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := HasGenerationSuffix(tt.id); got != tt.want {
				t.Errorf("HasGenerationSuffix(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
	// Ids that end differently are still accepted.
	for _, id := range []string{"abc-g1x", "abc-G1", "export-gamma"} {
		if _, err := ParseStartRequest([]byte(`{"instanceId":"` + id + `","target":{"type":"simulated"}}`)); err != nil {
			t.Errorf("instanceId %q: %v", id, err)
		}
	}
}

// Every problem is reported at once, so a caller fixes a request in one go.
func TestParseStartRequestReportsAllProblems(t *testing.T) {
	_, err := ParseStartRequest([]byte(`{"instanceId":"bad id","target":{"type":"http","url":"nope"},"pollingIntervalSeconds":0}`))
	var e *Error
	if !asErr(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	fields := map[string]bool{}
	for _, f := range e.Fields {
		fields[f.Field] = true
	}
	for _, want := range []string{"instanceId", "target.url", "pollingIntervalSeconds"} {
		if !fields[want] {
			t.Errorf("no problem reported for %s; got %+v", want, e.Fields)
		}
	}
}

// Every problem, type errors and unknown fields included, is listed in
// fields in input order.
func TestParseStartRequestFieldsInInputOrder(t *testing.T) {
	tests := []struct {
		name, body string
		want       []FieldError
	}{
		{"seed job: type errors and a range", `{"job_id":5,"polling_interval_seconds":"x","timeout_seconds":-1}`, []FieldError{
			{"job_id", "must be a string, not the number 5"},
			{"polling_interval_seconds", `must be a whole number, not the string "x"`},
			{"timeout_seconds", "must be between 1 and 31536000 seconds (one year)"},
		}},
		{"seed job: empty id and a range", `{"job_id":"","polling_interval_seconds":999999}`, []FieldError{
			{"job_id", "must be 1 to 128 letters, digits or . _ : / -"},
			{"polling_interval_seconds", "must be between 1 and 86400 seconds"},
		}},
		{"seed job: fraction", `{"job_id":"j","polling_interval_seconds":1.5}`, []FieldError{
			{"polling_interval_seconds", "must be a whole number, not 1.5"},
		}},
		{"seed job: unknown field first", `{"colour":"red","job_id":"j","timeout_seconds":0}`, []FieldError{
			{"colour", "is not a known field"},
			{"timeout_seconds", "must be between 1 and 31536000 seconds (one year)"},
		}},
		{"native: nested field before a later one", `{"alert":{"phone":"1"},"target":{"type":"simulated"},"pollingIntervalSeconds":0}`, []FieldError{
			{"alert.phone", "must be an E.164 number such as +14255550100"},
			{"pollingIntervalSeconds", "must be between 1 and 86400 seconds"},
		}},
		{"native: everything at once", `{"pollingIntervalSeconds":true,"target":{"type":"http","url":"nope","headers":{"X-A":5},"doneValues":"Done","colour":1},"jobId":"a b","instanceId":"x y"}`, []FieldError{
			{"pollingIntervalSeconds", "must be a whole number, not true"},
			{"target.url", "must be an absolute http or https URL"},
			{"target.headers.X-A", "must be a string, not the number 5"},
			{"target.doneValues", "must be an array, not the string \"Done\""},
			{"target.colour", "is not a known field"},
			{"jobId", `must be 1 to 128 letters, digits or . _ : / -, not "a b"`},
			{"instanceId", `must be 1 to 64 letters, digits, '-' or '_', not "x y"`},
		}},
		{"native: wrong type of target", `{"target":5,"timeoutSeconds":"1"}`, []FieldError{
			{"target", "must be an object, not the number 5"},
			{"timeoutSeconds", `must be a whole number, not the string "1"`},
		}},
		{"native: missing nested fields sort at their object", `{"timeoutSeconds":0,"target":{"type":"http","method":"PUT"}}`, []FieldError{
			{"timeoutSeconds", "must be between 1 and 31536000 seconds (one year)"},
			{"target.url", "must be an absolute http or https URL"},
			{"target.method", "must be GET or POST"},
		}},
		{"native: missing top-level fields last", `{"target":{"type":"github","repo":"a/b","minOpenIssues":-1}}`, []FieldError{
			{"target.minOpenIssues", "must be between 1 and 10000: a check reads at most 100 pages of 100 open issues and pull requests"},
			{"alert", "is required for a github target: it says whom to tell when the threshold is reached"},
		}},
		{"native: empty instance id", `{"instanceId":"","target":{"type":"simulated"}}`, []FieldError{
			{"instanceId", "must be 1 to 64 letters, digits, '-' or '_'"},
		}},
		{"native: empty job id", `{"jobId":"","target":{"type":"simulated"}}`, []FieldError{
			{"jobId", "must be 1 to 128 letters, digits or . _ : / -"},
		}},
		{"seed github: unknown field and bad phone", `{"phone":"12","repo":"a/b","extra":null}`, []FieldError{
			{"phone", "must be an E.164 number such as +14255550100"},
			{"extra", "is not a known field"},
		}},
		{"huge number", `{"job_id":"j","timeout_seconds":1e999}`, []FieldError{
			{"timeout_seconds", "is a number far too large"},
		}},
		{"whole number beyond an int64", `{"job_id":"j","timeout_seconds":1e19}`, []FieldError{
			{"timeout_seconds", "is a number far too large"},
		}},
		{"a fraction too small for a float", `{"job_id":"j","timeout_seconds":1e-400}`, []FieldError{
			{"timeout_seconds", "must be a whole number, not 1e-400"},
		}},
		{"too many digits", `{"job_id":"j","timeout_seconds":99999999999999999999}`, []FieldError{
			{"timeout_seconds", "is a number far too large"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFieldErrors(t, tt.body, tt.want)
		})
	}
	// Absent or null ids are still generated.
	for _, body := range []string{`{"target":{"type":"simulated"}}`, `{"instanceId":null,"jobId":null,"target":{"type":"simulated"}}`} {
		if r, err := ParseStartRequest([]byte(body)); err != nil || r.InstanceID != "" || r.Spec.JobID != "" {
			t.Errorf("ParseStartRequest(%s) = %+v, %v; want no ids and no error", body, r, err)
		}
	}
}

// Keys match field names exactly, at every depth: a key in another case is
// an unknown field, and a key given twice in one object is refused rather
// than the last one winning.
func TestParseStartRequestExactKeys(t *testing.T) {
	const twice = "is given more than once"
	hint := func(name string) string {
		return "is not a known field (did you mean " + name + "? field names are case-sensitive)"
	}
	tests := []struct {
		name, body string
		want       []FieldError
	}{
		{"miscased top-level field", `{"instanceId":"x","target":{"type":"simulated"},"PollingIntervalSeconds":5}`, []FieldError{
			{"PollingIntervalSeconds", hint("pollingIntervalSeconds")},
		}},
		{"miscased target beside target", `{"TARGET":{"type":"simulated"},"target":{"type":"simulated"}}`, []FieldError{
			{"TARGET", hint("target")},
		}},
		{"miscased target fields", `{"target":{"Type":"simulated","type":"simulated","CompleteAfterChecks":2}}`, []FieldError{
			{"target.Type", hint("type")},
			{"target.CompleteAfterChecks", hint("completeAfterChecks")},
		}},
		{"miscased alert field", `{"target":{"type":"simulated"},"alert":{"webhookURL":"https://hooks.example.com/x"}}`, []FieldError{
			{"alert", "must have exactly one of phone, topicArn and webhookUrl"},
			{"alert.webhookURL", hint("webhookUrl")},
		}},
		{"miscased seed field", `{"job_id":"j","Polling_Interval_Seconds":10}`, []FieldError{
			{"Polling_Interval_Seconds", hint("polling_interval_seconds")},
		}},
		{"instance id twice", `{"instanceId":"a","instanceId":"b","target":{"type":"simulated"}}`, []FieldError{
			{"instanceId", twice},
		}},
		{"target twice", `{"target":{"type":"simulated"},"target":{"type":"http"}}`, []FieldError{
			{"target", twice},
		}},
		{"target field twice", `{"target":{"type":"simulated","completeAfterChecks":2,"completeAfterChecks":3}}`, []FieldError{
			{"target.completeAfterChecks", twice},
		}},
		{"backoff field twice", `{"target":{"type":"simulated"},"backoff":{"multiplier":2,"maxIntervalSeconds":600,"multiplier":3}}`, []FieldError{
			{"backoff.multiplier", twice},
		}},
		{"alert field twice", `{"target":{"type":"simulated"},"alert":{"phone":"+14255550100","phone":"+14255550101"}}`, []FieldError{
			{"alert.phone", twice},
		}},
		{"header twice", `{"target":{"type":"http","url":"https://x.example","headers":{"X-A":"1","X-A":"2"}}}`, []FieldError{
			{"target.headers.X-A", twice},
		}},
		{"header twice in another case", `{"target":{"type":"http","url":"https://x.example","headers":{"X-A":"1","Accept":"*/*","x-a":"2"}}}`, []FieldError{
			{"target.headers.X-A", "names the same header as x-a (header names ignore case)"},
			{"target.headers.x-a", "names the same header as X-A (header names ignore case)"},
		}},
		{"seed github field twice", `{"repo":"a/b","repo":"c/d"}`, []FieldError{
			{"repo", twice},
		}},
		{"seed job field twice", `{"job_id":"a","timeout_seconds":5,"job_id":"b"}`, []FieldError{
			{"job_id", twice},
		}},
		{"unknown field twice is one problem", `{"target":{"type":"simulated"},"colour":1,"colour":2}`, []FieldError{
			{"colour", "is not a known field"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFieldErrors(t, tt.body, tt.want)
		})
	}
}

// A field left out (or null) takes its default; one given explicitly is
// validated as it is, so 0 or "" out of range is refused, not defaulted.
func TestParseStartRequestExplicitZeroIsNotDefault(t *testing.T) {
	const http = `"type":"http","url":"https://x.example"`
	const alert = `,"alert":{"webhookUrl":"https://hooks.example.com/x"}`
	tests := []struct {
		name, body string
		want       []FieldError
	}{
		{"completeAfterChecks 0", `{"target":{"type":"simulated","completeAfterChecks":0}}`, []FieldError{
			{"target.completeAfterChecks", "must be between 1 and 1000"}}},
		{"outcome empty", `{"target":{"type":"simulated","outcome":""}}`, []FieldError{
			{"target.outcome", "must be Completed or Failed"}}},
		{"minOpenIssues 0", `{"target":{"type":"github","repo":"a/b","minOpenIssues":0}` + alert + `}`, []FieldError{
			{"target.minOpenIssues", "must be between 1 and 10000: a check reads at most 100 pages of 100 open issues and pull requests"}}},
		{"requestTimeoutSeconds 0", `{"target":{` + http + `,"requestTimeoutSeconds":0}}`, []FieldError{
			{"target.requestTimeoutSeconds", "must be between 1 and 60"}}},
		{"method empty", `{"target":{` + http + `,"method":""}}`, []FieldError{
			{"target.method", "must be GET or POST"}}},
		{"method HEAD", `{"target":{` + http + `,"method":"HEAD"}}`, []FieldError{
			{"target.method", "must be GET or POST: HEAD answers have no body to read the job's status from"}}},
		{"method head in lower case", `{"target":{` + http + `,"method":"head"}}`, []FieldError{
			{"target.method", "must be GET or POST: HEAD answers have no body to read the job's status from"}}},
		{"statusPath empty", `{"target":{` + http + `,"statusPath":""}}`, []FieldError{
			{"target.statusPath", "must be a JSONPath starting with $, e.g. $.status"}}},
		// Each problem names the rule broken, not one the value meets.
		{"statusPath with a carriage return", `{"target":{` + http + `,"statusPath":"$.st\rtatus"}}`, []FieldError{
			{"target.statusPath", "must not contain whitespace or control characters"}}},
		{"statusPath with a no-break space", `{"target":{` + http + `,"statusPath":"$.st\u00a0atus"}}`, []FieldError{
			{"target.statusPath", "must not contain whitespace or control characters"}}},
		{"statusPath too long", `{"target":{` + http + `,"statusPath":"$.` + strings.Repeat("a", 255) + `"}}`, []FieldError{
			{"target.statusPath", "must be at most 256 characters"}}},
		{"url with a password", `{"target":{"type":"http","url":"https://u:p@jobs.example.com/1"}}`, []FieldError{
			{"target.url", "must not carry a user name or password: send credentials in headers"}}},
		{"url too long", `{"target":{"type":"http","url":"https://jobs.example.com/` + strings.Repeat("a", 2048) + `"}}`, []FieldError{
			{"target.url", "must be at most 2048 characters"}}},
		{"header value too long", `{"target":{` + http + `,"headers":{"X-A":"` + strings.Repeat("a", 4097) + `"}}}`, []FieldError{
			{"target.headers.X-A", "must be at most 4096 characters"}}},
		{"header value on two lines", `{"target":{` + http + `,"headers":{"X-A":"a\nb"}}}`, []FieldError{
			{"target.headers.X-A", "must be a single line"}}},
		{"header name invalid", `{"target":{` + http + `,"headers":{"X A":"a"}}}`, []FieldError{
			{"target.headers.X A", "is not a valid header name"}}},
		{"doneValues empty", `{"target":{` + http + `,"doneValues":[]}}`, []FieldError{
			{"target.doneValues", `must list at least one value; leave it out for the default ["Completed"]`}}},
		{"failedValues empty", `{"target":{` + http + `,"failedValues":[]}}`, []FieldError{
			{"target.failedValues", `must list at least one value; leave it out for the default ["Failed"]`}}},
		// A status in two lists (compared ignoring case, as the check
		// does) would end a failed job as Completed; "" never matches.
		{"a value in two lists", `{"target":{` + http + `,"doneValues":["completed"],"failedValues":["Completed"]}}`, []FieldError{
			{"target.failedValues", `"Completed" is in doneValues too (values compare ignoring case)`}}},
		{"a value in the default list too", `{"target":{` + http + `,"runningValues":["FAILED"]}}`, []FieldError{
			{"target.runningValues", `"FAILED" is in failedValues too (values compare ignoring case)`}}},
		// The check compares with strings.EqualFold: so does the start.
		{"a value in two lists, folded", `{"target":{` + http + `,"doneValues":["ſuccess"],"failedValues":["SUCCESS"]}}`, []FieldError{
			{"target.failedValues", `"SUCCESS" is in doneValues too (values compare ignoring case)`}}},
		// A number in the answer matches list values that are equal numbers.
		{"a number in two lists", `{"target":{` + http + `,"doneValues":["2"],"failedValues":["2.0"],"runningValues":["20e-1"]}}`, []FieldError{
			{"target.failedValues", `"2.0" is in doneValues too (numbers compare by value)`},
			{"target.runningValues", `"20e-1" is in doneValues too (numbers compare by value)`}}},
		{"alert channel empty", `{"target":{"type":"simulated"},"alert":{"phone":"+14255550100","channel":""}}`, []FieldError{
			{"alert.channel", "must be sns or twilio, and only with phone"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseStartRequest([]byte(tt.body))
			var e *Error
			if !asErr(err, &e) {
				t.Fatalf("ParseStartRequest = %+v, %v; want an *Error", r.Spec.Target, err)
			}
			if e.Kind != KindInvalid || !slices.Equal(e.Fields, tt.want) {
				t.Errorf("kind %s, fields:\n got %q\nwant %q", e.Kind, e.Fields, tt.want)
			}
		})
	}
	// Left out or null, each takes its default.
	for _, body := range []string{
		`{"target":{"type":"simulated"}}`,
		`{"target":{"type":"simulated","completeAfterChecks":null,"outcome":null}}`,
	} {
		r, err := ParseStartRequest([]byte(body))
		if err != nil || r.Spec.Target.CompleteAfterChecks != DefaultCompleteAfterChecks || r.Spec.Target.Outcome != StatusCompleted {
			t.Errorf("ParseStartRequest(%s) = %+v, %v; want the defaults", body, r.Spec.Target, err)
		}
	}
	for _, body := range []string{
		`{"target":{` + http + `}}`,
		`{"target":{` + http + `,"method":null,"statusPath":null,"doneValues":null,"failedValues":null,"requestTimeoutSeconds":null}}`,
	} {
		r, err := ParseStartRequest([]byte(body))
		tg := r.Spec.Target
		if err != nil || tg.Method != DefaultHTTPMethod || tg.StatusPath != DefaultHTTPStatusPath || !slices.Equal(tg.DoneValues, []string{StatusCompleted}) ||
			!slices.Equal(tg.FailedValues, []string{StatusFailed}) || tg.RequestTimeoutSeconds != DefaultHTTPRequestTimeout {
			t.Errorf("ParseStartRequest(%s) = %+v, %v; want the defaults", body, tg, err)
		}
	}
	for _, body := range []string{
		`{"target":{"type":"github","repo":"a/b"}` + alert + `}`,
		`{"target":{"type":"github","repo":"a/b","minOpenIssues":null}` + alert + `}`,
	} {
		if r, err := ParseStartRequest([]byte(body)); err != nil || r.Spec.Target.MinOpenIssues != DefaultMinOpenIssues {
			t.Errorf("ParseStartRequest(%s) = %+v, %v; want the default", body, r.Spec.Target, err)
		}
	}
}

// A backoff names both of its fields: neither has a default, so one left
// out (or null) is required, not out of range.
func TestParseStartRequestBackoffFieldsRequired(t *testing.T) {
	const sim = `"target":{"type":"simulated"}`
	multiplierRequired := FieldError{"backoff.multiplier", "is required: the factor, 1 to 10, that multiplies the wait after each check"}
	maxRequired := FieldError{"backoff.maxIntervalSeconds", "is required: the longest wait, pollingIntervalSeconds to 86400 seconds"}
	tests := []struct {
		name, body string
		want       []FieldError
	}{
		{"no maxIntervalSeconds", `{` + sim + `,"backoff":{"multiplier":2}}`, []FieldError{maxRequired}},
		{"no multiplier", `{` + sim + `,"backoff":{"maxIntervalSeconds":100}}`, []FieldError{multiplierRequired}},
		{"null multiplier", `{` + sim + `,"backoff":{"multiplier":null,"maxIntervalSeconds":100}}`, []FieldError{multiplierRequired}},
		{"empty", `{` + sim + `,"backoff":{}}`, []FieldError{multiplierRequired, maxRequired}},
		{"multiplier 0 is given", `{` + sim + `,"backoff":{"multiplier":0,"maxIntervalSeconds":100}}`, []FieldError{
			{"backoff.multiplier", "must be between 1 and 10"}}},
		{"maxIntervalSeconds 0 is given", `{` + sim + `,"backoff":{"multiplier":2,"maxIntervalSeconds":0}}`, []FieldError{
			{"backoff.maxIntervalSeconds", "must be between pollingIntervalSeconds (60) and 86400"}}},
		{"maxIntervalSeconds below the interval given", `{` + sim + `,"pollingIntervalSeconds":120,"backoff":{"multiplier":2,"maxIntervalSeconds":90}}`, []FieldError{
			{"backoff.maxIntervalSeconds", "must be between pollingIntervalSeconds (120) and 86400"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseStartRequest([]byte(tt.body))
			var e *Error
			if !asErr(err, &e) {
				t.Fatalf("ParseStartRequest = %+v, %v; want an *Error", r.Spec.Backoff, err)
			}
			if e.Kind != KindInvalid || !slices.Equal(e.Fields, tt.want) {
				t.Errorf("kind %s, fields:\n got %q\nwant %q", e.Kind, e.Fields, tt.want)
			}
		})
	}
	for _, body := range []string{`{` + sim + `}`, `{` + sim + `,"backoff":null}`} {
		if r, err := ParseStartRequest([]byte(body)); err != nil || r.Spec.Backoff != nil {
			t.Errorf("ParseStartRequest(%s) = %+v, %v; want no backoff", body, r.Spec.Backoff, err)
		}
	}
}

// A field of another target type is a problem with that field, on its
// own path.
func TestParseStartRequestFieldOfAnotherTarget(t *testing.T) {
	const (
		simulated = "does not apply to a simulated target, which takes only completeAfterChecks and outcome"
		github    = "does not apply to a github target, which takes only repo and minOpenIssues"
		http      = "does not apply to an http target, which takes only url, method, headers, statusPath, doneValues, failedValues, runningValues and requestTimeoutSeconds"
	)
	const alert = `,"alert":{"webhookUrl":"https://hooks.example.com/x"}`
	tests := []struct {
		name, body string
		want       []FieldError
	}{
		{"repo on simulated", `{"target":{"type":"simulated","repo":"a/b"}}`, []FieldError{{"target.repo", simulated}}},
		{"several on simulated", `{"target":{"url":"https://x.example","type":"simulated","completeAfterChecks":2,"minOpenIssues":0,"headers":{}}}`, []FieldError{
			{"target.url", simulated}, {"target.minOpenIssues", simulated}, {"target.headers", simulated}}},
		{"url on github", `{"target":{"type":"github","repo":"a/b","url":"https://x.example","outcome":"Failed"}` + alert + `}`, []FieldError{
			{"target.url", github}, {"target.outcome", github}}},
		{"repo on http", `{"target":{"type":"http","url":"https://x.example","repo":"a/b","completeAfterChecks":3}}`, []FieldError{
			{"target.repo", http}, {"target.completeAfterChecks", http}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantFieldErrors(t, tt.body, tt.want)
		})
	}
	// null is as good as left out.
	if _, err := ParseStartRequest([]byte(`{"target":{"type":"simulated","repo":null,"url":null}}`)); err != nil {
		t.Errorf("null fields of another target: %v", err)
	}
}

// The done, failed and running values of an HTTP target are limited
// together, defaults included, and the problem says so.
func TestParseStartRequestValueLimit(t *testing.T) {
	values := func(prefix string, n int) string {
		vs := make([]string, n)
		for i := range vs {
			vs[i] = fmt.Sprintf("%q", fmt.Sprintf("%s%d", prefix, i))
		}
		return "[" + strings.Join(vs, ",") + "]"
	}
	body := func(lists string) string {
		return `{"target":{"type":"http","url":"https://x.example"` + lists + `}}`
	}
	tests := []struct {
		name, lists string
		want        []FieldError // nil: accepted
	}{
		{"30 + 30", `,"doneValues":` + values("d", 30) + `,"failedValues":` + values("f", 30), nil},
		{"30 + 31", `,"doneValues":` + values("d", 30) + `,"failedValues":` + values("f", 31), []FieldError{{"target.failedValues",
			"must be shorter: doneValues, failedValues and runningValues may have at most 60 values together, and they have 30 + 31 + 0 = 61"}}},
		{"default done and failed count", `,"runningValues":` + values("r", 59), []FieldError{{"target.runningValues",
			"must be shorter: doneValues, failedValues and runningValues may have at most 60 values together, and they have 1 + 1 + 59 = 61, counting the default doneValues and failedValues"}}},
		{"58 running", `,"runningValues":` + values("r", 58), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStartRequest([]byte(body(tt.lists)))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ParseStartRequest: %v", err)
				}
				return
			}
			var e *Error
			if !asErr(err, &e) || e.Kind != KindInvalid || !slices.Equal(e.Fields, tt.want) {
				t.Errorf("err = %v; want fields %q", err, tt.want)
			}
		})
	}
}

func asErr(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

func TestFormatTimestamp(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05Z"},
		{time.Date(2026, 1, 2, 3, 4, 5, 1, time.UTC), "2026-01-02T03:04:06Z"},
		{time.Date(2026, 1, 2, 4, 4, 5, 0, time.FixedZone("x", 3600)), "2026-01-02T03:04:05Z"},
	}
	for _, tt := range tests {
		if got := FormatTimestamp(tt.in); got != tt.want {
			t.Errorf("FormatTimestamp(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// ExpiresAt never cuts the timeout short: a start within a second expires
// at the next whole second after start plus the timeout.
func TestExpiresAt(t *testing.T) {
	spec := Spec{TimeoutSeconds: 60}
	tests := []struct {
		name  string
		start time.Time
		want  time.Time
	}{
		{"whole second", time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), time.Date(2026, 1, 2, 15, 5, 5, 0, time.UTC)},
		{"a fraction rounds up", time.Date(2026, 1, 2, 15, 4, 5, 112_842_000, time.UTC), time.Date(2026, 1, 2, 15, 5, 6, 0, time.UTC)},
		{"a microsecond rounds up", time.Date(2026, 1, 2, 15, 4, 5, 1000, time.UTC), time.Date(2026, 1, 2, 15, 5, 6, 0, time.UTC)},
		{"just before a second", time.Date(2026, 1, 2, 15, 4, 5, 999_999_000, time.UTC), time.Date(2026, 1, 2, 15, 5, 6, 0, time.UTC)},
		{"another zone", time.Date(2026, 1, 2, 16, 4, 5, 500_000_000, time.FixedZone("x", 3600)), time.Date(2026, 1, 2, 15, 5, 6, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := spec.ExpiresAt(tt.start)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("ExpiresAt(%s) = %s, want %s", tt.start.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano), tt.want.Format(time.RFC3339Nano))
			}
			if least := tt.start.Add(time.Minute); got.Before(least) {
				t.Errorf("ExpiresAt(%s) = %s, earlier than start plus the timeout %s", tt.start.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano), least.Format(time.RFC3339Nano))
			}
		})
	}
}

func TestNextInterval(t *testing.T) {
	fixed := Spec{PollingIntervalSeconds: 10}
	backoff := Spec{PollingIntervalSeconds: 10, Backoff: &Backoff{Multiplier: 2, MaxIntervalSeconds: 50}}
	tests := []struct {
		name    string
		spec    Spec
		current int
		want    int
	}{
		{"fixed first", fixed, 0, 10},
		{"fixed stays", fixed, 10, 10},
		{"backoff first", backoff, 0, 10},
		{"backoff doubles", backoff, 10, 20},
		{"backoff caps", backoff, 40, 50},
		{"backoff stays at cap", backoff, 50, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.spec.NextInterval(tt.current); got != tt.want {
				t.Errorf("NextInterval(%d) = %d, want %d", tt.current, got, tt.want)
			}
		})
	}
}

// renderOrDefault is the message Alert sends: renderMessage's, whatever
// its error.
func renderOrDefault(a Alert, d AlertData) Message {
	msg, _ := renderMessage(a, d)
	return msg
}

func TestRenderMessage(t *testing.T) {
	d := AlertData{Name: "GitHubIssuesMonitor", JobID: "j1", Target: "a/b", OpenIssues: 5, Threshold: 3, Status: "Running"}
	if got := renderOrDefault(Alert{}, d).Text; got != "GitHubIssuesMonitor j1: a/b has at least 5 open issues (threshold 3)." {
		t.Errorf("default message = %q", got)
	}
	if got := renderOrDefault(Alert{Message: "{{.Target}}!"}, d).Text; got != "a/b!" {
		t.Errorf("custom message = %q", got)
	}
	// A template that grows past MaxMessageBytes only with the alert's
	// data falls back to the default message.
	if got := renderOrDefault(Alert{Message: `{{if .OpenIssues}}{{printf "%0999999d" 0}}{{end}}`}, d).Text; !strings.Contains(got, "5 open issues") {
		t.Errorf("renderMessage of a template rendering a megabyte = %.80q, want the default message", got)
	}
	// So does one that fails at run time.
	if got := renderOrDefault(Alert{Message: "{{.Missing}}"}, d).Text; !strings.Contains(got, "5 open issues") {
		t.Errorf("fallback message = %q", got)
	}
}

// A template cannot call a method of its data: time.Time's Format, given
// a layout of the template's choosing, builds a longer layout again ("1"
// is "11" in November), so a short template grew a variable without bound
// while its output stayed short, and the start's check over the zero time
// (January) passed it.
func TestTemplateCallsNoMethods(t *testing.T) {
	grow := `{{$s := "1"}}{{with .ObservedAt}}` + strings.Repeat(`{{$s = .Format $s}}`, 20) + `{{end}}{{len $s}}`
	body := `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":` + strconv.Quote(grow) + `}}`
	if _, err := ParseStartRequest([]byte(body)); !fieldRefused(err, "alert.message") {
		t.Errorf("start with a template calling .ObservedAt.Format: %v, want alert.message refused", err)
	}
	d := AlertData{Name: "m", JobID: "j", Target: "a/b", Status: "Running", ObservedAt: time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)}
	if got := renderOrDefault(Alert{Message: grow}, d).Text; got != "m j: a/b is Running." {
		t.Errorf("renderMessage in November = %q, want the default message", got)
	}
	if got := renderOrDefault(Alert{Message: "at {{.ObservedAt}}"}, d).Text; got != "at 2026-11-05T10:00:00Z" {
		t.Errorf(".ObservedAt renders as %q, want RFC 3339 as in the webhook's data", got)
	}
}

// A template naming what the alert data does not have is refused in the
// data's terms, not Go's ("can't evaluate field Foo in type
// monitor.templateData"), with the names it may use.
func TestTemplateFieldProblem(t *testing.T) {
	const use = "use .InstanceID, .JobID, .Name, .Target, .Status, .Detail, .OpenIssues, .Threshold, .CheckCount or .ObservedAt"
	const plain = "the alert data's values are strings and integers, which have no fields or methods"
	tests := []struct{ tmpl, want string }{
		{"{{.Foo}}", "names .Foo, which is not alert data; " + use},
		{"x {{if .CheckCount}}{{.Nope}}{{end}}", "names .Nope, which is not alert data; " + use},
		// Only empty data ("" and 0) takes the else branch.
		{"{{if .Threshold}}x{{else}}{{.Nope}}{{end}}", "names .Nope, which is not alert data; " + use},
		{"{{$.Foo}}", "names .Foo, which is not alert data; " + use},
		{"{{.jobId}}", "names .jobId, which is not alert data (did you mean .JobID? names are case-sensitive)"},
		{"{{.OBSERVEDAT}}", "names .OBSERVEDAT, which is not alert data (did you mean .ObservedAt? names are case-sensitive)"},
		{"{{.Status.Foo}}", "names .Foo on a string: " + plain},
		{"{{.CheckCount.Foo}}", "names .Foo on an integer: " + plain},
		{`{{.ObservedAt.Format "15:04"}}`, "names .Format on a string: " + plain},
		{`{{with .ObservedAt}}{{.Format "15:04"}}{{end}}`, "names .Format on a string: " + plain},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			body := `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":` + strconv.Quote(tt.tmpl) + `}}`
			_, err := ParseStartRequest([]byte(body))
			var e *Error
			if !asErr(err, &e) {
				t.Fatalf("ParseStartRequest = %v, want an *Error", err)
			}
			want := []FieldError{{"alert.message", tt.want}}
			if !slices.Equal(e.Fields, want) {
				t.Errorf("fields:\n got %q\nwant %q", e.Fields, want)
			}
		})
	}
}

// A template that fails whatever the alert's data, the data's types being
// fixed, is refused at the start, not found at alert time as the default
// message; one that fails only on data shorter than a real alert's (an
// index past the end of a sample's value) is accepted. An empty message
// is refused like any other empty field that has a default; null is the
// default.
func TestTemplateFailingOnAnyData(t *testing.T) {
	tests := []struct {
		message string // JSON
		refused string // the problem's start; "" for accepted
	}{
		{`"{{call .Target}}"`, "fails with any alert's data: "},
		{`"{{index .CheckCount 0}}"`, "fails with any alert's data: "},
		{`"{{len .OpenIssues}}"`, "fails with any alert's data: "},
		{`"{{if eq .Status 1}}x{{end}}"`, "fails with any alert's data: "},
		{`"{{if .CheckCount}}{{slice .Threshold 1}}{{end}}"`, "fails with any alert's data: "},
		{`"{{index .Status 0}}"`, ""},
		{`"{{slice .Detail 0 20}}"`, ""},
		{`"{{index .Detail 10}}"`, ""},
		{`""`, "must not be empty: leave it out for the default message"},
		{`null`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.message, func(t *testing.T) {
			body := `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":` + tt.message + `}}`
			_, err := ParseStartRequest([]byte(body))
			if tt.refused == "" {
				if err != nil {
					t.Errorf("ParseStartRequest = %v, want accepted", err)
				}
				return
			}
			var e *Error
			if !asErr(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "alert.message" || !strings.HasPrefix(e.Fields[0].Problem, tt.refused) {
				t.Errorf("ParseStartRequest = %v, want alert.message refused: %s...", err, tt.refused)
			}
		})
	}
}

// printf's widths and precisions are bounded before it formats: a short
// template of "%0999999d" verbs made the start's check allocate hundreds of
// megabytes (a megabyte a verb) before the output's cap stopped it.
func TestTemplatePrintfWidthsBounded(t *testing.T) {
	for _, tt := range []struct{ tmpl, reason string }{
		{strings.Repeat(`{{printf "%0999999d" 0}}`, 30), "renders to more than"},
		{`{{printf "%.999999f" 1.0}}`, "renders to more than"},
		{`{{printf "%*d" 999999 1}}`, "from an argument"},
		// fmt takes any character as the verb: "%!" is one directive, and
		// the width after it belongs to the next.
		{strings.Repeat(`{{printf "%!%0999999d" 0}}`, 20), "renders to more than"},
		// Argument indexes are refused outright: fmt's reading of "["
		// hid the next directive's width from the scan (it skips a "["
		// without "]" alone, and reads no second index after a good one).
		{`{{printf "%[1]*d" 999999 1}}`, "argument indexes"},
		{`{{printf "%-+# 0[1]999999.5d" 1}}`, "argument indexes"},
		{`{{printf "%.[1]999999f" 1.0}}`, "argument indexes"},
		{strings.Repeat(`{{printf "%[%%09999999d" 1}}`, 5), "argument indexes"},
		{strings.Repeat(`{{printf "%[1][%09999999d]" 1 1}}`, 5), "argument indexes"},
		{strings.Repeat(`{{printf "%.[1][%09999999d]" 1 1}}`, 5), "argument indexes"},
	} {
		tmpl := tt.tmpl
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := ParseStartRequest([]byte(`{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":` + strconv.Quote(tmpl) + `}}`))
		runtime.ReadMemStats(&after)
		if !fieldRefused(err, "alert.message") || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("start with %.40q: %v, want alert.message refused: %s", tmpl, err, tt.reason)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("checking %.40q allocated %d bytes", tmpl, n)
		}
	}
	d := AlertData{Name: "m", JobID: "j", Target: "a/b", Status: "Running", CheckCount: 7}
	if got := renderOrDefault(Alert{Message: `{{printf "%05d|%-4s|%.2f|%x|%%" .CheckCount .Status 1.5 .Name}}`}, d).Text; got != "00007|Running|1.50|6d|%" {
		t.Errorf("printf with small widths = %q", got)
	}
	// A number after a directive is text, not a width.
	if got := renderOrDefault(Alert{Message: `{{printf "%d%%, 10000000 files; %é99999999" 95}}`}, d).Text; !strings.HasPrefix(got, "95%, 10000000 files; %!é(MISSING)99999999") {
		t.Errorf("printf with numbers in its text = %q", got)
	}
}

// A start runs the template over empty sample data ("" and 0) to find the
// names the data lacks; other failures on that data are not the
// template's: {{index .Status 0}} works on every real alert. They were
// refused as a name the data does not have.
func TestTemplateFailingOnlyOnSampleData(t *testing.T) {
	start := func(tmpl string) error {
		_, err := ParseStartRequest([]byte(`{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":` + strconv.Quote(tmpl) + `}}`))
		return err
	}
	for _, tmpl := range []string{`{{index .Status 0}}`, `{{slice .Detail 0 10}}`, `{{index .JobID 0 | printf "%c"}}`} {
		if err := start(tmpl); err != nil {
			t.Errorf("start with %s: %v, want it accepted", tmpl, err)
		}
	}
	for _, tmpl := range []string{`{{.StatusQuery}}`, `{{.Name.Foo}}`, `{{$.Nope}}`, `{{with .Name}}{{.Len}}{{end}}`} {
		if err := start(tmpl); !fieldRefused(err, "alert.message") || !strings.Contains(err.Error(), "alert.message names .") {
			t.Errorf("start with %s: %v, want alert.message refused for a name the data does not have", tmpl, err)
		}
	}
	d := AlertData{Name: "m", JobID: "j", Target: "a/b", Status: "Running"}
	if got := renderOrDefault(Alert{Message: `{{slice .Status 0 3}}`}, d).Text; got != "Run" {
		t.Errorf("slice of the status = %q", got)
	}
}

func fieldRefused(err error, field string) bool {
	var e *Error
	if !asErr(err, &e) {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestWaitSeconds(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 300_000_000, time.UTC)
	tests := []struct {
		name string
		at   time.Time
		want int
	}{
		{"one interval", now.Add(5 * time.Second), 5},
		{"a fraction rounds up", now.Add(1500 * time.Millisecond), 2},
		{"a whole-second reset after now", time.Date(2026, 1, 2, 3, 4, 7, 0, time.UTC), 2},
		{"due now waits a second", now, 1},
		{"a past time waits a second", now.Add(-time.Hour), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := waitSeconds(now, tt.at); got != tt.want {
				t.Errorf("waitSeconds = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestListQueryPageSize pins the page sizes docs/api.md gives for top:
// 1 to 1,000, and 100 when top is not given.
func TestListQueryPageSize(t *testing.T) {
	for top, want := range map[int]int{-1: 100, 0: 100, 1: 1, 500: 500, 999: 999, 1000: 1000, 1001: 1000} {
		if got := (ListQuery{Top: top}).PageSize(); got != want {
			t.Errorf("PageSize(Top=%d) = %d, want %d", top, got, want)
		}
	}
}

func TestContinuationTokens(t *testing.T) {
	type pos struct {
		C int64  `json:"c"`
		I string `json:"i"`
	}
	tok := EncodeToken(pos{C: 42, I: "abc"})
	var got pos
	if err := DecodeToken(tok, &got); err != nil || got != (pos{C: 42, I: "abc"}) {
		t.Fatalf("DecodeToken(EncodeToken(x)) = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "!!!", EncodeToken("a string"), tok + "A", EncodeToken(map[string]any{"c": 1, "i": "x", "extra": true})} {
		var p pos
		if err := DecodeToken(bad, &p); err == nil {
			t.Errorf("DecodeToken(%q) accepted a token EncodeToken did not make", bad)
		}
	}
}

// The limits docs/api.md gives in characters count characters, not bytes:
// at the limit a value of two-byte characters is accepted, one more is
// refused.
func TestLimitsCountCharacters(t *testing.T) {
	const e = "é" // two bytes
	httpTarget := func(url, header, statusPath string) string {
		return `{"target":{"type":"http","url":"` + url + `","headers":{"X-A":"` + header + `"},"statusPath":"` + statusPath + `"}}`
	}
	base := "https://example.com/"
	tests := []struct {
		name, body, field string
	}{
		{"alert.message", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://example.com/h","message":"%s"}}`, "alert.message"},
		{"target.url", httpTarget(base+"%s", "v", "$.s"), "target.url"},
		{"target.headers", httpTarget(base, "%s", "$.s"), "target.headers.X-A"},
		{"target.statusPath", httpTarget(base, "v", "$.%s"), "target.statusPath"},
	}
	limits := map[string]int{"alert.message": MaxMessageTemplateLen, "target.url": MaxURLLen - len(base),
		"target.headers": MaxHeaderValueLen, "target.statusPath": MaxStatusPathLen - len("$.")}
	for _, tt := range tests {
		for _, extra := range []int{0, 1} {
			body := strings.Replace(tt.body, "%s", strings.Repeat(e, limits[tt.name]+extra), 1)
			_, err := ParseStartRequest([]byte(body))
			if refused := fieldRefused(err, tt.field); refused != (extra == 1) {
				t.Errorf("%s: %d characters over the limit: refused = %v (%v)", tt.name, extra, refused, err)
			}
		}
	}
}

// wantFieldErrors checks that ParseStartRequest refuses body as invalid
// with exactly the problems want, in order.
func wantFieldErrors(t *testing.T, body string, want []FieldError) {
	t.Helper()
	_, err := ParseStartRequest([]byte(body))
	var e *Error
	if !asErr(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if e.Kind != KindInvalid || !slices.Equal(e.Fields, want) {
		t.Errorf("kind %s, fields:\n got %q\nwant %q", e.Kind, e.Fields, want)
	}
}

// What a template runs over keeps every field of AlertData, and none of
// its values has a method a template could call.
func TestTemplateDataHasNoMethods(t *testing.T) {
	td, ad := reflect.TypeFor[templateData](), reflect.TypeFor[AlertData]()
	for i := range ad.NumField() {
		if _, ok := td.FieldByName(ad.Field(i).Name); !ok {
			t.Errorf("templateData lacks AlertData's %s", ad.Field(i).Name)
		}
	}
	for _, typ := range []reflect.Type{td, reflect.PointerTo(td)} {
		if typ.NumMethod() != 0 {
			t.Errorf("%v has %d methods", typ, typ.NumMethod())
		}
	}
	for i := range td.NumField() {
		f := td.Field(i)
		if k := f.Type.Kind(); (k != reflect.String && k != reflect.Int) || f.Type.NumMethod() != 0 || reflect.PointerTo(f.Type).NumMethod() != 0 {
			t.Errorf("templateData.%s is a %v: only plain strings and ints have no methods", f.Name, f.Type)
		}
	}
}

// FuzzBoundedFormat: a format boundedFormat passes makes no directive
// longer than MaxMessageBytes and some, whatever the arguments' widths.
func FuzzBoundedFormat(f *testing.F) {
	for _, s := range []string{"%05d", "%!%05d", "%-+# 012.5x%%", "%é99999999", "%5.3f%%", "%4096d", "95%, 10000 files"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, format string) {
		if len(format) > 200 || boundedFormat(format) != nil {
			return
		}
		out := fmt.Sprintf(format, 1, "ab", 2.5, true)
		if limit := len(format) + (strings.Count(format, "%")+1)*(MaxMessageBytes+64); len(out) > limit {
			t.Errorf("boundedFormat passed %q, which formats to %d bytes", format, len(out))
		}
	})
}

func TestFoldKeyAgreesWithEqualFold(t *testing.T) {
	words := []string{"Completed", "COMPLETED", "completed", "ΤΕΛΟΣ", "τελος", "τελοσ", "ſuccess", "SUCCESS", "\u212Aelvin", "kelvin", "Straße", "STRASSE", "", "é", "É", "e"}
	for _, a := range words {
		for _, b := range words {
			if (foldKey(a) == foldKey(b)) != strings.EqualFold(a, b) {
				t.Errorf("foldKey(%q) == foldKey(%q) is %v, strings.EqualFold %v", a, b, foldKey(a) == foldKey(b), strings.EqualFold(a, b))
			}
		}
	}
}

// A start refuses what would make every check or every send fail: the
// monitor would otherwise poll uselessly until it timed out, or lose its
// alert when it fired.
func TestParseStartRequestRefusesWhatEveryCheckWouldFail(t *testing.T) {
	const http = `"type":"http","url":"https://jobs.example.com/j/1"`
	const alert = `,"alert":{"webhookUrl":"https://hooks.example.com/x"}`
	tests := []struct {
		name, body string
		want       []FieldError
	}{
		// net/http sends no header value with a control character other
		// than tab: every check would fail before any request.
		{"header value with U+0001", `{"target":{` + http + `,"headers":{"X-Token":"abc\u0001def"}}}`, []FieldError{
			{"target.headers.X-Token", "must not contain control characters other than tab"}}},
		{"header value with NUL", `{"target":{` + http + `,"headers":{"X-Token":"abc\u0000"}}}`, []FieldError{
			{"target.headers.X-Token", "must not contain control characters other than tab"}}},
		{"header value with DEL", `{"target":{` + http + `,"headers":{"X-Token":"abc\u007f"}}}`, []FieldError{
			{"target.headers.X-Token", "must not contain control characters other than tab"}}},
		// The HTTP client writes these itself (or, over HTTP/2, refuses
		// them): the target would not get the value given.
		{"Host header", `{"target":{` + http + `,"headers":{"Host":"jobs.internal"}}}`, []FieldError{
			{"target.headers.Host", "cannot be set: the request's host is target.url's"}}},
		{"host header in lower case", `{"target":{` + http + `,"headers":{"host":"jobs.internal"}}}`, []FieldError{
			{"target.headers.host", "cannot be set: the request's host is target.url's"}}},
		{"Content-Length header", `{"target":{` + http + `,"headers":{"Content-Length":"0"}}}`, []FieldError{
			{"target.headers.Content-Length", "cannot be set: the HTTP client writes it itself, or refuses it"}}},
		{"Transfer-Encoding header", `{"target":{` + http + `,"headers":{"Transfer-Encoding":"chunked"}}}`, []FieldError{
			{"target.headers.Transfer-Encoding", "cannot be set: the HTTP client writes it itself, or refuses it"}}},
		{"Connection header", `{"target":{` + http + `,"headers":{"Connection":"Upgrade"}}}`, []FieldError{
			{"target.headers.Connection", "cannot be set: the HTTP client writes it itself, or refuses it"}}},
		{"Accept-Encoding header", `{"target":{` + http + `,"headers":{"Accept-Encoding":"gzip, deflate, br"}}}`, []FieldError{
			{"target.headers.Accept-Encoding", "cannot be set: the check asks for gzip itself and decompresses the answer"}}},
		{"Upgrade header", `{"target":{` + http + `,"headers":{"Upgrade":"websocket"}}}`, []FieldError{
			{"target.headers.Upgrade", "cannot be set: the HTTP client writes it itself, or refuses it"}}},
		// GitHub has no repository . or ..: the check would refuse it.
		{"repo named .", `{"target":{"type":"github","repo":"octo/."}` + alert + `}`, []FieldError{
			{"target.repo", "must be owner/name, e.g. octocat/hello-world; . and .. are not repository names"}}},
		{"repo named ..", `{"target":{"type":"github","repo":"octo/.."}` + alert + `}`, []FieldError{
			{"target.repo", "must be owner/name, e.g. octocat/hello-world; . and .. are not repository names"}}},
		{"seed repo named ..", `{"repo":"octo/..","phone":"+14255550100"}`, []FieldError{
			{"repo", "must be owner/name, e.g. octocat/hello-world; . and .. are not repository names"}}},
		// No connection can be made to a port out of range.
		{"url port over 65535", `{"target":{"type":"http","url":"https://jobs.example.com:99999/j/1"}}`, []FieldError{
			{"target.url", "must have a port between 1 and 65535"}}},
		{"url port 0", `{"target":{"type":"http","url":"https://jobs.example.com:0/j/1"}}`, []FieldError{
			{"target.url", "must have a port between 1 and 65535"}}},
		{"webhook port over 65535", `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://hooks.example.com:70000/x"}}`, []FieldError{
			{"alert.webhookUrl", "must have a port between 1 and 65535"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseStartRequest([]byte(tt.body))
			var e *Error
			if !asErr(err, &e) {
				t.Fatalf("ParseStartRequest = %+v, %v; want an *Error", r.Spec, err)
			}
			if e.Kind != KindInvalid || !slices.Equal(e.Fields, tt.want) {
				t.Errorf("kind %s, fields:\n got %q\nwant %q", e.Kind, e.Fields, tt.want)
			}
		})
	}
	// What a check can send is accepted.
	for _, body := range []string{
		`{"target":{` + http + `,"headers":{"X-Token":"a\tb"}}}`,
		`{"target":{` + http + `,"headers":{"X-Token":"caf\u00e9"}}}`,
		`{"target":{"type":"github","repo":"octo/.github"}` + alert + `}`,
		`{"target":{"type":"github","repo":"octo/..."}` + alert + `}`,
		`{"target":{"type":"http","url":"https://jobs.example.com:65535/j/1"}}`,
		`{"target":{"type":"http","url":"http://[2001:4860::8888]:8080/j/1"}}`,
	} {
		if _, err := ParseStartRequest([]byte(body)); err != nil {
			t.Errorf("ParseStartRequest(%s) = %v, want it accepted", body, err)
		}
	}
}

// A GitHub check counts at most 100 pages of 100 issues and pull
// requests: a threshold above that could never be met, and the monitor
// would poll until it expired without a word.
func TestParseStartRequestMinOpenIssuesBound(t *testing.T) {
	body := func(n int) string {
		return fmt.Sprintf(`{"target":{"type":"github","repo":"octo/huge","minOpenIssues":%d},"alert":{"phone":"+14255550100"}}`, n)
	}
	if _, err := ParseStartRequest([]byte(body(MaxMinOpenIssues))); err != nil {
		t.Errorf("minOpenIssues %d: %v", MaxMinOpenIssues, err)
	}
	for _, n := range []int{MaxMinOpenIssues + 1, 11000, 1_000_000} {
		_, err := ParseStartRequest([]byte(body(n)))
		var e *Error
		want := []FieldError{{"target.minOpenIssues", "must be between 1 and 10000: a check reads at most 100 pages of 100 open issues and pull requests"}}
		if !asErr(err, &e) || e.Kind != KindInvalid || !slices.Equal(e.Fields, want) {
			t.Errorf("minOpenIssues %d: err = %v; want fields %q", n, err, want)
		}
	}
	// The seed shape takes no threshold: its default is within the bound.
	if DefaultMinOpenIssues > MaxMinOpenIssues {
		t.Errorf("DefaultMinOpenIssues %d above MaxMinOpenIssues %d", DefaultMinOpenIssues, MaxMinOpenIssues)
	}
}

// TestURLProblemHosts: a URL must name a host, and an IPv4 host must be
// written as four decimal numbers, or every check of it (and its alert)
// would fail to resolve long after the start accepted it.
func TestURLProblemHosts(t *testing.T) {
	tests := []struct {
		url     string
		refused bool
	}{
		{"https://jobs.example.com/1", false},
		{"http://192.0.2.1:8080/jobs/1", false},
		{"http://[2001:db8::1]:8080/jobs/1", false},
		{"http://[::ffff:192.0.2.1]/jobs/1", false},
		{"https://123.example.com/x", false},
		{"https://0x7f.example.com/x", false},
		{"https://jobs.example.com./x", false},
		{"http://:8080/jobs/1", true},
		{"https://:443/hook", true},
		{"http://2130706433/", true},
		{"http://127.1/", true},
		{"http://0x7f.0.0.1/", true},
		{"http://0177.0.0.1/", true},
		{"http://127.0.0.1./", true},
		{"http://1.2.3.4.5/", true},
		{"http://example.0x1/", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := urlProblem(tt.url); (got != "") != tt.refused {
				t.Errorf("urlProblem(%q) = %q, want refused %v", tt.url, got, tt.refused)
			}
		})
	}
	for _, body := range []string{
		`{"target":{"type":"http","url":"http://:8080/jobs/1"}}`,
		`{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://:443/hook"}}`,
		`{"target":{"type":"http","url":"http://2130706433/jobs/1"}}`,
	} {
		if _, err := ParseStartRequest([]byte(body)); !IsKind(err, KindInvalid) {
			t.Errorf("ParseStartRequest(%s) = %v, want KindInvalid", body, err)
		}
	}
}

// Each limit docs/api.md gives as a maximum accepts the value at the
// maximum itself and refuses one more: a client that sends exactly the
// documented figure must not get a 400 (or a 413 for the body). The
// figures are docs/api.md's, so that a constant changed without the
// documentation is noticed too.
func TestParseStartRequestAcceptsDocumentedMaxima(t *testing.T) {
	headers := func(n int) string {
		hs := make([]string, n)
		for i := range hs {
			hs[i] = fmt.Sprintf(`"X-H%d":"v"`, i)
		}
		return "{" + strings.Join(hs, ",") + "}"
	}
	simulated := `{"target":{"type":"simulated"}}`
	tests := []struct {
		name  string
		max   int // the constant
		doc   int // the figure docs/api.md gives
		body  func(n int) string
		field string // refused at max+1; "" for the body, which is too_large
	}{
		{"body", MaxBodyBytes, 16384, func(n int) string {
			return simulated + strings.Repeat(" ", n-len(simulated))
		}, ""},
		{"timeoutSeconds", MaxTimeoutSeconds, 31536000, func(n int) string {
			return fmt.Sprintf(`{"target":{"type":"simulated"},"timeoutSeconds":%d}`, n)
		}, "timeoutSeconds"},
		{"target.headers", MaxHeaders, 20, func(n int) string {
			return `{"target":{"type":"http","url":"https://jobs.example.com/j","headers":` + headers(n) + `}}`
		}, "target.headers"},
		{"target.requestTimeoutSeconds", MaxRequestTimeout, 60, func(n int) string {
			return fmt.Sprintf(`{"target":{"type":"http","url":"https://jobs.example.com/j","requestTimeoutSeconds":%d}}`, n)
		}, "target.requestTimeoutSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.max != tt.doc {
				t.Fatalf("limit = %d, want docs/api.md's %d", tt.max, tt.doc)
			}
			if _, err := ParseStartRequest([]byte(tt.body(tt.max))); err != nil {
				t.Errorf("at the maximum %d: got %v, want it accepted", tt.max, err)
			}
			_, err := ParseStartRequest([]byte(tt.body(tt.max + 1)))
			switch {
			case tt.field == "" && KindOf(err) != KindTooLarge:
				t.Errorf("at %d: got %v, want %s", tt.max+1, err, KindTooLarge)
			case tt.field != "" && !fieldRefused(err, tt.field):
				t.Errorf("at %d: got %v, want %s refused", tt.max+1, err, tt.field)
			}
		})
	}
}

// TestStartBodyNotJSON: a start body that is not JSON is answered with
// where it breaks, by line and column in the body as sent (leading blank
// lines counted), or as cut short at its end.
func TestStartBodyNotJSON(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"syntax", "\n\n{\"job_id\": j}", "request body is not a JSON object: invalid character 'j' looking for beginning of value (line 3, column 12)"},
		{"cut short", "  {\"job_id\":\"j\"  \n", "request body is not a JSON object: the JSON ends before its last value is complete (line 1, column 16, the end)"},
		{"an array", `["j"]`, "request body is not a JSON object: it is an array"},
		{"a string", `"j"`, "request body is not a JSON object: it is a string"},
		{"a number", ` 42 `, "request body is not a JSON object: it is a number"},
		{"a boolean", `true`, "request body is not a JSON object: it is true or false"},
		{"null", "null\n", "request body is not a JSON object: it is null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStartRequest([]byte(tt.body))
			var me *Error
			if !errors.As(err, &me) || me.Kind != KindInvalid || me.Message != tt.want {
				t.Errorf("error %v\nwant %s: %q", err, KindInvalid, tt.want)
			}
		})
	}
}
