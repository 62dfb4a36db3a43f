package sfnapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stepmon/stepmon/internal/testtool"
)

// awsCLI runs `aws stepfunctions` against a local endpoint with dummy
// credentials and no configuration files of the user.
type awsCLI struct {
	t        *testing.T
	bin, url string
	env      []string
}

func newAWSCLI(t *testing.T, url string) *awsCLI {
	t.Helper()
	bin := testtool.Require(t, "aws", "install the AWS CLI (pip install awscli, or AWS CLI v2) to run this test")
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_ACCESS_KEY_ID=AKIDLOCAL",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_DEFAULT_REGION=" + region,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
		// StartSyncExecution would go to sync-127.0.0.1 otherwise.
		"AWS_DISABLE_HOST_PREFIX_INJECTION=true",
	}
	return &awsCLI{t: t, bin: bin, url: url, env: env}
}

// run runs one command and returns its stdout, stderr and whether it
// succeeded.
func (c *awsCLI) run(args ...string) (stdout, stderr string, ok bool) {
	c.t.Helper()
	full := append([]string{"stepfunctions"}, args...)
	full = append(full, "--endpoint-url", c.url, "--output", "json")
	cmd := exec.Command(c.bin, full...)
	cmd.Env = c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err == nil
}

// json runs a command that must succeed and decodes its output.
func (c *awsCLI) json(args ...string) map[string]any {
	c.t.Helper()
	out, errOut, ok := c.run(args...)
	if !ok {
		c.t.Fatalf("aws stepfunctions %s failed: %s", strings.Join(args, " "), errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		c.t.Fatalf("aws stepfunctions %s printed %q: %v", args[0], out, err)
	}
	return m
}

// parallel runs commands concurrently (each CLI start costs most of a
// second of CPU) and returns their outputs in order.
func (c *awsCLI) parallel(cmds ...[]string) []cliResult {
	res := make([]cliResult, len(cmds))
	var wg sync.WaitGroup
	for i, args := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			full := append([]string{"stepfunctions"}, args...)
			full = append(full, "--endpoint-url", c.url, "--output", "json")
			cmd := exec.Command(c.bin, full...)
			cmd.Env = c.env
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			res[i] = cliResult{args: args, stdout: out.String(), stderr: errb.String(), ok: err == nil}
		}()
	}
	wg.Wait()
	return res
}

type cliResult struct {
	args           []string
	stdout, stderr string
	ok             bool
}

