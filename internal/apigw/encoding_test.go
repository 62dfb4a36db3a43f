package apigw

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stepmon/stepmon/internal/monitor"
)

// utf16LE encodes s as UTF-16LE, with a byte order mark when bom is set:
// what PowerShell 5's Out-File writes.
func utf16LE(s string, bom bool) string {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return string(b)
}

// utf16BE is utf16LE in big-endian byte order.
func utf16BE(s string, bom bool) string {
	var b []byte
	if bom {
		b = append(b, 0xfe, 0xff)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return string(b)
}

func base64Encoded(req events.APIGatewayProxyRequest) events.APIGatewayProxyRequest {
	req.Body = base64.StdEncoding.EncodeToString([]byte(req.Body))
	req.IsBase64Encoded = true
	return req
}

// A start or raiseEvent body saved by a Windows editor is read as the JSON
// it holds: a UTF-8 byte order mark is dropped. UTF-16 is refused with a
// message that names the fix, not a JSON syntax error about 'ÿ', and so is
// a body in Latin-1, whose bytes would otherwise become U+FFFD.
func TestBodyEncoding(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	const utf16Message = "request body is UTF-16: save it as UTF-8 (in PowerShell 5: Out-File -Encoding utf8)"
	start := `{"instanceId":"enc","target":{"type":"simulated"}}`
	event := `{"pollingIntervalSeconds":30}`
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		want   string // the error message; "" for an accepted request
	}{
		{"start with a UTF-8 BOM", local("POST", "/monitors", bom+start), 202, ""},
		{"base64 start with a UTF-8 BOM", base64Encoded(local("POST", "/monitors", bom+start)), 202, ""},
		{"start with a BOM and blanks", local("POST", "/monitors", bom+"\r\n "+start+"\r\n"), 202, ""},
		{"start UTF-16LE with BOM", local("POST", "/monitors", utf16LE(start, true)), 400, utf16Message},
		{"start UTF-16BE with BOM", local("POST", "/monitors", utf16BE(start, true)), 400, utf16Message},
		{"start UTF-16LE without BOM", local("POST", "/monitors", utf16LE(start, false)), 400, utf16Message},
		{"start UTF-16BE without BOM", local("POST", "/monitors", utf16BE(start, false)), 400, utf16Message},
		{"base64 start UTF-16LE", base64Encoded(local("POST", "/monitors", utf16LE(start, true))), 400, utf16Message},
		{"base64 start in Latin-1", base64Encoded(local("POST", "/monitors", `{"instanceId":"enc","target":{"type":"simulated"},"alert":{"webhookUrl":"https://hooks.example.com/caf`+"\xe9"+`"}}`)), 400,
			"request body is not UTF-8 (byte 0xE9 at offset 102): JSON is UTF-8 text; save it as UTF-8"},
		{"start in Latin-1", local("POST", "/monitors", "{\"jobId\":\"\xe9t\xe9\",\"target\":{\"type\":\"simulated\"}}"), 400,
			"request body is not UTF-8 (byte 0xE9 at offset 10): JSON is UTF-8 text; save it as UTF-8"},
		{"start that is only a BOM", local("POST", "/monitors", bom), 400, `request body is empty; send a JSON object such as {"target":{"type":"simulated"}}`},
		{"event with a UTF-8 BOM", local("POST", "/monitors/ev/raiseEvent/setInterval", bom+event), 202, ""},
		{"event UTF-16LE with BOM", local("POST", "/monitors/ev/raiseEvent/setInterval", utf16LE(event, true)), 400, utf16Message},
		{"event UTF-16LE without BOM", local("POST", "/monitors/ev/raiseEvent/setInterval", utf16LE(event, false)), 400, utf16Message},
		{"event that is only a BOM", local("POST", "/monitors/ev/raiseEvent/complete", bom), 202, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.start(t, `{"instanceId":"ev","target":{"type":"simulated"}}`)
			resp := e.do(t, tt.req)
			wantStatus(t, resp, tt.status)
			if tt.want != "" {
				if got := decode[ErrorBody](t, resp).Message; got != tt.want {
					t.Errorf("message = %q, want %q", got, tt.want)
				}
				return
			}
			if strings.HasPrefix(tt.req.Path, "/monitors/ev/raiseEvent/setInterval") {
				rec, err := e.store.Get(context.Background(), "ev")
				if err != nil {
					t.Fatal(err)
				}
				if len(rec.Events) != 1 || string(rec.Events[0].Data) != event {
					t.Errorf("events = %+v, want setInterval with %s", rec.Events, event)
				}
			}
		})
	}
}

// A body's limit (docs/api.md: 16,384 bytes for a start, MaxEventDataBytes
// for an event's data) is on the bytes sent, decoded from base64 when API
// Gateway encoded them: a body of exactly the limit is read, one byte more
// is 413 even when that byte belongs to a UTF-8 byte order mark that
// reading drops. A base64 body whose decoded size is over the limit is
// refused without decoding it, so a large body costs no memory: even one
// that is not valid base64 is 413, not 400.
func TestBodyLimit(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	// pad fills s with trailing blanks to n bytes.
	pad := func(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }
	start := `{"instanceId":"lim","target":{"type":"simulated"}}`
	// data is event data of n bytes: a JSON string.
	data := func(n int) string { return `"` + strings.Repeat("x", n-2) + `"` }
	event := func(body string) events.APIGatewayProxyRequest {
		return local("POST", "/monitors/ev/raiseEvent/note", body)
	}
	notBase64 := local("POST", "/monitors", strings.Repeat("!", 2*monitor.MaxBodyBytes))
	notBase64.IsBase64Encoded = true
	startLimit := fmt.Sprintf("the limit is %d", monitor.MaxBodyBytes)
	eventLimit := fmt.Sprintf("the limit is %d", monitor.MaxEventDataBytes)
	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		want   string // in the error message; "" for an accepted request
	}{
		{"start at the limit", local("POST", "/monitors", pad(start, monitor.MaxBodyBytes)), 202, ""},
		{"base64 start at the limit", base64Encoded(local("POST", "/monitors", pad(start, monitor.MaxBodyBytes))), 202, ""},
		{"start one over with a BOM", local("POST", "/monitors", pad(bom+start, monitor.MaxBodyBytes+1)), 413, startLimit},
		{"base64 start one over with a BOM", base64Encoded(local("POST", "/monitors", pad(bom+start, monitor.MaxBodyBytes+1))), 413, startLimit},
		{"base64 start over the limit that is not base64", notBase64, 413, startLimit},
		{"event at the limit", event(data(monitor.MaxEventDataBytes)), 202, ""},
		{"event one over with a BOM", event(bom + data(monitor.MaxEventDataBytes-len(bom)+1)), 413, eventLimit},
		{"base64 event one over with a BOM", base64Encoded(event(bom + data(monitor.MaxEventDataBytes-len(bom)+1))), 413, eventLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.start(t, `{"instanceId":"ev","target":{"type":"simulated"}}`)
			resp := e.do(t, tt.req)
			wantStatus(t, resp, tt.status)
			if tt.want == "" {
				return
			}
			if got := decode[ErrorBody](t, resp).Message; !strings.Contains(got, tt.want) {
				t.Errorf("got message %q, want it to contain %q", got, tt.want)
			}
		})
	}
}
