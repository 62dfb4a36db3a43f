// Package motoserver starts moto_server (the moto project's AWS service
// emulator: DynamoDB, SNS, Step Functions, ...) for tests.
//
//	endpoint := motoserver.Start(t)
//	client := dynamodb.NewFromConfig(motoserver.Config(endpoint))
//
// Each Start runs its own server on a free 127.0.0.1 port and stops it
// when the test ends. When moto_server is not installed the test is
// skipped, except under CI (CI=true), where it fails.
package motoserver
