package asl

import (
	"fmt"
	"strings"
)

// Error names of the States.* family.
const (
	ErrAll                             = "States.ALL"
	ErrRuntime                         = "States.Runtime"
	ErrTimeout                         = "States.Timeout"
	ErrHeartbeatTimeout                = "States.HeartbeatTimeout"
	ErrTaskFailed                      = "States.TaskFailed"
	ErrPermissions                     = "States.Permissions"
	ErrBranchFailed                    = "States.BranchFailed"
	ErrNoChoiceMatched                 = "States.NoChoiceMatched"
	ErrIntrinsicFailure                = "States.IntrinsicFailure"
	ErrParameterPathFailure            = "States.ParameterPathFailure"
	ErrResultPathMatchFailure          = "States.ResultPathMatchFailure"
	ErrDataLimitExceeded               = "States.DataLimitExceeded"
	ErrExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"
	ErrItemReaderFailed                = "States.ItemReaderFailed"
	ErrResultWriterFailed              = "States.ResultWriterFailed"
	ErrQueryEvaluationError            = "States.QueryEvaluationError"
)

// Error is a runtime failure of a state: the Error and Cause AWS reports
// and Retry/Catch match. Location is set for JSONata evaluation failures
// (the field, e.g. "Assign/result"), which AWS reports in an
// EvaluationFailed event.
type Error struct {
	Name     string
	Cause    string
	HasCause bool
	// Evaluation marks failures that AWS reports with an EvaluationFailed
	// event before the state fails.
	Evaluation bool
	Location   string
}

// Error implements error.
func (e *Error) Error() string {
	if e.HasCause {
		return e.Name + ": " + e.Cause
	}
	return e.Name
}

// Errorf returns an *Error with the given name and a formatted cause.
func Errorf(name, format string, args ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, args...), HasCause: true}
}

// ValidationError reports a definition AWS would refuse at
// CreateStateMachine. Path names the state and field, e.g.
// "/States/Check/Next".
type ValidationError struct {
	Path    string
	Message string
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// Code returns the error code that starts the message, as AWS names it
// (SCHEMA_VALIDATION_FAILED, MISSING_TRANSITION_TARGET, ...), and the
// text after it.
func (e *ValidationError) Code() (code, text string) {
	code, text, ok := strings.Cut(e.Message, ": ")
	if !ok || code == "" || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != "" {
		return "", e.Message
	}
	return code, text
}

// ValidationErrors lists every problem found in a definition.
type ValidationErrors []*ValidationError

// Error implements error.
func (es ValidationErrors) Error() string {
	s := fmt.Sprintf("asl: invalid definition: %d error(s)", len(es))
	for _, e := range es {
		s += "\n  " + e.Error()
	}
	return s
}
