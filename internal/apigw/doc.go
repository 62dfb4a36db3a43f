// Package apigw serves stepmon's HTTP API from API Gateway REST proxy events.
//
// Handler.Handle turns an events.APIGatewayProxyRequest into a call of
// monitor.API and its result into an events.APIGatewayProxyResponse. It is
// the code behind the start and status Lambdas on AWS, and stepmon serve
// calls it too, with proxy events it builds from plain HTTP requests, so
// that the routes, status codes, headers and bodies are the same in both
// places.
//
// Function.Invoke is the status Lambda's entry point. That function
// receives three kinds of payload, told apart by their JSON: API Gateway
// proxy requests, EventBridge "Step Functions Execution Status Change"
// events, and the state machine's direct recordFailure invocation.
//
// Error kinds map to HTTP status codes in one table, statusOf; error
// bodies are {"error": kind, "message": text, "fields": [{"field",
// "problem"}]}.
package apigw
