package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
)

// assert runs an assertions.Template check, which panics on failure, and
// reports the failure on t instead.
func assert(t *testing.T, what string, check func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	check()
}

// listIndex is the table's GSI that the status function lists monitors
// through: it projects exactly the attributes a listed record is read
// from (dynamostore.ListAttributes, which a test there compares with
// ListIndexAttributes), not the events.
var listIndex = map[string]any{
	"IndexName": "byCreatedV2",
	"KeySchema": []any{
		map[string]any{"AttributeName": "gsi1pk", "KeyType": "HASH"},
		map[string]any{"AttributeName": "gsi1sk", "KeyType": "RANGE"},
	},
	"Projection": map[string]any{
		"ProjectionType": "INCLUDE",
		"NonKeyAttributes": []any{"id", "nm", "st", "inp", "cs", "out", "ct", "lut", "arn", "exp",
			"pa", "als", "alc", "aln", "alt", "ald", "alm", "ale", "pe"},
	},
}

func TestTable(t *testing.T) {
	r := synth(t, "default", defaultContext)
	assert(t, "one table", func() { r.template.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(1)) })
	assert(t, "table properties", func() {
		r.template.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"KeySchema": []any{
				map[string]any{"AttributeName": "pk", "KeyType": "HASH"},
				map[string]any{"AttributeName": "sk", "KeyType": "RANGE"},
			},
			"AttributeDefinitions": assertions.Match_ArrayWith(&[]any{
				map[string]any{"AttributeName": "pk", "AttributeType": "S"},
				map[string]any{"AttributeName": "sk", "AttributeType": "S"},
				map[string]any{"AttributeName": "gsi1pk", "AttributeType": "S"},
				map[string]any{"AttributeName": "gsi1sk", "AttributeType": "S"},
			}),
			"BillingMode":                      "PAY_PER_REQUEST",
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"TimeToLiveSpecification":          map[string]any{"AttributeName": "ttl", "Enabled": true},
			"GlobalSecondaryIndexes":           []any{listIndex},
		})
	})
	// While a stack is upgraded (keepPreviousListIndex, set in the options
	// variant), the table keeps the index of earlier versions too.
	assert(t, "table properties with the previous list index", func() {
		synth(t, "options", optionsContext).template.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"GlobalSecondaryIndexes": []any{listIndex, map[string]any{
				"IndexName":  "byCreated",
				"KeySchema":  listIndex["KeySchema"],
				"Projection": map[string]any{"ProjectionType": "ALL"},
			}},
		})
	})

	// The table survives a deleted stack (RETAIN) and refuses DeleteTable
	// (deletion protection) unless the stack is a test stack deployed with
	// destroyData, whose `cdk destroy` must be able to delete it.
	for _, tc := range []struct {
		variant    string
		ctx        map[string]any
		want       string
		protection bool
	}{
		{"default", defaultContext, "Retain", true},
		{"options", optionsContext, "Delete", false},
	} {
		r := synth(t, tc.variant, tc.ctx)
		for id, res := range r.resources("AWS::DynamoDB::Table") {
			if got := res["DeletionPolicy"]; got != tc.want {
				t.Errorf("%s: table %s DeletionPolicy = %v, want %s", tc.variant, id, got, tc.want)
			}
			props := res["Properties"].(map[string]any)
			if got, _ := props["DeletionProtectionEnabled"].(bool); got != tc.protection {
				t.Errorf("%s: table %s DeletionProtectionEnabled = %v, want %v", tc.variant, id, props["DeletionProtectionEnabled"], tc.protection)
			}
		}
	}
}

