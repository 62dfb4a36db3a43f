// Package testtool lets a test depend on something outside Go, such as
// an executable on PATH, without making the suite unusable on machines
// that lack it.
//
//	aws := testtool.Require(t, "aws", "install the AWS CLI (pip install awscli)")
//
// A missing prerequisite skips the test with a message that says what to
// install. Under CI (the environment variable CI is "true", as .ci/run
// sets it) the test fails instead, so that CI cannot pass by skipping.
//
// InfraValues reads the values infra/stack.go declares, for tests that keep
// a value of this module equal to the one the CDK app deploys; InfraActions
// reads one of its maps of IAM actions, such as TableActions. MakeVars and
// ShellWords read the Makefile's variables (LAMBDA_FLAGS), for tests that
// build as make does; Root is the module's directory. FreeAddr gives a
// loopback address for a server the test starts in another process.
//
// The package is for tests only. Reading CI here is its one exception to
// the rule that only main reads the environment.
package testtool
