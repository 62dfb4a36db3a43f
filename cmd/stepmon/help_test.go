package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestHelp checks what the commands' -h says about behaviour that is easy
// to get wrong. The help goes to standard output, so that it can be piped
// to a pager or grep, with nothing on standard error.
func TestHelp(t *testing.T) {
	tests := []struct {
		cmd       string
		want      []string
		wantNotIn []string
	}{
		{cmd: "start", want: []string{
			"a GitHub open-issues monitor; it needs an alert flag (--phone, --webhook or --topic-arn)",
			"At most one alert flag",
			"the flags given are applied on top of it",
			"With --watch, start then follows the monitor as stepmon watch does (--every sets how often it polls), with its exit status, and standard output holds two JSON documents: the start answer, then the finished monitor's output.",
		}},
		{cmd: "serve", want: []string{
			"two SQLite databases under --data, stepmon.db and status.db: back them up together",
			"(env AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1)",
			"Ctrl-C or SIGTERM stops it gracefully",
		}, wantNotIn: []string{"live in a SQLite database"}},
		{cmd: "list", want: []string{"created before this RFC 3339 time (exclusive)"}, wantNotIn: []string{"at or before"}},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			res := runCLI(context.Background(), "http://127.0.0.1:1", tt.cmd, "-h")
			if res.code != 0 {
				t.Fatalf("%s -h: exit %d", tt.cmd, res.code)
			}
			if res.stderr != "" {
				t.Errorf("%s -h wrote to standard error:\n%s", tt.cmd, res.stderr)
			}
			help := strings.Join(strings.Fields(res.stdout), " ")
			for _, w := range tt.want {
				if !strings.Contains(help, w) {
					t.Errorf("%s -h does not say %q:\n%s", tt.cmd, w, res.stdout)
				}
			}
			for _, w := range tt.wantNotIn {
				if strings.Contains(help, w) {
					t.Errorf("%s -h says %q:\n%s", tt.cmd, w, res.stdout)
				}
			}
		})
	}
}

// TestHelpCommand: "stepmon help CMD" prints what "stepmon CMD -h" prints,
// on standard output, also for the hidden bench; "help" alone (or "help
// help", "help -h") the command list, and an unknown command is a usage
// error.
func TestHelpCommand(t *testing.T) {
	for _, args := range [][]string{{"start"}, {"raise"}, {"serve"}, {"asl"}, {"asl", "run"}, {"version"}, {"bench"}, {"bench", "load"}, {"bench", "fill"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want := runCLI(context.Background(), "http://127.0.0.1:1", append(args, "-h")...)
			got := runCLI(context.Background(), "http://127.0.0.1:1", append([]string{"help"}, args...)...)
			if got.code != 0 || got.stderr != "" || got.stdout != want.stdout || !strings.HasPrefix(got.stdout, "Usage: stepmon "+strings.Join(args, " ")) {
				t.Errorf("help %s: exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0 and the -h text on stdout:\n%s",
					strings.Join(args, " "), got.code, got.stdout, got.stderr, want.stdout)
			}
			for i, line := range strings.Split(got.stdout, "\n") {
				if strings.TrimRight(line, " \t") != line {
					t.Errorf("help %s: line %d ends in white space: %q", strings.Join(args, " "), i+1, line)
				}
			}
		})
	}
	// Odd arguments to help: help itself, -h, a flag name, and a flag
	// after the command, which must not take the -h as its value.
	for _, tt := range []struct{ help, same []string }{
		{[]string{"help"}, []string{"--help"}},
		{[]string{"help", "help"}, []string{"--help"}},
		{[]string{"help", "-h"}, []string{"--help"}},
		{[]string{"help", "--help"}, []string{"--help"}},
		{[]string{"help", "--version"}, []string{"version", "-h"}},
		{[]string{"help", "-version"}, []string{"version", "-h"}},
		{[]string{"help", "status", "--endpoint"}, []string{"status", "-h"}},
		{[]string{"help", "asl", "run", "--definition"}, []string{"asl", "run", "-h"}},
	} {
		t.Run(strings.Join(tt.help, " "), func(t *testing.T) {
			want := runCLI(context.Background(), "http://127.0.0.1:1", tt.same...)
			got := runCLI(context.Background(), "http://127.0.0.1:1", tt.help...)
			if want.code != 0 || !strings.Contains(want.stdout, "Usage") {
				t.Fatalf("%s: exit %d, stdout:\n%s\nwant help", strings.Join(tt.same, " "), want.code, want.stdout)
			}
			if got.code != 0 || got.stderr != "" || got.stdout != want.stdout {
				t.Errorf("%s: exit %d, stdout:\n%s\nstderr:\n%s\nwant exit 0 and what %s prints on stdout:\n%s",
					strings.Join(tt.help, " "), got.code, got.stdout, got.stderr, strings.Join(tt.same, " "), want.stdout)
			}
		})
	}
	res := runCLI(context.Background(), "http://127.0.0.1:1", "help", "bogus")
	if res.code != 2 || !strings.Contains(res.stderr, `unknown command "bogus"`) {
		t.Errorf("help bogus: exit %d, stderr %q; want exit 2 and unknown command", res.code, res.stderr)
	}
}

