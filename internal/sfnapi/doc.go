// Package sfnapi serves the AWS Step Functions API (the awsJson1_0
// protocol: POST / with an X-Amz-Target: AWSStepFunctions.<Operation>
// header and an application/x-amz-json-1.0 body) over a Backend, so the
// AWS CLI and the AWS SDKs work against a local engine:
//
//	aws stepfunctions list-state-machines --endpoint-url http://127.0.0.1:8080 --region us-east-1 --no-sign-request
//
// Handler implements CreateStateMachine, DescribeStateMachine,
// ListStateMachines, UpdateStateMachine, DeleteStateMachine,
// StartExecution, StartSyncExecution, DescribeExecution, StopExecution,
// GetExecutionHistory, ListExecutions, DescribeStateMachineForExecution,
// ValidateStateMachineDefinition, ListStateMachineVersions (always
// empty: no versions are published), and TagResource, UntagResource and
// ListTagsForResource for state machines, validates requests the way AWS does and answers errors in the AWS shape
// (HTTP 400 with {"__type": "com.amazonaws.swf.service.v2.model#<Name>",
// "message": "..."} for the service's own errors, the framework's
// namespaces for the others as AWS sends them, such as
// com.amazon.coral.validate#ValidationException; 413
// RequestEntityTooLargeException for a body over 1 MiB, AWS's request
// size quota; ThrottlingException (Throttled) for a request the runtime
// has no room for); timestamps are epoch seconds with a fraction.
// DeleteStateMachine is asynchronous as on AWS: the machine is DELETING
// until its running executions have failed at their next transition,
// then it is deleted with its executions (engine.Engine.DeleteStateMachine).
//
// # StartSyncExecution and host prefixes
//
// The SDKs send StartSyncExecution to the host "sync-" + endpoint host.
// Against a local endpoint turn that off: set
// AWS_DISABLE_HOST_PREFIX_INJECTION=true for the AWS CLI and the SDKs that
// read it; with aws-sdk-go-v2, add an API option that marks the context
// with smithyhttp.DisableEndpointHostPrefix (see the package example).
// As on AWS, StartSyncExecution runs EXPRESS state machines only (create
// them with type EXPRESS) and answers when the execution finishes.
//
// # Paging tokens
//
// A nextToken continues only the request it came from (same operation,
// ARN and filters); it is signed with a key made when the Handler is, so
// tokens do not survive a restart, as AWS's expire after 24 hours.
//
// The package knows nothing of monitors. NewEngineBackend adapts
// *engine.Engine to Backend.
package sfnapi
