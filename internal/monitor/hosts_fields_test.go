package monitor

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// places classifies every member of every target type (targetFields) and
// of an alert: one naming a place that a check or an alert connects to
// maps to a sample value whose host is blocked.example; every other
// member maps to "". A new member, or a new type's members, must be
// added here, and one that names a place must be checked by checkHosts:
// on AWS a start refuses a private host there rather than a monitor
// that fails at its first connection.
var places = map[string]string{
	"github.repo":                   "", // a repository of the deployment's GitHub API (GITHUB_API_URL)
	"github.minOpenIssues":          "",
	"http.url":                      "https://blocked.example/jobs/1",
	"http.method":                   "",
	"http.headers":                  "",
	"http.statusPath":               "",
	"http.doneValues":               "",
	"http.failedValues":             "",
	"http.runningValues":            "",
	"http.requestTimeoutSeconds":    "",
	"simulated.completeAfterChecks": "",
	"simulated.outcome":             "",
	"alert.phone":                   "",
	"alert.channel":                 "",
	"alert.topicArn":                "", // an SNS topic of the deployment's account
	"alert.webhookUrl":              "https://blocked.example/hook",
	"alert.message":                 "",
}

// TestEveryPlaceChecked holds checkHosts to every member that names a
// place: each is classified in places, and a sample naming a host the
// deployment refuses is refused at start, under the member's name.
func TestEveryPlaceChecked(t *testing.T) {
	refuse := func(host string) error {
		if host == "blocked.example" {
			return errors.New("refused")
		}
		return nil
	}
	seen := map[string]bool{}
	try := func(key, field string, req StartRequest) {
		seen[key] = true
		sample, ok := places[key]
		if !ok {
			t.Errorf("%s is not in places: say whether it names a place a check or an alert connects to", key)
			return
		}
		if sample == "" {
			return
		}
		err := checkHosts("", req, refuse)
		var me *Error
		if !errors.As(err, &me) || !slices.ContainsFunc(me.Fields, func(f FieldError) bool { return f.Field == field }) {
			t.Errorf("%s = %q: checkHosts = %v, want %s refused: checkHosts does not check it", key, sample, err, field)
		}
	}
	for _, typ := range targetTypes {
		for _, f := range targetFields[typ] {
			key := typ + "." + f
			var target Target
			if sample := places[key]; sample != "" {
				raw, _ := json.Marshal(map[string]string{"type": typ, f: sample})
				if err := json.Unmarshal(raw, &target); err != nil {
					t.Fatalf("%s: %v", key, err)
				}
			}
			try(key, "target."+f, StartRequest{Spec: Spec{Target: target}})
		}
	}
	alert := reflect.TypeFor[Alert]()
	for i := range alert.NumField() {
		f := alert.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		key := "alert." + name
		var a Alert
		if sample := places[key]; sample != "" {
			reflect.ValueOf(&a).Elem().Field(i).SetString(sample)
		}
		try(key, key, StartRequest{Spec: Spec{Target: Target{Type: TargetGitHub, Repo: "o/r"}, Alert: &a}})
	}
	for key := range places {
		if !seen[key] {
			t.Errorf("places has %s, which no target type or alert has", key)
		}
	}
}
