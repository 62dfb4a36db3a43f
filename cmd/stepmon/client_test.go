package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"flag"
	"fmt"
	"go/ast"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stepmon/stepmon/internal/local"
	"github.com/stepmon/stepmon/internal/testtool"
)

// testRuntime is the local runtime serving in this process.
type testRuntime struct {
	rt   *local.Runtime
	errc chan error
}

// startRuntime starts the local runtime in-process on addr ("127.0.0.1:0"
// for a free port) with its data in dir, and stops it when the test ends.
func startRuntime(t testing.TB, addr, dir string) *testRuntime {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// GitHub checks fail at once: the tests run offline.
	rt, err := local.New(context.Background(), local.Config{Addr: addr, DataDir: dir, Logger: logger,
		GitHubAPIURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatalf("local.New: %v", err)
	}
	r := &testRuntime{rt: rt, errc: make(chan error, 1)}
	go func() { r.errc <- rt.Serve(context.Background()) }()
	t.Cleanup(r.stop)
	return r
}

// url is the runtime's base URL.
func (r *testRuntime) url() string { return r.rt.URL() }

// stop shuts the runtime down; it may be called more than once.
func (r *testRuntime) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.rt.Shutdown(ctx)
	if r.errc != nil {
		<-r.errc
		r.errc = nil
	}
}

// cliResult is what one run of the stepmon command did.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs stepmon with args against endpoint, as main does.
func runCLI(ctx context.Context, endpoint string, args ...string) cliResult {
	return runCLIInput(ctx, endpoint, "", args...)
}

