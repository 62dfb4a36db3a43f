// Package lambdainvoke invokes Go Lambda handlers in-process, through
// aws-lambda-go's JSON invoke path, so that the local runtime sees exactly
// what Step Functions sees on AWS: the same payload (de)serialisation and,
// for a failed invocation, the same error name (errorType) and message.
//
// A Registry maps function names and ARNs to handlers. Its Invoker is what
// the engine's lambda:invoke integration calls; its Invoke method serves
// direct calls (the local Lambda API and the notifier).
package lambdainvoke