// TestBadFlag: a mistyped flag gets one line saying what is wrong, the
// flag written as the help writes it, and where the help is, with exit
// status 2, not the whole help. The flag package's own complaints said
// "parse error" for a value that is no number or boolean, and wrote the
// flag with one dash.
func TestBadFlag(t *testing.T) {
	tests := []struct {
		args     []string
		want     string
		endpoint string // STEPMON_ENDPOINT; "" means http://127.0.0.1:1
	}{
		{[]string{"start", "--bogus"}, "stepmon: start: unknown flag --bogus; run 'stepmon start -h' for its flags\n", ""},
		{[]string{"start", "--interval", "abc"}, "stepmon: start: --interval \"abc\": takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m; run 'stepmon start -h' for its flags\n", ""},
		{[]string{"start", "--timeout", "1.5s"}, "stepmon: start: --timeout \"1.5s\": takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m; 1.5s has a fraction of a second; run 'stepmon start -h' for its flags\n", ""},
		{[]string{"demo", "--interval", "2.5"}, "stepmon: demo: --interval \"2.5\": takes whole seconds, e.g. 30, or a duration of whole seconds such as 5m; 2.5 has a fraction of a second; run 'stepmon demo -h' for its flags\n", ""},
		{[]string{"serve", "--retention", "7d"}, "stepmon: serve: --retention \"7d\": takes a duration such as 5s, 2m or 168h, or whole seconds such as 30 (days are not a unit: write 7d as 168h); run 'stepmon serve -h' for its flags\n", ""},
		{[]string{"watch", "--every", "often", "m1"}, "stepmon: watch: --every \"often\": takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; run 'stepmon watch -h' for its flags\n", ""},
		{[]string{"watch", "x", "--http-timeout", "-1s"}, "stepmon: watch: --http-timeout \"-1s\": takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -1s is negative; run 'stepmon watch -h' for its flags\n", ""},
		{[]string{"watch", "x", "--every", "10000000000"}, "stepmon: watch: --every \"10000000000\": takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; 10000000000 is too large; run 'stepmon watch -h' for its flags\n", ""},
		{[]string{"watch", "x", "--every", "1ms"}, "stepmon: watch: --every must be at least 1s: a monitor checks at most once a second, and on AWS each poll is an API request and a function invocation; got 1ms\n", ""},
		{[]string{"watch", "x", "--every", "999ms"}, "stepmon: watch: --every must be at least 1s: a monitor checks at most once a second, and on AWS each poll is an API request and a function invocation; got 999ms\n", ""},
		{[]string{"serve", "--retention", "-5"}, "stepmon: serve: --retention \"-5\": takes a duration such as 5s, 2m or 168h, or whole seconds such as 30; -5 is negative; run 'stepmon serve -h' for its flags\n", ""},
		{[]string{"serve", "--bogus"}, "stepmon: serve: unknown flag --bogus; run 'stepmon serve -h' for its flags\n", ""},
		{[]string{"serve", "--express-max-events", "0"}, "stepmon: serve: --express-max-events must be positive; got 0\n", ""},
		{[]string{"serve", "--log-level", "verbose"}, "stepmon: serve: --log-level \"verbose\": want debug, info, warn or error\n", ""},
		{[]string{"asl", "run", "--bogus"}, "stepmon: asl run: unknown flag --bogus; run 'stepmon asl run -h' for its flags\n", ""},
		{[]string{"serve", "--express-max-events", "many"}, "stepmon: serve: --express-max-events \"many\": want a whole number; run 'stepmon serve -h' for its flags\n", ""},
		{[]string{"serve", "--express-max-events", "99999999999999999999"}, "stepmon: serve: --express-max-events \"99999999999999999999\": value out of range; run 'stepmon serve -h' for its flags\n", ""},
		{[]string{"serve", "--fsync=maybe"}, "stepmon: serve: --fsync \"maybe\": want true or false; run 'stepmon serve -h' for its flags\n", ""},
		{[]string{"status", "m1", "--sigv4=yes"}, "stepmon: status: --sigv4 \"yes\": want true or false; run 'stepmon status -h' for its flags\n", ""},
		{[]string{"serve", "--addr"}, "stepmon: serve: --addr needs a value; run 'stepmon serve -h' for its flags\n", ""},
		{[]string{"start", "---job-id", "j"}, "stepmon: start: bad flag syntax: ---job-id; run 'stepmon start -h' for its flags\n", ""},
		{[]string{"asl", "run", "--history=often", "x.json"}, "stepmon: asl run: --history \"often\": want true or false; run 'stepmon asl run -h' for its flags\n", ""},
		{[]string{"asl", "validate", "--bogus"}, "stepmon: asl validate: unknown flag --bogus; run 'stepmon asl validate -h' for its usage\n", ""},
		// A slip names the flag it is likely for, as for a command.
		{[]string{"start", "--jobid", "j"}, "stepmon: start: unknown flag --jobid (did you mean --job-id?); run 'stepmon start -h' for its flags\n", ""},
		{[]string{"start", "--job_id", "j"}, "stepmon: start: unknown flag --job_id (did you mean --job-id?); run 'stepmon start -h' for its flags\n", ""},
		{[]string{"list", "--stauts", "Running"}, "stepmon: list: unknown flag --stauts (did you mean --status?); run 'stepmon list -h' for its flags\n", ""},
		{[]string{"asl", "run"}, "stepmon: asl run: a definition is required (--definition FILE or the first argument); run 'stepmon asl run -h' for its flags\n", ""},
		{[]string{"status", "m1"}, "stepmon: status: STEPMON_ENDPOINT \"localhost:8080\" is not an http(s) URL; did you mean \"http://localhost:8080\"?\n", "localhost:8080"},
		{[]string{"status", "--endpoint", "ftp://x", "m1"}, "stepmon: status: --endpoint \"ftp://x\" is not an http(s) URL\n", "localhost:8080"},
		{[]string{"status", "--endpoint", "http://127.0.0.1:8080/?stage=v1", "m1"}, "stepmon: status: --endpoint \"http://127.0.0.1:8080/?xxxxx\" has a query or a fragment: give a base URL, without ? or #\n", ""},
		{[]string{"list"}, "stepmon: list: STEPMON_ENDPOINT \"http://127.0.0.1:8080#xxxxx\" has a query or a fragment: give a base URL, without ? or #\n", "http://127.0.0.1:8080#v1"},
		{[]string{"status", "--endpoint", "http://127.0.0.1:8080/v1?", "m1"}, "stepmon: status: --endpoint \"http://127.0.0.1:8080/v1?\" has a query or a fragment: give a base URL, without ? or #\n", ""},
		{[]string{"start", "--id", "only-id"}, "stepmon: start: say what to monitor: --job-id, --repo, --url, or a body file (see stepmon start -h)\n", ""},
		{[]string{"start", "--job-id", "j", "--id", ""}, "stepmon: start: --id must not be empty: leave it out for an id the API generates\n", ""},
		{[]string{"start", "--id=", "--job-id", "j"}, "stepmon: start: --id must not be empty: leave it out for an id the API generates\n", ""},
		{[]string{"start", "--job-id", ""}, "stepmon: start: --job-id must not be empty\n", ""},
		{[]string{"start", "--job-id", "", "--id", "j1"}, "stepmon: start: --job-id must not be empty\n", ""},
		// An empty target ("$JOB_URL" unset) is no simulated job.
		{[]string{"start", "--job-id", "j", "--url", ""}, "stepmon: start: --url must not be empty: leave it out for a simulated job\n", ""},
		{[]string{"start", "--repo=", "--phone", "+14255550100"}, "stepmon: start: --repo must not be empty: leave it out for a simulated job\n", ""},
		// An empty filter ("$CUTOFF" unset) is no list of every monitor.
		{[]string{"list", "--status", "Running", "--to", ""}, "stepmon: list: --to must not be empty: leave it out for no such filter\n", ""},
		{[]string{"list", "--status", " , "}, "stepmon: list: --status must not be empty: leave it out for no such filter\n", ""},
		// An endpoint's password is not shown.
		{[]string{"status", "--endpoint", "http://u:supersecret@127.0.0.1:8080/?x=1", "m1"},
			"stepmon: status: --endpoint \"http://u:xxxxx@127.0.0.1:8080/?xxxxx\" has a query or a fragment: give a base URL, without ? or #\n", ""},
		{[]string{"status", "m1"}, "stepmon: status: STEPMON_ENDPOINT \"(not shown: it may hold a password)\" is not an http(s) URL\n",
			"http://u:supersecret@127.0.0.1:8080/%zz"},
		{[]string{"list", "--from", "2026-01-01"}, "stepmon: list: --from must be an RFC 3339 time such as 2026-01-02T15:04:05Z; got \"2026-01-01\"\n", ""},
		// RFC 3339 lets T and Z be lower case: read, then compared.
		{[]string{"list", "--from", "2026-02-01t00:00:00z", "--to", "2026-01-01T00:00:00Z"}, "stepmon: list: --from must not be after --to\n", ""},
		{[]string{"list", "--from", "0000-01-01T00:30:00+01:00"}, "stepmon: list: --from must be a time from year 0000 to 9999 in UTC; got \"0000-01-01T00:30:00+01:00\"\n", ""},
		{[]string{"list", "--to", "9999-12-31T23:30:00-01:00"}, "stepmon: list: --to must be a time from year 0000 to 9999 in UTC; got \"9999-12-31T23:30:00-01:00\"\n", ""},
		{[]string{"list", "--status", "Running,Sleeping", "--top", "-1", "--from", "2026-02-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z"},
			"stepmon: list: --top must be 0 (all) or more; got -1; --status must be a comma-separated list of Pending, Running, Completed, Failed, Terminated; got \"Sleeping\"; --from must not be after --to\n", ""},
		{[]string{"demo", "--interval", "0"}, "stepmon: demo: --interval must be between 1 and 86400 seconds\n", ""},
		{[]string{"demo", "--checks", "-1", "--timeout", "0"}, "stepmon: demo: --checks must be between 1 and 1000; --timeout must be between 1 and 31536000 seconds (one year)\n", ""},
		{[]string{"start", "a.json", "b.json"}, "stepmon: start takes at most one argument, the body file; got [\"a.json\" \"b.json\"]\n", ""},
		{[]string{"start", "a.json", "--file", "b.json"}, "stepmon: start: give the body either as an argument or with --file, not both\n", ""},
		{[]string{"status", "m1", "m2"}, "stepmon: status takes one instance id; got [\"m1\" \"m2\"] (see stepmon status -h)\n", ""},
		{[]string{"purge", "m1", "--", "m2"}, "stepmon: purge takes one instance id; got [\"m1\" \"m2\"] (see stepmon purge -h)\n", ""},
		{[]string{"watch"}, "stepmon: watch needs an instance id (see stepmon watch -h)\n", ""},
		{[]string{"status", ""}, "stepmon: status needs an instance id; got an empty one\n", ""},
		// Words after a terminate's id: likely its reason.
		{[]string{"terminate", "jw", "not", "needed"}, "stepmon: terminate takes one instance id; got [\"jw\" \"not\" \"needed\"]; a reason goes in --reason: stepmon terminate jw --reason 'not needed'\n", ""},
		// An id that begins with '-' goes after "--", and so does it in
		// the hint; a --reason after the "--" is the flag, not its value
		// (the hint was "terminate -dash --reason '--reason x'", itself
		// refused: unknown flag --dash).
		{[]string{"terminate", "--", "-dash", "--reason", "x"}, "stepmon: terminate takes one instance id; got [\"-dash\" \"--reason\" \"x\"]; a reason goes in --reason: stepmon terminate --reason x -- -dash\n", ""},
		{[]string{"terminate", "--", "jw", "--reason=not", "needed"}, "stepmon: terminate takes one instance id; got [\"jw\" \"--reason=not\" \"needed\"]; a reason goes in --reason: stepmon terminate jw --reason 'not needed'\n", ""},
		{[]string{"status", "-dash"}, "stepmon: status: unknown flag --dash (an instance id that begins with \"-\" goes after \"--\": stepmon status -- -dash); run 'stepmon status -h' for its flags\n", ""},
		{[]string{"list", "-dash"}, "stepmon: list: unknown flag --dash; run 'stepmon list -h' for its flags\n", ""},
		{[]string{"purge", "--x1"}, "stepmon: purge: unknown flag --x1 (an instance id that begins with \"-\" goes after \"--\": stepmon purge -- --x1); run 'stepmon purge -h' for its flags\n", ""},
		{[]string{"raise", "m1", "setInterval", "--data", `{"pollingIntervalSeconds": 30} x`}, "stepmon: raise: --data is not JSON: trailing data after the JSON value (line 1, column 32)\n", ""},
		// Words after a raise's event name: likely its data.
		{[]string{"raise", "gz1", "setInterval", `{"pollingIntervalSeconds":30}`}, "stepmon: raise takes an instance id and an event name; got [\"gz1\" \"setInterval\" \"{\\\"pollingIntervalSeconds\\\":30}\"]; the event's data goes in --data: stepmon raise gz1 setInterval --data '{\"pollingIntervalSeconds\":30}'\n", ""},
		{[]string{"raise", "m1", "note", "extra", "--data", "{}"}, "stepmon: raise takes an instance id and an event name; got [\"m1\" \"note\" \"extra\"] (the event's data is --data's or --data-file's)\n", ""},
		{[]string{"raise", "--", "-g", "note", "a", "b"}, "stepmon: raise takes an instance id and an event name; got [\"-g\" \"note\" \"a\" \"b\"]; the event's data goes in --data: stepmon raise --data 'a b' -- -g note\n", ""},
		// A flag before the command, as other tools take global flags: the
		// line with the command first, not the whole usage and "unknown
		// command".
		{[]string{"--endpoint", "http://127.0.0.1:8080", "status", "m1"}, "stepmon: flags follow the command: stepmon status --endpoint http://127.0.0.1:8080 m1\n", ""},
		{[]string{"--api-key", "it's", "start", "--job-id", "j 1"}, "stepmon: flags follow the command: stepmon start --api-key 'it'\\''s' --job-id 'j 1'\n", ""},
		{[]string{"-x"}, "stepmon: -x before any command: the command comes first, then its flags (stepmon COMMAND [flags]); run 'stepmon help' for the commands\n", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			endpoint := tt.endpoint
			if endpoint == "" {
				endpoint = "http://127.0.0.1:1"
			}
			res := runCLI(context.Background(), endpoint, tt.args...)
			if res.code != 2 || res.stderr != tt.want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2, stderr:\n%s", res.code, res.stderr, tt.want)
			}
		})
	}
}

