package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// StageName is the API Gateway stage the API is deployed to.
const StageName = "v1"

// MinimumCompressionSize is the smallest answer, in bytes, that API Gateway
// gzips for a client whose Accept-Encoding asks for gzip: a list of monitors
// shrinks about twentyfold, and below a kilobyte compression gains little.
// The local runtime (internal/local) compresses from the same size.
const MinimumCompressionSize = 1024

// Throttling of the stage. API Gateway applies a stage's throttling to each
// method on its own, not to the API as a whole: with six methods the API
// takes up to six times a method's rate.
const (
	// MethodRateLimit and MethodBurstLimit (requests a second) hold for
	// each method but POST /monitors.
	MethodRateLimit  = 50
	MethodBurstLimit = 100
	// StartRateLimit and StartBurstLimit hold for POST /monitors. Each
	// start is a StartExecution, and the account's StartExecution rate is
	// shared by every state machine of the account and region, this one's
	// continue-as-new included: a flood of starts must not use it up.
	StartRateLimit  = 10
	StartBurstLimit = 20
	// UsagePlanRateLimit and UsagePlanBurstLimit hold for each API key
	// (auth=apiKey), across all methods: a key may start monitors as fast
	// as the start method allows anyone.
	UsagePlanRateLimit  = StartRateLimit
	UsagePlanBurstLimit = StartBurstLimit
)

// startMethodKey is POST /monitors in StageOptions.MethodOptions.
const startMethodKey = "/monitors/POST"

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

