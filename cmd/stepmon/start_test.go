package main

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"
)

// TestStart starts monitors from flags and from body files with flags on
// top, against the local runtime, and checks the monitor the API made of
// them; flag combinations the API cannot take are usage errors.
func TestStart(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	dir := t.TempDir()
	file := func(name, body string) string { return writeTestFile(t, dir, name, body) }
	native := file("native.json", `{"instanceId":"from-file","target":{"type":"simulated","completeAfterChecks":50},"pollingIntervalSeconds":60,"timeoutSeconds":600}`)
	github := file("github.json", `{"target":{"type":"github","repo":"octocat/hello-world","minOpenIssues":9},
		"alert":{"phone":"+14255550100","message":"{{.Target}}: {{.OpenIssues}} open"}}`)
	httpJob := file("http.json", `{"target":{"type":"http","url":"http://127.0.0.1:1/job","statusPath":"$.state","doneValues":["Done"]}}`)
	// Notepad and PowerShell 5's Out-File -Encoding utf8 write UTF-8 with
	// a byte order mark; PowerShell 5's Out-File and > write UTF-16LE.
	bom := file("bom.json", "\xef\xbb\xbf"+`{"instanceId":"bom-1","target":{"type":"simulated","completeAfterChecks":7}}`)
	utf16LE := file("utf16le.json", utf16Body(binary.LittleEndian, `{"instanceId":"u16-1","target":{"type":"simulated"}}`))
	utf16BE := file("utf16be.json", utf16Body(binary.BigEndian, `{"instanceId":"u16-2","target":{"type":"simulated"}}`))
	githubNoAlert := file("github-no-alert.json", `{"target":{"type":"github","repo":"octocat/hello-world"}}`)
	latin1 := file("latin1.json", "{\"target\":{\"type\":\"simulated\"},\"jobId\":\"caf\xe9\"}")
	twilio := file("twilio.json", `{"target":{"type":"github","repo":"octocat/hello-world"},
		"alert":{"phone":"+14255550100","channel":"twilio","message":"hi {{.JobID}}"}}`)
	seedJob := file("seed-job.json", `{"job_id":"seed-job","polling_interval_seconds":60,"timeout_seconds":600}`)
	seedGitHub := file("seed-github.json", `{"repo":"octocat/hello-world","phone":"+14255550100"}`)
	const hook = "http://127.0.0.1:9/hook"
	// Bodies the API refuses as they are: flags on top must not make them
	// acceptable, nor change what the API says about them.
	nestedTwice := file("nested-twice.json", `{"instanceId":"f6","target":{"type":"simulated","completeAfterChecks":3,"completeAfterChecks":1000}}`)
	topTwice := file("top-twice.json", `{"instanceId":"f7","instanceId":"f8","target":{"type":"simulated"}}`)
	flagTwice := file("flag-twice.json", `{"instanceId":"f9","target":{"type":"simulated"},"pollingIntervalSeconds":5,"pollingIntervalSeconds":6}`)
	messageTwice := file("message-twice.json", `{"instanceId":"f10","target":{"type":"github","repo":"octocat/hello-world"},
		"alert":{"phone":"+14255550100","message":"a","message":"b"}}`)
	twoProblems := file("two-problems.json", `{"timeoutSeconds":0,"target":{"type":"simulated"},"jobId":""}`)
	trailing := file("trailing.json", `{"instanceId":"t1","target":{"type":"simulated"}} {"instanceId":"t2"}`)
	pretty := file("pretty.json", "{\n  \"instanceId\": \"pretty-1\",\n  \"target\": {\"type\": \"simulated\", \"completeAfterChecks\": 8},\n  \"timeoutSeconds\": 600\n}\n")

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
		// want maps paths in the status record's input to their values.
		want map[string]any
	}{
		{name: "job", args: []string{"--job-id", "j1", "--id", "job-1", "--interval", "30", "--timeout", "90", "--complete-after", "9"},
			want: map[string]any{"jobId": "j1", "target.type": "simulated", "target.completeAfterChecks": 9, "pollingIntervalSeconds": 30, "timeoutSeconds": 90}},
		{name: "complete-after alone", args: []string{"--complete-after", "2", "--id", "job-3"},
			want: map[string]any{"target.type": "simulated", "target.completeAfterChecks": 2}},
		{name: "job with durations", args: []string{"--job-id", "j2", "--id", "job-2", "--interval", "5s", "--timeout", "1h"},
			want: map[string]any{"pollingIntervalSeconds": 5, "timeoutSeconds": 3600}},
		{name: "github with threshold", args: []string{"--repo", "octocat/hello-world", "--min-open-issues", "7", "--webhook", hook, "--id", "gh-1"},
			want: map[string]any{"target.type": "github", "target.repo": "octocat/hello-world", "target.minOpenIssues": 7, "alert.webhookUrl": "http://127.0.0.1:9/(redacted)"}},
		{name: "github default threshold", args: []string{"--repo", "octocat/hello-world", "--phone", "+14255550100", "--id", "gh-2"},
			want: map[string]any{"target.minOpenIssues": 3, "alert.phone": "+14255550100"}},
		{name: "http with job id", args: []string{"--url", "http://127.0.0.1:1/job", "--job-id", "export", "--status-path", "$.state", "--id", "http-1"},
			want: map[string]any{"jobId": "export", "target.type": "http", "target.statusPath": "$.state"}},

		{name: "http with its values", args: []string{"--url", "http://127.0.0.1:1/job", "--status-path", "$.job.state", "--id", "http-2",
			"--done-values", "Succeeded", "--failed-values", "Failed, Cancelled", "--running-values", "Pending", "--running-values", "Running"},
			want: map[string]any{"target.doneValues": []string{"Succeeded"}, "target.failedValues": []string{"Failed", "Cancelled"},
				"target.runningValues": []string{"Pending", "Running"}}},
		{name: "http with the default values", args: []string{"--url", "http://127.0.0.1:1/job", "--id", "http-3", "--done-values", "Succeeded"},
			want: map[string]any{"target.doneValues": []string{"Succeeded"}, "target.failedValues": []string{"Failed"}, "target.runningValues": nil}},
		{name: "http file with values", args: []string{httpJob, "--id", "http-file", "--done-values", "Succeeded,Done", "--running-values", "Queued"},
			want: map[string]any{"target.doneValues": []string{"Succeeded", "Done"}, "target.runningValues": []string{"Queued"}, "target.statusPath": "$.state"}},
		{name: "done values on a job", args: []string{"--job-id", "j", "--done-values", "Succeeded"}, wantCode: 2, wantErr: "--done-values applies only to an http monitor (--url)"},
		{name: "empty done value", args: []string{"--url", "http://127.0.0.1:1/job", "--done-values", "Succeeded,"}, wantCode: 2, wantErr: "values separated by commas"},
		// An empty alert flag ("--webhook $HOOK" without HOOK) is refused,
		// as an empty --id is: the monitor would start without its alert.
		{name: "empty alert flag", args: []string{"--job-id", "j", "--id", "empty-hook", "--phone", "+14255550100", "--webhook", ""},
			wantCode: 2, wantErr: "--webhook must not be empty: leave it out for no alert"},
		{name: "empty phone", args: []string{"--job-id", "j", "--phone", ""}, wantCode: 2, wantErr: "--phone must not be empty"},
		{name: "empty topic", args: []string{"--repo", "a/b", "--topic-arn", ""}, wantCode: 2, wantErr: "--topic-arn must not be empty"},
		{name: "two alerts", args: []string{"--repo", "a/b", "--phone", "+14255550100", "--webhook", hook}, wantCode: 2, wantErr: "one alert flag, not --phone and --webhook"},
		{name: "three alerts", args: []string{"--job-id", "j", "--phone", "+14255550100", "--webhook", hook, "--topic-arn", "arn:aws:sns:us-east-1:123456789012:t"}, wantCode: 2, wantErr: "--phone and --webhook and --topic-arn"},
		{name: "github without alert", args: []string{"--repo", "octocat/hello-world"}, wantCode: 2, wantErr: "needs an alert: add --phone, --webhook or --topic-arn"},
		{name: "threshold without repo", args: []string{"--job-id", "j", "--min-open-issues", "5"}, wantCode: 2, wantErr: "--min-open-issues applies only to a GitHub monitor"},
		{name: "threshold on an http target", args: []string{"--url", "http://127.0.0.1:1/", "--min-open-issues", "5"}, wantCode: 2,
			wantErr: "stepmon: start: --min-open-issues applies only to a GitHub monitor (--repo), not to an http target\n"},
		{name: "complete-after on github", args: []string{"--repo", "a/b", "--webhook", hook, "--complete-after", "2"}, wantCode: 2, wantErr: "--complete-after applies only"},
		{name: "status-path on a job", args: []string{"--job-id", "j", "--status-path", "$.x"}, wantCode: 2, wantErr: "--status-path applies only"},
		{name: "negative interval", args: []string{"--job-id", "j", "--interval", "-5"}, wantCode: 2, wantErr: "--interval must be a positive number"},
		{name: "negative timeout", args: []string{"--job-id", "j", "--timeout", "-1"}, wantCode: 2, wantErr: "--timeout must be a positive number"},
		{name: "negative threshold", args: []string{"--repo", "a/b", "--webhook", hook, "--min-open-issues", "-3"}, wantCode: 2, wantErr: "--min-open-issues must be a positive number"},
		{name: "repo and url", args: []string{"--repo", "a/b", "--url", "http://x/", "--webhook", hook}, wantCode: 2, wantErr: "not both"},
		// The API's problems name the flags that made the body.
		{name: "interval over the limit", args: []string{"--job-id", "j", "--interval", "100000"}, wantCode: 1, wantErr: "invalid request: --interval must be between 1 and 86400"},
		{name: "repo without owner", args: []string{"--repo", "golang", "--webhook", hook}, wantCode: 1, wantErr: "invalid request: --repo must be owner/name"},
		{name: "status path without $", args: []string{"--url", "http://127.0.0.1:1/x", "--status-path", "status"}, wantCode: 1, wantErr: "invalid request: --status-path must be a JSONPath"},
		{name: "bad job id and timeout", args: []string{"--job-id", "bad id!", "--timeout", "99999999999"}, wantCode: 1,
			wantErr: "invalid request: --job-id must be 1 to 128 letters, digits or . _ : / -, not \"bad id!\"; --timeout must be between"},
		// A placeholder in the problem stays as the API writes it.
		{name: "id like a continuation's", args: []string{"--job-id", "j", "--id", "abc-g1"}, wantCode: 1,
			wantErr: "invalid request: --id must not end in -g followed by digits (such as -g1): the executions that continue a monitor are named {instanceId}-g{runTag}-g{n}"},
		{name: "value in two lists", args: []string{"--url", "http://127.0.0.1:1/x", "--done-values", "Failed"}, wantCode: 1,
			wantErr: `invalid request: --failed-values "Failed" is in --done-values too (--failed-values is the default, Failed; give --failed-values to change it; values compare ignoring case)`},
		// A list the user did not give is named as the default it is.
		{name: "value in a default list", args: []string{"--url", "http://127.0.0.1:1/x", "--running-values", "Completed"}, wantCode: 1,
			wantErr: `invalid request: --running-values "Completed" is in --done-values too (--done-values is the default, Completed; give --done-values to change it; values compare ignoring case)`},
		{name: "value in two given lists", args: []string{"--url", "http://127.0.0.1:1/x", "--done-values", "Queued", "--running-values", "Queued"}, wantCode: 1,
			wantErr: `invalid request: --running-values "Queued" is in --done-values too (values compare ignoring case)`},
		// A body file's problems keep the file's names, also for a
		// field a flag set.
		{name: "file and a bad interval", args: []string{twoProblems, "--interval", "100000"}, wantCode: 1,
			wantErr: "timeoutSeconds must be between 1 and 31536000 seconds (one year); jobId must be 1 to 128 letters, digits or . _ : / -; pollingIntervalSeconds must be between"},

		{name: "file as is", args: []string{native},
			want: map[string]any{"instanceId": "from-file", "pollingIntervalSeconds": 60, "target.completeAfterChecks": 50}},
		{name: "file with flags", args: []string{native, "--id", "file-flags", "--interval", "7", "--job-id", "jf", "--complete-after", "5"},
			want: map[string]any{"instanceId": "file-flags", "jobId": "jf", "pollingIntervalSeconds": 7, "timeoutSeconds": 600, "target.completeAfterChecks": 5}},
		{name: "file with flags before it", args: []string{"--id", "file-flags-2", "--timeout", "120", "--file", native},
			want: map[string]any{"instanceId": "file-flags-2", "pollingIntervalSeconds": 60, "timeoutSeconds": 120}},
		{name: "file with 0 for the default", args: []string{native, "--id", "file-default", "--interval", "0"},
			want: map[string]any{"instanceId": "file-default", "pollingIntervalSeconds": 60, "timeoutSeconds": 600}},
		{name: "github file with threshold and alert", args: []string{github, "--id", "gh-file", "--min-open-issues", "4", "--webhook", hook},
			want: map[string]any{"target.minOpenIssues": 4, "alert.webhookUrl": "http://127.0.0.1:9/(redacted)", "alert.phone": nil, "alert.message": "{{.Target}}: {{.OpenIssues}} open"}},
		// A phone replaced by a phone keeps its channel; another
		// destination has none.
		{name: "twilio file with another phone", args: []string{twilio, "--id", "tw-1", "--phone", "+14255550199"},
			want: map[string]any{"alert.phone": "+14255550199", "alert.channel": "twilio", "alert.message": "hi {{.JobID}}"}},
		{name: "twilio file with a webhook", args: []string{twilio, "--id", "tw-2", "--webhook", hook},
			want: map[string]any{"alert.webhookUrl": "http://127.0.0.1:9/(redacted)", "alert.channel": nil, "alert.phone": nil}},
		{name: "github file given its alert", args: []string{githubNoAlert, "--id", "gh-file-2", "--topic-arn", "arn:aws:sns:us-east-1:000000000000:stepmon-alerts"},
			want: map[string]any{"target.minOpenIssues": 3, "alert.topicArn": "arn:aws:sns:us-east-1:000000000000:stepmon-alerts"}},
		{name: "file with a byte order mark", args: []string{bom},
			want: map[string]any{"instanceId": "bom-1", "target.completeAfterChecks": 7}},
		{name: "file with a byte order mark and flags", args: []string{bom, "--id", "bom-2", "--interval", "9"},
			want: map[string]any{"instanceId": "bom-2", "pollingIntervalSeconds": 9}},
		{name: "UTF-16LE file", args: []string{utf16LE}, wantCode: 2,
			wantErr: utf16LE + " is UTF-16: save it as UTF-8 (in PowerShell 5: Out-File -Encoding utf8)"},
		{name: "Latin-1 file", args: []string{latin1}, wantCode: 2, wantErr: latin1 + " is not UTF-8 (byte 44): save it as UTF-8"},
		{name: "UTF-16BE file with flags", args: []string{utf16BE, "--interval", "9"}, wantCode: 2, wantErr: " is UTF-16: save it as UTF-8"},
		{name: "seed file as is", args: []string{seedJob},
			want: map[string]any{"jobId": "seed-job", "pollingIntervalSeconds": 60}},
		{name: "file with more after its object and flags", args: []string{trailing, "--interval", "5"}, wantCode: 2,
			wantErr: "trailing.json is not JSON: trailing data after the JSON value (line 1, column 51)"},
		{name: "seed file with flags", args: []string{seedJob, "--interval", "7"}, wantCode: 2, wantErr: "native shape"},
		// An unset variable in "$BODY" or --file "$BODY" names no file:
		// the monitor must not be built from the flags alone.
		{name: "empty file name", args: []string{"", "--job-id", "j", "--id", "empty-file"}, wantCode: 2,
			wantErr: "stepmon: start: the body file's name is empty: give a file, or - for standard input"},
		{name: "empty --file", args: []string{"--file", "", "--job-id", "j", "--id", "empty-file-flag"}, wantCode: 2,
			wantErr: "stepmon: start: --file must not be empty: give a file, or - for standard input"},
		{name: "github seed with threshold", args: []string{seedGitHub, "--min-open-issues", "5"}, wantCode: 2, wantErr: "native shape"},
		{name: "file and a target flag", args: []string{native, "--repo", "a/b"}, wantCode: 2, wantErr: "cannot replace"},
		{name: "file and a flag of another target", args: []string{native, "--min-open-issues", "5"}, wantCode: 2, wantErr: "not to a simulated target"},
		{name: "file with two alerts", args: []string{github, "--webhook", hook, "--phone", "+14255550100"}, wantCode: 2, wantErr: "one alert flag"},
		{name: "file with a malformed id", args: []string{native, "--id", "a.b"}, wantCode: 2, wantErr: `--id "a.b" is not an instance id`},
		{name: "file with a negative interval", args: []string{native, "--interval", "-1"}, wantCode: 2, wantErr: "--interval must be a positive number"},
		{name: "nested key twice and a flag", args: []string{nestedTwice, "--interval", "1"}, wantCode: 1, wantErr: "target.completeAfterChecks is given more than once"},
		{name: "nested key twice and its flag", args: []string{nestedTwice, "--complete-after", "5"}, wantCode: 1, wantErr: "target.completeAfterChecks is given more than once"},
		{name: "top key twice and a flag", args: []string{topTwice, "--timeout", "60"}, wantCode: 1, wantErr: "instanceId is given more than once"},
		{name: "top key twice and its flag", args: []string{topTwice, "--id", "f11"}, wantCode: 1, wantErr: "instanceId is given more than once"},
		{name: "flag's key twice", args: []string{flagTwice, "--interval", "7"}, wantCode: 1, wantErr: "pollingIntervalSeconds is given more than once"},
		{name: "flag's key twice, set to the default", args: []string{flagTwice, "--interval", "0"}, wantCode: 1, wantErr: "pollingIntervalSeconds is given more than once"},
		{name: "alert message twice and an alert flag", args: []string{messageTwice, "--webhook", hook}, wantCode: 1, wantErr: "alert.message is given more than once"},
		{name: "problems in the file's order", args: []string{twoProblems, "--interval", "5"}, wantCode: 1,
			wantErr: "timeoutSeconds must be between 1 and 31536000 seconds (one year); jobId must be"},
		{name: "pretty file with flags", args: []string{pretty, "--interval", "9", "--complete-after", "0", "--id", "pretty-2"},
			want: map[string]any{"instanceId": "pretty-2", "pollingIntervalSeconds": 9, "timeoutSeconds": 600, "target.completeAfterChecks": 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(context.Background(), rt.url(), append([]string{"start"}, tt.args...)...)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", res.code, tt.wantCode, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", res.stderr, tt.wantErr)
			}
			if tt.wantCode != 0 {
				return
			}
			var started struct{ ID string }
			if err := json.Unmarshal([]byte(res.stdout), &started); err != nil {
				t.Fatalf("start printed %q: %v", res.stdout, err)
			}
			st := runCLI(context.Background(), rt.url(), "status", started.ID)
			var rec struct {
				InstanceID string         `json:"instanceId"`
				Input      map[string]any `json:"input"`
			}
			if err := json.Unmarshal([]byte(st.stdout), &rec); err != nil {
				t.Fatalf("status %s: %q: %v", started.ID, st.stdout, err)
			}
			rec.Input["instanceId"] = rec.InstanceID
			for path, want := range tt.want {
				got := lookup(rec.Input, path)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("input %s = %v, want %v (input %v)", path, got, want, rec.Input)
				}
			}
		})
	}
}