// --sigv4 against a host that names no region, with none configured, is a
// usage error that names every way to give one.
func TestSigV4NeedsRegion(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")
	res := runCLI(context.Background(), "http://127.0.0.1:1", "status", "--sigv4", "m1")
	want := "stepmon: status: SigV4 needs a region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or name one in the AWS config file\n"
	if res.code != 2 || res.stderr != want {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2, stderr:\n%s", res.code, res.stderr, want)
	}
}

// TestDocListsTheCommands: the package documentation (go doc) lists the
// same commands, with the same summaries, as "stepmon help".
func TestDocListsTheCommands(t *testing.T) {
	res := runCLI(context.Background(), "http://127.0.0.1:1", "help")
	if res.code != 0 {
		t.Fatalf("help: exit %d", res.code)
	}
	out := res.stdout + res.stderr
	_, after, ok := strings.Cut(out, "Commands:\n")
	if !ok {
		t.Fatalf("help has no Commands section:\n%s", out)
	}
	help, _, _ := strings.Cut(after, "\n\n")
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok = strings.Cut(string(doc), "// The commands:\n//\n")
	if !ok {
		t.Fatal("doc.go has no command list")
	}
	list, _, _ := strings.Cut(after, "\n//\n")
	var want []string
	for _, l := range strings.Split(list, "\n") {
		want = append(want, strings.TrimPrefix(l, "//\t"))
	}
	var got []string
	for _, l := range strings.Split(help, "\n") {
		got = append(got, strings.TrimPrefix(l, "  "))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stepmon help lists:\n%s\ndoc.go lists:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// runCLIEnv runs stepmon with args and the environment env, as main does.
func runCLIEnv(ctx context.Context, env map[string]string, args ...string) cliResult {
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, func(k string) string { return env[k] }, bytes.NewReader(nil), &stdout, &stderr)
	code := exitCode(err, &stderr)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// TestHelpHidesSecrets: the help of every client command, by -h and by
// "help CMD", never prints the API key of STEPMON_API_KEY nor the password
// of a STEPMON_ENDPOINT URL, though both are the flags' defaults; it says
// where the key comes from.
func TestHelpHidesSecrets(t *testing.T) {
	env := map[string]string{
		"STEPMON_API_KEY":  "SUPERSECRETKEY123",
		"STEPMON_ENDPOINT": "http://bob:hunter2pass@127.0.0.1:1/v1",
	}
	for _, cmd := range []string{"start", "status", "watch", "list", "terminate", "raise", "purge"} {
		for _, args := range [][]string{{cmd, "-h"}, {"help", cmd}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				res := runCLIEnv(context.Background(), env, args...)
				if res.code != 0 {
					t.Fatalf("exit %d; stderr: %s", res.code, res.stderr)
				}
				for _, secret := range []string{"SUPERSECRETKEY123", "hunter2pass"} {
					if strings.Contains(res.stdout+res.stderr, secret) {
						t.Errorf("the help shows %q:\n%s", secret, res.stdout)
					}
				}
				help := strings.Join(strings.Fields(res.stdout), " ")
				for _, want := range []string{"set from STEPMON_API_KEY", "http://bob:xxxxx@127.0.0.1:1/v1"} {
					if !strings.Contains(help, want) {
						t.Errorf("the help does not say %q:\n%s", want, res.stdout)
					}
				}
			})
		}
	}
}

