package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/stepmon/stepmon/internal/jsonpos"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/syserr"
)

// startUsage is start's help text.
const startUsage = `Starts a monitor and prints the API's answer (the instance id and the URLs
to query it). The request body is FILE, standard input ("-"), --file, or built
from the flags below:
  --job-id         alone, a job monitor of the simulated job
  --repo           a GitHub open-issues monitor; it needs an alert flag
                   (--phone, --webhook or --topic-arn), which it sends when
                   the repository has --min-open-issues open issues
  --url            a monitor of an HTTP job status URL: --status-path says
                   where the status is in the answer, and --done-values,
                   --failed-values and --running-values what it means; by
                   default Completed is done, Failed failed, and any other
                   value counts as still running
At most one alert flag: the API takes exactly one alert.

With a body file, the flags given are applied on top of it: --id, --job-id,
--interval and --timeout set those fields; an alert flag replaces the file's
alert (keeping its message template, and for --phone over a phone its
channel); --min-open-issues, --complete-after, --status-path and the
--*-values flags set those fields of the file's target, which must be of
their type. The target itself (--repo, --url) cannot be replaced, and flags
apply only to a body of the native shape (with "target"; see docs/api.md).

With --watch, start then follows the monitor as stepmon watch does
(--every sets how often it polls), with its exit status, and standard
output holds two JSON documents: the start answer, then the finished
monitor's output. A script reading one of them picks it, e.g. jq -r
'select(.final_status).final_status' for the outcome, or jq -r
'select(.id).id' for the id.

Examples:
  stepmon start --job-id my-job --id my-job --interval 5 --timeout 60
  stepmon start --repo golang/go --min-open-issues 3 --webhook http://127.0.0.1:9000/hook
  stepmon start --url https://jobs.example.com/jobs/42 --status-path '$.job.state' \
      --done-values Succeeded --failed-values Failed,Cancelled --webhook http://127.0.0.1:9000/hook
  stepmon start request.json --id nightly-2 --interval 30
  echo '{"job_id":"j1","polling_interval_seconds":2}' | stepmon start -`

func runStart(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "start", "[flags] [FILE | -]", startUsage)
	var cf clientFlags
	cf.register(fs, c)
	file := fs.String("file", "", "read the request body from this file (\"-\" for standard input)")
	var o startOptions
	o.register(fs)
	watch := fs.Bool("watch", false, "follow the monitor until it finishes, like stepmon watch: standard output gets the start answer, then the monitor's output")
	every := time.Second
	fs.Var((*durationValue)(&every), "every", "with --watch, how often to poll the status: a `duration` (5s) or whole seconds (5), at least 1s")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkEvery(every); err != nil {
		return err
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if o.set["every"] && !*watch {
		return usageError("--every applies only with --watch")
	}
	if len(pos) > 1 {
		return usageError("start takes at most one argument, the body file; got %q", pos)
	}
	// An empty file name ("$BODY" unset) is a script's mistake: the
	// monitor would be built from the flags alone.
	if o.set["file"] && *file == "" {
		return usageError("--file must not be empty: give a file, or - for standard input")
	}
	if len(pos) == 1 {
		if pos[0] == "" {
			return usageError("the body file's name is empty: give a file, or - for standard input")
		}
		if *file != "" {
			return usageError("give the body either as an argument or with --file, not both")
		}
		*file = pos[0]
	}
	// An empty --id "$ID" is a script's mistake: a generated id would
	// start an untracked monitor, and a retry another one.
	if o.set["id"] && o.id == "" {
		return usageError("--id must not be empty: leave it out for an id the API generates")
	}
	if o.set["job-id"] && o.jobID == "" {
		return usageError("--job-id must not be empty")
	}
	// An empty target flag ("$JOB_URL" unset) would monitor a simulated
	// job instead, whose end sends a real alert and whose --watch exits 0.
	for _, f := range o.targetFlags() {
		if o.set[f.flag] && f.value == "" {
			return usageError("--%s must not be empty: leave it out for a simulated job", f.flag)
		}
	}
	// So is an empty alert flag: the monitor would start without the
	// alert the script meant to give it.
	for _, a := range o.alertFlags() {
		if o.set[a.flag] && a.value == "" {
			return usageError("--%s must not be empty: leave it out for no alert", a.flag)
		}
	}
	if o.id != "" {
		if err := checkID("--id", o.id); err != nil {
			return err
		}
	}
	if err := o.check(); err != nil {
		return err
	}
	body, err := startBody(ctx, c, *file, &o)
	if err != nil {
		return err
	}
	client, err := cf.newClient(ctx)
	if err != nil {
		return err
	}
	resp, err := client.do(ctx, http.MethodPost, "/monitors", nil, body, startedShape)
	var te *transportError
	if errors.As(err, &te) && mayHaveArrived(err) {
		// The request may have arrived and started a monitor whose
		// answer was lost: a retry without an instance id would start
		// another one.
		return fmt.Errorf("start: %w (the monitor may have started: `stepmon list` shows it; "+
			"a retry with the same instance id (--id) is safe, one without starts another)", err)
	}
	if err != nil {
		var fields []flagField
		if *file == "" {
			// A body file's problems keep the file's names: the file
			// may give a field twice, or the problem be with its value,
			// not the flag's.
			fields = startFields
		}
		return fmt.Errorf("start: %w", nameFlags(err, fields, o.defaultValues()))
	}
	var started struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(resp.Body, &started)
	if err := writeJSON(c.stdout, resp.Body); err != nil {
		// The monitor runs: say which, so that it is not lost (nor
		// started again by a retry).
		return fmt.Errorf("start: monitor %s was started, but its answer could not be printed: %w", started.ID, err)
	}
	if !*watch {
		return nil
	}
	if started.ID == "" {
		return fmt.Errorf("start: the answer names no monitor id to watch")
	}
	w := newWatcher(client, every, newProgress(c.stderr), c.stdout)
	w.reached = true // the start request was answered
	rec, err := w.watch(ctx, started.ID)
	if err != nil {
		return err
	}
	return outcome(started.ID, rec)
}

