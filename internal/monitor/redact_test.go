package monitor

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		keepPath bool
		want     string
	}{
		{"plain target", "https://jobs.example.com/api/jobs/42", true, "https://jobs.example.com/api/jobs/42"},
		{"target query", "https://jobs.example.com/api/jobs/42?token=s3cret&x=1", true, "https://jobs.example.com/api/jobs/42?(redacted)"},
		{"target fragment", "https://jobs.example.com/j#access_token=s3cret", true, "https://jobs.example.com/j#(redacted)"},
		{"target userinfo", "https://user:s3cret@jobs.example.com/j", true, "https://(redacted)@jobs.example.com/j"},
		{"target port", "http://127.0.0.1:18080/job/m1", true, "http://127.0.0.1:18080/job/m1"},
		{"slack webhook", "https://hooks.slack.com/services/T000/B000/s3cret", false, "https://hooks.slack.com/(redacted)"},
		{"webhook query", "https://hooks.example.com/?key=s3cret", false, "https://hooks.example.com/(redacted)"},
		{"webhook host only", "https://hooks.example.com", false, "https://hooks.example.com"},
		{"webhook root", "https://hooks.example.com/", false, "https://hooks.example.com/"},
		{"webhook userinfo", "https://u:s3cret@hooks.example.com/", false, "https://(redacted)@hooks.example.com/"},
		{"unparsable", "https://bad host/%zz", true, "(redacted)"},
		{"relative", "/jobs/42?token=s3cret", true, "(redacted)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactURL(tt.raw, tt.keepPath); got != tt.want {
				t.Errorf("redactURL(%q, %v) = %q, want %q", tt.raw, tt.keepPath, got, tt.want)
			}
		})
	}
}

func TestSpecRedacted(t *testing.T) {
	spec := Spec{
		Target: Target{Type: TargetHTTP, URL: "https://jobs.example.com/j?token=s3cret",
			Headers: map[string]string{"Authorization": "Bearer s3cret", "X-Api-Key": "s3cret"}},
		Alert: &Alert{WebhookURL: "https://hooks.slack.com/services/T000/B000/s3cret", Message: "{{.Status}}"},
	}
	got := spec.Redacted()
	for name, v := range got.Target.Headers {
		if v != RedactedValue {
			t.Errorf("header %s = %q, want %q", name, v, RedactedValue)
		}
	}
	if len(got.Target.Headers) != 2 {
		t.Errorf("headers = %v, want both names kept", got.Target.Headers)
	}
	for _, s := range []string{got.Target.URL, got.Alert.WebhookURL} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("redacted spec shows a secret: %q", s)
		}
	}
	if got.Alert.Message != "{{.Status}}" {
		t.Errorf("message = %q, want it kept", got.Alert.Message)
	}
	// The original is untouched: the workflow still needs the secrets.
	if spec.Target.Headers["Authorization"] != "Bearer s3cret" || !strings.HasSuffix(spec.Alert.WebhookURL, "s3cret") ||
		!strings.HasSuffix(spec.Target.URL, "s3cret") {
		t.Errorf("Redacted changed its receiver: %+v %+v", spec.Target, spec.Alert)
	}
	// A spec without secrets comes back as it was.
	plain := Spec{Target: Target{Type: TargetSimulated}, Alert: &Alert{Phone: "+14255550100"}}
	if r := plain.Redacted(); r.Alert != plain.Alert || r.Target.Headers != nil {
		t.Errorf("plain spec changed: %+v", r)
	}
}

// TestRedactDestination: a provider's message that quotes the alert's
// phone number, in any of the forms it may write it, reaches the log
// with "(phone)" instead; other numbers stay.
func TestRedactDestination(t *testing.T) {
	alert := Alert{Phone: "+14255550100"}
	for _, tt := range []struct{ text, want string }{
		{"Invalid 'To' Phone Number: +14255550100", "Invalid 'To' Phone Number: (phone)"},
		{"to 14255550100 failed", "to (phone) failed"},
		{"to +1 425-555-0100 failed", "to (phone) failed"},
		{"to +1 (425) 555-0100 failed", "to (phone) failed"},
		// Seven digits that end the number are its local part.
		{"national 4255550100, local 555-0100", "national (phone), local (phone)"},
		// Two forms side by side are one stretch of it.
		{"+1 425-555-0100 (14255550100)", "(phone))"},
		{"error 21211 at 2026-12-07", "error 21211 at 2026-12-07"},
		{"another number +14255550199", "another number +14255550199"},
		{"HTTP 400", "HTTP 400"},
	} {
		if got := redactDestination(alert, tt.text); got != tt.want {
			t.Errorf("redactDestination(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
	hook := Alert{WebhookURL: "https://hooks.example.com/services/T0/KEY?sig=abc"}
	if got := redactDestination(hook, "POST "+hook.WebhookURL+": HTTP 503"); got != "POST https://hooks.example.com/(redacted): HTTP 503" {
		t.Errorf("webhook: %q", got)
	}
	// stepmon's own words keep what they share with the URL's path (the
	// receiver's words were redacted where they were read).
	named := Alert{WebhookURL: "https://hooks.example.com/notify/nightly-backup"}
	if got := redactDestination(named, "alert nightly-backup: webhook send failed"); got != "alert nightly-backup: webhook send failed" {
		t.Errorf("instance id in the webhook's path: %q", got)
	}
}

// TestRedactWebhookIn: what a receiver's answer may quote of the webhook
// URL, whole, in parts or cut short at its end, is redacted; words
// shorter than a key are left.
func TestRedactWebhookIn(t *testing.T) {
	const hook = "https://hooks.example.com/services/T01234567/B01234567/XXXXSECRETKEY?sig=SIGNATURE99&x=1"
	for _, tt := range []struct{ text, want string }{
		{"POST " + hook + " failed", "POST https://hooks.example.com/(redacted) failed"},
		{"Cannot POST /services/T01234567/B01234567/XXXXSECRETKEY?sig=SIGNATURE99&x=1", "Cannot POST (redacted)"},
		{"Cannot POST /services/T01234567/B01234567/XXXXSECRETKEY", "Cannot POST (redacted)"},
		{"no such key XXXXSECRETKEY", "no such key (redacted)"},
		{"bad signature SIGNATURE99", "bad signature (redacted)"},
		{"query sig=SIGNATURE99&x=1", "query (redacted)"},
		{"team T01234567 has no such services", "team (redacted) has no such services"},
		{"HTTP 404", "HTTP 404"},
	} {
		if got := RedactWebhookIn(hook, tt.text); got != tt.want {
			t.Errorf("RedactWebhookIn(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
	if got := RedactWebhookIn("", "text /x"); got != "text /x" {
		t.Errorf("no webhook: %q", got)
	}
	// An answer cut at a limit in the middle of a quoted key.
	if got := RedactWebhookIn(hook, "Cannot POST /services/T01234567/B01234567/XXXXSEC"); got != "Cannot POST /services/(redacted)/(redacted)/(redacted)" {
		t.Errorf("cut key: %q", got)
	}
	if got := RedactWebhookIn(hook, "no such route /serv"); got != "no such route (redacted)" {
		t.Errorf("cut path: %q", got)
	}
	escaped := "https://h.example/hooks/key%20with%20spaces1"
	if got := RedactWebhookIn(escaped, "no hook key with spaces1 here"); got != "no hook (redacted) here" {
		t.Errorf("unescaped path segment: %q", got)
	}
}
