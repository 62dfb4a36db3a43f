// Package lambdaerr computes the error a Go Lambda function reports, the
// way aws-lambda-go does, so that the local engine shows Step Functions'
// Retry and Catch the very names AWS shows them.
//
// aws-lambda-go names a returned error after its Go type: the element type's
// name for a pointer, the type's name otherwise. An error wrapped with
// fmt.Errorf("%w") is therefore named "wrapError" and matches no Retry rule:
// errors meant for Retry/Catch must be returned unwrapped. A handler
// chooses any name, dotted ones included, by returning (or panicking with)
// a messages.InvokeResponse_Error value, which aws-lambda-go passes through
// as it is (FromError, FromPanic).
package lambdaerr
