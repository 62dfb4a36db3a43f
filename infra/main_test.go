package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// repoRootForTests is the checkout whose lambdas/ and statemachine.asl.json
// the tests build and synthesize: this repository, unless
// STEPMON_INFRA_REPO_ROOT names another checkout.
func repoRootForTests() string {
	if dir := os.Getenv("STEPMON_INFRA_REPO_ROOT"); dir != "" {
		return dir
	}
	return ".."
}

var (
	codeDirs    map[string]string
	buildErr    error
	buildTime   time.Duration
	synthMu     sync.Mutex
	synthesized = map[string]*synthResult{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stepmon-infra-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	codeDirs, buildErr = BuildLambdas(context.Background(), "go", repoRootForTests(), dir)
	buildTime = time.Since(start)
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	for _, r := range synthesized {
		if r.outdir != "" {
			os.RemoveAll(r.outdir)
		}
	}
	os.Exit(code)
}

// synthResult is one synthesized variant of the app.
type synthResult struct {
	stack    *Stack
	template assertions.Template
	json     map[string]any // the template as plain JSON
	outdir   string         // the cloud assembly
	err      error
}

// Context variants the tests synthesize.
var (
	defaultContext = map[string]any{}
	optionsContext = map[string]any{
		"auth":                      "apiKey",
		"allowDirectSms":            "true",
		"allowPrivateTargets":       true,
		"githubTokenSecretArn":      "arn:aws:secretsmanager:us-east-1:123456789012:secret:stepmon/github-AbCdEf",
		"githubApiUrl":              "https://ghe.example.com/api/v3/",
		"twilioSecretArn":           "arn:aws:secretsmanager:us-east-1:123456789012:secret:stepmon/twilio-GhIjKl",
		"webhookSecretArn":          "arn:aws:secretsmanager:us-east-1:123456789012:secret:stepmon/webhook-MnOpQr",
		"alertTopicArns":            "arn:aws:sns:us-east-1:123456789012:oncall, arn:aws:sns:eu-west-1:123456789012:team.fifo",
		"destroyData":               true,
		"stackName":                 "StepmonOptions",
		"apiGatewayCloudWatchRole":  "true",
		"stateMachineLogLevel":      "ALL",
		"keepPreviousListIndex":     true,
		"checkReservedConcurrency":  "50",
		"minPollingIntervalSeconds": 30,
	}
	// privateContext attaches the check and alert functions to a VPC and
	// lets HTTP checks and webhooks reach private prefixes in it.
	privateContext = map[string]any{
		"allowedTargetPrefixes": "10.1.0.0/16, fd12:3456::/48",
		"vpcSubnetIds":          "subnet-0123456789abcdef0, subnet-0fedcba9876543210",
		"vpcSecurityGroupIds":   "sg-0123456789abcdef0",
	}
)

// synth defines and synthesizes the app with cdk.json's context plus extra,
// once per variant name, the way `cdk synth` would run it.
func synth(tb testing.TB, variant string, extra map[string]any) *synthResult {
	tb.Helper()
	r := synthWith(tb, variant, extra, nil)
	if r.err != nil {
		tb.Fatal(r.err)
	}
	return r
}

// synthWith is synth with change, when not nil, applied to the stack
// DefineApp returns before the app is synthesized; a failure is in the
// result's err, for the caller to judge.
func synthWith(tb testing.TB, variant string, extra map[string]any, change func(*Stack)) *synthResult {
	tb.Helper()
	requireTool(tb, "node", "", "install Node.js 20 or later: the CDK's jsii runtime runs on it")
	if buildErr != nil {
		tb.Fatalf("build lambdas: %v", buildErr)
	}
	synthMu.Lock()
	defer synthMu.Unlock()
	if r, ok := synthesized[variant]; ok {
		return r
	}
	r := &synthResult{}
	synthesized[variant] = r
	r.err = func() (err error) {
		defer func() {
			// The CDK panics when synthesis fails (a validation error).
			if p := recover(); p != nil {
				err = fmt.Errorf("synth %s: %v", variant, p)
			}
		}()
		ctx, err := cdkJSONContext()
		if err != nil {
			return err
		}
		ctx["repoRoot"] = repoRootForTests()
		for k, v := range extra {
			ctx[k] = v
		}
		outdir, err := os.MkdirTemp("", "stepmon-cdk-out-")
		if err != nil {
			return err
		}
		r.outdir = outdir
		app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
		cfg, err := ConfigFromContext(app.Node())
		if err != nil {
			return err
		}
		start := time.Now()
		r.stack, err = DefineApp(app, cfg, codeDirs)
		if err != nil {
			return err
		}
		if change != nil {
			change(r.stack)
		}
		app.Synth(nil)
		r.template = assertions.Template_FromStack(r.stack.Stack, nil)
		raw, err := os.ReadFile(filepath.Join(outdir, cfg.StackName+".template.json"))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &r.json); err != nil {
			return err
		}
		tb.Logf("synth %s: %v (lambda build before it: %v), template %d bytes, %d resources",
			variant, time.Since(start).Round(time.Millisecond), buildTime.Round(time.Millisecond),
			len(raw), len(r.json["Resources"].(map[string]any)))
		return nil
	}()
	return r
}

// cdkJSONContext returns the context of cdk.json (the feature flags).
func cdkJSONContext() (map[string]any, error) {
	raw, err := os.ReadFile("cdk.json")
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	return cfg.Context, nil
}

// resources returns the template's resources of type typ, by logical id.
func (r *synthResult) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, res := range r.json["Resources"].(map[string]any) {
		res := res.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// logicalID returns the logical id of the CloudFormation resource behind the
// L2 construct c.
func logicalID(tb testing.TB, s *Stack, c constructs.IConstruct) string {
	tb.Helper()
	el, ok := c.Node().DefaultChild().(awscdk.CfnElement)
	if !ok {
		tb.Fatalf("%s has no CloudFormation resource", *c.Node().Path())
	}
	return *s.GetLogicalId(el)
}
