package sfnapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Configurations the tests set, as requests send them and as
// DescribeStateMachine answers them.
const (
	logGroup       = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/g:*"
	loggingAll     = `{"level":"ALL","includeExecutionData":true,"destinations":[{"cloudWatchLogsLogGroup":{"logGroupArn":"` + logGroup + `"}}]}`
	loggingError   = `{"level":"ERROR","includeExecutionData":false,"destinations":[{"cloudWatchLogsLogGroup":{"logGroupArn":"` + logGroup + `"}}]}`
	loggingDefault = `{"includeExecutionData":false,"level":"OFF"}`
	tracingOn      = `{"enabled":true}`
	tracingOff     = `{"enabled":false}`
	encryptionKMS  = `{"type":"CUSTOMER_MANAGED_KMS_KEY","kmsKeyId":"alias/k","kmsDataKeyReusePeriodSeconds":300}`
	// What a machine never given an encryption configuration answers,
	// as AWS does.
	encryptionOwned = `{"type":"AWS_OWNED_KEY"}`
)

// describedConfig returns the logging, tracing and encryption
// configurations a Describe answer holds, each as compact JSON with
// sorted keys ("" for one left out).
func describedConfig(m map[string]any) (logging, tracing, encryption string) {
	text := func(k string) string {
		if v, ok := m[k]; ok {
			return jsonText(v)
		}
		return ""
	}
	return text("loggingConfiguration"), text("tracingConfiguration"), text("encryptionConfiguration")
}

// The logging, tracing and encryption configurations a machine is
// created or updated with are answered by DescribeStateMachine, and by
// DescribeStateMachineForExecution as the revision the execution started
// on had them; an update that sets one of them changes only that one,
// in a new revision, and one that sets it as it is makes none.
func TestConfigRoundTrip(t *testing.T) {
	srv, _ := newServer(t)
	const arn = smArn + "cfg"
	mustCall(t, srv.URL, "CreateStateMachine", `{"name":"cfg","definition":`+jsonString(longWaitDef)+`,"roleArn":"`+role+`",`+
		`"loggingConfiguration":`+loggingAll+`,"tracingConfiguration":`+tracingOn+`}`)
	mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+arn+`","name":"rev1"}`)

	steps := []struct {
		name, update string // the update's members after stateMachineArn; "" for none
		// what DescribeStateMachine answers after the step
		wantLogging, wantTracing, wantEncryption string
		wantRevisionID                           any
	}{
		{"as created", "", jsonText(decode(t, loggingAll)), tracingOn, encryptionOwned, nil},
		{"logging only", `"loggingConfiguration":` + loggingError, jsonText(decode(t, loggingError)), tracingOn, encryptionOwned, "2"},
		{"the same logging again", `"loggingConfiguration":` + loggingError, jsonText(decode(t, loggingError)), tracingOn, encryptionOwned, "2"},
		{"tracing only", `"tracingConfiguration":` + tracingOff, jsonText(decode(t, loggingError)), tracingOff, encryptionOwned, "3"},
		{"logging off, without a level", `"loggingConfiguration":{}`, loggingDefault, tracingOff, encryptionOwned, "4"},
		{"encryption only", `"encryptionConfiguration":` + encryptionKMS, loggingDefault, tracingOff, jsonText(decode(t, encryptionKMS)), "5"},
		{"the definition only", `"definition":` + jsonString(passDef), loggingDefault, tracingOff, jsonText(decode(t, encryptionKMS)), "6"},
	}
	for _, st := range steps {
		if st.update != "" {
			m := mustCall(t, srv.URL, "UpdateStateMachine", `{"stateMachineArn":"`+arn+`",`+st.update+`}`)
			if m["revisionId"] != st.wantRevisionID {
				t.Errorf("%s: UpdateStateMachine revisionId = %v, want %v", st.name, m["revisionId"], st.wantRevisionID)
			}
		}
		m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+arn+`"}`)
		logging, tracing, encryption := describedConfig(m)
		if logging != st.wantLogging || tracing != st.wantTracing || encryption != st.wantEncryption || m["revisionId"] != st.wantRevisionID {
			t.Errorf("%s: DescribeStateMachine logging %s, tracing %s, encryption %q, revisionId %v;\nwant %s, %s, %q, %v",
				st.name, logging, tracing, encryption, m["revisionId"], st.wantLogging, st.wantTracing, st.wantEncryption, st.wantRevisionID)
		}
	}

	// Each execution is described with the configuration of its revision.
	mustCall(t, srv.URL, "StartExecution", `{"stateMachineArn":"`+arn+`","name":"rev6"}`)
	for _, tt := range []struct {
		execution                                string
		wantLogging, wantTracing, wantEncryption string
	}{
		{"rev1", jsonText(decode(t, loggingAll)), tracingOn, encryptionOwned},
		{"rev6", loggingDefault, tracingOff, jsonText(decode(t, encryptionKMS))},
	} {
		m := mustCall(t, srv.URL, "DescribeStateMachineForExecution", `{"executionArn":"`+execArn+`cfg:`+tt.execution+`"}`)
		if logging, tracing, encryption := describedConfig(m); logging != tt.wantLogging || tracing != tt.wantTracing || encryption != tt.wantEncryption {
			t.Errorf("DescribeStateMachineForExecution(%s): logging %s, tracing %s, encryption %q; want %s, %s, %q",
				tt.execution, logging, tracing, encryption, tt.wantLogging, tt.wantTracing, tt.wantEncryption)
		}
	}

	// An AWS owned key is answered without a key id.
	mustCall(t, srv.URL, "UpdateStateMachine", `{"stateMachineArn":"`+arn+`","encryptionConfiguration":{"type":"AWS_OWNED_KEY"}}`)
	if _, _, encryption := describedConfig(mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+arn+`"}`)); encryption != `{"type":"AWS_OWNED_KEY"}` {
		t.Errorf("DescribeStateMachine encryption %s, want {\"type\":\"AWS_OWNED_KEY\"}", encryption)
	}
}

