package main

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/asl"
)

// aslCLI runs "stepmon asl ARGS..." as main does and returns what it
// printed and its exit status.
func aslCLI(t *testing.T, args ...string) cliResult {
	t.Helper()
	return runCLI(t.Context(), "http://127.0.0.1:1", append([]string{"asl"}, args...)...)
}

// wantExit checks that a command ended with exit status code and that its
// standard error names each of wantInErr.
func wantExit(t *testing.T, res cliResult, code int, wantInErr ...string) {
	t.Helper()
	if res.code != code {
		t.Fatalf("got exit %d (stderr %q), want %d", res.code, res.stderr, code)
	}
	for _, w := range wantInErr {
		if !strings.Contains(res.stderr, w) {
			t.Errorf("got stderr %q, want it to name %q", res.stderr, w)
		}
	}
}

// passDef is a definition of one Pass state.
const passDef = `{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`

// definitionOf returns a valid definition of exactly n characters, of
// which the Comment, made of c, takes the most.
func definitionOf(t *testing.T, n int, c rune) string {
	t.Helper()
	const head, tail = `{"Comment": "`, `", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}`
	def := head + strings.Repeat(string(c), n-len(head)-len(tail)) + tail
	if got := utf8.RuneCountInString(def); got != n {
		t.Fatalf("definitionOf(%d) has %d characters", n, got)
	}
	return def
}

// TestASLDefinitionTooLong: a definition over the 1,048,576 characters
// CreateStateMachine accepts is refused by validate and run, with its
// size and the limit (exit status 1); it was valid. The limit counts
// characters, not bytes.
func TestASLDefinitionTooLong(t *testing.T) {
	long := writeFile(t, "long.json", definitionOf(t, asl.MaxDefinitionLength+1, 'x'))
	atLimit := writeFile(t, "limit.json", definitionOf(t, asl.MaxDefinitionLength, 'x'))
	wide := writeFile(t, "wide.json", definitionOf(t, asl.MaxDefinitionLength, 'é')) // 2 bytes each
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantInErr []string
	}{
		{"validate over the limit", []string{"validate", long}, 1, []string{long, "1048577 characters", "1048576"}},
		{"run over the limit", []string{"run", long}, 1, []string{long, "1048577 characters", "1048576"}},
		{"validate at the limit", []string{"validate", atLimit}, 0, nil},
		{"run at the limit", []string{"run", atLimit}, 0, nil},
		{"validate, two-byte characters", []string{"validate", wide}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantExit(t, aslCLI(t, tt.args...), tt.wantCode, tt.wantInErr...)
		})
	}
}

// endless is a reader that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestASLReadLimits: definition, input and --task files are read only up
// to a bound a little over the largest that can be valid, and one over it
// is an error naming the file and the limit; they were read whole, and
// /dev/zero or an endless standard input ran the process out of memory.
func TestASLReadLimits(t *testing.T) {
	def := writeFile(t, "pass.json", passDef)
	hugeDef := writeFile(t, "huge.json", strings.Repeat(" ", maxDefinitionBytes+1))
	hugeInput := writeFile(t, "in.json", strings.Repeat(" ", 2*maxInputBytes)+"{}")
	hugeTask := writeFile(t, "task.json", strings.Repeat(" ", maxTaskFile+1)+"{}")
	tests := []struct {
		name      string
		args      []string
		devZero   bool
		wantCode  int
		wantInErr []string
	}{
		{"definition over the bound", []string{"run", hugeDef}, false, 1, []string{hugeDef, "4194304 bytes"}},
		{"validate, definition over the bound", []string{"validate", hugeDef}, false, 1, []string{hugeDef, "4194304 bytes"}},
		{"input file over the limit", []string{"run", def, "--input", "@" + hugeInput}, false, 1, []string{hugeInput, "262144 bytes"}},
		{"task file over the bound", []string{"run", def, "--task", "P=@" + hugeTask}, false, 2, []string{hugeTask, "16777216 bytes"}},
		{"definition /dev/zero", []string{"run", "/dev/zero"}, true, 1, []string{"/dev/zero", "4194304 bytes"}},
		{"validate /dev/zero", []string{"validate", "/dev/zero"}, true, 1, []string{"/dev/zero", "4194304 bytes"}},
		{"input /dev/zero", []string{"run", def, "--input", "@/dev/zero"}, true, 1, []string{"/dev/zero", "262144 bytes"}},
		{"task /dev/zero", []string{"run", def, "--task", "P=@/dev/zero"}, true, 2, []string{"/dev/zero", "16777216 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat("/dev/zero"); tt.devZero && err != nil {
				t.Skip("no /dev/zero")
			}
			wantExit(t, aslCLI(t, tt.args...), tt.wantCode, tt.wantInErr...)
		})
	}
	t.Run("endless standard input", func(t *testing.T) {
		var stderr strings.Builder
		_, code := runCLIFrom(t.Context(), "http://127.0.0.1:1", endless{}, &stderr, "asl", "run", def, "--input", "-")
		if code != 1 || !strings.Contains(stderr.String(), "standard input") || !strings.Contains(stderr.String(), "262144 bytes") {
			t.Errorf("got exit %d, stderr %q; want exit 1 naming standard input and the limit", code, stderr.String())
		}
	})
}

