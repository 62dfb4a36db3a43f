package monitor_test

import (
	"errors"
	"fmt"

	"github.com/stepmon/stepmon/internal/monitor"
)

// A start request is read into a Spec with the defaults filled in; the
// start handler passes that Spec to the workflow.
func ExampleParseStartRequest() {
	r, err := monitor.ParseStartRequest([]byte(`{
		"instanceId": "octo-issues",
		"target": {"type": "github", "repo": "octocat/hello-world", "minOpenIssues": 3},
		"pollingIntervalSeconds": 300,
		"alert": {"webhookUrl": "https://hooks.example.com/T000/B000"}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	s := r.Spec
	fmt.Println(r.Shape, r.InstanceID)
	fmt.Println(s.Target.Type, s.Target.Repo, s.Target.MinOpenIssues)
	fmt.Println(s.PollingIntervalSeconds, s.TimeoutSeconds, s.Alert.ChannelOf())
	// Output:
	// native octo-issues
	// github octocat/hello-world 3
	// 300 3600 webhook
}

// Every problem with a request is reported at once, field by field, in a
// KindInvalid error; the API answers it with 400 and lists the fields.
func ExampleParseStartRequest_invalid() {
	_, err := monitor.ParseStartRequest([]byte(`{
		"instanceId": "bad id",
		"target": {"type": "http", "url": "nope"},
		"pollingIntervalSeconds": 0
	}`))
	fmt.Println(monitor.KindOf(err))
	var e *monitor.Error
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			fmt.Printf("%s: %s\n", f.Field, f.Problem)
		}
	}
	// Output:
	// invalid
	// instanceId: must be 1 to 64 letters, digits, '-' or '_', not "bad id"
	// target.url: must be an absolute http or https URL
	// pollingIntervalSeconds: must be between 1 and 86400 seconds
}
