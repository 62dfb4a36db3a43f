package sfnapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/sfnapi"
)

// Example serves the Step Functions API of an in-memory engine and runs an
// EXPRESS state machine to completion with the aws-sdk-go-v2 client. The client
// disables the "sync-" host prefix of StartSyncExecution (the CLI and
// other SDKs: AWS_DISABLE_HOST_PREFIX_INJECTION=true).
func Example() {
	e := engine.New(engine.Options{})
	defer e.Close()
	srv := httptest.NewServer(sfnapi.NewHandler(sfnapi.NewEngineBackend(e), nil))
	defer srv.Close()

	noHostPrefix := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	}
	client := sfn.New(sfn.Options{
		BaseEndpoint: aws.String(srv.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		APIOptions:   []func(*middleware.Stack) error{noHostPrefix},
	})
	ctx := context.Background()
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String("hello"),
		Definition: aws.String(`{"StartAt":"Hi","States":{"Hi":{"Type":"Pass","Result":"hello","End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/local"),
		Type:       types.StateMachineTypeExpress, // StartSyncExecution runs EXPRESS machines
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := client.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: sm.StateMachineArn})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Status, aws.ToString(out.Output))
	// Output: SUCCEEDED "hello"
}
