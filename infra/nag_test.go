package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
)

// TestNag: the synthesized app has no unsuppressed AwsSolutions error or
// warning, and every suppression says why.
func TestNag(t *testing.T) {
	for _, tc := range []struct {
		variant string
		ctx     map[string]any
	}{
		{"default", defaultContext},
		{"options", optionsContext},
		{"private", privateContext},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			r := synth(t, tc.variant, tc.ctx)
			ann := assertions.Annotations_FromStack(r.stack.Stack)
			rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
			noAnnotation(t, "error", func() { ann.HasNoError(jsii.String("*"), rule) })
			noAnnotation(t, "warning", func() { ann.HasNoWarning(jsii.String("*"), rule) })

			// Suppressions live in the template's resource metadata.
			n := 0
			for id, res := range r.json["Resources"].(map[string]any) {
				md, _ := res.(map[string]any)["Metadata"].(map[string]any)
				nagMD, _ := md["cdk_nag"].(map[string]any)
				rules, _ := nagMD["rules_to_suppress"].([]any)
				for _, s := range rules {
					s := s.(map[string]any)
					n++
					reason, _ := s["reason"].(string)
					if len(strings.Fields(reason)) < 10 {
						b, _ := json.Marshal(s)
						t.Errorf("%s: suppression without a real reason: %s", id, b)
					}
				}
			}
			t.Logf("%s: %d suppression entries on resources", tc.variant, n)
		})
	}
}

// TestNagReportsFindings is TestNag's control: the checks DefineApp adds
// find a resource that breaks a rule (an SNS topic that accepts
// publishers without TLS, AwsSolutions-SNS3) and fail the synthesis, so
// that TestNag's silence means a compliant stack, not checks that did not
// run.
func TestNagReportsFindings(t *testing.T) {
	r := synthWith(t, "nag-control", defaultContext, func(s *Stack) {
		awssns.NewTopic(s.Stack, jsii.String("NagControlTopic"), nil)
	})
	if r.err == nil {
		t.Fatal("synth succeeded with an SNS topic that allows plain HTTP publishers")
	}
	report, err := os.ReadFile(filepath.Join(r.outdir, "validation-report.json"))
	if err != nil {
		t.Fatalf("synth failed (%v) without a validation report: %v", r.err, err)
	}
	if !strings.Contains(string(report), "AwsSolutions-SNS3") || !strings.Contains(string(report), "NagControlTopic") {
		t.Errorf("the validation report does not name AwsSolutions-SNS3 on NagControlTopic:\n%s", report)
	}
}

// noAnnotation runs an assertion of the Annotations API, which panics
// with the annotations it found, and reports them as a test failure.
func noAnnotation(t *testing.T, level string, assert func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("cdk-nag %s: %v", level, r)
		}
	}()
	assert()
}

// TestNagSuppressionsByOption: a suppression for an opted-in choice (an
// API key, direct SMS, a VPC, the account's CloudWatch role, ALL logs)
// is present only when that option is, so that a stack without it keeps
// cdk-nag's rule for it; the others are always present.
func TestNagSuppressionsByOption(t *testing.T) {
	always := []string{reasonXRayStar, reasonLogDeliveryStar, reasonExecutions, reasonExecLogging, reasonWAF, reasonRequestValidation}
	for _, tc := range []struct {
		variant string
		ctx     map[string]any
		want    []string // besides always
	}{
		{"default", defaultContext, []string{reasonStateMachineErrorLogs, reasonCognitoIAM}},
		{"options", optionsContext, []string{reasonDirectSMS, reasonCloudWatchRoleManaged, reasonCognitoAPIKey, reasonAuthAPIKey}},
		{"private", privateContext, []string{reasonStateMachineErrorLogs, reasonCognitoIAM, reasonVPCInterfaces}},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			r := synth(t, tc.variant, tc.ctx)
			got := map[string]bool{}
			for _, res := range r.json["Resources"].(map[string]any) {
				md, _ := res.(map[string]any)["Metadata"].(map[string]any)
				nagMD, _ := md["cdk_nag"].(map[string]any)
				rules, _ := nagMD["rules_to_suppress"].([]any)
				for _, s := range rules {
					reason, _ := s.(map[string]any)["reason"].(string)
					got[reason] = true
				}
			}
			want := map[string]bool{}
			for _, reason := range append(slices.Clone(always), tc.want...) {
				want[reason] = true
			}
			for reason := range got {
				if !want[reason] {
					t.Errorf("suppression not wanted in this variant: %q", reason)
				}
			}
			for reason := range want {
				if !got[reason] {
					t.Errorf("suppression missing: %q", reason)
				}
			}
		})
	}
}
