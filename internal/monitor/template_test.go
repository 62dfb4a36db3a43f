package monitor

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parseDeadline is how long parseWithin waits for ParseStartRequest,
// which takes microseconds: generous for a loaded machine, and far
// below go test's ten minutes.
const parseDeadline = 5 * time.Second

// parseWithin returns ParseStartRequest(body), and fails the test if it
// has not returned within parseDeadline. A start runs the alert's message
// template to check it, so a loop that parseMessageTemplate let through
// ({{range 2147483647}} twice, which writes nothing for the output's cap
// to stop) would run until go test's timeout, naming no test; this fails
// the one that sent it, in seconds. (The run is left behind on its
// goroutine: there is no stopping text/template.)
func parseWithin(t *testing.T, body string) (StartRequest, error) {
	t.Helper()
	type result struct {
		r   StartRequest
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := ParseStartRequest([]byte(body))
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		return res.r, res.err
	case <-time.After(parseDeadline):
		t.Fatalf("ParseStartRequest(%.120q) still running after %v, want it answered at once", body, parseDeadline)
		return StartRequest{}, nil
	}
}

// startBody is a start request whose webhook alert has the message tmpl.
func startBody(tmpl string) string {
	return `{"target":{"type":"simulated"},"alert":{"webhookUrl":"https://x.example","message":` + strconv.Quote(tmpl) + `}}`
}

// TestMessageTemplateRefusesDefine pins that a message template may name
// no template of its own, not even one: define and block are refused as
// parseMessageTemplate's doc says, so that no {{template}} call has
// anything to run, and what a start accepts is the one template it
// checked. A single {{define}} (two templates with the message itself)
// was let through by a count that allowed one too many.
func TestMessageTemplateRefusesDefine(t *testing.T) {
	tests := []struct{ name, tmpl string }{
		{"one define", `{{define "x"}}a{{end}}hi`},
		{"one define and nothing else", `{{define "x"}}a{{end}}`},
		{"two defines", `{{define "x"}}a{{end}}{{define "y"}}b{{end}}hi`},
		{"block", `{{block "b" .}}x{{end}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseMessageTemplate(tt.tmpl); err == nil {
				t.Errorf("parseMessageTemplate(%q): got no error, want define and block refused", tt.tmpl)
			}
			if _, err := parseWithin(t, startBody(tt.tmpl)); !fieldRefused(err, "alert.message") {
				t.Errorf("start with %q: got %v, want alert.message refused", tt.tmpl, err)
			}
		})
	}
}

// TestMessageBytesBoundary pins MaxMessageBytes as the largest message,
// not one below or above it: a message of exactly MaxMessageBytes renders
// and starts, and one byte more fails with errMessageTooLong, both where
// the output is written (cappedBuilder) and where a capped function makes
// a value that is never written (capped, here measured by len). printf's
// own width bound stops "%4097s", so the longer values are built from a
// 4096-byte one.
func TestMessageBytesBoundary(t *testing.T) {
	const full = `{{printf "%4096s" ""}}` // MaxMessageBytes spaces
	tests := []struct {
		name    string
		tmpl    string
		wantLen int // of the output; 0 when it must fail
	}{
		{"output of exactly the limit", full, MaxMessageBytes},
		{"output in two writes to the limit", `{{printf "%4095s" ""}}.`, MaxMessageBytes},
		{"output a byte over the limit", full + ".", 0},
		{"value of exactly the limit", `{{len (printf "%s" (printf "%4096s" ""))}}`, len("4096")},
		{"value a byte over the limit", `{{len (printf "%s." (printf "%4096s" ""))}}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := execTemplate(tt.tmpl, newTemplateData(AlertData{}))
			_, startErr := parseWithin(t, startBody(tt.tmpl))
			if tt.wantLen == 0 {
				if !errors.Is(err, errMessageTooLong) {
					t.Errorf("execTemplate(%q): got %d bytes, error %v; want %v", tt.tmpl, len(out), err, errMessageTooLong)
				}
				if !fieldRefused(startErr, "alert.message") || !strings.Contains(startErr.Error(), "renders to more than 4096 bytes") {
					t.Errorf("start with %q: got %v, want alert.message refused: renders to more than 4096 bytes", tt.tmpl, startErr)
				}
				return
			}
			if err != nil || len(out) != tt.wantLen {
				t.Errorf("execTemplate(%q): got %d bytes, error %v; want %d bytes", tt.tmpl, len(out), err, tt.wantLen)
			}
			if startErr != nil {
				t.Errorf("start with %q: got %v, want it accepted", tt.tmpl, startErr)
			}
		})
	}
}

