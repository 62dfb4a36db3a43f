package monitor

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"
)

// AlertData is what an alert message template sees. Detail is the last
// check's detail, cut to MaxAlertDetail bytes; ObservedAt is the time of
// that check.
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

// templateData is what a message template runs over: AlertData's values
// as strings and integers, none of which has a method. A method called
// with arguments of the template's choosing is out of the caps' reach:
// time.Time's Format makes a longer layout of a layout ("1" is "11" in
// November), so a few hundred characters of template could build a value
// of any length.
type templateData struct {
	InstanceID, JobID, Name, Target, Status, Detail string
	OpenIssues, Threshold, CheckCount               int
	ObservedAt                                      string // RFC 3339, as in the webhook's data
}

// templateNames are the names a message template may use, as it spells
// them (".InstanceID"): templateData's fields, in their order.
var templateNames = func() []string {
	t := reflect.TypeFor[templateData]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = "." + t.Field(i).Name
	}
	return names
}()

// fieldErrorRe matches text/template's error for a field that the value
// it is looked up on does not have. The field is a Go identifier, whose
// letters and digits need not be ASCII.
var fieldErrorRe = regexp.MustCompile(`can't evaluate field ([\pL\pN_]+) in type (\S+)`)

// templateFieldProblem says, in the alert data's terms rather than Go's,
// what is wrong with a template whose run failed with err, which names a
// field the data does not have: one of templateData (with the names that
// exist, or the one it differs from only in case), or one of a value,
// which is a string or an integer.
func templateFieldProblem(err error) string {
	m := fieldErrorRe.FindStringSubmatch(err.Error())
	if m == nil {
		return "names something the alert data does not have: " + err.Error()
	}
	name, typ := "."+m[1], m[2]
	if typ == reflect.TypeFor[templateData]().String() {
		for _, known := range templateNames {
			if strings.EqualFold(known, name) {
				return fmt.Sprintf("names %s, which is not alert data (did you mean %s? names are case-sensitive)", name, known)
			}
		}
		last := len(templateNames) - 1
		return fmt.Sprintf("names %s, which is not alert data; use %s or %s", name, strings.Join(templateNames[:last], ", "), templateNames[last])
	}
	value := "a string"
	if strings.HasPrefix(typ, "int") {
		value = "an integer"
	}
	return fmt.Sprintf("names %s on %s: the alert data's values are strings and integers, which have no fields or methods", name, value)
}

func newTemplateData(d AlertData) templateData {
	return templateData{
		InstanceID: d.InstanceID, JobID: d.JobID, Name: d.Name, Target: d.Target, Status: d.Status, Detail: d.Detail,
		OpenIssues: d.OpenIssues, Threshold: d.Threshold, CheckCount: d.CheckCount,
		ObservedAt: d.ObservedAt.Format(time.RFC3339Nano),
	}
}

// slackEscaper escapes the characters that Slack's message text gives a
// meaning to ("<!channel>" notifies a channel, "<url|label>" is a link
// shown as its label), as Slack asks: "&", "<" and ">" only.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackEscaped returns d with its string values escaped for Slack's
// message text (slackEscaper). They may quote what a target sent (a job's
// status value in Detail); the template's own text is the alert owner's,
// who may mean its "<!here>" or its links, and is left as written.
func (d templateData) slackEscaped() templateData {
	for _, v := range []*string{&d.InstanceID, &d.JobID, &d.Name, &d.Target, &d.Status, &d.Detail, &d.ObservedAt} {
		*v = slackEscaper.Replace(*v)
	}
	return d
}

// DefaultMessageTemplate is used when an alert names no message.
const DefaultMessageTemplate = `{{.Name}} {{.JobID}}: {{if .Threshold}}{{.Target}} has at least {{.OpenIssues}} open issues (threshold {{.Threshold}}){{else}}{{.Target}} is {{.Status}}{{end}}.`

// MaxMessageBytes bounds a rendered alert message: a template whose
// output grows past it fails (and the alert falls back to the default
// message). An SMS carries at most 1,600 characters.
const MaxMessageBytes = 4096

