package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestRaise raises events with the raise command against the local
// runtime: names and data the API would refuse for their form are usage
// errors that never reach it, the API's refusals keep its message and get
// their exit status, and an accepted event prints the API's answer.
func TestRaise(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	startRunningAndGone(t, rt.url(), "rs")
	dir := t.TempDir()
	file := func(name, body string) string { return writeTestFile(t, dir, name, body) }
	interval := file("interval.json", `{"pollingIntervalSeconds": 30}`)
	bom := file("bom.json", "\xef\xbb\xbf"+`{"pollingIntervalSeconds": 40}`)
	utf16 := file("utf16.json", utf16Body(binary.LittleEndian, `{"pollingIntervalSeconds": 30}`))
	notJSON := file("not.json", `pollingIntervalSeconds=30`)

	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  string // the answer, compacted
		wantErr  string // in standard error
	}{
		{name: "setInterval with --data", args: []string{"rs-running", "setInterval", "--data", `{"pollingIntervalSeconds": 30}`},
			wantOut: `{"instanceId":"rs-running","eventName":"setInterval"}`},
		{name: "setInterval from a file", args: []string{"rs-running", "setInterval", "--data-file", interval},
			wantOut: `{"instanceId":"rs-running","eventName":"setInterval"}`},
		{name: "setInterval from a file with a byte order mark", args: []string{"--data-file", bom, "rs-running", "setInterval"},
			wantOut: `{"instanceId":"rs-running","eventName":"setInterval"}`},
		{name: "setInterval from standard input", args: []string{"rs-running", "setInterval", "--data-file", "-"}, stdin: "{\"pollingIntervalSeconds\": 60}\n",
			wantOut: `{"instanceId":"rs-running","eventName":"setInterval"}`},
		{name: "checkNow without data", args: []string{"rs-running", "checkNow"},
			wantOut: `{"instanceId":"rs-running","eventName":"checkNow"}`},
		{name: "blank data is none", args: []string{"rs-running", "checkNow", "--data-file", "-"}, stdin: "\n  \n",
			wantOut: `{"instanceId":"rs-running","eventName":"checkNow"}`},
		{name: "a name of one's own", args: []string{"rs-running", "note_2-b", "--data", `{"who": "ops"}`},
			wantOut: `{"instanceId":"rs-running","eventName":"note_2-b"}`},

		{name: "no event", args: []string{"rs-running"}, wantCode: exitUsage, wantErr: `raise needs an instance id and an event name (see stepmon raise -h); got ["rs-running"]`},
		{name: "empty id", args: []string{"", "complete"}, wantCode: exitUsage, wantErr: `raise needs an instance id and an event name (see stepmon raise -h); got ["" "complete"]`},
		{name: "three arguments", args: []string{"rs-running", "complete", "now"}, wantCode: exitUsage, wantErr: `raise takes an instance id and an event name; got ["rs-running" "complete" "now"]; the event's data goes in --data: stepmon raise rs-running complete --data now`},
		{name: "malformed id", args: []string{"rs.running", "complete"}, wantCode: exitUsage, wantErr: `raise: "rs.running" is not an instance id`},
		{name: "miscased name", args: []string{"rs-running", "Complete"}, wantCode: exitUsage,
			wantErr: `stepmon: raise: event name "Complete" is not an event the checks understand (did you mean complete? event names are case-sensitive)`},
		{name: "miscased setInterval", args: []string{"rs-running", "setinterval", "--data", `{"pollingIntervalSeconds": 30}`}, wantCode: exitUsage,
			wantErr: "did you mean setInterval?"},
		{name: "malformed name", args: []string{"rs-running", "set interval"}, wantCode: exitUsage,
			wantErr: `stepmon: raise: event name "set interval" must be 1 to 64 letters, digits, '-' or '_'`},
		{name: "name too long", args: []string{"rs-running", strings.Repeat("e", 65)}, wantCode: exitUsage, wantErr: "must be 1 to 64 letters"},
		{name: "data not JSON", args: []string{"rs-running", "setInterval", "--data", `{"pollingIntervalSeconds": 30`}, wantCode: exitUsage,
			wantErr: "stepmon: raise: --data is not JSON: the JSON ends before its last value is complete (line 1, column 30, the end)"},
		{name: "data file not JSON", args: []string{"rs-running", "setInterval", "--data-file", notJSON}, wantCode: exitUsage,
			wantErr: "stepmon: raise: " + notJSON + " is not JSON: invalid character"},
		{name: "standard input not JSON", args: []string{"rs-running", "note", "--data-file", "-"}, stdin: "{'a': 1}", wantCode: exitUsage,
			wantErr: "stepmon: raise: the event data on standard input is not JSON"},
		{name: "data not UTF-8", args: []string{"rs-running", "note", "--data", "\"\xff\""}, wantCode: exitUsage,
			wantErr: "stepmon: raise: --data is not UTF-8"},
		{name: "UTF-16 data file", args: []string{"rs-running", "setInterval", "--data-file", utf16}, wantCode: exitUsage,
			wantErr: utf16 + " is UTF-16: save it as UTF-8"},
		{name: "both data flags", args: []string{"rs-running", "setInterval", "--data", "{}", "--data-file", interval}, wantCode: exitUsage,
			wantErr: "either with --data or with --data-file, not both"},
		// An unset variable in --data-file "$F" is no file, not no data.
		{name: "empty data file name", args: []string{"rs-running", "checkNow", "--data-file", ""}, wantCode: exitUsage,
			wantErr: "stepmon: raise: --data-file must not be empty: give a file, or - for standard input"},

		// The API's refusals.
		{name: "setInterval without data", args: []string{"rs-running", "setInterval"}, wantCode: 1,
			wantErr: `stepmon: raise rs-running setInterval: invalid request: --data must be a JSON object such as {"pollingIntervalSeconds": 30} (HTTP 400)`},
		{name: "setInterval with data that is no object", args: []string{"rs-running", "setInterval", "--data-file", "-"}, stdin: "30", wantCode: 1,
			wantErr: `stepmon: raise rs-running setInterval: invalid request: --data-file must be a JSON object such as {"pollingIntervalSeconds": 30} (HTTP 400)`},
		{name: "setInterval out of range", args: []string{"rs-running", "setInterval", "--data", `{"pollingIntervalSeconds": 0}`}, wantCode: 1,
			wantErr: "pollingIntervalSeconds must be between 1 and 86400 seconds (HTTP 400)"},
		{name: "a number beyond float64, valid JSON", args: []string{"rs-running", "note", "--data", `{"a": 1e999}`}, wantCode: 1,
			wantErr: "a is a number far too large (HTTP 400)"},
		{name: "two values", args: []string{"rs-running", "note", "--data-file", "-"}, stdin: "{\"a\": 1}\n{\"b\": 2}\n", wantCode: exitUsage,
			wantErr: "stepmon: raise: the event data on standard input is not JSON: trailing data after the JSON value (line 2, column 1)"},
		{name: "data over 1 KiB", args: []string{"rs-running", "note", "--data", `"` + strings.Repeat("x", 1100) + `"`}, wantCode: 1,
			wantErr: "the limit is 1024 (HTTP 413)"},
		{name: "no such monitor", args: []string{"rs-none", "complete"}, wantCode: exitNotFound, wantErr: "stepmon: raise rs-none complete: "},
		{name: "finished monitor", args: []string{"rs-gone", "complete"}, wantCode: exitConflict, wantErr: "(HTTP 410)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLIInput(t.Context(), rt.url(), tt.stdin, append([]string{"raise"}, tt.args...)...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", r.code, tt.wantCode, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.wantErr)
			}
			if tt.wantOut == "" {
				if r.stdout != "" {
					t.Errorf("stdout %q, want nothing", r.stdout)
				}
				return
			}
			var got bytes.Buffer
			if err := json.Compact(&got, []byte(r.stdout)); err != nil {
				t.Fatalf("stdout %q is not JSON: %v", r.stdout, err)
			}
			if got.String() != tt.wantOut {
				t.Errorf("stdout %s, want %s", got.String(), tt.wantOut)
			}
		})
	}
}

// TestRaiseComplete: a complete event raised with the raise command
// finishes a running monitor at its next check, which watch then sees.
func TestRaiseComplete(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	ids := startJobMonitors(t, rt.url(), "rs-complete", 1, 1, 1000)
	if r := runCLI(t.Context(), rt.url(), "raise", ids[0], "complete"); r.code != 0 {
		t.Fatalf("raise: exit %d; stderr: %s", r.code, r.stderr)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	r := runCLI(ctx, rt.url(), "watch", ids[0])
	var out struct {
		FinalStatus string `json:"final_status"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.FinalStatus != "Completed" {
		t.Fatalf("watch: exit %d, stdout %s, stderr %s; want exit 0 and final status Completed", r.code, r.stdout, r.stderr)
	}
	st := runCLI(t.Context(), rt.url(), "status", ids[0])
	if !strings.Contains(st.stdout, "completed by an external event") {
		t.Errorf("the status does not say the event completed it:\n%s", st.stdout)
	}
}