func TestFunctions(t *testing.T) {
	for _, tc := range []struct {
		variant string
		ctx     map[string]any
		env     map[string][]string // function -> env var names
		private string
		sms     string // the start function's SMS_CHANNELS
	}{
		{"default", defaultContext, map[string][]string{
			"start":  {"ALERT_TOPIC_ARN", "ALLOW_PRIVATE_TARGETS", "SMS_CHANNELS", "STATE_MACHINE_ARN", "TABLE_NAME"},
			"check":  {"ALLOW_PRIVATE_TARGETS", "METRICS_NAMESPACE", "TABLE_NAME"},
			"alert":  {"ALERT_TOPIC_ARN", "ALLOW_PRIVATE_TARGETS", "TABLE_NAME"},
			"status": {"LIST_INDEX", "STATE_MACHINE_ARN", "TABLE_NAME"},
		}, "false", "none"},
		{"options", optionsContext, map[string][]string{
			"start":  {"ALERT_TOPIC_ARN", "ALERT_TOPIC_ARNS", "ALLOW_PRIVATE_TARGETS", "MIN_POLLING_INTERVAL_SECONDS", "SMS_CHANNELS", "STATE_MACHINE_ARN", "TABLE_NAME"},
			"check":  {"ALLOW_PRIVATE_TARGETS", "GITHUB_API_URL", "GITHUB_TOKEN_SECRET_ARN", "METRICS_NAMESPACE", "TABLE_NAME"},
			"alert":  {"ALERT_TOPIC_ARN", "ALERT_TOPIC_ARNS", "ALLOW_PRIVATE_TARGETS", "TABLE_NAME", "TWILIO_SECRET_ARN", "WEBHOOK_SECRET_ARN"},
			"status": {"LIST_INDEX", "MIN_POLLING_INTERVAL_SECONDS", "STATE_MACHINE_ARN", "TABLE_NAME"},
		}, "true", "sns,twilio"},
		{"private", privateContext, map[string][]string{
			"start":  {"ALERT_TOPIC_ARN", "ALLOWED_TARGET_PREFIXES", "ALLOW_PRIVATE_TARGETS", "SMS_CHANNELS", "STATE_MACHINE_ARN", "TABLE_NAME"},
			"check":  {"ALLOWED_TARGET_PREFIXES", "ALLOW_PRIVATE_TARGETS", "METRICS_NAMESPACE", "TABLE_NAME"},
			"alert":  {"ALERT_TOPIC_ARN", "ALLOWED_TARGET_PREFIXES", "ALLOW_PRIVATE_TARGETS", "TABLE_NAME"},
			"status": {"LIST_INDEX", "STATE_MACHINE_ARN", "TABLE_NAME"},
		}, "false", "none"},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			r := synth(t, tc.variant, tc.ctx)
			fns := r.resources("AWS::Lambda::Function")
			if len(fns) != len(FunctionNames) {
				t.Fatalf("got %d functions, want %d", len(fns), len(FunctionNames))
			}
			tableID := logicalID(t, r.stack, r.stack.Table)
			// envOf returns the environment variables of fn.
			envOf := func(fn awslambda.Function) map[string]any {
				return fns[logicalID(t, r.stack, fn)]["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
			}
			smName := StateMachineName(*r.stack.StackName())
			for _, f := range r.stack.Functions.All() {
				name := f.Name
				id := logicalID(t, r.stack, f.Function)
				props := fns[id]["Properties"].(map[string]any)
				for k, want := range map[string]any{
					"Runtime":       "provided.al2023",
					"Handler":       "bootstrap",
					"Architectures": []any{"arm64"},
					"TracingConfig": map[string]any{"Mode": "Active"},
					"MemorySize":    256,
				} {
					if got := props[k]; fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s: %s = %v, want %v", name, k, got, want)
					}
				}
				// JSON log lines, in a log group of the function's own that
				// keeps them a month.
				logging, _ := props["LoggingConfig"].(map[string]any)
				if logging["LogFormat"] != "JSON" {
					t.Errorf("%s: LoggingConfig = %v, want LogFormat JSON", name, logging)
				}
				if ref, _ := logging["LogGroup"].(map[string]any); ref == nil {
					t.Errorf("%s: LoggingConfig = %v, want a LogGroup of the stack", name, logging)
				} else {
					group, _ := r.resources("AWS::Logs::LogGroup")[fmt.Sprint(ref["Ref"])]["Properties"].(map[string]any)
					if days := group["RetentionInDays"]; days != float64(30) {
						t.Errorf("%s: log group %v keeps logs %v days, want 30", name, ref["Ref"], days)
					}
				}
				if _, ok := props["Code"].(map[string]any)["S3Key"]; !ok {
					t.Errorf("%s: Code = %v, want an S3 asset", name, props["Code"])
				}
				vars := envOf(f.Function)
				var got []string
				for k := range vars {
					got = append(got, k)
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.env[name]) {
					t.Errorf("%s: env = %v, want %v", name, got, tc.env[name])
				}
				if ref := jsonOf(vars["TABLE_NAME"]); ref != `{"Ref":"`+tableID+`"}` {
					t.Errorf("%s: TABLE_NAME = %s, want a Ref to the table", name, ref)
				}
				if v, ok := vars["STATE_MACHINE_ARN"]; ok {
					// Built from the name, so that the state machine, whose
					// definition references the functions, is not referenced back.
					s := jsonOf(v)
					if !strings.Contains(s, ":stateMachine:"+smName) || strings.Contains(s, "Ref\":\"StateMachine") {
						t.Errorf("%s: STATE_MACHINE_ARN = %s, want an ARN built from the name %s", name, s, smName)
					}
				}
				if name != "status" && vars["ALLOW_PRIVATE_TARGETS"] != tc.private {
					t.Errorf("%s: ALLOW_PRIVATE_TARGETS = %v, want %s", name, vars["ALLOW_PRIVATE_TARGETS"], tc.private)
				}
				if name != "status" {
					// Normalized: the guard reads them (lambdaenv.EgressOptions).
					want := map[string]any{"private": "10.1.0.0/16,fd12:3456::/48"}[tc.variant]
					if got := vars["ALLOWED_TARGET_PREFIXES"]; got != want {
						t.Errorf("%s: ALLOWED_TARGET_PREFIXES = %v, want %v", name, got, want)
					}
				}
				// In the VPC only on request, and only the functions that
				// call targets; the others reach nothing but AWS APIs.
				var wantVPC any
				if tc.variant == "private" && (name == "check" || name == "alert") {
					wantVPC = map[string]any{
						"SubnetIds":        []any{"subnet-0123456789abcdef0", "subnet-0fedcba9876543210"},
						"SecurityGroupIds": []any{"sg-0123456789abcdef0"},
					}
				}
				if got := props["VpcConfig"]; jsonOf(got) != jsonOf(wantVPC) {
					t.Errorf("%s: VpcConfig = %s, want %s", name, jsonOf(got), jsonOf(wantVPC))
				}
				// Reserved concurrency only on request, and only for checks:
				// reserving any fails the deploy on a new account whose
				// limit is 10, none of which Lambda lets be reserved.
				var wantReserved any
				if name == "check" && tc.variant == "options" {
					wantReserved = float64(50)
				}
				if got := props["ReservedConcurrentExecutions"]; got != wantReserved {
					t.Errorf("%s: ReservedConcurrentExecutions = %v, want %v", name, got, wantReserved)
				}
			}
			// The status function lists through the new index, or through
			// the previous one while a stack is upgraded (options variant).
			if got, want := envOf(r.stack.Functions.Status)["LIST_INDEX"], map[bool]string{false: "byCreatedV2", true: "byCreated"}[tc.variant == "options"]; got != want {
				t.Errorf("status: LIST_INDEX = %v, want %s", got, want)
			}
			if got := envOf(r.stack.Functions.Start)["SMS_CHANNELS"]; got != tc.sms {
				t.Errorf("start: SMS_CHANNELS = %v, want %s", got, tc.sms)
			}
			if floor, ok := tc.ctx["minPollingIntervalSeconds"]; ok {
				for _, fn := range []awslambda.Function{r.stack.Functions.Start, r.stack.Functions.Status} {
					if got, want := envOf(fn)["MIN_POLLING_INTERVAL_SECONDS"], fmt.Sprint(floor); got != want {
						t.Errorf("%s: MIN_POLLING_INTERVAL_SECONDS = %v, want %s", *fn.Node().Id(), got, want)
					}
				}
			}
			topicRef := `{"Ref":"` + logicalID(t, r.stack, r.stack.AlertTopic) + `"}`
			for _, fn := range []awslambda.Function{r.stack.Functions.Start, r.stack.Functions.Alert} {
				// The topics a monitor may alert to: the stack's and the
				// alertTopicArns context, checked at start and before sending.
				name := *fn.Node().Id()
				vars := envOf(fn)
				if got := jsonOf(vars["ALERT_TOPIC_ARN"]); got != topicRef {
					t.Errorf("%s: ALERT_TOPIC_ARN = %s, want %s", name, got, topicRef)
				}
				const topics = "arn:aws:sns:us-east-1:123456789012:oncall,arn:aws:sns:eu-west-1:123456789012:team.fifo"
				if tc.variant == "options" && vars["ALERT_TOPIC_ARNS"] != topics {
					t.Errorf("%s: ALERT_TOPIC_ARNS = %v, want %s", name, vars["ALERT_TOPIC_ARNS"], topics)
				}
			}
			if tc.variant == "options" {
				vars := envOf(r.stack.Functions.Check)
				if got, want := vars["GITHUB_TOKEN_SECRET_ARN"], optionsContext["githubTokenSecretArn"]; got != want {
					t.Errorf("GITHUB_TOKEN_SECRET_ARN = %v, want %v", got, want)
				}
				if got, want := vars["GITHUB_API_URL"], optionsContext["githubApiUrl"]; got != want {
					t.Errorf("GITHUB_API_URL = %v, want %v", got, want)
				}
				for key, ctxKey := range map[string]string{"TWILIO_SECRET_ARN": "twilioSecretArn", "WEBHOOK_SECRET_ARN": "webhookSecretArn"} {
					if got, want := envOf(r.stack.Functions.Alert)[key], optionsContext[ctxKey]; got != want {
						t.Errorf("alert: %s = %v, want %v", key, got, want)
					}
				}
			}
		})
	}
}

// TestFunctionTimeouts: each function may run as long as its code's own
// budget: a 60 s HTTP or GitHub check, three 15 s alert sends with pauses.
func TestFunctionTimeouts(t *testing.T) {
	r := synth(t, "default", defaultContext)
	fns := r.resources("AWS::Lambda::Function")
	f := r.stack.Functions
	for _, tc := range []struct {
		fn   awslambda.Function
		want float64
	}{{f.Start, 15}, {f.Check, 90}, {f.Alert, 75}, {f.Status, 15}} {
		props := fns[logicalID(t, r.stack, tc.fn)]["Properties"].(map[string]any)
		if got, _ := props["Timeout"].(float64); got != tc.want {
			t.Errorf("%s: Timeout = %v, want %v", *tc.fn.Node().Id(), props["Timeout"], tc.want)
		}
	}
}

func TestStateMachine(t *testing.T) {
	r := synth(t, "default", defaultContext)
	smName := StateMachineName(DefaultStackName)
	assert(t, "state machine properties", func() {
		r.template.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), map[string]any{
			"StateMachineName":     smName,
			"StateMachineType":     "STANDARD",
			"TracingConfiguration": map[string]any{"Enabled": true},
			"LoggingConfiguration": map[string]any{
				"Level":                "ERROR",
				"IncludeExecutionData": false,
				"Destinations":         assertions.Match_AnyValue(),
			},
		})
	})
	// -c stateMachineLogLevel=ALL (the options variant) logs every event,
	// for debugging; still without execution data.
	assert(t, "state machine logging with stateMachineLogLevel=ALL", func() {
		synth(t, "options", optionsContext).template.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), map[string]any{
			"LoggingConfiguration": map[string]any{
				"Level":                "ALL",
				"IncludeExecutionData": false,
				"Destinations":         assertions.Match_AnyValue(),
			},
		})
	})
	sms := r.resources("AWS::StepFunctions::StateMachine")
	if len(sms) != 1 {
		t.Fatalf("got %d state machines, want 1", len(sms))
	}
	for _, sm := range sms {
		props := sm["Properties"].(map[string]any)
		if _, ok := props["DefinitionSubstitutions"]; ok {
			t.Errorf("DefinitionSubstitutions present; the substitutions are made at synth time")
		}
		def := jsonOf(props["DefinitionString"])
		if strings.Contains(def, "${") {
			t.Errorf("DefinitionString still has a ${...} placeholder: %.300s", def)
		}
		for _, fn := range []awslambda.Function{r.stack.Functions.Check, r.stack.Functions.Alert, r.stack.Functions.Status} {
			ref := `{"Fn::GetAtt":["` + logicalID(t, r.stack, fn) + `","Arn"]}`
			if !strings.Contains(def, ref) {
				t.Errorf("DefinitionString does not reference the %s's ARN %s", *fn.Node().Id(), ref)
			}
		}
		// The stack is environment-agnostic: the service integrations
		// take the partition it is deployed in (aws-cn, aws-us-gov).
		if strings.Contains(def, "arn:aws:states:") {
			t.Errorf("DefinitionString names the aws partition literally: %.300s", def)
		}
		for _, integration := range []string{"lambda:invoke", "states:startExecution"} {
			if want := `"arn:",{"Ref":"AWS::Partition"},":states:::` + integration; !strings.Contains(def, want) {
				t.Errorf("DefinitionString has no %s in the stack's partition (%s)", integration, want)
			}
		}
		if start := logicalID(t, r.stack, r.stack.Functions.Start); strings.Contains(def, start) {
			t.Errorf("DefinitionString references the start function %s", start)
		}
	}
}