// startBody is the body of a start: file's, with the flags of o applied
// on top of it, or o's alone when file is "".
func startBody(ctx context.Context, c *cli, file string, o *startOptions) ([]byte, error) {
	if file == "" {
		return o.body()
	}
	fileBody, err := readRequestFile(ctx, c, file, "the body", monitor.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	if err := checkBodyJSON(file, fileBody); err != nil {
		return nil, err
	}
	return o.applyTo(fileBody)
}

// maxReadBody is the most of a request body that is read from a file or
// standard input, 1 MiB: 64 times the API's limit of a start body, so
// that the API still says how a body over its limit compares with it.
const maxReadBody = 1 << 20

// readRequestFile reads a request body from file, or from standard input
// for "-"; what names the body in messages ("the body"), and limit is the
// API's limit for it. A UTF-8 byte order mark (Notepad, PowerShell 5's
// Out-File -Encoding utf8) is no part of the JSON and is dropped.
// PowerShell 5's Out-File and > write UTF-16LE, which the API refuses:
// that is a usage error here, naming the file, with the fix. Standard
// input, or a file that is a device or a pipe (/dev/zero, /dev/stdin),
// may not end (yes | stepmon start -): either is read up to maxReadBody,
// and a body beyond it is a usage error rather than cut and sent. Nor may
// it ever come (stepmon start - at a terminal): when ctx ends (Ctrl-C),
// the read is left to the process's exit and ctx's cause returned.
func readRequestFile(ctx context.Context, c *cli, file, what string, limit int) ([]byte, error) {
	var body []byte
	var err error
	if file == "-" {
		body, err = readCancelable(ctx, func() ([]byte, error) { return readBounded(c.stdin, maxReadBody) })
		if errors.Is(err, errTooLarge) {
			return nil, usageError("%s on standard input is more than %d bytes; the API takes at most %d", what, maxReadBody, limit)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s from standard input: %w", what, err)
		}
	} else {
		body, err = readCancelable(ctx, func() ([]byte, error) { return readFileBounded(file, maxReadBody) })
		if errors.Is(err, errTooLarge) {
			return nil, usageError("%s is more than %d bytes; the API takes at most %d", file, maxReadBody, limit)
		}
		if err != nil && ctx.Err() == nil {
			// A file named on the command line that cannot be read (no
			// such file, a directory, no permission) is the command
			// line's mistake.
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("read %s: %w", what, err)}
		}
		if err != nil {
			return nil, err
		}
	}
	body, isUTF16 := monitor.DropByteOrderMark(body)
	if isUTF16 {
		name := file
		if name == "-" {
			name = what + " on standard input"
		}
		return nil, usageError("%s is UTF-16: %s", name, monitor.UTF16Fix)
	}
	return body, nil
}

