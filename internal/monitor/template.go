package monitor

import (
	"strings"
	"text/template"
	"time"
)

// AlertData is what an alert message template sees. Detail is the last
// check's detail, cut to MaxStateDetail bytes.
type AlertData struct {
	InstanceID string    `json:"instanceId"`
	JobID      string    `json:"jobId"`
	Name       string    `json:"name"`
	Target     string    `json:"target"` // "owner/name" or the URL
	Status     string    `json:"status"`
	Detail     string    `json:"detail"`
	OpenIssues int       `json:"openIssues,omitempty"`
	Threshold  int       `json:"threshold,omitempty"`
	CheckCount int       `json:"checkCount"`
	ObservedAt time.Time `json:"observedAt"`
}

// DefaultMessageTemplate is used when an alert names no message.
const DefaultMessageTemplate = `{{.Name}} {{.JobID}}: {{if .Threshold}}{{.Target}} has {{.OpenIssues}} open issues (threshold {{.Threshold}}){{else}}{{.Target}} is {{.Status}}{{end}}.`

func parseMessageTemplate(text string) (*template.Template, error) {
	return template.New("alert").Option("missingkey=error").Parse(text)
}

// RenderMessage renders the alert's message template (or the default)
// over d. A template that fails at run time falls back to the default, so
// an alert is never lost to a typo.
func RenderMessage(a Alert, d AlertData) Message {
	text := a.Message
	if text == "" {
		text = DefaultMessageTemplate
	}
	msg := Message{Subject: "stepmon: " + d.Name + " " + d.JobID, Data: d}
	if out, err := execTemplate(text, d); err == nil {
		msg.Text = out
		return msg
	}
	msg.Text, _ = execTemplate(DefaultMessageTemplate, d)
	return msg
}

func execTemplate(text string, d AlertData) (string, error) {
	t, err := parseMessageTemplate(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}
