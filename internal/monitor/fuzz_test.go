package monitor

import (
	"encoding/json"
	"testing"
)

// FuzzParseStartRequest feeds start bodies to ParseStartRequest: it must
// never panic, and it either accepts a body with a valid spec or refuses
// it with an *Error of kind invalid or too large.
func FuzzParseStartRequest(f *testing.F) {
	for _, seed := range []string{
		`{"job_id":"my-job-123"}`,
		`{"repo":"octocat/hello-world","phone":"+14255550100"}`,
		`{"instanceId":"a","target":{"type":"http","url":"https://example.com/j","headers":{"X-A":"b"},"doneValues":["x"]},"alert":{"webhookUrl":"https://example.com/h","message":"{{.InstanceID}}"}}`,
		`{"target":{"type":"simulated","completeAfterChecks":3},"pollingIntervalSeconds":1.5,"colour":1}`,
		`{"target":{"headers":[1],"doneValues":{"a":1}},"alert":"x","timeoutSeconds":-1}`,
		`[]`, `null`, `"x"`, `{}`, `{"target":null}`, `{"target":{"type":"http","doneValues":[null,1,"a"]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseStartRequest(body)
		if err != nil {
			var e *Error
			if !asErr(err, &e) || (e.Kind != KindInvalid && e.Kind != KindTooLarge) {
				t.Fatalf("ParseStartRequest(%q) error %v (%T), want an invalid or too-large *Error", body, err, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("ParseStartRequest accepted invalid JSON %q", body)
		}
		if r.Spec.Target.Type == "" {
			t.Fatalf("ParseStartRequest(%q) accepted a spec without a target type", body)
		}
	})
}