// mayHaveArrived reports whether a request that got no answer (err) may
// have reached the server all the same: it timed out, or the connection
// broke, after it was made. A refused connection, a name that does not
// resolve or a TLS handshake that failed sent nothing.
func mayHaveArrived(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || syserr.ConnReset(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// checkBodyJSON refuses a start body file (or standard input, "-") that
// is not JSON before it is sent, saying where it breaks: the API's answer
// would not name the file, and a script would see exit status 1, that of
// a request the API refused, rather than 2.
func checkBodyJSON(file string, body []byte) error {
	name := file
	if file == "-" {
		name = "the body on standard input"
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return usageError("%s is empty: it should hold a JSON object such as {\"target\":{\"type\":\"simulated\"}} (see docs/api.md)", name)
	}
	var v json.RawMessage // its syntax only: the API judges the values
	if err := json.Unmarshal(body, &v); err != nil {
		return usageError("%s is not JSON: %s", name, jsonProblem(body, err))
	}
	if i, bad := jsonpos.InvalidUTF8(body); bad {
		// encoding/json reads an invalid byte as U+FFFD; the API refuses it.
		return usageError("%s is not UTF-8 (byte %d): save it as UTF-8", name, i+1)
	}
	return nil
}

// jsonProblem describes err, the error of decoding text as JSON
// (encoding/json's, or asl.ParseJSON's around it): a syntax error with its
// line and column, text cut short, else err's own message (a number
// beyond a double's range).
func jsonProblem(text []byte, err error) string {
	if msg, ok := jsonpos.Describe(text, 0, err); ok {
		// encoding/json's "invalid character '{' after top-level value":
		// a second value, or anything else, after the first.
		if i := strings.LastIndex(msg, " (line "); i >= 0 && strings.HasSuffix(msg[:i], "after top-level value") {
			return "trailing data after the JSON value" + msg[i:]
		}
		return msg
	}
	return strings.TrimPrefix(err.Error(), "asl: parse json: ")
}

// readCancelable returns what read returns, or, should ctx end first,
// ctx's cause, leaving read blocked (on a terminal, a pipe) to the
// process's exit.
func readCancelable(ctx context.Context, read func() ([]byte, error)) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := read()
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// startOptions are the flags of stepmon start that make the request body.
type startOptions struct {
	id, jobID, repo, url, statusPath string
	minIssues, completeAfter         int
	interval, timeout                int
	webhook, phone, topic            string
	// The http target's values: what its status means.
	doneValues, failedValues, runningValues listValue
	// set holds the names of the flags given on the command line.
	set map[string]bool
}

// register defines the flags of startOptions on fs. Each of them sets a
// field of the request: startFields says which.
func (o *startOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.id, "id", "", "instance id (default: generated by the API)")
	fs.StringVar(&o.jobID, "job-id", "", "job id, named in the custom status; alone, starts a job monitor of the simulated job")
	fs.StringVar(&o.repo, "repo", "", "owner/name of a GitHub repository to watch (needs an alert flag)")
	fs.IntVar(&o.minIssues, "min-open-issues", 0, "GitHub monitor: alert when the repository has at least this many open issues (0: the API's default, 3)")
	fs.StringVar(&o.url, "url", "", "job status URL of an http monitor")
	fs.StringVar(&o.statusPath, "status-path", "$.status", "http monitor: JSONPath of the status in the answer")
	fs.Var(&o.doneValues, "done-values", "http monitor: the `values` of a job that is done, comma-separated or repeated (default Completed)")
	fs.Var(&o.failedValues, "failed-values", "http monitor: the `values` of a job that failed, comma-separated or repeated (default Failed)")
	fs.Var(&o.runningValues, "running-values", "http monitor: the `values` of a job still running, comma-separated or repeated (default: any value neither done nor failed; when given, any other value is Unknown)")
	fs.IntVar(&o.completeAfter, "complete-after", 0, "simulated job: completes on this check (0: the API's default)")
	fs.Var((*secondsValue)(&o.interval), "interval", "polling interval: whole `seconds` (30) or a duration of whole seconds (5m) (0: the API's default)")
	fs.Var((*secondsValue)(&o.timeout), "timeout", "monitor timeout: whole `seconds` (3600) or a duration of whole seconds (1h) (0: the API's default)")
	fs.StringVar(&o.webhook, "webhook", "", "alert by POSTing to this URL")
	fs.StringVar(&o.phone, "phone", "", "alert by SMS to this number (E.164, e.g. +14255550100)")
	fs.StringVar(&o.topic, "topic-arn", "", "alert by publishing to this SNS topic")
}

// startFields is the one list of start's request flags: the field of a
// native start request each sets, and, for a field of the target that
// only one type of target has, that type. Errors name the flags after it
// (nameFlags), a body file takes the flags on top when one of them is
// given (applyTo), and a flag of another target's type is refused
// (checkTargetFlags).
var startFields = []flagField{
	{"id", "instanceId", ""},
	{"job-id", "jobId", ""},
	{"interval", "pollingIntervalSeconds", ""},
	{"timeout", "timeoutSeconds", ""},
	// The target itself: it chooses the target's type.
	{"repo", "target.repo", ""},
	{"url", "target.url", ""},
	{"min-open-issues", "target.minOpenIssues", "github"},
	{"complete-after", "target.completeAfterChecks", "simulated"},
	{"status-path", "target.statusPath", "http"},
	{"done-values", "target.doneValues", "http"},
	{"failed-values", "target.failedValues", "http"},
	{"running-values", "target.runningValues", "http"},
	{"phone", "alert.phone", ""},
	{"webhook", "alert.webhookUrl", ""},
	{"topic-arn", "alert.topicArn", ""},
}

// targetKinds describes each type of target for messages, with the flag
// that asks for it.
var targetKinds = map[string]string{
	"github":    "a GitHub monitor (--repo)",
	"simulated": "a simulated job monitor (--job-id)",
	"http":      "an http monitor (--url)",
}

// targetFlags returns the flags that name a target other than the
// simulated job, each with its value.
func (o *startOptions) targetFlags() []struct{ flag, value string } {
	return []struct{ flag, value string }{{"repo", o.repo}, {"url", o.url}}
}

// alertFlags returns the alert flags, each with the field of the API's
// alert it sets and its value.
func (o *startOptions) alertFlags() []struct{ flag, field, value string } {
	return []struct{ flag, field, value string }{
		{"phone", "phone", o.phone},
		{"webhook", "webhookUrl", o.webhook},
		{"topic-arn", "topicArn", o.topic},
	}
}

// alerts returns the alert flags given (the API takes exactly one).
func (o *startOptions) alerts() []struct{ flag, field, value string } {
	var given []struct{ flag, field, value string }
	for _, a := range o.alertFlags() {
		if o.set[a.flag] {
			given = append(given, a)
		}
	}
	return given
}

// alert returns the alert the flags ask for, or nil.
func (o *startOptions) alert() map[string]any {
	if a := o.alerts(); len(a) > 0 {
		return map[string]any{a[0].field: a[0].value}
	}
	return nil
}

// check reports the flag combinations that cannot make a request, whether
// or not there is a body file.
func (o *startOptions) check() error {
	var alerts []string
	for _, a := range o.alerts() {
		alerts = append(alerts, "--"+a.flag)
	}
	if len(alerts) > 1 {
		return usageError("give one alert flag, not %s: the API takes exactly one of phone, webhookUrl and topicArn", strings.Join(alerts, " and "))
	}
	for _, n := range []struct {
		flag  string
		value int
	}{{"interval", o.interval}, {"timeout", o.timeout}, {"min-open-issues", o.minIssues}, {"complete-after", o.completeAfter}} {
		if n.value < 0 {
			return usageError("--%s must be a positive number (or 0 for the API's default); got %d", n.flag, n.value)
		}
	}
	return nil
}

// body builds a native start request from the flags alone.
func (o *startOptions) body() ([]byte, error) {
	body := map[string]any{}
	if o.id != "" {
		body["instanceId"] = o.id
	}
	if o.repo != "" && o.url != "" {
		return nil, usageError("give one target, --repo (GitHub) or --url (http job), not both")
	}
	target := "simulated"
	switch {
	case o.repo != "":
		target = "github"
	case o.url != "":
		target = "http"
	}
	if err := o.checkTargetFlags(target); err != nil {
		return nil, err
	}
	alert := o.alert()
	switch target {
	case "github":
		if alert == nil {
			return nil, usageError("a GitHub monitor (--repo) needs an alert: add --phone, --webhook or --topic-arn")
		}
		t := map[string]any{"type": "github", "repo": o.repo}
		if o.minIssues > 0 {
			t["minOpenIssues"] = o.minIssues
		}
		body["target"] = t
	case "http":
		t := map[string]any{"type": "http", "url": o.url, "statusPath": o.statusPath}
		for field, values := range httpDefaultValues {
			t[field] = values
		}
		for field, values := range o.values() {
			t[field] = values
		}
		body["target"] = t
	default:
		// --id names a monitor, it does not say what to monitor: only
		// the simulated job's own flags ask for one.
		if o.jobID == "" && o.completeAfter == 0 {
			return nil, usageError("say what to monitor: --job-id, --repo, --url, or a body file (see stepmon start -h)")
		}
		t := map[string]any{"type": "simulated"}
		if o.completeAfter > 0 {
			t["completeAfterChecks"] = o.completeAfter
		}
		body["target"] = t
	}
	if o.jobID != "" {
		body["jobId"] = o.jobID
	}
	if o.interval > 0 {
		body["pollingIntervalSeconds"] = o.interval
	}
	if o.timeout > 0 {
		body["timeoutSeconds"] = o.timeout
	}
	if alert != nil {
		body["alert"] = alert
	}
	return json.Marshal(body)
}

// httpDefaultValues are the value lists, by the target's field, that an
// http target built from flags has unless its flags give them.
var httpDefaultValues = map[string][]string{"doneValues": {"Completed"}, "failedValues": {"Failed"}}

// defaultValues returns, by flag name ("done-values"), the value lists of
// an http target built from flags that its flags leave at their default.
func (o *startOptions) defaultValues() map[string]string {
	if o.url == "" || o.repo != "" {
		return nil
	}
	given := o.values()
	m := map[string]string{}
	for _, ff := range startFields {
		field := strings.TrimPrefix(ff.field, "target.")
		if def, ok := httpDefaultValues[field]; ok && given[field] == nil {
			m[ff.flag] = strings.Join(def, ",")
		}
	}
	return m
}

// flagField is a flag of a client command and the field of the API's
// request (a body's field, a query parameter) it sets; target, for a
// start flag that sets a field of one type of target only, is that type.
type flagField struct{ flag, field, target string }

// nameFlags returns err, the API's refusal of a request the flags built,
// with the fields it names spelled as the flags that set them (fields):
// "--interval must be between 1 and 86400 seconds", not
// "pollingIntervalSeconds ...", also where a problem names another of
// these fields. A problem that names a flag the user did not give, whose
// value is a default (defaults, by flag name), says so: the user never
// wrote that value. When every problem is a flag's, the error is about
// the command line, not the endpoint: it does not name the request.
// Other errors, and an error without field problems, are returned as
// they are.
func nameFlags(err error, fields []flagField, defaults map[string]string) error {
	ae, ok := err.(*apiError)
	if len(fields) == 0 || !ok || len(ae.Fields) == 0 {
		return err
	}
	// The message is a text, then the problems: "invalid request: f1 p1; f2 p2".
	var tail strings.Builder
	for i, f := range ae.Fields {
		if i > 0 {
			tail.WriteString("; ")
		}
		tail.WriteString(f.Field + " " + f.Problem)
	}
	head, ok := strings.CutSuffix(ae.Message, ": "+tail.String())
	if !ok {
		return err
	}
	flagOf := func(field string) (string, bool) {
		for _, ff := range fields {
			// A list's item ("target.doneValues[1]") is its list's flag.
			if field == ff.field || strings.HasPrefix(field, ff.field+"[") {
				return "--" + ff.flag, true
			}
		}
		return "", false
	}
	var b strings.Builder
	b.WriteString(head + ": ")
	allFlags := true
	for i, f := range ae.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		problem := f.Problem
		fl, ok := flagOf(f.Field)
		allFlags = allFlags && ok
		if ok {
			f.Field = fl
			var notes []string
			if def, ok := defaults[strings.TrimPrefix(fl, "--")]; ok {
				notes = append(notes, defaultNote(fl, def))
			}
			// A problem may name another field by its last part ("is
			// in doneValues too"); only camelCase names are taken for
			// field names, not words such as "url".
			for _, ff := range fields {
				last := ff.field[strings.LastIndex(ff.field, ".")+1:]
				if strings.ToLower(last) != last {
					named := replaceWord(problem, last, "--"+ff.flag)
					if def, ok := defaults[ff.flag]; ok && named != problem {
						notes = append(notes, defaultNote("--"+ff.flag, def))
					}
					problem = named
				}
			}
			problem = addNotes(problem, notes)
		}
		b.WriteString(f.Field + " " + problem)
	}
	named := *ae
	named.Message = b.String()
	if allFlags {
		named.detail = ""
	}
	return &named
}

