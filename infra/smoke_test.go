package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireTool returns the path of a tool the test needs. Without it the test
// is skipped with how to get it, except under CI=true, where it fails.
//
// requireTool, requirePath and missing copy internal/testtool (Require,
// Missing), which this module cannot import: a fix to one belongs in both.
func requireTool(t testing.TB, name, path, install string) string {
	t.Helper()
	if path == "" {
		path = name
	}
	p, err := exec.LookPath(path)
	if err == nil {
		return p
	}
	missing(t, fmt.Sprintf("%s not found (%v): %s", name, err, install))
	return ""
}

// requirePath skips the test, or fails it under CI=true, unless path
// exists; hint says how to make it.
func requirePath(t testing.TB, path, hint string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, fmt.Sprintf("%s: %v: %s", path, err, hint))
	}
}

// missing skips t with msg, or fails it under CI=true, so that CI cannot
// pass by skipping.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (required under CI=true)")
	}
	t.Skip(msg)
}

// TestDeploySmoke deploys the synthesized app with the pinned CDK CLI
// (`cdk bootstrap`, `cdk deploy`) to a moto_server on loopback, then checks
// that the state machine, with the function ARNs substituted into its
// definition, and the four functions exist there. It proves the deploy path
// (assets, template upload, IAM, ordering); moto skips some resource types
// silently and does not run the Go functions.
func TestDeploySmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("deploy smoke test skipped in -short mode")
	}
	moto := requireTool(t, "moto_server", "", "pip install 'moto[server]==5.2.1'")
	awsCLI := requireTool(t, "aws", "", "pip install awscli (or install the AWS CLI v2)")
	cdk := requireTool(t, "cdk CLI", "./node_modules/.bin/cdk", "run `make -C infra deps` (npm ci)")

	r := synth(t, "default", defaultContext)
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	endpoint := startMoto(t, ctx, moto)
	const account, region = "123456789012", "us-east-1"
	env := []string{
		// moto serves template URLs only for the host name localhost.
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_DEFAULT_REGION=" + region,
		"AWS_REGION=" + region,
		"AWS_EC2_METADATA_DISABLED=true",
		"CDK_HOME=" + t.TempDir(),
		"CDK_DISABLE_CLI_TELEMETRY=true",
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "AWS_") && !strings.HasPrefix(k, "CDK_") {
			env = append(env, kv)
		}
	}
	run := func(name string, args ...string) []byte {
		t.Helper()
		start := time.Now()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		if d := time.Since(start); d > 2*time.Second {
			shown := args
			if filepath.Base(name) == "aws" && len(args) > 4 {
				shown = args[4:] // past --endpoint-url and --output
			}
			t.Logf("%s %s: %v", filepath.Base(name), strings.Join(shown[:min(len(shown), 3)], " "), d.Round(100*time.Millisecond))
		}
		return stdout.Bytes()
	}
	awsJSON := func(v any, args ...string) {
		t.Helper()
		out := run(awsCLI, append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
		if err := json.Unmarshal(out, v); err != nil {
			t.Fatalf("aws %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}

	stackName := r.stack.StackName()
	run(cdk, "bootstrap", "--app", r.outdir, "--no-notices", "aws://"+account+"/"+region)
	// moto executes change sets in template order, ignoring DependsOn (the
	// API deployment would precede its methods); a direct CreateStack
	// honours it.
	outputsFile := filepath.Join(t.TempDir(), "outputs.json")
	run(cdk, "deploy", "--app", r.outdir, "--no-notices", "--require-approval", "never",
		"--method", "direct", "--outputs-file", outputsFile, *stackName)

	raw, err := os.ReadFile(outputsFile)
	if err != nil {
		t.Fatal(err)
	}
	var outputs map[string]map[string]string
	if err := json.Unmarshal(raw, &outputs); err != nil {
		t.Fatalf("outputs: %v: %s", err, raw)
	}
	for _, name := range []string{"ApiUrl", "StateMachineArn", "TableName", "AlertTopicArn", "AlarmTopicArn", "StatusFunctionName", "DeadLetterQueueUrl"} {
		if outputs[*stackName][name] == "" {
			t.Errorf("output %s missing: %s", name, raw)
		}
	}

	// The four functions, by the physical ids CloudFormation recorded.
	var resources struct {
		StackResourceSummaries []struct {
			LogicalResourceId, PhysicalResourceId, ResourceType string
		}
	}
	awsJSON(&resources, "cloudformation", "list-stack-resources", "--stack-name", *stackName)
	physical := map[string]string{}
	for _, s := range resources.StackResourceSummaries {
		physical[s.LogicalResourceId] = s.PhysicalResourceId
	}
	var listed struct {
		Functions []struct {
			FunctionName, FunctionArn, Runtime, Handler string
			Environment                                 struct{ Variables map[string]string }
		}
	}
	awsJSON(&listed, "lambda", "list-functions")
	arns := map[string]string{}
	for _, f := range r.stack.Functions.All() {
		name := f.Name
		id := physical[logicalID(t, r.stack, f.Function)]
		found := false
		for _, fn := range listed.Functions {
			if id == "" || fn.FunctionName != id {
				continue
			}
			found = true
			arns[name] = fn.FunctionArn
			if fn.Runtime != "provided.al2023" || fn.Handler != "bootstrap" {
				t.Errorf("function %s: runtime %q handler %q", name, fn.Runtime, fn.Handler)
			}
			vars := fn.Environment.Variables
			if vars["TABLE_NAME"] != outputs[*stackName]["TableName"] {
				t.Errorf("function %s: TABLE_NAME = %q, want the table %q", name, vars["TABLE_NAME"], outputs[*stackName]["TableName"])
			}
			if v, ok := vars["STATE_MACHINE_ARN"]; ok && v != outputs[*stackName]["StateMachineArn"] {
				t.Errorf("function %s: STATE_MACHINE_ARN = %q, want %q", name, v, outputs[*stackName]["StateMachineArn"])
			}
		}
		if !found {
			t.Errorf("function %s (%q): not deployed", name, id)
		}
	}

	// The state machine, with the function ARNs in its definition.
	var sm struct{ Name, Definition, Type string }
	awsJSON(&sm, "stepfunctions", "describe-state-machine", "--state-machine-arn", outputs[*stackName]["StateMachineArn"])
	if sm.Name != StateMachineName(*stackName) {
		t.Errorf("state machine name %q, want %q", sm.Name, StateMachineName(*stackName))
	}
	if strings.Contains(sm.Definition, "${") {
		t.Errorf("deployed definition still has a placeholder: %.400s", sm.Definition)
	}
	var def struct {
		States map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(sm.Definition), &def); err != nil || len(def.States) == 0 {
		t.Fatalf("deployed definition is not a state machine (%v): %.400s", err, sm.Definition)
	}
	for _, name := range []string{"check", "alert", "status"} {
		if arns[name] == "" || !strings.Contains(sm.Definition, `"`+arns[name]+`"`) {
			t.Errorf("deployed definition does not invoke the %s function %q", name, arns[name])
		}
	}
	if arns["start"] != "" && strings.Contains(sm.Definition, arns["start"]) {
		t.Errorf("deployed definition invokes the start function")
	}

	var table struct {
		Table struct {
			TableName                 string
			DeletionProtectionEnabled bool
		}
	}
	awsJSON(&table, "dynamodb", "describe-table", "--table-name", outputs[*stackName]["TableName"])
	if !table.Table.DeletionProtectionEnabled {
		t.Errorf("table %s: deletion protection off, want on", table.Table.TableName)
	}
	t.Logf("deploy smoke test: %v (bootstrap, deploy, checks)", time.Since(begin).Round(100*time.Millisecond))
}

// startMoto runs moto_server on a free loopback port until the test ends and
// returns its endpoint URL, with the host name localhost. It copies
// internal/motoserver's Start, which this module cannot import: a fix to
// one belongs in both.
func startMoto(t *testing.T, ctx context.Context, moto string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	logFile := filepath.Join(t.TempDir(), "moto.log")
	log, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(moto, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: moto_server may be a shim that starts Python,
	// and the whole group is stopped at the end; it is killed outright if the
	// test binary dies first (go test -timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		log.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile); err == nil {
				t.Logf("moto_server log (last 4 KiB):\n%s", tail(b, 4096))
			}
		}
	})

	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			b, _ := os.ReadFile(logFile)
			t.Fatalf("moto_server exited: %s", tail(b, 4096))
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server not listening on %s after 60s", addr)
		}
	}
	return fmt.Sprintf("http://localhost:%d", port)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
