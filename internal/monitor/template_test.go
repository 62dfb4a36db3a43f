package monitor

import (
	"errors"
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
