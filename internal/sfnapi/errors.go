package sfnapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/stepmon/stepmon/internal/asl"
	"github.com/stepmon/stepmon/internal/engine"
)

// Error is an error as the Step Functions API reports it: a type name
// (the part of __type after '#', which the SDKs turn into an exception
// type) and a message.
type Error struct {
	Type    string
	Message string
	// ResourceName is the resource a TooManyTags names (its
	// resourceName member), else empty.
	ResourceName string
	// constraints are the model constraints a ValidationException of
	// request validation reports (constraintf, checkAll), so that checks
	// of parts of a request combine into one answer.
	constraints []string
	// cause is the backend's error an InternalFailure reports, for
	// errors.Is (a cancelled request) and the log.
	cause error
}

// Error implements error.
func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Unwrap returns the backend's error an InternalFailure reports, or nil.
func (e *Error) Unwrap() error { return e.cause }

// Error types of the Step Functions API.
const (
	ErrTypeExecutionAlreadyExists         = "ExecutionAlreadyExists"
	ErrTypeExecutionDoesNotExist          = "ExecutionDoesNotExist"
	ErrTypeInvalidArn                     = "InvalidArn"
	ErrTypeInvalidDefinition              = "InvalidDefinition"
	ErrTypeInvalidEncryptionConfiguration = "InvalidEncryptionConfiguration"
	ErrTypeInvalidExecutionInput          = "InvalidExecutionInput"
	ErrTypeInvalidLoggingConfiguration    = "InvalidLoggingConfiguration"
	ErrTypeInvalidName                    = "InvalidName"
	ErrTypeInvalidToken                   = "InvalidToken"
	ErrTypeMissingRequiredParameter       = "MissingRequiredParameter"
	ErrTypeResourceNotFound               = "ResourceNotFound"
	ErrTypeStateMachineAlreadyExists      = "StateMachineAlreadyExists"
	ErrTypeStateMachineDeleting           = "StateMachineDeleting"
	ErrTypeStateMachineDoesNotExist       = "StateMachineDoesNotExist"
	ErrTypeStateMachineTypeNotSupported   = "StateMachineTypeNotSupported"
	ErrTypeTooManyTags                    = "TooManyTags"
	ErrTypeValidationException            = "ValidationException"
	ErrTypeUnknownOperationException      = "UnknownOperationException"
	ErrTypeSerializationException         = "SerializationException"
	ErrTypeRequestEntityTooLarge          = "RequestEntityTooLargeException"
	ErrTypeThrottlingException            = "ThrottlingException"
	ErrTypeInternalFailure                = "InternalFailure"
)

// errorNamespaces gives the namespace AWS puts before '#' in __type. The
// service's own exceptions live in com.amazonaws.swf.service.v2.model;
// model-constraint violations and protocol errors come from the Coral
// framework. The SDKs only read the part after '#'.
var errorNamespaces = map[string]string{
	ErrTypeValidationException:       "com.amazon.coral.validate",
	ErrTypeUnknownOperationException: "com.amazon.coral.service",
	ErrTypeSerializationException:    "com.amazon.coral.service",
	ErrTypeRequestEntityTooLarge:     "com.amazon.coral.service",
	ErrTypeInternalFailure:           "com.amazon.coral.service",
	ErrTypeThrottlingException:       "com.amazon.coral.availability",
}

// wireType returns the __type value of an error type.
func wireType(typ string) string {
	ns, ok := errorNamespaces[typ]
	if !ok {
		ns = "com.amazonaws.swf.service.v2.model"
	}
	return ns + "#" + typ
}

// httpStatus is the status code of an error type: every client error is
// 400, as on AWS, but a body over the limit, which AWS refuses with 413.
func httpStatus(typ string) int {
	switch typ {
	case ErrTypeInternalFailure:
		return http.StatusInternalServerError
	case ErrTypeRequestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// Throttled answers a request as Step Functions answers one over its
// account's request rate: ThrottlingException, "Rate exceeded", which the
// SDKs and the AWS CLI retry after a backoff.
func Throttled(w http.ResponseWriter, _ *http.Request) {
	writeError(w, 0, apiErrorf(ErrTypeThrottlingException, "Rate exceeded"))
}

func apiErrorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// toAPIError maps an error from a Backend to the API error the client
// sees; arn names the resource of the request, for the message.
func toAPIError(err error, arn string) *Error {
	var ae *Error
	var ves asl.ValidationErrors
	var ve *asl.ValidationError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, engine.ErrStateMachineDoesNotExist):
		return apiErrorf(ErrTypeStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", arn)
	case errors.Is(err, engine.ErrStateMachineDeleting):
		// AWS: "State Machine is being deleted" (StartExecution,
		// StartSyncExecution, CreateStateMachine and UpdateStateMachine
		// list StateMachineDeleting in the API model).
		return apiErrorf(ErrTypeStateMachineDeleting, "State Machine is being deleted: '%s'", arn)
	case errors.Is(err, engine.ErrStateMachineAlreadyExists):
		return apiErrorf(ErrTypeStateMachineAlreadyExists, "State Machine Already Exists: '%s'", arn)
	case errors.Is(err, engine.ErrExecutionDoesNotExist):
		return apiErrorf(ErrTypeExecutionDoesNotExist, "Execution Does Not Exist: '%s'", arn)
	case errors.Is(err, engine.ErrExecutionAlreadyExists):
		return apiErrorf(ErrTypeExecutionAlreadyExists, "Execution Already Exists: '%s'", arn)
	case errors.Is(err, engine.ErrInvalidInput):
		var re *asl.NumberRangeError
		if errors.As(err, &re) {
			return apiErrorf(ErrTypeInvalidExecutionInput, "Invalid State Machine Execution Input: '%s'", re.Error())
		}
		return apiErrorf(ErrTypeInvalidExecutionInput, "Invalid State Machine Execution Input: 'input is not valid JSON'")
	case errors.Is(err, engine.ErrInvalidToken):
		return apiErrorf(ErrTypeInvalidToken, "Invalid Token: 'Invalid token'")
	case errors.As(err, &ves):
		return apiErrorf(ErrTypeInvalidDefinition, "Invalid State Machine Definition: '%s'", validationSummary(ves))
	case errors.As(err, &ve):
		return apiErrorf(ErrTypeInvalidDefinition, "Invalid State Machine Definition: '%s'", validationSummary(asl.ValidationErrors{ve}))
	}
	ae = apiErrorf(ErrTypeInternalFailure, "%v", err)
	ae.cause = err
	return ae
}

// validationSummary renders asl validation errors the way AWS lists them
// in an InvalidDefinition message: a problem of the whole definition
// (MISSING_END_STATE) is "at null".
func validationSummary(ves asl.ValidationErrors) string {
	s := ""
	for i, ve := range ves {
		if i > 0 {
			s += ", "
		}
		loc := ve.Path
		if loc == "" {
			loc = "null"
		}
		s += ve.Message + " at " + loc
	}
	return s
}
