package alerts_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/stepmon/stepmon/internal/alerts"
	"github.com/stepmon/stepmon/internal/monitor"
)

func ExampleOutbox() {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	outbox := alerts.NewOutbox(os.Stdout, monitor.ClockFunc(func() time.Time { return now }))
	alert := monitor.Alert{Phone: "+14255550100"}
	msg := monitor.Message{ // as monitor.Tasks renders it from the alert's template
		Subject: "stepmon: GitHubIssuesMonitor m1",
		Text:    "GitHubIssuesMonitor m1: octo/big has at least 5 open issues (threshold 3).",
		Data: monitor.AlertData{InstanceID: "m1", JobID: "m1", Name: "GitHubIssuesMonitor",
			Target: "octo/big", OpenIssues: 5, Threshold: 3},
	}
	id, _ := outbox.Send(context.Background(), alert, msg) // the local runtime sends SNS and Twilio alerts here
	fmt.Println(id)
	// Output:
	// {"id":"outbox-m1-1","sentAt":"2025-06-01T12:00:00Z","channel":"sns","to":"+14255550100","subject":"stepmon: GitHubIssuesMonitor m1","text":"GitHubIssuesMonitor m1: octo/big has at least 5 open issues (threshold 3).","data":{"instanceId":"m1","jobId":"m1","name":"GitHubIssuesMonitor","target":"octo/big","status":"","detail":"","openIssues":5,"threshold":3,"checkCount":0,"observedAt":"0001-01-01T00:00:00Z"}}
	// outbox-m1-1
}

func ExampleVerify() {
	// A receiver checks X-Stepmon-Signature against X-Stepmon-Timestamp and
	// the raw body.
	secret := []byte("webhook-secret")
	body := []byte(`{"text":"octo/big has 5 open issues"}`)
	ts := "1748779200"
	sig := alerts.Sign(secret, ts, body)
	fmt.Println(sig)
	fmt.Println(alerts.Verify(secret, sig, ts, body, time.Unix(1748779230, 0), 5*time.Minute))
	// Output:
	// sha256=24451a0f82df4f72bf2c9619869eb79b9a1f2773a7f2ce298e1584c9087d812b
	// <nil>
}