// newAPI defines the REST API with Lambda proxy integrations, access logs
// (the log group it returns), X-Ray tracing and the authentication that
// cfg selects.
func newAPI(stack awscdk.Stack, cfg Config, start, status awslambda.Function, removal awscdk.RemovalPolicy) (awsapigateway.RestApi, awslogs.LogGroup) {
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
		RestApiName:        jsii.String(*stack.StackName() + "-api"),
		Description:        jsii.String("stepmon: start, query and manage monitors"),
		EndpointTypes:      &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		MinCompressionSize: awscdk.Size_Bytes(jsii.Number(MinimumCompressionSize)),
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
			ThrottlingRateLimit:  jsii.Number(MethodRateLimit),
			ThrottlingBurstLimit: jsii.Number(MethodBurstLimit),
			MethodOptions: &map[string]*awsapigateway.MethodDeploymentOptions{
				// A method's settings replace the stage's for it: metrics
				// stay on as for the others.
				startMethodKey: {
					ThrottlingRateLimit:  jsii.Number(StartRateLimit),
					ThrottlingBurstLimit: jsii.Number(StartBurstLimit),
					MetricsEnabled:       jsii.Bool(true),
				},
			},
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat:      accessLogFormat(cfg),
		},
		DefaultMethodOptions: methodOptions,
	})
	// RestApi adds an output of its own, "Endpoint" (ApiEndpoint<hash> in
	// the template), with the value of the stack's ApiUrl: one documented
	// output is enough. TestOutputs fails should a CDK version name it
	// otherwise.
	api.Node().TryRemoveChild(jsii.String("Endpoint"))
	// TLS 1.2 or later on the default execute-api endpoint: a regional
	// REST API's default security policy is TLS_1_0, which accepts TLS 1.0
	// and 1.1 too. TLS_1_2, a legacy policy, needs no endpoint access mode
	// (the enhanced SecurityPolicy_* policies do) and accepts TLS 1.3.
	api.Node().DefaultChild().(awsapigateway.CfnRestApi).SetSecurityPolicy(jsii.String("TLS_1_2"))
	// No request validator: the functions validate every request. A
	// validator checks only the models and required parameters a method
	// declares, and there is nothing to declare short of the start
	// function's rules: the routes' path parameters are always present,
	// the query parameters are optional, and even a model that only says
	// "the body is a JSON object" would answer an empty, malformed or
	// non-object body with API Gateway's "Invalid request body" as
	// `rejected`, where the start function (and `stepmon serve`, which
	// has no API Gateway) answers `invalid` with what is wrong and where
	// (docs/api.md). cdk-nag's AwsSolutions-APIG2 is suppressed with this
	// reason (nag.go).
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
		resource.AddMethod(jsii.String(r.Method), integrations[r.Function], nil)
	}

	addGatewayResponses(api, cfg)

	if cfg.Auth == AuthAPIKey {
		plan := api.AddUsagePlan(jsii.String("UsagePlan"), &awsapigateway.UsagePlanProps{
			Name:        jsii.String(*stack.StackName() + "-usage"),
			Description: jsii.String("Callers of the stepmon API"),
			Throttle: &awsapigateway.ThrottleSettings{
				RateLimit:  jsii.Number(UsagePlanRateLimit),
				BurstLimit: jsii.Number(UsagePlanBurstLimit),
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
	return api, accessLogs
}

// accessLogFormat is the stage's access log line: a JSON object of strings,
// the fields of AccessLogFormat_JsonWithStandardFields and those that tell a
// request API Gateway refused (errorType) from a function that failed or
// was slow (integrationErrorMessage, integrationLatency, responseLatency).
// With API keys it names the key by its id. It logs no secret: not the key's
// value ($context.identity.apiKey), no header or body, and not API Gateway's
// error message ($context.error.message), which for a signature that does
// not match quotes the canonical request, a session token's value among
// its headers, with quotes and line breaks that would end the JSON string:
// the error's type (INVALID_SIGNATURE, ACCESS_DENIED, THROTTLED, ...) tells
// the refusals apart.
func accessLogFormat(cfg Config) awsapigateway.AccessLogFormat {
	type field struct {
		name  string
		value *string
	}
	fields := []field{
		{"requestId", awsapigateway.AccessLogField_ContextRequestId()},
		{"ip", awsapigateway.AccessLogField_ContextIdentitySourceIp()},
		// Under IAM auth user and caller are principal ids (AIDA...,
		// AROA...:session); the ARN and the account name the caller
		// without another lookup.
		{"user", awsapigateway.AccessLogField_ContextIdentityUser()},
		{"caller", awsapigateway.AccessLogField_ContextIdentityCaller()},
		{"userArn", awsapigateway.AccessLogField_ContextIdentityUserArn()},
		{"accountId", awsapigateway.AccessLogField_ContextIdentityAccountId()},
		{"requestTime", awsapigateway.AccessLogField_ContextRequestTime()},
		{"httpMethod", awsapigateway.AccessLogField_ContextHttpMethod()},
		{"resourcePath", awsapigateway.AccessLogField_ContextResourcePath()},
		// The path itself: resourcePath is the template
		// (/monitors/{id}), which names no monitor.
		{"path", awsapigateway.AccessLogField_ContextPath()},
		{"status", awsapigateway.AccessLogField_ContextStatus()},
		{"protocol", awsapigateway.AccessLogField_ContextProtocol()},
		{"responseLength", awsapigateway.AccessLogField_ContextResponseLength()},
		{"responseLatency", awsapigateway.AccessLogField_ContextResponseLatency()},
		{"errorType", awsapigateway.AccessLogField_ContextErrorResponseType()},
		{"integrationErrorMessage", awsapigateway.AccessLogField_ContextIntegrationErrorMessage()},
		{"integrationLatency", awsapigateway.AccessLogField_ContextIntegrationLatency()},
	}
	if cfg.Auth == AuthAPIKey {
		fields = append(fields, field{"apiKeyId", awsapigateway.AccessLogField_ContextIdentityApiKeyId()})
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = `"` + f.name + `":"` + *f.value + `"`
	}
	return awsapigateway.AccessLogFormat_Custom(jsii.String("{" + strings.Join(parts, ",") + "}"))
}

// GatewayRetryAfterSeconds is the Retry-After of API Gateway's own 429
// (the stage's throttling): the same hint as the functions' 429 answers.
const GatewayRetryAfterSeconds = 2

// addGatewayResponses makes the answers API Gateway gives itself, without
// calling a function, JSON bodies in the API's error shape
// ({"error": kind, "message": text}; see docs/api.md):
//
//   - THROTTLED: 429 "rate_limited", with Retry-After like the functions' 429.
//   - MISSING_AUTHENTICATION_TOKEN, which API Gateway gives for an unknown
//     path or method and, with IAM auth, also for an unsigned request to a
//     known route. With API keys the methods need no token, so it only
//     means "no such route": 404 "not_found". With IAM auth it stays 403
//     "rejected", saying both causes: a 404 would tell an unsigned caller
//     of a real route that it does not exist.
//   - any other 4XX (a refused signature, key or permission; a request API
//     Gateway cannot take): its own status, "rejected", API Gateway's message.
//   - any 5XX (a function that failed, timed out or was throttled): its own
//     status, "internal", API Gateway's message.
func addGatewayResponses(api awsapigateway.RestApi, cfg Config) {
	body := func(kind, message string) *map[string]*string {
		return &map[string]*string{"application/json": jsii.String(`{"error":"` + kind + `","message":` + message + `}`)}
	}
	api.AddGatewayResponse(jsii.String("Throttled"), &awsapigateway.GatewayResponseOptions{
		Type:            awsapigateway.ResponseType_THROTTLED(),
		StatusCode:      jsii.String("429"),
		ResponseHeaders: &map[string]*string{"Retry-After": jsii.String(fmt.Sprintf("'%d'", GatewayRetryAfterSeconds))},
		Templates:       body("rate_limited", `"too many requests; retry after Retry-After seconds"`),
	})
	noRoute := &awsapigateway.GatewayResponseOptions{
		Type:       awsapigateway.ResponseType_MISSING_AUTHENTICATION_TOKEN(),
		StatusCode: jsii.String("404"),
		Templates:  body("not_found", `"no such route"`),
	}
	if cfg.Auth == AuthIAM {
		noRoute.StatusCode = jsii.String("403")
		noRoute.Templates = body("rejected", `"missing authentication token: sign the request with SigV4, `+
			`or check the method and path (an unknown route is answered the same)"`)
	}
	api.AddGatewayResponse(jsii.String("NoRoute"), noRoute)
	api.AddGatewayResponse(jsii.String("Default4XX"), &awsapigateway.GatewayResponseOptions{
		Type:      awsapigateway.ResponseType_DEFAULT_4XX(),
		Templates: body("rejected", "$context.error.messageString"),
	})
	api.AddGatewayResponse(jsii.String("Default5XX"), &awsapigateway.GatewayResponseOptions{
		Type:      awsapigateway.ResponseType_DEFAULT_5XX(),
		Templates: body("internal", "$context.error.messageString"),
	})
}
