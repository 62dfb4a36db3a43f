// Package lambdainvoke invokes Go Lambda handlers in-process, through
// aws-lambda-go's JSON invoke path, so that the local runtime sees exactly
// what Step Functions sees on AWS: the same payload (de)serialisation and,
// for a failed invocation, the same error name (errorType) and message.
//
// A Registry maps function names and ARNs to handlers; its Invoke method is
// what the engine's lambda:invoke integration calls.
package lambdainvoke
