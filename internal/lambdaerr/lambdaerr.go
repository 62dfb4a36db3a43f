package lambdaerr

import "reflect"

// Name returns the errorType aws-lambda-go reports for err ("" for nil).
func Name(err error) string {
	if err == nil {
		return ""
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// Response is the JSON body of a failed invocation, as the Lambda service
// returns it and Step Functions puts it in a task failure's Cause.
type Response struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}
