package sfnapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// listTags returns the tags ListTagsForResource answers for arn, as JSON.
func listTags(tb testing.TB, url, arn string) string {
	tb.Helper()
	m := mustCall(tb, url, "ListTagsForResource", `{"resourceArn":"`+arn+`"}`)
	b, _ := json.Marshal(m["tags"])
	return string(b)
}

// TestTags follows the tags of a state machine through CreateStateMachine,
// TagResource, UntagResource, ListTagsForResource and DeleteStateMachine:
// keys are case-sensitive, a key set again keeps its last value, the
// list is in key order byte by byte, and a machine created again under
// the name of a deleted one has none of its tags.
func TestTags(t *testing.T) {
	srv, _ := newServer(t)
	arn := smArn + "sm"
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`",`+
		`"tags":[{"key":"team","value":"a"},{"key":"env","value":"dev"},{"key":"novalue"}]}`)
	if got, want := listTags(t, srv.URL, arn), `[{"key":"env","value":"dev"},{"key":"novalue","value":""},{"key":"team","value":"a"}]`; got != want {
		t.Errorf("tags after CreateStateMachine = %s, want %s", got, want)
	}
	// The same create again is idempotent and keeps the tags the machine
	// was created with, as on AWS.
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`","tags":[{"key":"other","value":"x"}]}`)

	if m := mustCall(t, srv.URL, "TagResource", `{"resourceArn":"`+arn+`","tags":[{"key":"Env","value":"PROD"},{"key":"team","value":"b"},{"key":"team","value":"c"}]}`); len(m) != 0 {
		t.Errorf("TagResource answer = %v, want {}", m)
	}
	if got, want := listTags(t, srv.URL, arn), `[{"key":"Env","value":"PROD"},{"key":"env","value":"dev"},{"key":"novalue","value":""},{"key":"team","value":"c"}]`; got != want {
		t.Errorf("tags after TagResource = %s, want %s", got, want)
	}
	mustCall(t, srv.URL, "TagResource", `{"resourceArn":"`+arn+`","tags":[]}`)
	if m := mustCall(t, srv.URL, "UntagResource", `{"resourceArn":"`+arn+`","tagKeys":["ENV","env","novalue","missing","novalue"]}`); len(m) != 0 {
		t.Errorf("UntagResource answer = %v, want {}", m)
	}
	mustCall(t, srv.URL, "UntagResource", `{"resourceArn":"`+arn+`","tagKeys":[]}`)
	if got, want := listTags(t, srv.URL, arn), `[{"key":"Env","value":"PROD"},{"key":"team","value":"c"}]`; got != want {
		t.Errorf("tags after UntagResource = %s, want %s", got, want)
	}

	// 2 tags and 48 new keys make 50; one more is TooManyTags, and
	// nothing of that request is kept.
	mustCall(t, srv.URL, "TagResource", `{"resourceArn":"`+arn+`","tags":`+tagList(48)+`}`)
	code, m := call(t, srv.URL, "TagResource", `{"resourceArn":"`+arn+`","tags":[{"key":"team","value":"d"},{"key":"one-more","value":"v"}]}`)
	if code != http.StatusBadRequest || m["__type"] != "com.amazonaws.swf.service.v2.model#TooManyTags" || m["resourceName"] != arn {
		t.Errorf("TagResource over 50 tags = %d %v, want 400 TooManyTags naming %s", code, m, arn)
	}
	if got := listTags(t, srv.URL, arn); strings.Count(got, `"key"`) != 50 || !strings.Contains(got, `{"key":"team","value":"c"}`) {
		t.Errorf("tags after a refused TagResource = %s, want the 50 before it", got)
	}
	// Overwriting keys the machine has is not adding any.
	mustCall(t, srv.URL, "TagResource", `{"resourceArn":"`+arn+`","tags":[{"key":"team","value":"e"}]}`)

	other := smArn + "other"
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"other","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	if got := listTags(t, srv.URL, other); got != `[]` {
		t.Errorf("tags of a machine created without = %s, want []", got)
	}

	mustCall(t, srv.URL, "DeleteStateMachine", `{"stateMachineArn":"`+arn+`"}`)
	code, m = call(t, srv.URL, "ListTagsForResource", `{"resourceArn":"`+arn+`"}`)
	if code != http.StatusBadRequest || m["__type"] != "com.amazonaws.swf.service.v2.model#ResourceNotFound" {
		t.Errorf("ListTagsForResource of a deleted machine = %d %v, want 400 ResourceNotFound", code, m)
	}
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	if got := listTags(t, srv.URL, arn); got != `[]` {
		t.Errorf("tags of the machine created again = %s, want []", got)
	}
}