// TestEndpointSource: a wrong endpoint is blamed on where it came from:
// --endpoint when it was given, also empty, else STEPMON_ENDPOINT.
func TestEndpointSource(t *testing.T) {
	tests := []struct {
		env  string // STEPMON_ENDPOINT
		args []string
		want string
	}{
		{"", []string{"status", "--endpoint", "", "m1"}, "stepmon: status: --endpoint \"\" is not an http(s) URL\n"},
		{"", []string{"status", "--endpoint=", "m1"}, "stepmon: status: --endpoint \"\" is not an http(s) URL\n"},
		{"http://127.0.0.1:1", []string{"status", "--endpoint", "", "m1"}, "stepmon: status: --endpoint \"\" is not an http(s) URL\n"},
		{"localhost:1", []string{"status", "--endpoint", "localhost:1", "m1"}, "stepmon: status: --endpoint \"localhost:1\" is not an http(s) URL; did you mean \"http://localhost:1\"?\n"},
		{"localhost:1", []string{"status", "m1"}, "stepmon: status: STEPMON_ENDPOINT \"localhost:1\" is not an http(s) URL; did you mean \"http://localhost:1\"?\n"},
		{"", []string{"status", "--endpoint", "127.0.0.1:8080", "m1"}, "stepmon: status: --endpoint \"127.0.0.1:8080\" is not an http(s) URL; did you mean \"http://127.0.0.1:8080\"?\n"},
		{"", []string{"status", "--endpoint", "abc.execute-api.us-east-1.amazonaws.com:443", "m1"}, "stepmon: status: --endpoint \"abc.execute-api.us-east-1.amazonaws.com:443\" is not an http(s) URL; did you mean \"https://abc.execute-api.us-east-1.amazonaws.com:443\"?\n"},
	}
	for _, tt := range tests {
		t.Run(tt.env+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			res := runCLIEnv(context.Background(), map[string]string{"STEPMON_ENDPOINT": tt.env}, tt.args...)
			if res.code != 2 || res.stderr != tt.want {
				t.Errorf("exit %d, stderr %q; want exit 2, %q", res.code, res.stderr, tt.want)
			}
		})
	}
}

