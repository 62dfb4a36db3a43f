package monitor

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
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

// redactDestination returns text, a send's error for the log, with the
// alert's webhook URL redacted as the API shows it and its phone number
// replaced by "(phone)": Twilio's and SNS's messages may quote it, as
// given or in another form (+1 425-555-0100, a national 4255550100).
func redactDestination(alert Alert, text string) string {
	if alert.WebhookURL != "" {
		// The whole URL only: a receiver's own words, which may quote
		// parts of it, are redacted where they are read (RedactWebhookIn),
		// and stepmon's words around them may share a part of the URL (an
		// instance id in its path) that must stay.
		text = strings.ReplaceAll(text, alert.WebhookURL, RedactWebhookURL(alert.WebhookURL))
	}
	if alert.Phone == "" {
		return text
	}
	phone := strings.TrimPrefix(alert.Phone, "+")
	return digitRun.ReplaceAllStringFunc(text, func(run string) string { return redactPhone(run, phone) })
}

// RedactWebhookIn returns text, a webhook receiver's answer, with the
// webhook URL raw in it redacted as RedactWebhookURL shows it, and with
// what the answer may quote of it, the key that Slack, Teams and Discord
// put in the path among it, replaced by RedactedValue: its path and
// query, together or apart, escaped or not, and each path segment and
// query value. Parts shorter than minQuotedPart are left, not to blot out
// common words of the text. A text that ends in the start of a part (an
// answer read up to a limit that cut a quoted key) has that end redacted
// too.
func RedactWebhookIn(raw, text string) string {
	if raw == "" {
		return text
	}
	text = strings.ReplaceAll(text, raw, RedactWebhookURL(raw))
	u, err := url.Parse(raw)
	if err != nil {
		return text
	}
	parts := []string{u.RequestURI(), u.EscapedPath(), u.Path, u.RawQuery}
	for seg := range strings.SplitSeq(u.EscapedPath(), "/") {
		parts = append(parts, seg)
		if unescaped, err := url.PathUnescape(seg); err == nil {
			parts = append(parts, unescaped)
		}
	}
	for pair := range strings.SplitSeq(u.RawQuery, "&") {
		_, v, _ := strings.Cut(pair, "=")
		parts = append(parts, pair, v)
		if unescaped, err := url.QueryUnescape(v); err == nil {
			parts = append(parts, unescaped)
		}
	}
	// The longest first: a part inside a longer one would leave the
	// rest of it.
	slices.SortFunc(parts, func(a, b string) int { return len(b) - len(a) })
	parts = slices.Compact(parts)
	for _, p := range parts {
		if len(p) >= minQuotedPart {
			text = strings.ReplaceAll(text, p, RedactedValue)
		}
	}
	for _, p := range parts {
		if len(p) < minQuotedPart {
			continue
		}
		for k := len(p) - 1; k >= minCutPart; k-- {
			if strings.HasSuffix(text, p[:k]) {
				return text[:len(text)-k] + RedactedValue
			}
		}
	}
	return text
}

// minCutPart is the length in bytes of the shortest start of a part that
// RedactWebhookIn redacts at the end of a text.
const minCutPart = 4

// minQuotedPart is the length in bytes of the shortest part of a webhook
// URL that RedactWebhookIn looks for: a key is longer, and words such as
// "hooks" or "services" are not taken for one.
const minQuotedPart = 9

// digitRun matches digits with the separators a phone number may be
// written with between them (spaces, dots, dashes, parentheses), and a +
// or ( before them.
var digitRun = regexp.MustCompile(`\+?\(?\d[\d .()-]*\d`)

// minPhoneDigits is the fewest digits of the number a run must hold to
// count as it: a national number without its country code has seven or
// more.
const minPhoneDigits = 7

// redactPhone replaces in run, a digitRun match, each stretch whose
// digits are the last minPhoneDigits or more digits of phone (the number
// as given, or without its country code) with "(phone)", the separators
// within it and a + or ( just before it included.
func redactPhone(run, phone string) string {
	var pos []int // the byte offset in run of each digit
	var digits strings.Builder
	for i := range len(run) {
		if c := run[i]; c >= '0' && c <= '9' {
			pos = append(pos, i)
			digits.WriteByte(c)
		}
	}
	d := digits.String()
	covered := make([]bool, len(d))
	found := false
	for k := len(phone); k >= minPhoneDigits; k-- {
		suffix := phone[len(phone)-k:]
		for from := 0; ; {
			j := strings.Index(d[from:], suffix)
			if j < 0 {
				break
			}
			for x := from + j; x < from+j+k; x++ {
				covered[x] = true
			}
			found, from = true, from+j+k
		}
	}
	if !found {
		return run
	}
	var b strings.Builder
	last := 0 // the offset in run up to which it is written
	for x := 0; x < len(d); {
		if !covered[x] {
			x++
			continue
		}
		y := x
		for y+1 < len(d) && covered[y+1] {
			y++
		}
		b.WriteString(strings.TrimRight(run[last:pos[x]], "+("))
		b.WriteString("(phone)")
		last, x = pos[y]+1, y+1
	}
	b.WriteString(run[last:])
	return b.String()
}
