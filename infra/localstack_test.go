package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// localStackService is the LocalStack service (a SERVICES entry) that
// deploys a CloudFormation resource type's namespace (AWS::NAMESPACE::...).
var localStackService = map[string]string{
	"ApiGateway":     "apigateway",
	"CDK":            "cloudformation", // AWS::CDK::Metadata
	"CloudFormation": "cloudformation",
	"CloudWatch":     "cloudwatch",
	"DynamoDB":       "dynamodb",
	"EC2":            "ec2",
	"Events":         "events",
	"IAM":            "iam",
	"KMS":            "kms",
	"Lambda":         "lambda",
	"Logs":           "logs",
	"S3":             "s3",
	"SNS":            "sns",
	"SQS":            "sqs",
	"SSM":            "ssm",
	"SecretsManager": "secretsmanager",
	"StepFunctions":  "stepfunctions",
}

// TestLocalStackServices: localstack-compose.yml's SERVICES loads every
// service whose resources the stack defines, in each context variant: with
// LocalStack's strict service loading (its default), a resource of a
// service left out fails `cdklocal deploy`.
func TestLocalStackServices(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRootForTests(), "localstack-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*SERVICES:\s*"([^"]*)"`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("localstack-compose.yml sets no SERVICES")
	}
	services := strings.Split(string(m[1]), ",")
	for _, v := range []struct {
		name string
		ctx  map[string]any
	}{{"default", defaultContext}, {"options", optionsContext}, {"private", privateContext}} {
		r := synth(t, v.name, v.ctx)
		for id, res := range r.json["Resources"].(map[string]any) {
			typ, _ := res.(map[string]any)["Type"].(string)
			var need []string
			switch parts := strings.Split(typ, "::"); {
			case parts[0] == "Custom" || typ == "AWS::CloudFormation::CustomResource":
				need = []string{"cloudformation", "lambda"} // a Lambda-backed custom resource
			case len(parts) == 3 && parts[0] == "AWS":
				s, ok := localStackService[parts[1]]
				if !ok {
					t.Errorf("%s: resource %s: type %s: add its LocalStack service to localStackService", v.name, id, typ)
					continue
				}
				need = []string{s}
			default:
				t.Errorf("%s: resource %s: unknown type %q", v.name, id, typ)
			}
			for _, s := range need {
				if !slices.Contains(services, s) {
					t.Errorf("%s: resource %s (%s) needs LocalStack service %s, which localstack-compose.yml's SERVICES leaves out", v.name, id, typ, s)
				}
			}
		}
	}
}