// TestASLRunTaskFileNotJSON: a --task file that is not JSON is named in
// the error, with the JSON error and where it is; the error said the
// spec was "neither JSON nor a readable file".
func TestASLRunTaskFileNotJSON(t *testing.T) {
	def := writeFile(t, "pass.json", passDef)
	bad := writeFile(t, "bad.json", "{\"a\": 1,\n \"b\": }")
	for _, spec := range []string{"@" + bad, bad} {
		t.Run(spec[:1], func(t *testing.T) {
			res := aslCLI(t, "run", def, "--task", "P="+spec)
			if res.code != 2 {
				t.Errorf("got exit %d, want 2", res.code)
			}
			for _, w := range []string{"--task P", bad + ":2:7", "invalid character '}'"} {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("got stderr %q, want it to contain %q", res.stderr, w)
				}
			}
			if strings.Contains(res.stderr, "neither") {
				t.Errorf("got stderr %q, want no \"neither JSON nor a file\": the file was read", res.stderr)
			}
		})
	}
}

// TestASLRunTaskDirectives: a task result whose keys all start with "$"
// must be a well-formed directive: an unknown name, a value of the wrong
// type or a nested $sequence is a usage error naming the key and the
// known directives; they were returned as the task result. An object with
// other keys beside "$" ones is a result as it stands, and $literal
// returns its value as it stands.
func TestASLRunTaskDirectives(t *testing.T) {
	def := writeFile(t, "task.json", `{"StartAt": "T", "States": {"T": {"Type": "Task",
		"Resource": "arn:aws:states:::sqs:sendMessage", "End": true}}}`)
	bad := []struct {
		spec, key string
	}{
		{`{"$error": 5}`, "$error"},
		{`{"$error": ""}`, "$error"},
		{`{"$sequence": []}`, "$sequence"},
		{`{"$sequence": 5}`, "$sequence"},
		{`{"$echo": "yes"}`, "$echo"},
		{`{"$eror": "X"}`, "$eror"},
		{`{"$cause": "text"}`, "$cause"},
		{`{"$error": "X", "$cause": 5}`, "$cause"},
		{`{"$error": "X", "$echo": true}`, "$echo"},
		{`{"$sequence": [{"$sequence": [1, 2]}]}`, "$sequence"},
		{`{"$sequence": [1, {"$eror": "X"}]}`, "$eror"},
	}
	for _, tt := range bad {
		t.Run(tt.spec, func(t *testing.T) {
			res := aslCLI(t, "run", def, "--task", "T="+tt.spec)
			if res.code != 2 {
				t.Errorf("got exit %d (stdout %q), want 2", res.code, res.stdout)
			}
			for _, w := range []string{"--task T", `"` + tt.key + `"`, "$error, $cause, $echo, $sequence, $literal"} {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("got stderr %q, want it to contain %q", res.stderr, w)
				}
			}
		})
	}
	good := []struct {
		spec, wantStatus, wantOutput string
	}{
		{`{"$metadata": {"httpStatusCode": 200}, "MessageId": "m"}`, "SUCCEEDED", `{"$metadata":{"httpStatusCode":200},"MessageId":"m"}`},
		{`{"$literal": {"$error": "X"}}`, "SUCCEEDED", `{"$error":"X"}`},
		{`{"$sequence": [{"$literal": {"$echo": true}}]}`, "SUCCEEDED", `{"$echo":true}`},
		{`{"$error": "X", "$cause": "why"}`, "FAILED", ""},
		{`{"$echo": true}`, "SUCCEEDED", `{"a":1}`},
	}
	for _, tt := range good {
		t.Run(tt.spec, func(t *testing.T) {
			r, stderr, err := runASLTest(t, def, "--input", `{"a":1}`, "--task", "T="+tt.spec)
			if err != nil {
				t.Fatalf("runASL: %v\n%s", err, stderr)
			}
			if r.Status != tt.wantStatus || (tt.wantOutput != "" && deref(r.Output) != tt.wantOutput) {
				t.Errorf("got %s with output %s, want %s with %s", r.Status, deref(r.Output), tt.wantStatus, tt.wantOutput)
			}
		})
	}
}

