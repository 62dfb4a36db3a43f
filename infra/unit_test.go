package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

func TestConfigFromContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ctx     map[string]any
		want    Config
		wantErr string
	}{
		{"defaults", map[string]any{}, Config{StackName: "Stepmon", RepoRoot: "..", Auth: AuthIAM, StateMachineLogLevel: LogError}, ""},
		{"all options", map[string]any{
			"stackName": "Mon-2", "repoRoot": "/src", "auth": "apiKey", "allowPrivateTargets": "true",
			"allowDirectSms": true, "destroyData": "1", "apiGatewayCloudWatchRole": true,
			"githubTokenSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gh-AbCdEf",
			"twilioSecretArn":      "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a/b-123456",
			"webhookSecretArn":     "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-zzzzzz",
			"alertTopicArns":       " arn:aws:sns:eu-west-1:123456789012:a ,arn:aws:sns:eu-west-1:123456789012:b.fifo,",
			"stateMachineLogLevel": "all", "keepPreviousListIndex": "true", "checkReservedConcurrency": "50",
			"githubApiUrl": "https://ghe.example.com/api/v3/", "minPollingIntervalSeconds": "60",
		}, Config{
			StackName: "Mon-2", RepoRoot: "/src", Auth: AuthAPIKey, AllowPrivateTargets: true,
			AllowDirectSMS: true, DestroyData: true, APIGatewayCloudWatchRole: true,
			GitHubTokenSecretARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gh-AbCdEf",
			TwilioSecretARN:      "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a/b-123456",
			WebhookSecretARN:     "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-zzzzzz",
			AlertTopicARNs:       []string{"arn:aws:sns:eu-west-1:123456789012:a", "arn:aws:sns:eu-west-1:123456789012:b.fifo"},
			StateMachineLogLevel: LogAll, KeepPreviousListIndex: true, CheckReservedConcurrency: 50,
			GitHubAPIURL: "https://ghe.example.com/api/v3/", MinPollingIntervalSeconds: 60,
		}, ""},
		// cdk.json may give it as a JSON number.
		{"check concurrency as a number", map[string]any{"checkReservedConcurrency": 20},
			Config{StackName: "Stepmon", RepoRoot: "..", Auth: AuthIAM, StateMachineLogLevel: LogError, CheckReservedConcurrency: 20}, ""},
		{"check concurrency zero", map[string]any{"checkReservedConcurrency": "0"}, Config{}, "context checkReservedConcurrency: want a whole number from 1"},
		{"check concurrency negative", map[string]any{"checkReservedConcurrency": -5}, Config{}, "context checkReservedConcurrency: want a whole number from 1"},
		{"check concurrency fraction", map[string]any{"checkReservedConcurrency": 2.5}, Config{}, "context checkReservedConcurrency: want a whole number from 1"},
		{"check concurrency not a number", map[string]any{"checkReservedConcurrency": "lots"}, Config{}, "context checkReservedConcurrency: want a whole number from 1"},
		{"interval floor a day", map[string]any{"minPollingIntervalSeconds": 86400},
			Config{StackName: "Stepmon", RepoRoot: "..", Auth: AuthIAM, StateMachineLogLevel: LogError, MinPollingIntervalSeconds: 86400}, ""},
		{"interval floor over a day", map[string]any{"minPollingIntervalSeconds": "86401"}, Config{}, "context minPollingIntervalSeconds: want a whole number of seconds from 1 to 86400, got 86401"},
		{"interval floor zero", map[string]any{"minPollingIntervalSeconds": 0}, Config{}, "context minPollingIntervalSeconds: want a whole number from 1"},
		{"interval floor in minutes", map[string]any{"minPollingIntervalSeconds": "1m"}, Config{}, "context minPollingIntervalSeconds: want a whole number from 1"},
		{"fatal logs", map[string]any{"stateMachineLogLevel": "FATAL"}, Config{StackName: "Stepmon", RepoRoot: "..", Auth: AuthIAM, StateMachineLogLevel: LogFatal}, ""},
		{"bad log level", map[string]any{"stateMachineLogLevel": "debug"}, Config{}, `context stateMachineLogLevel: want "ERROR", "ALL" or "FATAL"`},
		{"wildcard topic", map[string]any{"alertTopicArns": "arn:aws:sns:eu-west-1:123456789012:*"}, Config{}, "context alertTopicArns"},
		{"bad auth", map[string]any{"auth": "cognito"}, Config{}, `context auth: want "iam" or "apiKey"`},
		{"bad bool", map[string]any{"allowDirectSms": "yes please"}, Config{}, "context allowDirectSms: want true or false"},
		{"bad role flag", map[string]any{"apiGatewayCloudWatchRole": "maybe"}, Config{}, "context apiGatewayCloudWatchRole: want true or false"},
		{"partial secret arn", map[string]any{"twilioSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:twilio"}, Config{}, "context twilioSecretArn: want the complete ARN"},
		{"not a secret", map[string]any{"githubTokenSecretArn": "arn:aws:ssm:us-east-1:123456789012:parameter/gh-AbCdEf"}, Config{}, "context githubTokenSecretArn"},
		{"github api over http", map[string]any{"githubApiUrl": "http://ghe.example.com/api/v3/"}, Config{}, "context githubApiUrl: want an https URL"},
		{"github api not a url", map[string]any{"githubApiUrl": "ghe.example.com"}, Config{}, "context githubApiUrl: want an https URL"},
		{"github api with credentials", map[string]any{"githubApiUrl": "https://u:p@ghe.example.com/api/v3/"}, Config{}, "context githubApiUrl: want an https URL"},
		{"github api with a query", map[string]any{"githubApiUrl": "https://ghe.example.com/api/v3/?x=1"}, Config{}, "context githubApiUrl: want an https URL"},
		{"target prefixes", map[string]any{"allowedTargetPrefixes": " 10.1.0.0/16,,fd12:3456::/48 "},
			Config{StackName: "Stepmon", RepoRoot: "..", Auth: AuthIAM, StateMachineLogLevel: LogError,
				AllowedTargetPrefixes: []string{"10.1.0.0/16", "fd12:3456::/48"}}, ""},
		{"target prefix not a CIDR", map[string]any{"allowedTargetPrefixes": "10.1.0.0"}, Config{}, "context allowedTargetPrefixes: want"},
		{"target prefix not a network", map[string]any{"allowedTargetPrefixes": "10.1.2.3/16"}, Config{}, "context allowedTargetPrefixes: want"},
		{"target prefix loopback", map[string]any{"allowedTargetPrefixes": "10.1.0.0/16,127.0.0.0/8"}, Config{}, "overlaps loopback"},
		{"target prefix everything", map[string]any{"allowedTargetPrefixes": "0.0.0.0/0"}, Config{}, "context allowedTargetPrefixes"},
		{"target prefix metadata", map[string]any{"allowedTargetPrefixes": "169.254.169.254/32"}, Config{}, "link-local"},
		{"target prefix metadata v6", map[string]any{"allowedTargetPrefixes": "fd00:ec2::/32"}, Config{}, "fd00:ec2::254"},
		{"target prefix v6 loopback", map[string]any{"allowedTargetPrefixes": "::/0"}, Config{}, "context allowedTargetPrefixes"},
		{"target prefixes and private targets", map[string]any{"allowedTargetPrefixes": "10.1.0.0/16", "allowPrivateTargets": true}, Config{},
			"context allowedTargetPrefixes: not with allowPrivateTargets"},
		{"vpc", map[string]any{"vpcSubnetIds": "subnet-0123456789abcdef0, subnet-89abcdef", "vpcSecurityGroupIds": "sg-0123456789abcdef0"},
			Config{StackName: "Stepmon", RepoRoot: "..", Auth: AuthIAM, StateMachineLogLevel: LogError,
				VPCSubnetIDs: []string{"subnet-0123456789abcdef0", "subnet-89abcdef"}, VPCSecurityGroupIDs: []string{"sg-0123456789abcdef0"}}, ""},
		{"vpc without security groups", map[string]any{"vpcSubnetIds": "subnet-0123456789abcdef0"}, Config{}, "context vpcSecurityGroupIds: want"},
		{"security groups without vpc", map[string]any{"vpcSecurityGroupIds": "sg-0123456789abcdef0"}, Config{}, "context vpcSubnetIds: want"},
		{"bad subnet id", map[string]any{"vpcSubnetIds": "subnet-xyz", "vpcSecurityGroupIds": "sg-0123456789abcdef0"}, Config{}, "context vpcSubnetIds: want"},
		{"bad security group id", map[string]any{"vpcSubnetIds": "subnet-0123456789abcdef0", "vpcSecurityGroupIds": "default"}, Config{}, "context vpcSecurityGroupIds: want"},
		{"too many security groups", map[string]any{"vpcSubnetIds": "subnet-0123456789abcdef0",
			"vpcSecurityGroupIds": "sg-00000001,sg-00000002,sg-00000003,sg-00000004,sg-00000005,sg-00000006"}, Config{}, "context vpcSecurityGroupIds: want at most 5"},
		// -c key=" value " keeps the shell's spaces; every string value is trimmed.
		{"string values trimmed", map[string]any{"stackName": " Mon-3 ", "repoRoot": " /src ", "auth": " apiKey "},
			Config{StackName: "Mon-3", RepoRoot: "/src", Auth: AuthAPIKey, StateMachineLogLevel: LogError}, ""},
		{"check concurrency as a boolean", map[string]any{"checkReservedConcurrency": true}, Config{}, "context checkReservedConcurrency: want a whole number from 1"},
		{"check concurrency beyond Lambda's range", map[string]any{"checkReservedConcurrency": "3000000000"}, Config{}, "context checkReservedConcurrency: want a whole number from 1"},
		{"github api without a host", map[string]any{"githubApiUrl": "https:///api/v3/"}, Config{}, "context githubApiUrl: want an https URL"},
		{"sixteen subnets", map[string]any{"vpcSubnetIds": subnetIDs(16), "vpcSecurityGroupIds": "sg-00000001"},
			Config{StackName: "Stepmon", RepoRoot: "..", Auth: AuthIAM, StateMachineLogLevel: LogError,
				VPCSubnetIDs: strings.Split(subnetIDs(16), ","), VPCSecurityGroupIDs: []string{"sg-00000001"}}, ""},
		{"seventeen subnets", map[string]any{"vpcSubnetIds": subnetIDs(17), "vpcSecurityGroupIds": "sg-00000001"}, Config{}, "context vpcSubnetIds: want at most 16 ids, got 17"},
		{"bad stack name", map[string]any{"stackName": "my_stack"}, Config{}, "context stackName"},
		{"number", map[string]any{"auth": 3}, Config{}, "context auth: want a string or boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Context: &tc.ctx})
			got, err := ConfigFromContext(app.Node())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// subnetIDs returns n distinct subnet ids, comma-separated.
func subnetIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("subnet-%08x", i+1)
	}
	return strings.Join(ids, ",")
}