// defaultNote says that flag, which the user did not give, has its
// default value def.
func defaultNote(flag, def string) string {
	return fmt.Sprintf("%s is the default, %s; give %s to change it", flag, def, flag)
}

// addNotes adds notes to a problem: into its closing parenthesis when it
// ends with one ("is in --done-values too (values compare ignoring
// case)"), else in a parenthesis of their own.
func addNotes(problem string, notes []string) string {
	if len(notes) == 0 {
		return problem
	}
	note := strings.Join(notes, "; ")
	if i := strings.LastIndex(problem, " ("); i >= 0 && strings.HasSuffix(problem, ")") {
		return problem[:i+2] + note + "; " + problem[i+2:]
	}
	return problem + " (" + note + ")"
}

// replaceWord replaces the occurrences of word in s that are whole words
// (not part of a longer name, such as a member "word.x") with repl. A
// placeholder, word in braces ("named {instanceId}-g{n}"), names the
// value, not the field: it stays.
func replaceWord(s, word, repl string) string {
	isName := func(r byte) bool {
		return r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	var b strings.Builder
	for {
		i := strings.Index(s, word)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(word)
		placeholder := i > 0 && s[i-1] == '{' && end < len(s) && s[end] == '}'
		// A full stop ends a sentence only at the end or before a space;
		// "doneValues.x" names a member of the field, not the field.
		fullStop := end < len(s) && s[end] == '.' && (end+1 == len(s) || s[end+1] == ' ')
		if placeholder || (i > 0 && isName(s[i-1])) || (end < len(s) && isName(s[end]) && !fullStop) {
			b.WriteString(s[:end])
		} else {
			b.WriteString(s[:i] + repl)
		}
		s = s[end:]
	}
}

// values returns the http target's value lists the flags give, by the
// target's field.
func (o *startOptions) values() map[string][]string {
	m := map[string][]string{}
	for _, v := range []struct {
		field  string
		values listValue
	}{{"doneValues", o.doneValues}, {"failedValues", o.failedValues}, {"runningValues", o.runningValues}} {
		if len(v.values) > 0 {
			m[v.field] = v.values
		}
	}
	return m
}

// listValue is a flag of strings, comma-separated or repeated:
// "--done-values A,B" is "--done-values A --done-values B".
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

// joinedValue is a flag that may be repeated, its values joined with
// commas: "--status Running --status Pending" is "--status Running,Pending".
type joinedValue struct{ s *string }

func (v joinedValue) String() string {
	if v.s == nil {
		return ""
	}
	return *v.s
}

func (v joinedValue) Set(x string) error {
	if *v.s != "" {
		*v.s += ","
	}
	*v.s += x
	return nil
}

func (l *listValue) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			return fmt.Errorf("an empty value in %q: give values separated by commas, e.g. Succeeded,Done", s)
		}
		*l = append(*l, v)
	}
	return nil
}

// checkTargetFlags reports a flag given for a target of another type than
// target (github, http or simulated).
func (o *startOptions) checkTargetFlags(target string) error {
	// "http" is read letter by letter: "an http target".
	article := "a"
	if target == "http" {
		article = "an"
	}
	for _, f := range startFields {
		if f.target != "" && o.set[f.flag] && target != f.target {
			return usageError("--%s applies only to %s, not to %s %s target", f.flag, targetKinds[f.target], article, target)
		}
	}
	return nil
}

// applyTo returns body, a start request read from a file, with the flags
// given applied on top of it. Without such flags, body is sent as it is.
// With them, only the members the flags set change, where they stand (see
// setMember): the API judges the rest of the file as it would judge the
// file alone, so a key the file gives twice is still the API's 400.
func (o *startOptions) applyTo(body []byte) ([]byte, error) {
	given := false
	for _, f := range startFields {
		given = given || o.set[f.flag]
	}
	if !given {
		return body, nil
	}
	for _, f := range o.targetFlags() {
		if o.set[f.flag] {
			return nil, usageError("the body file names the target; --%s cannot replace it", f.flag)
		}
	}
	if _, isObject := members(body); !json.Valid(body) || !isObject {
		return nil, usageError("flags apply on top of a body that is a JSON object; this body is not one")
	}
	targets := memberValues(body, "target")
	if len(targets) == 0 {
		return nil, usageError("flags apply on top of a body of the native shape (with \"target\", see docs/api.md), not a seed shape: put the values in the body instead")
	}
	// The first value of a key stands, as in the API.
	var targetType string
	if types := memberValues(targets[0], "type"); len(types) == 0 || json.Unmarshal(types[0], &targetType) != nil {
		return nil, usageError("the body's target is not an object with a type; fix the body before applying flags to it")
	}
	if err := o.checkTargetFlags(targetType); err != nil {
		return nil, err
	}
	encode := func(v any) []byte {
		b, _ := json.Marshal(v)
		return b
	}
	// A number flag of 0 means the API's default, which a field given as
	// null takes.
	setNumber := func(obj []byte, flag, field string, v int) []byte {
		switch {
		case !o.set[flag]:
			return obj
		case v > 0:
			return setMember(obj, field, encode(v))
		default:
			return setMember(obj, field, []byte("null"))
		}
	}
	body = editMember(body, "target", func(target []byte) []byte {
		target = setNumber(target, "min-open-issues", "minOpenIssues", o.minIssues)
		target = setNumber(target, "complete-after", "completeAfterChecks", o.completeAfter)
		if o.set["status-path"] {
			target = setMember(target, "statusPath", encode(o.statusPath))
		}
		for field, values := range o.values() {
			target = setMember(target, field, encode(values))
		}
		return target
	})
	body = setNumber(body, "interval", "pollingIntervalSeconds", o.interval)
	body = setNumber(body, "timeout", "timeoutSeconds", o.timeout)
	if o.set["id"] {
		body = setMember(body, "instanceId", encode(o.id))
	}
	if o.set["job-id"] {
		body = setMember(body, "jobId", encode(o.jobID))
	}
	if a := o.alerts(); len(a) > 0 {
		// The flag replaces the destination; the message template stays,
		// as the file gives it (twice, if it does), and so does the
		// channel of a phone replaced by a phone (Twilio stays Twilio).
		alert := slices.Concat([]byte("{"), encode(a[0].field), []byte(":"), encode(a[0].value))
		if old := memberValues(body, "alert"); len(old) > 0 {
			kept := []string{"message"}
			if a[0].field == "phone" && len(memberValues(old[0], "phone")) > 0 {
				kept = append(kept, "channel")
			}
			for _, k := range kept {
				for _, m := range memberValues(old[0], k) {
					alert = slices.Concat(alert, []byte(`,`), encode(k), []byte(`:`), m)
				}
			}
		}
		body = setMember(body, "alert", append(alert, '}'))
	}
	return body, nil
}