// TestHelpNotWritten: help and version output that cannot be written (a
// full disk, "stepmon help > /dev/full") fail with exit status 1 and a
// message on standard error, however the help was asked for.
func TestHelpNotWritten(t *testing.T) {
	const noSpace = "no space left on device"
	tests := []struct {
		args []string
		want string // standard error
	}{
		{[]string{"help"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"--help"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"help", "start"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"status", "-h"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"raise", "--help"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"serve", "-h"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"asl", "-h"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"help", "asl", "run"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"asl", "validate", "-h"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"bench", "-h"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"help", "bench", "load"}, "stepmon: write help: " + noSpace + "\n"},
		{[]string{"version"}, "stepmon: version: write output: " + noSpace + "\n"},
		{[]string{"--version"}, "stepmon: version: write output: " + noSpace + "\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			err := run(context.Background(), tt.args, func(string) string { return "" }, bytes.NewReader(nil), fullWriter{}, &stderr)
			code := exitCode(err, &stderr)
			got := stderr.String()
			if code != 1 || got != tt.want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1, stderr:\n%s", code, got, tt.want)
			}
		})
	}
}

// TestExitStatusesDocumented: the exit statuses that scripts tell apart
// are the numbers the help and docs/local.md give them.
func TestExitStatusesDocumented(t *testing.T) {
	var help bytes.Buffer
	usage(&help)
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "local.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		code       int
		help, docs string // the start of its line in each
	}{
		{exitUsage, "a wrong command line", "a wrong command line"},
		{exitNotReached, "watch, start --watch: the monitor ended without reaching its goal", "`watch`, `start --watch`: the monitor ended without reaching its goal"},
		{exitNotFound, "no such monitor (the API answered 404)", "no such monitor: the API answered 404"},
		{exitConflict, "the monitor's state refuses the request (409, 410)", "the monitor's state refuses the request, the API answered 409 or 410"},
	} {
		if want := fmt.Sprintf("\n  %-4d %s", tt.code, tt.help); !strings.Contains(help.String(), want) {
			t.Errorf("the help does not list exit status %d as %q:\n%s", tt.code, tt.help, help.String())
		}
		if want := fmt.Sprintf("\n  | %d | %s", tt.code, tt.docs); !strings.Contains(string(doc), want) {
			t.Errorf("docs/local.md does not list exit status %d as %q", tt.code, tt.docs)
		}
	}
}