// TestStateMachineRoleTrust: Step Functions may assume the state
// machine's role only for this state machine in this account (the
// confused-deputy conditions of the Step Functions developer guide), and
// the role keeps the logical ID it had before the conditions, so that a
// deployed stack's role is updated in place, not replaced.
func TestStateMachineRoleTrust(t *testing.T) {
	r := synth(t, "default", defaultContext)
	id := logicalID(t, r.stack, r.stack.StateMachine.Role())
	if id != "StateMachineRoleB840431D" {
		t.Errorf("state machine role logical ID = %s, want StateMachineRoleB840431D (a new ID replaces the role)", id)
	}
	role, ok := r.resources("AWS::IAM::Role")[id]
	if !ok {
		t.Fatalf("no role %s in the template", id)
	}
	got := jsonOf(role["Properties"].(map[string]any)["AssumeRolePolicyDocument"])
	smName := StateMachineName(DefaultStackName)
	want := `{"Statement":[{"Action":"sts:AssumeRole","Condition":{` +
		`"ArnLike":{"aws:SourceArn":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":states:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":stateMachine:` + smName + `"]]}},` +
		`"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}},` +
		`"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"}}],"Version":"2012-10-17"}`
	if got != want {
		t.Errorf("state machine role trust policy =\n%s\nwant\n%s", got, want)
	}
}

// TestStateMachineLogGroup: the state machine logs to a vended-logs group
// whose name is new with each creation of the stack, so that a group retained
// by an earlier deletion does not block the next deploy.
func TestStateMachineLogGroup(t *testing.T) {
	r := synth(t, "default", defaultContext)
	stackUUIDTail := `{"Fn::Select":[4,{"Fn::Split":["-",{"Fn::Select":[2,{"Fn::Split":["/",{"Ref":"AWS::StackId"}]}]}]}]}`
	want := `{"Fn::Join":["",["/aws/vendedlogs/states/` + StateMachineName(DefaultStackName) + `-",` + stackUUIDTail + `]]}`
	found := false
	for id, lg := range r.resources("AWS::Logs::LogGroup") {
		props := lg["Properties"].(map[string]any)
		name, ok := props["LogGroupName"]
		if !ok {
			continue // named by CloudFormation
		}
		if got := jsonOf(name); got != want {
			t.Errorf("%s: LogGroupName = %s, want %s", id, got, want)
			continue
		}
		found = true
		if props["RetentionInDays"] != float64(30) {
			t.Errorf("%s: RetentionInDays = %v, want 30", id, props["RetentionInDays"])
		}
	}
	if !found {
		t.Errorf("no log group named %s", want)
	}
}

// statement is one IAM policy statement of a role, normalised.
type statement struct {
	policy    string
	actions   []string
	resources []string // JSON of each resource
}