// parseMessageTemplate parses an alert message template. Its run time
// must follow from its length, since the start function runs it to
// validate it: loops (range, also over an integer), and the named
// templates that make recursion possible (define, block, template), are
// refused.
func parseMessageTemplate(text string) (*template.Template, error) {
	t, err := template.New("alert").Option("missingkey=error").Funcs(cappedFuncs).Parse(text)
	if err != nil {
		return nil, err
	}
	if len(t.Templates()) > 1 {
		return nil, errors.New("define and block are not allowed")
	}
	if t.Tree != nil {
		if err := boundedNodes(t.Tree.Root); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// boundedNodes refuses the nodes that can run a template for longer than
// its length: range and template.
func boundedNodes(n parse.Node) error {
	switch x := n.(type) {
	case nil:
		return nil
	case *parse.ListNode:
		if x == nil {
			return nil
		}
		for _, c := range x.Nodes {
			if err := boundedNodes(c); err != nil {
				return err
			}
		}
	case *parse.RangeNode:
		return errors.New("range is not allowed")
	case *parse.TemplateNode:
		return errors.New("template is not allowed")
	case *parse.IfNode:
		return errors.Join(boundedNodes(x.List), boundedNodes(x.ElseList))
	case *parse.WithNode:
		return errors.Join(boundedNodes(x.List), boundedNodes(x.ElseList))
	}
	return nil
}

// cappedFuncs replace the builtin functions that make a longer string than
// they are given, so that no value a template computes (kept in a
// variable, passed to another call) grows past MaxMessageBytes: doubling a
// string twenty times, or escaping an escape again and again, would
// otherwise fill the memory while the output stays short.
var cappedFuncs = template.FuncMap{
	"printf": func(format string, args ...any) (string, error) {
		if err := boundedFormat(format); err != nil {
			return "", err
		}
		return capped(fmt.Sprintf(format, args...))
	},
	"print":    func(args ...any) (string, error) { return capped(fmt.Sprint(args...)) },
	"println":  func(args ...any) (string, error) { return capped(fmt.Sprintln(args...)) },
	"html":     func(args ...any) (string, error) { return capped(template.HTMLEscaper(args...)) },
	"js":       func(args ...any) (string, error) { return capped(template.JSEscaper(args...)) },
	"urlquery": func(args ...any) (string, error) { return capped(template.URLQueryEscaper(args...)) },
}

// boundedFormat refuses a printf format whose widths or precisions could
// make Sprintf build more than MaxMessageBytes before capped sees it
// ("%0999999d" is a megabyte of zeros): a number above MaxMessageBytes, or
// one taken from an argument ("*"). It also refuses argument indexes
// ("%[2]d"): how fmt reads a directive with one, or with a "[" that is
// not one, is intricate enough to hide the width of the next directive
// from a reading that differs in the least. Without them a directive is
// what fmt reads too: flags, a width, a precision, and one character,
// whatever it is, as the verb.
func boundedFormat(format string) error {
	number := func(i int) (int, error) {
		n := 0
		for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
			if n = n*10 + int(format[i]-'0'); n > MaxMessageBytes {
				return i, fmt.Errorf("printf takes no width or precision above %d: %w", MaxMessageBytes, errMessageTooLong)
			}
		}
		return i, nil
	}
	// widthOrPrecision reads one at format[i]: digits, or no digits.
	widthOrPrecision := func(i int) (int, error) {
		if i < len(format) {
			switch format[i] {
			case '*':
				return i, errArgumentWidth
			case '[':
				return i, errArgumentIndex
			}
		}
		return number(i)
	}
	for i := 0; i < len(format); {
		if format[i] != '%' {
			i++
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			i++
		}
		var err error
		if i, err = widthOrPrecision(i); err != nil {
			return err
		}
		if i < len(format) && format[i] == '.' {
			if i, err = widthOrPrecision(i + 1); err != nil {
				return err
			}
		}
		if i < len(format) {
			if format[i] == '[' {
				return errArgumentIndex
			}
			_, size := utf8.DecodeRuneInString(format[i:])
			i += size // the verb
		}
	}
	return nil
}

// directiveError returns the errArgumentWidth or errArgumentIndex in err.
func directiveError(err error) error {
	for _, e := range []error{errArgumentWidth, errArgumentIndex} {
		if errors.Is(err, e) {
			return e
		}
	}
	return err
}

// errPrintfDirective is what printf's directives may not use; a start is
// refused for it.
var errPrintfDirective = errors.New("printf")

var (
	// errArgumentWidth refuses printf's "*": a width no length check can
	// see.
	errArgumentWidth = fmt.Errorf("%w takes no width or precision from an argument (*)", errPrintfDirective)
	// errArgumentIndex refuses printf's "[n]" (see boundedFormat).
	errArgumentIndex = fmt.Errorf("%w takes no argument indexes ([n])", errPrintfDirective)
)

func capped(s string) (string, error) {
	if len(s) > MaxMessageBytes {
		return "", errMessageTooLong
	}
	return s, nil
}

// errMessageTooLong stops a template whose output passes MaxMessageBytes.
var errMessageTooLong = fmt.Errorf("the message is longer than %d bytes", MaxMessageBytes)

// cappedBuilder is a strings.Builder that refuses to grow past
// MaxMessageBytes.
type cappedBuilder struct{ strings.Builder }

func (b *cappedBuilder) Write(p []byte) (int, error) {
	if b.Len()+len(p) > MaxMessageBytes {
		return 0, errMessageTooLong
	}
	return b.Builder.Write(p)
}

// errTemplateFails marks a message template that fails whatever the
// alert's data (sampleRun).
var errTemplateFails = errors.New("fails with any alert's data")

// sampleRun runs a parsed message template over two samples of alert
// data, one empty ("" and 0) and one filled (so that the branches of if
// and with run too), and returns what the start must refuse: output, a
// value or a printf width or precision past MaxMessageBytes, printf's "*"
// or argument indexes (errPrintfDirective), a name the data does not
// have ("can't evaluate field", also on a string: {{.Name.Foo}}), or
// another failure that does not depend on the data's values
// (errTemplateFails: {{call .Target}}, {{len .CheckCount}}), the data's
// types being fixed. An index or a slice past the end of a sample's
// value depends on it ({{index .Status 0}} on an empty status): with a
// real alert's data the template may well work, and if not it falls back
// to the default message, so it is not refused.
func sampleRun(t *template.Template) error {
	filled := AlertData{InstanceID: "sample", JobID: "sample", Name: "sample", Target: "sample", Status: "sample", Detail: "sample",
		OpenIssues: 1, Threshold: 1, CheckCount: 1, ObservedAt: time.Date(2026, 11, 11, 11, 11, 11, 0, time.UTC)}
	for _, d := range []AlertData{{}, filled} {
		err := t.Execute(&cappedBuilder{}, newTemplateData(d))
		switch {
		case err == nil:
		case errors.Is(err, errMessageTooLong) || errors.Is(err, errPrintfDirective) || strings.Contains(err.Error(), "can't evaluate field"):
			return err
		case !strings.Contains(err.Error(), "out of range") && !strings.Contains(err.Error(), "invalid slice index"):
			return fmt.Errorf("%w: %s", errTemplateFails, strings.TrimPrefix(err.Error(), "template: "))
		}
	}
	return nil
}

// renderMessage renders the alert's message template (or the default)
// over d: as Text with d's values as they are, and as WebhookText with
// them escaped for Slack (templateData.slackEscaped). A template that
// fails at run time, or renders nothing but white space for this alert's
// data ({{if eq .Status "Failed"}}...{{end}} for a Completed job), falls
// back to the default, so an alert is never lost to a typo or sent empty
// (which SNS, Twilio and Slack refuse); the error says why the alert's own
// template was not used. (The escaped values are longer: a template that
// passes MaxMessageBytes only with them falls back for WebhookText alone.)
func renderMessage(a Alert, d AlertData) (Message, error) {
	text := a.Message
	if text == "" {
		text = DefaultMessageTemplate
	}
	msg := Message{Subject: "stepmon: " + d.Name + " " + d.JobID, Data: d}
	td := newTemplateData(d)
	out, err := execNonBlank(text, td)
	if err != nil {
		text = DefaultMessageTemplate
		out, _ = execTemplate(text, td)
	}
	msg.Text = out
	webhook, werr := execNonBlank(text, td.slackEscaped())
	if werr != nil {
		webhook, _ = execTemplate(DefaultMessageTemplate, td.slackEscaped())
	}
	msg.WebhookText = webhook
	return msg, err
}

// errBlankMessage is renderMessage's error for a template that renders
// nothing but white space.
var errBlankMessage = errors.New("the message template rendered no text for this alert")

// execNonBlank is execTemplate, with output that is only white space an
// error (errBlankMessage).
func execNonBlank(text string, td templateData) (string, error) {
	out, err := execTemplate(text, td)
	if err == nil && strings.TrimSpace(out) == "" {
		return "", errBlankMessage
	}
	return out, err
}

func execTemplate(text string, td templateData) (string, error) {
	t, err := parseMessageTemplate(text)
	if err != nil {
		return "", err
	}
	var b cappedBuilder
	if err := t.Execute(&b, td); err != nil {
		return "", err
	}
	return b.String(), nil
}