// TestProfileSourceMissing: a --profile that exists but names a
// source_profile that does not is not refused as a missing --profile:
// the SDK's message names the missing one.
func TestProfileSourceMissing(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("[profile alt]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = ghost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"AWS_CONFIG_FILE": config, "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	res := runCLI(t.Context(), "http://127.0.0.1:1", "status", "m1", "--sigv4", "--region", "eu-west-1", "--profile", "alt")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "stepmon: status: load AWS credentials for SigV4: ") || !strings.Contains(res.stderr, "ghost") ||
		strings.Contains(res.stderr, "names no profile") {
		t.Errorf("exit %d, stderr %q; want exit 1 and the SDK's message about profile ghost", res.code, res.stderr)
	}
}

// TestFlagSetUsage: a command's help is its usage line, its description
// and, when it has any, its flags, all on standard output.
func TestFlagSetUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := &cli{stdout: &stdout, stderr: &stderr}
	fs := newFlagSet(c, "x", "[flags] ID", "Does x.")
	fs.String("only", "", "the one `flag`")
	fs.Usage()
	if want := "Usage: stepmon x [flags] ID\n\nDoes x.\n\nFlags:\n  -only flag\n    \tthe one flag\n"; stdout.String() != want || stderr.Len() != 0 {
		t.Errorf("one flag: stdout %q, stderr %q; want stdout %q", stdout.String(), stderr.String(), want)
	}
	stdout.Reset()
	newFlagSet(c, "y", "", "Does y.").Usage()
	if want := "Usage: stepmon y\n\nDoes y.\n"; stdout.String() != want {
		t.Errorf("no flags: stdout %q, want %q", stdout.String(), want)
	}
}