// oneID returns the single positional argument of a command that names a
// monitor. The error for any other count shows what was given; words
// after a terminate's id are taken for the reason they likely are.
func oneID(cmd string, pos []string) (string, error) {
	switch {
	case len(pos) == 0:
		return "", usageError("%s needs an instance id (see stepmon %s -h)", cmd, cmd)
	case len(pos) > 1 && cmd == "terminate":
		// Words after "--" ("terminate -- -id --reason x") hold the
		// --reason flag itself: the hint gives its value alone.
		words := pos[1:]
		if r, ok := strings.CutPrefix(words[0], "--reason="); ok {
			words = append([]string{r}, words[1:]...)
		} else if words[0] == "--reason" && len(words) > 1 {
			words = words[1:]
		}
		hint := []string{pos[0], "--reason", strings.Join(words, " ")}
		if strings.HasPrefix(pos[0], "-") {
			hint = []string{"--reason", strings.Join(words, " "), "--", pos[0]}
		}
		return "", usageError("terminate takes one instance id; got %q; a reason goes in --reason: stepmon terminate %s", pos, shellJoin(hint))
	case len(pos) > 1:
		return "", usageError("%s takes one instance id; got %q (see stepmon %s -h)", cmd, pos, cmd)
	case pos[0] == "":
		return "", usageError("%s needs an instance id; got an empty one", cmd)
	}
	if err := checkID(cmd+":", pos[0]); err != nil {
		return "", err
	}
	return pos[0], nil
}

func runStatus(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "status", "[flags] ID",
		`Prints the status record of a monitor as JSON. Exit status 0 whether the
monitor is running or finished; 4 when it does not exist.`)
	var cf clientFlags
	cf.register(fs, c)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID("status", pos)
	if err != nil {
		return err
	}
	client, err := cf.newClient(ctx)
	if err != nil {
		return err
	}
	_, body, err := client.getRecord(ctx, id)
	if err != nil {
		return fmt.Errorf("status %s: %w", id, err)
	}
	if err := writeJSON(c.stdout, body); err != nil {
		return fmt.Errorf("status %s: %w", id, err)
	}
	return nil
}

func runWatch(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "watch", "[flags] ID",
		`Follows a monitor until it finishes: one line per change of its check count
or status on standard error (a single updating line on a terminal), then the
final status record's output as JSON on standard output.

When the API cannot be reached, or answers 429, 502, 503 (while the service
restarts) or 504, watch notes it on standard error and tries again, after the
answer's Retry-After (at most 30 s) or a wait that doubles up to 10 s; it
gives up on other errors (404: no such monitor), and before the API has
answered once (a status record, or an error in the API's JSON) when there
is no answer or another server's error (an empty 503, a web page: a wrong
--endpoint). Ctrl-C ends it with exit status 130, as it
does every command.

Exit status: 0 when the monitor reached its goal (final status Completed or
Alerted), 3 when it ended otherwise (Failed, Timeout or Terminated), 4 when
there is no such monitor, 1 when it could not be followed.`)
	var cf clientFlags
	cf.register(fs, c)
	every := time.Second
	fs.Var((*durationValue)(&every), "every", "how often to poll the status: a `duration` (5s) or whole seconds (5), at least 1s")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := checkEvery(every); err != nil {
		return err
	}
	id, err := oneID("watch", pos)
	if err != nil {
		return err
	}
	client, err := cf.newClient(ctx)
	if err != nil {
		return err
	}
	rec, err := watchMonitor(ctx, client, id, every, newProgress(c.stderr), c.stdout)
	if err != nil {
		return err
	}
	return outcome(id, rec)
}

// minWatchEvery is the shortest --every of watch: a monitor's polling
// interval is whole seconds, so polling its status faster shows nothing
// sooner, and against AWS costs a request and an invocation each time.
const minWatchEvery = time.Second

// checkEvery refuses an --every shorter than minWatchEvery.
func checkEvery(every time.Duration) error {
	if every < minWatchEvery {
		return usageError("--every must be at least %v: a monitor checks at most once a second, and on AWS each poll is an API request and a function invocation; got %v", minWatchEvery, every)
	}
	return nil
}

// exitNotReached is the exit status of watch, and start --watch, for a
// monitor that finished without reaching its goal.
const exitNotReached = 3

// outcome judges a finished monitor for the exit status: nil when it
// reached its goal (the job completed, or the alert went out), else an
// error with exit status exitNotReached naming how it ended.
func outcome(id string, rec record) error {
	final := rec.finalStatus()
	if rec.RuntimeStatus == monitor.RuntimeCompleted &&
		(final == monitor.FinalCompleted || final == monitor.FinalAlerted) {
		return nil
	}
	if final == "" {
		final = "none"
	}
	return &exitError{code: exitNotReached,
		err: fmt.Errorf("monitor %s ended %s, final status %s", id, printable(string(rec.RuntimeStatus)), printable(string(final)))}
}

// watcher follows a monitor by polling its status.
type watcher struct {
	client *apiClient
	// every is how often the status is polled.
	every time.Duration
	// maxRetryWait caps the wait before retrying a request that failed
	// for a passing reason, Retry-After included.
	maxRetryWait time.Duration
	p            *progress
	// out receives the finished monitor's output.
	out io.Writer
	// reached records that the API has answered once: a status record,
	// or an error in the API's JSON. Until it has, no answer at all, or
	// another server's error, means a wrong endpoint rather than a
	// restart, and ends the watch.
	reached bool
}

// newWatcher returns a watcher polling every interval (a second when not
// positive), reporting to p and writing the output to out.
func newWatcher(client *apiClient, every time.Duration, p *progress, out io.Writer) *watcher {
	if every <= 0 {
		every = time.Second
	}
	return &watcher{client: client, every: every, maxRetryWait: 30 * time.Second, p: p, out: out}
}