// TestASLRunTaskWarnings: a --task key that matched a task is not
// reported as matching none: a startExecution task is answered by it, and
// the warning says when a .waitForTaskToken task cannot be answered, when
// another key answered the task first, or when the task did not run.
func TestASLRunTaskWarnings(t *testing.T) {
	def := writeFile(t, "tasks.json", `{"StartAt": "C", "States": {
		"C": {"Type": "Choice", "Choices": [{"Variable": "$.skip", "BooleanEquals": true, "Next": "Start"}], "Default": "Unreached"},
		"Unreached": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Next": "Start"},
		"Start": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
			"Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:Other", "Input": {}},
			"Next": "Send"},
		"Send": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "ResultPath": "$.sent", "Next": "Callback"},
		"Callback": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters": {"MessageBody.$": "$$.Task.Token"}, "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.callback", "Next": "Done"}], "End": true},
		"Done": {"Type": "Succeed"}}}`)
	r, stderr, err := runASLTest(t, def, "--input", `{"skip": true}`,
		"--task", `Start={"Output": {"x": 1}}`,
		"--task", `Send=1`, "--task", `arn:aws:states:::sqs:sendMessage=2`,
		"--task", `Callback={"ok": true}`,
		"--task", `Unreached=3`,
		"--task", `Typo=4`)
	if err != nil {
		t.Fatalf("runASL: %v\n%s", err, stderr)
	}
	if r.Status != "SUCCEEDED" || !strings.Contains(deref(r.Output), `"Output":{"x":1}`) {
		t.Errorf("got %s with output %s (error %s, cause %s), want SUCCEEDED with Start's --task result",
			r.Status, deref(r.Output), deref(r.Error), deref(r.Cause))
	}
	want := []string{
		"--task arn:aws:states:::sqs:sendMessage was not used: state Send's task was answered by --task Send",
		"--task Callback was not used: state Callback is a .waitForTaskToken task, which --task cannot answer",
		"--task Unreached was not used: state Unreached did not run",
		"--task Typo matched no task",
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("got stderr %q, want it to contain %q", stderr, w)
		}
	}
	for _, k := range []string{"Start", "Send", "Callback", "Unreached", "arn:aws:states:::sqs:sendMessage"} {
		if strings.Contains(stderr, "--task "+k+" matched no task") {
			t.Errorf("got stderr %q, want no \"matched no task\" for %s", stderr, k)
		}
	}
}

// TestASLRunRepeatedTask: a --task key given twice is a usage error
// naming it; the last one was kept in silence.
func TestASLRunRepeatedTask(t *testing.T) {
	def := writeFile(t, "pass.json", passDef)
	res := aslCLI(t, "run", def, "--task", "A=1", "--task", "A=2")
	if res.code != 2 || !strings.Contains(res.stderr, "--task A is given twice") {
		t.Errorf("got exit %d, stderr %q; want 2 saying --task A is given twice", res.code, res.stderr)
	}
}

// TestASLValidateCommandLine: asl validate takes flags after FILE, as asl
// run does, and says what is wrong with a command line; it said "one
// definition FILE is required" when one was given.
func TestASLValidateCommandLine(t *testing.T) {
	good := writeFile(t, "good.json", passDef)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"unknown flag after FILE", []string{"validate", good, "--bogus"}, 2, "asl validate: unknown flag --bogus; run 'stepmon asl validate -h' for its usage"},
		{"two files", []string{"validate", good, good}, 2, "one definition FILE, not " + good + " and " + good},
		{"help after FILE", []string{"validate", good, "-h"}, 0, ""},
		// --definition, as asl run and serve take it.
		{"--definition", []string{"validate", "--definition", good}, 0, ""},
		{"--definition and FILE", []string{"validate", good, "--definition", good}, 2, "one definition FILE, not " + good + " and " + good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := aslCLI(t, tt.args...)
			if res.code != tt.wantCode || !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("got exit %d, stderr %q; want exit %d, stderr naming %q", res.code, res.stderr, tt.wantCode, tt.wantStderr)
			}
			if strings.Contains(res.stderr, "is required") {
				t.Errorf("got stderr %q, want no \"is required\": a FILE was given", res.stderr)
			}
		})
	}
}