// TestInterruptedStatus: a command cut short by a signal exits with the
// shell's status for it, 130 when no signal says otherwise (a canceled
// context in tests).
func TestInterruptedStatus(t *testing.T) {
	for _, tt := range []struct {
		cause error
		want  int
	}{
		{signalReceived{syscall.SIGTERM}, 143},
		{signalReceived{syscall.SIGHUP}, 129},
		{signalReceived{os.Interrupt}, 130},
		{nil, 130},
	} {
		ctx, cancel := context.WithCancelCause(t.Context())
		cancel(tt.cause)
		var ee *exitError
		if err := interrupted(ctx); !errors.As(err, &ee) || ee.code != tt.want || !errors.Is(err, errReported) {
			t.Errorf("cause %v: %v, want exit status %d with nothing to print", tt.cause, err, tt.want)
		}
	}
}

// TestTopLevelUsage: the command list is the output of a request for it
// (-h, -help, --help: exit status 0, on standard output); without a
// command it goes to standard error with exit status 2. An unknown
// command is one line, exit status 2. -version and --version are the
// version command.
// TestUnknownCommand: a command line whose command is a slip gets one
// line naming the commands it likely meant: an abbreviation, a typo, a
// capital; none when nothing is close or too many are.
func TestUnknownCommand(t *testing.T) {
	tests := []struct{ args, want string }{
		{"stat m1", `unknown command "stat" (did you mean status or start?)`},
		{"stauts m1", `unknown command "stauts" (did you mean status or start?)`},
		{"Status m1", `unknown command "Status" (did you mean status?)`},
		{"term m1", `unknown command "term" (did you mean terminate?)`},
		{"versoin", `unknown command "versoin" (did you mean version?)`},
		{"help purg", `unknown command "purg" (did you mean purge?)`},
		{"s", `unknown command "s";`},         // serve, start, status: too many
		{"benc", `unknown command "benc";`},   // bench is not listed
		{"xyzzy", `unknown command "xyzzy";`}, // nothing close
		{strings.Repeat("a", 50), `unknown command "` + strings.Repeat("a", 37) + `…";`},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res := runCLI(context.Background(), "http://127.0.0.1:1", strings.Fields(tt.args)...)
			want := "stepmon: " + tt.want
			if res.code != 2 || !strings.HasPrefix(res.stderr, want) || strings.Count(res.stderr, "\n") != 1 ||
				!strings.HasSuffix(res.stderr, "; run 'stepmon help' for the commands\n") {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line starting %q", res.code, res.stderr, want)
			}
		})
	}
}

