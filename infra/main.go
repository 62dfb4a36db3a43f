// Command infra is the stepmon CDK app: `cdk synth` and `cdk deploy` run it
// (see cdk.json). It builds the four Go functions from this repository, defines
// the StepmonStack and applies cdk-nag's AwsSolutions checks.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// DefaultStackName is the name of the stack `cdk deploy` creates, unless the
// context key stackName says otherwise.
const DefaultStackName = "Stepmon"

func main() {
	if err := run(context.Background(), os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := ConfigFromContext(app.Node())
	if err != nil {
		return err
	}
	buildDir, err := os.MkdirTemp("", "stepmon-lambdas-")
	if err != nil {
		return fmt.Errorf("infra: %w", err)
	}
	defer os.RemoveAll(buildDir)
	goCmd := getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	dirs, err := BuildLambdas(ctx, goCmd, cfg.RepoRoot, buildDir)
	if err != nil {
		return err
	}
	if _, err := DefineApp(app, cfg, dirs); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}

// DefineApp adds the stepmon stack, configured by cfg and using the built
// functions in codeDirs, to app and applies the cdk-nag checks.
func DefineApp(app awscdk.App, cfg Config, codeDirs map[string]string) (*Stack, error) {
	s, err := NewStepmonStack(app, cfg.StackName, &StackProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("stepmon: monitors on Step Functions, Lambda and DynamoDB"),
		},
		Config:   cfg,
		CodeDirs: codeDirs,
	})
	if err != nil {
		return nil, err
	}
	AddNagChecks(app)
	return s, nil
}