// TestTagErrors checks the requests of the tagging operations as AWS
// answers them (API Reference: TagResource, UntagResource,
// ListTagsForResource, Tag): Coral's constraints as ValidationException,
// InvalidArn for an ARN that is not a state machine's or an activity's,
// and ResourceNotFound "Resource not found: 'ARN'" for one that names no
// state machine (a version's, an unknown machine's, any activity's).
func TestTagErrors(t *testing.T) {
	srv, _ := newServer(t)
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"}`)
	x := mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+smArn+`sm","name":"x"}`)
	activity := "arn:aws:states:us-east-1:123456789012:activity:a"
	tag := func(arn, tags string) string { return `{"resourceArn":"` + arn + `","tags":` + tags + `}` }
	untag := func(arn, keys string) string { return `{"resourceArn":"` + arn + `","tagKeys":` + keys + `}` }
	tests := []struct {
		name, op, body string
		wantType       string
		wantMessage    string // what the message contains
	}{
		{"tag without an ARN", "TagResource", `{"tags":[]}`, validation,
			"1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null"},
		{"tag without tags", "TagResource", `{"resourceArn":"` + smArn + `sm"}`, validation,
			"1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"},
		{"tag with null tags", "TagResource", tag(smArn+"sm", "null"), validation, "Value null at 'tags'"},
		{"empty ARN", "TagResource", tag("", "[]"), validation,
			"Value '' at 'resourceArn' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long ARN", "ListTagsForResource", `{"resourceArn":"` + smArn + strings.Repeat("n", 256) + `"}`, validation,
			"at 'resourceArn' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"empty tag key", "TagResource", tag(smArn+"sm", `[{"key":"","value":"v"}]`), validation,
			"1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long tag key", "TagResource", tag(smArn+"sm", `[{"key":"k"},{"key":"`+strings.Repeat("k", 129)+`"}]`), validation,
			"at 'tags.2.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"long tag value", "TagResource", tag(smArn+"sm", `[{"key":"k","value":"`+strings.Repeat("v", 257)+`"}]`), validation,
			"at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"constraints of the ARN and the tags together", "TagResource", tag("", `[{"key":""}]`), validation, "2 validation errors detected: "},
		{"untag without keys", "UntagResource", `{"resourceArn":"` + smArn + `sm"}`, validation,
			"1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"},
		{"empty tag key to remove", "UntagResource", untag(smArn+"sm", `["k",""]`), validation,
			"1 validation error detected: Value '' at 'tagKeys.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long tag key to remove", "UntagResource", untag(smArn+"sm", `["`+strings.Repeat("k", 129)+`"]`), validation,
			"at 'tagKeys.1.member' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"list without an ARN", "ListTagsForResource", `{}`, validation, "Value null at 'resourceArn'"},

		{"not a states ARN", "TagResource", tag("arn:aws:lambda:us-east-1:123456789012:function:f", "[]"), svc + "InvalidArn",
			"Invalid Arn: 'Invalid ARN prefix: arn:aws:lambda:us-east-1:123456789012:function:f'"},
		{"not an ARN", "ListTagsForResource", `{"resourceArn":"sm"}`, svc + "InvalidArn", "Invalid ARN prefix: sm"},
		{"no resource name", "UntagResource", untag("arn:aws:states:us-east-1:123456789012:stateMachine", `["k"]`), svc + "InvalidArn",
			"Resource type not valid in this context"},
		{"an execution", "TagResource", tag(x["executionArn"].(string), `[{"key":"k","value":"v"}]`), svc + "InvalidArn",
			"Invalid Arn: 'Resource type not valid in this context: execution'"},
		{"an execution's tags", "ListTagsForResource", `{"resourceArn":"` + x["executionArn"].(string) + `"}`, svc + "InvalidArn",
			"Resource type not valid in this context: execution"},
		{"an EXPRESS execution", "UntagResource", untag(expressArn+"sm:x", `["k"]`), svc + "InvalidArn",
			"Resource type not valid in this context: express"},
		{"a Map Run", "ListTagsForResource", `{"resourceArn":"` + mapRunArn + `sm/m:1"}`, svc + "InvalidArn",
			"Resource type not valid in this context: mapRun"},

		{"tag an unknown machine", "TagResource", tag(smArn+"nope", `[{"key":"k","value":"v"}]`), svc + "ResourceNotFound",
			"Resource not found: '" + smArn + "nope'"},
		{"untag an unknown machine", "UntagResource", untag(smArn+"nope", `["k"]`), svc + "ResourceNotFound",
			"Resource not found: '" + smArn + "nope'"},
		{"list an unknown machine", "ListTagsForResource", `{"resourceArn":"` + smArn + `nope"}`, svc + "ResourceNotFound",
			"Resource not found: '" + smArn + "nope'"},
		{"a version", "TagResource", tag(smArn+"sm:1", `[{"key":"k","value":"v"}]`), svc + "ResourceNotFound",
			"Resource not found: '" + smArn + "sm:1'"},
		{"an activity", "ListTagsForResource", `{"resourceArn":"` + activity + `"}`, svc + "ResourceNotFound",
			"Resource not found: '" + activity + "'"},
		{"too many tags at once", "TagResource", tag(smArn+"sm", tagList(51)), svc + "TooManyTags", smArn + "sm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, m := call(t, srv.URL, tt.op, tt.body)
			wantAnswer(t, code, m, tt.wantType, tt.wantMessage)
			if tt.wantType == svc+"TooManyTags" && m["resourceName"] != tt.wantMessage {
				t.Errorf("resourceName = %v, want %s", m["resourceName"], tt.wantMessage)
			}
		})
	}
	// None of the refused requests tagged the machine.
	if got := listTags(t, srv.URL, smArn+"sm"); got != `[]` {
		t.Errorf("tags after the refused requests = %s, want []", got)
	}
}

// TestTagsWithoutKey: both members of a Tag are optional in the API
// model, and a tag without a key names nothing to keep, so
// CreateStateMachine and TagResource accept it and ListTagsForResource
// does not list it. A member named in another letter case ("Key") is an
// unknown member, at that depth too, so such a tag has no key either.
func TestTagsWithoutKey(t *testing.T) {
	srv, _ := newServer(t)
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"sm","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`","tags":[{"value":"v"}]}`)
	if got := listTags(t, srv.URL, smArn+"sm"); got != `[]` {
		t.Errorf("tags after creating with a tag without a key = %s, want []", got)
	}
	mustCall(t, srv.URL, "TagResource", `{"resourceArn":"`+smArn+`sm","tags":[{"Key":"k","Value":"v"},{"key":"kept","Value":"v"}]}`)
	if got, want := listTags(t, srv.URL, smArn+"sm"), `[{"key":"kept","value":""}]`; got != want {
		t.Errorf("tags after TagResource with Key and Value = %s, want %s", got, want)
	}
}