// Validate refuses negative counts, which ConfigFromContext never makes but
// a Config built in code can hold.
func TestValidateNegativeCounts(t *testing.T) {
	base := Config{StackName: "Stepmon", RepoRoot: "..", Auth: AuthIAM, StateMachineLogLevel: LogError}
	if err := base.Validate(); err != nil {
		t.Fatalf("Validate(%+v) = %v, want nil", base, err)
	}
	for _, tc := range []struct {
		name    string
		set     func(*Config)
		wantErr string
	}{
		{"check concurrency", func(c *Config) { c.CheckReservedConcurrency = -1 }, "context checkReservedConcurrency: want a whole number from 1, got -1"},
		{"interval floor", func(c *Config) { c.MinPollingIntervalSeconds = -1 }, "context minPollingIntervalSeconds: want a whole number of seconds from 1 to 86400, got -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.set(&c)
			if err := c.Validate(); err == nil || err.Error() != tc.wantErr {
				t.Errorf("Validate() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoadDefinition(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	values := map[string]string{"CheckFunctionArn": "arn:check", "AlertFunctionArn": "arn:alert"}
	for _, tc := range []struct {
		name, file, want, wantErr string
	}{
		{"substitutes", `{"A":"${CheckFunctionArn}","B":["${AlertFunctionArn}","${CheckFunctionArn}"],"C":"$.x"}`,
			`{"A":"arn:check","B":["arn:alert","arn:check"],"C":"$.x"}`, ""},
		{"unknown placeholder", `{"A":"${StatusFunctionArn}"}`, "", "no value for ${StatusFunctionArn} (known: AlertFunctionArn, CheckFunctionArn)"},
		{"not json", `{"A":`, "", "not a JSON object"},
		{"array", `["${CheckFunctionArn}"]`, "", "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadDefinition(write(tc.name+".json", tc.file), values)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %s\nwant %s", got, tc.want)
			}
		})
	}
	if _, err := LoadDefinition(filepath.Join(dir, "missing.json"), values); err == nil {
		t.Error("missing file: no error")
	}
}

// TestInPartition: service integrations move to the partition given, and
// nothing else does (a Lambda ARN in a Parameters value, text that merely
// mentions the prefix inside a longer string).
func TestInPartition(t *testing.T) {
	for _, tc := range []struct{ partition, def, want string }{
		{"aws-cn",
			`{"A":{"Resource":"arn:aws:states:::lambda:invoke"},"B":{"Resource":"arn:aws:states:::states:startExecution"}}`,
			`{"A":{"Resource":"arn:aws-cn:states:::lambda:invoke"},"B":{"Resource":"arn:aws-cn:states:::states:startExecution"}}`},
		{"${Token[AWS.Partition.9]}",
			`{"Resource":"arn:aws:states:::lambda:invoke"}`,
			`{"Resource":"arn:${Token[AWS.Partition.9]}:states:::lambda:invoke"}`},
		{"aws-us-gov",
			`{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:f","Comment":"see arn:aws:states:::lambda:invoke"}`,
			`{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:f","Comment":"see arn:aws:states:::lambda:invoke"}`},
		{"aws", `{"Resource":"arn:aws:states:::lambda:invoke"}`, `{"Resource":"arn:aws:states:::lambda:invoke"}`},
	} {
		if got := InPartition(tc.def, tc.partition); got != tc.want {
			t.Errorf("InPartition(%s, %q)\n got %s\nwant %s", tc.def, tc.partition, got, tc.want)
		}
	}
}

// TestRepositoryDefinition: the repository's statemachine.asl.json uses only
// the substitutions the stack provides.
func TestRepositoryDefinition(t *testing.T) {
	def, err := LoadDefinition(filepath.Join(repoRootForTests(), "statemachine.asl.json"), map[string]string{
		"CheckFunctionArn": "c", "AlertFunctionArn": "a", "StatusFunctionArn": "s",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "arn:aws:states:::states:startExecution") {
		t.Error("the definition does not continue as new through states:startExecution, which the self-start grant is for")
	}
}

// TestTaskTimeoutsCoverFunctions: a Task of the repository's definition that
// invokes a function gives it longer than the function's own timeout, so a
// slow but healthy invocation ends as the function's answer, not as
// States.Timeout.
func TestTaskTimeoutsCoverFunctions(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRootForTests(), "statemachine.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		States map[string]struct {
			Type           string
			TimeoutSeconds float64
			Parameters     struct{ FunctionName string }
		}
	}
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	timeouts := map[string]float64{
		"${CheckFunctionArn}":  CheckTimeoutSeconds,
		"${AlertFunctionArn}":  AlertTimeoutSeconds,
		"${StatusFunctionArn}": StatusTimeoutSeconds,
	}
	for name, st := range def.States {
		fn, ok := timeouts[st.Parameters.FunctionName]
		if st.Type != "Task" || !ok || st.TimeoutSeconds == 0 {
			continue
		}
		if st.TimeoutSeconds <= fn {
			t.Errorf("state %s: TimeoutSeconds %v, want more than the function's %v s", name, st.TimeoutSeconds, fn)
		}
	}
}