// mustRunCLI runs each of cmds, command lines of stepmon, against
// endpoint in turn, and fails the test unless each exits 0: a test's
// set-up.
func mustRunCLI(t testing.TB, endpoint string, cmds ...[]string) {
	t.Helper()
	for _, args := range cmds {
		if r := runCLI(t.Context(), endpoint, args...); r.code != 0 {
			t.Fatalf("%s: exit %d; stderr: %s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// startRunningAndGone starts two monitors with the stepmon command at
// endpoint: prefix-running, which checks once an hour, and prefix-gone,
// which it then terminates.
func startRunningAndGone(t testing.TB, endpoint, prefix string) {
	t.Helper()
	mustRunCLI(t, endpoint,
		[]string{"start", "--job-id", "running", "--id", prefix + "-running", "--interval", "3600"},
		[]string{"start", "--job-id", "gone", "--id", prefix + "-gone", "--interval", "3600"},
		[]string{"terminate", prefix + "-gone"})
}

// writeTestFile writes body to the file name in dir and returns its path.
func writeTestFile(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runCLIInput is runCLI with stdin as the command's standard input.
func runCLIInput(ctx context.Context, endpoint, stdin string, args ...string) cliResult {
	var stderr bytes.Buffer
	stdout, code := runCLIFrom(ctx, endpoint, strings.NewReader(stdin), &stderr, args...)
	return cliResult{stdout: stdout, stderr: stderr.String(), code: code}
}

// runCLITo is runCLI with the command's stderr written to stderr as it
// runs; it returns the command's stdout and exit status.
func runCLITo(ctx context.Context, endpoint string, stderr io.Writer, args ...string) (string, int) {
	return runCLIFrom(ctx, endpoint, strings.NewReader(""), stderr, args...)
}

// runCLIFrom is runCLITo with stdin as the command's standard input.
func runCLIFrom(ctx context.Context, endpoint string, stdin io.Reader, stderr io.Writer, args ...string) (string, int) {
	var stdout bytes.Buffer
	getenv := func(k string) string {
		if k == "STEPMON_ENDPOINT" {
			return endpoint
		}
		return ""
	}
	err := run(ctx, args, getenv, stdin, &stdout, stderr)
	return stdout.String(), exitCode(err, stderr)
}

// startJobMonitors starts n simulated job monitors named prefix-00000... that
// check every interval seconds and complete on check checks, with the
// 16 workers of bench's startMonitors.
func startJobMonitors(t testing.TB, base, prefix string, n, interval, checks int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	client, err := loopbackClient(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	err = startMonitors(t.Context(), client, n, 16, func(i int) map[string]any {
		return map[string]any{
			"instanceId":             ids[i],
			"target":                 map[string]any{"type": "simulated", "completeAfterChecks": checks},
			"pollingIntervalSeconds": interval,
			"timeoutSeconds":         3600,
		}
	})
	if err != nil {
		t.Fatalf("start the %s-* monitors: %v", prefix, err)
	}
	return ids
}

// A command against an endpoint where nothing listens says so once, with
// the request, the cause and what to do, and fails with exit code 1.
func TestNothingListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	r := runCLI(t.Context(), endpoint, "status", "m1")
	want := "stepmon: status m1: GET " + endpoint + "/monitors/m1: dial tcp " + ln.Addr().String() + ": connect: connection refused" +
		" (nothing listens there: start `stepmon serve`, or give the API's URL with --endpoint or STEPMON_ENDPOINT)\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1, stderr:\n%s", r.code, r.stderr, want)
	}
}

// TestNotTheAPI runs the client commands against servers that are not the
// monitor API: one answering every request with a web page, one with
// "{}", and ones answering errors with web pages. Each command fails with
// exit status 1 and a message that names the request and says what came
// back, never printing the answer as if it were the API's.
func TestNotTheAPI(t *testing.T) {
	serve := func(status int, contentType, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	const page = "<!DOCTYPE html>\n<html><head><title>It works!</title></head><body>" +
		"<p>This is the default web page for this server.</p></body></html>"
	html := serve(http.StatusOK, "text/html; charset=utf-8", page)
	empty := serve(http.StatusOK, "application/json", "{}")
	notFound := serve(http.StatusNotFound, "text/html", page)
	notImplemented := serve(http.StatusNotImplemented, "text/html", page)
	plainNotFound := serve(http.StatusNotFound, "text/plain; charset=utf-8", "404 page not found\n")
	emptyError := serve(http.StatusBadGateway, "", "")
	otherJSON := serve(http.StatusNotFound, "application/json", `{"nf":1}`)
	gatewayJSON := serve(http.StatusForbidden, "application/json", `{"Message":"User: x is not authorized"}`)
	// An XHTML page whose byte order mark hides its "<" is a web page by
	// its content type.
	xhtml := serve(http.StatusNotFound, "application/xhtml+xml", "\ufeff<p>This is the default web page</p>")
	// A page is a page by its first non-space byte too, whatever its
	// content type says, or when there is none.
	indentedPage := serve(http.StatusNotFound, "text/plain", "\n  <p>This is the default web page</p>")
	untypedPage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // no sniffed text/html either
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<p>This is the default web page</p>")
	}))
	t.Cleanup(untypedPage.Close)
	oneByte := serve(http.StatusOK, "text/plain", "x")
	emptyStrings := serve(http.StatusOK, "application/json", `{"id":"","statusQueryGetUri":"","instanceId":"","runtimeStatus":"","eventName":""}`)

	tests := []struct {
		server   string
		endpoint string
		args     []string
		want     []string // in standard error
	}{
		{"html page", html, []string{"start", "--job-id", "j"}, []string{"POST " + html + "/monitors did not answer like the stepmon monitor API", "HTTP 200, text/html", `"<!DOCTYPE html>`}},
		{"html page", html, []string{"status", "x"}, []string{"GET " + html + "/monitors/x did not answer like the stepmon monitor API", "text/html"}},
		{"html page", html, []string{"watch", "x"}, []string{"GET " + html + "/monitors/x did not answer like the stepmon monitor API"}},
		{"html page", html, []string{"list"}, []string{"GET " + html + "/monitors?top=1000 did not answer like the stepmon monitor API"}},
		{"html page", html, []string{"terminate", "x"}, []string{"POST " + html + "/monitors/x/terminate did not answer like the stepmon monitor API", "text/html"}},
		{"html page", html, []string{"purge", "x"}, []string{"DELETE " + html + "/monitors/x did not answer like the stepmon monitor API", "text/html"}},
		{"html page", html, []string{"raise", "x", "complete"}, []string{"POST " + html + "/monitors/x/raiseEvent/complete did not answer like the stepmon monitor API", "text/html"}},
		{"empty object", empty, []string{"start", "--job-id", "j"}, []string{"POST " + empty + "/monitors did not answer like the stepmon monitor API", `application/json, "{}"`, "id and statusQueryGetUri"}},
		{"empty object", empty, []string{"status", "x"}, []string{"GET " + empty + "/monitors/x did not answer like the stepmon monitor API", `"{}"`, "instanceId and runtimeStatus"}},
		{"empty object", empty, []string{"watch", "x"}, []string{"GET " + empty + "/monitors/x did not answer like the stepmon monitor API", "instanceId and runtimeStatus"}},
		{"empty object", empty, []string{"list"}, []string{"did not answer like the stepmon monitor API", "monitors (an array)"}},
		{"empty object", empty, []string{"terminate", "x"}, []string{"did not answer like the stepmon monitor API", "instanceId and runtimeStatus"}},
		{"empty object", empty, []string{"purge", "x"}, []string{"did not answer like the stepmon monitor API", "instancesDeleted (a number)"}},
		{"empty object", empty, []string{"raise", "x", "complete"}, []string{"did not answer like the stepmon monitor API", "instanceId and eventName"}},
		{"404 page", notFound, []string{"status", "x"}, []string{"HTTP 404 from GET " + notFound + "/monitors/x (text/html, not the monitor API's JSON error)"}},
		{"404 page", notFound, []string{"start", "--job-id", "j"}, []string{"HTTP 404 from POST " + notFound + "/monitors (text/html, not the monitor API's JSON error)"}},
		{"501 page", notImplemented, []string{"purge", "x"}, []string{"HTTP 501 from DELETE " + notImplemented + "/monitors/x (text/html, not the monitor API's JSON error)"}},
		{"plain 404", plainNotFound, []string{"status", "x"}, []string{"HTTP 404 from GET " + plainNotFound + `/monitors/x (text/plain "404 page not found\n", not the monitor API's JSON error)`}},
		// JSON that is not an error of the API's (no message) is another
		// server's too; API Gateway's own errors ({"Message": ...}) are
		// the API's.
		{"json 404 of another shape", otherJSON, []string{"status", "x"}, []string{"HTTP 404 from GET " + otherJSON + `/monitors/x (application/json "{\"nf\":1}", not the monitor API's JSON error)`}},
		{"API Gateway's 403", gatewayJSON, []string{"status", "x"}, []string{"status x: User: x is not authorized (HTTP 403)"}},
		{"xhtml 404", xhtml, []string{"status", "x"}, []string{"HTTP 404 from GET " + xhtml + "/monitors/x (application/xhtml+xml, not the monitor API's JSON error)"}},
		{"indented page", indentedPage, []string{"status", "x"}, []string{"HTTP 404 from GET " + indentedPage + "/monitors/x (text/plain, not the monitor API's JSON error)"}},
		{"page without a content type", untypedPage.URL, []string{"status", "x"}, []string{"HTTP 404 from GET " + untypedPage.URL + "/monitors/x (a web page, not the monitor API's JSON error)"}},
		{"one byte", oneByte, []string{"status", "x"}, []string{"GET " + oneByte + `/monitors/x did not answer like the stepmon monitor API: HTTP 200, text/plain, "x"; want`}},
		{"empty strings", emptyStrings, []string{"start", "--job-id", "j"}, []string{"did not answer like the stepmon monitor API", "want a start answer, a JSON object with id and statusQueryGetUri"}},
		{"empty strings", emptyStrings, []string{"status", "x"}, []string{"did not answer like the stepmon monitor API", "want a status record"}},
		{"empty strings", emptyStrings, []string{"raise", "x", "complete"}, []string{"did not answer like the stepmon monitor API", "want a raise answer"}},
		{"empty 502", emptyError, []string{"status", "x"}, []string{"HTTP 502 from GET " + emptyError + "/monitors/x (no content type, an empty body, not the monitor API's JSON error)"}},
	}
	for _, tt := range tests {
		t.Run(tt.server+"/"+strings.Join(tt.args, " "), func(t *testing.T) {
			// A safety net for a watch that would poll forever.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			r := runCLI(ctx, tt.endpoint, tt.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1; stderr: %s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not contain %q", r.stderr, w)
				}
			}
			if strings.Contains(r.stderr+r.stdout, "default web page") {
				t.Errorf("the page was printed:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
}

// The --endpoint help's example URL ends in the stage the stack deploys.
func TestEndpointHelpStage(t *testing.T) {
	lit, ok := testtool.InfraValuesIn(t, "api.go")["StageName"].(*ast.BasicLit)
	if !ok {
		t.Fatal("infra/api.go: StageName is not a literal")
	}
	stage, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("stepmon", flag.ContinueOnError)
	var f clientFlags
	f.register(fs, &cli{getenv: func(string) string { return "" }})
	usage := fs.Lookup("endpoint").Usage
	if !strings.HasSuffix(usage, ".amazonaws.com/"+stage) {
		t.Errorf("--endpoint usage %q, want an example URL with the stage %q", usage, stage)
	}
}

// fullWriter is a standard output that cannot be written, as /dev/full.
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestOutputNotWritten: every client command whose output cannot be
// written (a full disk, /dev/full) fails with exit status 1 and "write
// output", rather than exit 0 with the result lost; start also names the
// monitor it started.
func TestOutputNotWritten(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	mustRunCLI(t, rt.url(), []string{"start", "--job-id", "done", "--id", "wf-done", "--interval", "1", "--complete-after", "1"})
	startRunningAndGone(t, rt.url(), "wf")
	tests := []struct {
		args []string
		want string // in standard error, after "stepmon: "
	}{
		{[]string{"start", "--job-id", "full", "--id", "wf-new", "--interval", "3600"},
			"start: monitor wf-new was started, but its answer could not be printed: write output: no space left on device"},
		{[]string{"status", "wf-running"}, "status wf-running: write output: no space left on device"},
		{[]string{"watch", "wf-done"}, "watch wf-done: write output: no space left on device"},
		{[]string{"list"}, "list: write output: no space left on device"},
		{[]string{"list", "--json"}, "list: write output: no space left on device"},
		{[]string{"raise", "wf-running", "checkNow"}, "raise wf-running checkNow: write output: no space left on device"},
		{[]string{"terminate", "wf-running"}, "terminate wf-running: write output: no space left on device"},
		{[]string{"purge", "wf-gone"}, "purge wf-gone: write output: no space left on device"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var stderr bytes.Buffer
			getenv := func(k string) string {
				if k == "STEPMON_ENDPOINT" {
					return rt.url()
				}
				return ""
			}
			err := run(ctx, tt.args, getenv, bytes.NewReader(nil), fullWriter{}, &stderr)
			code := exitCode(err, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), "stepmon: "+tt.want+"\n") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}

// TestRequestInErrors: an error about the request rather than a monitor
// (a route that does not exist, an invalid query: a wrong base path in
// --endpoint) names the request; an endpoint ending in /monitors gets a
// warning; a 403 to an unsigned request says how to sign or give a key.
func TestRequestInErrors(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"Missing Authentication Token"}`)
	}))
	defer forbidden.Close()
	// Another JSON API (GitHub's shape): its 404 says nothing of a monitor.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`)
	}))
	defer other.Close()
	base := rt.url()
	const warning = "ends in /monitors, which each command adds"
	tests := []struct {
		name     string
		endpoint string
		args     []string
		want     []string // in standard error
		notWant  string
		code     int // the exit status
	}{
		{"stage not served", base + "/v1", []string{"watch", "j1"},
			[]string{"stepmon: watch j1: no such route (HTTP 404) for GET " + base + "/v1/monitors/j1: is --endpoint the API's base URL"}, warning, 1},
		{"list under /monitors", base + "/monitors", []string{"list"},
			[]string{"stepmon: warning: --endpoint " + base + "/monitors " + warning + ": the API's base URL is its stage's URL (" + base + ")",
				"(HTTP 400) for GET " + base + "/monitors/monitors?top=1000\n"}, "", 1},
		{"status under /monitors", base + "/monitors", []string{"status", "j1"},
			[]string{warning, "no route GET /monitors/monitors/j1; see docs/api.md (HTTP 404) for GET " + base + "/monitors/monitors/j1"}, "", 1},
		{"no such monitor", base, []string{"status", "j1"}, []string{"(HTTP 404)\n"}, " for GET", exitNotFound},
		{"403 unsigned", forbidden.URL, []string{"status", "j1"},
			[]string{"stepmon: status j1: Missing Authentication Token (HTTP 403) for GET " + forbidden.URL + "/monitors/j1; the request was not signed: for an API with IAM auth add --sigv4 (with --region for a custom domain), for one with API keys give --api-key\n"}, "", 1},
		{"403 with a key", forbidden.URL, []string{"status", "j1", "--api-key", "k1"},
			[]string{"the request carried an API key and was not signed: check the key, or add --sigv4"}, "k1", 1},
		{"another API's 404", other.URL, []string{"status", "j1"},
			[]string{"stepmon: status j1: HTTP 404 from GET " + other.URL + "/monitors/j1 (application/json", "not the monitor API's JSON error"}, "", 1},
		{"another API's 404 to list", other.URL, []string{"list"}, []string{"HTTP 404 from GET " + other.URL + "/monitors"}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			r := runCLI(ctx, base, append(tt.args, "--endpoint", tt.endpoint)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not contain %q", r.stderr, w)
				}
			}
			if tt.notWant != "" && strings.Contains(r.stderr, tt.notWant) {
				t.Errorf("stderr %q contains %q", r.stderr, tt.notWant)
			}
		})
	}
}

