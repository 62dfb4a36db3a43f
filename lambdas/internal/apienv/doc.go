// Package apienv builds, from the environment, the monitor API that the
// start and status Lambda functions serve: the status store on DynamoDB
// and the workflow on Step Functions. Only the Lambda mains use it.
package apienv