func (r *synthResult) statements(t *testing.T) []statement {
	t.Helper()
	var out []statement
	for id, p := range r.resources("AWS::IAM::Policy") {
		doc := p["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
		for _, s := range doc["Statement"].([]any) {
			s := s.(map[string]any)
			if s["Effect"] != "Allow" {
				t.Errorf("%s: statement with Effect %v", id, s["Effect"])
			}
			st := statement{policy: id, actions: strs(s["Action"])}
			switch res := s["Resource"].(type) {
			case []any:
				for _, x := range res {
					st.resources = append(st.resources, jsonOf(x))
				}
			default:
				st.resources = []string{jsonOf(res)}
			}
			out = append(out, st)
		}
	}
	return out
}

// starActions are the only actions allowed on Resource "*": they accept no
// resource-level permissions.
var starActions = map[string]bool{
	"xray:PutTraceSegments":         true,
	"xray:PutTelemetryRecords":      true,
	"xray:GetSamplingRules":         true,
	"xray:GetSamplingTargets":       true,
	"logs:CreateLogDelivery":        true,
	"logs:GetLogDelivery":           true,
	"logs:UpdateLogDelivery":        true,
	"logs:DeleteLogDelivery":        true,
	"logs:ListLogDeliveries":        true,
	"logs:PutResourcePolicy":        true,
	"logs:DescribeResourcePolicies": true,
	"logs:DescribeLogGroups":        true,
}

// vpcStarActions are the actions a function in a VPC needs on Resource
// "*": they accept no resource-level permissions.
var vpcStarActions = map[string]bool{
	"ec2:DescribeNetworkInterfaces": true,
	"ec2:DescribeSubnets":           true,
}

// TestGrants checks every IAM statement of the stack: no wildcard actions,
// and on Resource "*" only starActions (and, where the options call for
// them, the VPC and direct-SMS ones). It is the gate for Resource "*":
// cdk-nag's "Resource::*" suppressions (nag.go) cover any action on "*" of
// the roles they are on.
func TestGrants(t *testing.T) {
	for _, tc := range []struct {
		variant string
		ctx     map[string]any
		sms     bool
	}{
		{"default", defaultContext, false},
		{"options", optionsContext, true},
		{"private", privateContext, false},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			r := synth(t, tc.variant, tc.ctx)
			s := r.stack
			fns := s.Functions
			policyOf := func(fn awslambda.Function) string {
				return logicalID(t, s, fn.Role().Node().FindChild(jsii.String("DefaultPolicy")))
			}
			smPolicy := logicalID(t, s, s.StateMachine.Role().Node().FindChild(jsii.String("DefaultPolicy")))
			smName := StateMachineName(*s.StackName())
			smARN := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":states:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":stateMachine:` + smName + `"]]}`
			execARN := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":states:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":execution:` + smName + `:*"]]}`
			fnARN := func(fn awslambda.Function) string {
				return `{"Fn::GetAtt":["` + logicalID(t, s, fn) + `","Arn"]}`
			}

			sts := r.statements(t)
			has := func(policy string, action string, resources ...string) {
				t.Helper()
				for _, st := range sts {
					if st.policy == policy && slices.Contains(st.actions, action) {
						ok := true
						for _, res := range resources {
							ok = ok && slices.Contains(st.resources, res)
						}
						if ok {
							return
						}
					}
				}
				t.Errorf("%s: no statement allows %s on %v", policy, action, resources)
			}
			has(policyOf(fns.Start), "states:StartExecution", smARN)
			has(policyOf(fns.Start), "states:StopExecution", execARN)
			has(policyOf(fns.Start), "states:DescribeExecution", execARN)
			has(policyOf(fns.Status), "states:StopExecution", execARN)
			has(policyOf(fns.Status), "states:DescribeExecution", execARN)
			has(policyOf(fns.Alert), "sns:Publish", `{"Ref":"`+logicalID(t, s, s.AlertTopic)+`"}`)
			// Publishing to the encrypted alert topic needs both, on the
			// topics' key only.
			keys := slices.Collect(maps.Keys(r.resources("AWS::KMS::Key")))
			keys = slices.DeleteFunc(keys, func(id string) bool { return id == logicalID(t, s, s.Table.EncryptionKey()) })
			if len(keys) != 1 {
				t.Fatalf("KMS keys besides the table's %v, want the topics' key only", keys)
			}
			keyARN := `{"Fn::GetAtt":["` + keys[0] + `","Arn"]}`
			has(policyOf(fns.Alert), "kms:Decrypt", keyARN)
			has(policyOf(fns.Alert), "kms:GenerateDataKey", keyARN)
			has(smPolicy, "lambda:InvokeFunction", fnARN(fns.Check), fnARN(fns.Alert), fnARN(fns.Status))
			has(smPolicy, "states:StartExecution", smARN)
			if tc.variant == "options" {
				has(policyOf(fns.Check), "secretsmanager:GetSecretValue", jsonOf(optionsContext["githubTokenSecretArn"]))
				has(policyOf(fns.Alert), "secretsmanager:GetSecretValue", jsonOf(optionsContext["twilioSecretArn"]))
				has(policyOf(fns.Alert), "secretsmanager:GetSecretValue", jsonOf(optionsContext["webhookSecretArn"]))
				// Each named topic by its ARN as given, another region's too
				// (the alert function publishes to it in its region).
				has(policyOf(fns.Alert), "sns:Publish", `"arn:aws:sns:us-east-1:123456789012:oncall"`, `"arn:aws:sns:eu-west-1:123456789012:team.fifo"`)
			}

			// The network interfaces of a function in a VPC: created in
			// the given subnets with the given security groups only.
			eniARN := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ec2:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":network-interface/*"]]}`
			ec2ARN := func(kind, id string) string {
				return `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ec2:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":` + kind + `/` + id + `"]]}`
			}
			if tc.variant == "private" {
				for _, fn := range []awslambda.Function{fns.Check, fns.Alert} {
					has(policyOf(fn), "ec2:CreateNetworkInterface", eniARN,
						ec2ARN("subnet", "subnet-0123456789abcdef0"), ec2ARN("subnet", "subnet-0fedcba9876543210"),
						ec2ARN("security-group", "sg-0123456789abcdef0"))
					for _, a := range []string{"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"} {
						has(policyOf(fn), a, eniARN)
					}
					has(policyOf(fn), "ec2:DescribeNetworkInterfaces", `"*"`)
					has(policyOf(fn), "ec2:DescribeSubnets", `"*"`)
				}
			}
			vpcFunctions := map[string]bool{}
			if tc.variant == "private" {
				vpcFunctions[policyOf(fns.Check)], vpcFunctions[policyOf(fns.Alert)] = true, true
			}

			sawSMS := false
			for _, st := range sts {
				for _, a := range st.actions {
					if strings.HasPrefix(a, "ec2:") && !vpcFunctions[st.policy] {
						t.Errorf("%s: %s, want EC2 actions only for functions in a VPC", st.policy, a)
					}
					if a == "ec2:CreateNetworkInterface" && slices.Contains(st.resources, `"*"`) {
						t.Errorf("%s: %s on Resource \"*\", want the subnets and security groups", st.policy, a)
					}
				}
				for _, a := range st.actions {
					if strings.HasSuffix(a, "*") {
						t.Errorf("%s: wildcard action %s", st.policy, a)
					}
					if a == "lambda:InvokeFunction" && (len(st.resources) != 3 || strings.Contains(strings.Join(st.resources, ""), ":*")) {
						t.Errorf("%s: lambda:InvokeFunction on %v, want the three function ARNs only", st.policy, st.resources)
					}
					if strings.HasPrefix(a, "secretsmanager:") && (tc.variant == "default" || a != "secretsmanager:GetSecretValue") {
						t.Errorf("%s: unexpected %s", st.policy, a)
					}
				}
				for _, res := range st.resources {
					if strings.Contains(res, "/index/*") {
						t.Errorf("%s: resource %s, want the index by name", st.policy, res)
					}
					if res != `"*"` {
						continue
					}
					for _, a := range st.actions {
						switch {
						case a == "sns:Publish" && st.policy == policyOf(fns.Alert) && tc.sms:
							sawSMS = true
						case starActions[a]:
						case vpcStarActions[a] && vpcFunctions[st.policy]:
						default:
							t.Errorf("%s: %s on Resource \"*\"", st.policy, a)
						}
					}
				}
			}
			if sawSMS != tc.sms {
				t.Errorf("sns:Publish on \"*\" granted = %v, want %v (allowDirectSms)", sawSMS, tc.sms)
			}
		})
	}
}

// TestTableGrants: each function may call exactly the DynamoDB actions its
// code makes, on the table by ARN, and only status may query an index: the
// one it lists through (the previous one while a stack is upgraded, in the
// options variant).
func TestTableGrants(t *testing.T) {
	for variant, index := range map[string]string{"default": "byCreatedV2", "options": "byCreated"} {
		t.Run(variant, func(t *testing.T) { testTableGrants(t, variant, index) })
	}
}

func testTableGrants(t *testing.T, variant, index string) {
	r := synth(t, variant, map[string]map[string]any{"default": defaultContext, "options": optionsContext}[variant])
	s := r.stack
	tableRef := `{"Fn::GetAtt":["` + logicalID(t, s, s.Table) + `","Arn"]}`
	indexRef := `{"Fn::Join":["",[` + tableRef + `,"/index/` + index + `"]]}`
	// TableActions and IndexActions are what the code calls: the root
	// module's tests of the functions compare them with the requests each
	// function's store sends.
	want := map[string]map[string][]string{} // function -> resource -> actions
	for _, f := range s.Functions.All() {
		name := f.Name
		want[name] = map[string][]string{}
		for res, actions := range map[string][]string{tableRef: TableActions[name], indexRef: IndexActions[name]} {
			if len(actions) > 0 {
				want[name][res] = slices.Sorted(slices.Values(actions))
			}
		}
	}
	sts := r.statements(t)
	for _, f := range s.Functions.All() {
		name := f.Name
		policy := logicalID(t, s, f.Function.Role().Node().FindChild(jsii.String("DefaultPolicy")))
		got := map[string][]string{}
		for _, st := range sts {
			if st.policy != policy {
				continue
			}
			for _, a := range st.actions {
				if !strings.HasPrefix(a, "dynamodb:") {
					continue
				}
				for _, res := range st.resources {
					got[res] = append(got[res], a)
				}
			}
		}
		for res := range got {
			slices.Sort(got[res])
			got[res] = slices.Compact(got[res])
		}
		if fmt.Sprint(got) != fmt.Sprint(want[name]) {
			t.Errorf("%s: DynamoDB grants\ngot  %v\nwant %v", name, got, want[name])
		}
	}
}

// TestTableKey: the status table is encrypted with a key of its own, with
// rotation, kept or deleted with the table; its policy lets the functions
// decrypt with it, only through DynamoDB in the stack's region, and nothing
// else in the stack uses it.
func TestTableKey(t *testing.T) {
	for _, tc := range []struct {
		variant string
		ctx     map[string]any
		removal string
	}{
		{"default", defaultContext, "Retain"},
		{"options", optionsContext, "Delete"},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			r := synth(t, tc.variant, tc.ctx)
			s := r.stack
			keyID := logicalID(t, s, s.Table.EncryptionKey())
			keyARN := map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}}

			key := r.resources("AWS::KMS::Key")[keyID]
			if key == nil {
				t.Fatalf("no key %s among the stack's KMS keys", keyID)
			}
			if got := key["Properties"].(map[string]any)["EnableKeyRotation"]; got != true {
				t.Errorf("table key EnableKeyRotation = %v, want true", got)
			}
			table := r.resources("AWS::DynamoDB::Table")[logicalID(t, s, s.Table)]
			if key["DeletionPolicy"] != tc.removal || table["DeletionPolicy"] != tc.removal {
				t.Errorf("DeletionPolicy of the key %v and of the table %v, want both %s", key["DeletionPolicy"], table["DeletionPolicy"], tc.removal)
			}
			wantSSE := map[string]any{"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": keyARN}
			if got := table["Properties"].(map[string]any)["SSESpecification"]; jsonOf(got) != jsonOf(wantSSE) {
				t.Errorf("table SSESpecification = %s, want %s", jsonOf(got), jsonOf(wantSSE))
			}
			for id, topic := range r.resources("AWS::SNS::Topic") {
				if strings.Contains(jsonOf(topic), keyID) {
					t.Errorf("topic %s uses the table's key", id)
				}
			}

			// The key's policy: CDK's default statement, which leaves the
			// key's use to IAM in the account, and the functions' use
			// through DynamoDB. No role's policy names the key.
			var roleIDs []string
			for _, f := range s.Functions.All() {
				roleIDs = append(roleIDs, logicalID(t, s, f.Function.Role()))
			}
			slices.Sort(roleIDs) // as CDK orders principals
			var roles []any
			for _, id := range roleIDs {
				roles = append(roles, map[string]any{"Fn::GetAtt": []any{id, "Arn"}})
			}
			want := []any{
				map[string]any{
					"Action":    "kms:*",
					"Effect":    "Allow",
					"Principal": map[string]any{"AWS": map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::", map[string]any{"Ref": "AWS::AccountId"}, ":root"}}}},
					"Resource":  "*",
				},
				map[string]any{
					"Action": "kms:Decrypt",
					"Condition": map[string]any{"StringEquals": map[string]any{
						"kms:ViaService": map[string]any{"Fn::Join": []any{"", []any{"dynamodb.", map[string]any{"Ref": "AWS::Region"}, ".amazonaws.com"}}},
					}},
					"Effect":    "Allow",
					"Principal": map[string]any{"AWS": roles},
					"Resource":  "*",
					"Sid":       "AllowFunctionsThroughDynamoDB",
				},
			}
			got := key["Properties"].(map[string]any)["KeyPolicy"].(map[string]any)["Statement"]
			if jsonOf(got) != jsonOf(want) {
				t.Errorf("table key policy\ngot  %s\nwant %s", jsonOf(got), jsonOf(want))
			}
			for id, p := range r.resources("AWS::IAM::Policy") {
				if strings.Contains(jsonOf(p), keyID) {
					t.Errorf("policy %s names the table's key", id)
				}
			}
		})
	}
}

func TestAPI(t *testing.T) {
	for _, tc := range []struct {
		variant string
		ctx     map[string]any
		auth    string
		apiKey  bool
	}{
		{"default", defaultContext, "AWS_IAM", false},
		{"options", optionsContext, "NONE", true},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			r := synth(t, tc.variant, tc.ctx)
			s := r.stack

			paths := map[string]string{} // resource id -> full path
			res := r.resources("AWS::ApiGateway::Resource")
			var pathOf func(ref any) string
			pathOf = func(ref any) string {
				if m, ok := ref.(map[string]any); ok {
					if id, ok := m["Ref"].(string); ok {
						p := res[id]["Properties"].(map[string]any)
						return pathOf(p["ParentId"]) + "/" + p["PathPart"].(string)
					}
				}
				return "" // the root resource
			}
			for id := range res {
				paths[id] = pathOf(map[string]any{"Ref": id})
			}

			var got []string
			for id, m := range r.resources("AWS::ApiGateway::Method") {
				p := m["Properties"].(map[string]any)
				path := pathOf(p["ResourceId"])
				if path == "" {
					path = "/"
				}
				integ := p["Integration"].(map[string]any)
				if integ["Type"] != "AWS_PROXY" {
					t.Errorf("%s: integration %v, want AWS_PROXY", id, integ["Type"])
				}
				fn := ""
				for _, f := range s.Functions.All() {
					if strings.Contains(jsonOf(integ["Uri"]), logicalID(t, s, f.Function)) {
						fn = f.Name
					}
				}
				got = append(got, fmt.Sprintf("%s %s %s", p["HttpMethod"], path, fn))
				if p["AuthorizationType"] != tc.auth {
					t.Errorf("%s %s: AuthorizationType = %v, want %s", p["HttpMethod"], path, p["AuthorizationType"], tc.auth)
				}
				if key, _ := p["ApiKeyRequired"].(bool); key != tc.apiKey {
					t.Errorf("%s %s: ApiKeyRequired = %v, want %v", p["HttpMethod"], path, key, tc.apiKey)
				}
				// A validator checks only the models and required
				// parameters a method declares; with none it checks
				// nothing and only suggests that API Gateway validates.
				_, models := p["RequestModels"]
				_, params := p["RequestParameters"]
				if p["RequestValidatorId"] != nil && !models && !params {
					t.Errorf("%s %s: a request validator with no model or required parameter to check", p["HttpMethod"], path)
				}
			}
			for id := range r.resources("AWS::ApiGateway::RequestValidator") {
				used := false
				for _, m := range r.resources("AWS::ApiGateway::Method") {
					used = used || jsonOf(m["Properties"].(map[string]any)["RequestValidatorId"]) == `{"Ref":"`+id+`"}`
				}
				if !used {
					t.Errorf("request validator %s: no method uses it", id)
				}
			}
			var want []string
			for _, rt := range Routes {
				want = append(want, fmt.Sprintf("%s %s %s", rt.Method, rt.Path, rt.Function))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("methods:\ngot  %v\nwant %v", got, want)
			}

			// Answers of a kilobyte or more are gzipped for clients that
			// ask, as the local runtime does.
			assert(t, "compression", func() {
				r.template.HasResourceProperties(jsii.String("AWS::ApiGateway::RestApi"), map[string]any{
					"MinimumCompressionSize": MinimumCompressionSize,
				})
			})
			// A regional endpoint: callers reach the region's API Gateway
			// directly, with no CloudFront distribution in between.
			assert(t, "endpoint", func() {
				r.template.HasResourceProperties(jsii.String("AWS::ApiGateway::RestApi"), map[string]any{
					"EndpointConfiguration": map[string]any{"Types": []any{"REGIONAL"}},
				})
			})
			// TLS 1.2 or later on the default endpoint: a regional REST
			// API's default policy, TLS_1_0, accepts TLS 1.0 and 1.1 too.
			assert(t, "TLS policy", func() {
				r.template.HasResourceProperties(jsii.String("AWS::ApiGateway::RestApi"), map[string]any{
					"SecurityPolicy": "TLS_1_2",
				})
			})
			// The access log group keeps requests three months.
			for id, st := range r.resources("AWS::ApiGateway::Stage") {
				dest := st["Properties"].(map[string]any)["AccessLogSetting"].(map[string]any)["DestinationArn"]
				getAtt, _ := dest.(map[string]any)["Fn::GetAtt"].([]any)
				if len(getAtt) == 0 {
					t.Errorf("%s: access log destination %s, want a log group of the stack", id, jsonOf(dest))
					continue
				}
				group, _ := r.resources("AWS::Logs::LogGroup")[fmt.Sprint(getAtt[0])]["Properties"].(map[string]any)
				if days := group["RetentionInDays"]; days != float64(90) {
					t.Errorf("%s: access log group %v keeps logs %v days, want 90", id, getAtt[0], days)
				}
			}
			assert(t, "stage", func() {
				r.template.HasResourceProperties(jsii.String("AWS::ApiGateway::Stage"), map[string]any{
					"StageName":      StageName,
					"TracingEnabled": true,
					"AccessLogSetting": map[string]any{
						"DestinationArn": assertions.Match_AnyValue(),
						"Format":         assertions.Match_StringLikeRegexp(jsii.String(`requestId`)),
					},
					// Stage throttling applies to each method on its own:
					// 50 req/s (burst 100) for every method but start, which
					// starts executions (StartExecution has an account-wide
					// budget) and gets 10 req/s (burst 20), the usage plan's
					// rate with API keys.
					"MethodSettings": []any{
						map[string]any{
							"HttpMethod": "*", "ResourcePath": "/*",
							"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100,
							"MetricsEnabled": true, "DataTraceEnabled": false,
						},
						map[string]any{
							"HttpMethod": "POST", "ResourcePath": "/~1monitors",
							"ThrottlingRateLimit": 10, "ThrottlingBurstLimit": 20,
							"MetricsEnabled": true, "DataTraceEnabled": false,
						},
					},
				})
			})
			if tc.apiKey {
				assert(t, "usage plan throttle", func() {
					r.template.HasResourceProperties(jsii.String("AWS::ApiGateway::UsagePlan"), map[string]any{
						"Throttle": map[string]any{"RateLimit": 10, "BurstLimit": 20},
					})
				})
				// The plan covers the deployed stage: a key of a plan
				// without it is refused on every method.
				assert(t, "usage plan stage", func() {
					r.template.HasResourceProperties(jsii.String("AWS::ApiGateway::UsagePlan"), map[string]any{
						"ApiStages": []any{map[string]any{
							"ApiId": map[string]any{"Ref": logicalID(t, s, s.API)},
							"Stage": map[string]any{"Ref": logicalID(t, s, s.API.DeploymentStage())},
						}},
					})
				})
			}
			n := 0
			if tc.apiKey {
				n = 1
			}
			assert(t, "usage plan", func() { r.template.ResourceCountIs(jsii.String("AWS::ApiGateway::UsagePlan"), jsii.Number(n)) })
			assert(t, "api key", func() { r.template.ResourceCountIs(jsii.String("AWS::ApiGateway::ApiKey"), jsii.Number(n)) })
			// Only with apiGatewayCloudWatchRole (set in the options variant)
			// does the stack set the account's CloudWatch Logs role, retained.
			accounts := r.resources("AWS::ApiGateway::Account")
			if len(accounts) != n {
				t.Errorf("got %d AWS::ApiGateway::Account, want %d", len(accounts), n)
			}
			for id, acc := range accounts {
				if acc["DeletionPolicy"] != "Retain" {
					t.Errorf("%s: DeletionPolicy = %v, want Retain", id, acc["DeletionPolicy"])
				}
				role := acc["Properties"].(map[string]any)["CloudWatchRoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
				props := r.resources("AWS::IAM::Role")[role]["Properties"].(map[string]any)
				if got := jsonOf(props["ManagedPolicyArns"]); !strings.Contains(got, "service-role/AmazonAPIGatewayPushToCloudWatchLogs") {
					t.Errorf("%s: ManagedPolicyArns = %s, want AmazonAPIGatewayPushToCloudWatchLogs", role, got)
				}
			}
		})
	}
}

// TestAccessLogFormat: the stage's access log is one JSON object per
// request, with what it takes to tell a refused request (API Gateway's
// error message) from a failed or slow function (the integration's error
// message and latency), and, with API keys, which key called. It never logs
// a secret: not the API key's value, headers, bodies or an authorizer's
// context.
func TestAccessLogFormat(t *testing.T) {
	for _, tc := range []struct {
		variant  string
		ctx      map[string]any
		apiKeyID bool
	}{
		{"default", defaultContext, false},
		{"options", optionsContext, true},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			r := synth(t, tc.variant, tc.ctx)
			stages := r.resources("AWS::ApiGateway::Stage")
			if len(stages) != 1 {
				t.Fatalf("got %d stages, want 1", len(stages))
			}
			for _, st := range stages {
				format, _ := st["Properties"].(map[string]any)["AccessLogSetting"].(map[string]any)["Format"].(string)
				// Each $context variable stands for a string without quotes.
				line := regexp.MustCompile(`\$context\.[A-Za-z.]+`).ReplaceAllString(format, "v")
				var fields map[string]string
				if err := json.Unmarshal([]byte(line), &fields); err != nil {
					t.Fatalf("format is not a JSON object of strings (%v): %s", err, format)
				}
				want := map[string]string{
					"requestId":               "$context.requestId",
					"ip":                      "$context.identity.sourceIp",
					"caller":                  "$context.identity.caller",
					"user":                    "$context.identity.user",
					"userArn":                 "$context.identity.userArn",
					"accountId":               "$context.identity.accountId",
					"requestTime":             "$context.requestTime",
					"httpMethod":              "$context.httpMethod",
					"resourcePath":            "$context.resourcePath",
					"path":                    "$context.path",
					"status":                  "$context.status",
					"protocol":                "$context.protocol",
					"responseLength":          "$context.responseLength",
					"responseLatency":         "$context.responseLatency",
					"errorType":               "$context.error.responseType",
					"integrationErrorMessage": "$context.integrationErrorMessage",
					"integrationLatency":      "$context.integrationLatency",
				}
				if tc.apiKeyID {
					want["apiKeyId"] = "$context.identity.apiKeyId"
				}
				for k, v := range want {
					if !strings.Contains(format, `"`+k+`":"`+v+`"`) {
						t.Errorf("field %s: want %q in %s", k, v, format)
					}
				}
				if len(fields) != len(want) {
					t.Errorf("format has %d fields, want %d: %s", len(fields), len(want), format)
				}
				for _, secret := range []string{`$context.identity.apiKey"`, "$input", "$context.authorizer", "$context.requestOverride", "$context.identity.clientCert", "$context.error.message"} {
					if strings.Contains(format, secret) {
						t.Errorf("format logs %s: %s", strings.Trim(secret, `"`), format)
					}
				}
			}
		})
	}
}