// lookup returns the value at a dotted path in decoded JSON, or nil.
func lookup(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// utf16Body is s in UTF-16 with a byte order mark, in the byte order
// order, as Windows tools write it.
func utf16Body(order binary.AppendByteOrder, s string) string {
	b := order.AppendUint16(nil, 0xfeff)
	for _, u := range utf16.Encode([]rune(s)) {
		b = order.AppendUint16(b, u)
	}
	return string(b)
}

// TestStartFieldsTable: every flag of start's request is in startFields,
// and each one, given alone on top of a body file of its target's type,
// changes the field the table names (the target's own flags, --repo and
// --url, are refused instead: the file names the target). A flag left out
// of the table would be ignored with a body file.
func TestStartFieldsTable(t *testing.T) {
	samples := map[string]string{
		"id": "t-2", "job-id": "j2", "interval": "7", "timeout": "70", "min-open-issues": "4", "complete-after": "5",
		"status-path": "$.x", "done-values": "D", "failed-values": "F", "running-values": "R",
		"phone": "+14255550100", "webhook": "http://127.0.0.1:9/new", "topic-arn": "arn:aws:sns:us-east-1:000000000000:t",
		"repo": "c/d", "url": "http://127.0.0.1:9/other",
	}
	bodies := map[string]string{
		"simulated": `{"instanceId":"t-1","jobId":"j1","target":{"type":"simulated","completeAfterChecks":3},` +
			`"pollingIntervalSeconds":5,"timeoutSeconds":50,"alert":{"webhookUrl":"http://127.0.0.1:9/old"}}`,
		"github": `{"target":{"type":"github","repo":"a/b","minOpenIssues":2},"alert":{"phone":"+14255550199"}}`,
		"http":   `{"target":{"type":"http","url":"http://127.0.0.1:9/job","statusPath":"$.s","doneValues":["d"],"failedValues":["f"],"runningValues":["r"]}}`,
	}
	inTable := map[string]bool{}
	for _, f := range startFields {
		inTable[f.flag] = true
	}
	var o startOptions
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	o.register(fs)
	fs.VisitAll(func(f *flag.Flag) {
		if !inTable[f.Name] {
			t.Errorf("--%s is not in startFields", f.Name)
		}
	})
	for _, f := range startFields {
		t.Run(f.flag, func(t *testing.T) {
			var o startOptions
			fs := flag.NewFlagSet("start", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			o.register(fs)
			if err := fs.Parse([]string{"--" + f.flag, samples[f.flag]}); err != nil {
				t.Fatalf("--%s %q: %v", f.flag, samples[f.flag], err)
			}
			o.set = map[string]bool{}
			fs.Visit(func(fl *flag.Flag) { o.set[fl.Name] = true })
			target := cmp.Or(f.target, "simulated")
			body := []byte(bodies[target])
			got, err := o.applyTo(body)
			if slices.ContainsFunc(o.targetFlags(), func(tf struct{ flag, value string }) bool { return tf.flag == f.flag }) {
				if err == nil || !strings.Contains(err.Error(), "cannot replace") {
					t.Errorf("applyTo with --%s: %v; want the target refused", f.flag, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("applyTo with --%s: %v", f.flag, err)
			}
			var before, after any
			if err := json.Unmarshal(body, &before); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, &after); err != nil {
				t.Fatalf("applyTo with --%s gave %s: %v", f.flag, got, err)
			}
			want := samples[f.flag]
			if strings.HasSuffix(f.flag, "-values") {
				want = "[" + want + "]"
			}
			if b, a := fmt.Sprint(lookup(before, f.field)), fmt.Sprint(lookup(after, f.field)); a != want {
				t.Errorf("--%s %s on a %s body: %s was %s, is %s; want %s", f.flag, samples[f.flag], target, f.field, b, a, want)
			}
		})
	}
}

// TestStartStdinTooLarge: a body on standard input of more than 1 MiB is
// refused, saying so, rather than cut at 1 MiB and sent with its size
// misreported; up to 1 MiB it goes to the API, which judges its size.
func TestStartStdinTooLarge(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	getenv := func(k string) string {
		if k == "STEPMON_ENDPOINT" {
			return rt.url()
		}
		return ""
	}
	for _, tt := range []struct {
		size     int
		wantCode int
		want     string
	}{
		{2000025, 2, "stepmon: start: the body on standard input is more than 1048576 bytes; the API takes at most 16384\n"},
		{1 << 20, 1, "stepmon: start: request body is 1048576 bytes; the limit is 16384 (HTTP 413)\n"},
		{20000, 1, "stepmon: start: request body is 20000 bytes; the limit is 16384 (HTTP 413)\n"},
	} {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			body := `{"instanceId":"big","target":{"type":"simulated"},"jobId":"` + strings.Repeat("x", tt.size-61) + `"}`
			if len(body) != tt.size {
				t.Fatalf("body of %d bytes, want %d", len(body), tt.size)
			}
			var stdout, stderr strings.Builder
			err := run(t.Context(), []string{"start", "-"}, getenv, strings.NewReader(body), &stdout, &stderr)
			if code := exitCode(err, &stderr); code != tt.wantCode || stderr.String() != tt.want {
				t.Errorf("exit %d, stderr %q; want exit %d, %q", code, stderr.String(), tt.wantCode, tt.want)
			}
		})
	}
}

// countingServer starts an API that refuses every request with status
// and counts them, for tests that want none sent.
func countingServer(t *testing.T, status int) (*httptest.Server, *atomic.Int32) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, `{"message":"refused"}`, status)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// TestRequestFileTooLarge: a body file, or raise's --data-file, of more
// than 1 MiB is refused as standard input is, before anything is read
// beyond it or sent: the file may be a device or a pipe that never ends
// (/dev/zero, /dev/stdin under yes).
func TestRequestFileTooLarge(t *testing.T) {
	srv, requests := countingServer(t, http.StatusRequestEntityTooLarge)
	big := writeTestFile(t, t.TempDir(), "big.json", `"`+strings.Repeat("x", 1<<20)+`"`)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"start", big}, "stepmon: start: " + big + " is more than 1048576 bytes; the API takes at most 16384\n"},
		{[]string{"raise", "m1", "note", "--data-file", big}, "stepmon: raise: " + big + " is more than 1048576 bytes; the API takes at most 1024\n"},
	} {
		t.Run(tt.args[0], func(t *testing.T) {
			res := runCLI(t.Context(), srv.URL, tt.args...)
			if res.code != 2 || res.stderr != tt.want {
				t.Errorf("exit %d, stderr %q; want exit 2, %q", res.code, res.stderr, tt.want)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// TestStartBodyFileRefused: a body file that is not JSON, empty, or that
// cannot be read is refused before anything is sent, exit status 2, with
// the file's name and, for a syntax error, its line and column.
func TestStartBodyFileRefused(t *testing.T) {
	srv, requests := countingServer(t, http.StatusBadRequest)
	dir := t.TempDir()
	cut := writeTestFile(t, dir, "cut.json", "{\"job_id\":\n")
	comma := writeTestFile(t, dir, "comma.json", "{\n  \"target\": {\"type\": \"simulated\"},\n  \"pollingIntervalSeconds\": 5,,\n}\n")
	empty := writeTestFile(t, dir, "empty.json", "\n")
	missing := filepath.Join(dir, "missing.json")
	for _, tt := range []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"cut short", []string{"start", cut}, "", "stepmon: start: " + cut + " is not JSON: the JSON ends before its last value is complete (line 1, column 11, the end)\n"},
		{"syntax", []string{"start", comma}, "", "stepmon: start: " + comma + " is not JSON: invalid character ',' looking for beginning of object key string (line 3, column 31)\n"},
		{"flags on top", []string{"start", comma, "--interval", "5"}, "", "stepmon: start: " + comma + " is not JSON: invalid character ',' looking for beginning of object key string (line 3, column 31)\n"},
		{"standard input", []string{"start", "-"}, "{\"a\": 1", "stepmon: start: the body on standard input is not JSON: the JSON ends before its last value is complete (line 1, column 8, the end)\n"},
		{"empty", []string{"start", "--file", empty}, "", "stepmon: start: " + empty + " is empty: it should hold a JSON object such as {\"target\":{\"type\":\"simulated\"}} (see docs/api.md)\n"},
		{"missing", []string{"start", missing}, "", "stepmon: start: read the body: open " + missing + ": no such file or directory\n"},
		{"a directory", []string{"start", dir}, "", "stepmon: start: read the body: read " + dir + ": is a directory\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			getenv := func(k string) string {
				if k == "STEPMON_ENDPOINT" {
					return srv.URL
				}
				return ""
			}
			err := run(t.Context(), tt.args, getenv, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code := exitCode(err, &stderr); code != exitUsage || stderr.String() != tt.want {
				t.Errorf("exit %d, stderr %q; want exit 2, %q", code, stderr.String(), tt.want)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// TestStartWatchRetries: once the start request is answered, the API has
// answered: start --watch retries a first status poll that gets another
// server's 503 (a proxy in front of a restarting service), as watch does
// after an answer, and prints the start answer, then the output.
func TestStartWatchRetries(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/monitors":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"id":"sw1","statusQueryGetUri":"http://127.0.0.1:1/monitors/sw1"}`)
		case r.URL.Path == "/monitors/sw1" && polls.Add(1) == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/monitors/sw1":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"instanceId":"sw1","runtimeStatus":"Completed","output":{"final_status":"Completed"}}`)
		default:
			http.Error(w, `{"message":"unexpected request"}`, http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	res := runCLI(ctx, srv.URL, "start", "--job-id", "j", "--watch")
	if res.code != 0 {
		t.Fatalf("exit %d; stderr: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "stepmon: watch sw1: service unavailable (HTTP 503), retrying in 1s\n") {
		t.Errorf("stderr %q does not note the 503", res.stderr)
	}
	want := "{\n  \"id\": \"sw1\",\n  \"statusQueryGetUri\": \"http://127.0.0.1:1/monitors/sw1\"\n}\n{\n  \"final_status\": \"Completed\"\n}\n"
	if res.stdout != want {
		t.Errorf("stdout %q, want %q", res.stdout, want)
	}
	if n := polls.Load(); n != 2 {
		t.Errorf("%d status polls, want 2", n)
	}
}

// TestStartNamesListItems: a problem with one item of a list
// ("target.doneValues[1]") names the flag that gave the list.
func TestStartNamesListItems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid","message":"invalid request: target.doneValues[1] must be at most 64 characters",`+
			`"fields":[{"field":"target.doneValues[1]","problem":"must be at most 64 characters"}]}`)
	}))
	defer srv.Close()
	res := runCLI(t.Context(), srv.URL, "start", "--url", "http://127.0.0.1:1/job", "--done-values", "Done,Finished")
	if want := "stepmon: start: invalid request: --done-values must be at most 64 characters (HTTP 400)\n"; res.code != 1 || res.stderr != want {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", res.code, res.stderr, want)
	}
}

// TestReplaceWord: a field's name in a problem is replaced where it is a
// whole word, also before a full stop, but not inside a longer name, a
// member's path ("doneValues.x") nor as a placeholder in braces.
func TestReplaceWord(t *testing.T) {
	for _, tt := range []struct{ s, want string }{
		{"is in doneValues too", "is in --done-values too"},
		{"is in doneValues.", "is in --done-values."},
		{"is in doneValues. Give one", "is in --done-values. Give one"},
		{"is in doneValues.x too", "is in doneValues.x too"},
		{"is in doneValues.x", "is in doneValues.x"},
		{"doneValues and doneValues", "--done-values and --done-values"},
		{"is in target.doneValues too", "is in target.doneValues too"},
		{"is in doneValuesX too", "is in doneValuesX too"},
		{"named {doneValues}-g{n}", "named {doneValues}-g{n}"},
	} {
		if got := replaceWord(tt.s, "doneValues", "--done-values"); got != tt.want {
			t.Errorf("replaceWord(%q) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestAddNotes: notes go into a problem's closing parenthesis, else into
// one of their own at its end.
func TestAddNotes(t *testing.T) {
	for _, tt := range []struct {
		problem string
		notes   []string
		want    string
	}{
		{"is bad", nil, "is bad"},
		{"is bad", []string{"n1", "n2"}, "is bad (n1; n2)"},
		{"is bad (why)", []string{"n1"}, "is bad (n1; why)"},
		{"is bad (why) here", []string{"n1"}, "is bad (why) here (n1)"},
	} {
		if got := addNotes(tt.problem, tt.notes); got != tt.want {
			t.Errorf("addNotes(%q, %q) = %q, want %q", tt.problem, tt.notes, got, tt.want)
		}
	}
}

// Every target flag given empty ("$JOB_URL" unset) is refused before
// anything is sent: the monitor would otherwise be of the simulated job,
// whose end sends a real alert. The target flags are those of
// startFields that set a member of the target whatever its type (they
// choose the type); targetFlags must list each of them.
func TestStartRefusesEveryEmptyTargetFlag(t *testing.T) {
	var o startOptions
	var listed, want []string
	for _, f := range o.targetFlags() {
		listed = append(listed, f.flag)
	}
	for _, f := range startFields {
		if strings.HasPrefix(f.field, "target.") && f.target == "" {
			want = append(want, f.flag)
		}
	}
	slices.Sort(listed)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Errorf("targetFlags() lists %q; startFields' flags that choose the target are %q", listed, want)
	}
	for _, flag := range want {
		// No server listens on the endpoint: a request sent would fail
		// with exit status 1, not 2.
		r := runCLI(t.Context(), "http://127.0.0.1:1", "start", "--job-id", "j", "--"+flag, "")
		want := "--" + flag + " must not be empty"
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("start --%s '': exit %d, stderr %q; want 2 and %q", flag, r.code, r.stderr, want)
		}
	}
}
