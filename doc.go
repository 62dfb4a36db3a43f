// Package stepmon holds the monitor workflow definition that both runtimes
// execute: AWS Step Functions (deployed by infra/) and stepmon's own engine
// (stepmon serve, stepmon demo).
package stepmon