// TestGatewayResponses: API Gateway's own answers are JSON in the API's
// error shape; its throttling says when to retry; an unknown route is 404
// where no method takes a token (API keys), and with IAM auth a 403 that
// also fits an unsigned request to a real route.
func TestGatewayResponses(t *testing.T) {
	for _, tc := range []struct {
		variant       string
		ctx           map[string]any
		noRoute, kind string
	}{
		{"default", defaultContext, "403", "rejected"},
		{"options", optionsContext, "404", "not_found"},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			r := synth(t, tc.variant, tc.ctx)
			type want struct{ status, kind, header string }
			wants := map[string]want{
				"THROTTLED":                    {"429", "rate_limited", "'2'"},
				"MISSING_AUTHENTICATION_TOKEN": {tc.noRoute, tc.kind, ""},
				"DEFAULT_4XX":                  {"", "rejected", ""},
				"DEFAULT_5XX":                  {"", "internal", ""},
			}
			got := map[string]bool{}
			for id, gr := range r.resources("AWS::ApiGateway::GatewayResponse") {
				p := gr["Properties"].(map[string]any)
				typ := p["ResponseType"].(string)
				w, ok := wants[typ]
				if !ok {
					t.Errorf("%s: unexpected gateway response %s", id, typ)
					continue
				}
				got[typ] = true
				if status, _ := p["StatusCode"].(string); status != w.status {
					t.Errorf("%s: StatusCode = %q, want %q", typ, status, w.status)
				}
				params, _ := p["ResponseParameters"].(map[string]any)
				header, _ := params["gatewayresponse.header.Retry-After"].(string)
				if header != w.header {
					t.Errorf("%s: Retry-After = %q, want %q", typ, header, w.header)
				}
				// The template is JSON once API Gateway has put in the
				// message, which it quotes itself.
				templates, _ := p["ResponseTemplates"].(map[string]any)
				tmpl, _ := templates["application/json"].(string)
				var body struct{ Error, Message string }
				if err := json.Unmarshal([]byte(strings.ReplaceAll(tmpl, "$context.error.messageString", `"Forbidden"`)), &body); err != nil {
					t.Errorf("%s: template %s is not JSON: %v", typ, tmpl, err)
				} else if body.Error != w.kind || body.Message == "" {
					t.Errorf("%s: body %+v, want error %q and a message", typ, body, w.kind)
				}
			}
			for typ := range wants {
				if !got[typ] {
					t.Errorf("no gateway response for %s", typ)
				}
			}
		})
	}
}

