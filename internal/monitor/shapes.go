package monitor

import (
	"encoding/json"
	"reflect"
	"strings"
)

// The hints of the problem with a field that belongs to another request
// shape: each shape spells its fields its own way, and the README shows
// the shapes side by side.
const (
	seedJobSpelling = "the job seed shape spells its fields with underscores"
	nativeSpelling  = "the native shape spells its fields in camelCase"
	seedNoID        = "the seed shapes take no instance id; use the native shape to choose one"
	seedGitHubOnly  = "the GitHub seed shape takes only repo and phone; use the native shape for more"
)

// otherShapeHints maps each request shape's type to the fields of the
// other shapes that it does not have, and what to say about each.
var otherShapeHints = map[reflect.Type]map[string]string{
	reflect.TypeFor[seedJobRequest](): {
		"pollingIntervalSeconds": "did you mean polling_interval_seconds? " + seedJobSpelling,
		"timeoutSeconds":         "did you mean timeout_seconds? " + seedJobSpelling,
		"jobId":                  "did you mean job_id? " + seedJobSpelling,
		"instanceId":             seedNoID,
	},
	reflect.TypeFor[nativeRequest](): {
		"polling_interval_seconds": "did you mean pollingIntervalSeconds? " + nativeSpelling,
		"timeout_seconds":          "did you mean timeoutSeconds? " + nativeSpelling,
		"job_id":                   "did you mean jobId? " + nativeSpelling,
		"repo":                     "did you mean target.repo? the native shape gives the repository in target",
		"phone":                    "did you mean alert.phone? the native shape gives the phone in alert",
	},
	reflect.TypeFor[seedGitHubRequest](): {
		"instanceId":               seedNoID,
		"jobId":                    seedGitHubOnly,
		"pollingIntervalSeconds":   seedGitHubOnly,
		"timeoutSeconds":           seedGitHubOnly,
		"backoff":                  seedGitHubOnly,
		"alert":                    seedGitHubOnly,
		"job_id":                   seedGitHubOnly,
		"polling_interval_seconds": seedGitHubOnly,
		"timeout_seconds":          seedGitHubOnly,
	},
}

// otherShapeHint returns what to say about key, which struct type t (a
// request shape) does not have, when key is a field of another shape,
// ignoring case; "" otherwise.
func otherShapeHint(t reflect.Type, key string) string {
	for name, hint := range otherShapeHints[t] {
		if strings.EqualFold(name, key) {
			return hint
		}
	}
	return ""
}

// shapeParsers are the request shapes a body without target, repo and
// job_id can be read as: by the shape whose fields its keys are.
var shapeParsers = []struct {
	t     reflect.Type
	parse func(body []byte, more func(StartRequest) []FieldError) (StartRequest, error)
}{
	{reflect.TypeFor[nativeRequest](), parseNative},
	{reflect.TypeFor[seedGitHubRequest](), parseSeedGitHub},
	{reflect.TypeFor[seedJobRequest](), parseSeedJob},
}

// parserOfKeys returns the parser of the one request shape that has
// fields named by keys, ignoring case, for a body that lacks the field
// that names its shape: read as that shape, the body's problems
// (the missing field first of all) are reported as fields. nil when
// no key, or keys of more than one shape, name a field.
func parserOfKeys(keys map[string]json.RawMessage) func([]byte, func(StartRequest) []FieldError) (StartRequest, error) {
	var found func([]byte, func(StartRequest) []FieldError) (StartRequest, error)
	for _, p := range shapeParsers {
		if !hasFieldOf(p.t, keys) {
			continue
		}
		if found != nil {
			return nil
		}
		found = p.parse
	}
	return found
}

// hasFieldOf reports whether a key of keys names a field of struct type
// t, ignoring case.
func hasFieldOf(t reflect.Type, keys map[string]json.RawMessage) bool {
	for i := range t.NumField() {
		name := jsonName(t.Field(i))
		for key := range keys {
			if strings.EqualFold(name, key) {
				return true
			}
		}
	}
	return false
}
