package sfnapi_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

// TestValidateStateMachineDefinition drives ValidateStateMachineDefinition
// through the SDK: the diagnostics are the ones CreateStateMachine's
// InvalidDefinition lists, with code and location apart. The operation
// was unknown (UnknownOperationException).
func TestValidateStateMachineDefinition(t *testing.T) {
	srv, _ := newServer(t)
	c := newClient(srv.URL)
	ctx := context.Background()
	const twoBad = `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B","InputPath":"x"}}}`
	type diag struct{ Severity, Code, Message, Location string }
	tests := []struct {
		name          string
		in            sfn.ValidateStateMachineDefinitionInput
		wantResult    types.ValidateStateMachineDefinitionResultCode
		wantDiags     []diag
		wantTruncated bool
	}{
		{name: "valid", in: sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(passDef)},
			wantResult: types.ValidateStateMachineDefinitionResultCodeOk},
		{name: "two problems", in: sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(twoBad)},
			wantResult: types.ValidateStateMachineDefinitionResultCodeFail,
			wantDiags: []diag{
				{"ERROR", "INVALID_JSON_PATH", `path "x": must start with '$'`, "/States/A/InputPath"},
				{"ERROR", "MISSING_TRANSITION_TARGET", "Missing 'Next' target: B", "/States/A/Next"},
				{"ERROR", "MISSING_END_STATE", "Workflow has no terminal state", ""},
			}},
		{name: "truncated", in: sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(twoBad), MaxResults: 1},
			wantResult: types.ValidateStateMachineDefinitionResultCodeFail, wantTruncated: true,
			wantDiags: []diag{{"ERROR", "INVALID_JSON_PATH", `path "x": must start with '$'`, "/States/A/InputPath"}}},
		{name: "not JSON", in: sfn.ValidateStateMachineDefinitionInput{Definition: aws.String("{")},
			wantResult: types.ValidateStateMachineDefinitionResultCodeFail,
			wantDiags:  []diag{{"ERROR", "INVALID_JSON_DESCRIPTION", "the JSON ends before its last value is complete (line 1, column 2, the end)", ""}}},
		{name: "callback in EXPRESS", in: sfn.ValidateStateMachineDefinitionInput{Type: types.StateMachineTypeExpress,
			Definition: aws.String(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}}`)},
			wantResult: types.ValidateStateMachineDefinitionResultCodeFail,
			wantDiags: []diag{{"ERROR", "SCHEMA_VALIDATION_FAILED",
				"Express state machine does not support '.waitForTaskToken' service integration ", "/States/T/Resource"}}},
		{name: "callback in STANDARD", in: sfn.ValidateStateMachineDefinitionInput{Severity: types.ValidateStateMachineDefinitionSeverityWarning,
			Definition: aws.String(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}}`)},
			wantResult: types.ValidateStateMachineDefinitionResultCodeOk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.ValidateStateMachineDefinition(ctx, &tt.in)
			if err != nil {
				t.Fatalf("ValidateStateMachineDefinition: %v", err)
			}
			var got []diag
			for _, d := range out.Diagnostics {
				got = append(got, diag{string(d.Severity), aws.ToString(d.Code), aws.ToString(d.Message), aws.ToString(d.Location)})
			}
			if out.Result != tt.wantResult || !reflect.DeepEqual(got, tt.wantDiags) || aws.ToBool(out.Truncated) != tt.wantTruncated {
				t.Errorf("got %s %q truncated %v\nwant %s %q truncated %v", out.Result, got, aws.ToBool(out.Truncated),
					tt.wantResult, tt.wantDiags, tt.wantTruncated)
			}
		})
	}

	for _, tt := range []struct {
		maxResults int32
		want       string
	}{
		{101, "Member must have value less than or equal to 100"},
		{-1, "Member must have value greater than or equal to 0"},
	} {
		_, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(passDef), MaxResults: tt.maxResults})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), tt.want) {
			t.Errorf("maxResults %d: %v, want ValidationException saying %q", tt.maxResults, err, tt.want)
		}
	}
}