// A machine created without configurations answers AWS's defaults, of
// either type: an AWS owned key for its encryption.
func TestConfigDefaults(t *testing.T) {
	srv, _ := newServer(t)
	for _, typ := range []string{"STANDARD", "EXPRESS"} {
		t.Run(typ, func(t *testing.T) {
			mustCall(t, srv.URL, "CreateStateMachine", `{"name":"`+typ+`","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`","type":"`+typ+`"}`)
			m := mustCall(t, srv.URL, "DescribeStateMachine", `{"stateMachineArn":"`+smArn+typ+`"}`)
			if logging, tracing, encryption := describedConfig(m); logging != loggingDefault || tracing != tracingOff || encryption != encryptionOwned {
				t.Errorf("DescribeStateMachine logging %s, tracing %s, encryption %s; want %s, %s and %s", logging, tracing, encryption,
					loggingDefault, tracingOff, encryptionOwned)
			}
		})
	}
}

// CreateStateMachine of a taken name answers the existing machine only
// when the logging, tracing and encryption configurations are the same
// too (a configuration never set is the same as its default); the role
// and the tags are not compared, as on AWS.
func TestCreateStateMachineIdempotentConfig(t *testing.T) {
	srv, _ := newServer(t)
	create := func(members string) (int, map[string]any) {
		return call(t, srv.URL, "CreateStateMachine", `{"name":"idem","definition":`+jsonString(passDef)+`,"roleArn":"`+role+`"`+members+`}`)
	}
	if code, m := create(`,"loggingConfiguration":` + loggingError); code != http.StatusOK {
		t.Fatalf("CreateStateMachine = %d %v", code, m)
	}
	tests := []struct {
		name, members string
		wantExisting  bool
	}{
		{"the same logging", `,"loggingConfiguration":` + loggingError, true},
		{"the same logging, tracing off as never set", `,"loggingConfiguration":` + loggingError + `,"tracingConfiguration":` + tracingOff, true},
		{"the same logging, an AWS owned key as never set", `,"loggingConfiguration":` + loggingError + `,"encryptionConfiguration":` + encryptionOwned, true},
		{"the same logging, another encryption", `,"loggingConfiguration":` + loggingError + `,"encryptionConfiguration":` + encryptionKMS, false},
		{"another logging level", `,"loggingConfiguration":` + loggingAll, false},
		{"no logging", ``, false},
		{"tracing on", `,"loggingConfiguration":` + loggingError + `,"tracingConfiguration":` + tracingOn, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, m := create(tt.members)
			switch {
			case tt.wantExisting && (code != http.StatusOK || m["stateMachineArn"] != smArn+"idem"):
				t.Errorf("CreateStateMachine = %d %v, want the existing machine", code, m)
			case !tt.wantExisting && (code != http.StatusBadRequest || !strings.HasSuffix(jsonText(m["__type"]), `#StateMachineAlreadyExists"`)):
				t.Errorf("CreateStateMachine = %d %v, want StateMachineAlreadyExists", code, m)
			}
		})
	}
}