// TestTemplateFieldProblemUnicodeNames pins that a name the data does
// not have is refused in the data's terms when it is not ASCII too (Go
// names may be any letters): "{{.Größe}}" was refused with
// text/template's error, which speaks of Go's types.
func TestTemplateFieldProblemUnicodeNames(t *testing.T) {
	const use = "use .InstanceID, .JobID, .Name, .Target, .Status, .Detail, .OpenIssues, .Threshold, .CheckCount or .ObservedAt"
	tests := []struct{ tmpl, want string }{
		{"{{.Größe}}", "names .Größe, which is not alert data; " + use},
		{"{{.Status.Ñ}}", "names .Ñ on a string: the alert data's values are strings and integers, which have no fields or methods"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			wantFieldErrors(t, startBody(tt.tmpl), []FieldError{{"alert.message", tt.want}})
		})
	}
}

// TestCappedFuncsBoundValues pins that every builtin that can return a
// longer string than it is given stops at MaxMessageBytes, also when its
// value is never written (only its length is here), so that no variable
// grows past the cap: a start with such a template is refused.
func TestCappedFuncsBoundValues(t *testing.T) {
	tests := []struct{ name, tmpl string }{
		{"printf", `{{len (printf "%s." (printf "%4096s" ""))}}`},
		{"print", `{{len (print (printf "%4096s" "") ".")}}`},
		{"println", `{{len (println (printf "%4096s" ""))}}`},
		{"html", `{{len (html (printf "%4095s" "<"))}}`},
		{"js", `{{len (js (printf "%4095s" "<"))}}`},
		{"urlquery", `{{len (urlquery (printf "%4095s" "/"))}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out, err := execTemplate(tt.tmpl, newTemplateData(AlertData{})); !errors.Is(err, errMessageTooLong) {
				t.Errorf("execTemplate(%q) = %q, %v; want %v", tt.tmpl, out, err, errMessageTooLong)
			}
			if _, err := parseWithin(t, startBody(tt.tmpl)); !fieldRefused(err, "alert.message") || !strings.Contains(err.Error(), "renders to more than 4096 bytes") {
				t.Errorf("start with %q: got %v, want alert.message refused: renders to more than 4096 bytes", tt.tmpl, err)
			}
		})
	}
}

// TestBoundedFormat pins what boundedFormat reads as a directive's flags,
// width and precision: a space and a zero are flags, as "+-#" are, so a
// width after them is bounded ("%0 5000d" is 5000 wide); an argument index
// is refused after a width or a precision too, not only first; a width
// from an argument is refused.
func TestBoundedFormat(t *testing.T) {
	tests := []struct {
		format string
		want   error // nil: accepted
	}{
		{"% 5d|%-10s|%+.3f|%#x|%05d", nil},
		{"% 5000d", errMessageTooLong},
		{"%+ 05000d", errMessageTooLong},
		{"% .5000f", errMessageTooLong},
		{"%0 5000d", errMessageTooLong},
		{"%-0+5000d", errMessageTooLong},
		{"%5[1]d", errArgumentIndex},
		{"%.2[1]f", errArgumentIndex},
		{"% [1]d", errArgumentIndex},
		{"% *d", errArgumentWidth},
	}
	for _, tt := range tests {
		err := boundedFormat(tt.format)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("boundedFormat(%q) = %v, want %v", tt.format, err, tt.want)
		}
	}
}

// TestTemplatePrintfDirectiveProblem pins the problem a start reports for
// printf's refused directives: the rule broken, without text/template's
// account of where it ran.
func TestTemplatePrintfDirectiveProblem(t *testing.T) {
	tests := []struct{ tmpl, want string }{
		{`{{printf "%*d" 5 1}}`, "is not a valid template: printf takes no width or precision from an argument (*)"},
		{`{{printf "%[1]d" 1}}`, "is not a valid template: printf takes no argument indexes ([n])"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			wantFieldErrors(t, startBody(tt.tmpl), []FieldError{{"alert.message", tt.want}})
		})
	}
}

// TestRenderMessageSubjectAndTime pins a message's subject, "stepmon: "
// and the monitor's name and job id, and .ObservedAt as the webhook's
// data has it: RFC 3339 with its fraction of a second.
func TestRenderMessageSubjectAndTime(t *testing.T) {
	d := AlertData{Name: "HTTPJobMonitor", JobID: "j1", Target: "https://x.example", Status: "Done",
		ObservedAt: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)}
	msg, err := renderMessage(Alert{Message: "at {{.ObservedAt}}"}, d)
	if err != nil {
		t.Fatal(err)
	}
	if want := "stepmon: HTTPJobMonitor j1"; msg.Subject != want {
		t.Errorf("Subject = %q, want %q", msg.Subject, want)
	}
	if want := "at 2026-01-02T03:04:05.123456789Z"; msg.Text != want {
		t.Errorf("Text = %q, want %q", msg.Text, want)
	}
}

// TestRenderMessageWebhookFallback pins WebhookText when the alert's
// template does not render: it is the default message with the values
// escaped for Slack, never empty (the webhook would send Text, unescaped)
// nor the values as they are; and when the template fails on the data as
// it is, both texts are the default, not the template run again on the
// escaped values.
func TestRenderMessageWebhookFallback(t *testing.T) {
	tests := []struct {
		name, tmpl, status string
		wantText, wantHook string
		wantErr            bool
	}{
		{"too long only escaped", `{{printf "%4000s" ""}}{{.Status}}`, strings.Repeat("<", 50),
			strings.Repeat(" ", 4000) + strings.Repeat("<", 50), "m j: a/b is " + strings.Repeat("&lt;", 50) + ".", false},
		{"fails on the data as it is", `{{index .Status 3}}`, "<",
			"m j: a/b is <.", "m j: a/b is &lt;.", true},
		{"blank for this alert", `{{if eq .Status "Failed"}}the job failed{{end}}`, "Completed",
			"m j: a/b is Completed.", "m j: a/b is Completed.", true},
		{"only white space", "{{/* nothing */}} \n\t", "Completed",
			"m j: a/b is Completed.", "m j: a/b is Completed.", true},
		{"text for this alert", `{{if eq .Status "Failed"}}the job failed{{end}}`, "Failed",
			"the job failed", "the job failed", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := renderMessage(Alert{Message: tt.tmpl}, AlertData{Name: "m", JobID: "j", Target: "a/b", Status: tt.status})
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if msg.Text != tt.wantText {
				t.Errorf("Text = %.80q, want %.80q", msg.Text, tt.wantText)
			}
			if msg.WebhookText != tt.wantHook {
				t.Errorf("WebhookText = %.80q, want %.80q", msg.WebhookText, tt.wantHook)
			}
		})
	}
}

// TestSlackEscapedEveryString pins that slackEscaped escapes every string
// value of the data for Slack, whichever field a value that notifies a
// channel or hides a link comes in, and leaves the integers alone.
func TestSlackEscapedEveryString(t *testing.T) {
	const raw, escaped = "<!channel> & <https://x.example|y>", "&lt;!channel&gt; &amp; &lt;https://x.example|y&gt;"
	var td templateData
	v := reflect.ValueOf(&td).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString(raw)
		case reflect.Int:
			f.SetInt(7)
		default:
			t.Fatalf("templateData.%s is a %s", v.Type().Field(i).Name, f.Kind())
		}
	}
	got := reflect.ValueOf(td.slackEscaped())
	for i := range got.NumField() {
		name, f := got.Type().Field(i).Name, got.Field(i)
		if f.Kind() == reflect.String && f.String() != escaped {
			t.Errorf("%s = %q, want %q", name, f.String(), escaped)
		}
		if f.Kind() == reflect.Int && f.Int() != 7 {
			t.Errorf("%s = %d, want 7", name, f.Int())
		}
	}
}
