package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// StageName is the API Gateway stage the API is deployed to.
const StageName = "v1"

// Route is one method of the REST API and the function behind it.
type Route struct {
	Method, Path, Function string
}

// Routes are the REST API's methods, the same as `stepmon serve` offers.
var Routes = []Route{
	{"POST", "/monitors", "start"},
	{"GET", "/monitors", "status"},
	{"GET", "/monitors/{id}", "status"},
	{"DELETE", "/monitors/{id}", "status"},
	{"POST", "/monitors/{id}/terminate", "status"},
	{"POST", "/monitors/{id}/raiseEvent/{name}", "status"},
}

// newAPI defines the REST API with Lambda proxy integrations, access logs,
// X-Ray tracing and the authentication that cfg selects.
func newAPI(stack awscdk.Stack, cfg Config, start, status awslambda.Function, removal awscdk.RemovalPolicy) awsapigateway.RestApi {
	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: removal,
	})
	methodOptions := &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_IAM}
	if cfg.Auth == AuthAPIKey {
		methodOptions = &awsapigateway.MethodOptions{
			AuthorizationType: awsapigateway.AuthorizationType_NONE,
			ApiKeyRequired:    jsii.Bool(true),
		}
	}
	api := awsapigateway.NewRestApi(stack, jsii.String("Api"), &awsapigateway.RestApiProps{
		RestApiName:   jsii.String(*stack.StackName() + "-api"),
		Description:   jsii.String("stepmon: start, query and manage monitors"),
		EndpointTypes: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		// Access logging needs the account's API Gateway CloudWatch Logs
		// role, an account-wide setting: created here only on request
		// (-c apiGatewayCloudWatchRole=true), and then retained when the
		// stack is deleted (CDK's default), since other APIs of the
		// account may rely on it.
		CloudWatchRole: jsii.Bool(cfg.APIGatewayCloudWatchRole),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(StageName),
			TracingEnabled:       jsii.Bool(true),
			MetricsEnabled:       jsii.Bool(true),
			ThrottlingRateLimit:  jsii.Number(50),
			ThrottlingBurstLimit: jsii.Number(100),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat: awsapigateway.AccessLogFormat_JsonWithStandardFields(&awsapigateway.JsonWithStandardFieldProps{
				Caller: jsii.Bool(true), HttpMethod: jsii.Bool(true), Ip: jsii.Bool(true),
				Protocol: jsii.Bool(true), RequestTime: jsii.Bool(true), ResourcePath: jsii.Bool(true),
				ResponseLength: jsii.Bool(true), Status: jsii.Bool(true), User: jsii.Bool(true),
			}),
		},
		DefaultMethodOptions: methodOptions,
	})
	validator := api.AddRequestValidator(jsii.String("Validator"), &awsapigateway.RequestValidatorOptions{
		ValidateRequestBody:       jsii.Bool(true),
		ValidateRequestParameters: jsii.Bool(true),
	})

	// One invoke permission per method, for the deployed stage only
	// (".../v1/GET/monitors/*"): neither another stage nor the console's
	// test-invoke-stage may call the functions. An API-wide permission
	// would have to allow ".../*/*/*", and CDK ignores allowTestInvoke
	// for it.
	integrationOptions := &awsapigateway.LambdaIntegrationOptions{AllowTestInvoke: jsii.Bool(false)}
	integrations := map[string]awsapigateway.Integration{
		"start":  awsapigateway.NewLambdaIntegration(start, integrationOptions),
		"status": awsapigateway.NewLambdaIntegration(status, integrationOptions),
	}
	for _, r := range Routes {
		resource := api.Root().ResourceForPath(jsii.String(r.Path))
		resource.AddMethod(jsii.String(r.Method), integrations[r.Function], &awsapigateway.MethodOptions{
			RequestValidator: validator,
		})
	}

	if cfg.Auth == AuthAPIKey {
		plan := api.AddUsagePlan(jsii.String("UsagePlan"), &awsapigateway.UsagePlanProps{
			Name:        jsii.String(*stack.StackName() + "-usage"),
			Description: jsii.String("Callers of the stepmon API"),
			Throttle: &awsapigateway.ThrottleSettings{
				RateLimit:  jsii.Number(10),
				BurstLimit: jsii.Number(20),
			},
			ApiStages: &[]*awsapigateway.UsagePlanPerApiStage{{Api: api, Stage: api.DeploymentStage()}},
		})
		apiKey := api.AddApiKey(jsii.String("ApiKey"), &awsapigateway.ApiKeyOptions{
			Description: jsii.String("Default stepmon API key; read its value with aws apigateway get-api-key --include-value"),
		})
		plan.AddApiKey(apiKey, nil)
		awscdk.NewCfnOutput(stack, jsii.String("ApiKeyId"), &awscdk.CfnOutputProps{
			Description: jsii.String("Id of the API key: aws apigateway get-api-key --include-value --api-key <ApiKeyId>"),
			Value:       apiKey.KeyId(),
		})
	}
	return api
}
