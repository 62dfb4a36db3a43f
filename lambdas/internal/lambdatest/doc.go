// Package lambdatest holds checks the functions' tests share, among them
// WantGranted: the DynamoDB actions a function's store sends, recorded on
// moto_server, are the ones infra/stack.go grants the function.
package lambdatest