// TestAPIInvokePermissions: API Gateway may invoke the functions for the
// deployed stage's methods only, not for test-invoke-stage or other stages.
func TestAPIInvokePermissions(t *testing.T) {
	r := synth(t, "default", defaultContext)
	stage := `{"Ref":"` + logicalID(t, r.stack, r.stack.API.DeploymentStage()) + `"},"/`
	n := 0
	for id, p := range r.resources("AWS::Lambda::Permission") {
		props := p["Properties"].(map[string]any)
		if props["Principal"] != "apigateway.amazonaws.com" {
			continue
		}
		n++
		arn := jsonOf(props["SourceArn"])
		if !strings.Contains(arn, stage) || strings.Contains(arn, "test-invoke-stage") || strings.Contains(arn, "/*/*/*") {
			t.Errorf("%s: SourceArn %s, want one for stage %s only", id, arn, StageName)
		}
	}
	if n != len(Routes) {
		t.Errorf("got %d API Gateway invoke permissions, want one per route (%d)", n, len(Routes))
	}
}

func TestTerminalStateRule(t *testing.T) {
	r := synth(t, "default", defaultContext)
	s := r.stack
	assert(t, "rule", func() {
		r.template.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"EventPattern": map[string]any{
				"source":      []any{"aws.states"},
				"detail-type": []any{"Step Functions Execution Status Change"},
				"detail": map[string]any{
					"stateMachineArn": []any{map[string]any{"Ref": logicalID(t, s, s.StateMachine)}},
					"status":          []any{"FAILED", "TIMED_OUT", "ABORTED"},
				},
			},
			"State": "ENABLED",
			"Targets": []any{assertions.Match_ObjectLike(&map[string]any{
				"Arn": map[string]any{"Fn::GetAtt": []any{logicalID(t, s, s.Functions.Status), "Arn"}},
				// EventBridge retries an undelivered event 8 times, for
				// up to a day, before it goes to the dead-letter queue.
				"RetryPolicy": map[string]any{"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 86400},
			})},
		})
	})
	assert(t, "permission for events", func() {
		r.template.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"Action":       "lambda:InvokeFunction",
			"Principal":    "events.amazonaws.com",
			"FunctionName": map[string]any{"Fn::GetAtt": []any{logicalID(t, s, s.Functions.Status), "Arn"}},
		})
	})
}