// TestEndpointHintNamesItsSource: the hints about a wrong base URL name
// where it came from, STEPMON_ENDPOINT or --endpoint (which wins), as a
// base URL that is not one does: a user who never typed --endpoint looks
// for it in vain.
func TestEndpointHintNamesItsSource(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	base := rt.url()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"from the environment", []string{"status", "j1"},
			"stepmon: status j1: no such route (HTTP 404) for GET " + base + "/v1/monitors/j1: is STEPMON_ENDPOINT the API's base URL (its stage's URL, without /monitors)?\n"},
		{"from the flag", []string{"status", "j1", "--endpoint", base + "/v1"},
			"stepmon: status j1: no such route (HTTP 404) for GET " + base + "/v1/monitors/j1: is --endpoint the API's base URL (its stage's URL, without /monitors)?\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t.Context(), base+"/v1", tt.args...)
			if r.code != 1 || r.stderr != tt.want {
				t.Errorf("exit %d, stderr %q; want exit 1, %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

// TestSignedMissingToken: API Gateway's "Missing Authentication Token" to
// a signed request (a path it has no route for) names the request and
// asks about --endpoint.
func TestSignedMissingToken(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": dir + "/none", "AWS_SHARED_CREDENTIALS_FILE": dir + "/none", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"Missing Authentication Token"}`)
	}))
	defer srv.Close()
	r := runCLI(t.Context(), srv.URL, "status", "j1", "--sigv4", "--region", "eu-west-1")
	want := "stepmon: status j1: Missing Authentication Token (HTTP 403) for GET " + srv.URL + "/monitors/j1; API Gateway answers this to a signed request for a path it has no route for: is STEPMON_ENDPOINT the API's base URL?\n"
	if r.code != 1 || r.stderr != want || !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		t.Errorf("exit %d, stderr %q, Authorization %q; want exit 1, a signed request and %q", r.code, r.stderr, auth, want)
	}

	// Another 403 to a signed request names the request, without a hint.
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"Message":"User: arn:aws:iam::123456789012:user/x is not authorized to perform: execute-api:Invoke"}`)
	}))
	defer denied.Close()
	r = runCLI(t.Context(), denied.URL, "status", "j1", "--sigv4", "--region", "eu-west-1")
	want = "stepmon: status j1: User: arn:aws:iam::123456789012:user/x is not authorized to perform: execute-api:Invoke (HTTP 403) for GET " + denied.URL + "/monitors/j1\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", r.code, r.stderr, want)
	}
}

// TestExitStatus runs the client commands against a local runtime: the
// API's "no such monitor" (404) exits exitNotFound, its refusals because
// of the monitor's state (409, 410) exitConflict, and every other error 1,
// also a 404 of a route that does not exist (a wrong --endpoint).
func TestExitStatus(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	startRunningAndGone(t, rt.url(), "ex")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"status of a running monitor", []string{"status", "ex-running"}, 0},
		{"status of no monitor", []string{"status", "ex-none"}, exitNotFound},
		{"watch of no monitor", []string{"watch", "ex-none"}, exitNotFound},
		{"terminate of no monitor", []string{"terminate", "ex-none"}, exitNotFound},
		{"purge of no monitor", []string{"purge", "ex-none"}, exitNotFound},
		{"terminate of a finished monitor (410)", []string{"terminate", "ex-gone"}, exitConflict},
		{"purge of a running monitor (409)", []string{"purge", "ex-running"}, exitConflict},
		{"start of a taken id (409)", []string{"start", "--job-id", "again", "--id", "ex-running"}, exitConflict},
		{"no such route (404)", []string{"status", "ex-running", "--endpoint", rt.url() + "/v1"}, 1},
		{"invalid request (400)", []string{"start", "--job-id", "j", "--interval", "100000"}, 1},
		{"usage", []string{"status"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			r := runCLI(ctx, rt.url(), tt.args...)
			if r.code != tt.want {
				t.Errorf("%s: exit %d, want %d; stderr: %s", strings.Join(tt.args, " "), r.code, tt.want, r.stderr)
			}
		})
	}
}

// TestNewClient builds the client of a command line: the base URL without
// its trailing slashes, the HTTP timeout (30 s unless --http-timeout
// says otherwise) and the API key, the flag's over the environment's.
func TestNewClient(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		base    string
		timeout time.Duration
		apiKey  string
	}{
		{name: "defaults", base: defaultEndpoint, timeout: 30 * time.Second},
		{name: "STEPMON_ENDPOINT", env: map[string]string{"STEPMON_ENDPOINT": "http://api.example.test/v1"},
			base: "http://api.example.test/v1", timeout: 30 * time.Second},
		{name: "--endpoint over STEPMON_ENDPOINT", env: map[string]string{"STEPMON_ENDPOINT": "http://env.example.test"},
			args: []string{"--endpoint", "https://flag.example.test/prod"}, base: "https://flag.example.test/prod", timeout: 30 * time.Second},
		{name: "trailing slashes", args: []string{"--endpoint", "http://api.example.test/v1//"}, base: "http://api.example.test/v1", timeout: 30 * time.Second},
		{name: "--http-timeout in seconds", args: []string{"--http-timeout", "5"}, base: defaultEndpoint, timeout: 5 * time.Second},
		{name: "--http-timeout as a duration", args: []string{"--http-timeout", "2m"}, base: defaultEndpoint, timeout: 2 * time.Minute},
		{name: "STEPMON_API_KEY", env: map[string]string{"STEPMON_API_KEY": "k-env"}, base: defaultEndpoint, timeout: 30 * time.Second, apiKey: "k-env"},
		{name: "--api-key over STEPMON_API_KEY", env: map[string]string{"STEPMON_API_KEY": "k-env"}, args: []string{"--api-key", "k-flag"},
			base: defaultEndpoint, timeout: 30 * time.Second, apiKey: "k-flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("stepmon", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var f clientFlags
			var stderr bytes.Buffer
			f.register(fs, &cli{getenv: func(k string) string { return tt.env[k] }, stderr: &stderr})
			if err := fs.Parse(tt.args); err != nil {
				t.Fatalf("parse %q: %v", tt.args, err)
			}
			c, err := f.newClient(t.Context())
			if err != nil {
				t.Fatalf("newClient: %v", err)
			}
			if got := c.base.String(); got != tt.base {
				t.Errorf("base %q, want %q", got, tt.base)
			}
			if c.http.Timeout != tt.timeout {
				t.Errorf("HTTP timeout %v, want %v", c.http.Timeout, tt.timeout)
			}
			if c.apiKey != tt.apiKey {
				t.Errorf("API key %q, want %q", c.apiKey, tt.apiKey)
			}
			if c.signer != nil {
				t.Error("the requests are signed, want them unsigned")
			}
			if stderr.Len() > 0 {
				t.Errorf("warnings: %s", stderr.String())
			}
		})
	}
}

// TestQuoteStart: an answer that is not the API's is quoted by its first
// 40 bytes, with "..." when there are more.
func TestQuoteStart(t *testing.T) {
	forty := strings.Repeat("a", 40)
	for _, tt := range []struct{ in, want string }{
		{"", `""`},
		{"x\n", `"x\n"`},
		{forty, `"` + forty + `"`},
		{forty + "b", `"` + forty + `"...`},
	} {
		if got := quoteStart([]byte(tt.in)); got != tt.want {
			t.Errorf("quoteStart(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestErrorMessage: the message of an error answer is the API's
// {"message": ...}, else API Gateway's {"error": "..."} or {"error":
// {"message": ...}}, with the field problems the message does not name
// already; any other body is not the API's, nor is a 404 without an
// error code.
func TestErrorMessage(t *testing.T) {
	for _, tt := range []struct {
		body string
		msg  string
		ours bool
	}{
		{`{"error":"invalid","message":"the real message"}`, "the real message", true},
		{`{"error":"throttled"}`, "throttled", true},
		{`{"error":{"message":"nested message"}}`, "nested message", true},
		{`{"message":"invalid request: a is bad","fields":[{"field":"a","problem":"is bad"}]}`, "invalid request: a is bad", true},
		{`{"message":"invalid request","fields":[{"field":"a","problem":"is bad"},{"field":"b","problem":"is worse"}]}`, "invalid request; a is bad; b is worse", true},
		{`{"error":{"code":1}}`, `{"error":{"code":1}}`, false},
		{"", "Bad Request", false},
		{strings.Repeat("x", 301), strings.Repeat("x", 300) + "...", false},
		// Control characters are escaped: a message cannot set the
		// terminal's title or colours.
		{`{"error":"e","message":"bad \u001b]0;PWNED\u0007 \u001b[31mred \u009b"}`, `bad \x1b]0;PWNED\x07 \x1b[31mred \u009b`, true},
		{"<p>\x1b[2J</p>", `<p>\x1b[2J</p>`, false},
		{`{"message":"x","fields":[{"field":"\u001bf","problem":"is bad"}]}`, `x; \x1bf is bad`, true},
	} {
		msg, _, ours := errorMessage(http.StatusBadRequest, []byte(tt.body))
		if msg != tt.msg || ours != tt.ours {
			t.Errorf("errorMessage(%s) = %q, %v; want %q, %v", tt.body, msg, ours, tt.msg, tt.ours)
		}
	}
	for _, tt := range []struct {
		body string
		ours bool
	}{
		{`{"error":"not_found","message":"no monitor m1"}`, true},
		{`{"message":"Not Found"}`, false},
	} {
		if _, _, ours := errorMessage(http.StatusNotFound, []byte(tt.body)); ours != tt.ours {
			t.Errorf("errorMessage(404, %s): ours = %v, want %v", tt.body, ours, tt.ours)
		}
	}
}

// TestWriteJSON: output is indented JSON ending in a newline; what is not
// JSON is written as it is, with a newline at its end.
func TestWriteJSON(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"a":[1,2]}`, "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n"},
		{"[]", "[]\n"},
		{"not {json", "not {json\n"},
		{"text\n", "text\n"},
		{"", "\n"},
	} {
		var out bytes.Buffer
		if err := writeJSON(&out, []byte(tt.in)); err != nil || out.String() != tt.want {
			t.Errorf("writeJSON(%q) wrote %q, %v; want %q", tt.in, out.String(), err, tt.want)
		}
	}
}