// TestASLHelpSubcommand: "asl help run" and "asl -h validate" print the
// subcommand's help; they printed the asl overview.
func TestASLHelpSubcommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"help", "run"}, aslRunUsage},
		{[]string{"help", "validate"}, aslValidateUsage},
		{[]string{"-h", "run"}, aslRunUsage},
		{[]string{"--help", "validate"}, aslValidateUsage},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := aslCLI(t, tt.args...)
			if res.code != 0 || !strings.HasPrefix(res.stdout, tt.want) {
				t.Errorf("got exit %d, stdout %.60q; want 0 and the subcommand's help %.60q", res.code, res.stdout, tt.want)
			}
		})
	}
	if res := aslCLI(t, "help", "nothing"); res.code != 2 {
		t.Errorf("asl help nothing: got exit %d, want 2", res.code)
	}
}

// TestASLRunExitStatus: every wrong command line exits 2, as for the
// other commands: a --task value that cannot be used and an execution
// name AWS refuses exited 1, which means an invalid definition or input.
// The help documents 2, and its text keeps to its columns.
func TestASLRunExitStatus(t *testing.T) {
	def := writeFile(t, "pass.json", passDef)
	wait := writeFile(t, "wait.json", `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}`)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"empty task spec", []string{"run", def, "--task", "P="}, 2, "--task P: the SPEC is empty"},
		{"task without a key", []string{"run", def, "--task", "=1"}, 2, `want KEY=SPEC, got "=1"`},
		{"missing task file", []string{"run", def, "--task", "P=@missing.json"}, 2, "missing.json"},
		{"task file without a name", []string{"run", def, "--task", "P=@"}, 2, "--task P: @ names no file"},
		{"input file without a name", []string{"run", def, "--input", "@"}, 2, "--input @ names no file"},
		{"task spec neither JSON nor file", []string{"run", def, "--task", "P={nope"}, 2,
			`--task P: "{nope" is not a file, nor JSON: invalid character 'n' looking for beginning of object key string (line 1, column 2)`},
		{"task spec cut short", []string{"run", def, "--task", `P={"a":`}, 2,
			`--task P: "{\"a\":" is not a file, nor JSON: the JSON ends before its last value is complete (line 1, column 6, the end)`},
		{"bad name", []string{"run", def, "--name", "bad name"}, 2, `--name "bad name"`},
		{"unknown flag", []string{"run", def, "--bogus"}, 2, "-bogus"},
		{"missing definition", []string{"run", "missing.json"}, 1, "missing.json"},
		// One line, as serve says it; a line each when there are more.
		{"invalid definition", []string{"run", writeFile(t, "nxt.json", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Nxt":1}}}`)}, 1,
			"nxt.json is not a valid state machine definition: /States/A/Nxt: SCHEMA_VALIDATION_FAILED: field \"Nxt\" is not supported here\n"},
		{"definition with two problems", []string{"run", writeFile(t, "two.json", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`)}, 1,
			"two.json is not a valid state machine definition:\n  /States/A/Next: MISSING_TRANSITION_TARGET: Missing 'Next' target: B\n  MISSING_END_STATE: Workflow has no terminal state\n"},
		{"bad input", []string{"run", def, "--input", "{nope"}, 1,
			"invalid input: --input is not JSON: invalid character 'n' looking for beginning of object key string (line 1, column 2)\n"},
		// Cut short (a shell's quoting gone wrong), from each source.
		{"input cut short", []string{"run", def, "--input", `{"a":`}, 1,
			"invalid input: --input is not JSON: the JSON ends before its last value is complete (line 1, column 6, the end)\n"},
		{"input file cut short", []string{"run", def, "--input", "@" + writeFile(t, "cut.json", "{\"a\":\n")}, 1,
			"cut.json is not JSON: the JSON ends before its last value is complete (line 1, column 6, the end)\n"},
		{"input number out of range", []string{"run", def, "--input", `{"a":1e400}`}, 1,
			"invalid input: --input: number 1e400 is out of range\n"},
		{"input not UTF-8", []string{"run", def, "--input", "@" + writeFile(t, "latin1.json", "{\"a\":\"d\xe9plac\xe9\"}")}, 1,
			"latin1.json is not UTF-8 (byte 0xE9 at line 1, column 8): save it as UTF-8\n"},
		{"definition not UTF-8", []string{"run", writeFile(t, "latin1-def.json", "{\"Comment\":\"\xe9\",\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}")}, 1,
			"latin1-def.json is not UTF-8 (byte 0xE9 at line 1, column 13): save it as UTF-8\n"},
		{"definition in UTF-16", []string{"run", writeFile(t, "utf16-def.json", "\xff\xfe{\x00}\x00")}, 1,
			"utf16-def.json is UTF-16: save it as UTF-8 (in PowerShell 5: Out-File -Encoding utf8)\n"},
		{"inline input with a byte order mark", []string{"run", def, "--input", "\ufeff{}"}, 1,
			"--input starts with a byte order mark (U+FEFF), which JSON does not allow\n"},
		{"empty input", []string{"run", def, "--input", ""}, 1, "invalid input: --input is empty: give JSON, @FILE or - for standard input\n"},
		{"bad input file", []string{"run", def, "--input", "@" + writeFile(t, "in.json", "{\"a\": 1,\n}")}, 1,
			"in.json is not JSON: invalid character '}' looking for beginning of object key string (line 2, column 1)\n"},
		{"inline input too long", []string{"run", def, "--input", `"` + strings.Repeat("x", maxInputBytes) + `"`}, 1,
			"invalid input: 262146 bytes, more than StartExecution accepts (262144)"},
		{"timeout expires", []string{"run", wait, "--real-time", "--timeout", "100ms"}, 3, "--timeout 100ms expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := aslCLI(t, tt.args...)
			if res.code != tt.wantCode || !strings.Contains(res.stderr, tt.wantStderr) {
				t.Errorf("got exit %d, stderr %q; want exit %d, stderr naming %q", res.code, res.stderr, tt.wantCode, tt.wantStderr)
			}
		})
	}
	res := aslCLI(t, "run", "-h")
	if !strings.Contains(res.stdout, "2 for a wrong command line") {
		t.Errorf("asl run -h does not document exit status 2:\n%s", res.stdout)
	}
	if !strings.Contains(res.stdout, "-input JSON\n") {
		t.Errorf("asl run -h: want \"-input JSON\" in the flags:\n%s", res.stdout)
	}
	for line := range strings.SplitSeq(res.stdout, "\n") {
		if n := utf8.RuneCountInString(strings.ReplaceAll(line, "\t", "        ")); n > 80 {
			t.Errorf("asl run -h line of %d columns, want at most 80: %q", n, line)
		}
	}
}

// Files saved with a UTF-8 byte order mark (Notepad, and PowerShell 5's
// Out-File -Encoding utf8, which the UTF-16 message advises) are taken
// by asl validate and run as serve --definition takes them; they were
// refused, so that following the advice led to another refusal.
func TestASLFilesWithAByteOrderMark(t *testing.T) {
	def := writeFile(t, "bom-def.json", "\ufeff"+passDef)
	input := writeFile(t, "bom-input.json", "\ufeff"+`{"a":1}`)
	if res := aslCLI(t, "validate", def); res.code != 0 {
		t.Errorf("asl validate of a definition with a byte order mark: exit %d, stderr %q; want 0", res.code, res.stderr)
	}
	res := aslCLI(t, "run", def, "--input", "@"+input)
	if res.code != 0 || !strings.Contains(res.stdout, `"status":"SUCCEEDED"`) {
		t.Errorf("asl run of files with a byte order mark: exit %d, stdout %q, stderr %q; want SUCCEEDED", res.code, res.stdout, res.stderr)
	}
	// A --task file too.
	taskDef := writeFile(t, "task-def.json", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}}}`)
	task := writeFile(t, "bom-task.json", "\ufeff"+`{"ok":true}`)
	if res := aslCLI(t, "run", taskDef, "--task", "T=@"+task); res.code != 0 || !strings.Contains(res.stdout, `"status":"SUCCEEDED"`) {
		t.Errorf("asl run with a --task file with a byte order mark: exit %d, stdout %q, stderr %q; want SUCCEEDED", res.code, res.stdout, res.stderr)
	}
	// A file of a byte order mark alone is empty, and said to be.
	if res := aslCLI(t, "run", def, "--input", "@"+writeFile(t, "bom-only.json", "\ufeff")); res.code != 1 || !strings.Contains(res.stderr, "bom-only.json is empty") {
		t.Errorf("asl run with an input file of a byte order mark alone: exit %d, stderr %q; want 1, saying it is empty", res.code, res.stderr)
	}
	// The mark is not counted among the characters of a definition at
	// CreateStateMachine's limit.
	atLimit := `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}},"Comment":"`
	atLimit += strings.Repeat("c", asl.MaxDefinitionLength-len(atLimit)-2) + `"}`
	if res := aslCLI(t, "validate", writeFile(t, "bom-limit.json", "\ufeff"+atLimit)); res.code != 0 {
		t.Errorf("asl validate of a definition at the limit with a byte order mark: exit %d, stderr %q; want 0", res.code, res.stderr)
	}
}

// TestASLRunHistoryTimestamps: the --history timestamps have a fixed
// width, milliseconds included, on the virtual clock and in real time;
// trailing zeros were dropped ("2099-01-01T00:00:00Z") and real-time ones
// carried nanoseconds.
func TestASLRunHistoryTimestamps(t *testing.T) {
	def := writeFile(t, "wait.json", `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2099-01-01T00:00:00Z", "Next": "P"},
		"P": {"Type": "Pass", "End": true}}}`)
	realDef := writeFile(t, "pass.json", passDef)
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	for _, args := range [][]string{{def, "--history"}, {realDef, "--history", "--real-time"}} {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			res := aslCLI(t, append([]string{"run"}, args...)...)
			var r struct {
				Events []struct {
					Timestamp string `json:"timestamp"`
				} `json:"events"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &r); err != nil || len(r.Events) == 0 {
				t.Fatalf("exit %d, output %q (%v), want events", res.code, res.stdout, err)
			}
			for _, e := range r.Events {
				if !stamp.MatchString(e.Timestamp) {
					t.Errorf("got timestamp %q, want the form 2006-01-02T15:04:05.000Z", e.Timestamp)
				}
			}
			if last := r.Events[len(r.Events)-1].Timestamp; args[0] == def && last != "2099-01-01T00:00:00.000Z" {
				t.Errorf("got last timestamp %q, want 2099-01-01T00:00:00.000Z", last)
			}
		})
	}
}

// TestASLRunLambdaDate: the lambda:invoke result's Date header is the
// time of the call on the run's clock; it was 1 January 1970.
func TestASLRunLambdaDate(t *testing.T) {
	def := writeFile(t, "lambda.json", `{"StartAt": "W", "States": {
		"W": {"Type": "Wait", "Timestamp": "2031-01-01T00:00:00Z", "Next": "Call"},
		"Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
			"Parameters": {"FunctionName": "fn", "Payload.$": "$"}, "End": true}}}`)
	r, stderr, err := runASLTest(t, def, "--task", `fn={"ok": true}`)
	if err != nil {
		t.Fatalf("runASL: %v\n%s", err, stderr)
	}
	var out struct {
		SdkHttpMetadata struct {
			AllHttpHeaders struct{ Date []string }
			HttpHeaders    struct{ Date string }
		}
	}
	if err := json.Unmarshal([]byte(deref(r.Output)), &out); err != nil {
		t.Fatalf("output %s: %v", deref(r.Output), err)
	}
	const want = "Wed, 01 Jan 2031 00:00:00 GMT"
	h := out.SdkHttpMetadata
	if h.HttpHeaders.Date != want || len(h.AllHttpHeaders.Date) != 1 || h.AllHttpHeaders.Date[0] != want {
		t.Errorf("got Date %q and %q, want %q", h.HttpHeaders.Date, h.AllHttpHeaders.Date, want)
	}
}

// TestASLRunInterrupted: Ctrl-C during a run says that the run was
// interrupted, and exits 130; it exited in silence.
func TestASLRunInterrupted(t *testing.T) {
	def := writeFile(t, "wait.json", `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}`)
	ctx, cancel := context.WithCancelCause(t.Context())
	time.AfterFunc(100*time.Millisecond, func() { cancel(signalReceived{syscall.SIGINT}) })
	res := runCLI(ctx, "http://127.0.0.1:1", "asl", "run", def, "--real-time")
	if res.code != 130 || !strings.Contains(res.stderr, "asl run: interrupted") {
		t.Errorf("got exit %d, stderr %q; want 130 and a line saying the run was interrupted", res.code, res.stderr)
	}
}