// watch polls monitor id until it reaches a final status, reporting its
// changes, and writes its output. Failures that pass (no connection once
// the API has answered, 429, 5xx such as 503 while the service restarts)
// are retried after a note, as long as it takes; an answer that will not
// change (404, 400) ends the watch, as do no connection and another
// server's error before any answer of the API, and ctx, with ctx's error.
func (w *watcher) watch(ctx context.Context, id string) (record, error) {
	var last record
	failures := 0
	for {
		wait := w.every
		rec, _, err := w.client.getRecord(ctx, id)
		switch {
		case ctx.Err() != nil:
			w.p.done()
			return last, ctx.Err()
		case err != nil:
			reason, serverWait, ok := transient(err)
			var te *transportError
			var ae *apiError
			// Another server's error (an empty 503 of a load balancer,
			// a proxy's web page) is no answer of the API either.
			notAPI := errors.As(err, &te) || (errors.As(err, &ae) && ae.pageType != "")
			if !ok || (notAPI && !w.reached) {
				w.p.done()
				return last, fmt.Errorf("watch %s: %w", id, err)
			}
			if !notAPI {
				w.reached = true
			}
			failures++
			wait = w.retryWait(failures, serverWait)
			w.p.note(fmt.Sprintf("stepmon: watch %s: %s, retrying in %v", id, reason, wait))
		default:
			failures = 0
			w.reached = true
			last = rec
			w.p.show(rec)
			if rec.RuntimeStatus.Final() {
				w.p.done()
				if len(rec.Output) > 0 && string(rec.Output) != "null" {
					if err := writeJSON(w.out, rec.Output); err != nil {
						return rec, fmt.Errorf("watch %s: %w", id, err)
					}
				}
				return rec, nil
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			w.p.done()
			return last, ctx.Err()
		case <-t.C:
		}
	}
}

// retryWait is how long to wait before the next try after the failures'th
// failure in a row: what the server asked for, else the polling interval
// doubled after each failure, at most 10 s; never more than maxRetryWait.
func (w *watcher) retryWait(failures int, serverWait time.Duration) time.Duration {
	return retryDelay(failures, serverWait, w.every, 10*time.Second, w.maxRetryWait)
}

// retryDelay is the wait before the next try after the failures'th
// failure in a row (from 1): what the server asked for, else first doubled
// after each failure before, at most maxBackoff; never more than maxWait.
func retryDelay(failures int, serverWait, first, maxBackoff, maxWait time.Duration) time.Duration {
	wait := serverWait
	if wait <= 0 {
		wait = min(first<<min(failures-1, 10), maxBackoff)
	}
	return min(wait, maxWait)
}

// transient reports whether err is a failure that passes: no answer, or a
// 429, 502, 503 or 504 answer. It returns a short reason and the wait the
// server asked for. Other statuses of 500 and more are answers that a
// retry gets again: 500 is the API's answer to a bug, 501 (a method the
// server does not implement) and 505 (an HTTP version it does not take)
// say something about the request, and the rest are no answer of API
// Gateway or of stepmon serve.
func transient(err error) (reason string, wait time.Duration, ok bool) {
	var ae *apiError
	var te *transportError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
		return "rate limited (HTTP 429)", ae.RetryAfter, true
	case errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable:
		return "service unavailable (HTTP 503)", ae.RetryAfter, true
	case errors.As(err, &ae) && (ae.Status == http.StatusBadGateway || ae.Status == http.StatusGatewayTimeout):
		// API Gateway's answers for a function that failed or timed out.
		return "server error: " + ae.Error(), ae.RetryAfter, true
	case errors.As(err, &te):
		return "no answer: " + te.cause(), 0, true
	}
	return "", 0, false
}

// rootCause is the message of the innermost error of a request's failure
// ("dial tcp 127.0.0.1:8080: connect: connection refused").
func rootCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// watchMonitor follows monitor id until it finishes (see watcher.watch).
func watchMonitor(ctx context.Context, client *apiClient, id string, every time.Duration, p *progress, out io.Writer) (record, error) {
	return newWatcher(client, every, p, out).watch(ctx, id)
}

// runtimeStatuses are the values of a list's --status.
var runtimeStatuses = []string{string(monitor.RuntimePending), string(monitor.RuntimeRunning),
	string(monitor.RuntimeCompleted), string(monitor.RuntimeFailed), string(monitor.RuntimeTerminated)}

// listFields are the flags of list that set query parameters of the API,
// which its errors name. top is not here: list sets it from --top, but to
// a page's size, always one the API takes.
var listFields = []flagField{
	{"status", "runtimeStatus", ""},
	{"from", "createdTimeFrom", ""},
	{"to", "createdTimeTo", ""},
}