// TestDeadLetters: a terminal-state event that is not recorded, because
// EventBridge could not deliver it or the status function failed on it after
// Lambda's retries, lands in an encrypted, SSL-only queue that alarms.
func TestDeadLetters(t *testing.T) {
	r := synth(t, "default", defaultContext)
	s := r.stack
	queueID := logicalID(t, s, s.DeadLetters)
	queueARN := map[string]any{"Fn::GetAtt": []any{queueID, "Arn"}}
	topicRef := []any{map[string]any{"Ref": logicalID(t, s, s.AlarmTopic)}}
	assert(t, "queue", func() {
		r.template.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
			"SqsManagedSseEnabled":   true,
			"MessageRetentionPeriod": 14 * 24 * 3600,
		})
	})
	assert(t, "SSL only", func() {
		r.template.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
			"Queues": []any{map[string]any{"Ref": queueID}},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Deny",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		})
	})
	assert(t, "rule target's dead-letter queue", func() {
		r.template.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"Targets": []any{assertions.Match_ObjectLike(&map[string]any{
				"Arn":              map[string]any{"Fn::GetAtt": []any{logicalID(t, s, s.Functions.Status), "Arn"}},
				"DeadLetterConfig": map[string]any{"Arn": queueARN},
			})},
		})
	})
	fns := r.resources("AWS::Lambda::Function")
	for _, f := range s.Functions.All() {
		name := f.Name
		props := fns[logicalID(t, s, f.Function)]["Properties"].(map[string]any)
		got, want := jsonOf(props["DeadLetterConfig"]), "null"
		if f.Function == s.Functions.Status {
			want = jsonOf(map[string]any{"TargetArn": queueARN})
		}
		if got != want {
			t.Errorf("%s: DeadLetterConfig = %s, want %s", name, got, want)
		}
	}
	assert(t, "status may send to the queue", func() {
		r.template.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
			"Roles": []any{map[string]any{"Ref": logicalID(t, s, s.Functions.Status.Role())}},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Action": "sqs:SendMessage", "Resource": queueARN,
			})})},
		})
	})
	ruleDim := []any{map[string]any{"Name": "RuleName", "Value": map[string]any{"Ref": logicalID(t, s, s.TerminalStateRule)}}}
	// The dead-letter queue's messages; the events EventBridge gave up
	// delivering (they go to the queue); and the events lost on the way to
	// the queue, which its alarm never sees: EventBridge counts one it
	// could neither deliver nor put in the queue (permissions, the queue
	// gone, the size limit) in InvocationsFailedToBeSentToDlq, by rule,
	// and Lambda one of the status function's own dead letters in
	// DeadLetterErrors.
	for _, a := range []struct {
		name, namespace, metric string
		dims                    []any
	}{
		{"dead letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible",
			[]any{map[string]any{"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{queueID, "QueueName"}}}}},
		{"failed invocations", "AWS/Events", "FailedInvocations", ruleDim},
		{"events lost on the way to the queue", "AWS/Events", "InvocationsFailedToBeSentToDlq", ruleDim},
		{"status function's dead-letter errors", "AWS/Lambda", "DeadLetterErrors",
			[]any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": logicalID(t, s, s.Functions.Status)}}}},
	} {
		assert(t, a.name+" alarm", func() {
			r.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
				"Namespace":          a.namespace,
				"MetricName":         a.metric,
				"Dimensions":         a.dims,
				"ComparisonOperator": "GreaterThanOrEqualToThreshold",
				"Threshold":          1,
				"AlarmActions":       topicRef,
			})
		})
	}
}

// thisAccountOnly is the condition that limits a service principal to
// the stack's own account.
const thisAccountOnly = `{"StringEquals":{"aws:SourceAccount":{"Ref":"AWS::AccountId"}}}`

func TestAlertTopicAndAlarms(t *testing.T) {
	r := synth(t, "default", defaultContext)
	s := r.stack
	topicRef := map[string]any{"Ref": logicalID(t, s, s.AlarmTopic)}
	// A metric with no data points (no errors, no throttling: the usual
	// case) leaves each alarm OK, not INSUFFICIENT_DATA.
	// Each alarm notifies the alarm topic when it fires and again when
	// it clears.
	for id, a := range r.resources("AWS::CloudWatch::Alarm") {
		props := a["Properties"].(map[string]any)
		if got := props["TreatMissingData"]; got != "notBreaching" {
			t.Errorf("%s: TreatMissingData = %v, want notBreaching", id, got)
		}
		for _, k := range []string{"AlarmActions", "OKActions"} {
			if got, want := fmt.Sprint(props[k]), fmt.Sprint([]any{topicRef}); got != want {
				t.Errorf("%s: %s = %s, want %s", id, k, got, want)
			}
		}
	}
	assert(t, "two encrypted topics: alerts and alarms", func() {
		r.template.ResourceCountIs(jsii.String("AWS::SNS::Topic"), jsii.Number(2))
	})
	// CloudWatch may publish to the alarm topic only: a monitor's alert
	// subscribers do not hear the stack's alarms.
	for _, tc := range []struct {
		topic awssns.Topic
		want  bool
	}{{s.AlarmTopic, true}, {s.AlertTopic, false}} {
		ref := map[string]any{"Ref": logicalID(t, s, tc.topic)}
		found, sslOnly := false, false
		for _, p := range r.resources("AWS::SNS::TopicPolicy") {
			props := p["Properties"].(map[string]any)
			if !slices.ContainsFunc(props["Topics"].([]any), func(x any) bool { return reflect.DeepEqual(x, ref) }) {
				continue
			}
			for _, st := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				if pr, _ := st["Principal"].(map[string]any); pr["Service"] == "cloudwatch.amazonaws.com" {
					found = true
					// Only this account's alarms: no other account's
					// alarm can publish to the topic through CloudWatch.
					if got := jsonOf(st["Condition"]); got != thisAccountOnly {
						t.Errorf("topic %v: CloudWatch may publish under %s, want %s", ref, got, thisAccountOnly)
					}
				}
				if st["Effect"] == "Deny" && jsonOf(st["Condition"]) == `{"Bool":{"aws:SecureTransport":"false"}}` {
					sslOnly = true
				}
			}
		}
		if found != tc.want {
			t.Errorf("topic %v: CloudWatch may publish = %v, want %v", ref, found, tc.want)
		}
		if !sslOnly {
			t.Errorf("topic %v: no statement denies requests without TLS", ref)
		}
	}
	// The topics' key: CloudWatch may use it for this account's alarms
	// only. (The table's key is TestTableKey's.)
	for id, k := range r.resources("AWS::KMS::Key") {
		if id == logicalID(t, r.stack, r.stack.Table.EncryptionKey()) {
			continue
		}
		found := false
		for _, st := range k["Properties"].(map[string]any)["KeyPolicy"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if pr, _ := st["Principal"].(map[string]any); pr["Service"] == "cloudwatch.amazonaws.com" {
				found = true
				if got := jsonOf(st["Condition"]); got != thisAccountOnly {
					t.Errorf("%s: CloudWatch may use the key under %s, want %s", id, got, thisAccountOnly)
				}
			}
		}
		if !found {
			t.Errorf("%s: CloudWatch may not use the key, so alarms cannot publish to the encrypted alarm topic", id)
		}
	}
	assert(t, "encrypted topic", func() {
		r.template.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{
			"KmsMasterKeyId": assertions.Match_AnyValue(),
		})
	})
	assert(t, "key rotation", func() {
		r.template.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{"EnableKeyRotation": true})
	})
	assert(t, "SSL only", func() {
		r.template.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Deny",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		})
	})
	smDims := []any{map[string]any{"Name": "StateMachineArn", "Value": map[string]any{"Ref": logicalID(t, s, s.StateMachine)}}}
	assert(t, "ExecutionsFailed alarm", func() {
		r.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "AWS/States", "MetricName": "ExecutionsFailed", "Dimensions": smDims,
			"AlarmActions": []any{topicRef},
		})
	})
	// Throttled checks are late (retried for up to an hour before they
	// fail their monitors): throttling of the check function in three
	// consecutive 5-minute periods has its own alarm, apart from the one
	// that a single throttled invocation sets off.
	checkDims := []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": logicalID(t, s, s.Functions.Check)}}}
	assert(t, "check Throttles sustained alarm", func() {
		r.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "AWS/Lambda", "MetricName": "Throttles", "Dimensions": checkDims, "Statistic": "Sum",
			"Period": 300, "EvaluationPeriods": 3, "DatapointsToAlarm": 3, "Threshold": 1,
			"ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": []any{topicRef},
		})
	})
	for _, f := range s.Functions.All() {
		name := f.Name
		fnDims := []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": logicalID(t, s, f.Function)}}}
		// Throttles page at once; errors when they last (3 periods in
		// a row): one that does not heal pages through the execution's
		// failure, the API's 5XX or the dead-letter queue.
		for metric, periods := range map[string]int{"Errors": 3, "Throttles": 1} {
			assert(t, name+" "+metric+" alarm", func() {
				r.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
					"Namespace": "AWS/Lambda", "MetricName": metric, "Dimensions": fnDims, "Statistic": "Sum",
					"Threshold": 1, "EvaluationPeriods": periods, "AlarmActions": []any{topicRef},
				})
			})
		}
	}
	assert(t, "API 5XXError alarm", func() {
		r.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "AWS/ApiGateway", "MetricName": "5XXError",
			"Dimensions": assertions.Match_ArrayWith(&[]any{
				map[string]any{"Name": "Stage", "Value": map[string]any{"Ref": logicalID(t, s, s.API.DeploymentStage())}},
			}),
			"AlarmActions": []any{topicRef},
		})
	})

	// The table's alarm sums ThrottledRequests of every operation the
	// functions are granted, in one alarm.
	tableRef := map[string]any{"Ref": logicalID(t, s, s.Table)}
	var throttled []string
	for _, a := range r.resources("AWS::CloudWatch::Alarm") {
		metrics, _ := a["Properties"].(map[string]any)["Metrics"].([]any)
		for _, m := range metrics {
			stat, _ := m.(map[string]any)["MetricStat"].(map[string]any)
			metric, _ := stat["Metric"].(map[string]any)
			if metric["MetricName"] != "ThrottledRequests" || metric["Namespace"] != "AWS/DynamoDB" {
				continue
			}
			dims := map[string]any{}
			for _, d := range metric["Dimensions"].([]any) {
				dims[d.(map[string]any)["Name"].(string)] = d.(map[string]any)["Value"]
			}
			if jsonOf(dims["TableName"]) != jsonOf(tableRef) {
				t.Errorf("ThrottledRequests of table %s, want %s", jsonOf(dims["TableName"]), jsonOf(tableRef))
			}
			throttled = append(throttled, fmt.Sprint(dims["Operation"]))
		}
	}
	slices.Sort(throttled)
	if want := []string{"DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"}; !slices.Equal(throttled, want) {
		t.Errorf("DynamoDB ThrottledRequests alarmed for %v, want %v", throttled, want)
	}

	// ExecutionsTimedOut is watched whatever the definition sets: Step
	// Functions' one-year limit remains without an execution TimeoutSeconds.
	timedOutAlarms := 0
	for _, a := range r.resources("AWS::CloudWatch::Alarm") {
		if a["Properties"].(map[string]any)["MetricName"] == "ExecutionsTimedOut" {
			timedOutAlarms++
		}
	}
	if timedOutAlarms != 1 {
		t.Errorf("%d ExecutionsTimedOut alarms, want 1", timedOutAlarms)
	}

	// The account's state-transition quota, which polling monitors use
	// and every state machine shares.
	assert(t, "state transitions throttled alarm", func() {
		r.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "AWS/States", "MetricName": "ThrottledEvents", "Statistic": "Sum",
			"Dimensions":   []any{map[string]any{"Name": "ServiceMetric", "Value": "StateTransition"}},
			"Threshold":    1,
			"AlarmActions": []any{topicRef},
		})
	})

	// A dead letter left a week pages again, a week before it expires.
	assert(t, "dead letters aging alarm", func() {
		r.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage", "Statistic": "Maximum",
			"Dimensions": []any{map[string]any{"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{logicalID(t, s, s.DeadLetters), "QueueName"}}}},
			"Threshold":  7 * 24 * 60 * 60, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
			"AlarmActions": []any{topicRef}, "OKActions": []any{topicRef},
		})
	})

	// ExecutionsFailed and TimedOut, dead letters (and their age), the
	// alert function's other ERROR lines, the rule's failed invocations, events lost on the way to the
	// dead-letter queue (by the rule and by the status function), API
	// 5XX, table throttling, state transition throttling, per function
	// errors and throttles, and the check function's sustained
	// throttling.
	// The alert function's ERROR lines other than its returned errors.
	assert(t, "alert error lines alarm", func() {
		r.template.HasResourceProperties(jsii.String("AWS::Logs::MetricFilter"), map[string]any{
			"LogGroupName":  map[string]any{"Ref": logicalID(t, s, s.Functions.Alert.LogGroup())},
			"FilterPattern": `{ $.level = "ERROR" && $.msg != "alert failed" }`,
			"MetricTransformations": []any{map[string]any{
				"MetricNamespace": "Stepmon/" + DefaultStackName, "MetricName": "AlertErrorLines", "MetricValue": "1"}},
		})
		r.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "Stepmon/" + DefaultStackName, "MetricName": "AlertErrorLines", "Statistic": "Sum",
			"Threshold": 1, "AlarmActions": []any{topicRef}, "OKActions": []any{topicRef},
		})
	})
	// How late checks come: the p99 of the check function's metric, 3
	// periods in a row, and the namespace it is told to write it in.
	assert(t, "checks late alarm", func() {
		r.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "Stepmon/" + DefaultStackName, "MetricName": "CheckLateness", "ExtendedStatistic": "p99", "Period": 300,
			"Threshold": 60000, "EvaluationPeriods": 3, "DatapointsToAlarm": 3, "TreatMissingData": "notBreaching",
			"AlarmActions": []any{topicRef}, "OKActions": []any{topicRef},
		})
		r.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{"METRICS_NAMESPACE": "Stepmon/" + DefaultStackName}},
			"Description": assertions.Match_StringLikeRegexp(jsii.String("^One check of a monitor")),
		})
	})
	assert(t, "alert topic delivery alarm", func() {
		r.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "AWS/SNS", "MetricName": "NumberOfNotificationsFailed", "Statistic": "Sum", "Threshold": 1,
			"Dimensions":   []any{map[string]any{"Name": "TopicName", "Value": map[string]any{"Fn::GetAtt": []any{logicalID(t, s, s.AlertTopic), "TopicName"}}}},
			"AlarmActions": []any{topicRef}, "OKActions": []any{topicRef},
		})
	})
	want := 14 + 2*len(FunctionNames)
	assert(t, "alarms", func() {
		r.template.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(want))
	})
}