// TestRedactedURL: the help shows an endpoint with its password, its
// query and its fragment (where keys go: ?key=..., #key=...) replaced, and a value with an "@" that
// is not a URL not at all.
func TestRedactedURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"},
		{"https://bob:hunter2@api.example.test/v1", "https://bob:xxxxx@api.example.test/v1"},
		{"http://127.0.0.1:1/?key=SECRETQ", "http://127.0.0.1:1/?xxxxx"},
		{"https://api.example.test/prod#key=SECRETFRAG", "https://api.example.test/prod#xxxxx"},
		{"https://bob:hunter2@api.example.test/twilio?k=SECRET", "https://bob:xxxxx@api.example.test/twilio?xxxxx"},
		{"https://bob:hunter2%zz@api.example.test/v1", "(not shown: it may hold a password)"},
		{"http://api example.test", "http://api example.test"},
	} {
		if got := redactedURL(tt.in); got != tt.want {
			t.Errorf("redactedURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The local runtime's refusal of a Host that is not a loopback name
// (--endpoint http://0.0.0.0:PORT reaches it on loopback) says why, and
// the command adds no hint about signing or API keys, which would not
// change it.
func TestLocalRefusalHasNoSigningHint(t *testing.T) {
	rt := startRuntime(t, "127.0.0.1:0", t.TempDir())
	endpoint := strings.Replace(rt.url(), "127.0.0.1", "0.0.0.0", 1)
	res := runCLI(t.Context(), endpoint, "list")
	host := strings.TrimPrefix(endpoint, "http://")
	want := "stepmon: list: host " + host + " refused: the local runtime answers loopback names only"
	end := "(HTTP 403) for GET " + endpoint + "/monitors?top=1000\n"
	if res.code != 1 || !strings.HasPrefix(res.stderr, want) || !strings.HasSuffix(res.stderr, end) {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q…%q", res.code, res.stderr, want, end)
	}
	if strings.Contains(res.stderr, "sigv4") || strings.Contains(res.stderr, "api-key") {
		t.Errorf("stderr %q gives a signing hint", res.stderr)
	}
}

// hangingServer answers no request until the test ends.
func hangingServer(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: the handlers return, then the server closes
	return srv
}

// A request that gets no answer within --http-timeout names the flag, not
// Go's "context deadline exceeded (Client.Timeout exceeded while awaiting
// headers)".
func TestHTTPTimeoutNamesTheFlag(t *testing.T) {
	srv := hangingServer(t)
	res := runCLI(t.Context(), srv.URL, "status", "m1", "--http-timeout", "200ms")
	want := "stepmon: status m1: GET " + srv.URL + "/monitors/m1: timed out after 200ms (--http-timeout; give a longer one for a slow endpoint)\n"
	if res.code != 1 || res.stderr != want {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", res.code, res.stderr, want)
	}
}

// A start whose answer did not come may have started its monitor: the
// error says so, and that a retry is safe only with the same instance id.
func TestStartTimeoutMayHaveStarted(t *testing.T) {
	srv := hangingServer(t)
	res := runCLI(t.Context(), srv.URL, "start", "--job-id", "j", "--http-timeout", "200ms")
	want := "stepmon: start: POST " + srv.URL + "/monitors: timed out after 200ms (--http-timeout; give a longer one for a slow endpoint) " +
		"(the monitor may have started: `stepmon list` shows it; a retry with the same instance id (--id) is safe, one without starts another)\n"
	if res.code != 1 || res.stderr != want {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", res.code, res.stderr, want)
	}
	// A connection closed after the request was read: the same note.
	closing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		panic(http.ErrAbortHandler)
	}))
	defer closing.Close()
	closing.Config.ErrorLog = log.New(io.Discard, "", 0)
	res = runCLI(t.Context(), closing.URL, "start", "--job-id", "j")
	if res.code != 1 || !strings.Contains(res.stderr, "the monitor may have started") {
		t.Errorf("closed: exit %d, stderr %q; want exit 1 with the note", res.code, res.stderr)
	}
	// Refused, or a name that does not resolve: the request never left,
	// and there is no such note.
	for _, endpoint := range []string{"http://127.0.0.1:1", "http://nosuchhost.invalid:9"} {
		res = runCLI(t.Context(), endpoint, "start", "--job-id", "j")
		if res.code != 1 || strings.Contains(res.stderr, "may have started") {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 without the note", endpoint, res.code, res.stderr)
		}
	}
}