func runList(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "list", "[flags]",
		`Lists monitors, newest first, as a table (or JSON with --json).`)
	var cf clientFlags
	cf.register(fs, c)
	status := new(string)
	fs.Var(joinedValue{status}, "status", "only monitors with these runtime `statuses`, comma-separated or repeated (Pending,Running,Completed,Failed,Terminated)")
	top := fs.Int("top", 0, "at most this many monitors (0: all, following continuation tokens)")
	from := fs.String("from", "", "only monitors created at or after this RFC 3339 time")
	to := fs.String("to", "", "only monitors created before this RFC 3339 time (exclusive)")
	asJSON := fs.Bool("json", false, "print the records as a JSON array")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("list takes no arguments; got %q", pos)
	}
	// Each flag is checked here, so that a mistake names the flag rather
	// than the API parameter it becomes; all are reported at once.
	var problems []string
	if *top < 0 {
		problems = append(problems, fmt.Sprintf("--top must be 0 (all) or more; got %d", *top))
	}
	// A filter given empty ("$CUTOFF" unset) would list every monitor:
	// what a script feeds to terminate would be all of them.
	fs.Visit(func(f *flag.Flag) {
		if (f.Name == "status" || f.Name == "from" || f.Name == "to") && strings.Trim(f.Value.String(), ", \t") == "" {
			problems = append(problems, fmt.Sprintf("--%s must not be empty: leave it out for no such filter", f.Name))
		}
	})
	// The API takes the statuses as one comma-separated runtimeStatus.
	var statuses []string
	for _, s := range strings.Split(*status, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.ContainsFunc(runtimeStatuses, func(rs string) bool { return strings.EqualFold(rs, s) }) {
			problem := fmt.Sprintf("--status must be a comma-separated list of %s; got %q", strings.Join(runtimeStatuses, ", "), s)
			if note := monitor.FinalStatusNote(s); note != "" {
				problem += ": " + note
			}
			problems = append(problems, problem)
			continue
		}
		statuses = append(statuses, s)
	}
	var bounds [2]time.Time
	for i, b := range []struct{ flag, value string }{{"--from", *from}, {"--to", *to}} {
		if b.value == "" {
			continue
		}
		t, err := monitor.ParseQueryTime(b.value)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z; got %q", b.flag, b.value))
			continue
		}
		if !monitor.QueryTimeInRange(t) {
			// As the API says it: 0000-01-01T00:30:00+01:00 is in year
			// -1 in UTC.
			problems = append(problems, fmt.Sprintf("%s %s; got %q", b.flag, monitor.QueryTimeProblem, b.value))
			continue
		}
		bounds[i] = t
	}
	if !bounds[0].IsZero() && !bounds[1].IsZero() && bounds[0].After(bounds[1]) {
		problems = append(problems, "--from must not be after --to")
	}
	if len(problems) > 0 {
		return usageError("list: %s", strings.Join(problems, "; "))
	}
	client, err := cf.newClient(ctx)
	if err != nil {
		return err
	}
	var all []json.RawMessage
	token := ""
	seen := map[string]bool{} // the tokens followed: a cycle would never end
	for {
		q := url.Values{}
		if len(statuses) > 0 {
			q.Set("runtimeStatus", strings.Join(statuses, ","))
		}
		if *from != "" {
			q.Set("createdTimeFrom", *from)
		}
		if *to != "" {
			q.Set("createdTimeTo", *to)
		}
		// A page holds at most monitor.MaxPageSize records; --top counts
		// across pages.
		pageSize := monitor.MaxPageSize
		if *top > 0 {
			pageSize = min(*top-len(all), monitor.MaxPageSize)
		}
		q.Set("top", strconv.Itoa(pageSize))
		if token != "" {
			q.Set("continuationToken", token)
		}
		resp, err := getListPage(ctx, client, q, all != nil || token != "", c.stderr)
		if err != nil {
			return fmt.Errorf("list: %w", nameFlags(err, listFields, nil))
		}
		var page struct {
			Records           []json.RawMessage `json:"monitors"`
			ContinuationToken string            `json:"continuationToken"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return fmt.Errorf("list: the API answered something that is not a list: %w", err)
		}
		if page.ContinuationToken == "" {
			page.ContinuationToken = resp.Header.Get("x-ms-continuation-token")
		}
		all = append(all, page.Records...)
		if page.ContinuationToken != "" && page.ContinuationToken == token {
			return fmt.Errorf("list: the continuation token did not move on (%s answered the same one twice); the endpoint does not page like the monitor API", client.base.Redacted())
		}
		if page.ContinuationToken != "" && seen[page.ContinuationToken] {
			return fmt.Errorf("list: the continuation tokens go round in a circle (%s answered a token it had answered before); the endpoint does not page like the monitor API", client.base.Redacted())
		}
		seen[token] = true
		token = page.ContinuationToken
		// A page may be short, even empty, and still have a token (a
		// status filter on AWS reads a bounded part of the list per
		// request): only a page without one is the last.
		if token == "" || (*top > 0 && len(all) >= *top) {
			break
		}
	}
	if *top > 0 && len(all) > *top {
		all = all[:*top]
	}
	if *asJSON {
		b, _ := json.Marshal(all)
		if all == nil {
			b = []byte("[]")
		}
		if err := writeJSON(c.stdout, b); err != nil {
			return fmt.Errorf("list: %w", err)
		}
		return nil
	}
	if err := writeListTable(c.stdout, c.stderr, all, time.Now()); err != nil {
		return fmt.Errorf("list: write output: %w", err)
	}
	return nil
}

// writeListTable writes records, the API's, as list's table. Its times
// are at the offset from UTC that now's zone (the local one) has now,
// which the headings name ("CREATED (UTC+1)"): a monitor created in
// summer shows 13:00 in a UTC+1 winter, not the 14:00 of its own day's
// offset, so that every row agrees with its heading across a change to
// or from daylight saving time. A record that does not decode keeps its
// row, with "?" in the columns it cannot fill, and a warning naming it
// goes to warn. What the server says is escaped (printable): it goes to a
// terminal.
func writeListTable(w, warn io.Writer, records []json.RawMessage, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	zone := zoneLabel(now)
	_, offset := now.Zone()
	at := time.FixedZone(zone, offset)
	fmt.Fprintf(tw, "INSTANCE ID\tNAME\tSTATUS\tCHECKS\tJOB STATUS\tCREATED (%s)\tUPDATED (%s)\n", zone, zone)
	for i, raw := range records {
		var r record
		if err := json.Unmarshal(raw, &r); err != nil {
			var named struct {
				InstanceID string `json:"instanceId"`
			}
			id := "?"
			if json.Unmarshal(raw, &named) == nil && named.InstanceID != "" {
				id = printable(named.InstanceID)
				fmt.Fprintf(warn, "stepmon: list: the record of monitor %s does not decode (%v); its row shows ?\n", id, err)
			} else {
				fmt.Fprintf(warn, "stepmon: list: record %d of the list does not decode (%v); its row shows ?\n", i+1, err)
			}
			fmt.Fprintf(tw, "%s\t?\t?\t?\t?\t?\t?\n", id)
			continue
		}
		checks := "-"
		if r.CustomStatus != nil {
			checks = strconv.Itoa(r.CustomStatus.CheckCount)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", printable(r.InstanceID), printable(r.Name), printable(string(r.RuntimeStatus)), checks, printable(r.jobStatus()),
			r.CreatedTime.In(at).Format(time.DateTime), r.LastUpdatedTime.In(at).Format(time.DateTime))
	}
	return tw.Flush()
}

func runTerminate(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "terminate", "[flags] ID",
		`Terminates a running monitor (stops its workflow execution; its status
becomes Terminated) and prints the API's answer, its status record. Fails
with HTTP 410, exit status 5, when it has already finished, and with HTTP
404, exit status 4, when there is none.`)
	var cf clientFlags
	cf.register(fs, c)
	reason := fs.String("reason", "", "why, recorded in the monitor's output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID("terminate", pos)
	if err != nil {
		return err
	}
	client, err := cf.newClient(ctx)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *reason != "" {
		q.Set("reason", *reason)
	}
	resp, err := client.do(ctx, http.MethodPost, monitorPath(id, "terminate"), q, nil, recordShape)
	if err != nil {
		return fmt.Errorf("terminate %s: %w", id, err)
	}
	if err := writeJSON(c.stdout, resp.Body); err != nil {
		return fmt.Errorf("terminate %s: %w", id, err)
	}
	return nil
}

func runPurge(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "purge", "[flags] ID",
		`Deletes a finished monitor's status record (and its events). Fails with
HTTP 409, exit status 5, while the monitor runs (terminate it first) and
with HTTP 404, exit status 4, when there is none.`)
	var cf clientFlags
	cf.register(fs, c)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID("purge", pos)
	if err != nil {
		return err
	}
	client, err := cf.newClient(ctx)
	if err != nil {
		return err
	}
	resp, err := client.do(ctx, http.MethodDelete, monitorPath(id), nil, nil, purgedShape)
	if err != nil {
		return fmt.Errorf("purge %s: %w", id, err)
	}
	if err := writeJSON(c.stdout, resp.Body); err != nil {
		return fmt.Errorf("purge %s: %w", id, err)
	}
	return nil
}

func runRaise(ctx context.Context, c *cli, args []string) error {
	fs := newFlagSet(c, "raise", "[flags] ID EVENT",
		`Raises an event for a monitor: the API stores it and the monitor's next
check consumes it. Prints the API's answer, the instance id and the event's
name. Events the checks understand (names are case-sensitive):
  complete     the next check finishes the monitor, final status Completed,
               without checking the target or sending the alert
  setInterval  the polling interval from the next check on; needs data
               such as {"pollingIntervalSeconds": 30}
  checkNow     recorded only; the next check runs at its time
Any other name of 1 to 64 letters, digits, '-' or '_' is stored, and shown
as the custom status's last_event, with no further effect.

The event's data is optional JSON (at most 1 KiB): --data, or --data-file
(a file, or "-" for standard input). A malformed event name or data is
refused before anything is sent (exit status 2). Fails with HTTP 410, exit
status 5, when the monitor has already finished, with HTTP 409, exit status
5, while it holds 100 events its checks have not consumed yet, and with
HTTP 404, exit status 4, when there is none.

Examples:
  stepmon raise my-job setInterval --data '{"pollingIntervalSeconds": 30}'
  stepmon raise my-job complete
  echo '{"pollingIntervalSeconds": 30}' | stepmon raise my-job setInterval --data-file -`)
	var cf clientFlags
	cf.register(fs, c)
	data := fs.String("data", "", "the event's data: `JSON` such as '{\"pollingIntervalSeconds\": 30}'")
	dataFile := fs.String("data-file", "", "read the event's data from this `file` (\"-\" for standard input)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usageError("raise needs an instance id and an event name (see stepmon raise -h)")
	case len(pos) > 2 && pos[0] != "" && pos[1] != "" && (*data != "" || *dataFile != ""):
		return usageError("raise takes an instance id and an event name; got %q (the event's data is --data's or --data-file's)", pos)
	case len(pos) > 2 && pos[0] != "" && pos[1] != "":
		// Words after the event's name: likely its data, as curl takes
		// a body.
		hint := []string{pos[0], pos[1], "--data", strings.Join(pos[2:], " ")}
		if strings.HasPrefix(pos[0], "-") {
			hint = []string{"--data", strings.Join(pos[2:], " "), "--", pos[0], pos[1]}
		}
		return usageError("raise takes an instance id and an event name; got %q; the event's data goes in --data: stepmon raise %s", pos, shellJoin(hint))
	case len(pos) != 2 || pos[0] == "":
		return usageError("raise needs an instance id and an event name (see stepmon raise -h); got %q", pos)
	}
	id, name := pos[0], pos[1]
	if err := checkID("raise:", id); err != nil {
		return err
	}
	// An empty --data-file "$F" names no file: the event would go
	// without the data meant for it.
	dataFileSet := false
	fs.Visit(func(f *flag.Flag) { dataFileSet = dataFileSet || f.Name == "data-file" })
	if dataFileSet && *dataFile == "" {
		return usageError("raise: --data-file must not be empty: give a file, or - for standard input")
	}
	if problems := monitor.EventNameProblems(name); len(problems) > 0 {
		return usageError("raise: event name %q %s", name, strings.Join(problems, "; "))
	}
	body, err := eventData(ctx, c, *data, *dataFile)
	if err != nil {
		return err
	}
	client, err := cf.newClient(ctx)
	if err != nil {
		return err
	}
	resp, err := client.do(ctx, http.MethodPost, monitorPath(id, "raiseEvent", name), nil, body, raisedShape)
	if err != nil {
		// The API calls the data the body.
		dataFlag := []flagField{{"data", "body", ""}}
		if *dataFile != "" {
			dataFlag[0].flag = "data-file"
		}
		return fmt.Errorf("raise %s %s: %w", id, name, nameFlags(err, dataFlag, nil))
	}
	if err := writeJSON(c.stdout, resp.Body); err != nil {
		return fmt.Errorf("raise %s %s: %w", id, name, err)
	}
	return nil
}

// eventData returns the data of raise's event: data (--data), or the
// content of dataFile (--data-file, "-" for standard input), nil for none.
// Data that is not JSON in UTF-8 is a usage error naming where it came
// from; blank data is none, as the API takes it.
func eventData(ctx context.Context, c *cli, data, dataFile string) ([]byte, error) {
	if data != "" && dataFile != "" {
		return nil, usageError("raise: give the event's data either with --data or with --data-file, not both")
	}
	b, source := []byte(data), "--data"
	if dataFile != "" {
		var err error
		if b, err = readRequestFile(ctx, c, dataFile, "the event data", monitor.MaxEventDataBytes); err != nil {
			return nil, err
		}
		source = dataFile
		if dataFile == "-" {
			source = "the event data on standard input"
		}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var v json.RawMessage // its syntax only: the API judges the values (1e999)
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, usageError("raise: %s is not JSON: %s%s", source, jsonProblem(b, err), inlineJSONHint(source == "--data", runtime.GOOS, "--data-file FILE"))
	}
	b = bytes.TrimSpace(b)
	if !utf8.Valid(b) {
		return nil, usageError("raise: %s is not UTF-8", source)
	}
	return b, nil
}

// list's retries of a page that failed in passing (see transient).
const (
	listRetries      = 5
	listMaxRetryWait = 30 * time.Second
)

// listBackoff is the wait before list's first retry when the answer asks
// for none; it doubles with each retry. Tests shorten it.
var listBackoff = time.Second

// listRetryWait is how long list waits before its retry'th retry (from 1):
// what the server asked for, else listBackoff doubled for each retry
// before; never more than listMaxRetryWait.
func listRetryWait(retry int, serverWait time.Duration) time.Duration {
	return retryDelay(retry, serverWait, listBackoff, listMaxRetryWait, listMaxRetryWait)
}

// getListPage gets one page of monitors, retrying a failure that passes
// (see transient) up to listRetries times with a note on stderr for each,
// so that one throttled page does not cost the whole listing. As watch
// does, no answer at all and another server's error (a proxy's 502 page,
// an empty 503) are retried only once the API has answered (answered): an
// endpoint that has never answered like the API fails at once.
func getListPage(ctx context.Context, client *apiClient, q url.Values, answered bool, stderr io.Writer) (*response, error) {
	for retry := 1; ; retry++ {
		resp, err := client.do(ctx, http.MethodGet, "/monitors", q, nil, listShape)
		if err == nil || ctx.Err() != nil {
			return resp, err
		}
		reason, serverWait, ok := transient(err)
		var te *transportError
		var ae *apiError
		notAPI := errors.As(err, &te) || (errors.As(err, &ae) && ae.pageType != "")
		if !ok || (!answered && notAPI) {
			return nil, err
		}
		if !notAPI {
			// The API's own error (its JSON 503): it has answered.
			answered = true
		}
		if retry > listRetries {
			return nil, fmt.Errorf("%w, still after %d retries", err, listRetries)
		}
		wait := listRetryWait(retry, serverWait)
		fmt.Fprintf(stderr, "stepmon: list: %s, retrying in %v (retry %d of %d)\n", reason, wait, retry, listRetries)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// inlineJSONHint is what an error for JSON given on the command line
// (inline) adds on Windows (goos), whose shells do not pass '...'
// quoting on as a Unix shell does (cmd keeps the quotes, Windows
// PowerShell 5.1 drops the double quotes inside them): to give the JSON
// in a file instead, with the flag or form instead. It is "" elsewhere,
// and for JSON that came from a file.
func inlineJSONHint(inline bool, goos, instead string) string {
	if !inline || goos != "windows" {
		return ""
	}
	return " (on Windows, cmd and PowerShell 5.1 do not pass JSON quoted on the command line as a Unix shell does: give it in a file, " + instead + ")"
}