func TestStateMachineName(t *testing.T) {
	if got := StateMachineName("Stepmon"); got != "Stepmon-monitor" {
		t.Errorf("got %q", got)
	}
}

// TestPackagesExcludeNodeModules: `go test ./...` and `go vet ./...` in
// infra/ see only the app. node_modules/aws-cdk ships Go template files
// (%name%.template.go) that do not build; npm's postinstall writes
// node_modules/go.mod, which makes node_modules a module of its own and
// takes it out of ./... .
// TestFunctionsAll: Functions.All names one function for each name of
// FunctionNames, in its order, which the build, the construct ids and
// TableActions go by.
func TestFunctionsAll(t *testing.T) {
	var names []string
	for _, f := range (Functions{}).All() {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, FunctionNames) {
		t.Errorf("Functions.All names %q, want FunctionNames %q", names, FunctionNames)
	}
}

func TestPackagesExcludeNodeModules(t *testing.T) {
	requirePath(t, "node_modules", "run make deps")
	cmd := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}", "./...")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	got := strings.Fields(string(out))
	if want := []string{"github.com/stepmon/stepmon/infra"}; !slices.Equal(got, want) {
		t.Errorf("go list ./... = %v, want %v", got, want)
	}
}

func TestIsSecretARN(t *testing.T) {
	for _, tc := range []struct {
		arn  string
		want bool
	}{
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbCdEf", true},
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:stepmon/github-AbCdEf", true},
		{"arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a/b-123456", true},
		{"arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:a_b+c=d.e@f-zzzzzz", true},
		// Wildcards would grant every secret they match.
		{"arn:aws:secretsmanager:*:*:secret:*-AbCdEf", false},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:*-AbCdEf", false},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-??????", false},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/*-AbCdEf", false},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbC?Ef", false},
		{"arn:aws:secretsmanager:us-east-?:123456789012:secret:gh-AbCdEf", false},
		{"arn:aws:secretsmanager:us-east-1:12345678901?:secret:gh-AbCdEf", false},
		// Anything before or after the ARN, a wildcard included.
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbCdEf*", false},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbCdEf-?", false},
		{"*arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbCdEf", false},
		{" arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbCdEf", false},
		// The account is 12 digits, the region a region's shape.
		{"arn:aws:secretsmanager:us-east-1:1234:secret:gh-AbCdEf", false},
		{"arn:aws:secretsmanager:us-east-1:account12345:secret:gh-AbCdEf", false},
		{"arn:aws:secretsmanager:useast1:123456789012:secret:gh-AbCdEf", false},
		{"arn:aws:secretsmanager::123456789012:secret:gh-AbCdEf", false},
		// The name needs its six-character suffix.
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:gh", false},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:gh-AbCd", false},
		{"arn:aws:secretsmanager:us-east-1:123456789012:secret:-AbCdEf", false},
		{"arn:aws:sns:us-east-1:123456789012:secret:gh-AbCdEf", false},
		{"arn:aws:secretsmanager:us-east-1:123456789012:parameter:gh-AbCdEf", false},
	} {
		if got := isSecretARN(tc.arn); got != tc.want {
			t.Errorf("isSecretARN(%q) = %v, want %v", tc.arn, got, tc.want)
		}
	}
}