func TestOutputs(t *testing.T) {
	r := synth(t, "default", defaultContext)
	s := r.stack
	for name, value := range map[string]any{
		"StateMachineArn": map[string]any{"Ref": logicalID(t, s, s.StateMachine)},
		"TableName":       map[string]any{"Ref": logicalID(t, s, s.Table)},
		"AlertTopicArn":   map[string]any{"Ref": logicalID(t, s, s.AlertTopic)},
		"AlarmTopicArn":   map[string]any{"Ref": logicalID(t, s, s.AlarmTopic)},
		"ApiUrl":          assertions.Match_AnyValue(),
		// The dead-letter replay in docs/deploy.md reads these two.
		"StatusFunctionName": map[string]any{"Ref": logicalID(t, s, s.Functions.Status)},
		"DeadLetterQueueUrl": map[string]any{"Ref": logicalID(t, s, s.DeadLetters)},
		// docs/operations.md's queries name these.
		"CheckLogGroup":     map[string]any{"Ref": logicalID(t, s, s.Functions.Check.LogGroup())},
		"ApiAccessLogGroup": map[string]any{"Ref": logicalID(t, s, s.AccessLogs)},
		"StateMachineLogGroup": func() any {
			var v any
			for _, lg := range r.resources("AWS::Logs::LogGroup") {
				if name, ok := lg["Properties"].(map[string]any)["LogGroupName"]; ok {
					v = name
				}
			}
			return v
		}(),
	} {
		assert(t, "output "+name, func() {
			r.template.HasOutput(jsii.String(name), map[string]any{"Value": value})
		})
	}
	// Only the documented outputs (docs/deploy.md), in both configurations.
	opt := synth(t, "options", optionsContext)
	for variant, tc := range map[string]struct {
		r    *synthResult
		want []string
	}{
		"default": {r, []string{"AlarmTopicArn", "AlertLogGroup", "AlertTopicArn", "ApiAccessLogGroup", "ApiUrl", "CheckLogGroup", "DeadLetterQueueUrl",
			"StartLogGroup", "StateMachineArn", "StateMachineLogGroup", "StatusFunctionName", "StatusLogGroup", "TableName"}},
		"options": {opt, []string{"AlarmTopicArn", "AlertLogGroup", "AlertTopicArn", "ApiAccessLogGroup", "ApiKeyId", "ApiUrl", "CheckLogGroup", "DeadLetterQueueUrl",
			"StartLogGroup", "StateMachineArn", "StateMachineLogGroup", "StatusFunctionName", "StatusLogGroup", "TableName"}},
	} {
		got := slices.Sorted(maps.Keys(*tc.r.template.FindOutputs(jsii.String("*"), nil)))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: outputs %q, want %q", variant, got, tc.want)
		}
	}
	assert(t, "output ApiKeyId", func() {
		opt.template.HasOutput(jsii.String("ApiKeyId"), map[string]any{"Value": assertions.Match_AnyValue()})
	})
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

// TestNewStackRefuses: NewStepmonStack refuses, with an error naming the
// problem and defining nothing, a configuration that does not validate
// and a function without a code directory.
func TestNewStackRefuses(t *testing.T) {
	valid := Config{StackName: "Stepmon", RepoRoot: "..", Auth: AuthIAM, StateMachineLogLevel: LogError}
	dirs := map[string]string{"start": "s", "check": "c", "alert": "a", "status": "st"}
	for _, tc := range []struct {
		name    string
		cfg     Config
		dirs    map[string]string
		wantErr string
	}{
		{"invalid config", Config{StackName: "Stepmon", RepoRoot: "..", Auth: "cognito", StateMachineLogLevel: LogError}, dirs,
			`infra: context auth: want "iam" or "apiKey", got "cognito"`},
		{"no code for alert", valid, map[string]string{"start": "s", "check": "c", "status": "st"},
			"infra: no code directory for function alert"},
		{"empty code directory name", valid, map[string]string{"start": "s", "check": "", "alert": "a", "status": "st"},
			"infra: no code directory for function check"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(nil)
			s, err := NewStepmonStack(app, "Refused", &StackProps{Config: tc.cfg, CodeDirs: tc.dirs})
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if s != nil {
				t.Errorf("stack = %v, want nil", s)
			}
			if n := len(*app.Node().Children()); n != 0 {
				t.Errorf("the app has %d children, want none defined", n)
			}
		})
	}
}