// json decodes the output of a command that must have succeeded.
func (r cliResult) json(t *testing.T) map[string]any {
	t.Helper()
	if !r.ok {
		t.Fatalf("aws stepfunctions %s failed: %s", strings.Join(r.args, " "), r.stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("aws stepfunctions %s printed %q: %v", r.args[0], r.stdout, err)
	}
	return m
}

// TestAWSCLI runs every operation stepmon serve documents through the AWS
// CLI: create-state-machine (with tags), describe-state-machine,
// list-state-machines, list-state-machine-versions, start-execution,
// start-sync-execution, describe-execution, stop-execution,
// get-execution-history (paged, reversed), list-executions,
// tag-resource, untag-resource, list-tags-for-resource,
// update-state-machine of the logging configuration,
// describe-state-machine-for-execution and delete-state-machine, plus
// errors. Independent commands run concurrently.
func TestAWSCLI(t *testing.T) {
	srv, e := newServer(t)
	c := newAWSCLI(t, srv.URL)
	ctx := t.Context()

	// start-sync-execution runs EXPRESS machines only.
	m := c.json("create-state-machine", "--name", "cli", "--definition", loopDef, "--role-arn", role, "--type", "EXPRESS",
		"--tags", `[{"key":"made","value":"by-cli"}]`, "--logging-configuration", loggingAll, "--tracing-configuration", "enabled=true")
	if m["stateMachineArn"] != smArn+"cli" {
		t.Fatalf("create-state-machine = %v", m)
	}
	if _, err := e.CreateStateMachine(ctx, "long", longWaitDef, role); err != nil {
		t.Fatalf("CreateStateMachine(long): %v", err)
	}

	r := c.parallel(
		[]string{"describe-state-machine", "--state-machine-arn", smArn + "cli"},
		[]string{"list-state-machines", "--page-size", "1"},
		[]string{"start-sync-execution", "--state-machine-arn", smArn + "cli", "--name", "s1", "--input", `{"n":0,"max":2}`},
		[]string{"start-execution", "--state-machine-arn", smArn + "long", "--name", "l1"},
		[]string{"describe-execution", "--execution-arn", execArn + "cli:nope"},
		[]string{"list-state-machine-versions", "--state-machine-arn", smArn + "cli"},
		[]string{"tag-resource", "--resource-arn", smArn + "cli", "--tags", `[{"key":"team","value":"a"},{"key":"Team","value":"b"}]`},
		[]string{"tag-resource", "--resource-arn", execArn + "cli:s1", "--tags", `[{"key":"k","value":"v"}]`},
	)
	if m = r[0].json(t); m["definition"] != loopDef || m["status"] != "ACTIVE" || m["type"] != "EXPRESS" {
		t.Errorf("describe-state-machine = %v", m)
	}
	if logging, tracing, _ := describedConfig(m); logging != jsonText(decode(t, loggingAll)) || tracing != tracingOn {
		t.Errorf("describe-state-machine: logging %s, tracing %s; want those of create-state-machine", logging, tracing)
	}
	if sms, _ := r[1].json(t)["stateMachines"].([]any); len(sms) != 2 {
		t.Errorf("list-state-machines (one per page) = %s, want both machines", r[1].stdout)
	}
	if m = r[2].json(t); m["status"] != "SUCCEEDED" || !jsonEqual(fmt.Sprint(m["output"]), `{"n":2,"max":2}`) {
		t.Errorf("start-sync-execution = %v", m)
	}
	long, _ := r[3].json(t)["executionArn"].(string)
	if long != execArn+"long:l1" {
		t.Errorf("start-execution = %s", r[3].stdout)
	}
	if r[4].ok || !strings.Contains(r[4].stderr, "(ExecutionDoesNotExist)") {
		t.Errorf("describe-execution of a missing execution: ok=%v stderr %q, want an ExecutionDoesNotExist error", r[4].ok, r[4].stderr)
	}
	if vs, ok := r[5].json(t)["stateMachineVersions"].([]any); !ok || len(vs) != 0 {
		t.Errorf("list-state-machine-versions = %s, want no versions", r[5].stdout)
	}
	if !r[6].ok || strings.TrimSpace(r[6].stdout) != "" {
		t.Errorf("tag-resource: ok=%v stdout %q stderr %q, want success with no output", r[6].ok, r[6].stdout, r[6].stderr)
	}
	if r[7].ok || !strings.Contains(r[7].stderr, "(InvalidArn)") {
		t.Errorf("tag-resource of an execution: ok=%v stderr %q, want an InvalidArn error", r[7].ok, r[7].stderr)
	}

	events, err := e.History(ctx, execArn+"cli:s1")
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	var all []string
	for _, ev := range events {
		all = append(all, fmt.Sprint(ev.ID))
	}
	r = c.parallel(
		[]string{"get-execution-history", "--execution-arn", execArn + "cli:s1", "--page-size", "3"},
		[]string{"get-execution-history", "--execution-arn", execArn + "cli:s1", "--page-size", "4", "--reverse-order"},
		[]string{"stop-execution", "--execution-arn", long, "--error", "Manual", "--cause", "from the CLI"},
		[]string{"describe-execution", "--execution-arn", execArn + "cli:s1"},
		[]string{"list-executions", "--state-machine-arn", smArn + "long", "--page-size", "1"},
		[]string{"list-tags-for-resource", "--resource-arn", smArn + "cli"},
	)
	ids := func(m map[string]any) []string {
		var out []string
		for _, ev := range m["events"].([]any) {
			out = append(out, fmt.Sprint(ev.(map[string]any)["id"]))
		}
		return out
	}
	if paged := ids(r[0].json(t)); len(all) != 14 || strings.Join(paged, " ") != strings.Join(all, " ") {
		t.Errorf("get-execution-history paged by 3 = %v, want %v (14 events)", paged, all)
	}
	rev := ids(r[1].json(t))
	for i := range all {
		if len(rev) != len(all) || rev[i] != all[len(all)-1-i] {
			t.Errorf("get-execution-history --reverse-order = %v, want %v reversed", rev, all)
			break
		}
	}
	if m = r[2].json(t); m["stopDate"] == nil {
		t.Errorf("stop-execution = %v", m)
	}
	if x, err := e.DescribeExecution(ctx, long); err != nil || x.Status != "ABORTED" || x.Error != "Manual" || x.Cause != "from the CLI" {
		t.Errorf("execution after stop-execution = %+v, %v; want ABORTED Manual", x, err)
	}
	if m = r[3].json(t); m["status"] != "SUCCEEDED" || m["input"] != `{"n":0,"max":2}` {
		t.Errorf("describe-execution = %v", m)
	}
	if xs, _ := r[4].json(t)["executions"].([]any); len(xs) != 1 || xs[0].(map[string]any)["name"] != "l1" {
		t.Errorf("list-executions = %s, want l1", r[4].stdout)
	}
	if tags, _ := json.Marshal(r[5].json(t)["tags"]); string(tags) != `[{"key":"Team","value":"b"},{"key":"made","value":"by-cli"},{"key":"team","value":"a"}]` {
		t.Errorf("list-tags-for-resource = %s, want the tags of create-state-machine and tag-resource in key order", r[5].stdout)
	}
	// After the list, which a command run beside it would race with;
	// after the history, whose execution ran revision 1.
	u := c.parallel(
		[]string{"untag-resource", "--resource-arn", smArn + "cli", "--tag-keys", "made", "team"},
		[]string{"update-state-machine", "--state-machine-arn", smArn + "cli", "--logging-configuration", loggingError},
		[]string{"update-state-machine", "--state-machine-arn", smArn + "long", "--logging-configuration", `{"level":"ALL"}`},
	)
	if !u[0].ok || strings.TrimSpace(u[0].stdout) != "" {
		t.Errorf("untag-resource: ok=%v stdout %q stderr %q, want success with no output", u[0].ok, u[0].stdout, u[0].stderr)
	}
	if m = u[1].json(t); m["revisionId"] != "2" {
		t.Errorf("update-state-machine --logging-configuration = %v, want revision 2", m)
	}
	if u[2].ok || !strings.Contains(u[2].stderr, "(InvalidLoggingConfiguration)") || !strings.Contains(u[2].stderr, "Must specify exactly one Log Destination.") {
		t.Errorf("update-state-machine of level ALL without a destination: ok=%v stderr %q, want InvalidLoggingConfiguration", u[2].ok, u[2].stderr)
	}
	// The machine reports the new logging configuration, its tracing
	// kept; the execution, the configuration of the revision it ran.
	d := c.parallel(
		[]string{"describe-state-machine", "--state-machine-arn", smArn + "cli"},
		[]string{"describe-state-machine-for-execution", "--execution-arn", execArn + "cli:s1"},
		[]string{"describe-state-machine", "--state-machine-arn", smArn + "long"},
	)
	for i, want := range []struct{ logging, tracing string }{
		{jsonText(decode(t, loggingError)), tracingOn},
		{jsonText(decode(t, loggingAll)), tracingOn},
		{loggingDefault, tracingOff},
	} {
		if logging, tracing, _ := describedConfig(d[i].json(t)); logging != want.logging || tracing != want.tracing {
			t.Errorf("%s: logging %s, tracing %s; want %s, %s", strings.Join(d[i].args[:3], " "), logging, tracing, want.logging, want.tracing)
		}
	}
	if tags, err := e.Store().ListStateMachineTags(ctx, smArn+"cli"); err != nil || fmt.Sprint(tags) != "[{Team b}]" {
		t.Errorf("tags after untag-resource = %v, %v; want [{Team b}]", tags, err)
	}

	// No execution of either machine runs: delete-state-machine deletes
	// them at once.
	r = c.parallel(
		[]string{"delete-state-machine", "--state-machine-arn", smArn + "long"},
		[]string{"delete-state-machine", "--state-machine-arn", smArn + "cli"},
	)
	for i, res := range r {
		if !res.ok || strings.TrimSpace(res.stdout) != "" {
			t.Errorf("delete-state-machine %d: ok=%v stdout %q stderr %q, want success with no output", i, res.ok, res.stdout, res.stderr)
		}
	}
	r = c.parallel(
		[]string{"describe-state-machine", "--state-machine-arn", smArn + "long"},
		[]string{"describe-execution", "--execution-arn", execArn + "cli:s1"},
		[]string{"list-state-machines"},
	)
	if r[0].ok || !strings.Contains(r[0].stderr, "(StateMachineDoesNotExist)") {
		t.Errorf("describe-state-machine of a deleted machine: ok=%v stderr %q, want StateMachineDoesNotExist", r[0].ok, r[0].stderr)
	}
	if r[1].ok || !strings.Contains(r[1].stderr, "(ExecutionDoesNotExist)") {
		t.Errorf("describe-execution of a deleted machine's execution: ok=%v stderr %q, want ExecutionDoesNotExist", r[1].ok, r[1].stderr)
	}
	if sms, _ := r[2].json(t)["stateMachines"].([]any); len(sms) != 0 {
		t.Errorf("list-state-machines after delete-state-machine = %s, want none", r[2].stdout)
	}
}

// TestAWSCLIValidate: aws stepfunctions validate-state-machine-definition
// answers FAIL with the diagnostics of a bad definition, and OK.
func TestAWSCLIValidate(t *testing.T) {
	srv, _ := newServer(t)
	c := newAWSCLI(t, srv.URL)
	r := c.parallel(
		[]string{"validate-state-machine-definition", "--definition", `{"StartAt":"A","States":{"A":{"Type":"Passs","End":true}}}`},
		[]string{"validate-state-machine-definition", "--definition", passDef},
	)
	m := r[0].json(t)
	diags, _ := m["diagnostics"].([]any)
	if m["result"] != "FAIL" || len(diags) != 1 {
		t.Fatalf("validate-state-machine-definition (bad) = %s, want FAIL with one diagnostic", r[0].stdout)
	}
	if d, _ := diags[0].(map[string]any); d["code"] != "SCHEMA_VALIDATION_FAILED" || d["location"] != "/States/A/Type" || d["severity"] != "ERROR" {
		t.Errorf("diagnostic = %v", d)
	}
	if m = r[1].json(t); m["result"] != "OK" || m["truncated"] != false {
		t.Errorf("validate-state-machine-definition (good) = %s, want OK", r[1].stdout)
	}
}
