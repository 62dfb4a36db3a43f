// Package lambdatest holds checks the functions' tests share.
package lambdatest
