package lambdaerr_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stepmon/stepmon/internal/lambdaerr"
)

// ThrottledError is an error a Retry rule can match by name.
type ThrottledError struct{ Service string }

func (e *ThrottledError) Error() string { return e.Service + " is throttling" }

// The name Retry and Catch match is the error's Go type, as aws-lambda-go
// reports it; wrapping the error hides that name.
func ExampleName() {
	err := &ThrottledError{Service: "github"}
	fmt.Println(lambdaerr.Name(err))
	fmt.Println(lambdaerr.Name(fmt.Errorf("check: %w", err)))
	fmt.Println(lambdaerr.Name(errors.New("plain")))
	// Step Functions records the failure's Response as the Cause.
	cause, _ := json.Marshal(lambdaerr.Response{ErrorMessage: err.Error(), ErrorType: lambdaerr.Name(err)})
	fmt.Println(string(cause))
	// Output:
	// ThrottledError
	// wrapError
	// errorString
	// {"errorMessage":"github is throttling","errorType":"ThrottledError"}
}