// decode returns a JSON text decoded, for jsonText to compare.
func decode(tb testing.TB, text string) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		tb.Fatalf("decode %s: %v", text, err)
	}
	return v
}

// aws-sdk-go-v2, the client of Terraform's AWS provider, reads the
// configurations DescribeStateMachine answers into its types: those
// created, then a logging configuration updated alone.
func TestSDKConfig(t *testing.T) {
	srv, _ := newServer(t)
	c := newClient(srv.URL)
	ctx := t.Context()
	dest := []types.LogDestination{{CloudWatchLogsLogGroup: &types.CloudWatchLogsLogGroup{LogGroupArn: aws.String(logGroup)}}}
	created := &types.LoggingConfiguration{Level: types.LogLevelAll, IncludeExecutionData: true, Destinations: dest}
	encryption := &types.EncryptionConfiguration{Type: types.EncryptionTypeCustomerManagedKmsKey, KmsKeyId: aws.String("alias/k"),
		KmsDataKeyReusePeriodSeconds: aws.Int32(300)}
	out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("sdk"), Definition: aws.String(passDef), RoleArn: aws.String(role),
		LoggingConfiguration: created, TracingConfiguration: &types.TracingConfiguration{Enabled: true}, EncryptionConfiguration: encryption})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	updated := &types.LoggingConfiguration{Level: types.LogLevelError, Destinations: dest}
	for _, step := range []struct {
		name    string
		update  *types.LoggingConfiguration
		logging *types.LoggingConfiguration
	}{
		{"as created", nil, created},
		{"logging updated alone", updated, updated},
	} {
		if step.update != nil {
			if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: out.StateMachineArn, LoggingConfiguration: step.update}); err != nil {
				t.Fatalf("%s: UpdateStateMachine: %v", step.name, err)
			}
		}
		d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: out.StateMachineArn})
		if err != nil {
			t.Fatalf("%s: DescribeStateMachine: %v", step.name, err)
		}
		if got, want := jsonText(d.LoggingConfiguration), jsonText(step.logging); got != want {
			t.Errorf("%s: LoggingConfiguration = %s, want %s", step.name, got, want)
		}
		if d.TracingConfiguration == nil || !d.TracingConfiguration.Enabled {
			t.Errorf("%s: TracingConfiguration = %+v, want enabled", step.name, d.TracingConfiguration)
		}
		if got, want := jsonText(d.EncryptionConfiguration), jsonText(encryption); got != want {
			t.Errorf("%s: EncryptionConfiguration = %s, want %s", step.name, got, want)
		}
	}
}
