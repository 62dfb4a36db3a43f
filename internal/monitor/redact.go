package monitor

import (
	"maps"
	"net/url"
	"strings"
)

// RedactedValue is what an API answer shows in place of a secret.
const RedactedValue = "(redacted)"

// Redacted returns a copy of s that is safe to show in an API answer.
// Secrets that a spec may carry are replaced by RedactedValue:
//   - the values of the HTTP target's headers (their names are kept), where
//     docs/api.md suggests an Authorization header;
//   - the target URL's user information, query and fragment (its scheme,
//     host and path are kept, as they name the job);
//   - everything in the webhook URL after its host: Slack, Teams, Discord
//     and Mattermost put the webhook's key in the path.
//
// s itself is not changed. The execution input still holds the spec whole.
func (s Spec) Redacted() Spec {
	if len(s.Target.Headers) > 0 {
		h := maps.Clone(s.Target.Headers)
		for name := range h {
			h[name] = RedactedValue
		}
		s.Target.Headers = h
	}
	if s.Target.URL != "" {
		s.Target.URL = redactURL(s.Target.URL, true)
	}
	if s.Alert != nil && s.Alert.WebhookURL != "" {
		a := *s.Alert
		a.WebhookURL = redactURL(a.WebhookURL, false)
		s.Alert = &a
	}
	return s
}

// RedactURL returns the URL raw as it may be shown in a status, a detail
// or a log: scheme, host and path, with user information, query and
// fragment replaced by RedactedValue. A URL that does not parse is
// replaced whole.
func RedactURL(raw string) string { return redactURL(raw, true) }

// RedactWebhookURL returns a webhook URL as it may be shown: scheme and
// host, with everything after the host replaced by RedactedValue, as
// Spec.Redacted shows Alert.WebhookURL (Slack, Teams, Discord and
// Mattermost put the webhook's key in the path).
func RedactWebhookURL(raw string) string { return redactURL(raw, false) }

// redactURL returns raw with its user information, query and fragment
// replaced by RedactedValue, and with keepPath false also its path. A URL
// that does not parse is replaced whole.
func redactURL(raw string, keepPath bool) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return RedactedValue
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://")
	if u.User != nil {
		b.WriteString(RedactedValue + "@")
	}
	b.WriteString(u.Host)
	path := u.EscapedPath()
	hidden := u.RawQuery != "" || u.ForceQuery || u.Fragment != ""
	switch {
	case !keepPath && (hidden || (path != "" && path != "/")):
		b.WriteString("/" + RedactedValue)
		return b.String()
	case !keepPath:
		b.WriteString(path)
		return b.String()
	}
	b.WriteString(path)
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteString("?" + RedactedValue)
	}
	if u.Fragment != "" {
		b.WriteString("#" + RedactedValue)
	}
	return b.String()
}
