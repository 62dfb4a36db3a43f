package lambdaerr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/stepmon/stepmon/internal/lambdaerr"
	"github.com/stepmon/stepmon/internal/monitor"
)

type valueError struct{}

func (valueError) Error() string { return "value" }

func TestName(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"pointer type", &monitor.TransientError{Message: "x"}, "TransientError"},
		{"permanent", &monitor.PermanentError{Message: "x"}, "PermanentError"},
		{"value type", valueError{}, "valueError"},
		{"errors.New", errors.New("x"), "errorString"},
		{"wrapped loses the name", fmt.Errorf("ctx: %w", &monitor.TransientError{}), "wrapError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lambdaerr.Name(tt.err); got != tt.want {
				t.Errorf("Name() = %q, want %q", got, tt.want)
			}
		})
	}
}

// FromError passes a messages.InvokeResponse_Error through only as a value,
// as aws-lambda-go does (a type assertion, not errors.As); any other error
// is named by Name.
func TestFromError(t *testing.T) {
	ie := messages.InvokeResponse_Error{Type: "MyCustomError", Message: "custom"}
	tests := []struct {
		name      string
		err       error
		wantType  string
		wantMatch bool // ErrorMessage is "custom"
	}{
		{"value", ie, "MyCustomError", true},
		{"pointer", &ie, "InvokeResponse_Error", false},
		{"wrapped", fmt.Errorf("a: %w", ie), "wrapError", false},
		{"other", &monitor.TransientError{Message: "custom"}, "TransientError", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lambdaerr.FromError(tt.err)
			if got.ErrorType != tt.wantType || (got.ErrorMessage == "custom") != tt.wantMatch {
				t.Errorf("FromError() = %+v, want errorType %s (message custom: %v)", got, tt.wantType, tt.wantMatch)
			}
		})
	}
}

// A Response encodes as the body the Lambda service returns, which Step
// Functions records as the Cause.
func TestResponseJSON(t *testing.T) {
	err := &monitor.TransientError{Message: "table busy"}
	b, jerr := json.Marshal(lambdaerr.Response{ErrorMessage: err.Error(), ErrorType: lambdaerr.Name(err)})
	if jerr != nil {
		t.Fatal(jerr)
	}
	want := `{"errorMessage":"table busy","errorType":"TransientError"}`
	if got := string(b); got != want {
		t.Errorf("Response as JSON = %s, want %s", got, want)
	}
}

// The names the state machine's Retry and Catch rules match must be the
// names the handlers' errors get.
func TestTaskErrorKeepsNames(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{monitor.Errorf(monitor.KindUnavailable, "store", "throttled"), "TransientError"},
		{fmt.Errorf("wrapped: %w", monitor.Errorf(monitor.KindRateLimited, "github", "slow down")), "TransientError"},
		{monitor.Errorf(monitor.KindInvalid, "check", "bad spec"), "PermanentError"},
		{fmt.Errorf("a: %w", &monitor.PermanentError{Message: "gone"}), "PermanentError"},
		{errors.New("boom"), "PermanentError"},
	}
	for _, tt := range tests {
		if got := lambdaerr.Name(monitor.TaskError(tt.err)); got != tt.want {
			t.Errorf("Name(TaskError(%v)) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