// AWS_CA_BUNDLE adds certificate authorities to trust, as the AWS CLI and
// SDKs take it: an endpoint whose certificate a private CA signed is
// reached with it, and refused without it; a file that is no PEM is a
// usage error.
func TestCABundle(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"instanceId":"m1","runtimeStatus":"Running"}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake, expected
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	bundle := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	status := func(caBundle string) (int, string) {
		var stdout, stderr bytes.Buffer
		getenv := func(k string) string {
			return map[string]string{"STEPMON_ENDPOINT": srv.URL, "AWS_CA_BUNDLE": caBundle}[k]
		}
		err := run(t.Context(), []string{"status", "m1"}, getenv, strings.NewReader(""), &stdout, &stderr)
		return exitCode(err, &stderr), stderr.String()
	}
	if code, stderr := status(bundle); code != 0 {
		t.Errorf("with the CA in AWS_CA_BUNDLE: exit %d, stderr %q; want 0", code, stderr)
	}
	if code, stderr := status(""); code != 1 || !strings.Contains(stderr, "certificate") {
		t.Errorf("without it: exit %d, stderr %q; want 1 and a certificate error", code, stderr)
	}
	if code, stderr := status(notPEM); code != 2 || !strings.Contains(stderr, "holds no PEM certificate") {
		t.Errorf("a bundle that is no PEM: exit %d, stderr %q; want 2", code, stderr)
	}
	// Read for https only: a stale bundle does not stop a local http one.
	plain := httptest.NewServer(srv.Config.Handler)
	defer plain.Close()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{"STEPMON_ENDPOINT": plain.URL, "AWS_CA_BUNDLE": filepath.Join(dir, "gone.pem")}[k]
	}
	if code := exitCode(run(t.Context(), []string{"status", "m1"}, getenv, strings.NewReader(""), &stdout, &stderr), &stderr); code != 0 {
		t.Errorf("http endpoint with a bundle that is gone: exit %d, stderr %q; want 0", code, stderr.String())
	}
}