func TestTopLevelUsage(t *testing.T) {
	var list bytes.Buffer
	usage(&list)
	tests := []struct {
		args            []string
		code            int
		stdout, stderr  string
		stdoutHasPrefix string
	}{
		{args: []string{"-h"}, stdout: list.String()},
		{args: []string{"-help"}, stdout: list.String()},
		{args: []string{"--help"}, stdout: list.String()},
		{args: nil, code: 2, stderr: list.String()},
		{args: []string{"bogus"}, code: 2, stderr: "stepmon: unknown command \"bogus\"; run 'stepmon help' for the commands\n"},
		{args: []string{"-version"}, stdoutHasPrefix: "stepmon "},
		{args: []string{"--version"}, stdoutHasPrefix: "stepmon "},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := runCLI(context.Background(), "http://127.0.0.1:1", tt.args...)
			stdoutOK := res.stdout == tt.stdout
			if tt.stdoutHasPrefix != "" {
				stdoutOK = strings.HasPrefix(res.stdout, tt.stdoutHasPrefix)
			}
			if res.code != tt.code || !stdoutOK || res.stderr != tt.stderr {
				t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant exit %d, stdout %q (or starting %q), stderr:\n%s",
					res.code, res.stdout, res.stderr, tt.code, tt.stdout, tt.stdoutHasPrefix, tt.stderr)
			}
		})
	}
}

// A signed request sent over plain http warns: the session token goes in
// clear (an execute-api host signed by default, or --sigv4 to another),
// except to this machine.
func TestSigV4OverPlainHTTP(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDPLAIN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "plainsecret")
	t.Setenv("AWS_REGION", "eu-west-1")
	// 192.0.2.1 (TEST-NET-1) answers nothing: the warning comes before
	// the request, which --http-timeout ends.
	res := runCLI(context.Background(), "http://192.0.2.1:9", "status", "m1", "--sigv4", "--http-timeout", "100ms")
	if !strings.Contains(res.stderr, "stepmon: warning: requests to 192.0.2.1 are signed but sent over plain http") {
		t.Errorf("--sigv4 over http to another host: stderr %q, want the warning", res.stderr)
	}
	res = runCLI(context.Background(), "http://127.0.0.1:1", "status", "m1", "--sigv4")
	if strings.Contains(res.stderr, "plain http") {
		t.Errorf("--sigv4 over http to this machine: stderr %q, want no warning", res.stderr)
	}
}

// An API key or an endpoint's password sent over plain http warns too:
// unlike a signature, it stays good until it is revoked. Not to this
// machine, and never showing the secret.
func TestSecretOverPlainHTTP(t *testing.T) {
	for _, tt := range []struct {
		name, endpoint string
		args           []string
		want           string // "" for no warning
	}{
		{"API key", "http://192.0.2.1:9", []string{"--api-key", "SECRETAPIKEY"}, "stepmon: warning: requests to 192.0.2.1 carry the API key but are sent over plain http"},
		{"password", "http://u:SECRETPW@192.0.2.1:9", nil, "stepmon: warning: requests to 192.0.2.1 carry the endpoint's password but are sent over plain http"},
		{"API key to this machine", "http://127.0.0.1:1", []string{"--api-key", "SECRETAPIKEY"}, ""},
		{"API key over https", "https://192.0.2.1:9", []string{"--api-key", "SECRETAPIKEY"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// 192.0.2.1 (TEST-NET-1) answers nothing: the warning comes
			// before the request, which --http-timeout ends.
			res := runCLI(context.Background(), tt.endpoint, append([]string{"status", "m1", "--http-timeout", "100ms"}, tt.args...)...)
			if tt.want != "" && !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr %q, want the warning %q", res.stderr, tt.want)
			}
			if tt.want == "" && strings.Contains(res.stderr, "warning") {
				t.Errorf("stderr %q, want no warning", res.stderr)
			}
			if strings.Contains(res.stderr, "SECRET") {
				t.Errorf("stderr %q shows the secret", res.stderr)
			}
		})
	}
}
